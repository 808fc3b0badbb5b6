// What devices hear back (Particle's "high data operation consumption", PARTICLE.md §3):
// responses published in more than 10 parts of 512 bytes; unchunked responses discarded for
// being over the device limit; devices subscribed to the responses of an integration that
// never answers; and devices subscribed where the responses never go.

import { isDeviceId } from '../../../firmware-sdk/rules.ts';
import type { HookwireEvent } from '../../events/index.ts';
import { DEVICE_LIMIT_BYTES, PART_BYTES, capBytes, eventView, render, responseData, webhookDefaults, type Integration } from '../../webhooks/index.ts';
import { breathe, label, updateStep, plural, some, type Check, type CheckContext } from '../context.ts';
import { coversFamily, namesFamily, type Family } from '../topics.ts';
import { ADVISED_MAX_PARTS, partsOf, type RepliesSeen } from '../tracker.ts';
import type { Finding } from '../types.ts';

interface ReplyFigures extends RepliesSeen {
  /** Where the figures come from: attempts seen since the bridge started, or the delivery logs. */
  source: 'since start' | 'recent logs';
  successes: number;
  failures: number;
}

/** Reply figures since the start; after a restart with nothing seen yet, from the last successes logged. */
async function replyFigures(ctx: CheckContext, i: Integration): Promise<ReplyFigures> {
  const t = ctx.seen.integration(i.id);
  if (t && t.successes + t.failures > 0) return { source: 'since start', successes: t.successes, failures: t.failures, ...t.replies };
  const f: ReplyFigures = {
    source: 'recent logs', successes: 0, failures: 0,
    answered: 0, overParts: 0, maxParts: 0, maxBytes: 0, totalParts: 0, discarded: 0, discardedMaxBytes: 0, discardedNote: '',
  };
  if (ctx.status(i.id).totalCalls === 0) return f;
  for (const l of await ctx.logs(i.id)) {
    if (!l.ok) {
      f.failures++;
      continue;
    }
    f.successes++;
    if (!l.response) continue;
    if (l.note) {
      f.discarded++;
      f.discardedNote = l.note;
      f.discardedMaxBytes = Math.max(f.discardedMaxBytes, Buffer.byteLength(l.response.body));
      continue;
    }
    let data: Buffer | undefined;
    try {
      data = responseData(i, { status: l.response.status, headers: l.response.headers, body: Buffer.from(l.response.body), truncated: l.response.truncated });
    } catch {
      continue;
    }
    if (!data) continue;
    const sent = i.unchunked ? data : capBytes(data, webhookDefaults.maxResponseBytes);
    const parts = partsOf(sent, i.unchunked);
    f.answered++;
    f.totalParts += parts;
    f.maxParts = Math.max(f.maxParts, parts);
    f.maxBytes = Math.max(f.maxBytes, sent.length);
    if (parts > ADVISED_MAX_PARTS) f.overParts++;
  }
  return f;
}

const from = (f: ReplyFigures) => (f.source === 'since start' ? 'since the bridge started' : 'in the last logged successes');

function tooManyParts(i: Integration, f: ReplyFigures): Finding {
  const perEvent = Math.round((f.totalParts / f.answered) * 10) / 10;
  const trim = i.responseTemplate !== undefined
    ? 'Make its responseTemplate pick less'
    : `Send the device only what it needs with a responseTemplate that picks fields (${updateStep(i.id, { responseTemplate: '{{{field}}}' })})`;
  return {
    check: 'RESPONSE_TOO_MANY_PARTS',
    severity: 'warning',
    integrationId: i.id,
    message: `${label(i)}: ${f.overParts} of ${plural(f.answered, 'response')} ${from(f)} reached the device in more than ${ADVISED_MAX_PARTS} parts of ${PART_BYTES} bytes (the largest: ${f.maxBytes} bytes, ${f.maxParts} parts); each part is one publish to the device (a data operation on Particle), ${perEvent} per event on average.`,
    next: `${trim}, or have the target answer less: Particle advises at most ${ADVISED_MAX_PARTS} parts.`,
    evidence: { source: f.source, responses: f.answered, overAdvised: f.overParts, maxParts: f.maxParts, maxBytes: f.maxBytes, totalParts: f.totalParts, partsPerEvent: perEvent, advisedMaxParts: ADVISED_MAX_PARTS },
  };
}

