// The webhook pipeline, a list of small named steps (DESIGN.md, Webhooks):
//
//   match → render → send → classify → record → respond
//
// match picks the integrations an event triggers; each delivery then renders the request,
// sends it, classifies the outcome (a stable code, and what the device hears back), records
// it, and publishes the reply. A failing integration never affects another: every step's error
// becomes that delivery's outcome.

import type { HookwireEvent } from '../events/index.ts';
import type { Logger } from '../log.ts';
import type { Integration } from './integration.ts';
import type { MatchIndex } from './match.ts';
import type { Recorder } from './record.ts';
import { renderRequest, eventView, TemplateError, type OutgoingRequest, type View } from './render.ts';
import { DEVICE_LIMIT_BYTES, capBytes, errorTopic, responseData, responseTopic, splitParts } from './respond.ts';
import type { HttpResponse, SendFailure, Sender } from './send.ts';

/** Publishes a cloud event to the broker and the event bus. */
export type Publish = (name: string, payload: Buffer, qos: 0 | 1) => void;

export interface PipelineDeps {
  index: MatchIndex;
  sender: Sender;
  recorder: Recorder;
  publish: Publish;
  logger: Logger;
  /** Most of a response that is published, bytes (Particle: the first 100 KB). */
  maxResponseBytes: number;
}

/** One event × one integration, as it moves through the steps. */
interface Delivery {
  integration: Integration;
  event: HookwireEvent;
  view: View;
  startedAt: number;
  request?: OutgoingRequest;
  response?: HttpResponse;
  failure?: SendFailure;
  /** What the device hears back, decided by classify, published by respond. */
  reply?: { topic: string; data: Buffer; whole: boolean };
  note?: string;
}

const EMPTY = Buffer.alloc(0);
/** What handle returns for an event that triggers nothing. */
export const DONE = Promise.resolve();

export function createPipeline(deps: PipelineDeps) {
  const { index, sender, recorder, publish, maxResponseBytes } = deps;
  const log = deps.logger.child({ component: 'webhooks' });

  function templateFailure(err: unknown): SendFailure {
    if (!(err instanceof TemplateError)) throw err;
    return { code: 'TEMPLATE_INVALID', message: `template error: ${err.message}` };
  }

  function render(d: Delivery): void {
    try {
      d.request = renderRequest(d.integration, d.event, d.view);
    } catch (err) {
      d.failure = templateFailure(err);
    }
  }

  async function send(d: Delivery): Promise<void> {
    const result = await sender.send(d.request!, d.integration.rejectUnauthorized);
    d.response = result.response;
    if (!result.ok) d.failure = result.failure; // the sender's stable code: a status or a network error
  }

  /** Success or failure, and what the device hears back. */
  function classify(d: Delivery): void {
    const { integration: t, event, view } = d;
    try {
      if (d.failure) {
        d.reply = { topic: errorTopic(t, event, view), data: Buffer.from(d.failure.message), whole: false };
        return;
      }
      const data = responseData(t, d.response!);
      if (!data) return; // an empty body: nothing to send
      const topic = responseTopic(t, event, view);
      if (!t.unchunked) {
        d.reply = { topic, data: capBytes(data, maxResponseBytes), whole: false };
      } else if (data.length <= DEVICE_LIMIT_BYTES) {
        d.reply = { topic, data, whole: true };
      } else {
        d.note = `response of ${data.length} bytes discarded: unchunked responses must fit the ${DEVICE_LIMIT_BYTES}-byte device limit`;
        log.warn({ integrationId: t.id, event: event.name, bytes: data.length }, d.note);
      }
    } catch (err) {
      // A topic template that renders badly: say so where the device would look by default.
      d.failure = templateFailure(err);
      d.reply = { topic: errorTopic({ ...t, errorResponseTopic: undefined }, event, view), data: Buffer.from(d.failure.message), whole: false };
    }
  }

  function record(d: Delivery): void {
    recorder.record(d.integration.id, { event: d.event, durationMs: performance.now() - d.startedAt, ...pick(d) });
    if (d.failure) log.debug({ integrationId: d.integration.id, event: d.event.name, code: d.failure.code }, d.failure.message);
  }

  function respond(d: Delivery): void {
    // The request reached the server: Particle's hook-sent, whatever the status.
    if (d.response) publish(`hook-sent/${d.event.name}`, EMPTY, 0);
    if (!d.reply) return;
    const { topic, data, whole } = d.reply;
    // Particle: 512-byte parts on <topic>/0, /1, ...; an unchunked response is the one part /0.
    const parts = whole ? [data] : splitParts(data);
    for (let i = 0; i < parts.length; i++) publish(`${topic}/${i}`, parts[i]!, 1);
  }

  /** One event × one integration, through every step. Never throws. */
  async function deliver(integration: Integration, event: HookwireEvent, view: View): Promise<void> {
    const d: Delivery = { integration, event, view, startedAt: performance.now() };
    try {
      render(d);
      if (!d.failure) await send(d);
      classify(d);
      record(d);
      respond(d);
    } catch (err) {
      // A bug, not the target's fault: counted as this delivery's error, never a crash.
      log.error({ err, integrationId: integration.id, event: event.name }, 'delivery failed unexpectedly');
      d.failure = { code: 'EINTERNAL', message: `internal error: ${(err as Error).message}` };
      recorder.record(integration.id, { event, durationMs: performance.now() - d.startedAt, ...pick(d) });
    }
  }

  return {
    /** Deliver an event to every integration it triggers; resolves when all are done. */
    handle(event: HookwireEvent): Promise<void> {
      const matched = index.match(event);
      if (matched.length === 0) return DONE;
      const view = eventView(event); // shared by every integration this event triggers
      if (matched.length === 1) return deliver(matched[0]!, event, view);
      return Promise.all(matched.map((i) => deliver(i, event, view))).then(() => undefined);
    },
    deliver,
  };
}

function pick(d: Delivery) {
  const out: { request?: OutgoingRequest; response?: HttpResponse; failure?: SendFailure; note?: string } = {};
  if (d.request) out.request = d.request;
  if (d.response) out.response = d.response;
  if (d.failure) out.failure = d.failure;
  if (d.note) out.note = d.note;
  return out;
}

export type Pipeline = ReturnType<typeof createPipeline>;
