// Who may connect, publish, subscribe and receive what: the device identity and
// device-private space rules of DESIGN.md, enforced in aedes' hooks.
//
//   preConnect         MQTT 3.1.1 only; every session clean (nothing queues for an absent
//                      client, so no client can make the bridge hold messages without bound)
//   authenticate       client ID = username = device ID, password = device token;
//                      or any username with an API token as password (a service client);
//                      wrong tokens limited per address; takeovers logged
//   authorizePublish   a device publishes valid, non-reserved names outside other devices'
//                      spaces, data within limits; a service client needs an admin token;
//                      accepted publishes become Events, refused ones a notice (the
//                      connection stays)
//   authorizeSubscribe a device may not subscribe to `$` topics or another device's space
//   authorizeForward   a device never receives an event in another device's space,
//                      whatever it subscribed to (`#` included)

import type { AedesPublishPacket, AuthenticateError, Client, ConnectPacket, PublishPacket, Subscription } from 'aedes';
import type { Socket } from 'node:net';
import { ERROR_LEVEL, PRIVATE_RULE, isDeviceId, privateOwner } from '../../firmware-sdk/rules.ts';
import { CLOUD_COREID, eventFrom, isRefused, type EventBus, type HookwireEvent, type Ingest } from '../events/index.ts';
import type { Failure, FixedCode } from '../codes.ts';
import { hashSecret, sameHash } from '../ids.ts';
import type { Logger } from '../log.ts';
import type { LoginLimiter } from '../login-limit.ts';
import type { Store, TokenScope } from '../store/index.ts';

export type Identity =
  | { kind: 'device'; id: string; productId: number | null; firmwareVersion: number | null }
  | { kind: 'service'; tokenId: string; scope: TokenScope };

export interface AccessDeps {
  store: Store;
  bus: EventBus;
  logger: Logger;
  /** Where accepted publishes go in (events/ingest.ts). */
  ingest: Ingest;
  /** Wrong tokens, limited per remote address. */
  limiter: LoginLimiter;
  /** The connected client with this ID, if any (a new connection with it takes it over). */
  connected: (clientId: string) => Client | undefined;
  /**
   * Put what an accepted event carries (`carry`, broker/index.ts) on its packet, for the other
   * bridges sharing the broker. Default none: the packet goes as it came.
   */
  carry?: ((packet: PublishPacket, event: HookwireEvent) => void) | undefined;
}

/** CONNACK return codes [MQTT-3.2.2.3]. */
const UNACCEPTABLE_PROTOCOL = 1;
const IDENTIFIER_REJECTED = 2;
const BAD_USERNAME_OR_PASSWORD = 4;

/** Where refused publishes go: a `$` topic, which no wildcard matches [MQTT-4.7.2-1]. */
const DIVERTED_TOPIC = '$hookwire/refused';
const READ_ONLY_PUBLISH = 'a read-only API token may not publish; use a token with admin scope';
/** aedes' own topics: bridges sharing a broker tell each other of new clients there, among others. */
const SYS_PREFIX = '$SYS/';
const SYS_PUBLISH = '$SYS topics belong to the broker; no client may publish there';
const EMPTY = Buffer.alloc(0);

/** Client IDs are cut to this in logs: a client may send a 64 KB one. */
const LOGGED_CHARS = 64;
/** MQTT's protocol levels, for log lines. */
const PROTOCOLS: Record<number, string> = { 3: 'MQTT 3.1', 4: 'MQTT 3.1.1', 5: 'MQTT 5' };

/** At most this many refusals per client are logged per window; the rest are counted. */
const LOG_BURST = 20;
const LOG_WINDOW_MS = 10_000;

/** The client's remote address, when its connection is a socket (not a WebSocket stream). */
function remoteOf(client: Client): string | undefined {
  return (client.conn as Partial<Socket> | undefined)?.remoteAddress;
}

function authError(returnCode: number, message: string): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

