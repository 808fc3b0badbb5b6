// The Node platform for the SDK core: mqtt.js as the transport, cbor-x as the codec,
// Node's timers. Everything environment-specific for Node lives in this file, TLS included
// (mqtts:// and wss:// URLs, a private CA, a device certificate).

import { isUtf8 } from 'node:buffer';
import { Encoder, decode } from 'cbor-x';
import mqtt from 'mqtt';
import type { MqttClient } from 'mqtt';
import {
  createDevice, sdkError, type Codec, type Device, type SdkError, type DeviceOptions, type Platform, type Transport,
} from './device.ts';
import { CBOR_TAG } from './rules.ts';

const TYPED_TAG = Buffer.from(CBOR_TAG);

// Plain CBOR maps (no cbor-x record extension) so any CBOR decoder can read what we send.
const encoder = new Encoder({ useRecords: false, mapsAsObjects: true });

export const nodeCodec: Codec = {
  encode: (value) => Buffer.concat([TYPED_TAG, encoder.encode(value)]),
  decode: (bytes) => decode(bytes),
  decodeText: (bytes) =>
    isUtf8(bytes) ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8') : null,
  textBytes: (text) => Buffer.byteLength(text),
};

/** CONNACK return codes that mean "these credentials will never work" [MQTT-3.2.2.3]. */
const REFUSED_CODES = new Set([2, 4, 5]);

/** PEM text or bytes, one or several (Node's tls options). */
export type Pem = string | Buffer | string[] | Buffer[];

/** TLS settings for mqtts:// and wss:// URLs. Without `ca`, Node's trusted roots verify the bridge. */
export interface TransportTls {
  /** CA certificate(s) that signed the bridge's certificate (a private CA, or a self-signed certificate itself). */
  ca?: Pem;
  /** This device's certificate, for a bridge that requires one (HOOKWIRE_TLS_CA). */
  cert?: Pem;
  /** The private key of `cert`. */
  key?: Pem;
}

/**
 * Node's names for a certificate that cannot be verified, or a handshake the bridge refused
 * (bridge/codes.ts calls these TLS codes).
 */
const TLS_FAILURE = /^(CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|ERR_TLS_CERT_|ERR_SSL_)/;

/**
 * A TLS failure before the device ever connected is a configuration mistake (the wrong CA,
 * the wrong host name, no device certificate): retrying cannot help, so it ends `connect`
 * with Node's code. Once the device has been connected, the same failure (a renewal gone
 * wrong on the bridge) is retried with backoff like any lost connection, so a fleet comes
 * back by itself when the certificate is fixed.
 */
function isTlsFailure(err: Error & { code?: unknown }): err is Error & { code: string } {
  return typeof err.code === 'string' && TLS_FAILURE.test(err.code);
}

/** An mqtt.js transport. The core owns reconnection, so mqtt.js' own is switched off. */
export function mqttTransport(url: string, tls: TransportTls = {}): Transport {
  let client: MqttClient | null = null;
  let refused = false;
  let lastError: Error | null = null;
  let everConnected = false;
  let connectedNow = false; // this attempt reached CONNACK
  return {
    connect(creds, handlers) {
      refused = false;
      lastError = null;
      connectedNow = false;
      if (client) {
        // Keep the stores: QoS 1 publishes still waiting for their PUBACK are sent again.
        client.reconnect({ incomingStore: client.incomingStore, outgoingStore: client.outgoingStore });
        return;
      }
      client = mqtt.connect(url, {
        clientId: creds.clientId,
        username: creds.username,
        password: creds.password,
        keepalive: creds.keepaliveSec,
        protocolVersion: 4,
        clean: true,
        reconnectPeriod: 0,
        connectTimeout: 10_000,
        // mqtt.js hands these to tls.connect (mqtts://) and to ws (wss://); never rejectUnauthorized: false.
        ...tls,
      });
      client.on('connect', () => {
        everConnected = true;
        connectedNow = true;
        handlers.onConnect();
      });
      client.on('error', (err: Error & { code?: unknown }) => {
        lastError = err;
        if (typeof err.code === 'number' && REFUSED_CODES.has(err.code)) refused = true;
      });
      client.on('close', () => {
        const err = lastError as (Error & { code?: unknown }) | null;
        const detail = err?.message;
        if (refused) return handlers.onClose(sdkError('CONNECT_REFUSED', detail), true);
        if (err && !everConnected && isTlsFailure(err)) return handlers.onClose(sdkError(err.code, detail), true);
        // An attempt that never got its CONNACK: the bridge is down, or not where the URL says.
        if (!connectedNow) return handlers.onClose(sdkError('UNREACHABLE', `${url}: ${detail ?? 'the connection closed before the bridge answered'}`), false);
        handlers.onClose(err ? sdkError('CONNECTION_LOST', detail) : null, false);
      });
      client.on('message', (topic, payload) => handlers.onMessage(topic, payload));
    },
    publish(topic, payload, qos, done) {
      if (!client) return done(sdkError('DISCONNECTED'));
      client.publish(topic, typeof payload === 'string' ? payload : Buffer.from(payload),
        { qos: qos as 0 | 1 }, (err, packet) => done(err ? sdkError('PUBLISH_FAILED', err.message) : null, packet?.messageId));
    },
    subscribe(filter, qos, done) {
      if (!client) return done(sdkError('DISCONNECTED'));
      client.subscribe(filter, { qos: qos as 0 | 1 }, (err, granted) => {
        if (err) return done(sdkError('SUBSCRIBE_FAILED', err.message));
        // SUBACK 0x80: the bridge refused the filter; its notice on <deviceID>/hookwire/error says why.
        if (granted?.some((g) => g.qos === 128)) return done(sdkError('SUBSCRIBE_FORBIDDEN', `the bridge refused the subscription to ${filter}`));
        done(null);
      });
    },
    unsubscribe(filter, done) {
      if (!client) return done(null);
      client.unsubscribe(filter, (err?: Error) => done(err ? sdkError('UNSUBSCRIBE_FAILED', err.message) : null));
    },
    end(done) {
      if (!client) return done();
      client.end(false, {}, () => done());
    },
  };
}

