// The device SDK core: Particle's publish/subscribe model over any MQTT transport.
//
// It knows nothing about its transport, codec or clock: a Platform brings them (Node:
// mqtt.js + cbor-x + setTimeout; Espruino: the SDK's own MQTT, UTF-8 and CBOR in
// espruino.ts). Written in the Espruino subset (DESIGN.md, Device SDK) so the same file
// runs on a microcontroller: a factory with closures instead of a class, `var`, no
// destructuring, default/rest parameters, spread, Map/Set/Symbol, async/await, `?.` or
// `for (let ...)`. Arrow functions and method shorthand keep the board's module small
// (scripts/build-espruino.ts, 8 KB budget). test/firmware-sdk/espruino-subset.test.ts bundles this
// file to ES2015 and fails on anything Espruino lacks.

import {
  ERROR_LEVEL, EVENT_NAME_INVALID, EVENT_TOO_LARGE, dataLimit, filterForPrefix,
  isTyped, isValidName, publishNameError,
} from './rules.ts';

/** Data a handler receives: text, a decoded typed (CBOR) value, or raw bytes. */
export type EventData = string | Uint8Array | unknown;
export type EventHandler = (eventName: string, data: EventData) => void;
export type Callback = (err: SdkError | null) => void;

/** An SDK error: a plain Error with a stable `code` (Espruino cannot extend Error). */
export interface SdkError extends Error {
  code: string;
  /** For a refused publish: the event name the bridge refused. */
  event?: string;
}

/** What the bridge says when it refuses something (data of `<deviceID>/hookwire/error`). */
export interface Refusal {
  code: string;
  message: string;
  event?: string;
  messageId?: number;
}

export interface ConnectCredentials {
  clientId: string;
  username: string;
  password: string;
  /** Seconds between keep-alive pings. */
  keepaliveSec: number;
}

export interface TransportHandlers {
  onConnect: () => void;
  /**
   * The connection closed or could not be made. `refused` when the broker said no for good
   * (CONNACK 2, 4 or 5); `err` is then a CONNECT_REFUSED error.
   */
  onClose: (err: SdkError | null, refused: boolean) => void;
  onMessage: (topic: string, payload: Uint8Array) => void;
}

/**
 * An MQTT connection. One `connect` per attempt: the core owns reconnection. The errors it
 * hands over carry a stable code (PUBLISH_FAILED, SUBSCRIBE_FORBIDDEN, ...), passed on to the
 * application as they are.
 */
export interface Transport {
  connect: (creds: ConnectCredentials, handlers: TransportHandlers) => void;
  /** `done` fires when written (QoS 0) or acknowledged (QoS 1, with the PUBACK's messageId). */
  publish: (topic: string, payload: string | Uint8Array, qos: number,
    done: (err: SdkError | null, messageId?: number) => void) => void;
  subscribe: (filter: string, qos: number, done: (err: SdkError | null) => void) => void;
  unsubscribe: (filter: string, done: (err: SdkError | null) => void) => void;
  end: (done: () => void) => void;
}

export interface Codec {
  /** Typed data: the CBOR self-describe tag, then `value` as CBOR. */
  encode: (value: unknown) => Uint8Array;
  /** The value CBOR bytes (after the tag) hold. */
  decode: (bytes: Uint8Array) => unknown;
  /** UTF-8 bytes to text; null when the bytes are not valid UTF-8. */
  decodeText: (bytes: Uint8Array) => string | null;
  /** Bytes `text` takes in UTF-8. */
  textBytes: (text: string) => number;
}

export interface Timers {
  setTimeout: (fn: () => void, ms: number) => unknown;
  clearTimeout: (handle: unknown) => void;
  random: () => number;
}

export interface Platform {
  transport: Transport;
  codec: Codec;
  timers: Timers;
}

export interface DeviceOptions {
  deviceId: string;
  token: string;
  /** Seconds between MQTT keep-alive pings. Default 30. */
  keepalive?: number;
  /** First reconnect delay in ms, doubled per failed attempt. Default 1000 (1 s). */
  reconnectMinMs?: number;
  /** Longest reconnect delay in ms. Default 30000 (30 s). */
  reconnectMaxMs?: number;
  /** Publishes kept while offline; more are refused with QUEUE_FULL. Default 32. */
  queueLimit?: number;
}

export interface PublishOptions {
  /** 0 = at most once (settles when written); 1 = at least once (settles on PUBACK). Default 0. */
  qos?: number;
}

