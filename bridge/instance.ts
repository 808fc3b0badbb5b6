// The running bridge, as a file in its data directory (`bridge.json`): its PID and, once it
// listens, its URLs. Two uses:
//
//   the lock   a second bridge on the same data directory refuses to start, naming the PID
//              that holds it (two writers would share one SQLite file and one admin token);
//   discovery  the CLI, the simulator and the examples find the bridge the way it was started
//              (ports, TLS) instead of assuming 8080 and 1883.
//
// A file left by a bridge that did not stop cleanly (kill -9, a power cut) is stale when its
// PID is gone, or is no longer a Node process, or is this process without the directory open:
// it is taken over, and the log says so.

import { readFileSync } from 'node:fs';
import { open, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { HookwireError } from './errors.ts';
import type { Logger } from './log.ts';

const INSTANCE_FILE = 'bridge.json';

/** What `bridge.json` holds. */
export interface InstanceInfo {
  pid: number;
  version?: string;
  startedAt: string;
  /** The HTTP API (https:// with a certificate). */
  http?: string;
  /** Plain MQTT, when that listener is on. */
  mqtt?: string;
  /** MQTT over TLS, when a certificate is configured. */
  mqtts?: string;
  /** MQTT over WebSocket. */
  ws?: string;
}

/** Data directories this process has open: a second bridge in the same process is refused too. */
const openHere = new Set<string>();

/** Whether `pid` is a live process that could be a bridge (Linux: a Node process). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    // A PID reused by something else after a crash does not hold the directory.
    return /node|hookwire|tsx/i.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
  } catch {
    return true; // no /proc (macOS): the PID's being alive has to do
  }
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function parse(text: string): InstanceInfo | undefined {
  try {
    const info = JSON.parse(text) as InstanceInfo;
    return Number.isInteger(info?.pid) ? info : undefined;
  } catch {
    return undefined;
  }
}

/** The bridge running on `dataDir`, if one is (a stale or unreadable file is none). */
export function runningBridge(dataDir: string): InstanceInfo | undefined {
  const info = parse(readText(join(dataDir, INSTANCE_FILE)));
  if (!info) return undefined;
  if (info.pid === process.pid) return openHere.has(resolve(dataDir)) ? info : undefined;
  return alive(info.pid) ? info : undefined;
}

export interface Instance {
  /** Write the URLs the bridge listens on, for the tools that look for it. */
  publish(info: Omit<InstanceInfo, 'pid' | 'startedAt'>): Promise<void>;
  /** Remove the file (a clean stop). */
  release(): Promise<void>;
}

/** Take the data directory: throws DATA_DIR_IN_USE when a live bridge holds it. */
export async function claimDataDir(dataDir: string, logger: Logger): Promise<Instance> {
  const dir = resolve(dataDir);
  const path = join(dir, INSTANCE_FILE);
  const holder = runningBridge(dir);
  if (holder) {
    throw new HookwireError('DATA_DIR_IN_USE',
      `the data directory ${dataDir} is in use by the bridge with PID ${holder.pid}${holder.http ? ` (${holder.http})` : ''}: stop that one, or give this one its own directory (HOOKWIRE_DATA_DIR or --data-dir)`,
      { field: 'dataDir' });
  }
  const startedAt = new Date().toISOString();
  let current: InstanceInfo = { pid: process.pid, startedAt };
  try {
    // Exclusive: of two bridges starting at once, one creates the file and the other sees it.
    const file = await open(path, 'wx', 0o600);
    await file.writeFile(JSON.stringify(current) + '\n');
    await file.close();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const left = parse(readText(path));
    // Between the check above and here another bridge may have taken it.
    if (runningBridge(dir)) return claimDataDir(dataDir, logger);
    logger.info({ file: path, pid: left?.pid }, 'a bridge that did not stop cleanly left its instance file; taking the data directory over');
    await write(path, current);
  }
  openHere.add(dir);

  return {
    async publish(info) {
      current = { ...current, ...info, pid: process.pid, startedAt };
      await write(path, current);
    },
    async release() {
      openHere.delete(dir);
      // Only ours: a directory taken over since (after a delete) belongs to someone else.
      if (parse(readText(path))?.pid === process.pid) await rm(path, { force: true });
    },
  };
}

/** Write the file whole (a reader never sees half of it), 0600. */
async function write(path: string, info: InstanceInfo): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(info) + '\n', { mode: 0o600 });
  await rename(tmp, path);
}