export function createAccess({ store, bus, logger, ingest, limiter, connected, carry }: AccessDeps) {
  const identities = new WeakMap<Client, Identity>();
  const logBudget = new WeakMap<Client, { windowStart: number; logged: number; suppressed: number }>();
  const log = logger.child({ component: 'broker' });

  /** Log a refusal (within a per-client budget), put it on the bus. */
  function recordRefusal(client: Client, code: FixedCode, message: string, topic?: string): void {
    const now = Date.now();
    let budget = logBudget.get(client);
    if (!budget || now - budget.windowStart > LOG_WINDOW_MS) {
      if (budget?.suppressed) log.warn({ deviceId: client.id?.slice(0, LOGGED_CHARS), suppressed: budget.suppressed }, 'more refusals not logged');
      budget = { windowStart: now, logged: 0, suppressed: 0 };
      logBudget.set(client, budget);
    }
    if (budget.logged < LOG_BURST) {
      budget.logged++;
      log.warn({ deviceId: client.id?.slice(0, LOGGED_CHARS), remote: remoteOf(client), code, topic: topic?.slice(0, 100) }, message);
    } else {
      budget.suppressed++;
    }
    bus.emit('refused', { at: new Date(now).toISOString(), clientId: (client.id ?? '').slice(0, LOGGED_CHARS), code, message, topic: topic?.slice(0, 100), remote: remoteOf(client) });
  }

  /** Tell the device why, on `<deviceID>/hookwire/error`, written to it directly. */
  function notify(client: Client, refusal: Failure & { topic?: string; messageId?: number }, done: () => void): void {
    if (client.closed) return done();
    const payload = JSON.stringify({ code: refusal.code, message: refusal.message, event: refusal.topic, messageId: refusal.messageId });
    client.publish({ cmd: 'publish', topic: `${client.id}/${ERROR_LEVEL}`, payload, qos: 0, retain: false, dup: false }, () => done());
  }

  /**
   * Before anything else of a CONNECT: only MQTT 3.1.1 is served (aedes would take 3.1 and
   * refuse 5 without a word), and every session is made clean, whatever the client asked.
   */
  function preConnect(client: Client, packet: ConnectPacket, done: (err: Error | null, ok: boolean) => void): void {
    if (packet.protocolVersion !== 4) {
      const asked = PROTOCOLS[packet.protocolVersion ?? 0] ?? `protocol level ${packet.protocolVersion}`;
      const message = `only MQTT 3.1.1 is served; the client asked for ${asked}`;
      log.warn({ clientId: packet.clientId?.slice(0, LOGGED_CHARS), remote: remoteOf(client), code: 'PROTOCOL_UNSUPPORTED' }, message);
      bus.emit('refused', { at: new Date().toISOString(), clientId: (packet.clientId ?? '').slice(0, LOGGED_CHARS), code: 'PROTOCOL_UNSUPPORTED', message });
      return done(authError(UNACCEPTABLE_PROTOCOL, message), false);
    }
    packet.clean = true;
    done(null, true);
  }

  /** A client whose credentials were wrong: refused, and counted against its address. */
  function wrongCredentials(client: Client, message: string, done: (err: AuthenticateError | null, ok: boolean | null) => void): void {
    limiter.failed(remoteOf(client), 'mqtt');
    recordRefusal(client, 'AUTH_FAILED', message);
    done(authError(BAD_USERNAME_OR_PASSWORD, message), null);
  }

  /** A connection with the ID of one already connected takes it over: said in the log. */
  function takeover(client: Client, who: Identity): AuthenticateError | undefined {
    const previous = connected(client.id);
    if (!previous || previous === client) return undefined;
    const was = identities.get(previous);
    // A read-only token may not cut off another token's service client.
    if (who.kind === 'service' && who.scope === 'read' && was?.kind === 'service' && was.tokenId !== who.tokenId) {
      const message = 'that client ID is in use by another token\'s service client';
      recordRefusal(client, 'CLIENT_ID_IN_USE', message);
      return authError(IDENTIFIER_REJECTED, message);
    }
    log.warn({ clientId: client.id.slice(0, LOGGED_CHARS), remote: remoteOf(client), previousRemote: remoteOf(previous) }, 'session taken over: the client ID connected again; the previous connection is closed');
    return undefined;
  }

  function authenticate(client: Client, username: string | undefined, password: Buffer | undefined,
    done: (err: AuthenticateError | null, ok: boolean | null) => void): void {
    const refuse = (returnCode: number, code: 'AUTH_FAILED' | 'CLIENT_ID_MISMATCH' | 'LOGIN_LIMITED', message: string) => {
      recordRefusal(client, code, message);
      done(authError(returnCode, message), null);
    };
    const admit = (who: Identity) => {
      const refused = takeover(client, who);
      if (refused) return done(refused, null);
      identities.set(client, who);
      done(null, true);
    };
    if (limiter.blocked(remoteOf(client), 'mqtt')) return refuse(BAD_USERNAME_OR_PASSWORD, 'LOGIN_LIMITED', 'too many failed logins from this address; try again in a minute');
    if (!username || !password) return wrongCredentials(client, 'username and password (token) are required', done);
    const secret = password.toString('utf8');

    if (isDeviceId(username)) {
      if (client.id !== username) return refuse(IDENTIFIER_REJECTED, 'CLIENT_ID_MISMATCH', 'a device connects with client ID = username = its device ID');
      store.devices.get(username).then((device) => {
        if (!device || !sameHash(device.tokenHash, hashSecret(secret))) return wrongCredentials(client, 'unknown device or wrong token', done);
        admit({ kind: 'device', id: device.id, productId: device.productId, firmwareVersion: device.firmwareVersion });
      }, (err) => {
        log.error({ err }, 'device lookup failed');
        done(authError(3, 'store unavailable'), null); // 3 = server unavailable
      });
      return;
    }

    // A service client must not take a device's client ID (that would disconnect the device).
    if (isDeviceId(client.id)) return refuse(IDENTIFIER_REJECTED, 'CLIENT_ID_MISMATCH', 'a device ID may only be used by that device');
    store.tokens.findByHash(hashSecret(secret)).then((token) => {
      if (!token) return wrongCredentials(client, 'unknown or revoked API token', done);
      admit({ kind: 'service', tokenId: token.id, scope: token.scope });
    }, (err) => {
      log.error({ err }, 'token lookup failed');
      done(authError(3, 'store unavailable'), null);
    });
  }

  /**
   * Take an accepted publish in. A QoS 1 event is durable before this calls back (aedes
   * writes the PUBACK right after, before its `published` hook would run), so a PUBACK always
   * means "stored"; a write that fails closes the connection and the device sends it again.
   * aedes forwards the packet to subscribers itself.
   */
  function take(event: HookwireEvent, packet: PublishPacket, done: (err?: Error | null) => void): void {
    carry?.(packet, event);
    ingest.take(event, { durable: packet.qos > 0 }).then(() => done(null), (err: Error) => done(err));
  }

  function authorizePublish(client: Client | null, packet: PublishPacket, done: (err?: Error | null) => void): void {
    // The will of a client of a bridge that stopped, which another bridge sharing the broker
    // publishes: nobody can vouch for its sender now. Dropped, so it is not tried again.
    if (!client) return dropWill(packet, done);
    const who = identities.get(client);
    if (!who) return done(new Error('not authenticated'));

    packet.retain = false; // nothing is retained, from anyone (Particle has no such thing)
    if (who.kind === 'service') {
      if (who.scope !== 'admin') return refusePublish(client, packet, { code: 'PUBLISH_FORBIDDEN', message: READ_ONLY_PUBLISH }, done);
      // A forged `$SYS/<bridge>/new/clients` would close that client on every bridge.
      if (packet.topic.startsWith(SYS_PREFIX)) return refusePublish(client, packet, { code: 'EVENT_NAME_RESERVED', message: SYS_PUBLISH }, done);
      // Service clients may publish anything; a valid event name also makes a cloud event.
      if (!packet.topic.startsWith('$')) {
        const event = eventFrom(packet.topic, packet.payload as Buffer, { coreid: CLOUD_COREID, productId: null, firmwareVersion: null }, 'cloud');
        if (!isRefused(event)) return take(event, packet, done);
      }
      return done(null);
    }

    const event = eventFrom(packet.topic, packet.payload as Buffer, { coreid: who.id, productId: who.productId, firmwareVersion: who.firmwareVersion }, 'device');
    if (isRefused(event)) return refusePublish(client, packet, event, done);
    take(event, packet, done);
  }

  /**
   * Refuse one publish, keep the client connected. MQTT 3.1.1 has no negative PUBACK and aedes
   * closes the connection when authorizePublish fails [MQTT-3.3.5-2]. Instead: log it, tell the
   * client why, then let the packet through diverted to a topic nothing can receive; for QoS 1
   * that acknowledges it, so the client does not send it again and again.
   */
  function refusePublish(client: Client, packet: PublishPacket, refusal: Failure<FixedCode>, done: (err?: Error | null) => void): void {
    const topic = packet.topic;
    recordRefusal(client, refusal.code, refusal.message, topic);
    packet.topic = DIVERTED_TOPIC;
    packet.payload = EMPTY;
    notify(client, { ...refusal, topic, messageId: packet.qos > 0 ? packet.messageId : undefined }, () => done(null));
  }

  function dropWill(packet: PublishPacket, done: (err?: Error | null) => void): void {
    const clientId = (packet as PublishPacket & { clientId?: string }).clientId;
    log.info({ clientId: clientId?.slice(0, LOGGED_CHARS), topic: packet.topic.slice(0, 100) }, 'last will of a client of a stopped bridge dropped');
    packet.topic = DIVERTED_TOPIC;
    packet.payload = EMPTY;
    done(null);
  }

  function authorizeSubscribe(client: Client, sub: Subscription, done: (err: Error | null, sub?: Subscription | null) => void): void {
    const who = identities.get(client);
    if (!who) return done(new Error('not authenticated'));
    if (who.kind === 'service') return done(null, sub);
    const slash = sub.topic.indexOf('/');
    const first = slash < 0 ? sub.topic : sub.topic.slice(0, slash);
    const forbidden = sub.topic.startsWith('$') || (isDeviceId(first) && first !== who.id);
    if (!forbidden) return done(null, sub);
    const message = sub.topic.startsWith('$') ? 'devices may not subscribe to $ topics' : PRIVATE_RULE;
    recordRefusal(client, 'SUBSCRIBE_FORBIDDEN', message, sub.topic);
    // A null subscription is refused in the SUBACK (0x80) without closing the connection.
    notify(client, { code: 'SUBSCRIBE_FORBIDDEN', message, topic: sub.topic }, () => done(null, null));
  }

  function authorizeForward(client: Client, packet: AedesPublishPacket): AedesPublishPacket | null {
    const who = identities.get(client);
    if (!who || who.kind === 'service') return packet;
    const owner = privateOwner(packet.topic);
    return owner && owner !== who.id ? null : packet;
  }

  return {
    preConnect,
    authenticate,
    authorizePublish,
    authorizeSubscribe,
    authorizeForward,
    identityOf: (client: Client) => identities.get(client),
  };
}

export type Access = ReturnType<typeof createAccess>;