export interface Device {
  connect: (done?: Callback) => Promise<void> | undefined;
  disconnect: (done?: () => void) => Promise<void> | undefined;
  publish: (name: string, data?: unknown, options?: PublishOptions, done?: Callback) =>
    Promise<void> | undefined;
  subscribe: (prefix: string, handler: EventHandler, done?: Callback) => Promise<void> | undefined;
  unsubscribe: (prefix: string, handler?: EventHandler) => void;
  deviceID: () => string;
  connected: () => boolean;
  /**
   * Events: `connect`, `disconnect` (err), `offline` (SdkError: an attempt to connect failed;
   * another follows), `refused` (SdkError from the bridge), `error` (SdkError).
   */
  on: (event: string, listener: (arg?: unknown) => void) => void;
  /** Publishes waiting for a connection. */
  queued: () => number;
}

interface Pending {
  topic: string;
  payload: string | Uint8Array;
  qos: number;
  done: Callback;
}

interface Subscription {
  prefix: string;
  handler: EventHandler;
}

/**
 * An error with a stable `code` that works on Espruino too. Its message is the code, then
 * the detail when there is one: `EVENT_TOO_LARGE: 1100 bytes, over 1024`.
 */
export function sdkError(code: string, detail?: string): SdkError {
  var err = new Error(detail ? code + ': ' + detail : code) as SdkError;
  err.code = code;
  return err;
}

/** Run `start(cb)` with a callback, or return a Promise when none is given. */
function settle(done: Callback | undefined, start: (cb: Callback) => void): Promise<void> | undefined {
  if (done) return void start(done);
  return new Promise<void>((resolve, reject) => start((err) => err ? reject(err) : resolve()));
}

/** Encode event data: text as is, bytes as is, objects as typed (tagged CBOR), other scalars as text. */
export function encodeData(data: unknown, codec: Codec): string | Uint8Array {
  if (data === undefined || data === null) return '';
  if (typeof data === 'string' || data instanceof Uint8Array) return data;
  return typeof data === 'object' ? codec.encode(data) : String(data);
}

/**
 * Decode received data: tagged CBOR to a value, UTF-8 to text, anything else (malformed CBOR
 * included) stays bytes.
 */
export function decodeData(payload: Uint8Array, codec: Codec): EventData {
  if (isTyped(payload)) {
    try {
      return codec.decode(payload.subarray(3));
    } catch (e) {
      return payload;
    }
  }
  var text = codec.decodeText(payload);
  return text === null ? payload : text;
}

/** Check a name and encoded data as the bridge will; returns the error or null. */
export function checkPublish(name: string, payload: string | Uint8Array, deviceId: string, codec: Codec): SdkError | null {
  var code = publishNameError(name, deviceId);
  if (code) return sdkError(code, name);
  var bytes = typeof payload === 'string' ? codec.textBytes(payload) : payload.length;
  var limit = dataLimit(typeof payload !== 'string');
  return bytes > limit ? sdkError(EVENT_TOO_LARGE, bytes + ' bytes, over ' + limit) : null;
}

