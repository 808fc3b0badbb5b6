// The embedded MQTT broker: aedes with Hookwire's access rules, over TCP, TLS and WebSocket.

import { randomUUID } from 'node:crypto';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Server as HttpServer } from 'node:http';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import { Aedes, type Client } from 'aedes';
import mqemitter from 'mqemitter';
import { WebSocketServer, createWebSocketStream } from 'ws';
import { carriedOf, eventCarried, type EventBus, type HookwireEvent, type Ingest, type Outlet } from '../events/index.ts';
import { isDeviceId } from '../../firmware-sdk/rules.ts';
import { isFixedCode, type FixedCode } from '../codes.ts';
import type { Logger } from '../log.ts';
import type { LoginLimiter } from '../login-limit.ts';
import type { Store } from '../store/index.ts';
import type { TlsSource } from '../tls/index.ts';
import { createAccess, type Identity } from './access.ts';
import { limitPacketSize } from './guard.ts';
import { startPresence, type Presence } from './presence.ts';
import { openSharedBroker, type SharedBroker } from './shared.ts';

export type { Identity };

export interface BrokerOptions {
  store: Store;
  bus: EventBus;
  logger: Logger;
  /** Where accepted publishes go in (events/ingest.ts): a QoS 1 publish is acknowledged once it is stored. */
  ingest: Ingest;
  /** Largest MQTT packet accepted, bytes. */
  maxPacketBytes: number;
  /** Wrong tokens, limited per remote address (shared with the API). */
  limiter: LoginLimiter;
  /** Seconds a connection has to send CONNECT. */
  connectTimeoutSec: number;
  /** A client whose socket does not drain within this many ms is disconnected. */
  drainTimeoutMs: number;
  /**
   * Redis shared with other bridges (HOOKWIRE_REDIS): messages and session state go through it
   * and the bridges act as one broker (broker/shared.ts). Default none: all in memory.
   */
  redisUrl?: string | undefined;
}

export interface Broker {
  aedes: Aedes;
  /** Listen for MQTT over TCP; resolves with the port (useful with port 0). */
  listen(host: string, port: number): Promise<number>;
  /** Listen for MQTT over TLS with the bridge's certificate (kept current by `tls`); resolves with the port. */
  listenTls(host: string, port: number, tls: TlsSource): Promise<number>;
  /** Serve MQTT over WebSocket at `path` on an HTTP(S) server. */
  attachWebSocket(server: HttpServer, path: string, options?: WebSocketOptions): void;
  /** The identity of a connected client. */
  identityOf(client: Client): Identity | undefined;
  /** MQTT subscribers: where ingest publishes events the broker did not receive (the cloud's, the API's). */
  outlet: Outlet;
  /** Disconnect a device (deleted, or its token changed). */
  disconnectDevice(deviceId: string): void;
  /** Connected to this bridge or, when bridges share the broker, to any of them. */
  isDeviceConnected(deviceId: string): boolean;
  /** Devices connected to any bridge sharing the broker ('cluster', the default), or to this one ('bridge'); the same alone. */
  connectedDevices(scope?: 'cluster' | 'bridge'): number;
  /** Whether bridges share this broker (HOOKWIRE_REDIS). */
  shared: boolean;
  /**
   * Follow the events other bridges sharing the broker accept: each goes on the bus as
   * 'event:elsewhere' until every follower has stopped. `ready` is set while the first
   * follower waits for them to flow. Alone, there is nothing to follow.
   */
  follow(): Following;
  /** What each connected device subscribes to (topic filters), by device ID. */
  deviceSubscriptions(): Map<string, string[]>;
  close(): Promise<void>;
}

export interface Following {
  /** Resolves once events from the other bridges flow; absent when they already do. */
  ready?: Promise<void> | undefined;
  stop(): void;
}

export interface WebSocketOptions {
  /**
   * Upgrade only connections that presented a certificate the client CA signed (the server is
   * HTTPS and asked for one), so MQTT over secure WebSocket is held to what MQTTS requires.
   */
  requireClientCertificate?: boolean;
}

/**
 * One write syscall per connection per event-loop turn. aedes writes every packet on its own
 * (each PUBACK, each forwarded event); mqtt-packet corks only until the next tick. A service
 * client watching `#` receives thousands of events a second: batching its writes per turn
 * costs at most one turn of latency and saves most of the syscalls.
 */
function coalesceWrites(socket: Socket): void {
  let corked = false;
  const flush = () => {
    corked = false;
    socket.uncork();
  };
  const write = socket.write;
  socket.write = function coalescedWrite(this: Socket, ...args: Parameters<Socket['write']>) {
    if (!corked) {
      corked = true;
      socket.cork();
      setImmediate(flush);
    }
    return write.apply(this, args);
  } as Socket['write'];
}

