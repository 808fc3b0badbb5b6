// The in-process event bus: ingest emits accepted events, the broker its refusals and the
// events other bridges accepted, the API its inbound publishes; the event stream, the
// metrics, the dashboard and the doctor listen.

import { EventEmitter } from 'node:events';
import type { Code, FixedCode } from '../codes.ts';
import type { HookwireEvent } from './model.ts';

/** Something the broker refused, with the stable reason code the device was told. */
export interface BrokerRefusal {
  at: string;
  /** Device ID, or the client ID for clients that never authenticated. */
  clientId: string;
  code: Code;
  message: string;
  /** The event name or subscription filter refused, when there is one. */
  topic?: string;
  /** The client's address, when the connection has one (MQTT over WebSocket does not). */
  remote?: string | undefined;
}

/** An event published through the API: the inbound webhook. */
export interface Inbound {
  at: string;
  ok: boolean;
  /** The event name, when the request had a usable one. */
  name?: string;
  /** Why it was refused (a stable code), when it was. */
  code?: FixedCode;
  message?: string;
}

export interface BusEvents {
  /** An accepted event: a device publish, or one made by the cloud. */
  event: [HookwireEvent];
  /**
   * An event another bridge sharing the broker accepted (HOOKWIRE_REDIS), while this bridge
   * follows them (an event stream is open here). Streams show it; counters never count it.
   */
  'event:elsewhere': [HookwireEvent];
  /** A publish, subscription or connection the broker refused. */
  refused: [BrokerRefusal];
  /** A publish through the API (POST /v1/devices/events), accepted or refused. */
  inbound: [Inbound];
  'device:online': [deviceId: string];
  'device:offline': [deviceId: string];
  // The notices below go to every bridge sharing a Redis (bridge/cluster/notices.ts). One that
  // came from another bridge carries `from`, that bridge's ID: a listener that only needs to act
  // on what happened elsewhere (its own bridge did it already) tells them apart by it.
  /** An API token was revoked: whatever it opened (MQTT sessions, event streams) ends now. */
  'token:revoked': [tokenId: string, from?: string];
  /** A console session was signed out: the event streams it opened end now. */
  'session:ended': [sessionIdHash: string, from?: string];
  /** An integration was created, changed, enabled, disabled, stopped or deleted: read it again from the store. */
  'integration:changed': [integrationId: string, from?: string];
  /** A webhook target host was put to sleep by the per-host throttle: skip it for the cooldown. */
  'host:asleep': [host: string, from?: string];
  /** An address reached the login limit, counted over every bridge sharing a Redis: refuse it for the block time. */
  'login:blocked': [address: string, from?: string];
}

export class EventBus extends EventEmitter<BusEvents> {
  constructor() {
    super();
    // Every stream subscriber and webhook stage listens here; a listener count is no leak sign.
    this.setMaxListeners(0);
  }
}
