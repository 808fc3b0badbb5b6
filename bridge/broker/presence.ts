// Which devices are connected, across the bridges sharing a Redis (HOOKWIRE_REDIS): a device
// connected to bridge B shows online through bridge A's API, its doctor and its console, and
// 'device:online' / 'device:offline' go on every bridge's bus when the device comes online
// anywhere or goes offline everywhere.
//
// In Redis, each bridge owns one hash, `hookwire:presence:<bridge>`: its connected devices
// (device ID → '1') and a sequence number (`#seq`, never a device ID) counting its changes.
// A bridge writes only its own hash, so a device taken over from bridge A by bridge B ends up
// online whatever order A's disconnect and B's connect reach Redis: B's hash has it, whether
// or not A's still does. The hash expires PRESENCE_TTL_MS after the bridge's last heartbeat,
// so a bridge that stops without a word (killed, its host gone) stops showing its devices
// online within that time; one that stops cleanly deletes its hash and says so at once.
// `hookwire:bridges` lists the bridges' IDs, to find their hashes without a key scan.
//
// Every bridge keeps a copy of the others' hashes in memory, so the questions the API asks
// (is it online, how many are) are answered without a round trip: each change is written and
// announced on `hookwire#presence` in one transaction, with its sequence number; a bridge that
// misses one (a gap, a Redis outage) reads that bridge's hash again, and every heartbeat
// compares each bridge's sequence number with its copy's.

import type { Redis } from 'ioredis';
import { closeRedis, openRedis } from '../cluster/index.ts';
import type { EventBus } from '../events/index.ts';
import type { Logger } from '../log.ts';

/** A bridge's devices show online this long after its last heartbeat, ms. */
export const PRESENCE_TTL_MS = 15_000;
/** Each bridge renews its hash this often, and checks the others', ms. */
export const HEARTBEAT_MS = 5_000;
/** The Redis channel changes are announced on (a `#`, so no MQTT topic maps to it). */
export const PRESENCE_CHANNEL = 'hookwire#presence';
/** The set of bridge IDs. */
export const BRIDGES_KEY = 'hookwire:bridges';
/** Each bridge's hash of connected devices. */
export const presenceKey = (bridgeId: string) => `hookwire:presence:${bridgeId}`;
/** The hash field holding the bridge's sequence number. */
const SEQ = '#seq';

/** A change as announced (JSON). */
interface Change {
  from: string;
  seq: number;
  /** Devices that connected to `from`. */
  on?: string[];
  /** Devices whose last connection to `from` closed. */
  off?: string[];
  /** `from` stopped: none of its devices is connected any more. */
  gone?: true;
}

/** What this bridge knows of another's devices. */
interface Copy {
  seq: number;
  devices: Set<string>;
  /** A change was missed: the copy waits to be replaced by the bridge's hash. */
  stale: boolean;
}

export interface Presence {
  /** A device's connection to this bridge opened. */
  connected(deviceId: string): void;
  /** A device's connection to this bridge closed. */
  disconnected(deviceId: string): void;
  /**
   * A device connected to `bridge`, as aedes announces it to every bridge (`$SYS/<bridge>/new/clients`),
   * before that bridge's own word: taken as connected there until that bridge's hash says otherwise.
   * So a device taken over by another bridge is never shown offline meanwhile.
   */
  announced(bridge: string, deviceId: string): void;
  /** Connected to another bridge. */
  elsewhere(deviceId: string): boolean;
  /** Devices connected to some bridge, each once. */
  count(): number;
  /** Devices connected to this bridge. */
  countHere(): number;
  /** Read every bridge's hash again now (a heartbeat does it too). */
  sync(): Promise<void>;
  /** Delete this bridge's hash and tell the others (a clean stop). */
  close(): Promise<void>;
}

export interface PresenceOptions {
  url: string;
  bridgeId: string;
  bus: EventBus;
  logger: Logger;
}

function parseChange(text: string): Change | undefined {
  try {
    const c = JSON.parse(text) as Partial<Change> | null;
    if (!c || typeof c.from !== 'string' || typeof c.seq !== 'number') return undefined;
    const ids = (v: unknown) => (Array.isArray(v) && v.every((x) => typeof x === 'string') ? v as string[] : undefined);
    return { from: c.from, seq: c.seq, on: ids(c.on), off: ids(c.off), ...(c.gone === true && { gone: true as const }) };
  } catch {
    return undefined;
  }
}

