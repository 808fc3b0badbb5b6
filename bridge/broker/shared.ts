// The broker shared by several bridges (DESIGN.md, Scale-out), clustered the way aedes documents
// it: messages go between bridges through Redis pub/sub (mqemitter-redis), and aedes' session
// state is kept in Redis (aedes-persistence-redis). Without Redis the broker keeps both in memory.
//
// What Redis holds for the broker:
// - pub/sub channels `hookwire/mqtt/<topic>`, one per MQTT topic published, and one pattern
//   per topic filter subscribed on some bridge. Every publish reaches subscribers through it,
//   on the bridge where it was made too, so a device on bridge A gets what bridge B publishes
//   (a hook-response, an API publish, a service client's). aedes' own `$SYS/<bridge>/...`
//   messages go the same way, among them `new/clients`: a client connecting on one bridge
//   closes the connection with its client ID on the others (one connection per client ID
//   across the bridges, as MQTT has it on one broker [MQTT-3.1.4-2]).
// - keys under `hookwire:`: aedes' session state. Every session is clean (access.ts) and
//   nothing is retained, so no subscription is stored and nothing queues for an absent
//   client; what remains is a client's will while it is connected and QoS 2 publishes in
//   flight (`incoming:<client>:<messageId>`, with a set per client to clear them). Should
//   persistent sessions be served one day, their offline queue is bounded here (PACKET_TTL_S,
//   MAX_SESSION_DELIVERY).

import { createRequire } from 'node:module';
import type { Redis } from 'ioredis';
import mqemitterRedis from 'mqemitter-redis';
import type { MQEmitter } from 'mqemitter';
import { closeRedis, openRedis } from '../cluster/index.ts';
import type { Logger } from '../log.ts';

/**
 * Prefix of the broker's pub/sub channels, so its patterns never match anyone else's channels.
 * A whole topic level: a subscription to `#` is then `hookwire/mqtt/#`, still a wildcard level.
 */
export const CHANNEL_PREFIX = 'hookwire/mqtt/';
/** Prefix of the broker's keys. */
export const KEY_PREFIX = 'hookwire:';
/** A message queued for an offline persistent session expires after this many seconds. Default 1 hour. */
const PACKET_TTL_S = 3_600;
/** At most this many queued messages are delivered when a persistent session comes back. */
const MAX_SESSION_DELIVERY = 1_000;

/** aedes' persistence interface, the part used here. */
interface Persistence {
  incomingStorePacket(client: { id: string }, packet: { messageId?: number }): Promise<void>;
  incomingDelPacket(client: { id: string }, packet: { messageId?: number }): Promise<void>;
  cleanIncoming?(client: { id: string }): Promise<void>;
  destroy(): Promise<void>;
}

type PersistenceFactory = (options: { conn: Redis; packetTTL: () => number; maxSessionDelivery: number }) => Persistence;
type PrefixedEmitter = new (prefix: string, options: { subConn: Redis; pubConn: Redis; concurrency: number; matchEmptyLevels: boolean }) => MQEmitter & { state: NodeJS.EventEmitter };

// Neither is declared in the packages' types: the prefixed emitter, and the persistence (its
// methods answer promises when given no callback, and streams where aedes pipes them).
const require = createRequire(import.meta.url);
const redisPersistence = require('aedes-persistence-redis') as PersistenceFactory;
const MQEmitterRedisPrefix = (mqemitterRedis as unknown as { MQEmitterRedisPrefix: PrefixedEmitter }).MQEmitterRedisPrefix;

export interface SharedBroker {
  /** aedes' `mq`: Redis pub/sub between the bridges. */
  mq: MQEmitter;
  /** aedes' `persistence`: Redis. */
  persistence: Persistence;
  /** Once aedes has closed (which closes `mq`): the persistence's connection. */
  close(): Promise<void>;
}

/** The QoS 2 publishes in flight from a client: the persistence keys them by message ID only. */
const incomingSet = (clientId: string) => `incoming-ids:${encodeURIComponent(clientId)}`;
const incomingKey = (clientId: string, messageId: string | number) => `incoming:${encodeURIComponent(clientId)}:${messageId}`;

/**
 * aedes clears a clean session's QoS 2 state on CONNECT and on close through `cleanIncoming`
 * [MQTT-3.1.2-6], when the persistence has it; aedes-persistence-redis does not yet. Without
 * it a reconnecting client's first QoS 2 publish reusing a message ID would be acknowledged
 * and dropped. The IDs in flight are kept in a set per client so clearing is one lookup.
 */
