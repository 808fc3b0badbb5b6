// Shared pieces of the benchmark scripts (DESIGN.md, Performance targets; STYLE.md 10):
// the machine a run was made on, child processes (the bridge, a bare broker, load
// generators) that are always cleaned up, /proc readings (RSS, CPU time), tables, and the
// JSON results under .bench/. Benchmarks are scripts, never tests.

import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Agent, fetch as undiciFetch } from 'undici';
import { runPool } from '../../simulator/pool.ts';
import { makeTestPki, opensslAvailable, type KeyType } from './certs.ts';

/** The repository root (scripts/lib/ is two levels down). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Where results go; git-ignored. */
export const RESULTS_DIR = join(ROOT, '.bench');

export const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

// ---------------------------------------------------------------------------------------
// The machine

export interface MachineInfo {
  cpu: string;
  /** CPUs this process may run on (affinity-aware). */
  cores: number;
  /** The cgroup CPU limit, in CPUs, when there is one (containers). */
  cpuQuota: number | null;
  memoryGb: number;
  node: string;
  platform: string;
}

function cpuModel(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('model name'));
    if (line) return line.slice(line.indexOf(':') + 1).trim();
  } catch {
    // not Linux: fall back to what libuv says
  }
  return cpus()[0]?.model ?? 'unknown';
}

function cgroupQuota(): number | null {
  try {
    const [quota, period] = readFileSync('/sys/fs/cgroup/cpu.max', 'utf8').trim().split(/\s+/);
    if (!quota || quota === 'max' || !period) return null;
    return Math.round((Number(quota) / Number(period)) * 100) / 100;
  } catch {
    return null;
  }
}

export function machineInfo(): MachineInfo {
  return {
    cpu: cpuModel(),
    cores: availableParallelism(),
    cpuQuota: cgroupQuota(),
    memoryGb: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  };
}

export function printMachine(m: MachineInfo): void {
  const quota = m.cpuQuota === null ? '' : `, cgroup quota ${m.cpuQuota} CPUs`;
  console.log(`machine: ${m.cpu}, ${m.cores} cores${quota}, ${m.memoryGb} GB RAM, Node ${m.node} (${m.platform})`);
}

// ---------------------------------------------------------------------------------------
// /proc readings

/** A memory field of /proc/<pid>/status in KB (VmRSS: resident now; VmHWM: the peak so far). */
function statusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(status);
  if (!match) throw new Error(`no ${field} for pid ${pid}`);
  return Number(match[1]);
}

/** Resident memory of a process in KB (VmRSS of /proc/<pid>/status). */
export function rssKb(pid: number): number {
  return statusKb(pid, 'VmRSS');
}

/** The most resident memory a process has had so far, KB (VmHWM of /proc/<pid>/status). */
export function peakRssKb(pid: number): number {
  return statusKb(pid, 'VmHWM');
}

/** USER_HZ: the unit of /proc/<pid>/stat times; 100 on every mainstream Linux. */
const CLOCK_TICKS_PER_S = 100;

/** CPU time (user + system) a process has used, in ms, from /proc/<pid>/stat. */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces; fields after ")" start at field 3 (state).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]); // field 14
  const stime = Number(fields[12]); // field 15
  return ((utime + stime) * 1000) / CLOCK_TICKS_PER_S;
}

/**
 * CPU time the whole machine has been busy (all CPUs, everything but idle and iowait), in
 * ms, from /proc/stat: minus our processes' share, it shows whether something else was
 * competing for the CPUs during a measurement (a shared machine makes noisy numbers).
 */
export function machineCpuMs(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  // cpu  user nice system idle iowait irq softirq steal guest guest_nice
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return ((user! + nice! + system! + irq! + softirq! + steal!) * 1000) / CLOCK_TICKS_PER_S;
}

