// Inbox: accepting an event durably. The event and its deliveries (one per integration it
// triggers) are written in one transaction per turn of the event loop (group commit), so a
// QoS 1 PUBACK can wait for them without costing a write per event. Deliveries whose host
// lane has room start at once; the others wait in the store for the scheduler.

import type { HookwireEvent } from '../events/index.ts';
import type { Logger } from '../log.ts';
import type { NewDelivery, Store, StoredEvent } from '../store/index.ts';

export interface Target {
  integrationId: string;
  host: string;
}

export interface InboxDeps {
  store: Store;
  logger: Logger;
  /** Promise a lane slot; false when the host's lane is full. */
  reserve: (host: string) => boolean;
  /** Give up a promised slot (the write failed). */
  release: (host: string) => void;
  /** A committed delivery that holds a slot: run it. */
  start: (id: number, event: HookwireEvent, target: Target) => void;
  /** A committed delivery that waits for room. */
  wait: (host: string, at: number) => void;
}

interface Batch {
  items: { event: HookwireEvent; targets: Target[] }[];
  done: Promise<void>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export function stored(e: HookwireEvent): StoredEvent {
  return { id: e.id, name: e.name, data: e.data, type: e.type, published_at: e.published_at, coreid: e.coreid, product_id: e.product_id, fw_version: e.fw_version };
}

export function createInbox(deps: InboxDeps) {
  const log = deps.logger.child({ component: 'inbox' });
  let batch: Batch | null = null;
  let flushing: Promise<void> = Promise.resolve();

  function newBatch(): Batch {
    let resolve!: () => void;
    let reject!: (err: unknown) => void;
    const done = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    done.catch(() => {}); // a QoS 0 publish does not wait; the error is logged once below
    return { items: [], done, resolve, reject };
  }

  async function flush(b: Batch): Promise<void> {
    const now = Date.now();
    const rows = b.items.map(({ event, targets }) => ({
      event: stored(event),
      deliveries: targets.map((t): NewDelivery => ({ integrationId: t.integrationId, host: t.host, status: deps.reserve(t.host) ? 'running' : 'pending', nextAt: now })),
    }));
    let ids: number[][];
    try {
      ids = await deps.store.deliveries.accept(rows);
    } catch (err) {
      for (const r of rows) for (const d of r.deliveries) if (d.status === 'running') deps.release(d.host);
      log.error({ err, events: rows.length }, 'could not store accepted events');
      b.reject(err);
      return;
    }
    b.resolve(); // durable now: the PUBACKs may go
    b.items.forEach(({ event, targets }, i) => targets.forEach((t, k) => {
      if (rows[i]!.deliveries[k]!.status === 'running') deps.start(ids[i]![k]!, event, t);
      else deps.wait(t.host, now);
    }));
  }

  return {
    /** Store `event` and its deliveries; resolves once they are durable. */
    add(event: HookwireEvent, targets: Target[]): Promise<void> {
      if (!batch) {
        const b = (batch = newBatch());
        setImmediate(() => {
          batch = null;
          flushing = flushing.then(() => flush(b));
        });
      }
      batch.items.push({ event, targets });
      return batch.done;
    },
    /** Resolves once everything added so far is stored. */
    async settled(): Promise<void> {
      while (batch) await batch.done.catch(() => {});
      await flushing;
    },
  };
}

export type Inbox = ReturnType<typeof createInbox>;
