// Why an integration never fires (Particle's "Missing integrations"): devices publish a name
// that nearly matches its trigger, or one that matches but the deviceID or product filter
// excludes every device publishing it; the broker refused the matching events; or nothing
// like it was published at all.
//
// One rule keeps the hints from contradicting each other: once devices are seen publishing
// a name the trigger takes (through its filters), the trigger is right, and no finding
// suggests renaming it; near misses then ask the devices to use the trigger's name. So after
// "set the trigger to temprature" is followed, the doctor never turns round to suggest
// "temperature" again because some device still sends that.

import { NAME_RULE } from '../../../firmware-sdk/rules.ts';
import type { Integration } from '../../webhooks/index.ts';
import { breathe, iso, label, plural, shellWord, some, updateStep, type Check, type CheckContext } from '../context.ts';
import { nameMiss, type NameMiss } from '../similar.ts';
import type { NameSeen, RefusalSeen } from '../tracker.ts';
import type { Finding } from '../types.ts';

/** Near misses reported per integration (the rest are counted). */
const MAX_MISSES = 3;

type Miss = NameMiss | { kind: 'device_filter' } | { kind: 'product_filter' };

/** Filters first (the name is right), then the commonest slips. */
const KIND_ORDER: Miss['kind'][] = ['device_filter', 'product_filter', 'case', 'prefix', 'level', 'typo'];

const productText = (p: number | null) => (p === null ? 'no product' : `product ${p}`);

function filtersExclude(i: Integration, n: NameSeen): { device: boolean; product: boolean } {
  return {
    device: i.deviceID !== undefined && !n.devices.includes(i.deviceID),
    product: i.productId !== null && !n.productIds.includes(i.productId),
  };
}

function classify(i: Integration, n: NameSeen): Miss | undefined {
  if (n.name.startsWith(i.event)) {
    const excluded = filtersExclude(i, n);
    if (excluded.device) return { kind: 'device_filter' };
    if (excluded.product) return { kind: 'product_filter' };
    return undefined; // it matches: it was published before this template existed
  }
  return nameMiss(i.event, n.name);
}

/**
 * A near miss. `taken`: names the trigger takes that devices published (before its template
 * last changed, or it would have fired): then the trigger is right, and only the devices'
 * name is suggested for a change.
 */