/** Socket-level codes that are a client going away, not a fault worth a warning. */
const QUIET = new Set(['ECONNRESET', 'EPIPE', 'ERR_STREAM_PREMATURE_CLOSE', 'ERR_STREAM_DESTROYED']);

/**
 * A connection's failure as a stable code, or undefined for a client going away (a socket
 * code, logged as it is but not worth a warning).
 */
export function connectionCode(err: Error & { code?: unknown }): FixedCode | undefined {
  if (typeof err.code === 'string') {
    if (QUIET.has(err.code)) return undefined;
    return isFixedCode(err.code) ? err.code : 'PROTOCOL_ERROR';
  }
  // aedes writing (or about to write) to a client whose connection has just closed: the client
  // went away, as with ECONNRESET; nothing was wrong with its bytes.
  if (err.message === 'connection closed') return undefined;
  // aedes closes the connection itself for topics MQTT forbids in PUBLISH (empty, + or #).
  if (/not allowed in PUBLISH|too many levels/.test(err.message)) return 'EVENT_NAME_INVALID';
  if (/keep ?alive/i.test(err.message)) return 'KEEPALIVE_TIMEOUT';
  return 'PROTOCOL_ERROR';
}

const noop = () => {};

/** Why a TLS peer's certificate was not accepted, by OpenSSL's name (a TLS code, bridge/codes.ts). */
function certificateCode(socket: TLSSocket): string {
  const reason = socket.authorizationError as unknown as (Error & { code?: string }) | string | null;
  if (!reason) return 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE';
  return typeof reason === 'string' ? reason : reason.code ?? reason.message;
}


/** Where a bridge asks the others to close a device's connection (deleted, or its token changed). */
const DISCONNECT_DEVICE = 'hookwire/disconnect/device';

/** A packet as the emitter carries it. */
interface Carried {
  topic: string;
  payload?: unknown;
  /** The bridge (aedes ID) it was published on. */
  brokerId?: string;
  properties?: { userProperties?: Record<string, unknown> };
}

/**
 * Where an accepted event's identity rides on its packet through the shared emitter: an MQTT 5
 * user property, which aedes keeps when it wraps packets and never writes to an MQTT 3.1.1
 * client (the only kind served). Packets without it are not events (refused publishes, `$`
 * topics, aedes' own).
 */
const CARRIED = 'hookwire-event';
/** The first event stream waits this long at most for the other bridges' events to flow, ms. */
const FOLLOW_WAIT_MS = 2_000;

function carry(packet: object, event: HookwireEvent): void {
  (packet as Carried).properties = { userProperties: { [CARRIED]: carriedOf(event) } };
}

/**
 * What a bridge sharing its broker does for the others, over the shared emitter. aedes itself
 * closes a local client when its ID connects on another bridge (`$SYS/<bridge>/new/clients`);
 * this says so in the log (so it listens first, before aedes has closed the client), and
 * closes a device another bridge disconnects.
 */
function joinBridges(mq: SharedBroker['mq'], bridgeId: string, connected: (clientId: string) => Client | undefined, identityOf: (client: Client) => Identity | undefined,
  presence: Presence, log: Logger): void {
  const bridgeOf = (topic: string) => topic.split('/')[1]!;
  mq.on('$SYS/+/new/clients', (packet: Carried, done: () => void) => {
    const clientId = String(packet.payload);
    // Only a device may connect with its device ID (broker/access.ts).
    if (isDeviceId(clientId)) presence.announced(bridgeOf(packet.topic), clientId);
    const client = connected(clientId);
    if (client && !client.closed && bridgeOf(packet.topic) !== bridgeId) {
      log.warn({ clientId: client.id.slice(0, 64), kind: identityOf(client)?.kind, remote: (client.conn as Socket | undefined)?.remoteAddress, bridge: bridgeOf(packet.topic) },
        'session taken over: the client ID connected to another bridge; the connection here is closed');
    }
    done();
  });
  mq.on(`$SYS/+/${DISCONNECT_DEVICE}`, (packet: Carried, done: () => void) => {
    const client = connected(String(packet.payload));
    if (client && identityOf(client)?.kind === 'device' && !client.closed) {
      log.info({ deviceId: client.id, bridge: bridgeOf(packet.topic) }, 'device disconnected by another bridge (deleted, or its token changed)');
      client.close();
    }
    done();
  });
}

