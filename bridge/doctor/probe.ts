// Is a target reachable from the bridge? A DNS lookup (the resolver undici uses) and a TCP
// connect, each with a short timeout; no HTTP request is sent, so probing changes nothing at
// the target. Connection-level failures come back as results, never as throws.

import { lookup } from 'node:dns/promises';
import { connect } from 'node:net';

export interface ProbeTarget {
  host: string;
  port: number;
}

export interface ProbeResult extends ProbeTarget {
  ok: boolean;
  /** Where it failed: resolving the name, or connecting to the address. */
  stage?: 'dns' | 'connect';
  /** ENOTFOUND, ECONNREFUSED, ETIMEDOUT, EHOSTUNREACH, ... */
  code?: string;
  address?: string;
  ms: number;
}

function withTimeout<T>(work: Promise<T>, ms: number, code: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(code), { code })), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** The error code as the delivery logs show it (see webhooks/send.ts classifyError). */
function dnsCode(err: unknown): string {
  const code = (err as { code?: string }).code;
  return code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME' || code === 'ENODATA' ? 'ENOTFOUND' : code ?? 'ENOTFOUND';
}

function tcpConnect(address: string, family: number, port: number, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port, family });
    const done = (code: string | undefined) => {
      socket.removeAllListeners();
      socket.on('error', () => {}); // late errors of a socket we are closing
      socket.destroy();
      resolve(code);
    };
    socket.setTimeout(timeoutMs, () => done('ETIMEDOUT'));
    socket.once('connect', () => done(undefined));
    socket.once('error', (err: Error & { code?: string }) => done(err.code ?? 'ECONNRESET'));
  });
}

export async function probe(target: ProbeTarget, timeoutMs: number): Promise<ProbeResult> {
  const started = performance.now();
  const ms = () => Math.round(performance.now() - started);
  let resolved: { address: string; family: number };
  try {
    resolved = await withTimeout(lookup(target.host), timeoutMs, 'EAI_AGAIN');
  } catch (err) {
    return { ...target, ok: false, stage: 'dns', code: dnsCode(err), ms: ms() };
  }
  const code = await tcpConnect(resolved.address, resolved.family, target.port, timeoutMs);
  const result: ProbeResult = { ...target, ok: code === undefined, address: resolved.address, ms: ms() };
  if (code) Object.assign(result, { stage: 'connect', code });
  return result;
}

/** Probe each distinct target once, at most `concurrency` at a time; keyed `host:port`. */
export async function probeAll(targets: ProbeTarget[], timeoutMs: number, concurrency: number): Promise<Map<string, ProbeResult>> {
  const distinct = new Map(targets.map((t) => [`${t.host}:${t.port}`, t]));
  const queue = [...distinct.entries()];
  const results = new Map<string, ProbeResult>();
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) results.set(next[0], await probe(next[1], timeoutMs));
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, worker));
  return results;
}