function overDeviceLimit(i: Integration, f: ReplyFigures): Finding {
  return {
    check: 'RESPONSE_OVER_DEVICE_LIMIT',
    severity: 'error',
    integrationId: i.id,
    message: `${label(i)} has "unchunked": true and ${plural(f.discarded, 'response was', 'responses were')} discarded ${from(f)} (largest body ${f.discardedMaxBytes} bytes): an unchunked response must fit the device's ${DEVICE_LIMIT_BYTES}-byte limit, so the device got nothing. ${f.discardedNote}`,
    next: `Let it be sent in ${PART_BYTES}-byte parts (${updateStep(i.id, { unchunked: false })}), or keep it under ${DEVICE_LIMIT_BYTES} bytes with a responseTemplate.`,
    evidence: { source: f.source, discarded: f.discarded, maxBodyBytes: f.discardedMaxBytes, deviceLimitBytes: DEVICE_LIMIT_BYTES, note: f.discardedNote },
  };
}

export const responseSizes: Check = async (ctx) => {
  const out: Finding[] = [];
  for (const i of ctx.integrations) {
    const f = await replyFigures(ctx, i);
    if (f.overParts > 0) out.push(tooManyParts(i, f));
    if (f.discarded > 0) out.push(overDeviceLimit(i, f));
  }
  return out;
};

/**
 * The devices that published events this integration takes, each with its newest one (for
 * rendering a responseTopic). Walks the recent names once, not the fleet.
 */
function triggerers(ctx: CheckContext, i: Integration): Map<string, { event: HookwireEvent; at: number }> {
  const out = new Map<string, { event: HookwireEvent; at: number }>();
  for (const n of ctx.seen.names()) {
    if (!n.name.startsWith(i.event)) continue;
    if (i.productId !== null && !n.productIds.includes(i.productId)) continue;
    for (const d of n.devices) {
      if (!isDeviceId(d) || (i.deviceID !== undefined && d !== i.deviceID)) continue;
      const known = out.get(d);
      // The name's last event may be another device's; its name and the device are what count.
      if (!known || known.at < n.lastSeen) out.set(d, { event: { ...n.last, coreid: d }, at: n.lastSeen });
    }
  }
  return out;
}

/** Subscriptions by the literal levels they name, so an integration finds its listeners without scanning the fleet. */
type FilterIndex = Map<string, Set<string>>; // level → device IDs

function indexFilters(subscriptions: Map<string, string[]>): FilterIndex {
  const index: FilterIndex = new Map();
  for (const [deviceId, filters] of subscriptions) {
    for (const filter of filters) {
      for (const level of filter.split('/')) {
        if (level === '' || level === '+' || level === '#' || level === 'hook-response' || isDeviceId(level)) continue;
        let devices = index.get(level);
        if (!devices) index.set(level, (devices = new Set()));
        devices.add(deviceId);
      }
    }
  }
  return index;
}

/**
 * Devices whose filters may name this integration's responses: a filter level equal to (or,
 * for a one-level trigger cut short, starting with) the trigger's first level; for a custom
 * responseTopic, its first level without tags.
 */
function namedBy(index: FilterIndex, i: Integration): Set<string> {
  const out = new Set<string>();
  const add = (devices: Set<string> | undefined) => devices?.forEach((d) => out.add(d));
  if (i.responseTopic !== undefined) {
    const fixed = i.responseTopic.split('/').find((l) => l !== '' && !l.includes('{{'));
    if (fixed) add(index.get(fixed));
    return out;
  }
  const [first, ...rest] = i.event.split('/');
  if (rest.length) add(index.get(first!));
  else for (const [level, devices] of index) if (level.startsWith(first!)) add(devices);
  return out;
}

/** Where this integration answers `deviceId`: its responseTopic rendered, or the device's own space. */
function responseFamily(i: Integration, deviceId: string, event: HookwireEvent | undefined): Family | undefined {
  if (i.responseTopic === undefined) return { prefix: `${deviceId}/hook-response/${event?.name ?? i.event}`, open: event === undefined };
  const e: HookwireEvent = event ?? { id: '', name: i.event, data: '', type: 'text', published_at: new Date().toISOString(), coreid: deviceId, product_id: i.productId, fw_version: null };
  try {
    return { prefix: render(i.responseTopic, eventView(e)), open: false };
  } catch {
    return undefined;
  }
}

interface Listener {
  deviceId: string;
  filter: string;
  /** The device published events this integration takes. */
  triggers: boolean;
}

