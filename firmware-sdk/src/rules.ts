// Event-name and event-data rules, shared by the device SDK (which checks before sending)
// and the bridge (which enforces them in the broker). One source of truth for both.
//
// Written in the Espruino subset (DESIGN.md, Device SDK): plain functions, `var`, no
// destructuring, default or rest parameters, spread, Map/Set, `?.`, or `for (let ...)`.
// Constants are `const`: the bundler writes their values in place, so on a board they take
// no variable. test/firmware-sdk/espruino-subset.test.ts walks the bundled output and fails on
// anything Espruino lacks.

/** Longest event name, in characters (Particle: 1–64 ASCII characters). */
export const MAX_NAME_LENGTH = 64;
/** Most bytes of data in a classic (UTF-8 text) event, as Particle. */
export const MAX_TEXT_DATA_BYTES = 1024;
/** Most bytes of data in a typed (CBOR) or binary event, as Particle's extended publish. */
export const MAX_TYPED_DATA_BYTES = 16384;
/** The CBOR self-describe tag 55799 (RFC 8949 §3.4.6) that marks typed data. */
export var CBOR_TAG = [0xd9, 0xd9, 0xf7];
/** Level after a device ID where the bridge tells a device why it refused something. */
export const ERROR_LEVEL = 'hookwire/error';

/** The rules in words, for error messages and guidance (the SDK's module leaves them out). */
export const NAME_RULE = '1-64 characters of A-Z a-z 0-9 _ - /';
export const RESERVED_RULE = 'event names starting with hook-sent, hook-response, hook-error, spark, particle or hookwire are reserved for the cloud';
export const PRIVATE_RULE = "events under another device's ID are private to that device";

/** Stable codes for a name or payload that is refused. */
export const EVENT_NAME_INVALID = 'EVENT_NAME_INVALID';
export const EVENT_NAME_RESERVED = 'EVENT_NAME_RESERVED';
export const EVENT_PRIVATE_SPACE = 'EVENT_PRIVATE_SPACE';
export const EVENT_TOO_LARGE = 'EVENT_TOO_LARGE';

// Regular expressions in the forms Espruino runs: no `{n}` counts, no `(?:`, no lookaround.
var HEX = /^[\da-f]+$/;
var NAME = /^[\w\-\/]+$/;
var RESERVED = /^(hook-(sent|response|error)|spark|particle|hookwire)/i;

/** A device ID: 24 lowercase hexadecimal characters. */
export function isDeviceId(s: string): boolean {
  return s.length === 24 && HEX.test(s);
}

/**
 * The device whose private space `name` lies in (its first level is a device ID),
 * or '' when the name is fleet-wide.
 */
export function privateOwner(name: string): string {
  var first = name.substring(0, 24);
  return (name.length === 24 || name.charAt(24) === '/') && isDeviceId(first) ? first : '';
}

/** 1–64 characters of `A-Z a-z 0-9 _ - /`; anything else (`+`, `#`, `$`, spaces) is invalid. */
export function isValidName(name: string): boolean {
  return name.length <= MAX_NAME_LENGTH && NAME.test(name);
}

/**
 * Names the cloud keeps for itself: `hook-sent`, `hook-response`, `hook-error`, and anything
 * starting with `spark`, `particle` or `hookwire` (any case), at the start of the name or
 * as the level after a device ID.
 */
export function isReservedName(name: string): boolean {
  return RESERVED.test(privateOwner(name) ? name.substring(25) : name);
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
  return bytes[0] === 0xd9 && bytes[1] === 0xd9 && bytes[2] === 0xf7; // past the end: undefined
}

/** Most data bytes an event may carry: typed and binary events get the larger limit. */
export function dataLimit(typedOrBinary: boolean): number {
  return typedOrBinary ? MAX_TYPED_DATA_BYTES : MAX_TEXT_DATA_BYTES;
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
