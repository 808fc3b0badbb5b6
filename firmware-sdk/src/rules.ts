// Event-name and event-data rules, shared by the device SDK (which checks before sending)
// and the bridge (which enforces them in the broker). One source of truth for both.
//
// Written in the Espruino subset (DESIGN.md, Device SDK): plain functions, `var`, no
// destructuring, default or rest parameters, spread, Map/Set, `?.`, or `for (let ...)`.
// test/sdk-espruino-subset.test.ts walks the bundled output and fails on any of them.

/** Longest event name, in characters (Particle: 1–64 ASCII characters). */
export var MAX_NAME_LENGTH = 64;
/** Most bytes of data in a classic (UTF-8 text) event, as Particle. */
export var MAX_TEXT_DATA_BYTES = 1024;
/** Most bytes of data in a typed (CBOR) or binary event, as Particle's extended publish. */
export var MAX_TYPED_DATA_BYTES = 16384;
/** The CBOR self-describe tag 55799 (RFC 8949 §3.4.6) that marks typed data. */
export var CBOR_TAG = [0xd9, 0xd9, 0xf7];
/** Level after a device ID where the bridge tells a device why it refused something. */
export var ERROR_LEVEL = 'hookwire/error';

/** Stable codes for a name or payload that is refused. */
export var EVENT_NAME_INVALID = 'EVENT_NAME_INVALID';
export var EVENT_NAME_RESERVED = 'EVENT_NAME_RESERVED';
export var EVENT_PRIVATE_SPACE = 'EVENT_PRIVATE_SPACE';
export var EVENT_TOO_LARGE = 'EVENT_TOO_LARGE';

/** A device ID: 24 lowercase hexadecimal characters. */
export function isDeviceId(s: string): boolean {
  if (s.length !== 24) return false;
  for (var i = 0; i < 24; i++) {
    var c = s.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}

/**
 * The device whose private space `name` lies in (its first level is a device ID),
 * or '' when the name is fleet-wide.
 */
export function privateOwner(name: string): string {
  if (name.length < 24 || (name.length > 24 && name.charCodeAt(24) !== 47)) return '';
  var first = name.substring(0, 24);
  return isDeviceId(first) ? first : '';
}

/** 1–64 characters of `A-Z a-z 0-9 _ - /`; anything else (`+`, `#`, `$`, spaces) is invalid. */
export function isValidName(name: string): boolean {
  var n = name.length;
  if (n < 1 || n > MAX_NAME_LENGTH) return false;
  for (var i = 0; i < n; i++) {
    var c = name.charCodeAt(i);
    var ok = (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) ||
      c === 95 || c === 45 || c === 47;
    if (!ok) return false;
  }
  return true;
}

function startsWithFold(s: string, prefix: string): boolean {
  return s.length >= prefix.length && s.substring(0, prefix.length).toLowerCase() === prefix;
}

/**
 * Names the cloud keeps for itself: `hook-sent`, `hook-response`, `hook-error`, and anything
 * starting with `spark`, `particle` or `hookwire` (any case), at the start of the name or
 * as the level after a device ID.
 */
export function isReservedName(name: string): boolean {
  var rest = privateOwner(name) ? name.substring(25) : name;
  return startsWithFold(rest, 'hook-sent') || startsWithFold(rest, 'hook-response') ||
    startsWithFold(rest, 'hook-error') || startsWithFold(rest, 'spark') ||
    startsWithFold(rest, 'particle') || startsWithFold(rest, 'hookwire');
}

/**
 * Why device `deviceId` may not publish event `name`, as a stable code, or '' when it may.
 */
export function publishNameError(name: string, deviceId: string): string {
  if (!isValidName(name)) return EVENT_NAME_INVALID;
  var owner = privateOwner(name);
  if (owner && owner !== deviceId) return EVENT_PRIVATE_SPACE;
  if (isReservedName(name)) return EVENT_NAME_RESERVED;
  return '';
}

/** True when `bytes` begins with the CBOR self-describe tag, i.e. carries typed data. */
export function isTyped(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0xd9 && bytes[1] === 0xd9 && bytes[2] === 0xf7;
}

/** Most data bytes an event may carry: typed and binary events get the larger limit. */
export function dataLimit(typedOrBinary: boolean): number {
  return typedOrBinary ? MAX_TYPED_DATA_BYTES : MAX_TEXT_DATA_BYTES;
}

/** Bytes `s` takes in UTF-8, counted without an encoder (Espruino has none). */
export function utf8Length(s: string): number {
  var n = 0;
  var len = s.length;
  for (var i = 0; i < len; i++) {
    var c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < len) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/**
 * The narrowest MQTT filter that covers every event name starting with `prefix`: all its
 * complete levels plus `#`. The last, partial level is filtered by the caller
 * (Particle's subscribe is a string prefix; MQTT filters work per level).
 */
export function filterForPrefix(prefix: string): string {
  var slash = prefix.lastIndexOf('/');
  return slash < 0 ? '#' : prefix.substring(0, slash + 1) + '#';
}
