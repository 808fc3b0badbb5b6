// Bridge configuration: one defaults object, overridden by environment, then by flags.

import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { ConfigError, HookwireError } from './errors.ts';
import type { StoreSync } from './store/index.ts';
import { EgressRuleError, parseRangeList } from './webhooks/index.ts';

export interface BridgeConfig {
  /** Interface both servers listen on. Default 127.0.0.1 (this machine only). */
  host: string;
  /** MQTT over TCP, unencrypted. Default 1883; 0 picks a free port; `off`: no plain MQTT listener. */
  mqttPort: number | 'off';
  /** MQTT over TLS, when a certificate is configured. Default 8883; 0 picks a free port. */
  mqttsPort: number;
  /** HTTP API, event stream, console and MQTT over WebSocket (/mqtt); HTTPS when a certificate is configured. Default 8080; 0 picks a free port. */
  httpPort: number;
  /** PEM certificate (with its chain) for MQTTS and HTTPS, e.g. Let's Encrypt's fullchain.pem. Default none: no TLS. */
  tlsCert: string | undefined;
  /** PEM private key of tlsCert, e.g. Let's Encrypt's privkey.pem. */
  tlsKey: string | undefined;
  /** PEM CA that signs device certificates: MQTTS (and MQTT over secure WebSocket) then require one. Default none. */
  tlsCa: string | undefined;
  /** How often the certificate files are checked for a change, ms; 0: reload on SIGHUP only. Default 2 s. */
  tlsWatchMs: number;
  /** Start even when a listener on a non-loopback address does not encrypt (logged, and reported by the doctor). Default false. */
  insecure: boolean;
  /** SQLite database, admin token and other state. Default ./data. */
  dataDir: string;
  /**
   * Store location: a SQLite file (default hookwire.db under dataDir; ':memory:' for tests), or
   * a postgres:// (postgresql://) URL for a PostgreSQL database several bridges share.
   */
  storePath: string | undefined;
  /** `normal`: commits survive a crash of the bridge (kill -9); `full`: a power loss too (fsync per commit). */
  storeSync: StoreSync;
  /** pino level: trace, debug, info, warn, error, fatal, silent. Default info. */
  logLevel: string;
  /** Pretty, colourised logs; default when stdout is a terminal, JSON lines otherwise. */
  prettyLogs: boolean;
  /** Largest MQTT packet accepted, bytes; bigger ones close the connection. Default 32 KiB. */
  maxPacketBytes: number;
  /** Seconds a new connection has to send CONNECT. Default 10 s. */
  connectTimeoutSec: number;
  /**
   * An MQTT client that stops reading is disconnected after this many ms, so it cannot hold
   * up the publishers whose events it subscribed to. Default 5 s.
   */
  mqttDrainTimeoutMs: number;
  /** Largest HTTP request body, bytes. Default 1 MiB. */
  maxBodyBytes: number;
  /** Every event stream (SSE) gets a keep-alive comment this often, ms. Default 9 s (Particle's clients give up after ~13 s of silence). */
  sseKeepAliveMs: number;
  /** An event stream whose reader falls this many bytes behind is cut off. Default 1 MiB. */
  sseMaxBufferedBytes: number;
  /** A webhook with no connection or no answer within this many ms fails. Default 20 s, as Particle. */
  webhookTimeoutMs: number;
  /** Webhooks may not connect to these CIDR ranges (or `private`, `loopback`), besides the built-in denies. Default none. */
  egressDeny: string[];
  /** Webhooks may connect to these ranges even when denied; a built-in deny only by an entry inside it. Default none. */
  egressAllow: string[];
  /**
   * Reverse proxies in front of the HTTP port (CIDRs, addresses, `loopback`, `private`): a
   * request from one of them is taken to come from its X-Forwarded-For client (login limits,
   * logs). Default none: the peer's address, always.
   */
  trustProxy: string[];
  /** Requests in flight per target host. Default 32. */
  hostConcurrency: number;
  /**
   * Webhook requests beyond the first 16 in flight are sent from a second thread (the second
   * core) when `auto` and the machine has more than one core; `off` keeps every request on
   * the main thread. Default auto.
   */
  sendThread: 'auto' | 'off';
  /** Deliveries waiting in memory per target host; more wait in the store. Default 1,000. */
  hostQueue: number;
  /** Errors a host needs before it can be put to sleep. Default 3. */
  throttleMinErrors: number;
  /** How long a failing host sleeps after its last error, ms. Default 5 s. */
  throttleCooldownMs: number;
  /** Multiplies retry waits (the schedule and Retry-After). Default 1; tests compress hours into ms. */
  timeScale: number;
  /** SMTP server for notification emails, e.g. smtp://user:pass@mail.example.com:587. Default none. */
  smtpUrl: string | undefined;
  /** The From address of notification emails. */
  mailFrom: string;
  /** At most one email per integration per this many ms. Default 1 hour. */
  emailIntervalMs: number;
  /**
   * Redis shared by several bridges acting as one broker (redis:// or rediss:// URL, e.g.
   * redis://10.0.0.5:6379/0): MQTT messages, client takeovers and token revocations reach
   * every bridge. Default none: one bridge, all in memory.
   */
  redisUrl: string | undefined;
  /**
   * This bridge's name among several: the `bridge` label on every /metrics series, and in its
   * logs. Default the host name and the data directory (`web1:/var/lib/hookwire`), which only
   * one bridge at a time uses on a host, so it stays the same across restarts.
   */
  bridgeName: string;
  /**
   * How long a delivery claimed from a shared (PostgreSQL) store stays this bridge's without
   * being renewed, seconds: a bridge that crashes leaves its deliveries to the others after
   * this long. Renewed every quarter of it. Default 60 s; ignored on SQLite.
   */
  deliveryLeaseSec: number;
}

