// Where a process's CPU time went, from a V8 .cpuprofile (node --cpu-prof): the functions
// with the most self time, the modules they belong to, and the inclusive time of chosen
// functions (e.g. the webhook pipeline's steps), all as % of busy (non-idle) samples.
// Samples can be limited to a window: profile timestamps are V8 TimeTicks, µs of
// CLOCK_MONOTONIC on Linux, the clock process.hrtime.bigint() reads in every process.

import { readFile } from 'node:fs/promises';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileRow {
  name: string;
  /** Module: an npm package, a repository file, `node` for Node's own code, or a V8 category. */
  module: string;
  ms: number;
  /** % of busy time. */
  percent: number;
}

export interface ProfileSummary {
  file: string;
  /** Wall time covered by the samples used, ms. */
  wallMs: number;
  busyMs: number;
  /** Busy time / wall time: 100 = one core all along. */
  busyPercent: number;
  self: ProfileRow[];
  modules: ProfileRow[];
  /** Inclusive time of the functions asked for (each counted once per sample). */
  inclusive: ProfileRow[];
  /** The repository's own functions (bridge/, firmware-sdk/) with the most inclusive time. */
  ownInclusive: ProfileRow[];
}

/** `bridge/webhooks/send.ts`, `undici`, `node`, or a V8 category like `(garbage collector)`. */
function moduleOf(frame: CallFrame): string {
  const url = frame.url;
  if (!url) return frame.functionName.startsWith('(') ? frame.functionName : '(native)';
  if (url.startsWith('node:')) return 'node';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const repo = /\/(bridge|firmware-sdk|scripts)\/(.*)$/.exec(url);
  if (repo) return `${repo[1]}/${repo[2]!.replace(/\?.*$/, '')}`;
  return url.replace(/^file:\/\//, '');
}

function label(frame: CallFrame): string {
  const name = frame.functionName || '(anonymous)';
  if (!frame.url) return name;
  // tsx hands V8 its output on one line: a line number there says nothing.
  return frame.lineNumber > 0 ? `${name} ${moduleOf(frame)}:${frame.lineNumber + 1}` : `${name} ${moduleOf(frame)}`;
}

const isOwn = (module: string) => module.startsWith('bridge/') || module.startsWith('firmware-sdk/');

/**
 * Summarise a profile. `window` limits the samples to [fromUs, toUs] of CLOCK_MONOTONIC
 * (process.hrtime.bigint() / 1000n); `inclusiveOf` names functions whose inclusive time is
 * wanted (a name, or `name@module` when the name alone is ambiguous).
 */
export async function summarizeProfile(file: string, options: { window?: [number, number]; top?: number; inclusiveOf?: string[] } = {}): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of profile.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const [from, to] = options.window ?? [-Infinity, Infinity];
  const wanted = options.inclusiveOf ?? [];

  const self = new Map<string, { module: string; us: number }>();
  const modules = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const ownInclusive = new Map<string, number>();
  let busyUs = 0;
  let firstT = Infinity;
  let lastT = -Infinity;
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    t += delta;
    if (t < from || t > to) continue;
    // A sample stands for the interval up to the next one.
    const us = profile.timeDeltas[i + 1] ?? delta;
    firstT = Math.min(firstT, t);
    lastT = Math.max(lastT, t + us);
    const node = byId.get(profile.samples[i]!)!;
    const name = node.callFrame.functionName;
    if (name === '(idle)') continue;
    busyUs += us;
    const key = label(node.callFrame);
    const mod = moduleOf(node.callFrame);
    const row = self.get(key);
    if (row) row.us += us;
    else self.set(key, { module: mod, us });
    modules.set(mod, (modules.get(mod) ?? 0) + us);
    // Each function once per sample, however deep the recursion.
    const seen = new Set<string>();
    const seenOwn = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const frame = byId.get(id)!.callFrame;
      const frameModule = moduleOf(frame);
      if (isOwn(frameModule)) seenOwn.add(label(frame));
      for (const w of wanted) {
        const [fn, inModule] = w.split('@');
        if (frame.functionName === fn && (!inModule || frameModule.includes(inModule) || frame.url.includes(inModule))) seen.add(w);
      }
    }
    for (const w of seen) inclusive.set(w, (inclusive.get(w) ?? 0) + us);
    for (const w of seenOwn) ownInclusive.set(w, (ownInclusive.get(w) ?? 0) + us);
  }

  const top = options.top ?? 25;
  const pct = (us: number) => (busyUs > 0 ? (us / busyUs) * 100 : 0);
  const wallMs = Math.max(0, lastT - firstT) / 1000;
  return {
    file,
    wallMs,
    busyMs: busyUs / 1000,
    busyPercent: wallMs > 0 ? (busyUs / 1000 / wallMs) * 100 : 0,
    self: [...self].sort((a, b) => b[1].us - a[1].us).slice(0, top)
      .map(([name, r]) => ({ name, module: r.module, ms: r.us / 1000, percent: pct(r.us) })),
    modules: [...modules].sort((a, b) => b[1] - a[1]).slice(0, top)
      .map(([name, us]) => ({ name, module: name, ms: us / 1000, percent: pct(us) })),
    inclusive: wanted.map((w) => ({ name: w, module: '', ms: (inclusive.get(w) ?? 0) / 1000, percent: pct(inclusive.get(w) ?? 0) })),
    ownInclusive: [...ownInclusive].sort((a, b) => b[1] - a[1]).slice(0, top)
      .map(([name, us]) => ({ name, module: name.split(' ')[1] ?? '', ms: us / 1000, percent: pct(us) })),
  };
}
