// Record: what each delivery did, per integration: counters and the last 10 successes and
// last 10 errors with the event, the request, the response and the error (secrets redacted).
// Kept in memory here; a durable recorder implements the same interface over the store.

import type { HookwireEvent } from '../events/index.ts';
import type { OutgoingRequest } from './render.ts';
import { redactHeaders, redactRequest, type LoggedRequest } from './redact.ts';
import type { HttpResponse, SendFailure } from './send.ts';

/** Log entries keep this much of a response body, bytes. */
export const LOG_BODY_BYTES = 100 * 1024;
const LOG_KEEP = 10;

export interface DeliveryLog {
  /** When the attempt finished. */
  at: string;
  ok: boolean;
  durationMs: number;
  event: { id: string; name: string; data: string; coreid: string; published_at: string };
  request?: LoggedRequest;
  response?: { status: number; headers: Record<string, string | string[]>; body: string; truncated: boolean };
  error?: SendFailure;
  /** Something worth knowing that is not an error (e.g. a response discarded). */
  note?: string;
}

export interface Counters {
  success: number;
  error: number;
  lastError: SendFailure | null;
  lastErrorAt: string | null;
  lastSuccessAt: string | null;
}

export interface Attempt {
  event: HookwireEvent;
  request?: OutgoingRequest;
  response?: HttpResponse;
  failure?: SendFailure;
  durationMs: number;
  note?: string;
}

export interface Recorder {
  record(integrationId: string, attempt: Attempt): void;
  counters(integrationId: string): Counters;
  logs(integrationId: string): DeliveryLog[];
  forget(integrationId: string): void;
}

export function toLog(attempt: Attempt, at = new Date()): DeliveryLog {
  const e = attempt.event;
  const log: DeliveryLog = {
    at: at.toISOString(),
    ok: !attempt.failure,
    durationMs: Math.round(attempt.durationMs * 10) / 10,
    event: { id: e.id, name: e.name, data: e.data, coreid: e.coreid, published_at: e.published_at },
  };
  if (attempt.request) log.request = redactRequest(attempt.request);
  if (attempt.response) {
    const r = attempt.response;
    log.response = {
      status: r.status,
      headers: redactHeaders(r.headers),
      body: r.body.subarray(0, LOG_BODY_BYTES).toString('utf8'),
      truncated: r.truncated || r.body.length > LOG_BODY_BYTES,
    };
  }
  if (attempt.failure) log.error = attempt.failure;
  if (attempt.note) log.note = attempt.note;
  return log;
}

const emptyCounters = (): Counters => ({ success: 0, error: 0, lastError: null, lastErrorAt: null, lastSuccessAt: null });

interface Kept {
  attempt: Attempt;
  at: Date;
}

export function memoryRecorder(): Recorder {
  // Attempts are kept as they are; their redacted logs are built only when someone reads them.
  const state = new Map<string, { counters: Counters; successes: Kept[]; errors: Kept[] }>();
  const of = (id: string) => {
    let s = state.get(id);
    if (!s) state.set(id, (s = { counters: emptyCounters(), successes: [], errors: [] }));
    return s;
  };
  return {
    record(id, attempt) {
      const s = of(id);
      const at = new Date();
      const list = attempt.failure ? s.errors : s.successes;
      list.unshift({ attempt, at });
      if (list.length > LOG_KEEP) list.pop();
      if (attempt.failure) {
        s.counters.error++;
        s.counters.lastError = attempt.failure;
        s.counters.lastErrorAt = at.toISOString();
      } else {
        s.counters.success++;
        s.counters.lastSuccessAt = at.toISOString();
      }
    },
    counters: (id) => ({ ...of(id).counters }),
    /** Newest first, successes and errors interleaved by time. */
    logs(id) {
      const s = of(id);
      return [...s.successes, ...s.errors].sort((a, b) => b.at.getTime() - a.at.getTime()).map((k) => toLog(k.attempt, k.at));
    },
    forget: (id) => void state.delete(id),
  };
}
