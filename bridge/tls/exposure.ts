// Which of the bridge's listeners would carry credentials in clear text across a network, and
// the rule about it. A device sends its token in MQTT's CONNECT, a person or service sends an
// API token with every HTTP request: on a loopback address only this machine can see them,
// on any other address anyone on the path can. So a listener on a non-loopback address must
// encrypt, unless the operator says otherwise (--insecure: a network they trust, or boards
// that cannot do TLS), in which case the bridge starts, warns in its log, and the doctor keeps
// reporting it.
//
// With a certificate configured the HTTP port serves HTTPS and MQTTS listens beside plain
// MQTT; plain MQTT stays on (boards without TLS keep working, and the default configuration
// changes nothing for them), so a public bridge turns it off with HOOKWIRE_MQTT_PORT=off.

import { isIPv4, isIPv6 } from 'node:net';
import type { BridgeConfig } from '../config.ts';
import { ConfigError } from '../errors.ts';

export interface Listener {
  name: 'MQTT' | 'MQTTS' | 'HTTP' | 'HTTPS';
  encrypted: boolean;
}

export interface Exposure {
  host: string;
  /** Only this machine can connect (127.0.0.0/8, ::1, localhost). */
  loopback: boolean;
  listeners: Listener[];
  /** Listeners reachable from the network that do not encrypt (none on loopback). */
  plain: Listener['name'][];
  /** Started with plain listeners on the network, as --insecure allows. */
  insecure: boolean;
}

/** An address only this machine can reach. Any other name is treated as reachable from the network. */
export function isLoopback(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost') return true;
  if (isIPv4(h)) return h.startsWith('127.');
  if (isIPv6(h)) return h === '::1' || h === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(h);
  return false;
}

/** The bridge's listeners for a configuration, and which of them the network would see unencrypted. */
export function exposureOf(config: Pick<BridgeConfig, 'host' | 'mqttPort' | 'tlsCert' | 'insecure'>): Exposure {
  const tls = config.tlsCert !== undefined;
  const listeners: Listener[] = [
    ...(config.mqttPort === 'off' ? [] : [{ name: 'MQTT', encrypted: false } as const]),
    ...(tls ? [{ name: 'MQTTS', encrypted: true } as const] : []),
    { name: tls ? 'HTTPS' : 'HTTP', encrypted: tls },
  ];
  const loopback = isLoopback(config.host);
  const plain = loopback ? [] : listeners.filter((l) => !l.encrypted).map((l) => l.name);
  return { host: config.host, loopback, listeners, plain, insecure: plain.length > 0 };
}

/** What is wrong and what to do, in one sentence each. */
export function insecureMessage(e: Exposure): string {
  const what = e.plain.map((name) => (name === 'MQTT' ? 'plain MQTT' : 'HTTP without TLS')).join(' and ');
  return `${e.host} is reachable from the network, and ${what} would carry device and API tokens in clear text`;
}

/**
 * The exposure of a configuration; throws ConfigError INSECURE_BIND when a listener on a
 * non-loopback address does not encrypt and --insecure was not given.
 */
export function checkExposure(config: Pick<BridgeConfig, 'host' | 'mqttPort' | 'tlsCert' | 'insecure'>): Exposure {
  const e = exposureOf(config);
  if (e.insecure && !config.insecure) {
    const fix = config.tlsCert === undefined
      ? 'set HOOKWIRE_TLS_CERT and HOOKWIRE_TLS_KEY (and HOOKWIRE_MQTT_PORT=off)'
      : 'set HOOKWIRE_MQTT_PORT=off (devices use MQTTS)';
    throw new ConfigError(`refusing to start: ${insecureMessage(e)}. To fix it, ${fix}, or listen on 127.0.0.1; --insecure (HOOKWIRE_INSECURE=1) starts it anyway`,
      'host', 'INSECURE_BIND');
  }
  return e;
}
