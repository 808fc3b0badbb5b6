// The bridge: the store, the event path (broker → ingest → webhooks), the observers and the
// HTTP API, started and stopped together. Everything is built and wired here, in the order
// an event flows (docs/architecture.md).

import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { ensureAdminToken } from './admin-token.ts';
import { createApi } from './api/index.ts';
import { createCollector } from './dashboard/index.ts';
import { createDoctor, startDoctorPeers } from './doctor/index.ts';
import { createBroker, type Broker } from './broker/index.ts';
import { shareLogins, startNotices } from './cluster/index.ts';
import { makeConfig, type BridgeConfig } from './config.ts';
import { EventBus, createIngest, type Ingest } from './events/index.ts';
import { HookwireError } from './errors.ts';
import { createLogger, type Logger } from './log.ts';
import { createLoginLimiter, type LoginLimitOptions } from './login-limit.ts';
import { privateDir, privateFile } from './data-dir.ts';
import { createMetrics } from './metrics.ts';
import { observe } from './observers.ts';
import { isPostgresUrl, openPostgresStore, openSqliteStore, parseSecretKeys, sealIntegrations, type Store } from './store/index.ts';
import { claimDataDir, type Instance } from './instance.ts';
import { checkExposure, insecureMessage, openTls, type Exposure, type ReloadReason, type TlsSource } from './tls/index.ts';
import { version } from './version.ts';
import { createWebhooks, parseRangeList, rangeMatcher, webhookDefaults, type Webhooks } from './webhooks/index.ts';

export { makeConfig, version, type BridgeConfig };

export interface Bridge {
  config: BridgeConfig;
  store: Store;
  bus: EventBus;
  /** The one way events come in (a test may publish a cloud event through it). */
  ingest: Ingest;
  broker: Broker;
  webhooks: Webhooks;
  api: FastifyInstance;
  logger: Logger;
  /** The ports actually listened on (differs from config when it asked for 0). Plain MQTT: 0 when it is off. */
  mqttPort: number;
  httpPort: number;
  /** MQTT over TLS, when a certificate is configured. */
  mqttsPort: number | undefined;
  /** Base URL of the HTTP API: https:// when a certificate is configured. */
  url: string;
  /** MQTT over TCP, e.g. mqtt://127.0.0.1:1883; '' when plain MQTT is off (mqttPort 'off'). */
  mqttUrl: string;
  /** MQTT over TLS, e.g. mqtts://127.0.0.1:8883, when a certificate is configured. */
  mqttsUrl: string | undefined;
  /** The certificate and its reloading, when one is configured. */
  tls: TlsSource | undefined;
  /** Read the certificate files again (what SIGHUP does); false when there is no TLS or the new files did not load (logged). */
  reloadTls(reason?: ReloadReason): Promise<boolean>;
  /** Where the admin token is kept. */
  adminTokenPath: string;
  /** The admin token, when this start made it. */
  adminToken: string | undefined;
  close(): Promise<void>;
}

export interface StartOptions {
  /** A logger to use instead of one made from the config (tests parse its JSON lines). */
  logger?: Logger;
  /**
   * The keys that seal integrations' credentials in the store (bridge/store/sealed.ts).
   * Default: HOOKWIRE_SECRET_KEY and HOOKWIRE_SECRET_KEY_PREVIOUS from the environment, never
   * flags or config (a command line is visible to every user of the host).
   */
  secretKey?: string | undefined;
  secretKeyPrevious?: string | undefined;
  /** Failed logins allowed per address (bridge/login-limit.ts); tests that fail many on purpose raise it. */
  loginLimit?: LoginLimitOptions;
}

/**
 * The store, its integrations sealed when a secret key is set: PostgreSQL for a postgres://
 * URL (shared by several bridges), else the SQLite file at `path`. On PostgreSQL this bridge
 * holds its delivery claims under its name (by default its host and data directory), which
 * stays the same across its restarts, so a restart takes back its own claims at once; two
 * bridges must not share a name.
 */
