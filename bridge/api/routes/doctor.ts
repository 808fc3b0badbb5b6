// GET /v1/doctor[?integration=<id>]: the doctor's findings, for a `read` token (a dashboard or
// a monitoring job may run it). The doctor has watched events and attempts since the bridge
// started.
//
//   integration        check this integration only (404 INTEGRATION_NOT_FOUND if unknown)
//   probe              false: do not probe targets (DNS + TCP connect); default true
//   probe_timeout_ms   time allowed for each lookup and connect, 100-30000; default 2000

import type { FastifyRequest } from 'fastify';
import { HookwireError } from '../../errors.ts';
import { doctorDefaults, type DoctorReport } from '../../doctor/index.ts';
import { REDACTED, maskLiterals } from '../../redact.ts';
import type { ApiContext } from '../context.ts';

type Query = Record<string, unknown>;

function probeOption(query: Query): boolean {
  const v = query.probe;
  if (v === undefined || v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new HookwireError('BAD_REQUEST', 'probe must be true or false', { field: 'probe' });
}

function timeoutOption(query: Query): number {
  const v = query.probe_timeout_ms;
  if (v === undefined) return doctorDefaults.probeTimeoutMs;
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN;
  if (!(n >= 100 && n <= 30_000)) throw new HookwireError('BAD_REQUEST', 'probe_timeout_ms must be a whole number from 100 to 30000', { field: 'probe_timeout_ms' });
  return n;
}

function integrationOption(query: Query): string | undefined {
  const v = query.integration;
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string') throw new HookwireError('BAD_REQUEST', 'integration must be one integration ID', { field: 'integration' });
  return v;
}

/**
 * The report as a read-only token sees it: a template shown in evidence keeps its tags only,
 * and what it rendered is not shown (its literals are the template's, keys included).
 */
function forReader(report: DoctorReport): DoctorReport {
  return {
    ...report,
    findings: report.findings.map((f) => {
      const evidence = { ...f.evidence };
      if (typeof evidence.template === 'string') evidence.template = maskLiterals(evidence.template);
      if (typeof evidence.rendered === 'string') evidence.rendered = REDACTED;
      return { ...f, evidence };
    }),
  };
}

export default function doctor({ app, doctor: d }: ApiContext) {
  app.get('/v1/doctor', async (req: FastifyRequest<{ Querystring: Query }>): Promise<DoctorReport> => {
    const query = req.query;
    const integrationId = integrationOption(query);
    const report = await d.run({ probe: probeOption(query), probeTimeoutMs: timeoutOption(query), ...(integrationId === undefined ? {} : { integrationId }) });
    return req.token?.scope === 'admin' ? report : forReader(report);
  });
}