export const nodeTimers = {
  setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms),
  clearTimeout: (handle: unknown) => clearTimeout(handle as NodeJS.Timeout),
  random: Math.random,
};

export interface NodeDeviceOptions extends DeviceOptions, TransportTls {
  /**
   * Broker URL: `mqtt://host:1883`, `mqtts://host:8883`, `ws://host:8080/mqtt` or
   * `wss://host:8080/mqtt`. Default mqtt://127.0.0.1:1883.
   */
  url?: string;
}

/** How long `connectDevice` waits for a first connection by default, ms. */
export const CONNECT_TIMEOUT_MS = 30_000;

export interface ConnectOptions extends NodeDeviceOptions {
  /**
   * connectDevice rejects with CONNECT_TIMEOUT (and stops trying) when not connected by then,
   * ms. Default 30 s; 0 waits as long as it takes. Each failed attempt is an `offline` event
   * meanwhile (`onOffline`).
   */
  timeoutMs?: number;
  /** Called for each failed attempt before the first connection (the bridge down, a wrong URL). */
  onOffline?: (err: SdkError) => void;
}

/** The TLS options given, and only those (mqtt.js would take an `undefined` for a setting). */
function tlsOptions(o: TransportTls): TransportTls {
  return { ...(o.ca ? { ca: o.ca } : {}), ...(o.cert ? { cert: o.cert } : {}), ...(o.key ? { key: o.key } : {}) };
}

/** A device on Node, not yet connected. */
export function createNodeDevice(options: NodeDeviceOptions): Device {
  const platform: Platform = {
    transport: mqttTransport(options.url ?? 'mqtt://127.0.0.1:1883', tlsOptions(options)),
    codec: nodeCodec,
    timers: nodeTimers,
  };
  return createDevice(options, platform);
}

/**
 * A device on Node, connected: rejects with CONNECT_REFUSED on bad credentials, a TLS code on a
 * certificate that cannot be verified, and CONNECT_TIMEOUT when the bridge cannot be reached in
 * `timeoutMs`. A device that must wait for its bridge as long as it takes: `timeoutMs: 0`, or
 * createNodeDevice, `on('offline')` and `connect()`.
 */
export async function connectDevice(options: ConnectOptions): Promise<Device> {
  const device = createNodeDevice(options);
  let last: SdkError | undefined;
  device.on('offline', (err) => {
    last = err as SdkError;
    options.onOffline?.(last);
  });
  const ms = options.timeoutMs ?? CONNECT_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    if (ms > 0) timer = setTimeout(() => reject(sdkError('CONNECT_TIMEOUT', `not connected within ${ms} ms${last ? ` (${last.message})` : ''}`)), ms);
  });
  try {
    await Promise.race([device.connect(), timeout]);
  } catch (err) {
    await device.disconnect();
    throw err;
  } finally {
    clearTimeout(timer);
  }
  return device;
}