export const defaults: BridgeConfig = {
  host: '127.0.0.1',
  mqttPort: 1883,
  mqttsPort: 8883,
  httpPort: 8080,
  tlsCert: undefined,
  tlsKey: undefined,
  tlsCa: undefined,
  tlsWatchMs: 2_000, // a few stats every 2 s; a renewal is served within seconds
  insecure: false,
  dataDir: './data',
  storePath: undefined,
  storeSync: 'normal',
  logLevel: 'info',
  prettyLogs: false,
  maxPacketBytes: 32 * 1024, // a typed event is 16 KiB of data plus topic and header
  connectTimeoutSec: 10,
  mqttDrainTimeoutMs: 5_000,
  maxBodyBytes: 1024 * 1024,
  sseKeepAliveMs: 9_000, // PARTICLE.md §6: at least every 10 s
  sseMaxBufferedBytes: 1024 * 1024, // ~800 classic events queued for one slow reader
  webhookTimeoutMs: 20_000, // 20 s, as Particle
  egressDeny: [], // private ranges and loopback allowed: a self-hosted bridge calls its own network
  egressAllow: [],
  trustProxy: [],
  hostConcurrency: 32,
  sendThread: 'auto',
  hostQueue: 1_000,
  throttleMinErrors: 3,
  throttleCooldownMs: 5_000, // Particle: "after a few seconds without errors"
  timeScale: 1,
  smtpUrl: undefined,
  mailFrom: 'hookwire@localhost',
  emailIntervalMs: 3_600_000, // 1 hour
  redisUrl: undefined,
  bridgeName: '', // '': the host name and the data directory
  deliveryLeaseSec: 60, // 60 s
};

