// CBOR (RFC 8949) for platforms without cbor-x (Espruino): typed event data, written the way
// cbor-x writes it on Node so a device sends the same bytes on either platform, and read
// whatever a standard encoder sends.
//
// Encoding follows cbor-x (`useRecords: false, mapsAsObjects: true`): integers up to 32 bits
// in their shortest form, other numbers as 64-bit floats, maps with a 16-bit count, byte
// arrays as tag 64 (RFC 8746: uint8 typed array). Text is turned into UTF-8 by the platform
// (`Strings`), because Espruino has two kinds of string (docs/espruino.md, Strings).
//
// Written in the Espruino subset (DESIGN.md, Device SDK).

/** How a platform turns text into bytes and back. Bytes are byte strings (one character per byte). */
export interface Strings {
  /** The UTF-8 bytes of `text`. */
  utf8: (text: string) => string;
  /** The text that UTF-8 bytes encode. */
  text: (bytes: string) => string;
  /** A byte string holding `bytes`. */
  bin: (bytes: Uint8Array) => string;
}

var chr = String.fromCharCode;

/** An item's head: major type and argument, the argument in its shortest form [RFC 8949 §3]. */
function head(major: number, n: number): string {
  var m = major << 5;
  if (n < 24) return chr(m | n);
  if (n < 0x100) return chr(m | 24, n);
  if (n < 0x10000) return chr(m | 25, n >> 8, n & 255);
  return chr(m | 26, (n >>> 24) & 255, (n >> 16) & 255, (n >> 8) & 255, n & 255);
}

/** `value` as CBOR, a byte string. Functions and other non-data values are written as null. */
export function cborEncode(value: unknown, strings: Strings): string {
  if (typeof value === 'boolean') return chr(value ? 0xf5 : 0xf4);
  if (value === undefined) return chr(0xf7);
  if (typeof value === 'number') {
    if (value % 1 === 0 && value <= 0xffffffff && value >= -0x100000000) {
      return value < 0 ? head(1, -1 - value) : head(0, value);
    }
    var bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setFloat64(0, value);
    return chr(0xfb) + strings.bin(bytes);
  }
  if (typeof value === 'string') {
    var text = strings.utf8(value);
    return head(3, text.length) + text;
  }
  if (value instanceof Uint8Array) return chr(0xd8, 64) + head(2, value.length) + strings.bin(value);
  if (value !== null && typeof value === 'object') {
    var list = Array.isArray(value);
    var keys = Object.keys(value);
    var n = keys.length;
    // cbor-x always writes a map's count in 16 bits (event data is far below 65,536 keys).
    var out = list ? head(4, n) : chr(0xb9, n >> 8, n & 255);
    for (var i = 0; i < n; i++) {
      out += (list ? '' : cborEncode(keys[i], strings)) + cborEncode((value as { [key: string]: unknown })[keys[i]!], strings);
    }
    return out;
  }
  return chr(0xf6);
}

/** What decoding throws for data that is not CBOR a device can take. */
const MALFORMED = 'malformed CBOR';

/**
 * The value CBOR `bytes` hold. Maps become objects (keys as text), byte strings Uint8Arrays;
 * tags are read through to the value. Throws on what a device cannot take: indefinite
 * lengths, and data that ends early (so a hostile count cannot keep it looping).
 */
export function cborDecode(bytes: Uint8Array, strings: Strings): unknown {
  var at = 0;
  function uint(size: number): number {
    var v = 0;
    while (size--) v = v * 256 + bytes[at++]!;
    return v;
  }
  function item(): unknown {
    if (at >= bytes.length) throw new Error(MALFORMED); // data ends early; also ends a hostile count's loop
    var first = bytes[at++]!;
    var major = first >> 5;
    var info = first & 31;
    if (info > 27) throw new Error(MALFORMED); // indefinite lengths are not supported
    var n = info < 24 ? info : uint(1 << (info - 24));
    if (major === 7) {
      if (info === 25) {
        // A half-precision float [RFC 8949 Appendix D].
        var exp = (n >> 10) & 31;
        var frac = n & 1023;
        var v = exp === 31 ? (frac ? NaN : Infinity) : (exp ? frac + 1024 : frac * 2) * Math.pow(2, exp - 25);
        return n & 0x8000 ? -v : v;
      }
      // A float's 4 or 8 bytes were read into `n` as an integer; read them again as a float.
      var size = 1 << (info - 24);
      if (info > 25) return (new DataView(bytes.buffer, bytes.byteOffset + at - size) as unknown as { [get: string]: (at: number) => number })['getFloat' + size * 8]!(0);
      return n === 20 ? false : n === 21 ? true : n === 22 ? null : undefined;
    }
    if (major < 2) return major ? -1 - n : n;
    var i: number;
    if (major < 4) {
      var part = bytes.subarray(at, at + n);
      at += n;
      return major === 2 ? part : strings.text(strings.bin(part));
    }
    if (major === 4) {
      var list: unknown[] = [];
      for (i = 0; i < n; i++) list.push(item());
      return list;
    }
    if (major === 5) {
      var obj: { [key: string]: unknown } = {};
      for (i = 0; i < n; i++) {
        var key = String(item()); // the key is read before its value
        obj[key] = item();
      }
      return obj;
    }
    return item(); // a tag: its number is read above, the tagged item is the value
  }
  var value = item();
  if (at > bytes.length) throw new Error(MALFORMED);
  return value;
}