/** Start sharing presence: this bridge's hash written, the others' read, changes followed. */
export async function startPresence({ url, bridgeId, bus, logger }: PresenceOptions): Promise<Presence> {
  const log = logger.child({ component: 'cluster' });
  const db: Redis = await openRedis(url, 'presence', logger);
  let sub: Redis;
  try {
    sub = await openRedis(url, 'presence-sub', logger);
  } catch (err) {
    await closeRedis(db);
    throw err;
  }
  const myKey = presenceKey(bridgeId);

  /** Connections per device on this bridge (a takeover here may close the old one after the new one opened). */
  const here = new Map<string, number>();
  /** The other bridges' devices. */
  const copies = new Map<string, Copy>();
  /** How many other bridges each device is connected to. */
  const there = new Map<string, number>();
  let seq = 0;
  /** Changes not yet written: device → connected. */
  let pending = new Map<string, boolean>();
  let flushing = false;
  /** A write failed (Redis unreachable): the next heartbeat writes the whole hash again. */
  let lost = false;
  let closed = false;

  // --- this bridge's hash ---------------------------------------------------------------

  /** Write this bridge's whole hash (at start, and when it expired or Redis lost it). */
  async function writeAll(): Promise<void> {
    seq++;
    const fields: Record<string, string> = { [SEQ]: String(seq) };
    for (const id of here.keys()) fields[id] = '1';
    await db.multi().del(myKey).hset(myKey, fields).pexpire(myKey, PRESENCE_TTL_MS).sadd(BRIDGES_KEY, bridgeId).exec();
  }

  /** Write the changes of this turn and announce them, in one transaction: the hash and the announcement never disagree. */
  function flush(): void {
    flushing = false;
    if (closed || pending.size === 0) return;
    const changes = pending;
    pending = new Map();
    const on: string[] = [];
    const off: string[] = [];
    for (const [id, connected] of changes) (connected ? on : off).push(id);
    seq++;
    const tx = db.multi();
    if (on.length) tx.hset(myKey, Object.fromEntries(on.map((id) => [id, '1'])));
    if (off.length) tx.hdel(myKey, ...off);
    tx.hset(myKey, SEQ, String(seq)).pexpire(myKey, PRESENCE_TTL_MS);
    const change: Change = { from: bridgeId, seq, ...(on.length && { on }), ...(off.length && { off }) };
    tx.publish(PRESENCE_CHANNEL, JSON.stringify(change));
    tx.exec().catch((err: Error) => {
      lost = true;
      log.warn({ err }, 'device presence not written: the next heartbeat writes it');
    });
  }

  function queue(id: string, connected: boolean): void {
    pending.set(id, connected);
    if (!flushing) {
      flushing = true;
      setImmediate(flush);
    }
  }

  // --- the other bridges' ------------------------------------------------------------------

  function add(id: string): void {
    const n = there.get(id) ?? 0;
    there.set(id, n + 1);
    if (n === 0 && !here.has(id)) bus.emit('device:online', id);
  }

  function remove(id: string): void {
    const n = there.get(id) ?? 0;
    if (n <= 1) {
      there.delete(id);
      if (n === 1 && !here.has(id)) bus.emit('device:offline', id);
    } else {
      there.set(id, n - 1);
    }
  }

  function drop(bridge: string): void {
    const copy = copies.get(bridge);
    if (!copy) return;
    copies.delete(bridge);
    for (const id of copy.devices) remove(id);
    if (copy.devices.size) log.info({ bridge, devices: copy.devices.size }, 'bridge gone: its devices are offline');
  }

  /**
   * Replace the copy of a bridge's devices with its hash, unless the copy has seen later
   * changes (a stale copy then waits for the next heartbeat to read the hash again).
   */
  function replace(bridge: string, hash: Record<string, string>): void {
    const s = Number(hash[SEQ]);
    if (!Number.isFinite(s)) return drop(bridge);
    let copy = copies.get(bridge);
    if (copy && copy.seq > s) return;
    if (!copy) copies.set(bridge, (copy = { seq: s, devices: new Set(), stale: false }));
    copy.seq = s;
    copy.stale = false;
    const now = new Set(Object.keys(hash).filter((k) => k !== SEQ));
    for (const id of copy.devices) if (!now.has(id)) { copy.devices.delete(id); remove(id); }
    for (const id of now) if (!copy.devices.has(id)) { copy.devices.add(id); add(id); }
  }

  async function reread(bridge: string): Promise<void> {
    const hash = await db.hgetall(presenceKey(bridge));
    if (closed) return;
    if (Object.keys(hash).length === 0) drop(bridge);
    else replace(bridge, hash);
  }

  function apply(change: Change): void {
    if (change.from === bridgeId || closed) return;
    if (change.gone) return drop(change.from);
    let copy = copies.get(change.from);
    const known = copy !== undefined;
    if (!copy) copies.set(change.from, (copy = { seq: 0, devices: new Set(), stale: false }));
    if (change.seq <= copy.seq) return;
    const gap = !known || change.seq !== copy.seq + 1;
    copy.seq = change.seq;
    if (gap) copy.stale = true;
    for (const id of change.on ?? []) if (!copy.devices.has(id)) { copy.devices.add(id); add(id); }
    for (const id of change.off ?? []) if (copy.devices.delete(id)) remove(id);
    // Something was missed (or this is the first word from that bridge): read its whole hash.
    if (gap) reread(change.from).catch((err: Error) => log.warn({ err, bridge: change.from }, 'device presence of another bridge not read'));
  }

  function announced(bridge: string, id: string): void {
    if (bridge === bridgeId || closed) return;
    let copy = copies.get(bridge);
    if (!copy) copies.set(bridge, (copy = { seq: 0, devices: new Set(), stale: true }));
    if (copy.devices.has(id)) return;
    copy.devices.add(id);
    add(id);
    // Announcements and changes come on different channels: the next heartbeat checks it against the hash.
    copy.stale = true;
  }

  sub.on('message', (channel: string, text: string) => {
    if (channel !== PRESENCE_CHANNEL) return;
    const change = parseChange(text);
    if (change) apply(change);
  });

  /** Every bridge's hash compared with its copy; gone bridges dropped, changed ones read again. */
  async function sync(): Promise<void> {
    const ids = (await db.smembers(BRIDGES_KEY)).filter((id) => id !== bridgeId);
    const seqs = ids.length ? await db.pipeline(ids.map((id) => ['hget', presenceKey(id), SEQ])).exec() : [];
    if (closed) return;
    const listed = new Set(ids);
    for (const bridge of copies.keys()) if (!listed.has(bridge)) drop(bridge);
    const gone: string[] = [];
    const changed: string[] = [];
    ids.forEach((id, i) => {
      const [err, value] = seqs?.[i] ?? [null, null];
      if (err) return;
      if (value === null) {
        gone.push(id);
        drop(id);
      } else if (Number(value) > (copies.get(id)?.seq ?? -1) || copies.get(id)?.stale) {
        changed.push(id);
      }
    });
    // A bridge whose hash expired is gone; should it only have stalled, its heartbeat lists it again.
    if (gone.length) await db.srem(BRIDGES_KEY, ...gone);
    await Promise.all(changed.map(reread));
  }

  /** Renew this bridge's hash (written again when it expired, or Redis came back empty), then sync. */
  async function heartbeat(): Promise<void> {
    const replies = await db.multi().pexpire(myKey, PRESENCE_TTL_MS).sadd(BRIDGES_KEY, bridgeId).exec();
    if (closed) return;
    if (replies?.[0]?.[1] !== 1 || lost) {
      if (!lost) log.warn({ devices: here.size }, 'device presence of this bridge was lost (expired, or Redis restarted): written again');
      lost = false;
      await writeAll().catch((err: Error) => {
        lost = true;
        throw err;
      });
    }
    await sync();
  }

  let beating = false;
  const timer = setInterval(() => {
    if (beating) return;
    beating = true;
    heartbeat().catch((err: Error) => log.warn({ err }, 'device presence heartbeat failed: trying again')).finally(() => { beating = false; });
  }, HEARTBEAT_MS);
  timer.unref();

  try {
    await writeAll();
    // Subscribed before reading the others' hashes: no change falls between the two.
    await sub.subscribe(PRESENCE_CHANNEL);
    await sync();
  } catch (err) {
    clearInterval(timer);
    await Promise.all([closeRedis(sub), closeRedis(db)]);
    throw err;
  }

  return {
    connected(id) {
      const n = here.get(id) ?? 0;
      here.set(id, n + 1);
      if (n > 0) return;
      if (!there.has(id)) bus.emit('device:online', id);
      queue(id, true);
    },
    disconnected(id) {
      const n = here.get(id) ?? 0;
      if (n > 1) return void here.set(id, n - 1);
      if (n === 0) return;
      here.delete(id);
      if (!there.has(id)) bus.emit('device:offline', id);
      queue(id, false);
    },
    announced,
    elsewhere: (id) => there.has(id),
    count() {
      let n = there.size;
      for (const id of here.keys()) if (!there.has(id)) n++;
      return n;
    },
    countHere: () => here.size,
    sync,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      const gone: Change = { from: bridgeId, seq: seq + 1, gone: true };
      await db.multi().del(myKey).srem(BRIDGES_KEY, bridgeId).publish(PRESENCE_CHANNEL, JSON.stringify(gone)).exec()
        .catch((err: Error) => log.warn({ err }, 'device presence of this bridge not deleted: it expires by itself'));
      await Promise.all([closeRedis(sub), closeRedis(db)]);
    },
  };
}