/** Environment variables and the config field each sets. */
const env: Record<string, keyof BridgeConfig> = {
  HOOKWIRE_HOST: 'host',
  HOOKWIRE_MQTT_PORT: 'mqttPort',
  HOOKWIRE_HTTP_PORT: 'httpPort',
  HOOKWIRE_MQTTS_PORT: 'mqttsPort',
  HOOKWIRE_TLS_CERT: 'tlsCert',
  HOOKWIRE_TLS_KEY: 'tlsKey',
  HOOKWIRE_TLS_CA: 'tlsCa',
  HOOKWIRE_TLS_WATCH_MS: 'tlsWatchMs',
  HOOKWIRE_INSECURE: 'insecure',
  HOOKWIRE_DATA_DIR: 'dataDir',
  HOOKWIRE_STORE: 'storePath',
  HOOKWIRE_STORE_SYNC: 'storeSync',
  HOOKWIRE_LOG_LEVEL: 'logLevel',
  HOOKWIRE_WEBHOOK_TIMEOUT_MS: 'webhookTimeoutMs',
  HOOKWIRE_EGRESS_DENY: 'egressDeny',
  HOOKWIRE_EGRESS_ALLOW: 'egressAllow',
  HOOKWIRE_TRUST_PROXY: 'trustProxy',
  HOOKWIRE_HOST_CONCURRENCY: 'hostConcurrency',
  HOOKWIRE_HOST_QUEUE: 'hostQueue',
  HOOKWIRE_SEND_THREAD: 'sendThread',
  HOOKWIRE_THROTTLE_MIN_ERRORS: 'throttleMinErrors',
  HOOKWIRE_THROTTLE_COOLDOWN_MS: 'throttleCooldownMs',
  HOOKWIRE_TIME_SCALE: 'timeScale',
  HOOKWIRE_SMTP_URL: 'smtpUrl',
  HOOKWIRE_MAIL_FROM: 'mailFrom',
  HOOKWIRE_EMAIL_INTERVAL_MS: 'emailIntervalMs',
  HOOKWIRE_SSE_KEEPALIVE_MS: 'sseKeepAliveMs',
  HOOKWIRE_SSE_MAX_BUFFERED_BYTES: 'sseMaxBufferedBytes',
  HOOKWIRE_REDIS: 'redisUrl',
  HOOKWIRE_BRIDGE_NAME: 'bridgeName',
  HOOKWIRE_DELIVERY_LEASE_SEC: 'deliveryLeaseSec',
};

/** Command-line flags and the config field each sets. */
export const flags: Record<string, keyof BridgeConfig> = {
  '--host': 'host',
  '--mqtt-port': 'mqttPort',
  '--http-port': 'httpPort',
  '--mqtts-port': 'mqttsPort',
  '--tls-cert': 'tlsCert',
  '--tls-key': 'tlsKey',
  '--tls-ca': 'tlsCa',
  '--data-dir': 'dataDir',
  '--store': 'storePath',
  '--log-level': 'logLevel',
  '--webhook-timeout-ms': 'webhookTimeoutMs',
  '--bridge-name': 'bridgeName',
  '--delivery-lease-sec': 'deliveryLeaseSec',
};

/** Command-line flags that take no value, and the boolean config field each turns on. */
export const switches: Record<string, keyof BridgeConfig> = {
  '--insecure': 'insecure',
};

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

function port(field: string, value: unknown): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new HookwireError('CONFIG_INVALID', `${field} must be a port number 0-65535, got ${JSON.stringify(value)}`, { field });
  }
  return n;
}

/** A port, or `off` (any case) for a listener that can be switched off. */
function portOrOff(field: string, value: unknown): number | 'off' {
  return typeof value === 'string' && value.trim().toLowerCase() === 'off' ? 'off' : port(field, value);
}

const TRUE = ['1', 'true', 'yes', 'on'];
const FALSE = ['0', 'false', 'no', 'off', ''];

/** true/false, or their usual spellings in an environment variable (1, yes, on / 0, no, off). */
function flag(field: string, value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  const text = String(value).trim().toLowerCase();
  if (TRUE.includes(text)) return true;
  if (FALSE.includes(text)) return false;
  throw new ConfigError(`${field} must be 1 or 0 (true or false), got ${JSON.stringify(value)}`, field);
}

/** A file path, absolute (logs show which file, and a reload finds it whatever the working directory), or undefined. */
function path(value: unknown): string | undefined {
  return value === undefined || value === '' ? undefined : resolve(String(value));
}