function withCleanIncoming(persistence: Persistence, db: Redis): Persistence {
  const store = persistence.incomingStorePacket.bind(persistence);
  const del = persistence.incomingDelPacket.bind(persistence);
  persistence.incomingStorePacket = async (client, packet) => {
    await store(client, packet);
    await db.sadd(incomingSet(client.id), String(packet.messageId));
  };
  persistence.incomingDelPacket = async (client, packet) => {
    await del(client, packet);
    await db.srem(incomingSet(client.id), String(packet.messageId));
  };
  persistence.cleanIncoming = async (client) => {
    const ids = await db.smembers(incomingSet(client.id));
    if (ids.length > 0) await db.del(...ids.map((id) => incomingKey(client.id, id)), incomingSet(client.id));
  };
  return persistence;
}

/**
 * The emitter quits its connections at close without listening for the answer. When the
 * connection ends before QUIT is answered (a publish aedes makes while its clients close is
 * written after QUIT, and Redis has hung up), ioredis rejects the QUIT with nobody listening,
 * and an unhandled rejection ends the process. The connection is closing either way.
 */
function quietQuit(conn: Redis): void {
  const quit = conn.quit.bind(conn);
  conn.quit = ((...args: Parameters<Redis['quit']>) => {
    const answered = quit(...args);
    answered.catch(() => {});
    return answered;
  }) as Redis['quit'];
}

/**
 * After an outage, what was published meanwhile goes out only once this bridge's own
 * subscriptions are back: the two connections come back in either order, and a message
 * published before the subscribing connection has subscribed again reaches nobody here (a
 * hook-response for a device on this very bridge). ioredis says 'ready' just before it sends
 * the subscriptions again; a PING sent after them is answered once they are in place. Until
 * then, messages wait here in order, as they would in the connection's queue.
 */
function publishOnceSubscribed(mq: MQEmitter, subConn: Redis): void {
  const emit = mq.emit.bind(mq);
  let waiting: Parameters<MQEmitter['emit']>[] | undefined;
  mq.emit = (...args: Parameters<MQEmitter['emit']>) => {
    if (waiting || subConn.status !== 'ready') (waiting ??= []).push(args);
    else emit(...args);
  };
  subConn.on('ready', () => {
    setImmediate(() => {
      subConn.ping().then(() => {
        const held = waiting ?? [];
        waiting = undefined;
        for (const args of held) emit(...args);
      }, () => {}); // down again: the next 'ready' sends them
    });
  });
}

/** Connect to Redis: the emitter's two connections (publish, subscribe) and the persistence's. */
export async function openSharedBroker(url: string, logger: Logger): Promise<SharedBroker> {
  const opened: Redis[] = [];
  try {
    // What is published while Redis is away waits for it however long (a device's
    // hook-response must not be dropped after ioredis' 20 attempts, about 10 s): memory grows
    // with the outage, as a broker's queue does.
    opened.push(await openRedis(url, 'mq-pub', logger, { enableAutoPipelining: true, maxRetriesPerRequest: null }));
    opened.push(await openRedis(url, 'mq-sub', logger));
    // ioredis puts KEY_PREFIX before every key of the persistence's commands.
    opened.push(await openRedis(url, 'sessions', logger, { keyPrefix: KEY_PREFIX, maxRetriesPerRequest: null }));
  } catch (err) {
    await Promise.all(opened.map(closeRedis));
    throw err;
  }
  const [pubConn, subConn, sessions] = opened as [Redis, Redis, Redis];
  for (const conn of [pubConn, subConn]) quietQuit(conn);
  // No global in-flight limit, as in memory (broker/index.ts). Topics are channel names as
  // they are, under CHANNEL_PREFIX; `+` and `#` become Redis patterns.
  const mq = new MQEmitterRedisPrefix(CHANNEL_PREFIX, { pubConn, subConn, concurrency: 0, matchEmptyLevels: true });
  // The connections log their outages (cluster/redis.ts); the emitter repeats them here, and an
  // 'error' nobody listens to would end the process.
  mq.state.on('error', () => {});
  publishOnceSubscribed(mq, subConn);
  const persistence = withCleanIncoming(redisPersistence({ conn: sessions, packetTTL: () => PACKET_TTL_S, maxSessionDelivery: MAX_SESSION_DELIVERY }), sessions);
  return {
    mq,
    persistence,
    async close() {
      // destroy() unsubscribes from the emitter aedes has already closed: that part may fail.
      await persistence.destroy().catch(() => {});
      await closeRedis(sessions);
    },
  };
}