/** CPU time this process has used, in ms. */
export function selfCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** Measures the CPU share of some processes over a window: 100 = one core busy all along. */
export function cpuMeter(sources: Record<string, () => number>) {
  const start = performance.now();
  const before = Object.fromEntries(Object.entries(sources).map(([k, read]) => [k, read()]));
  return {
    /** CPU % per source since the meter was made. */
    read(): Record<string, number> {
      const wall = performance.now() - start;
      return Object.fromEntries(Object.entries(sources).map(([k, read]) => [k, ((read() - before[k]!) / wall) * 100]));
    },
  };
}

// ---------------------------------------------------------------------------------------
// Cleanup: children and temp dirs go away at the end, on failure, and on Ctrl-C.

const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();
const cleanups: (() => Promise<void> | void)[] = [];

/** Run `fn` at the end of the bench (last registered runs first), even on failure. */
export function onCleanup(fn: () => Promise<void> | void): void {
  cleanups.push(fn);
}

/** A temp dir removed at the end. */
export async function tempDir(prefix: string): Promise<string> {
  installHandlers();
  const dir = await mkdtemp(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

let handlersInstalled = false;
/**
 * Process-level cleanup, installed by the bench (runBench) or on the first child or temp
 * dir — not at import, so a child that imports this file keeps its own signal handling.
 */
function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  // Last resort, synchronous: whatever the graceful cleanup did not reach.
  process.on('exit', () => {
    for (const child of children) if (!exited(child)) child.kill('SIGKILL');
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: cleaning up`);
      void runCleanups().finally(() => process.exit(130));
    });
  }
}

let cleaning: Promise<void> | undefined;
function runCleanups(): Promise<void> {
  cleaning ??= (async () => {
    for (const fn of cleanups.reverse()) {
      try {
        await fn();
      } catch (err) {
        console.error('cleanup failed:', err);
      }
    }
    await Promise.all([...children].map((c) => stopProcess(c, 3000)));
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
    tempDirs.clear();
  })();
  return cleaning;
}

/**
 * Run a bench: `main`, then every cleanup, then exit (so a stray socket or timer cannot keep
 * the process alive). A failure prints and exits 1.
 */
export async function runBench(main: () => Promise<void>): Promise<never> {
  installHandlers();
  try {
    await main();
  } catch (err) {
    const usage = err instanceof UsageError || String((err as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS');
    console.error(usage ? `${(err as Error).message} (--help for usage)` : err instanceof Error ? (err.stack ?? err.message) : err);
    process.exitCode = 1;
  } finally {
    await runCleanups();
  }
  process.exit();
}

// ---------------------------------------------------------------------------------------
// Child processes

export type LogLine = Record<string, unknown>;

export interface Child {
  name: string;
  pid: number;
  process: ChildProcess;
  rssKb(): number;
  /** Peak resident memory so far, KB. */
  peakRssKb(): number;
  cpuMs(): number;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it has exited. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL (a crash: nothing is flushed or closed); resolves when it has exited. */
  kill(): Promise<void>;
}

export interface SpawnOptions {
  /** A name for messages. */
  name: string;
  /** Arguments to node (flags, then the script and its arguments). */
  args: string[];
  env?: Record<string, string>;
  /** The child is ready when it prints a JSON line on stdout that passes this check. */
  ready: (line: LogLine) => boolean;
  /** Give up waiting for the ready line after this long, ms. Default 20 s. */
  timeoutMs?: number;
  /** Open an IPC channel (process.send in the child). */
  ipc?: boolean;
  /** Every JSON line the child prints on stdout after its ready line. */
  onLine?: (line: LogLine) => void;
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function stopProcess(child: ChildProcess, graceMs: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (exited(child)) return Promise.resolve();
  return new Promise((done) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(kill);
      children.delete(child);
      done();
    });
    child.kill(signal);
  });
}

/** pino levels: 40 warn, 50 error, 60 fatal. */
const WARN = 40;
/** Child log lines at warn and above echoed to our stderr, at most this many per child. */
const ECHO_LIMIT = 10;

/**
 * Start a Node child (from the repository root) and wait for its ready line. Its stdout is
 * read to the end (a full pipe would stall it); warnings and errors there are echoed,
 * and its stderr is kept to explain a failed start.
 */
export function spawnNode(options: SpawnOptions): Promise<{ child: Child; line: LogLine }> {
  installHandlers();
  const proc = spawn(process.execPath, options.args, {
    cwd: ROOT,
    env: { ...process.env, ...options.env },
    stdio: options.ipc ? ['pipe', 'pipe', 'pipe', 'ipc'] : ['pipe', 'pipe', 'pipe'],
  });
  children.add(proc);
  proc.once('exit', () => children.delete(proc));
  let stderr = '';
  proc.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4000);
  });

  const { child, stopRequested } = childOf(proc, options.name);

  return new Promise((resolvePromise, reject) => {
    let ready = false;
    let echoed = 0;
    const fail = (why: string) => {
      clearTimeout(timer);
      void child.stop(0);
      reject(new Error(`${options.name} did not start: ${why}${stderr ? `\n--- its stderr ---\n${stderr}` : ''}`));
    };
    const timer = setTimeout(() => fail(`no ready line in ${options.timeoutMs ?? 20_000} ms`), options.timeoutMs ?? 20_000);
    proc.once('error', (err) => fail(err.message));
    proc.once('exit', (code, signal) => {
      if (!ready) fail(`exited with ${signal ?? `code ${code}`}`);
      else if (code !== 0 && signal === null && !stopRequested() && !cleaning) console.error(`[${options.name}] exited with code ${code}${stderr ? `: ${stderr.trim()}` : ''}`);
    });
    createInterface({ input: proc.stdout! }).on('line', (text) => {
      let line: LogLine | null = null;
      try {
        const parsed: unknown = JSON.parse(text);
        if (parsed && typeof parsed === 'object') line = parsed as LogLine;
      } catch {
        // not JSON: echoed below
      }
      if (!ready && line && options.ready(line)) {
        ready = true;
        clearTimeout(timer);
        resolvePromise({ child, line });
        return;
      }
      if (ready && line) options.onLine?.(line);
      const level = typeof line?.level === 'number' ? line.level : line ? 0 : WARN;
      if (level >= WARN && echoed < ECHO_LIMIT) {
        echoed++;
        console.error(`[${options.name}] ${text.slice(0, 500)}${echoed === ECHO_LIMIT ? ' (further lines not shown)' : ''}`);
      }
    });
  });
}

/** A Child over a spawned process; `stopRequested` tells an exit we asked for from a crash. */
function childOf(proc: ChildProcess, name: string): { child: Child; stopRequested: () => boolean } {
  let requested = false;
  const child: Child = {
    name,
    pid: proc.pid!,
    process: proc,
    rssKb: () => rssKb(proc.pid!),
    peakRssKb: () => peakRssKb(proc.pid!),
    cpuMs: () => cpuMs(proc.pid!),
    stop: (graceMs = 5000) => {
      requested = true;
      return stopProcess(proc, graceMs);
    },
    kill: () => {
      requested = true;
      return stopProcess(proc, 0, 'SIGKILL');
    },
  };
  return { child, stopRequested: () => requested };
}

/**
 * Start a program that is not Node (a peer broker such as Mosquitto), cleaned up like every
 * child. It has no ready line to wait for: resolves once spawned; the caller checks it serves
 * (e.g. its port accepts connections). `output()` is the tail of its stdout and stderr, to
 * explain a failed start.
 */
export function spawnProgram(options: { name: string; command: string; args: string[] }): Promise<Child & { output(): string }> {
  installHandlers();
  const proc = spawn(options.command, options.args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-4000);
  };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  return new Promise((resolvePromise, reject) => {
    proc.once('error', (err) => reject(new Error(`${options.name} did not start: ${err.message}`)));
    proc.once('spawn', () => {
      children.add(proc);
      proc.once('exit', () => children.delete(proc));
      const { child, stopRequested } = childOf(proc, options.name);
      proc.once('exit', (code, signal) => {
        if (!stopRequested() && !cleaning) console.error(`[${options.name}] exited with ${signal ?? `code ${code}`}${output ? `: ${output.trim()}` : ''}`);
      });
      resolvePromise({ ...child, output: () => output });
    });
  });
}

/** Start a TypeScript script of this repository as a Node child (through tsx). */
export function spawnTs(options: Omit<SpawnOptions, 'args'> & { script: string; args?: string[]; nodeArgs?: string[] }) {
  const { script, args = [], nodeArgs = [], ...rest } = options;
  return spawnNode({ ...rest, args: [...nodeArgs, '--import', 'tsx', join(ROOT, script), ...args] });
}

// ---------------------------------------------------------------------------------------
// The bridge, in its own process, as users run it

export interface BridgeProcess extends Child {
  mqttPort: number;
  httpPort: number;
  url: string;
  mqttUrl: string;
  /** MQTT over TLS, when the bridge was started with `tls`. */
  mqttsUrl: string | undefined;
  /** The CA's PEM that clients trust, when the bridge was started with `tls`. */
  caPem: string | undefined;
  dataDir: string;
  adminToken: string;
  /** Call the HTTP API as the admin; resolves with the status and parsed JSON body. */
  api<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
}

export interface BridgeProcessOptions {
  /** Extra node flags, e.g. ['--cpu-prof', '--cpu-prof-dir', dir]. */
  nodeArgs?: string[];
  /** Extra environment (HOOKWIRE_*). */
  env?: Record<string, string>;
  /** The checkout whose bridge runs (bridge/cli/bin.js under it). Default: this repository. */
  root?: string;
  /** A data dir to use (e.g. a previous run's, for a restart). Default: a new temp dir. */
  dataDir?: string;
  /** Ports to listen on. Default 0: free ports, read from the listening line. */
  mqttPort?: number;
  httpPort?: number;
  /** Name for messages. Default `bridge`. */
  name?: string;
  /** The bridge's JSON log lines after the listening line. */
  onLine?: (line: LogLine) => void;
  /** Serve this certificate (MQTTS on a free port, HTTPS); `ca` is what clients trust. */
  tls?: { cert: string; key: string; ca: string };
}

/**
 * `node bridge/cli/bin.js start --mqtt-port 0 --http-port 0 --data-dir <tmp>`; the ports come
 * from its "listening" log line (stdout is not a TTY, so pino writes JSON lines), the admin
 * token from `<data dir>/admin-token`.
 */
export async function startBridgeProcess(options: BridgeProcessOptions = {}): Promise<BridgeProcess> {
  const dataDir = options.dataDir ?? await tempDir('hookwire-bench-');
  const { child, line } = await spawnNode({
    name: options.name ?? 'bridge',
    args: [...(options.nodeArgs ?? []), join(options.root ?? ROOT, 'bridge/cli/bin.js'), 'start',
      '--mqtt-port', String(options.mqttPort ?? 0), '--http-port', String(options.httpPort ?? 0), '--data-dir', dataDir],
    // Info level: the listening line is an info line. Nothing is logged per connection or event.
    env: {
      HOOKWIRE_LOG_LEVEL: 'info',
      ...(options.tls ? { HOOKWIRE_TLS_CERT: options.tls.cert, HOOKWIRE_TLS_KEY: options.tls.key, HOOKWIRE_MQTTS_PORT: '0' } : {}),
      ...options.env,
    },
    ready: (l) => typeof l.mqttPort === 'number' && typeof l.httpPort === 'number',
    ...(options.onLine ? { onLine: options.onLine } : {}),
  });
  const mqttPort = line.mqttPort as number;
  const httpPort = line.httpPort as number;
  const adminToken = (await readFile(join(dataDir, 'admin-token'), 'utf8')).trim();
  const caPem = options.tls ? await readFile(options.tls.ca, 'utf8') : undefined;
  const url = `${caPem ? 'https' : 'http'}://127.0.0.1:${httpPort}`;
  const mqttsUrl = typeof line.mqttsPort === 'number' ? `mqtts://127.0.0.1:${line.mqttsPort}` : undefined;
  // Over HTTPS, through undici with the test CA trusted (Node's fetch takes no CA).
  const dispatcher = caPem ? new Agent({ connect: { ca: caPem } }) : undefined;

  async function api<T>(method: string, path: string, body?: unknown) {
    const init = {
      method,
      headers: { authorization: `Bearer ${adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    };
    const res = dispatcher ? await undiciFetch(url + path, { ...init, dispatcher }) : await fetch(url + path, init);
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  }

  return { ...child, mqttPort, httpPort, url, mqttUrl: `mqtt://127.0.0.1:${mqttPort}`, mqttsUrl, caPem, dataDir, adminToken, api };
}

/** `--tls` and `--key-type`, for the benchmarks that measure what TLS costs (parseArgs options). */
export const tlsFlags = {
  tls: { type: 'boolean', default: false },
  'key-type': { type: 'string', default: 'ec' },
} as const;

/** `--key-type`: ECDSA P-256 (what certbot asks Let's Encrypt for) or RSA 2048. */
export function keyTypeFlag(value: string): KeyType {
  if (value !== 'ec' && value !== 'rsa') throw new UsageError('--key-type must be ec or rsa');
  return value;
}

/** How a certificate's key is named in a benchmark's output. */
export const keyTypeName = (keyType: KeyType) => (keyType === 'ec' ? 'ECDSA P-256' : 'RSA 2048');

/**
 * A throwaway CA and a server certificate for 127.0.0.1 made by openssl in a temp dir removed
 * at the end: what `startBridgeProcess({ tls })` serves and clients trust.
 */
export async function throwawayTls(keyType: KeyType = 'ec'): Promise<{ cert: string; key: string; ca: string }> {
  if (!opensslAvailable()) throw new UsageError('--tls needs openssl (apt-get install -y openssl)');
  const pki = makeTestPki(await tempDir('hookwire-bench-tls-'), keyType);
  return { cert: pki.server.cert, key: pki.server.key, ca: pki.ca.cert };
}

export interface DeviceCredentials {
  id: string;
  token: string;
}

/** Register `count` devices through the API (`POST /v1/devices`). */
export function registerDevices(bridge: BridgeProcess, count: number, concurrency = 20): Promise<DeviceCredentials[]> {
  return pool(count, concurrency, async () => {
    const res = await bridge.api<DeviceCredentials>('POST', '/v1/devices', {});
    if (res.status !== 201) throw new Error(`POST /v1/devices: ${res.status} ${JSON.stringify(res.body)}`);
    return { id: res.body.id, token: res.body.token };
  });
}

// ---------------------------------------------------------------------------------------
// Small helpers

/** A TCP port free on `host` now (listen on 0, read it, close). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolvePort(port));
    });
  });
}

/** Run `task(0..count-1)` with at most `concurrency` at a time; results in index order. */
export async function pool<T>(count: number, concurrency: number, task: (index: number) => Promise<T>): Promise<T[]> {
  const results = new Array<T>(count);
  await runPool(Array.from({ length: count }, (_, i) => i), concurrency, async (i) => { results[i] = await task(i); });
  return results;
}

/** The p-th percentile (0-100) of some numbers, nearest rank. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** The middle value; for an even count, the mean of the two middle ones. */
export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** 12345.6 -> "12,346"; digits after the point on request. */
export function fmt(n: number, digits = 0): string {
  return Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : '-';
}

export function fmtKb(kb: number): string {
  return kb >= 10 * 1024 ? `${fmt(kb / 1024, 1)} MB` : `${fmt(kb, 1)} KB`;
}

/** A Markdown table (pastes into an issue as is); numbers-looking cells are right-aligned. */
export function printTable(headers: string[], rows: (string | number)[][]): void {
  const cells = rows.map((r) => r.map((c) => (typeof c === 'number' ? fmt(c) : c)));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const numeric = headers.map((_, i) => cells.length > 0 && cells.every((r) => /^[-+]?[\d,.]+(\s?\S{0,4})?$|^-$/.test(r[i] ?? '')));
  const pad = (s: string, i: number) => (numeric[i] ? s.padStart(widths[i]!) : s.padEnd(widths[i]!));
  console.log(`| ${headers.map(pad).join(' | ')} |`);
  console.log(`|${widths.map((w, i) => (numeric[i] ? `${'-'.repeat(w + 1)}:` : `${'-'.repeat(w + 2)}`)).join('|')}|`);
  for (const r of cells) console.log(`| ${headers.map((_, i) => pad(r[i] ?? '', i)).join(' | ')} |`);
}

/** Write `.bench/<name>.json` with the machine, the options and the results; returns the path. */
export async function writeResults(name: string, data: { machine: MachineInfo; options: unknown; results: unknown }): Promise<string> {
  await mkdir(RESULTS_DIR, { recursive: true });
  const path = join(RESULTS_DIR, `${name}.json`);
  await writeFile(path, JSON.stringify({ bench: name, at: new Date().toISOString(), ...data }, null, 2) + '\n');
  return path;
}

/** Where `--cpu-prof` profiles go. */
export const PROFILE_DIR = join(RESULTS_DIR, 'profiles');

/** Node flags that profile a child into PROFILE_DIR (written when it exits normally). */
export function cpuProfArgs(enabled: boolean): string[] {
  return enabled ? ['--cpu-prof', '--cpu-prof-dir', PROFILE_DIR] : [];
}

/**
 * Stop a child that ran with cpuProfArgs and print its profile files (open them in Chrome
 * DevTools or speedscope). A child using tsx has a second profile, its loader thread's.
 */
export async function stopAndShowProfile(child: Child): Promise<string[]> {
  await child.stop();
  const files = (await readdir(PROFILE_DIR).catch(() => [] as string[]))
    .filter((f) => f.endsWith('.cpuprofile') && f.includes(`.${child.pid}.`))
    .map((f) => join(PROFILE_DIR, f));
  for (const f of files) console.log(`profile (${child.name}, pid ${child.pid}): ${f}`);
  return files;
}

/** A bad flag: printed as a message, without a stack. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A positive integer flag, or an error that names it. */
export function intFlag(name: string, value: string | undefined, min = 1): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer ≥ ${min}, got ${JSON.stringify(value)}`);
  return n;
}

/** A positive number flag, or an error that names it. */
export function numberFlag(name: string, value: string | undefined): number {
  const n = Number(value);
  if (!(n > 0)) throw new UsageError(`--${name} must be a positive number, got ${JSON.stringify(value)}`);
  return n;
}

/**
 * ns per call of `call` over about `ms` of back-to-back calls, in batches of `batch` (the
 * clock is read once per batch). `call(k)` gets the call's number and returns a number that is
 * summed, so the calls cannot be optimised away.
 */
export function nsPerCall(call: (k: number) => number, ms: number, batch = 1_000): number {
  let calls = 0;
  let sink = 0;
  const start = process.hrtime.bigint();
  const until = start + BigInt(ms * 1e6);
  let now = start;
  while (now < until) {
    for (let k = 0; k < batch; k++) sink += call(calls + k);
    calls += batch;
    now = process.hrtime.bigint();
  }
  if (sink < 0) console.log(sink); // keep the calls observable
  return Number(now - start) / calls;
}