async function openStore(path: string, config: BridgeConfig, logger: Logger, keys: { current: string | undefined; previous: string | undefined }): Promise<Store> {
  const raw = isPostgresUrl(path)
    ? await openPostgresStore(path, {
      owner: config.bridgeName,
      leaseMs: config.deliveryLeaseSec * 1000,
      onError: (err) => logger.warn({ err, component: 'store' }, 'could not renew delivery leases: retrying'),
    })
    : openSqliteStore(path, config.storeSync);
  try {
    const { store, resealed } = await sealIntegrations(raw, parseSecretKeys(keys.current, keys.previous));
    if (resealed) logger.info({ integrations: resealed }, 'integration credentials sealed with the current secret key');
    return store;
  } catch (err) {
    await raw.close();
    throw err;
  }
}

export async function startBridge(overrides: Partial<Record<keyof BridgeConfig, unknown>> = {}, options: StartOptions = {}): Promise<Bridge> {
  const config = makeConfig(overrides);
  const logger = options.logger ?? createLogger({ level: config.logLevel, pretty: config.prettyLogs });
  // Before anything is opened: a plain listener on the network needs --insecure, and a
  // certificate that does not load stops the start (TLS was asked for).
  const exposure = checkExposure(config);
  if (exposure.insecure) logger.warn({ code: 'INSECURE_BIND', host: config.host, plain: exposure.plain }, `insecure: ${insecureMessage(exposure)} (started with --insecure)`);
  const tls = config.tlsCert !== undefined && config.tlsKey !== undefined
    ? await openTls({ cert: config.tlsCert, key: config.tlsKey, ca: config.tlsCa, watchMs: config.tlsWatchMs, handshakeTimeoutMs: config.connectTimeoutSec * 1000, logger })
    : undefined;
  await privateDir(config.dataDir, logger);
  const storePath = config.storePath ?? join(config.dataDir, 'hookwire.db');
  // One bridge per data directory; tools find it by the same file (bridge/instance.ts).
  const instance = await claimDataDir(config.dataDir, logger);
  try {
    return await openBridge({ config, logger, options, exposure, tls, storePath, instance });
  } catch (err) {
    tls?.close();
    await instance.release();
    throw err;
  }
}

/** What startBridge settled before opening anything: the config, the lock, TLS. */
interface Settled {
  config: BridgeConfig;
  logger: Logger;
  options: StartOptions;
  exposure: Exposure;
  tls: TlsSource | undefined;
  storePath: string;
  instance: Instance;
}

