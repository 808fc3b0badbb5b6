// Scheduler: moves pending deliveries from the store into their host's lane once they are
// due (a retry's time has come) and the lane has room (it was full when they were accepted).
// It remembers, per host, when the earliest pending delivery is due, and sleeps until then.
//
// On a store several bridges share (PostgreSQL), it also reads again, every few seconds, what
// is pending for every host: deliveries another bridge accepted or scheduled, and those it
// held when it crashed (its claims count as due when their lease ends), which nothing on this
// bridge announces. On the SQLite store only this bridge writes, so it never needs to.

import type { Logger } from '../log.ts';
import type { DeliveryRecord, Store, StoredEvent } from '../store/index.ts';

export interface SchedulerDeps {
  store: Store;
  logger: Logger;
  /**
   * How often to read every host's pending work from the store, ms; 0: never (only this
   * bridge writes to it). Default SHARED_REFRESH_MS on a shared store (PostgreSQL), else 0.
   */
  refreshMs?: number;
}

/** The lanes the scheduler feeds (given once they exist: they call the scheduler too). */
export interface SchedulerFeed {
  /** How many more jobs `host`'s lane takes now. */
  room: (host: string) => number;
  /** Hand claimed deliveries (already marked running) to their lane. */
  run: (delivery: DeliveryRecord, event: StoredEvent) => void;
}

/** Shortest sleep between passes, ms: many retries falling due together are taken in one pass. */
const MIN_SLEEP_MS = 5;

/**
 * How often a bridge on a shared store looks for pending work it was not told of, ms: a
 * crashed bridge's deliveries start again within this of their lease's end. One grouped
 * query on the pending-deliveries index per bridge.
 */
export const SHARED_REFRESH_MS = 2_000;

/** Does another bridge write deliveries to this store? */
const sharedStore = (store: Store) => store.backend === 'postgres';

export function createScheduler({ store, logger, refreshMs = sharedStore(store) ? SHARED_REFRESH_MS : 0 }: SchedulerDeps) {
  const log = logger.child({ component: 'scheduler' });
  let lanes: SchedulerFeed | undefined;
  /** Host → when its earliest pending delivery is due (ms). */
  const due = new Map<string, number>();
  let timer: NodeJS.Timeout | null = null;
  let timerAt = Infinity;
  let refresher: NodeJS.Timeout | undefined;
  let refreshing = false;
  let passing = false;
  let again = false;
  let stopped = false;

  function arm(): void {
    if (stopped) return;
    let earliest = Infinity;
    for (const at of due.values()) earliest = Math.min(earliest, at);
    if (earliest === Infinity || earliest >= timerAt) return;
    if (timer) clearTimeout(timer);
    timerAt = earliest;
    timer = setTimeout(() => {
      timer = null;
      timerAt = Infinity;
      void pass();
    }, Math.max(MIN_SLEEP_MS, earliest - Date.now()));
  }

  /** Claim what is due for every host with room. One pass at a time. */
  async function pass(): Promise<void> {
    if (passing) {
      again = true;
      return;
    }
    passing = true;
    try {
      const now = Date.now();
      for (const [host, at] of [...due]) {
        if (at > now) continue;
        const space = lanes!.room(host);
        if (space === 0) continue; // the lane calls back when it has room
        const claimed = await store.deliveries.claimDue(host, now, space);
        for (const { delivery, event } of claimed) lanes!.run(delivery, event);
        const next = claimed.length === space ? now : await store.deliveries.nextDue(host);
        if (next === undefined) due.delete(host);
        else due.set(host, next);
      }
    } catch (err) {
      log.error({ err }, 'scheduling pass failed');
    } finally {
      passing = false;
    }
    if (again) {
      again = false;
      void pass();
    }
    arm();
  }

  /** Note what is pending for every host, as the store has it (a host is due at the earlier of what it says and what was known). */
  function merge(pending: Map<string, number>): void {
    for (const [host, at] of pending) {
      const current = due.get(host);
      if (current === undefined || at < current) due.set(host, at);
    }
    arm();
  }

  /** Read what other bridges left pending (shared store only); one read at a time. */
  async function refresh(): Promise<void> {
    if (refreshing || stopped) return;
    refreshing = true;
    try {
      const pending = await store.deliveries.pendingHosts();
      if (!stopped) merge(pending);
    } catch (err) {
      if (!stopped) log.warn({ err }, 'could not read pending deliveries from the store: retrying');
    } finally {
      refreshing = false;
    }
  }

  return {
    /** The lanes to feed; before `start`. */
    feed(target: SchedulerFeed): void {
      lanes = target;
    },
    /** Pick up what a previous run left: running deliveries become pending, due now. */
    async start(): Promise<number> {
      const requeued = await store.deliveries.requeueRunning(Date.now());
      merge(await store.deliveries.pendingHosts());
      if (refreshMs > 0 && !stopped) {
        refresher = setInterval(() => void refresh(), refreshMs);
        refresher.unref();
      }
      return requeued;
    },
    /** A delivery to `host` became pending, due at `at`. */
    pending(host: string, at: number): void {
      const current = due.get(host);
      if (current === undefined || at < current) due.set(host, at);
      arm();
    },
    /** `host`'s lane has room: take what is due for it now. */
    room(host: string): void {
      const at = due.get(host);
      if (at !== undefined && at <= Date.now()) void pass();
    },
    /** Hosts with pending work (for metrics). */
    pendingHosts: () => due.size,
    stop(): void {
      stopped = true;
      if (timer) clearTimeout(timer);
      clearInterval(refresher);
    },
  };
}

export type Scheduler = ReturnType<typeof createScheduler>;
