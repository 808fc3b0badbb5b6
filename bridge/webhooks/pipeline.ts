// One delivery attempt, as a list of small named steps (DESIGN.md, Webhooks):
//
//   throttle gate → render → check → sign → send → classify → record → respond
//
// (match happens when an event is accepted; scheduling the retry happens when the recorded
// outcome is settled.) A failing integration never affects another: every step's error
// becomes this attempt's outcome, never a throw. A failure the bridge raises itself (a
// template that cannot render, a request over the limits, a target the egress policy
// refuses) says nothing about the host, so it is not scored against the host's throttle:
// one device's data must not put a host to sleep for every other device. `record` hands the attempt's AttemptRecord
// to the engine's `outcome` port: outcomes settle it, observers read it.

import type { HookwireEvent } from '../events/index.ts';
import type { Logger } from '../log.ts';
import type { Integration } from './integration.ts';
import { parseRetryAfter } from './retry.ts';
import { renderRequest, eventView, type OutgoingRequest, type View } from './render.ts';
import type { Code, Failure } from '../codes.ts';
import { TemplateError } from '../errors.ts';
import { checkRequest } from './limits.ts';
import { DEVICE_LIMIT_BYTES, capBytes, errorTopic, responseData, responseTopic, sentTopic, splitParts } from './respond.ts';
import type { HttpResponse, SendFailure, Sender } from './send.ts';
import { webhookHeaders, type SigningKeys } from './signing.ts';
import { scoresHost, type HostThrottle } from './throttle.ts';

/** Publishes a cloud event to the broker and the event bus. */
export type Publish = (name: string, payload: Buffer, qos: 0 | 1) => void;

/** A delivery (event × integration) being attempted. */
export interface Job {
  /** The delivery's ID in the store. */
  id: number;
  integrationId: string;
  event: HookwireEvent;
  /** Target hostname: its lane and its throttle score. */
  host: string;
  /** Attempts made before this one. */
  attempts: number;
}

/** The Standard Webhooks message ID: the same on every attempt of a delivery (an idempotency key). */
export function webhookId(job: Pick<Job, 'event' | 'integrationId'>): string {
  return `msg_${job.event.id}_${job.integrationId}`;
}

export type AttemptKind =
  | 'success'
  | 'failure'
  | 'skipped' // the host is asleep: not sent
  | 'stopped'; // the integration was deleted or disabled since the event was accepted

export interface AttemptResult {
  kind: AttemptKind;
  event: HookwireEvent;
  request?: OutgoingRequest;
  response?: HttpResponse;
  failure?: SendFailure;
  /** From Retry-After on a 429 or 503. */
  retryAfterMs?: number;
  note?: string;
  durationMs: number;
  /** What the device hears back, decided by classify, published by respond (observers see it too). */
  reply?: { topic: string; data: Buffer; whole: boolean };
}

/** What one attempt leaves behind: settled by outcomes, read by every observer (metrics, dashboard, doctor). */
export interface AttemptRecord extends AttemptResult {
  job: Job;
}

/** The code an attempt ends with: its failure's, else the HTTP status ("200"); '' when nothing was sent. */
export function attemptCode(r: AttemptResult): Code | '' {
  return r.failure?.code ?? (r.response ? `${r.response.status}` : '');
}

export const SLEEPING: SendFailure = { code: 'SLEEPING', message: 'Sleeping, too many errors, please wait and try again' };

export interface PipelineDeps {
  integration: (id: string) => { integration: Integration; signing?: SigningKeys } | undefined;
  throttle: HostThrottle;
  sender: Sender;
  publish: Publish;
  /** Takes each attempt's record: counters, state, logs, the retry if there is one, observers. */
  outcome: (record: AttemptRecord) => void;
  logger: Logger;
  /** Most of a response that is published, bytes (Particle: the first 100 KB). */
  maxResponseBytes: number;
  /** Largest rendered request (URL, headers, body), bytes; larger ones are not sent. */
  maxRequestBytes: number;
  /** Whether this bridge still holds a delivery it is about to attempt (a store shared by several bridges). */
  holds?: (deliveryId: number) => true | Promise<boolean>;
}

