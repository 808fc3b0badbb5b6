// The device SDK core: Particle's publish/subscribe model over any MQTT transport.
//
// It knows nothing about its transport, codec or clock: a Platform brings them (Node:
// mqtt.js + cbor-x + setTimeout; Espruino: its MQTT module + a small codec). Written in
// the Espruino subset (DESIGN.md, Device SDK) so the same file runs on a microcontroller:
// a factory with closures instead of a class, `var`, no destructuring, default/rest
// parameters, spread, Map/Set/Symbol, async/await, `?.` or `for (let ...)`.
// test/sdk-espruino-subset.test.ts bundles this file to ES2015 and fails on any of them.

import {
  CBOR_TAG, ERROR_LEVEL, EVENT_NAME_INVALID, EVENT_TOO_LARGE, dataLimit, filterForPrefix,
  isTyped, isValidName, publishNameError, utf8Length,
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
  keepalive: number;
}

export interface TransportHandlers {
  onConnect: () => void;
  /** The connection closed or could not be made; `refused` when the broker said no (CONNACK). */
  onClose: (err: Error | null, refused: boolean) => void;
  onMessage: (topic: string, payload: Uint8Array) => void;
}

/** An MQTT connection. One `connect` per attempt: the core owns reconnection. */
export interface Transport {
  connect: (creds: ConnectCredentials, handlers: TransportHandlers) => void;
  /** `done` fires when written (QoS 0) or acknowledged (QoS 1, with the PUBACK's messageId). */
  publish: (topic: string, payload: string | Uint8Array, qos: number,
    done: (err: Error | null, messageId?: number) => void) => void;
  subscribe: (filter: string, qos: number, done: (err: Error | null) => void) => void;
  unsubscribe: (filter: string, done: (err: Error | null) => void) => void;
  end: (done: () => void) => void;
}

export interface Codec {
  encode: (value: unknown) => Uint8Array;
  decode: (bytes: Uint8Array) => unknown;
  /** UTF-8 bytes to text; null when the bytes are not valid UTF-8. */
  decodeText: (bytes: Uint8Array) => string | null;
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
  /** Events: `connect`, `disconnect` (err), `refused` (SdkError from the bridge), `error` (SdkError). */
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
  filter: string;
  handler: EventHandler;
}

/** Make an error with a stable `code` that works on Espruino too. */
export function sdkError(code: string, message: string): SdkError {
  var err = new Error(message) as SdkError;
  err.code = code;
  return err;
}

/** Run `start(cb)` with a callback, or return a Promise when none is given and Promise exists. */
function settle<T>(done: ((err: SdkError | null) => void) | undefined,
  start: (cb: (err: SdkError | null) => void) => void): Promise<T> | undefined {
  if (done) {
    start(done);
    return undefined;
  }
  return new Promise<T>(function (resolve, reject) {
    start(function (err) {
      if (err) reject(err);
      else resolve(undefined as T);
    });
  });
}

/** Encode event data: text as is, bytes as is, objects as tagged CBOR, other scalars as text. */
export function encodeData(data: unknown, codec: Codec): string | Uint8Array {
  if (data === undefined || data === null) return '';
  if (typeof data === 'string') return data;
  if (data instanceof Uint8Array) return data;
  if (typeof data === 'object') {
    var body = codec.encode(data);
    var out = new Uint8Array(body.length + 3);
    out.set(CBOR_TAG, 0);
    out.set(body, 3);
    return out;
  }
  return String(data);
}

/** Decode received data: tagged CBOR to a value, UTF-8 to text, anything else stays bytes. */
export function decodeData(payload: Uint8Array, codec: Codec): EventData {
  if (isTyped(payload)) return codec.decode(payload.subarray(3));
  var text = codec.decodeText(payload);
  return text === null ? payload : text;
}

