// Delivery logs: an attempt as the integration's log shows it, with the event, the request,
// the response (status, headers, the first 100 KB of the body) and the error, secrets redacted.

import { redactHeaders, redactRequest, type LoggedRequest } from '../redact.ts';
import type { AttemptResult } from './pipeline.ts';
import type { SendFailure } from './send.ts';

/** Log entries keep this much of a response body, bytes. */
export const LOG_BODY_BYTES = 100 * 1024;

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

/** What a log entry is made from: an attempt's result (or a dry run's). */
export type LoggedAttempt = Pick<AttemptResult, 'event' | 'request' | 'response' | 'failure' | 'durationMs' | 'note'>;

export function toLog(attempt: LoggedAttempt, at = new Date()): DeliveryLog {
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
