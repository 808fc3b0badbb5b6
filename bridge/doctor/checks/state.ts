// State and errors (SuperOffice's states and counters, Particle's "Understanding webhook
// errors" and "Skipped events"): disabled integrations with who, when and why; integrations
// stopped for too many errors; sleeping hosts with their skipped counts; errors grouped by
// code with what each code usually means.

import { guidanceOf } from '../../codes.ts';
import type { Integration, IntegrationStatus } from '../../webhooks/index.ts';
import { iso, label, plural, some, type Check, type CheckContext } from '../context.ts';
import type { Finding } from '../types.ts';

/** Recent events this integration would take: published since `after`, through its filters. */
function missedEvents(ctx: CheckContext, i: Integration, after: number) {
  const out: { name: string; count: number; lastSeen: string; devices: string[] }[] = [];
  for (const n of ctx.seen.names()) {
    if (n.lastSeen <= after || !n.name.startsWith(i.event)) continue;
    if (i.deviceID !== undefined && !n.devices.includes(i.deviceID)) continue;
    if (i.productId !== null && !n.productIds.includes(i.productId)) continue;
    out.push({ name: n.name, count: n.count, lastSeen: iso(n.lastSeen), devices: n.devices });
  }
  return out;
}

function counters(s: IntegrationStatus) {
  return {
    totalCalls: s.totalCalls, totalErrors: s.totalErrors, consecutiveErrors: s.consecutiveErrors,
    totalSkipped: s.totalSkipped, totalDropped: s.totalDropped, lastError: s.lastError, lastSuccessAt: s.lastSuccessAt,
  };
}

function countersText(s: IntegrationStatus): string {
  const last = s.lastError ? `; last error ${s.lastError.code} at ${s.lastError.at}: ${s.lastError.message}` : '';
  return `${plural(s.totalCalls, 'call')}, ${plural(s.totalErrors, 'error')} (${s.consecutiveErrors} in a row), ${s.totalSkipped} skipped, ${s.totalDropped} dropped${last}`;
}

/** Disabled by a person (or created disabled): who, when, why, and what it is missing. */
export const disabledIntegrations: Check = (ctx) => {
  const out: Finding[] = [];
  for (const i of ctx.integrations) {
    const s = ctx.status(i.id);
    if (!i.disabled || s.state === 'TooManyErrors') continue; // stopped for errors: TOO_MANY_ERRORS
    const at = s.disabledAt ? Date.parse(s.disabledAt) : Date.parse(i.updatedAt);
    const who = s.disabledBy
      ? `disabled by ${s.disabledBy} at ${s.disabledAt}${s.disabledReason ? `: "${s.disabledReason}"` : ' (no reason given)'}`
      : `created disabled ("disabled": true in its template, ${i.updatedAt})`;
    const missed = missedEvents(ctx, i, at);
    const missing = missed.length
      ? ` Devices still publish events it would take, and they are not delivered: ${some(missed.map((m) => `"${m.name}" (last ${m.lastSeen}, from ${some(m.devices, 2)})`))}.`
      : ' No event it would take has been published since.';
    out.push({
      check: 'INTEGRATION_DISABLED',
      severity: missed.length ? 'warning' : 'info',
      integrationId: i.id,
      message: `${label(i)} is ${who}.${missing}`,
      next: `hookwire integrations enable ${i.id}`,
      evidence: { state: s.state, disabledBy: s.disabledBy, disabledAt: s.disabledAt, disabledReason: s.disabledReason, missedEvents: missed },
    });
  }
  return out;
};