/** The TLS files go together: a certificate needs its key, and a client CA needs a certificate. */
function checkTlsFiles(config: BridgeConfig): void {
  if (config.tlsCert !== undefined && config.tlsKey === undefined) throw new ConfigError('tlsKey (HOOKWIRE_TLS_KEY) is needed with tlsCert', 'tlsKey');
  if (config.tlsKey !== undefined && config.tlsCert === undefined) throw new ConfigError('tlsCert (HOOKWIRE_TLS_CERT) is needed with tlsKey', 'tlsCert');
  if (config.tlsCa !== undefined && config.tlsCert === undefined) {
    throw new ConfigError('tlsCa (HOOKWIRE_TLS_CA) needs a server certificate too (HOOKWIRE_TLS_CERT, HOOKWIRE_TLS_KEY)', 'tlsCa');
  }
  if (!Number.isInteger(config.tlsWatchMs) || config.tlsWatchMs < 0) throw new ConfigError('tlsWatchMs must be 0 (no watching) or a number of ms', 'tlsWatchMs');
}

/** A CIDR list (comma-separated text, or a list): its entries, each checked; names the field and the entry at fault. */
const RANGE_ENV = { egressDeny: 'HOOKWIRE_EGRESS_DENY', egressAllow: 'HOOKWIRE_EGRESS_ALLOW', trustProxy: 'HOOKWIRE_TRUST_PROXY' } as const;

function rangeList(field: keyof typeof RANGE_ENV, value: unknown): string[] {
  const entries = (Array.isArray(value) ? value.map(String) : String(value).split(',')).map((e) => e.trim()).filter((e) => e !== '');
  try {
    parseRangeList(entries);
  } catch (err) {
    if (!(err instanceof EgressRuleError)) throw err;
    throw new HookwireError('CONFIG_INVALID', `${field} (${RANGE_ENV[field]}): ${err.message}`, { field });
  }
  return entries;
}

/** Bounds of deliveryLeaseSec, s: renewed every quarter, so at least a second; at most an hour for a crashed bridge's deliveries to wait. */
const LEASE_SEC = { min: 1, max: 3_600 };

/** Longest bridge name: a label value, and an ID short enough for a notice between bridges. */
const MAX_BRIDGE_NAME = 255;

/** The bridge name given, or the host name and data directory; checked. */
function bridgeName(value: unknown, dataDir: string): string {
  const name = value === undefined || String(value).trim() === '' ? `${hostname()}:${dataDir}` : String(value).trim();
  if (name.length > MAX_BRIDGE_NAME || /[\x00-\x1f\x7f]/.test(name)) {
    throw new HookwireError('CONFIG_INVALID', `bridgeName (HOOKWIRE_BRIDGE_NAME) must be 1-${MAX_BRIDGE_NAME} printable characters${value ? '' : ' (the default, host name and data directory, is too long: set one)'}`,
      { field: 'bridgeName' });
  }
  return name;
}

