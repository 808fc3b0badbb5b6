// Unreachable targets (Pusher's DESTINATION_NOT_ACCESSIBLE, Particle's ENOTFOUND and
// ECONNREFUSED): each enabled integration's host is resolved and connected to (probe.ts),
// and what its recent deliveries failed with is added. A host made of {{variables}} depends
// on each event and cannot be probed: that is said, as information.

import { guidanceOf } from '../../codes.ts';
import type { Integration } from '../../webhooks/index.ts';
import { readerUrl } from '../../redact.ts';
import { label, plural, staticTarget, type Check, type CheckContext } from '../context.ts';
import { probeAll, type ProbeResult, type ProbeTarget } from '../probe.ts';
import type { Finding } from '../types.ts';

/** Delivery failures that mean the target could not be reached at all. */
const UNREACHABLE = new Set(['ENOTFOUND', 'ECONNREFUSED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);

/** Unreachable-kind failures of this integration: since the start, else its last error. */
function recentFailures(ctx: CheckContext, i: Integration): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [code, c] of ctx.seen.integration(i.id)?.codes ?? []) if (UNREACHABLE.has(code)) out[code] = c.count;
  const last = ctx.status(i.id).lastError;
  if (Object.keys(out).length === 0 && last && UNREACHABLE.has(last.code)) out[last.code] = 1;
  return out;
}

function failuresText(failures: Record<string, number>): string {
  const parts = Object.entries(failures).map(([code, n]) => `${plural(n, 'delivery', 'deliveries')} with ${code}`);
  return parts.length ? ` Recent failures: ${parts.join(', ')}.` : '';
}

function whatFailed(r: ProbeResult, timeoutMs: number): string {
  const at = `${r.host}:${r.port}${r.address && r.address !== r.host ? ` (${r.address})` : ''}`;
  if (r.stage === 'dns') return `${r.host} does not resolve from the bridge (${r.code}: the DNS lookup ${r.ms >= timeoutMs ? `gave no answer within ${timeoutMs} ms` : 'found no address'})`;
  if (r.code === 'ECONNREFUSED') return `${at} refused the TCP connection (ECONNREFUSED): nothing listens there`;
  if (r.code === 'ETIMEDOUT') return `no TCP connection to ${at} within ${timeoutMs} ms (ETIMEDOUT): the host is down or a firewall drops the packets`;
  return `connecting to ${at} failed with ${r.code}`;
}

function unreachable(i: Integration, r: ProbeResult, failures: Record<string, number>, timeoutMs: number): Finding {
  return {
    check: 'TARGET_UNREACHABLE',
    severity: 'error',
    integrationId: i.id,
    message: `${label(i)} calls ${readerUrl(i.url, new Set(i.publicFields))}, but ${whatFailed(r, timeoutMs)}.${failuresText(failures)}`,
    next: `${guidanceOf(r.code!).check} Then try it: hookwire test ${i.id}`,
    evidence: { host: r.host, port: r.port, address: r.address ?? null, stage: r.stage, code: r.code, probeMs: r.ms, timeoutMs, recentFailures: failures },
  };
}

/** Without probing, the last failures are the only sign: a run of them with an unreachable code. */
function unreachableByErrors(ctx: CheckContext, i: Integration, t: ProbeTarget, failures: Record<string, number>): Finding | undefined {
  const s = ctx.status(i.id);
  if (s.consecutiveErrors === 0 || !s.lastError || !UNREACHABLE.has(s.lastError.code)) return undefined;
  return {
    check: 'TARGET_UNREACHABLE',
    severity: 'error',
    integrationId: i.id,
    message: `${label(i)} calls ${readerUrl(i.url, new Set(i.publicFields))}, and its last ${plural(s.consecutiveErrors, 'delivery', 'deliveries')} failed: ${s.lastError.message} (not probed).${failuresText(failures)}`,
    next: `${guidanceOf(s.lastError.code).check} Then try it: hookwire test ${i.id}`,
    evidence: { host: t.host, port: t.port, code: s.lastError.code, probed: false, consecutiveErrors: s.consecutiveErrors, recentFailures: failures },
  };
}

function notProbed(ctx: CheckContext, i: Integration): Finding {
  const seen = ctx.hostsOf(i);
  return {
    check: 'TARGET_NOT_PROBED',
    severity: 'info',
    integrationId: i.id,
    message: `${label(i)} has {{variables}} in the host of its URL (${readerUrl(i.url, new Set(i.publicFields))}): each event decides where it goes, so the target cannot be probed.${seen.length ? ` Hosts its deliveries used: ${seen.join(', ')}.` : ''}`,
    next: `See where its requests went and how they fared: hookwire logs ${i.id}`,
    evidence: { url: readerUrl(i.url, new Set(i.publicFields)), hostsSeen: seen },
  };
}

export const targetsReachable: Check = async (ctx) => {
  const { probe, probeTimeoutMs, probeConcurrency } = ctx.options;
  const out: Finding[] = [];
  const targets = new Map<Integration, ProbeTarget>();
  for (const i of ctx.integrations) {
    if (i.disabled) continue; // nothing is sent: INTEGRATION_DISABLED or TOO_MANY_ERRORS says why
    const t = staticTarget(i.url);
    if (t) targets.set(i, t);
    else if (probe) out.push(notProbed(ctx, i));
  }
  const results = probe ? await probeAll([...targets.values()], probeTimeoutMs, probeConcurrency) : undefined;
  for (const [i, t] of targets) {
    const failures = recentFailures(ctx, i);
    if (!results) {
      const f = unreachableByErrors(ctx, i, t, failures);
      if (f) out.push(f);
      continue;
    }
    const r = results.get(`${t.host}:${t.port}`)!;
    if (!r.ok) out.push(unreachable(i, r, failures, probeTimeoutMs));
  }
  return out;
};