/** TooManyErrors: its retry schedule ran out (disabled), or its host is asleep. */
export const tooManyErrors: Check = async (ctx) => {
  const out: Finding[] = [];
  for (const i of ctx.integrations) {
    const s = ctx.status(i.id);
    if (s.state !== 'TooManyErrors') continue;
    const failed = await ctx.failedKept(i.id);
    const code = s.lastError?.code;
    const fix = code ? guidanceOf(code).check : 'see hookwire logs ' + i.id;
    const evidence = { state: s.state, reason: s.reason, since: s.changedAt, disabledBy: s.disabledBy, disabledAt: s.disabledAt, failedDeliveriesKept: failed, ...counters(s) };
    if (i.disabled) {
      out.push({
        check: 'TOO_MANY_ERRORS',
        severity: 'error',
        integrationId: i.id,
        message: `${label(i)} was stopped by ${s.disabledBy ?? 'hookwire'} at ${s.disabledAt ?? s.changedAt}: ${s.reason}. ${countersText(s)}. ${plural(failed, 'failed delivery', 'failed deliveries')} kept for replay.`,
        next: `Fix the target (${fix}), then: hookwire integrations enable ${i.id} && hookwire replay ${i.id} --all`,
        evidence,
      });
    } else {
      const asleep = ctx.hostsOf(i).filter((h) => ctx.sleeping.has(h));
      out.push({
        check: 'TOO_MANY_ERRORS',
        severity: 'warning',
        integrationId: i.id,
        message: `${label(i)} is in TooManyErrors since ${s.changedAt}: ${s.reason}${asleep.length ? ` (${some(asleep)} asleep now)` : ' (its host is awake again; the next delivery decides)'}. ${countersText(s)}.`,
        next: `Fix the errors on its host (${fix}); hookwire logs ${i.id} shows them.`,
        evidence,
      });
    }
  }
  return out;
};

/** Hosts asleep after too many errors, and the events each integration had skipped. */
export const sleepingHosts: Check = async (ctx) => {
  // A host sleeps for every integration calling it: say which ones caused it.
  const byHost = new Map<string, Integration[]>();
  for (const i of ctx.all) for (const h of ctx.hostsOf(i)) byHost.set(h, [...(byHost.get(h) ?? []), i]);
  const out: Finding[] = [];
  for (const i of ctx.integrations) {
    const s = ctx.status(i.id);
    for (const host of ctx.hostsOf(i)) {
      const until = ctx.sleeping.get(host);
      if (until === undefined && s.totalSkipped === 0 && !ctx.seen.integration(i.id)?.skipped) continue;
      const skipped = await ctx.skipped(i.id);
      if (until === undefined && skipped.last30Days === 0) continue;
      const culprits = (byHost.get(host) ?? [])
        .map((o) => ({ o, errors: ctx.seen.integration(o.id)?.failures ?? 0, inRow: ctx.status(o.id).consecutiveErrors }))
        .filter((c) => c.errors > 0 || c.inRow > 0);
      const from = culprits.length
        ? `Its errors came from ${some(culprits.map((c) => `${c.o.id} ${label(c.o)} (${plural(c.errors || c.inRow, 'error')})`))}.`
        : 'No errors on it were seen since the bridge started.';
      const evidence = {
        host, asleepUntil: until === undefined ? null : iso(until), skippedToday: skipped.today, skipped30Days: skipped.last30Days,
        totalSkipped: s.totalSkipped, integrationsOnHost: (byHost.get(host) ?? []).map((o) => o.id), erroring: culprits.map((c) => ({ id: c.o.id, errors: c.errors, consecutiveErrors: c.inRow })),
      };
      if (until !== undefined) {
        out.push({
          check: 'HOST_SLEEPING',
          severity: 'warning',
          integrationId: i.id,
          message: `${label(i)} calls ${host}, which is asleep until ${iso(until)} after more errors than successes: its events are skipped (hook-error "Sleeping, too many errors, please wait and try again"); ${skipped.today} skipped today, ${skipped.last30Days} in the last 30 days. ${from}`,
          next: `Fix what fails on ${host}${culprits.length ? ` (hookwire logs ${culprits[0]!.o.id})` : ''}; it wakes after a quiet cooldown. Skipped events are retried by the retry policy, then dropped: hookwire replay ${i.id} --list`,
          evidence,
        });
      } else {
        out.push({
          check: 'HOST_SLEEPING',
          severity: 'info',
          integrationId: i.id,
          message: `${label(i)} had ${plural(skipped.last30Days, 'event')} skipped in the last 30 days (${skipped.today} today) while ${host} slept; it is awake now.`,
          next: `hookwire history ${i.id} shows the days; hookwire replay ${i.id} --list shows what was dropped.`,
          evidence,
        });
      }
    }
  }
  return out;
};

