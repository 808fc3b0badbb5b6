// Respond: what the device hears back (PARTICLE.md §3): `hook-sent/<event>`, the response in
// 512-byte parts on `<responseTopic>/<index>`, errors on `<errorResponseTopic>/<index>`.
// What the cloud says about an event in a device's private space goes to that device's space
// only (`<deviceID>/hook-sent/<event>`): a shared topic would show every device its name.

import { isUtf8 } from 'node:buffer';
import { MAX_TEXT_DATA_BYTES, isDeviceId, privateOwner } from '../../firmware-sdk/rules.ts';
import type { HookwireEvent } from '../events/index.ts';
import type { WebhookTemplate } from './integration.ts';
import { render, type View } from './render.ts';
import { TemplateError } from '../errors.ts';
import type { HttpResponse } from './send.ts';

/** Particle: every part but the last is exactly 512 bytes. */
export const PART_BYTES = 512;
/** An unchunked response must fit one event a device can take. */
export const DEVICE_LIMIT_BYTES = MAX_TEXT_DATA_BYTES;
/** Longest topic the cloud publishes: a device ID, a hook level, a 64-character event, an index. */
const MAX_TOPIC_LENGTH = 256;

function isContinuationByte(b: number): boolean {
  return (b & 0xc0) === 0x80;
}

/**
 * Cut `body` into parts of at most `size` bytes. UTF-8 text is cut on character boundaries
 * (a part ends before a character that would straddle it); other bytes at exactly `size`.
 */
export function splitParts(body: Buffer, size = PART_BYTES): Buffer[] {
  const text = isUtf8(body);
  const parts: Buffer[] = [];
  let start = 0;
  while (start < body.length) {
    let end = Math.min(start + size, body.length);
    if (text && end < body.length) {
      while (end > start && isContinuationByte(body[end]!)) end--;
    }
    parts.push(body.subarray(start, end));
    start = end;
  }
  return parts;
}

/** The first `max` bytes, on a character boundary when the body is UTF-8 text. */
export function capBytes(body: Buffer, max: number): Buffer {
  if (body.length <= max) return body;
  let end = max;
  if (isUtf8(body)) while (end > 0 && isContinuationByte(body[end]!)) end--;
  return body.subarray(0, end);
}

function contentType(response: HttpResponse): string {
  const ct = response.headers['content-type'];
  return (Array.isArray(ct) ? ct[0] : ct)?.split(';')[0]?.trim() || 'application/octet-stream';
}

/**
 * What the device gets for a successful response: the body, or `responseTemplate` rendered
 * over the body parsed as JSON, or a `data:` URL. Undefined when there is nothing to send.
 */
export function responseData(t: WebhookTemplate, response: HttpResponse): Buffer | undefined {
  if (response.body.length === 0) return undefined;
  let data = response.body;
  if (t.responseTemplate !== undefined) {
    let parsed: unknown = {};
    try {
      parsed = JSON.parse(response.body.toString('utf8'));
    } catch {
      // not JSON: the template sees no fields
    }
    // The same mustache as every other template: `{{x}}` escapes, `{{{x}}}` does not.
    const view = typeof parsed === 'object' && parsed !== null ? parsed as View : {};
    data = Buffer.from(render(t.responseTemplate, view));
  }
  if (t.dataUrlResponseEvent) data = Buffer.from(`data:${contentType(response)};base64,${data.toString('base64')}`);
  return data.length ? data : undefined;
}

function checkTopic(field: string, topic: string): string {
  if (topic.length === 0 || topic.length > MAX_TOPIC_LENGTH || !/^[A-Za-z0-9_\-/]+$/.test(topic)) {
    throw new TemplateError(field, `rendered an invalid event name for this event (${topic.length === 0 ? 'empty' : topic.length > MAX_TOPIC_LENGTH ? `${topic.length} characters` : 'a character outside A-Z a-z 0-9 _ - /'})`);
  }
  return topic;
}

/**
 * The device whose space the cloud's answers about `event` go to: the device that published
 * it, else the owner of the private space it was published into (by the API); '' for neither.
 */
function deviceOf(event: HookwireEvent): string {
  return isDeviceId(event.coreid) ? event.coreid : privateOwner(event.name);
}

/** Particle's `hook-sent/<event>`, in the owner's space when the event is private. */
export function sentTopic(event: HookwireEvent): string {
  const owner = privateOwner(event.name);
  return owner ? `${owner}/hook-sent/${event.name}` : `hook-sent/${event.name}`;
}

/** Where responses go: `responseTopic` rendered, else the triggering device's private space. */
export function responseTopic(t: WebhookTemplate, event: HookwireEvent, view: View): string {
  if (t.responseTopic !== undefined) return checkTopic('responseTopic', render(t.responseTopic, view));
  // Events the cloud made have no device to answer: they get Particle's sandbox topic.
  const device = deviceOf(event);
  return device ? `${device}/hook-response/${event.name}` : `hook-response/${event.name}`;
}

export function errorTopic(t: WebhookTemplate, event: HookwireEvent, view: View): string {
  if (t.errorResponseTopic !== undefined) return checkTopic('errorResponseTopic', render(t.errorResponseTopic, view));
  const device = deviceOf(event);
  return device ? `${device}/hook-error/${event.name}` : `hook-error/${event.name}`;
}
