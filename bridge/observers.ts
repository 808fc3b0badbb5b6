// Observers (STYLE.md 15): the metrics, the dashboard's collector and the doctor's tracker
// watch the bridge through the same hooks, attached in one place where the bridge starts
// (startBridge): every attempt's record from the webhook engine, and the bus's accepted
// events, broker refusals and API publishes. An observer only reads; it must not throw or
// block (it runs on the hot path).

import type { BrokerRefusal, BusEvents, EventBus, HookwireEvent, Inbound } from './events/index.ts';
import type { AttemptRecord, Webhooks } from './webhooks/index.ts';

export interface Observer {
  /** Every delivery attempt, once it has its outcome. */
  attempt?(record: AttemptRecord): void;
  /** Every accepted event, whatever its origin. */
  event?(event: HookwireEvent): void;
  /** A publish, subscription or connection the broker refused. */
  refused?(refusal: BrokerRefusal): void;
  /** A publish through the API, accepted or refused. */
  inbound?(inbound: Inbound): void;
  /** A device logged in. */
  online?(deviceId: string): void;
}

/** Attach observers to the engine's and the bus's hooks; returns what detaches them all. */
export function observe(observers: Observer[], sources: { bus: EventBus; webhooks: Pick<Webhooks, 'addHook'> }): () => void {
  const { bus, webhooks } = sources;
  const detach: (() => void)[] = [];
  function listen<K extends 'event' | 'refused' | 'inbound' | 'device:online'>(name: K, listener: ((...args: BusEvents[K]) => void) | undefined): void {
    if (!listener) return;
    bus.on(name, listener as never);
    detach.push(() => bus.off(name, listener as never));
  }
  for (const o of observers) {
    if (o.attempt) detach.push(webhooks.addHook('attempt', o.attempt.bind(o)));
    listen('event', o.event?.bind(o));
    listen('refused', o.refused?.bind(o));
    listen('inbound', o.inbound?.bind(o));
    listen('device:online', o.online?.bind(o));
  }
  return () => {
    for (const d of detach) d();
  };
}