export function createDevice(options: DeviceOptions, platform: Platform): Device {
  var id = options.deviceId;
  var transport = platform.transport;
  var codec = platform.codec;
  var timers = platform.timers;
  var minDelay = options.reconnectMinMs || 1000;
  var maxDelay = options.reconnectMaxMs || 30000;
  var queueLimit = options.queueLimit === undefined ? 32 : options.queueLimit;
  var errorTopic = id + '/' + ERROR_LEVEL;

  var isConnected = false;
  var wanted = false; // the application wants a connection (connect called, not disconnect)
  var attempt = 0;
  var retryTimer: unknown = null;
  var queue: Pending[] = [];
  var subs: Subscription[] = [];
  var filters: { [filter: string]: number } = {}; // MQTT filter -> subscriptions it serves
  var listeners: { [event: string]: ((arg?: unknown) => void)[] } = {};
  var waiting: Callback[] = []; // connect() calls waiting for the first connection
  // Refusals seen for QoS 1 publishes whose PUBACK has not arrived yet, by messageId: the
  // bridge writes the refusal before the PUBACK, so the PUBACK settles the publish as refused.
  var refusedIds: { [messageId: number]: SdkError } = {};

  function emit(event: string, arg?: unknown) {
    var list = listeners[event] || [];
    for (var i = 0; i < list.length; i++) list[i]!(arg);
  }

  function settleWaiting(err: SdkError | null) {
    var list = waiting;
    waiting = [];
    for (var i = 0; i < list.length; i++) list[i]!(err);
  }

  function send(p: Pending) {
    transport.publish(p.topic, p.payload, p.qos, (err, messageId) => {
      var refusal = refusedIds[messageId!];
      delete refusedIds[messageId!];
      p.done(err || refusal || null);
    });
  }

  function onConnect() {
    isConnected = true;
    attempt = 0;
    // Sessions are clean: subscriptions are made again on every connection.
    for (var f in filters) transport.subscribe(f, 0, (err) => err && emit('error', err));
    var list = queue;
    queue = [];
    for (var i = 0; i < list.length; i++) send(list[i]!);
    settleWaiting(null);
    emit('connect');
  }

  function onClose(err: SdkError | null, refused: boolean) {
    var was = isConnected;
    isConnected = false;
    if (was) emit('disconnect', err);
    if (refused) {
      // Wrong ID or token: retrying cannot help. Say so and stop.
      wanted = false;
      settleWaiting(err);
      emit('error', err);
    } else if (wanted && retryTimer === null) {
      // An attempt that failed (the bridge down or unreachable): said, then tried again.
      if (!was) emit('offline', err);
      // Capped exponential backoff with jitter, so a fleet does not reconnect in step.
      var delay = Math.min(maxDelay, minDelay * Math.pow(2, attempt++));
      retryTimer = timers.setTimeout(() => {
        retryTimer = null;
        if (wanted) open();
      }, delay / 2 + timers.random() * delay / 2);
    }
  }

  function onMessage(topic: string, payload: Uint8Array) {
    if (topic === errorTopic) {
      // The bridge refused something of ours: {code, message, event, messageId} (README).
      var r: Refusal;
      try {
        r = JSON.parse(codec.decodeText(payload) || '{}');
      } catch (e) {
        return;
      }
      var err = sdkError(r.code, r.message);
      if (r.event) err.event = r.event;
      if (r.messageId !== undefined) refusedIds[r.messageId] = err;
      return emit('refused', err);
    }
    var data: EventData;
    var decoded = false;
    for (var i = 0; i < subs.length; i++) {
      var s = subs[i]!;
      if (topic.substring(0, s.prefix.length) !== s.prefix) continue;
      if (!decoded) data = decodeData(payload, codec);
      decoded = true;
      s.handler(topic, data);
    }
  }

  function open() {
    transport.connect(
      { clientId: id, username: id, password: options.token, keepaliveSec: options.keepalive || 30 },
      { onConnect: onConnect, onClose: onClose, onMessage: onMessage });
  }

  var device: Device = {
    connect(done) {
      return settle(done, (cb) => {
        if (isConnected) return cb(null);
        waiting.push(cb);
        if (!wanted) {
          wanted = true;
          open();
        }
      });
    },

    disconnect(done) {
      wanted = false;
      if (retryTimer !== null) timers.clearTimeout(retryTimer);
      retryTimer = null;
      var list = queue;
      queue = [];
      for (var i = 0; i < list.length; i++) list[i]!.done(sdkError('DISCONNECTED'));
      return settle(done, (finish) => transport.end(() => {
        isConnected = false;
        finish(null);
      }));
    },

    publish(name, data, opts, done) {
      var payload = encodeData(data, codec);
      var invalid = checkPublish(name, payload, id, codec);
      if (invalid) throw invalid; // a local mistake: nothing is sent
      return settle(done, (cb) => {
        var p: Pending = { topic: name, payload: payload, qos: opts && opts.qos ? 1 : 0, done: cb };
        if (isConnected) send(p);
        else if (queue.length < queueLimit) queue.push(p);
        else cb(sdkError('QUEUE_FULL'));
      });
    },

    subscribe(prefix, handler, done) {
      if (prefix && !isValidName(prefix)) throw sdkError(EVENT_NAME_INVALID, prefix);
      var filter = filterForPrefix(prefix);
      var known = filters[filter];
      filters[filter] = (known || 0) + 1;
      subs.push({ prefix: prefix, handler: handler });
      return settle(done, (cb) => {
        if (known || !isConnected) return cb(null); // made on (re)connect
        transport.subscribe(filter, 0, cb);
      });
    },

    unsubscribe(prefix, handler) {
      var kept: Subscription[] = [];
      var filter = filterForPrefix(prefix);
      for (var i = 0; i < subs.length; i++) {
        var s = subs[i]!;
        if (s.prefix === prefix && (!handler || s.handler === handler)) filters[filter]!--;
        else kept.push(s);
      }
      subs = kept;
      if (filters[filter] === 0) {
        delete filters[filter];
        if (isConnected) transport.unsubscribe(filter, () => {});
      }
    },

    deviceID: () => id,

    connected: () => isConnected,

    on(event, listener) {
      (listeners[event] = listeners[event] || []).push(listener);
    },

    queued: () => queue.length,
  };
  return device;
}