/** Open the store, wire the event path and listen. */
async function openBridge({ config, logger, options, exposure, tls, storePath, instance }: Settled): Promise<Bridge> {
  const sqliteFile = storePath !== ':memory:' && !isPostgresUrl(storePath);
  if (sqliteFile) for (const suffix of ['', '-wal', '-shm']) await privateFile(storePath + suffix, logger, suffix === '');
  const store = await openStore(storePath, config, logger, {
    current: 'secretKey' in options ? options.secretKey : process.env.HOOKWIRE_SECRET_KEY,
    previous: 'secretKeyPrevious' in options ? options.secretKeyPrevious : process.env.HOOKWIRE_SECRET_KEY_PREVIOUS,
  });
  const admin = await ensureAdminToken(store, config.dataDir);
  await privateFile(admin.path, logger, false);
  const bus = new EventBus();
  const limiter = createLoginLimiter(logger, options.loginLimit);
  // The event path, in the order an event flows: the broker hands each publish to ingest,
  // ingest has the webhooks accept it (durably) and puts it on the bus, the webhooks' answers
  // come back in through ingest, and ingest sends to MQTT subscribers through the broker.
  const ingest = createIngest({ bus });
  const webhooks = await createWebhooks({
    store, logger, bus,
    // On PostgreSQL other bridges change integrations and settle deliveries too.
    sharedStore: isPostgresUrl(storePath),
    publish: ingest.cloud,
    options: {
      timeoutMs: config.webhookTimeoutMs,
      egress: { deny: config.egressDeny, allow: config.egressAllow },
      timeScale: config.timeScale,
      lanes: { concurrency: config.hostConcurrency, queue: config.hostQueue },
      sendThread: { mainInFlight: config.sendThread === 'auto' && availableParallelism() > 1 ? webhookDefaults.sendThread.mainInFlight : 0 },
      throttle: { ...webhookDefaults.throttle, cooldownMs: config.throttleCooldownMs, minErrors: config.throttleMinErrors },
      notify: { smtpUrl: config.smtpUrl, from: config.mailFrom, emailIntervalMs: config.emailIntervalMs },
    },
  });
  // A broker that cannot start (its Redis does not answer) leaves nothing open behind it.
  const broker = await createBroker({
    store, bus, logger, ingest, limiter,
    maxPacketBytes: config.maxPacketBytes,
    connectTimeoutSec: config.connectTimeoutSec,
    drainTimeoutMs: config.mqttDrainTimeoutMs,
    redisUrl: config.redisUrl,
  }).catch(async (err) => {
    await webhooks.close();
    await store.close();
    throw err;
  });
  // Bridges sharing a Redis tell each other of revoked tokens and ended sessions.
  const notices = config.redisUrl ? await startNotices({ url: config.redisUrl, bus, logger }).catch(async (err) => { await broker.close(); throw err; }) : undefined;
  // ...and count failed logins together, so an address is refused by all of them at once.
  const logins = config.redisUrl ? await shareLogins({ url: config.redisUrl, bus, limiter, logger }).catch(async (err) => { await notices?.close(); await broker.close(); throw err; }) : undefined;
  ingest.connect({ acceptance: webhooks, outlet: broker.outlet });
  // Only now may deliveries left by a previous run go out: their answers need the broker.
  await webhooks.start();
  // Observers, all attached here (bridge/observers.ts): each gets every attempt's record and
  // the bus's events, refusals and API publishes.
  const metrics = createMetrics({ broker, webhooks, store, limiter }, { bridge: config.bridgeName });
  const dashboard = createCollector({ store, logger });
  // After the store is open: the doctor takes the identity of its files now (STORE_MISSING); a database on a server has none.
  // Bridges sharing a Redis: each doctor asks the others what they saw when it runs.
  const doctorPeers = config.redisUrl ? await startDoctorPeers({ url: config.redisUrl, logger, bridgeId: notices?.bridgeId }).catch(async (err) => { await notices?.close(); await broker.close(); throw err; }) : undefined;
  const doctor = createDoctor({ broker, webhooks, logger, security: { exposure, certificate: tls?.certificate }, devices: store.devices,
    storage: { dataDir: config.dataDir, storePath: sqliteFile ? storePath : undefined }, peers: doctorPeers });
  const detachObservers = observe([metrics, dashboard, doctor.tracker], { bus, webhooks });

  const brokerPorts = { mqttPort: 0, mqttsPort: 0 };
  const api = createApi({ store, bus, ingest, broker, webhooks, metrics, dashboard, doctor, logger, limiter, version, listening: brokerPorts, maxBodyBytes: config.maxBodyBytes,
    sseKeepAliveMs: config.sseKeepAliveMs, sseMaxBufferedBytes: config.sseMaxBufferedBytes, tls,
    trustProxy: config.trustProxy.length > 0 ? rangeMatcher(parseRangeList(config.trustProxy)) : undefined });

  let mqttPort = 0;
  let mqttsPort: number | undefined;
  let httpPort: number;
  try {
    if (config.mqttPort !== 'off') mqttPort = await portInUse(broker.listen(config.host, config.mqttPort), 'MQTT', config.mqttPort, 'HOOKWIRE_MQTT_PORT or --mqtt-port');
    if (tls) mqttsPort = await portInUse(broker.listenTls(config.host, config.mqttsPort, tls), 'MQTTS', config.mqttsPort, 'HOOKWIRE_MQTTS_PORT or --mqtts-port');
    broker.attachWebSocket(api.server, '/mqtt', { requireClientCertificate: tls?.clientCa ?? false });
    // fastify names the scheme by its own https option, which a server of ours does not set.
    await portInUse(api.listen({ host: config.host, port: config.httpPort, listenTextResolver: (address) => `Server listening at ${tls ? address.replace(/^http:/, 'https:') : address}` }),
      'HTTP', config.httpPort, 'HOOKWIRE_HTTP_PORT or --http-port');
    httpPort = (api.server.address() as AddressInfo).port;
    Object.assign(brokerPorts, { mqttPort, mqttsPort: mqttsPort ?? 0 });
    // Webhooks may reach its request bins, never the rest of it (webhooks/egress.ts).
    webhooks.addOwnApi(api.addresses().filter((a): a is AddressInfo => typeof a !== 'string'));
  } catch (err) {
    tls?.close();
    await broker.close();
    await logins?.close();
    await notices?.close();
    await doctorPeers?.close();
    await webhooks.close();
    await api.close();
    detachObservers();
    await dashboard.close();
    await store.close();
    throw err;
  }

  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `${tls ? 'https' : 'http'}://${host}:${httpPort}`;
  const mqttUrl = mqttPort ? `mqtt://${host}:${mqttPort}` : '';
  const mqttsUrl = mqttsPort === undefined ? undefined : `mqtts://${host}:${mqttsPort}`;
  const wsUrl = `${tls ? 'wss' : 'ws'}://${host}:${httpPort}/mqtt`;
  await instance.publish({ version, http: url, ...(mqttUrl ? { mqtt: mqttUrl } : {}), ...(mqttsUrl ? { mqtts: mqttsUrl } : {}), ws: wsUrl });
  const listening = [mqttUrl && `MQTT ${mqttUrl}`, mqttsUrl && `MQTTS ${mqttsUrl}`, `${tls ? 'HTTPS' : 'HTTP'} ${url}`, `MQTT over WebSocket ${wsUrl}`];
  logger.info({ mqttPort: mqttPort || null, mqttsPort: mqttsPort ?? null, httpPort, tls: tls !== undefined, dataDir: config.dataDir, store: store.backend, bridge: config.bridgeName, version },
    `Hookwire ${version} listening: ${listening.filter(Boolean).join(', ')}`);

  let closing: Promise<void> | undefined;
  return {
    config, store, bus, ingest, broker, webhooks, api, logger, mqttPort, httpPort, mqttsPort, url, mqttUrl, mqttsUrl, tls,
    adminTokenPath: admin.path,
    adminToken: admin.created,
    async reloadTls(reason = 'asked') {
      if (tls) return tls.reload(reason);
      logger.info({ trigger: reason }, 'no TLS certificate configured: nothing to reload');
      return false;
    },
    close() {
      closing ??= (async () => {
        tls?.close();
        await broker.close(); // no new events
        await logins?.close();
        await notices?.close();
        await doctorPeers?.close();
        await webhooks.close(); // deliveries in progress finish (up to 5 s)
        await api.close();
        detachObservers();
        await dashboard.close(); // its last counts, before the store closes
        metrics.close();
        await store.close();
        await instance.release();
        logger.info('stopped');
      })();
      return closing;
    },
  };
}

/** A port already taken, as one line naming the setting to change. */
async function portInUse<T>(listening: Promise<T>, what: string, port: number, setting: string): Promise<T> {
  try {
    return await listening;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    throw new HookwireError('PORT_IN_USE', `the ${what} port ${port} is in use (another program, or another bridge): choose another with ${setting}`, { field: `${what.toLowerCase()}Port`, cause: err });
  }
}
