// UTF-8 for platforms with neither TextDecoder nor Buffer (Espruino): is a payload text?
//
// Written in the Espruino subset (DESIGN.md, Device SDK).

/**
 * True when `bytes` are UTF-8 by their structure: each lead byte (C2–F4) followed by as many
 * continuation bytes (80–BF) as it announces. Overlong three- and four-byte forms and encoded
 * surrogates, which no encoder writes, are not looked for: the module stays small.
 */
export function isUtf8(bytes: Uint8Array): boolean {
  var i = 0;
  while (i < bytes.length) {
    var c = bytes[i++]!;
    if (c < 0x80) continue;
    if (c < 0xc2 || c > 0xf4) return false;
    // Past the end, bytes[i] is undefined and fails the test like any other non-continuation.
    for (var more = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : 1; more--;) if ((bytes[i++]! & 0xc0) !== 0x80) return false;
  }
  return true;
}
