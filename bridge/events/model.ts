// The event model (DESIGN.md, The event model): what a publish becomes at ingest. Events are
// made by ingest.ts alone (`makeEvent` is not exported from events/).

import { isUtf8 } from 'node:buffer';
import { decode } from 'cbor-x';
import { dataLimit, isTyped } from '../../firmware-sdk/rules.ts';
import type { Failure } from '../codes.ts';
import { newEventId } from '../ids.ts';

/** How the data was sent: UTF-8 text, typed (CBOR) data, or other bytes. */
export type DataType = 'text' | 'typed' | 'binary';

export interface HookwireEvent {
  /** Unique, assigned at ingress, sortable by time. */
  id: string;
  /** The event name (== MQTT topic). */
  name: string;
  /** Text as sent; for typed data its JSON text; for binary data its base64. */
  data: string;
  type: DataType;
  /** The decoded value of typed data. */
  value?: unknown;
  /** ISO-8601, assigned at ingress. */
  published_at: string;
  /** The publishing device, or `hookwire` for events the cloud makes. */
  coreid: string;
  product_id: number | null;
  fw_version: number | null;
}

/** The `coreid` of events the cloud makes (hook-sent, hook-response, hook-error, state events). */
export const CLOUD_COREID = 'hookwire';

/** The `coreid` of events published through the API (POST /v1/devices/events), as Particle shows them. */
export const API_COREID = 'api';

export interface Publisher {
  coreid: string;
  productId: number | null;
  firmwareVersion: number | null;
}

export type DecodedData = Pick<HookwireEvent, 'data' | 'type' | 'value'>;

/** Why a payload cannot be event data. */
export type DataError = Failure<'EVENT_TOO_LARGE' | 'EVENT_DATA_INVALID'>;

/** JSON for typed values: bytes as base64, big integers as numbers when exact, else strings. */
function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
  }
  if (value instanceof Map) return Object.fromEntries(value);
  if (value instanceof Set) return [...value];
  if (value && typeof value === 'object' && 'type' in value && value.type === 'Buffer' && 'data' in value && Array.isArray(value.data)) {
    return Buffer.from(value.data as number[]).toString('base64'); // a Buffer after its own toJSON
  }
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
  return value;
}

export function toJson(value: unknown): string {
  return JSON.stringify(value, jsonReplacer) ?? 'null';
}

/** Turn a payload into event data, or say why it is refused. */
export function decodePayload(payload: Buffer): DecodedData | DataError {
  const typed = isTyped(payload);
  const binary = !typed && !isUtf8(payload);
  const limit = dataLimit(typed || binary);
  if (payload.length > limit) {
    return { code: 'EVENT_TOO_LARGE', message: `event data is ${payload.length} bytes; the limit is ${limit} for ${typed ? 'typed' : binary ? 'binary' : 'text'} data` };
  }
  if (typed) {
    let value: unknown;
    try {
      value = decode(payload.subarray(3));
    } catch (err) {
      return { code: 'EVENT_DATA_INVALID', message: `typed data is not valid CBOR: ${(err as Error).message}` };
    }
    return { data: toJson(value), type: 'typed', value };
  }
  if (binary) return { data: payload.toString('base64'), type: 'binary' };
  return { data: payload.toString('utf8'), type: 'text' };
}

export function isDataError(d: DecodedData | DataError): d is DataError {
  return 'code' in d;
}

// Events arrive thousands a second: format each millisecond's timestamp once.
let isoMs = -1;
let isoText = '';
/** `new Date(ms).toISOString()`, formatted once per millisecond. */
export function isoAt(ms: number): string {
  if (ms !== isoMs) {
    isoMs = ms;
    isoText = new Date(ms).toISOString();
  }
  return isoText;
}

/** A new event from already-validated parts. */
export function makeEvent(name: string, data: DecodedData, from: Publisher, now = Date.now()): HookwireEvent {
  const event: HookwireEvent = {
    id: newEventId(now),
    name,
    data: data.data,
    type: data.type,
    published_at: isoAt(now),
    coreid: from.coreid,
    product_id: from.productId,
    fw_version: from.firmwareVersion,
  };
  if (data.value !== undefined) event.value = data.value;
  return event;
}
