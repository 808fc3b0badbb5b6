// MQTT 3.1.1 framing for platforms without an MQTT client of their own (Espruino): the pieces
// a device's packets are written with, and a reader that cuts the broker's byte stream into
// packets however it is split into chunks. The transport (espruino.ts) writes each packet from
// these pieces where it sends it: on a board every function costs about six variables of RAM,
// so there is no function per packet kind.
//
// Packets are byte strings (one character per byte, 0–255), the form Espruino's sockets read
// and write. Topics and text must already be UTF-8 bytes: lengths are counted here in bytes,
// never in characters [MQTT-1.5.3].
//
// Written in the Espruino subset (DESIGN.md, Device SDK).

/** Control packet types [MQTT-2.2.1] (constants: the bundler writes their values in place). */
export const CONNACK = 2;
export const PUBLISH = 3;
export const PUBACK = 4;
export const SUBACK = 9;
export const PINGRESP = 13;

export var chr = String.fromCharCode;

/** A 16-bit number, most significant byte first [MQTT-1.5.2]. */
export function word(n: number): string {
  return chr((n >> 8) & 255, n & 255);
}

/** A length-prefixed field: a string's bytes with their count first [MQTT-1.5.3]. */
export function field(bytes: string): string {
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

/** The 16-bit number at `at` in `bytes` (a packet identifier, a length) [MQTT-1.5.2]. */
export function readWord(bytes: string, at: number): number {
  return (bytes.charCodeAt(at) << 8) | bytes.charCodeAt(at + 1);
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