/** Check a name and encoded data as the bridge will; returns the error or null. */
export function checkPublish(name: string, payload: string | Uint8Array, deviceId: string): SdkError | null {
  var code = publishNameError(name, deviceId);
  if (code) {
    return sdkError(code, code === EVENT_NAME_INVALID
      ? 'event name must be 1-64 characters of A-Z a-z 0-9 _ - /: "' + name + '"'
      : 'event name "' + name + '" is not yours to publish (' + code + ')');
  }
  var bytes = typeof payload === 'string' ? utf8Length(payload) : payload.length;
  var limit = dataLimit(typeof payload !== 'string');
  if (bytes > limit) {
    return sdkError(EVENT_TOO_LARGE, 'event data is ' + bytes + ' bytes; the limit is ' + limit);
  }
  return null;
}

export function createDevice(options: DeviceOptions, platform: Platform): Device {
  var id = options.deviceId;
  var transport = platform.transport;
  var codec = platform.codec;
  var timers = platform.timers;
  var keepalive = options.keepalive || 30;
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
  var listeners: { [event: string]: ((arg?: unknown) => void)[] } = {};
  var firstConnect: Callback[] = [];
  // Refusals seen for QoS 1 publishes whose PUBACK has not arrived yet, by messageId: the
  // bridge writes the refusal before the PUBACK, so the PUBACK settles the publish as refused.
  var refusedIds: { [messageId: string]: SdkError } = {};

  function emit(event: string, arg?: unknown) {
    var list = listeners[event];
    if (!list) return;
    for (var i = 0; i < list.length; i++) list[i]!(arg);
  }

  function distinctFilters(): string[] {
    var seen: { [f: string]: boolean } = {};
    var out: string[] = [];
    for (var i = 0; i < subs.length; i++) {
      var f = subs[i]!.filter;
      if (!seen[f]) {
        seen[f] = true;
        out.push(f);
      }
    }
    return out;
  }

  function send(p: Pending) {
    transport.publish(p.topic, p.payload, p.qos, function (err, messageId) {
      if (err) return p.done(sdkError('PUBLISH_FAILED', err.message));
      var key = String(messageId);
      var refusal = messageId === undefined ? undefined : refusedIds[key];
      if (refusal) {
        delete refusedIds[key];
        return p.done(refusal);
      }
      p.done(null);
    });
  }

  function onConnect() {
    isConnected = true;
    attempt = 0;
    // Sessions are clean: subscriptions are made again on every connection.
    var filters = distinctFilters();
    for (var i = 0; i < filters.length; i++) {
      transport.subscribe(filters[i]!, 0, function (err) {
        if (err) emit('error', sdkError('SUBSCRIBE_FAILED', err.message));
      });
    }
    var waiting = queue;
    queue = [];
    for (var j = 0; j < waiting.length; j++) send(waiting[j]!);
    var firsts = firstConnect;
    firstConnect = [];
    for (var k = 0; k < firsts.length; k++) firsts[k]!(null);
    emit('connect');
  }

  function onClose(err: Error | null, refused: boolean) {
    var was = isConnected;
    isConnected = false;
    if (was) emit('disconnect', err);
    if (refused) {
      // Wrong ID or token: retrying cannot help. Say so and stop.
      wanted = false;
      var e = sdkError('CONNECT_REFUSED', err ? err.message : 'connection refused by the bridge');
      var firsts = firstConnect;
      firstConnect = [];
      for (var i = 0; i < firsts.length; i++) firsts[i]!(e);
      emit('error', e);
      return;
    }
    if (wanted) scheduleReconnect();
  }

  function onMessage(topic: string, payload: Uint8Array) {
    if (topic === errorTopic) return onRefusal(payload);
    var data: EventData = null;
    var decoded = false;
    for (var i = 0; i < subs.length; i++) {
      var s = subs[i]!;
      if (topic.substring(0, s.prefix.length) !== s.prefix) continue;
      if (!decoded) {
        data = decodeData(payload, codec);
        decoded = true;
      }
      s.handler(topic, data);
    }
  }

  function onRefusal(payload: Uint8Array) {
    var text = codec.decodeText(payload);
    var r: Refusal;
    try {
      r = JSON.parse(text || '{}');
    } catch (e) {
      return;
    }
    var err = sdkError(r.code || 'REFUSED', r.message || 'refused by the bridge');
    if (r.event) err.event = r.event;
    if (r.messageId !== undefined) refusedIds[String(r.messageId)] = err;
    emit('refused', err);
  }

  function scheduleReconnect() {
    if (retryTimer !== null) return;
    var delay = Math.min(maxDelay, minDelay * Math.pow(2, attempt));
    attempt++;
    delay = delay / 2 + timers.random() * delay / 2; // jitter: a fleet does not reconnect in step
    retryTimer = timers.setTimeout(function () {
      retryTimer = null;
      if (wanted) open();
    }, delay);
  }

  function open() {
    transport.connect(
      { clientId: id, username: id, password: options.token, keepalive: keepalive },
      { onConnect: onConnect, onClose: onClose, onMessage: onMessage });
  }

  var device: Device = {
    connect: function (done) {
      return settle<void>(done, function (cb) {
        if (isConnected) return cb(null);
        firstConnect.push(cb);
        if (!wanted) {
          wanted = true;
          open();
        }
      });
    },

    disconnect: function (done) {
      wanted = false;
      if (retryTimer !== null) {
        timers.clearTimeout(retryTimer);
        retryTimer = null;
      }
      var pending = queue;
      queue = [];
      for (var i = 0; i < pending.length; i++) {
        pending[i]!.done(sdkError('DISCONNECTED', 'disconnected before the event was sent'));
      }
      return settle<void>(done, function (finish) {
        transport.end(function () {
          isConnected = false;
          finish(null);
        });
      });
    },

    publish: function (name, data, opts, done) {
      var payload = encodeData(data, codec);
      var invalid = checkPublish(name, payload, id);
      if (invalid) throw invalid; // a local mistake: nothing is sent
      var qos = opts && opts.qos ? 1 : 0;
      return settle<void>(done, function (cb) {
        var p: Pending = { topic: name, payload: payload, qos: qos, done: cb };
        if (isConnected) return send(p);
        if (queue.length >= queueLimit) {
          return cb(sdkError('QUEUE_FULL', 'offline queue is full (' + queueLimit + ' events)'));
        }
        queue.push(p);
      });
    },

    subscribe: function (prefix, handler, done) {
      if (prefix.length > 0 && !isValidName(prefix)) {
        throw sdkError(EVENT_NAME_INVALID, 'subscribe prefix may hold only A-Z a-z 0-9 _ - /: "' + prefix + '"');
      }
      var filter = filterForPrefix(prefix);
      var known = distinctFilters().indexOf(filter) >= 0;
      subs.push({ prefix: prefix, filter: filter, handler: handler });
      return settle<void>(done, function (cb) {
        if (known || !isConnected) return cb(null); // made on (re)connect
        transport.subscribe(filter, 0, function (err) {
          cb(err ? sdkError('SUBSCRIBE_FAILED', err.message) : null);
        });
      });
    },

    unsubscribe: function (prefix, handler) {
      var kept: Subscription[] = [];
      var filter = filterForPrefix(prefix);
      for (var i = 0; i < subs.length; i++) {
        var s = subs[i]!;
        if (!(s.prefix === prefix && (!handler || s.handler === handler))) kept.push(s);
      }
      subs = kept;
      if (isConnected && distinctFilters().indexOf(filter) < 0) {
        transport.unsubscribe(filter, function () {});
      }
    },

    deviceID: function () {
      return id;
    },

    connected: function () {
      return isConnected;
    },

    on: function (event, listener) {
      if (!listeners[event]) listeners[event] = [];
      listeners[event]!.push(listener);
    },

    queued: function () {
      return queue.length;
    },
  };
  return device;
}
