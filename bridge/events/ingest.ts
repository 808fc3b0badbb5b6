// Ingest: the one way every event comes in, whatever its origin: a device's publish or a
// service client's (through the broker), a publish through the API, or an event the cloud
// makes (hook-sent, hook-response, hook-error, state changes). Events are made here and only
// here (`eventFrom`, `cloud`), each checked against the rules of who publishes it. `take`
// then carries it the same way for everyone: accepted by the webhooks (stored durably with
// the deliveries it triggers), onto the bus, and out to MQTT subscribers, unless the broker
// forwards it itself (a publish it received).
//
// Ingest sits between the broker and the webhooks, which never reach each other: its two
// downstream ports (acceptance, outlet) are connected once, where the bridge starts.

import { NAME_RULE, PRIVATE_RULE, RESERVED_RULE, isReservedName, isValidName, privateOwner, publishNameError } from '../../firmware-sdk/rules.ts';
import type { Failure } from '../codes.ts';
import type { EventCode } from '../errors.ts';
import type { EventBus } from './bus.ts';
import { CLOUD_COREID, decodePayload, isDataError, makeEvent, type HookwireEvent, type Publisher } from './model.ts';

/** Why an event is refused at ingress. */
export type Refused = Failure<EventCode>;

/** Which names a publisher may use (DESIGN.md, The event model). */
export type NameRules =
  /** A device: valid, not reserved, not in another device's private space. */
  | 'device'
  /** A service client, the cloud: any valid name. */
  | 'cloud'
  /** The API: valid and not reserved (a device's private space is open, to reach that device). */
  | 'api';

const MESSAGES = {
  EVENT_NAME_INVALID: `event name must be ${NAME_RULE}`,
  EVENT_NAME_RESERVED: RESERVED_RULE,
  EVENT_PRIVATE_SPACE: PRIVATE_RULE,
};

/** An event from a publish, checked against `rules`; a refusal with its code when it breaks one. */
export function eventFrom(name: string, payload: Buffer, from: Publisher, rules: NameRules): HookwireEvent | Refused {
  const nameError = (rules === 'device' ? publishNameError(name, from.coreid)
    : !isValidName(name) ? 'EVENT_NAME_INVALID'
    : rules === 'api' && isReservedName(name) ? 'EVENT_NAME_RESERVED' : '') as keyof typeof MESSAGES | '';
  if (nameError) return { code: nameError, message: MESSAGES[nameError] };
  const data = decodePayload(payload);
  if (isDataError(data)) return data;
  return makeEvent(name, data, from);
}

export function isRefused(r: HookwireEvent | Refused): r is Refused {
  return !('id' in r);
}

/** `hook-sent`, `hook-response`, `hook-error` (at the start or after a device ID): never trigger anything. */
export function isHookEvent(name: string): boolean {
  const rest = privateOwner(name) ? name.slice(25) : name;
  return rest.startsWith('hook-sent') || rest.startsWith('hook-response') || rest.startsWith('hook-error');
}

/** Where accepted events are stored with the deliveries they trigger (the webhooks). */
export interface Acceptance {
  /** A promise while the event and its deliveries are being stored; undefined when it triggers nothing. */
  accept(event: HookwireEvent): Promise<void> | undefined;
}

/** Where events go out to MQTT subscribers (the broker). */
export interface Outlet {
  /** The event's name as the topic, `payload` as sent. */
  publish(event: HookwireEvent, payload: Buffer, qos: 0 | 1): void;
}

/**
 * What an event carries through a broker shared with other bridges, besides its name (the
 * topic) and its data (the payload): its ID, when and by whom it was published, so a stream
 * on another bridge shows the same event, not one made again.
 */
export function carriedOf(event: HookwireEvent): string {
  return JSON.stringify([event.id, event.published_at, event.coreid, event.product_id, event.fw_version]);
}

/**
 * The event another bridge accepted, from its topic, payload and what it carried
 * (`carriedOf`); undefined when that is not one of ours. Its data is decoded as it was there.
 */
export function eventCarried(name: string, payload: Buffer, carried: string): HookwireEvent | undefined {
  let parts: unknown;
  try {
    parts = JSON.parse(carried);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parts) || parts.length !== 5) return undefined;
  const [id, publishedAt, coreid, productId, fwVersion] = parts as unknown[];
  const orNull = (v: unknown) => (typeof v === 'number' ? v : null);
  if (typeof id !== 'string' || typeof publishedAt !== 'string' || typeof coreid !== 'string') return undefined;
  // As `cloud` does, data over the limits (only the cloud sends such) is shown as bytes.
  const decoded = decodePayload(payload);
  const data = isDataError(decoded) ? { data: payload.toString('base64'), type: 'binary' as const } : decoded;
  const event: HookwireEvent = {
    id, name, data: data.data, type: data.type, published_at: publishedAt, coreid, product_id: orNull(productId), fw_version: orNull(fwVersion),
  };
  if (data.value !== undefined) event.value = data.value;
  return event;
}

export interface TakeOptions {
  /** Wait for durable acceptance before the bus and the outlet (a QoS 1 publish, the API). */
  durable: boolean;
  /** Publish to MQTT subscribers, with these bytes at this QoS; absent when the broker forwards it itself. */
  forward?: { payload: Buffer; qos: 0 | 1 };
}

export interface Ingest {
  /** Connect the downstream ports, once, where the bridge starts. */
  connect(ports: { acceptance: Acceptance; outlet: Outlet }): void;
  /**
   * The one way in. The event is accepted; then (once durable, when asked) it goes onto the
   * bus and out to subscribers. Resolves when that is done; rejects when it could not be
   * stored (nothing was published then).
   */
  take(event: HookwireEvent, options: TakeOptions): Promise<void>;
  /**
   * An event the cloud makes (a webhook's response, a state change), published at once.
   * `hook-*` events trigger nothing, so they skip acceptance.
   */
  cloud(name: string, payload: Buffer, qos: 0 | 1): HookwireEvent;
}

export interface IngestDeps {
  bus: EventBus;
}

const CLOUD: Publisher = { coreid: CLOUD_COREID, productId: null, firmwareVersion: null };
const DONE = Promise.resolve();

export function createIngest({ bus }: IngestDeps): Ingest {
  let acceptance: Acceptance | undefined;
  let outlet: Outlet | undefined;

  function deliver(event: HookwireEvent, forward: TakeOptions['forward']): void {
    bus.emit('event', event);
    if (forward) outlet!.publish(event, forward.payload, forward.qos);
  }

  function take(event: HookwireEvent, options: TakeOptions): Promise<void> {
    const stored = acceptance!.accept(event);
    if (stored && options.durable) return stored.then(() => deliver(event, options.forward));
    // Not waited for: a store failure is logged by the inbox and the delivery is lost, as a
    // QoS 0 publish may be.
    stored?.catch(() => {});
    deliver(event, options.forward);
    return DONE;
  }

  return {
    connect(ports) {
      if (acceptance) throw new Error('ingest is connected already');
      ({ acceptance, outlet } = ports);
    },
    take,
    cloud(name, payload, qos) {
      // The cloud's own payloads are within limits; should one not be, it still goes out as bytes.
      const data = decodePayload(payload);
      const event = makeEvent(name, isDataError(data) ? { data: payload.toString('base64'), type: 'binary' } : data, CLOUD);
      if (isHookEvent(name)) deliver(event, { payload, qos });
      else void take(event, { durable: false, forward: { payload, qos } });
      return event;
    },
  };
}