/** Defaults, then `overrides`, validated; names the field at fault. */
export function makeConfig(overrides: Partial<Record<keyof BridgeConfig, unknown>> = {}): BridgeConfig {
  const c = { ...defaults, ...Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined)) } as Record<string, unknown>;
  const config: BridgeConfig = {
    host: String(c.host),
    mqttPort: portOrOff('mqttPort', c.mqttPort),
    mqttsPort: port('mqttsPort', c.mqttsPort),
    httpPort: port('httpPort', c.httpPort),
    tlsCert: path(c.tlsCert),
    tlsKey: path(c.tlsKey),
    tlsCa: path(c.tlsCa),
    tlsWatchMs: Number(c.tlsWatchMs),
    insecure: flag('insecure', c.insecure),
    dataDir: resolve(String(c.dataDir)),
    storePath: c.storePath === undefined ? undefined : String(c.storePath),
    storeSync: c.storeSync as StoreSync,
    logLevel: String(c.logLevel),
    prettyLogs: Boolean(c.prettyLogs),
    maxPacketBytes: Number(c.maxPacketBytes),
    connectTimeoutSec: Number(c.connectTimeoutSec),
    mqttDrainTimeoutMs: Number(c.mqttDrainTimeoutMs),
    maxBodyBytes: Number(c.maxBodyBytes),
    sseKeepAliveMs: Number(c.sseKeepAliveMs),
    sseMaxBufferedBytes: Number(c.sseMaxBufferedBytes),
    webhookTimeoutMs: Number(c.webhookTimeoutMs),
    egressDeny: rangeList('egressDeny', c.egressDeny),
    egressAllow: rangeList('egressAllow', c.egressAllow),
    trustProxy: rangeList('trustProxy', c.trustProxy),
    hostConcurrency: Number(c.hostConcurrency),
    sendThread: c.sendThread as BridgeConfig['sendThread'],
    hostQueue: Number(c.hostQueue),
    throttleMinErrors: Number(c.throttleMinErrors),
    throttleCooldownMs: Number(c.throttleCooldownMs),
    timeScale: Number(c.timeScale),
    smtpUrl: c.smtpUrl === undefined || c.smtpUrl === '' ? undefined : String(c.smtpUrl),
    mailFrom: String(c.mailFrom),
    emailIntervalMs: Number(c.emailIntervalMs),
    redisUrl: c.redisUrl === undefined || c.redisUrl === '' ? undefined : String(c.redisUrl),
    bridgeName: bridgeName(c.bridgeName, resolve(String(c.dataDir))),
    deliveryLeaseSec: Number(c.deliveryLeaseSec),
  };
  checkTlsFiles(config);
  if (config.storeSync !== 'normal' && config.storeSync !== 'full') {
    throw new HookwireError('CONFIG_INVALID', 'storeSync must be normal or full', { field: 'storeSync' });
  }
  if (config.sendThread !== 'auto' && config.sendThread !== 'off') {
    throw new HookwireError('CONFIG_INVALID', 'sendThread must be auto or off', { field: 'sendThread' });
  }
  if (config.smtpUrl !== undefined && !/^smtps?:\/\//.test(config.smtpUrl)) {
    throw new HookwireError('CONFIG_INVALID', 'smtpUrl must be an smtp:// or smtps:// URL', { field: 'smtpUrl' });
  }
  if (config.redisUrl !== undefined && !/^rediss?:\/\/[^/]/.test(config.redisUrl)) {
    throw new HookwireError('CONFIG_INVALID', 'redisUrl (HOOKWIRE_REDIS) must be a redis:// or rediss:// URL', { field: 'redisUrl' });
  }
  if (!Number.isInteger(config.deliveryLeaseSec) || config.deliveryLeaseSec < LEASE_SEC.min || config.deliveryLeaseSec > LEASE_SEC.max) {
    throw new HookwireError('CONFIG_INVALID', `deliveryLeaseSec (HOOKWIRE_DELIVERY_LEASE_SEC) must be a whole number of seconds from ${LEASE_SEC.min} to ${LEASE_SEC.max}, got ${JSON.stringify(c.deliveryLeaseSec)}`,
      { field: 'deliveryLeaseSec' });
  }
  if (!LEVELS.includes(config.logLevel)) {
    throw new HookwireError('CONFIG_INVALID', `logLevel must be one of ${LEVELS.join(', ')}`, { field: 'logLevel' });
  }
  for (const field of ['maxPacketBytes', 'connectTimeoutSec', 'mqttDrainTimeoutMs', 'maxBodyBytes', 'webhookTimeoutMs', 'hostConcurrency',
    'hostQueue', 'throttleMinErrors', 'throttleCooldownMs', 'timeScale', 'emailIntervalMs', 'sseKeepAliveMs', 'sseMaxBufferedBytes'] as const) {
    if (!(config[field] > 0)) throw new HookwireError('CONFIG_INVALID', `${field} must be a positive number`, { field });
  }
  return config;
}

/** Overrides from HOOKWIRE_* environment variables. */
export function fromEnv(vars: NodeJS.ProcessEnv): Partial<Record<keyof BridgeConfig, unknown>> {
  const out: Partial<Record<keyof BridgeConfig, unknown>> = {};
  for (const [name, field] of Object.entries(env)) {
    if (vars[name] !== undefined && vars[name] !== '') out[field] = vars[name];
  }
  return out;
}
