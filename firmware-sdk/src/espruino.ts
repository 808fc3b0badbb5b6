// The Espruino platform for the SDK core: MQTT 3.1.1 spoken by the SDK itself over any socket
// (`require("net")`, `require("tls")`, or one the caller opens, such as a Wifi AT module's),
// with UTF-8 and CBOR done here because Espruino has neither Buffer nor TextEncoder. Espruino's
// bundled MQTT module is no base: it sizes packets with `.length` (wrong for multi-byte text),
// ignores clean session and never sends a QoS 1 publish again.
//
// scripts/build-espruino.ts bundles this file with the core into dist/espruino/hookwire.js,
// the module a board loads with `require("hookwire")`. Everything environment-specific for
// Espruino lives in this file, in the Espruino subset (DESIGN.md, Device SDK).
//
// Strings (docs/espruino.md): sockets deliver and take byte strings, one character per byte.
// ESP8266/ESP32/STM32 builds have only those, so their text is already UTF-8 bytes. Unicode
// builds (Linux, a few boards) also have text strings whose characters are code points; a byte
// string joined to one is re-encoded, so text is turned into bytes here before it meets any.

import { createDevice, sdkError, type Codec, type Device, type DeviceOptions, type SdkError, type Timers, type Transport, type TransportHandlers } from './device.ts';
import { cborDecode, cborEncode, type Strings } from './cbor.ts';
import { CONNACK, MALFORMED, PINGRESP, PUBACK, PUBLISH, SUBACK, chr, field, packet, packetReader, readWord, word } from './mqtt.ts';
import { isUtf8 } from './utf8.ts';

/** What Espruino provides that the SDK uses (its `E` object, its global scope). */
declare var E: {
  toString: (bytes: Uint8Array) => string;
  toUint8Array: (bytes: string) => Uint8Array;
  /** Unicode builds: the text string that UTF-8 bytes encode. */
  asUTF8: (bytes: string) => string;
  /** Unicode builds: a string's UTF-8 bytes (a byte string is returned as it is). */
  fromUTF8: (text: string) => string;
};
declare var global: { require: (module: string) => SocketModule };

/** A connected (or connecting) socket: Espruino's `net` and `tls` sockets have this shape. */
export interface Socket {
  write: (data: string) => unknown;
  end: () => unknown;
  /** `data` (a byte string), `close`, `error` ({code, message}). */
  on: (event: string, listener: (arg?: any) => void) => unknown;
}

/** A module that opens sockets: `require("net")`, `require("tls")`. */
export interface SocketModule {
  connect: (options: EspruinoOptions, onOpen: () => void) => Socket;
}

/** Opens one connection; calls `onOpen` once the socket can be written. */
export type OpenSocket = (onOpen: () => void) => Socket;

export interface EspruinoOptions extends DeviceOptions {
  /** The bridge's host name or IP address. Required unless `socket` is given. */
  host?: string;
  /** The bridge's MQTT port. Default 1883, or 8883 with `tls`. */
  port?: number;
  /** Connect with `require("tls")` (boards that have it, e.g. ESP32). Default false. */
  tls?: boolean;
  /** With `tls`: the CA certificate (PEM) that signed the bridge's, when it is not a public one. */
  ca?: string;
  /** Opens the connection some other way (a Wifi AT module, say); called for every attempt. */
  socket?: OpenSocket;
}

/** No CONNACK this long after opening the socket: give up on the attempt and try again. */
const CONNACK_TIMEOUT_MS = 10000;

// Unicode builds hold "\u20ac" as one character, code point 0x20ac; 8-bit builds keep its low
// byte. (Two statements, so the bundler cannot fold the answer in at build time.)
var euro = '\u20ac';
var unicode = euro.charCodeAt(0) > 255;

var strings: Strings = {
  // 8-bit builds: text is its UTF-8 bytes already.
  utf8: unicode ? E.fromUTF8 : (text) => text,
  text: unicode ? E.asUTF8 : (bytes) => bytes,
  bin: E.toString,
};

var codec: Codec = {
  encode: (value) => E.toUint8Array(chr(0xd9, 0xd9, 0xf7) + cborEncode(value, strings)),
  decode: (bytes) => cborDecode(bytes, strings),
  decodeText: (bytes) => isUtf8(bytes) ? strings.text(E.toString(bytes)) : null,
  textBytes: (text) => strings.utf8(text).length,
};