/** An attempt in progress (becomes its AttemptRecord). */
interface Attempt extends AttemptRecord {
  integration: Integration;
  signing?: SigningKeys;
  view: View;
  startedAt: number;
  /** A test attempt: the host's throttle score is not touched. */
  dry?: boolean;
}

/** A test attempt's outcome, with what the device would have heard (`reply`). */
export type DryRun = AttemptResult;

const EMPTY = Buffer.alloc(0);

export function createPipeline(deps: PipelineDeps) {
  const { throttle, sender, publish, maxResponseBytes, maxRequestBytes } = deps;
  const log = deps.logger.child({ component: 'webhooks' });
  // Every integration an event triggers renders over the same view.
  const views = new WeakMap<HookwireEvent, View>();
  const viewOf = (event: HookwireEvent) => {
    let view = views.get(event);
    if (!view) views.set(event, (view = eventView(event)));
    return view;
  };

  function templateFailure(err: unknown): SendFailure {
    if (!(err instanceof TemplateError)) throw err;
    return { code: 'TEMPLATE_INVALID', message: `template error: ${err.message}` };
  }

  /** A sleeping host is not called: the attempt is skipped, as Particle does. */
  function gate(a: Attempt): void {
    if (throttle.allows(a.job.host)) return;
    a.kind = 'skipped';
    a.failure = SLEEPING;
  }

  function render(a: Attempt): void {
    try {
      a.request = renderRequest(a.integration, a.event, a.view);
    } catch (err) {
      a.kind = 'failure';
      a.failure = templateFailure(err);
    }
  }

  /** A request over the size limit, or with a header HTTP cannot carry, is not sent. */
  function check(a: Attempt): void {
    const refused = checkRequest(a.request!, maxRequestBytes);
    if (!refused) return;
    a.kind = 'failure';
    a.failure = refused;
  }

  /** The Standard Webhooks headers, and the signature when the integration has a secret. */
  function sign(a: Attempt): void {
    Object.assign(a.request!.headers, webhookHeaders(webhookId(a.job), a.request!.body ?? '', a.signing));
  }

  async function send(a: Attempt): Promise<void> {
    const result = await sender.send(a.request!, a.integration.rejectUnauthorized);
    a.response = result.response;
    if (result.ok) return;
    a.kind = 'failure';
    a.failure = result.failure;
    const status = result.response?.status;
    if (status === 429 || status === 503) {
      const wait = parseRetryAfter(result.response!.headers['retry-after']);
      if (wait !== undefined) a.retryAfterMs = wait;
    }
  }

  /** Score the host, and decide what the device hears back. */
  function classify(a: Attempt): void {
    const { integration: t, event, view } = a;
    if (!a.dry && a.request && scoresHost(a.failure) && throttle.record(a.job.host, a.kind === 'success')) {
      log.warn({ host: a.job.host }, 'host sleeping after too many errors; skipping its deliveries until it is quiet');
    }
    try {
      if (a.failure) {
        a.reply = { topic: errorTopic(t, event, view), data: Buffer.from(a.failure.message), whole: false };
        return;
      }
      const data = responseData(t, a.response!);
      if (!data) return; // an empty body: nothing to send
      const topic = responseTopic(t, event, view);
      if (!t.unchunked) {
        a.reply = { topic, data: capBytes(data, maxResponseBytes), whole: false };
      } else if (data.length <= DEVICE_LIMIT_BYTES) {
        a.reply = { topic, data, whole: true };
      } else {
        a.note = `response of ${data.length} bytes discarded: unchunked responses must fit the ${DEVICE_LIMIT_BYTES}-byte device limit`;
        log.warn({ integrationId: t.id, event: event.name, bytes: data.length }, a.note);
      }
    } catch (err) {
      // A topic template that renders badly: say so where the device would look by default.
      a.kind = 'failure';
      a.failure = templateFailure(err);
      a.reply = { topic: errorTopic({ ...t, errorResponseTopic: undefined }, event, view), data: Buffer.from(a.failure.message), whole: false };
    }
  }

  function record(a: Attempt): void {
    a.durationMs = performance.now() - a.startedAt;
    deps.outcome(a);
    if (a.failure) log.debug({ integrationId: a.integration.id, event: a.event.name, code: a.failure.code }, a.failure.message);
  }

  function respond(a: Attempt): void {
    // The request reached the server: Particle's hook-sent, whatever the status.
    if (a.response) publish(sentTopic(a.event), EMPTY, 0);
    if (!a.reply) return;
    const { topic, data, whole } = a.reply;
    // Particle: 512-byte parts on <topic>/0, /1, ...; an unchunked response is the one part /0.
    const parts = whole ? [data] : splitParts(data);
    for (let i = 0; i < parts.length; i++) publish(`${topic}/${i}`, parts[i]!, 1);
  }

  /** One attempt of one delivery, through every step. Never throws. */
  /**
   * False when another bridge has taken the delivery over (this bridge's lease ended while it
   * waited here, paused): it is that bridge's now. When the store cannot say, the attempt goes
   * ahead: a duplicate, with the same webhook-id, rather than a delivery nobody runs.
   */
  async function stillHeld(job: Job): Promise<boolean> {
    const held = deps.holds?.(job.id);
    if (held === undefined || held === true) return true;
    try {
      if (await held) return true;
    } catch (err) {
      log.warn({ err, deliveryId: job.id }, 'could not check the delivery is still this bridge\'s: attempting it');
      return true;
    }
    log.warn({ deliveryId: job.id, integrationId: job.integrationId }, 'delivery taken over by another bridge while it waited here: not attempted');
    return false;
  }

  async function attempt(job: Job): Promise<void> {
    if (deps.holds && !(await stillHeld(job))) return; // one bridge holds every delivery it runs
    const found = deps.integration(job.integrationId);
    if (!found || found.integration.disabled) {
      const failure: Failure = found ? { code: 'DISABLED', message: 'the integration is disabled' } : { code: 'INTEGRATION_DELETED', message: 'the integration was deleted' };
      deps.outcome({ job, kind: 'stopped', event: job.event, failure, durationMs: 0 });
      return;
    }
    const a: Attempt = { kind: 'success', job, event: job.event, integration: found.integration, view: viewOf(job.event), startedAt: performance.now(), durationMs: 0 };
    if (found.signing) a.signing = found.signing;
    try {
      gate(a);
      if (a.kind === 'success') render(a);
      if (a.kind === 'success') check(a);
      if (a.kind === 'success') sign(a);
      if (a.kind === 'success') await send(a);
      classify(a);
      record(a);
      respond(a);
    } catch (err) {
      // A bug, not the target's fault: counted as this attempt's error, never a crash.
      log.error({ err, integrationId: job.integrationId, event: job.event.name }, 'delivery failed unexpectedly');
      deps.outcome({ job, kind: 'failure', event: job.event, failure: { code: 'EINTERNAL', message: `internal error: ${(err as Error).message}` }, durationMs: performance.now() - a.startedAt });
    }
  }

  /**
   * A test attempt (POST /v1/integrations/:id/test): render → send → classify, and nothing
   * else. No throttle gate or score (a test of a sleeping host still calls it), no record
   * (counters, state, logs, retries), nothing published to devices. Never throws.
   */
  async function dryRun(integration: Integration, signing: SigningKeys | undefined, event: HookwireEvent): Promise<DryRun> {
    const job: Job = { id: 0, integrationId: integration.id, event, host: '', attempts: 0 };
    const a: Attempt = { kind: 'success', job, event, integration, view: eventView(event), startedAt: performance.now(), durationMs: 0, dry: true };
    if (signing) a.signing = signing;
    try {
      render(a);
      if (a.kind === 'success') check(a);
      if (a.kind === 'success') sign(a);
      if (a.kind === 'success') await send(a);
      classify(a);
    } catch (err) {
      a.kind = 'failure';
      a.failure = { code: 'EINTERNAL', message: `internal error: ${(err as Error).message}` };
    }
    a.durationMs = performance.now() - a.startedAt;
    const out: DryRun = { kind: a.kind, event, durationMs: a.durationMs };
    if (a.request) out.request = a.request;
    if (a.response) out.response = a.response;
    if (a.failure) out.failure = a.failure;
    if (a.retryAfterMs !== undefined) out.retryAfterMs = a.retryAfterMs;
    if (a.note) out.note = a.note;
    if (a.reply) out.reply = a.reply;
    return out;
  }

  return { attempt, dryRun };
}

export type Pipeline = ReturnType<typeof createPipeline>;