function nearMissFinding(ctx: CheckContext, i: Integration, n: NameSeen, miss: Miss, others: number, taken: NameSeen[]): Finding {
  const seen = `"${n.name}" was published ${plural(n.count, 'time')} (last ${iso(n.lastSeen)}) by ${some(n.devices)}`;
  const evidence: Record<string, unknown> = {
    kind: miss.kind, trigger: i.event, published: n.name, count: n.count, lastSeen: iso(n.lastSeen),
    devices: n.devices, productIds: n.productIds, otherNearMisses: others,
  };
  let message: string;
  let next: string;
  switch (miss.kind) {
    case 'device_filter': {
      const online = ctx.isConnected(i.deviceID!) ? 'connected' : 'not connected';
      evidence.deviceID = i.deviceID;
      evidence.deviceConnected = online === 'connected';
      message = `${label(i)} never fired: ${seen}, but its deviceID filter takes only ${i.deviceID} (${online}), which has not published it.`;
      const other = n.devices.find((d) => /^[0-9a-f]{24}$/.test(d));
      next = other
        ? `Publish "${n.name}" from ${i.deviceID}, or change the filter to a device that publishes it: ${updateStep(i.id, { deviceID: other })} ('' for every device).`
        : `Publish "${n.name}" from ${i.deviceID}, or take every device: ${updateStep(i.id, { deviceID: null })}.`;
      break;
    }
    case 'product_filter':
      evidence.productId = i.productId;
      message = `${label(i)} never fired: ${seen} of ${n.productIds.map(productText).join(', ')}, but the integration only takes devices of product ${i.productId}.`;
      next = `Put the devices in product ${i.productId} (PUT /v1/devices/<id> {"product_id":${i.productId}}), or create the integration for their product (hookwire integrations create <template.json> --product <product>; without --product for every device).`;
      break;
    case 'case':
      message = `${label(i)} never fired, but ${seen}: it differs from the trigger "${i.event}" only in case, and triggers are case-sensitive.`;
      next = `Set the trigger to the spelling devices use: ${updateStep(i.id, { event: miss.suggestion })}, or publish "${i.event}" from the devices.`;
      break;
    case 'prefix':
      message = `${label(i)} never fired, but ${seen}: the trigger "${i.event}" is a prefix the published name must start with, and "${n.name}" is shorter.`;
      next = `Set the trigger to "${miss.suggestion}": ${updateStep(i.id, { event: miss.suggestion })}, or publish "${i.event}" from the devices.`;
      break;
    case 'level':
      message = `${label(i)} never fired, but ${seen}: "${i.event}" comes after a "/" level there, and a trigger matches from the start of the name.`;
      next = `Set the trigger to "${miss.suggestion}": ${updateStep(i.id, { event: miss.suggestion })}, or publish "${n.name.slice(miss.suggestion.length - i.event.length)}" without the leading level.`;
      break;
    case 'typo':
      evidence.distance = miss.distance;
      message = `${label(i)} never fired, but ${seen}, within ${plural(miss.distance, 'edit')} of the trigger "${i.event}": a typo?`;
      next = `Set the trigger to "${miss.suggestion}": ${updateStep(i.id, { event: miss.suggestion })}, or fix the name the devices publish.`;
      break;
  }
  if (taken.length && miss.kind !== 'device_filter' && miss.kind !== 'product_filter') {
    // Devices already publish what the trigger takes: the trigger stays, the stragglers change.
    const names = some(taken.map((t) => `"${t.name}"`));
    evidence.triggerPublished = taken.map((t) => t.name);
    message += ` Devices also published ${names}, which the trigger takes.`;
    next = `Have the devices that publish "${n.name}" publish "${taken[0]!.name}" instead, as ${some(taken.flatMap((t) => t.devices), 2)} did: the trigger is right.`;
  }
  if (miss.kind !== 'device_filter' && miss.kind !== 'product_filter') {
    // Fixing the name alone will not do if the filters exclude these devices too.
    const excluded = filtersExclude(i, n);
    if (excluded.device) message += ` Its deviceID filter (${i.deviceID}) excludes these devices too.`;
    if (excluded.product) message += ` Its product filter (${i.productId}) excludes these devices too.`;
  }
  return { check: 'NEAR_MISS_NAME', severity: 'warning', integrationId: i.id, message, next, evidence };
}

const REFUSAL_NEXT: Record<string, string> = {
  EVENT_TOO_LARGE: 'Send at most 1024 bytes of text per event, or typed (CBOR) data up to 16384 bytes; split larger data over several events.',
  EVENT_NAME_RESERVED: 'Rename the event (names starting with spark, particle, hookwire, hook-sent, hook-response or hook-error are the cloud\'s) and set the trigger to the new name.',
  EVENT_NAME_INVALID: `Use ${NAME_RULE} in event names.`,
  EVENT_PRIVATE_SPACE: 'A device publishes under its own ID only (<its device ID>/...), never under another device\'s.',
  EVENT_DATA_INVALID: 'Send valid CBOR after the self-describe tag (the SDK encodes objects so), or plain text.',
};

function refusedFinding(i: Integration, r: RefusalSeen): Finding {
  return {
    check: 'EVENT_REFUSED',
    severity: 'warning',
    integrationId: i.id,
    message: `${plural(r.count, 'event')} named "${r.name}" that would trigger ${label(i)} ${r.count === 1 ? 'was' : 'were'} refused (${r.code}: ${r.message}), last ${iso(r.lastAt)}, from ${some(r.devices)}: refused events never reach integrations.`,
    next: REFUSAL_NEXT[r.code] ?? 'See the refusal the device got on <deviceID>/hookwire/error.',
    evidence: { code: r.code, name: r.name, count: r.count, lastAt: iso(r.lastAt), devices: r.devices, reason: r.message },
  };
}

/** When names count for an integration: since the bridge started, or since its template last changed. */
function countedSince(ctx: CheckContext, i: Integration): { at: number; text: string } {
  const changed = Date.parse(i.updatedAt);
  return changed > ctx.seen.startedAt
    ? { at: changed, text: `since its template changed at ${i.updatedAt}` }
    : { at: ctx.seen.startedAt, text: `since ${iso(ctx.seen.startedAt)}` };
}

