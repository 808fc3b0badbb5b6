// Testing an integration (POST /v1/integrations/:id/test, Particle's "Test" button): a
// synthetic event goes through the real render → send → classify steps (pipeline.dryRun),
// and the answer says what happened in Particle's `{pass, data, error}` plus the request
// and response as a delivery log shows them (secrets redacted), and guidance on failure.
// Nothing is stored or published: no delivery, counters, state, logs, throttle score or
// hook-response.

import { NAME_RULE, isDeviceId, isValidName } from '../../firmware-sdk/rules.ts';
import { eventFrom, isRefused, type HookwireEvent } from '../events/index.ts';
import { InputError, invalidField } from '../errors.ts';
import { guidanceOf, type Guidance } from '../codes.ts';
import type { Integration, WebhookTemplate } from './integration.ts';
import { renderRequest } from './render.ts';
import type { DryRun } from './pipeline.ts';
import { toLog, type DeliveryLog } from './delivery-log.ts';
import { splitParts } from './respond.ts';

/** The device a test event comes from, unless the request or the integration's deviceID names one. */
export const TEST_DEVICE_ID = '000000000000000000000000';
/** The data a test event carries unless the request gives some (Particle's console sends "test-event"). */
export const TEST_DATA = 'test-event';

export interface TestInput {
  /** Event data, as a device would publish it. Default TEST_DATA. */
  data?: string;
  /** The event name; must start with the integration's `event`. Default: the integration's event. */
  name?: string;
  /** PARTICLE_DEVICE_ID. Default: the integration's deviceID, else TEST_DEVICE_ID. */
  deviceId?: string;
}

export interface TestResult {
  /** Particle's fields: whether the target answered 2xx; what the device would hear; the error text. */
  pass: boolean;
  data: string | null;
  error: string | null;
  /** The failure's stable code (an HTTP status, ECONNREFUSED, TEMPLATE_INVALID, ...). */
  code?: string;
  guidance?: Guidance;
  event: DeliveryLog['event'];
  request?: DeliveryLog['request'];
  response?: DeliveryLog['response'];
  duration_ms: number;
  /** Where the device would have heard the outcome, and in how many 512-byte parts (not published). */
  would_publish?: { topic: string; parts: number };
  note?: string;
  /** The target host is asleep after too many errors: real deliveries to it are being skipped now. */
  host_sleeping: boolean;
  /** The integration is disabled: real events do not trigger it. */
  disabled: boolean;
}


/** The synthetic event a test sends; a BAD_REQUEST naming the field when the input is unusable. */
export function testEvent(integration: Pick<Integration, 'event' | 'deviceID' | 'productId'>, input: TestInput): HookwireEvent {
  const name = input.name ?? integration.event;
  if (!isValidName(name)) invalidField('name', `must be ${NAME_RULE}`);
  // Particle: `event` is a prefix; a name it does not start with would never trigger this integration.
  if (!name.startsWith(integration.event)) invalidField('name', `must start with the integration's event "${integration.event}"`);
  const coreid = input.deviceId ?? integration.deviceID ?? TEST_DEVICE_ID;
  if (!isDeviceId(coreid)) invalidField('device_id', 'must be a device ID (24 lowercase hex characters)');
  const event = eventFrom(name, Buffer.from(input.data ?? TEST_DATA), { coreid, productId: integration.productId, firmwareVersion: null }, 'cloud');
  if (isRefused(event)) throw new InputError(event.code, event.message, { field: 'data' });
  return event;
}

/** The answer to a test, from the dry attempt's outcome. */
export function testResult(run: DryRun, facts: { hostSleeping: boolean; disabled: boolean }): TestResult {
  const log = toLog(run);
  const pass = run.kind === 'success';
  // Fields in reading order: the verdict, why, then the exchange.
  const out: TestResult = {
    pass,
    data: pass ? (run.reply ? run.reply.data.toString('utf8') : null) : null,
    error: run.failure?.message ?? null,
    ...(run.failure ? { code: run.failure.code, guidance: guidanceOf(run.failure.code) } : {}),
    event: log.event,
    ...(log.request ? { request: log.request } : {}),
    ...(log.response ? { response: log.response } : {}),
    duration_ms: log.durationMs,
    ...(run.reply ? { would_publish: { topic: run.reply.topic, parts: run.reply.whole ? 1 : splitParts(run.reply.data).length } } : {}),
    ...(run.note ? { note: run.note } : {}),
    host_sleeping: facts.hostSleeping,
    disabled: facts.disabled,
  };
  return out;
}

/** What a template would send for a sample event, before it is saved: the console's live preview. */
export interface Preview {
  event: DeliveryLog['event'];
  request: { method: string; url: string; headers: Record<string, string>; body: string | null };
}

/**
 * Render a template (not stored, nothing sent) for a sample event. A template the API would
 * refuse, or one that does not render for this event, throws the same error naming the field.
 */
export function previewRequest(template: WebhookTemplate, productId: number | null, input: TestInput): Preview {
  const event = testEvent({ event: template.event, deviceID: template.deviceID, productId }, input);
  const request = renderRequest(template, event);
  return {
    event: { id: event.id, name: event.name, data: event.data, coreid: event.coreid, published_at: event.published_at },
    request: { method: request.method, url: request.url, headers: request.headers, body: request.body ?? null },
  };
}
