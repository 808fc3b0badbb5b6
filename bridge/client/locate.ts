// Where the bridge is, for every tool that talks to it (the CLI, the simulator, the examples):
// flags first (the caller's), then HOOKWIRE_URL / HOOKWIRE_MQTT_URL, then the bridge.json of
// a bridge running on HOOKWIRE_DATA_DIR (default ./data, bridge/instance.ts), then the
// defaults. So a bridge started on other ports, or with TLS, is found without telling each
// tool again.

import { resolve } from 'node:path';
import { runningBridge } from '../instance.ts';

const DEFAULT_URL = 'http://127.0.0.1:8080';

/** Where a URL came from, for messages that say what to change. */
export type UrlSource = 'flag' | 'HOOKWIRE_URL' | 'HOOKWIRE_MQTT_URL' | 'bridge.json' | 'default';

export interface BridgeLocation {
  /** The HTTP API, without a trailing slash. */
  http: string;
  httpFrom: UrlSource;
  /** The broker: plain MQTT when the bridge serves it, else MQTT over TLS. */
  mqtt: string;
  mqttFrom: UrlSource;
  /** The data directory looked in. */
  dataDir: string;
}

/**
 * The broker beside an API URL: mqtt://<host>:1883, or mqtts://<host>:8883 for https://; ''
 * when `http` is no URL (the caller's checks say so).
 */
function brokerBeside(http: string): string {
  try {
    const url = new URL(http);
    return url.protocol === 'https:' ? `mqtts://${url.hostname}:8883` : `mqtt://${url.hostname}:1883`;
  } catch {
    return '';
  }
}

export function locateBridge(env: NodeJS.ProcessEnv = process.env, flags: { url?: string | undefined; mqtt?: string | undefined } = {}): BridgeLocation {
  const dataDir = resolve(env.HOOKWIRE_DATA_DIR || './data');
  const running = runningBridge(dataDir);
  const [http, httpFrom]: [string, UrlSource] = flags.url ? [flags.url, 'flag']
    : env.HOOKWIRE_URL ? [env.HOOKWIRE_URL, 'HOOKWIRE_URL']
    : running?.http ? [running.http, 'bridge.json']
    : [DEFAULT_URL, 'default'];
  const trimmed = http.replace(/\/+$/, '');
  // The running bridge's broker goes with its API, not with an API somewhere else.
  const sameBridge = running?.http !== undefined && running.http.replace(/\/+$/, '') === trimmed;
  const fileMqtt = sameBridge ? running?.mqtt ?? running?.mqtts : undefined;
  const [mqtt, mqttFrom]: [string, UrlSource] = flags.mqtt ? [flags.mqtt, 'flag']
    : env.HOOKWIRE_MQTT_URL ? [env.HOOKWIRE_MQTT_URL, 'HOOKWIRE_MQTT_URL']
    : fileMqtt ? [fileMqtt, 'bridge.json']
    : [brokerBeside(trimmed), httpFrom];
  return { http: trimmed, httpFrom, mqtt, mqttFrom, dataDir };
}
