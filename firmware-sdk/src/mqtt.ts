// MQTT 3.1.1 packets for platforms without an MQTT client of their own (Espruino): what a
// device writes, and a reader that cuts the broker's byte stream into packets however it is
// split into chunks.
//
// Packets are byte strings (one character per byte, 0–255), the form Espruino's sockets read
// and write. Topics and text payloads must already be UTF-8 bytes: lengths are counted here in
// bytes, never in characters [MQTT-1.5.3]. Only what a device needs is written: CONNECT with a
// clean session, PUBLISH at QoS 0 and 1, PUBACK, SUBSCRIBE, UNSUBSCRIBE, PINGREQ, DISCONNECT.
//
// Written in the Espruino subset (DESIGN.md, Device SDK).

/** Control packet types [MQTT-2.2.1]. */
export var CONNACK = 2;
export var PUBLISH = 3;
export var PUBACK = 4;
export var SUBACK = 9;
export var PINGRESP = 13;

/** A PUBLISH the broker sent. */
export interface Publish {
  /** The topic's bytes. */
  topic: string;
  /** The packet identifier, at QoS 1 and 2; 0 at QoS 0. */
  id: number;
  /** The application message's bytes. */
  payload: string;
}

var chr = String.fromCharCode;

function word(n: number): string {
  return chr((n >> 8) & 255, n & 255);
}

function field(bytes: string): string {
  return word(bytes.length) + bytes;
}

/** A whole packet: the first byte, the remaining length (1–4 bytes, 7 bits each), the body [MQTT-2.2.3]. */
export function packet(first: number, body: string): string {
  var n = body.length;
  var out = chr(first);
  do {
    var digit = n & 127;
    n >>= 7;
    out += chr(n > 0 ? digit | 128 : digit);
  } while (n > 0);
  return out + body;
}

/** CONNECT with a clean session, a user name and a password [MQTT-3.1]. */
export function connectPacket(clientId: string, username: string, password: string, keepalive: number): string {
  // Protocol name and level 4 (3.1.1); flags: user name, password, clean session.
  return packet(0x10, field('MQTT') + chr(4, 0xc2) + word(keepalive) + field(clientId) + field(username) + field(password));
}

/** PUBLISH; `id` is used at QoS 1 only. */
export function publishPacket(topic: string, payload: string, qos: number, id: number): string {
  return packet(0x30 | (qos << 1), field(topic) + (qos ? word(id) : '') + payload);
}

/** The same PUBLISH with its DUP flag set, for sending again after a reconnect [MQTT-3.3.1-1, MQTT-4.4.0-1]. */
export function asDuplicate(publish: string): string {
  return chr(publish.charCodeAt(0) | 8) + publish.substring(1);
}

export function pubackPacket(id: number): string {
  return packet(0x40, word(id));
}

/** SUBSCRIBE to one filter; the fixed header's reserved bits are 0010 [MQTT-3.8.1-1]. */
export function subscribePacket(id: number, filter: string, qos: number): string {
  return packet(0x82, word(id) + field(filter) + chr(qos));
}

export function unsubscribePacket(id: number, filter: string): string {
  return packet(0xa2, word(id) + field(filter));
}

export var PINGREQ_PACKET = packet(0xc0, '');
export var DISCONNECT_PACKET = packet(0xe0, '');

/** The 16-bit number at `at` in `bytes` (a packet identifier, a length) [MQTT-1.5.2]. */
export function readWord(bytes: string, at: number): number {
  return (bytes.charCodeAt(at) << 8) | bytes.charCodeAt(at + 1);
}

/** The fields of a PUBLISH, from its first byte (QoS in bits 1–2) and its body [MQTT-3.3]. */
export function parsePublish(first: number, body: string): Publish {
  var at = 2 + readWord(body, 0);
  var id = first & 6 ? readWord(body, at) : 0;
  return { topic: body.substring(2, at), id: id, payload: body.substring(id ? at + 2 : at) };
}

/** What the reader throws for bytes that are not MQTT. */
export var MALFORMED = new Error('malformed MQTT');

/**
 * A reader for the broker's byte stream: feed it chunks as they arrive (several packets in one
 * chunk, or one packet over many); it calls `onPacket` with each whole packet's first byte
 * (type and flags) and body, in order. Throws MALFORMED on a remaining length longer than 4
 * bytes, which no broker sends [MQTT-2.2.3]; what `onPacket` throws passes through, and the
 * packets after it wait for the next call (`read('')` goes on with them).
 */
export function packetReader(onPacket: (first: number, body: string) => void): (chunk: string) => void {
  var buf = '';
  return (chunk) => {
    buf += chunk;
    while (buf.length > 1) {
      var len = 0;
      var scale = 1;
      var at = 1;
      var c: number;
      do {
        if (at >= buf.length) return; // the length itself is not complete yet
        if (at > 4) throw MALFORMED;
        c = buf.charCodeAt(at++);
        len += (c & 127) * scale;
        scale *= 128;
      } while (c & 128);
      if (buf.length < at + len) return;
      var first = buf.charCodeAt(0);
      var body = buf.substring(at, at + len);
      buf = buf.substring(at + len); // before onPacket, which may throw
      onPacket(first, body);
    }
  };
}