interface CodeFigures {
  code: string;
  sinceStart: number;
  inRecentLogs: number;
  lastAt: string;
  lastMessage: string;
  lastStatus?: number;
  lastEvent?: { name: string; data: string; coreid: string };
}

/** Errors grouped by code, since the bridge started and in the last 10 errors logged. */
async function errorFigures(ctx: CheckContext, i: Integration): Promise<CodeFigures[]> {
  const byCode = new Map<string, CodeFigures>();
  for (const [code, c] of ctx.seen.integration(i.id)?.codes ?? []) {
    byCode.set(code, { code, sinceStart: c.count, inRecentLogs: 0, lastAt: iso(c.lastAt), lastMessage: c.message });
  }
  for (const l of await ctx.logs(i.id)) {
    if (l.ok || !l.error) continue;
    let f = byCode.get(l.error.code);
    if (!f) byCode.set(l.error.code, (f = { code: l.error.code, sinceStart: 0, inRecentLogs: 0, lastAt: l.at, lastMessage: l.error.message }));
    if (f.inRecentLogs++ === 0) {
      // Logs are newest first: the first one of a code is its latest.
      if (l.response) f.lastStatus = l.response.status;
      f.lastEvent = { name: l.event.name, data: l.event.data.slice(0, 200), coreid: l.event.coreid };
    }
  }
  const s = ctx.status(i.id);
  if (byCode.size === 0 && s.lastError) {
    byCode.set(s.lastError.code, { code: s.lastError.code, sinceStart: 0, inRecentLogs: 0, lastAt: s.lastError.at, lastMessage: s.lastError.message });
  }
  return [...byCode.values()].sort((a, b) => Math.max(b.sinceStart, b.inRecentLogs) - Math.max(a.sinceStart, a.inRecentLogs));
}

export const errorsByCode: Check = async (ctx) => {
  const out: Finding[] = [];
  for (const i of ctx.integrations) {
    const s = ctx.status(i.id);
    if (s.totalErrors === 0 && !ctx.seen.integration(i.id)?.failures) continue;
    const figures = await errorFigures(ctx, i);
    const failing = s.consecutiveErrors > 0;
    const failed = s.totalDropped > 0 ? await ctx.failedKept(i.id) : 0;
    for (const f of figures) {
      const g = guidanceOf(f.code);
      const count = f.sinceStart
        ? `${plural(f.sinceStart, 'error')} since the bridge started`
        : `${f.inRecentLogs} of the last 10 errors logged`;
      const now = failing
        ? ` It is failing now: ${plural(s.consecutiveErrors, 'error')} in a row.`
        : ` It has succeeded since (last success ${s.lastSuccessAt}).`;
      const replay = failed ? `; once fixed, hookwire replay ${i.id} --all (${plural(failed, 'failed delivery', 'failed deliveries')} kept)` : '';
      out.push({
        check: 'ERRORS_BY_CODE',
        // The code it fails with now needs fixing; older codes and recovered ones are context.
        severity: failing ? (f.code === s.lastError?.code ? 'error' : 'warning') : 'info',
        integrationId: i.id,
        message: `${label(i)}: ${f.code} (${g.title}), ${count}, last at ${f.lastAt}: ${f.lastMessage}. ${g.meaning}${now}`,
        next: `${g.check} Requests and responses: hookwire logs ${i.id}${replay}`,
        evidence: { ...f, guidance: g, failedDeliveriesKept: failed, ...counters(s) },
      });
    }
  }
  return out;
};