function noAnswerFinding(ctx: CheckContext, i: Integration, listeners: Listener[], f: ReplyFigures): Finding {
  const who = some(listeners.map((l) => `${l.deviceId} (${l.filter})`));
  const s = ctx.status(i.id);
  let why: string;
  let next: string;
  if (ctx.neverFired(i)) {
    why = 'it has never been called, so they wait for nothing';
    next = `Make it fire first (see its other findings: near-miss names, filters, disabled), then check what it answers: hookwire test ${i.id}`;
  } else if (f.successes === 0 && f.failures === 0) {
    why = `no request of it has been answered ${from(f)}: its events were skipped or dropped`;
    next = `See whether its host is asleep (HOST_SLEEPING) and what was dropped: hookwire replay ${i.id} --list`;
  } else if (f.successes === 0) {
    why = `it has failed every time ${from(f)} (${plural(f.failures, 'error')}), so they hear only on its error topic`;
    next = `Fix its errors (see ERRORS_BY_CODE; hookwire logs ${i.id}); the device hears the response once a call succeeds with a body.`;
  } else {
    why = `its ${plural(f.successes, 'success', 'successes')} ${from(f)} all came back with an empty body${i.responseTemplate !== undefined ? ' or a responseTemplate that renders nothing' : ''}, and an empty response is not published`;
    next = `Have the target answer 200 with a body (204 and empty bodies publish nothing)${i.responseTemplate !== undefined ? ', or fix the responseTemplate' : ''}; or stop subscribing if the device needs no answer. The responses: hookwire logs ${i.id}`;
  }
  return {
    check: 'SUBSCRIBED_NO_RESPONSE',
    severity: 'warning',
    integrationId: i.id,
    message: `${plural(listeners.length, 'device subscribes', 'devices subscribe')} to the responses of ${label(i)}: ${who}; but ${why}.`,
    next,
    evidence: { devices: listeners, successes: f.successes, answered: f.answered, failures: f.failures, totalCalls: s.totalCalls, source: f.source },
  };
}

function mismatchFinding(i: Integration, l: Listener, actual: Family): Finding {
  const topic = `${actual.prefix}${actual.open ? '…' : ''}/<part>`;
  const sandbox = l.filter.startsWith('hook-response/') ? ` (Particle's sandbox topic hook-response/<event> is the device's own ${l.deviceId}/hook-response/<event> here, so only that device hears it)` : '';
  return {
    check: 'RESPONSE_TOPIC_MISMATCH',
    severity: 'warning',
    integrationId: i.id,
    message: `Device ${l.deviceId} triggers ${label(i)} and subscribes to ${l.filter}, but the responses go to ${topic}: the device never hears them${sandbox}.`,
    next: i.responseTopic === undefined
      ? `Subscribe to "${l.deviceId}/hook-response/${i.event}" in the firmware (subscribe(deviceID() + "/hook-response/${i.event}", ...)), or answer on the topic it listens to: ${updateStep(i.id, { responseTopic: 'hook-response/{{PARTICLE_EVENT_NAME}}' })} (every subscribed device then hears every response).`
      : `Subscribe the device to "${actual.prefix}/", or change the integration's responseTopic to what the device listens to.`,
    evidence: { deviceId: l.deviceId, filter: l.filter, responseTopic: topic, customResponseTopic: i.responseTopic ?? null },
  };
}

export const responseSubscriptions: Check = async (ctx) => {
  const out: Finding[] = [];
  const index = indexFilters(ctx.subscriptions);
  for (const [k, i] of ctx.integrations.entries()) {
    await breathe(k);
    const listening: Listener[] = [];
    const triggering = triggerers(ctx, i);
    for (const deviceId of new Set([...triggering.keys(), ...namedBy(index, i)])) {
      const filters = ctx.subscriptions.get(deviceId);
      if (!filters) continue; // not connected now
      const event = triggering.get(deviceId)?.event;
      const actual = responseFamily(i, deviceId, event);
      if (!actual) continue;
      const triggers = event !== undefined;
      // Topics a device could mean for these responses: Particle's sandbox, or the default.
      const elsewhere: Family[] = [{ prefix: `hook-response/${i.event}`, open: true }];
      if (i.responseTopic !== undefined) elsewhere.push({ prefix: `${deviceId}/hook-response/${i.event}`, open: true });
      let mismatch: string | undefined;
      for (const filter of filters) {
        if (coversFamily(filter, actual)) {
          if (triggers || namesFamily(filter, actual)) listening.push({ deviceId, filter, triggers });
          mismatch = undefined;
          break;
        }
        // Particle firmware's subscribe("hook-response/<event>") becomes the filter hook-response/#.
        if (triggers && elsewhere.some((f) => coversFamily(filter, f))) mismatch ??= filter;
      }
      if (mismatch) out.push(mismatchFinding(i, { deviceId, filter: mismatch, triggers }, actual));
    }
    if (listening.length === 0) continue;
    const f = await replyFigures(ctx, i);
    if (f.answered === 0) out.push(noAnswerFinding(ctx, i, listening, f));
  }
  return out;
};

