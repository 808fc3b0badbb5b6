// Notices between bridges that share a Redis: what one bridge's bus says that every bridge must
// act on: an API token revoked or a console session ended (each bridge then closes the MQTT
// service connections and event streams they opened, as the bridge where it happened does),
// an integration changed (each bridge reads it again from the shared store), a target host
// put to sleep by the per-host throttle (each bridge skips it for the cooldown), an address
// that reached the login limit over the bridges (each bridge refuses it, bridge/cluster/logins.ts).
//
// One Redis pub/sub channel. A notice carries the sending bridge's ID, so a bridge never acts on
// its own notice twice; a notice received is put on the local bus without being sent again.
// The channel name has a `#`, which no MQTT PUBLISH topic may contain [MQTT-3.3.2-2], so no
// client can publish into it through the broker's emitter (which uses topics as channels).

import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { BusEvents, EventBus } from '../events/index.ts';
import type { Logger } from '../log.ts';
import { closeRedis, openRedis } from './redis.ts';

/** The Redis channel notices go on. */
export const NOTICE_CHANNEL = 'hookwire#notices';

/** The bus events that go to every bridge; each carries one ID. */
export const SHARED_KINDS = ['token:revoked', 'session:ended', 'integration:changed', 'host:asleep', 'login:blocked'] as const satisfies readonly (keyof BusEvents)[];
type SharedKind = (typeof SHARED_KINDS)[number];

/** What goes on the channel (JSON). */
export interface Notice {
  /** The bridge that sent it. */
  from: string;
  kind: SharedKind;
  /** The token ID, the session's ID hash, the integration ID, the host name or the remote address. */
  id: string;
}

export interface NoticesOptions {
  /** redis:// or rediss:// URL (HOOKWIRE_REDIS). */
  url: string;
  bus: EventBus;
  logger: Logger;
  /** This bridge's ID in notices; default a random one. */
  bridgeId?: string;
}

export interface Notices {
  /** This bridge's ID in the notices it sends. */
  bridgeId: string;
  close(): Promise<void>;
}

/** IDs are short (a token ID, a SHA-256 in hex, a host name, an IP address); anything longer is not a notice of ours. */
const MAX_ID_CHARS = 255;

/** A notice from the channel, or undefined when the message is not one. */
export function parseNotice(text: string): Notice | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const n = value as Partial<Notice> | null;
  if (!n || typeof n.from !== 'string' || typeof n.id !== 'string' || n.id.length === 0 || n.id.length > MAX_ID_CHARS) return undefined;
  return (SHARED_KINDS as readonly string[]).includes(n.kind as string) ? { from: n.from, kind: n.kind as SharedKind, id: n.id } : undefined;
}

/** Start relaying: local notices out to the other bridges, theirs onto the local bus. */
export async function startNotices({ url, bus, logger, bridgeId = randomUUID() }: NoticesOptions): Promise<Notices> {
  const log = logger.child({ component: 'cluster' });
  const pub: Redis = await openRedis(url, 'notices-pub', logger);
  let sub: Redis;
  try {
    sub = await openRedis(url, 'notices-sub', logger);
    await sub.subscribe(NOTICE_CHANNEL);
  } catch (err) {
    await closeRedis(pub);
    throw err;
  }

  sub.on('message', (channel: string, text: string) => {
    if (channel !== NOTICE_CHANNEL) return;
    const notice = parseNotice(text);
    if (!notice) return log.warn({ channel }, 'not a notice: ignored');
    if (notice.from === bridgeId) return;
    log.info({ kind: notice.kind, from: notice.from }, 'notice from another bridge');
    bus.emit(notice.kind, notice.id, notice.from);
  });

  const senders = SHARED_KINDS.map((kind) => {
    const send = (id: string, from?: string) => {
      if (from !== undefined) return; // another bridge's, received: not sent out again
      const notice: Notice = { from: bridgeId, kind, id };
      // A notice lost to a Redis outage is logged: the other bridges then keep what the token
      // or session opened there until it disconnects (a new login is checked in the store).
      pub.publish(NOTICE_CHANNEL, JSON.stringify(notice)).catch((err: Error) => log.error({ err, kind }, 'notice not sent to the other bridges'));
    };
    bus.on(kind, send);
    return { kind, send };
  });

  return {
    bridgeId,
    async close() {
      for (const { kind, send } of senders) bus.off(kind, send);
      await Promise.all([closeRedis(sub), closeRedis(pub)]);
    },
  };
}