function neverFiredFinding(ctx: CheckContext, i: Integration, names: number): Finding {
  const filter = i.deviceID ? ` from its only device ${i.deviceID} (${ctx.isConnected(i.deviceID) ? 'connected' : 'not connected'})` : '';
  const product = i.productId !== null ? ` of product ${i.productId}` : '';
  const since = countedSince(ctx, i);
  return {
    check: 'NEVER_FIRED',
    severity: 'info',
    integrationId: i.id,
    message: `${label(i)} has never fired: no event starting with "${i.event}"${filter}${product} was published ${since.text} (${plural(names, 'other event name')} ${names === 1 ? 'was' : 'were'}), and none was close.`,
    next: `Watch for it with hookwire subscribe ${i.event}, publishing from a device you know is online; check the target meanwhile with hookwire test ${i.id}.`,
    evidence: { trigger: i.event, deviceID: i.deviceID ?? null, productId: i.productId, namesSeen: names, observedSince: iso(ctx.seen.startedAt), countedSince: iso(since.at) },
  };
}

/**
 * Devices published names it takes, only before its template last changed (the trigger was
 * just fixed to their name): nothing is wrong, the next one triggers it.
 */
function awaitingFinding(i: Integration, taken: NameSeen[]): Finding {
  const shown = taken.map((n) => `"${n.name}" ${plural(n.count, 'time')} (last ${iso(n.lastSeen)}, by ${some(n.devices, 2)})`);
  return {
    check: 'NEVER_FIRED',
    severity: 'info',
    integrationId: i.id,
    message: `${label(i)} has not fired since its template changed at ${i.updatedAt}; devices published events it takes before that: ${some(shown)}. The next one triggers it.`,
    next: `Watch for it with hookwire subscribe ${i.event}; try it now without a device: hookwire test ${i.id} --name ${shellWord(taken[0]!.name)}`,
    evidence: {
      trigger: i.event, kind: 'published_before_change', changedAt: i.updatedAt,
      published: taken.map((n) => ({ name: n.name, count: n.count, lastSeen: iso(n.lastSeen), devices: n.devices })),
    },
  };
}

/** Names devices published that the trigger takes, through its filters (whenever seen). */
function takenNames(i: Integration, names: NameSeen[]): NameSeen[] {
  return names.filter((n) => {
    if (!n.name.startsWith(i.event)) return false;
    const excluded = filtersExclude(i, n);
    return !excluded.device && !excluded.product;
  });
}

export const whyNeverFired: Check = async (ctx) => {
  const names = [...ctx.seen.names()];
  const refusals = [...ctx.seen.refusals()];
  const out: Finding[] = [];
  for (const [k, i] of ctx.integrations.entries()) {
    await breathe(k);
    if (i.disabled) continue; // INTEGRATION_DISABLED says why
    const refused = refusals.filter((r) => r.name.startsWith(i.event)).sort((a, b) => b.count - a.count);
    for (const r of refused.slice(0, MAX_MISSES)) out.push(refusedFinding(i, r));
    if (!ctx.neverFired(i)) continue;
    // Names it takes were published (it has not fired, so before its template changed): the
    // trigger is right whatever else is near it.
    const taken = takenNames(i, names);
    // Only names published while this template was in place say anything against it.
    const since = Date.parse(i.updatedAt);
    const misses: { n: NameSeen; miss: Miss }[] = [];
    for (const n of names) {
      if (n.lastSeen < since) continue;
      const miss = classify(i, n);
      if (miss) misses.push({ n, miss });
    }
    misses.sort((a, b) => KIND_ORDER.indexOf(a.miss.kind) - KIND_ORDER.indexOf(b.miss.kind) || b.n.count - a.n.count);
    for (const m of misses.slice(0, MAX_MISSES)) out.push(nearMissFinding(ctx, i, m.n, m.miss, Math.max(0, misses.length - MAX_MISSES), taken));
    if (taken.length) out.push(awaitingFinding(i, taken));
    else if (misses.length === 0 && refused.length === 0) out.push(neverFiredFinding(ctx, i, names.length));
  }
  return out;
};