var timers: Timers = { setTimeout: setTimeout, clearTimeout: clearTimeout as (handle: unknown) => void, random: Math.random };

interface InFlight {
  id: number;
  packet: string;
  done: (err: SdkError | null, messageId?: number) => void;
}

/**
 * MQTT over sockets from `open`. QoS 1 publishes wait in flight until their PUBACK, across
 * reconnects: each is sent again with DUP set once the next connection is accepted.
 */
export function socketTransport(open: OpenSocket): Transport {
  var sock: Socket | null = null;
  var handlers: TransportHandlers;
  var inflight: InFlight[] = [];
  var subacks: { [id: string]: (err: SdkError | null) => void } = {};
  var lastId = 0;
  var keepaliveMs = 0;
  var timer: unknown = null; // the CONNACK wait, then the keep-alive ping
  var pingWait = false;

  function arm(fn?: () => void, ms?: number) {
    if (timer !== null) timers.clearTimeout(timer); // only a live one: a fired timer's ID may be another's now
    timer = fn ? timers.setTimeout(() => {
      timer = null;
      fn();
    }, ms!) : null;
  }

  // Packet identifiers in turn. One still in use after 65,535 more would need that many
  // publishes unacknowledged at once, far past what a device holds.
  function nextId(): number {
    return lastId = lastId % 65535 + 1;
  }

  /** The end of connection `s`, whatever ended it; later news of the same socket is ignored. */
  function closed(s: Socket, code: string, detail?: string, refused?: boolean) {
    if (s !== sock) return;
    sock = null;
    arm();
    var err = sdkError(code, detail);
    var waiting = subacks;
    subacks = {};
    for (var id in waiting) waiting[id]!(err);
    s.end();
    handlers.onClose(err, !!refused);
  }

  function ping() {
    // The previous ping went unanswered for a whole keep-alive period: the link is dead.
    if (pingWait) return closed(sock!, 'KEEPALIVE_TIMEOUT');
    pingWait = true;
    sock!.write(packet(0xc0, '')); // PINGREQ [MQTT-3.12]
    arm(ping, keepaliveMs);
  }

  /** One packet from the broker, on the connection `sock` (a stale one's data is not read). */
  function onPacket(first: number, body: string) {
    var s = sock!;
    var type = first >> 4;
    var n = readWord(body, 0); // PUBACK, SUBACK: the packet identifier; PUBLISH: the topic's length
    var i: number;
    if (type === PUBLISH) {
      // [MQTT-3.3]: topic, a packet identifier at QoS 1 and 2, the message.
      var at = 2 + n;
      var qos = first & 6;
      if (qos) s.write(packet(0x40, body.substring(at, at + 2))); // PUBACK [MQTT-4.3.2-2]
      handlers.onMessage(strings.text(body.substring(2, at)), E.toUint8Array(body.substring(qos ? at + 2 : at)));
    } else if (type === PUBACK) {
      for (i = 0; i < inflight.length; i++) {
        if (inflight[i]!.id === n) return inflight.splice(i, 1)[0]!.done(null, n);
      }
    } else if (type === SUBACK) {
      var done = subacks[n];
      delete subacks[n];
      // 0x80: the bridge refused the filter; its notice on <deviceID>/hookwire/error says why.
      if (done) done(body.charCodeAt(2) === 0x80 ? sdkError('SUBSCRIBE_FORBIDDEN') : null);
    } else if (type === PINGRESP) {
      pingWait = false;
    } else if (type === CONNACK) {
      // 2 identifier rejected, 4 bad user name or password, 5 not authorized: retrying cannot help.
      var rc = body.charCodeAt(1);
      if (rc) return closed(s, 'CONNECT_REFUSED', 'CONNACK ' + rc, rc === 2 || rc === 4 || rc === 5);
      pingWait = false;
      arm(ping, keepaliveMs);
      // Sent again with DUP set [MQTT-3.3.1-1, MQTT-4.4.0-1].
      for (i = 0; i < inflight.length; i++) s.write(chr(inflight[i]!.packet.charCodeAt(0) | 8) + inflight[i]!.packet.substring(1));
      handlers.onConnect();
    }
  }

  return {
    connect(creds, h) {
      handlers = h;
      keepaliveMs = creds.keepaliveSec * 1000;
      var read = packetReader(onPacket);
      var s: Socket;
      var early = false;
      // CONNECT [MQTT-3.1]: protocol "MQTT" level 4; flags user name, password, clean session.
      var hello = () => s.write(packet(0x10, field('MQTT') + chr(4, 0xc2) + word(creds.keepaliveSec) +
        field(strings.utf8(creds.clientId)) + field(strings.utf8(creds.username)) + field(strings.utf8(creds.password))));
      try {
        // A socket that is open already may call back before `open` returns.
        s = sock = open(() => s ? hello() : early = true);
      } catch (e) {
        // Espruino's Linux build throws at once when the connection is refused.
        return h.onClose(sdkError('CONNECTION_FAILED'), false);
      }
      if (early) hello();
      s.on('data', function more(chunk: string) {
        if (s !== sock) return;
        try {
          read(chunk);
        } catch (e) {
          if (e === MALFORMED) return closed(s, 'PROTOCOL_ERROR');
          // The application's callback threw: the rest of the chunk goes on next turn, and the
          // exception is reported as uncaught, as Espruino reports any other.
          timers.setTimeout(() => more(''), 0);
          throw e;
        }
      });
      s.on('error', (e: { message?: string }) => closed(s, 'CONNECTION_FAILED', e && e.message));
      s.on('close', () => closed(s, 'CONNECTION_LOST'));
      arm(() => closed(s, 'CONNECT_TIMEOUT'), CONNACK_TIMEOUT_MS);
    },

    publish(topic, payload, qos, done) {
      var id = qos ? nextId() : 0;
      // PUBLISH [MQTT-3.3]: the packet identifier at QoS 1 only.
      var p = packet(0x30 | (qos << 1), field(strings.utf8(topic)) + (qos ? word(id) : '') +
        (typeof payload === 'string' ? strings.utf8(payload) : E.toString(payload)));
      // A QoS 1 publish is kept until its PUBACK, and sent again after a reconnect.
      if (qos) inflight.push({ id: id, packet: p, done: done });
      if (sock) sock.write(p);
      if (!qos) done(sock ? null : sdkError('DISCONNECTED'));
    },

    subscribe(filter, qos, done) {
      if (!sock) return done(sdkError('DISCONNECTED'));
      var id = nextId();
      subacks[id] = done;
      sock.write(packet(0x82, word(id) + field(strings.utf8(filter)) + chr(qos))); // SUBSCRIBE [MQTT-3.8]
    },

    unsubscribe(filter, done) {
      // Nothing waits on the UNSUBACK: the core forgets the filter either way.
      if (sock) sock.write(packet(0xa2, word(nextId()) + field(strings.utf8(filter)))); // UNSUBSCRIBE [MQTT-3.10]
      done(null);
    },

    end(done) {
      var s = sock;
      if (s) {
        s.write(packet(0xe0, '')); // DISCONNECT [MQTT-3.14]
        closed(s, 'DISCONNECTED');
      }
      var list = inflight;
      inflight = [];
      for (var i = 0; i < list.length; i++) list[i]!.done(sdkError('DISCONNECTED'));
      done();
    },
  };
}

/**
 * A device on Espruino, connecting at once: `require("hookwire").connect({host, deviceId, token})`.
 * Listen for `connect`, `disconnect`, `refused` and `error` with `device.on`.
 */
export function connect(options: EspruinoOptions): Device {
  if (!options.socket && !options.host) throw sdkError('OPTIONS_INVALID', 'no host');
  // net and tls take the options themselves (host, port, ca; the rest they ignore), so the
  // default port is written into them.
  options.port = options.port || (options.tls ? 8883 : 1883);
  var open = options.socket || ((onOpen: () => void) => global.require(options.tls ? 'tls' : 'net').connect(options, onOpen));
  var device = createDevice(options, { transport: socketTransport(open), codec: codec, timers: timers });
  device.connect(() => {}); // failures reach the `error` listeners
  return device;
}