export async function createBroker(options: BrokerOptions): Promise<Broker> {
  const { store, bus, logger } = options;
  const log = logger.child({ component: 'broker' });
  const shared: SharedBroker | undefined = options.redisUrl ? await openSharedBroker(options.redisUrl, logger) : undefined;
  const access = createAccess({ store, bus, logger, ingest: options.ingest, limiter: options.limiter, connected: (id) => clients[id], carry: shared && carry });
  const bridgeId = randomUUID();
  // Which devices are connected to the other bridges, before any connects here.
  let presence: Presence | undefined;
  if (shared) {
    try {
      presence = await startPresence({ url: options.redisUrl!, bridgeId, bus, logger });
    } catch (err) {
      await new Promise<void>((resolve) => shared.mq.close(() => resolve()));
      await shared.close();
      throw err;
    }
    joinBridges(shared.mq, bridgeId, (id) => clients[id], access.identityOf, presence, log);
  }
  const aedes = await Aedes.createBroker({
    ...(shared && { id: bridgeId }),
    // No global in-flight limit: with one, a subscriber that stops reading holds every slot,
    // queued messages pile up behind it, and when it goes the queue unwinds recursively and
    // overflows the stack (mcollina/mqemitter#204). Publishers still wait for slow readers,
    // client by client, and drainTimeout bounds that wait.
    mq: shared?.mq ?? mqemitter({ concurrency: 0, matchEmptyLevels: true }),
    ...(shared && { persistence: shared.persistence }),
    drainTimeout: options.drainTimeoutMs,
    connectTimeout: options.connectTimeoutSec * 1000,
    preConnect: access.preConnect,
    authenticate: access.authenticate,
    authorizePublish: access.authorizePublish,
    authorizeSubscribe: access.authorizeSubscribe,
    authorizeForward: access.authorizeForward,
  });
  let deviceCount = 0;

  const onClientError = (client: Client | null, err: Error & { errorCode?: unknown }) => {
    // A refused CONNECT comes back here too (aedes sets errorCode to the CONNACK code); the
    // refusal was already logged, with its own code, when it was decided.
    if (typeof err.errorCode === 'number') return;
    const code = connectionCode(err);
    const remote = (client?.conn as Socket | undefined)?.remoteAddress;
    const fields = { deviceId: client?.id?.slice(0, 64) ?? undefined, remote, code: code ?? (err as { code?: unknown }).code, reason: err.message };
    if (!code) return log.debug(fields, 'connection closed');
    log.warn(fields, 'connection refused or dropped');
    if (client) bus.emit('refused', { at: new Date().toISOString(), clientId: (client.id ?? '').slice(0, 64), code, message: err.message });
  };
  aedes.on('clientError', onClientError);
  aedes.on('connectionError', onClientError);
  aedes.on('clientReady', (client) => {
    const who = access.identityOf(client);
    if (who?.kind !== 'device') return;
    deviceCount++;
    if (!presence) bus.emit('device:online', who.id);
    store.devices.update(who.id, { lastHeard: new Date().toISOString() }).catch((err) => log.error({ err }, 'last_heard update failed'));
  });
  // Shared, a device counts as connected here from when aedes registers it, before its CONNACK
  // (which waits on Redis): the bridge it took over from may say it left before that.
  if (presence) {
    aedes.on('client', (client) => {
      const who = access.identityOf(client);
      if (who?.kind === 'device') presence.connected(who.id);
    });
  }
  aedes.on('clientDisconnect', (client) => {
    const who = access.identityOf(client);
    if (who?.kind !== 'device') return;
    deviceCount--;
    if (presence) presence.disconnected(who.id);
    else bus.emit('device:offline', who.id);
    store.devices.update(who.id, { lastHeard: new Date().toISOString() }).catch((err) => log.error({ err }, 'last_heard update failed'));
  });

  const clients = (aedes as unknown as { clients: Record<string, Client | undefined> }).clients;
  const deviceClient = (deviceId: string) => {
    const client = clients[deviceId];
    return client && access.identityOf(client)?.kind === 'device' ? client : undefined;
  };
  // What aedes reports as 'error' (e.g. Redis failing under its sessions) is logged, rather
  // than left to end the process.
  if (shared) (aedes as unknown as NodeJS.EventEmitter).on('error', (err: Error) => log.error({ err }, 'broker error'));

  // A revoked API token ends the service sessions it opened, not just the next login.
  const onTokenRevoked = (tokenId: string) => {
    for (const client of Object.values(clients)) {
      const who = client && access.identityOf(client);
      if (who?.kind !== 'service' || who.tokenId !== tokenId) continue;
      log.info({ clientId: client!.id.slice(0, 64), tokenId }, 'API token revoked: service connection closed');
      client!.close();
    }
  };
  bus.on('token:revoked', onTokenRevoked);

  const handle = (stream: Duplex) => limitPacketSize(aedes.handle(stream), options.maxPacketBytes);
  const sockets = new Set<Socket>();
  const servers: Server[] = [];
  let wss: WebSocketServer | null = null;

  /** Every connection, counted from its first byte (a TLS one before its handshake), so close() can end it. */
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };
  /** An MQTT connection ready to talk (a TLS one once its handshake is done). */
  const serve = (socket: Socket) => {
    socket.setNoDelay(true); // PUBACKs and responses are small and latency matters
    coalesceWrites(socket);
    handle(socket);
  };
  const listenOn = (server: Server, host: string, port: number) => {
    servers.push(server);
    return new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve((server.address() as AddressInfo).port);
      });
    });
  };

  // Events other bridges accepted, on the bus while someone here follows them (an event stream).
  let followers = 0;
  let flowing: Promise<void> | undefined;
  let flows = false;
  const onElsewhere = (packet: Carried, done: () => void) => {
    const carried = packet.properties?.userProperties?.[CARRIED];
    // This bridge's own events come back through Redis too: the bus had them already.
    if (typeof carried === 'string' && packet.brokerId !== bridgeId && Buffer.isBuffer(packet.payload)) {
      const event = eventCarried(packet.topic, packet.payload, carried);
      if (event) bus.emit('event:elsewhere', event);
    }
    done();
  };
  function follow(): Following {
    if (!shared) return { stop: noop };
    if (followers++ === 0) {
      const subscribed = new Promise<void>((resolve) => shared.mq.on('#', onElsewhere, resolve)).then(() => { flows = true; });
      // Redis unreachable: a stream still opens, with this bridge's events, after a while.
      flowing = Promise.race([subscribed, new Promise<void>((resolve) => setTimeout(resolve, FOLLOW_WAIT_MS).unref())]);
    }
    let stopped = false;
    return {
      ready: flows ? undefined : flowing,
      stop() {
        if (stopped) return;
        stopped = true;
        if (--followers > 0) return;
        flows = false;
        shared.mq.removeListener('#', onElsewhere);
      },
    };
  }

  return {
    aedes,
    identityOf: access.identityOf,
    connectedDevices: (scope = 'cluster') => (presence && scope === 'cluster' ? presence.count() : deviceCount),
    shared: shared !== undefined,
    follow,

    listen(host, port) {
      return listenOn(createServer((socket) => {
        track(socket);
        serve(socket);
      }), host, port);
    },

    listenTls(host, port, tls) {
      const server = createTlsServer(tls.serverOptions('mqtts'), serve);
      server.on('connection', track);
      tls.track(server, 'mqtts');
      return listenOn(server, host, port);
    },

    attachWebSocket(server, path, wsOptions = {}) {
      wss = new WebSocketServer({ noServer: true, maxPayload: options.maxPacketBytes });
      const ws = wss;
      server.on('upgrade', (req, socket, head) => {
        if (new URL(req.url ?? '/', 'http://x').pathname !== path) return socket.destroy();
        const tlsSocket = socket as TLSSocket;
        if (wsOptions.requireClientCertificate && !tlsSocket.authorized) {
          log.info({ remote: tlsSocket.remoteAddress, code: certificateCode(tlsSocket) }, 'MQTT over WebSocket refused: no valid client certificate');
          tlsSocket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
          return;
        }
        ws.handleUpgrade(req, socket, head, (conn) => handle(createWebSocketStream(conn)));
      });
    },

    outlet: {
      publish(event, payload, qos) {
        const packet = { cmd: 'publish' as const, topic: event.name, payload, qos, retain: false, dup: false };
        if (shared) carry(packet, event);
        aedes.publish(packet, noop);
      },
    },

    disconnectDevice(deviceId) {
      const client = deviceClient(deviceId);
      if (client) client.close();
      // and wherever else it is connected
      if (shared) aedes.publish({ cmd: 'publish', topic: `$SYS/${aedes.id}/${DISCONNECT_DEVICE}`, payload: Buffer.from(deviceId), qos: 0, retain: false, dup: false }, noop);
    },

    isDeviceConnected: (deviceId) => deviceClient(deviceId) !== undefined || (presence?.elsewhere(deviceId) ?? false),

    deviceSubscriptions() {
      const out = new Map<string, string[]>();
      for (const client of Object.values(clients)) {
        const who = client && access.identityOf(client);
        if (who?.kind !== 'device') continue;
        const subs = (client as unknown as { subscriptions: Record<string, unknown> }).subscriptions;
        out.set(who.id, Object.keys(subs));
      }
      return out;
    },

    async close() {
      bus.off('token:revoked', onTokenRevoked);
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await presence?.close();
      await shared?.close();
      for (const s of sockets) s.destroy();
      wss?.close();
      await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    },
  };
}
