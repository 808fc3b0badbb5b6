// A fleet of simulated devices: register (or reuse) them, connect them a few dozen at a time,
// publish at a fixed total rate, count what comes back, and stop cleanly.
//
// The module API behind `npm run simulate`; tests and benchmark scripts call runSimulation.

import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { createNodeDevice, rules, sdkError, type Device } from '../firmware-sdk/index.ts';
import { deviceNames, openRegistry, type Origin, type SimDeviceCredentials } from './devices.ts';
import { runPool } from './pool.ts';

export interface SimulationOptions {
  /** HTTP API base URL, e.g. http://127.0.0.1:8080. */
  apiUrl: string;
  /** MQTT broker URL, e.g. mqtt://127.0.0.1:1883 or mqtts://hooks.example.com:8883. */
  mqttUrl: string;
  /** PEM file of the CA that signed the bridge's certificate (https://, mqtts://, wss://), when Node's trusted roots did not. */
  ca?: string | undefined;
  /** API token (admin): registers the devices. */
  token: string;
  /** Holds `simulator/devices.json`, the devices' credentials kept between runs. */
  dataDir: string;
  /** How many devices. Default 1. */
  devices?: number;
  /** Events per second across the whole fleet, spread round-robin over the devices. Default 1. */
  rate?: number;
  /** The event name. Default `temp`. */
  event?: string;
  /** 1: each publish waits for the bridge's PUBACK (the event is stored). Default 1. */
  qos?: 0 | 1;
  /** Seconds to publish; undefined publishes until `signal` aborts. */
  durationS?: number | undefined;
  /** Publish objects like `{temp: 21.4, humidity: 41}` (sent as CBOR) instead of text like `21.37`. */
  typed?: boolean;
  /** Devices are named `<namePrefix>-0001`, `<namePrefix>-0002`, ... Default `sim`. */
  namePrefix?: string;
  /** How many devices register and connect at once. Default 50. */
  connectConcurrency?: number;
}

export const DEFAULTS = {
  devices: 1,
  rate: 1,
  event: 'temp',
  qos: 1 as 0 | 1,
  typed: false,
  namePrefix: 'sim',
  connectConcurrency: 50,
};

type Resolved = SimulationOptions & typeof DEFAULTS;

export type Phase = 'registering' | 'connecting' | 'publishing' | 'draining' | 'stopping' | 'done';

/** A snapshot of a running simulation, a few times per second. */
export interface Status {
  phase: Phase;
  /** Seconds since publishing started (0 before). */
  elapsedS: number;
  devices: number;
  /** Devices registered or reused so far. */
  registered: number;
  connected: number;
  published: number;
  acknowledged: number;
  responses: number;
  refused: number;
  errors: number;
  skipped: number;
  /** Acknowledgements per second over about the last second. */
  rate: number;
}

export interface Summary {
  devices: number;
  /** Devices connected when the run ended, before they were disconnected. */
  connected: number;
  /** Publish calls made. */
  published: number;
  /** Publishes that settled successfully: for QoS 1, acknowledged by the bridge (PUBACK). */
  acknowledged: number;
  /** Messages received on the devices' `<deviceID>/hook-response/` subscriptions. */
  responses: number;
  /** Refusals the bridge sent the devices (bad name, data too large, ...). */
  refused: number;
  /** Rejected publishes and connection errors. */
  errors: number;
  /**
   * Events due but not published: their device was offline or had too many unacknowledged,
   * or the publisher fell more than a second behind (a stalled event loop).
   */
  skipped: number;
  /** Seconds spent publishing. */
  durationS: number;
  /** Acknowledged events per second over the publishing period. */
  rate: number;
  /** `errors` by error code. */
  errorsByCode: Record<string, number>;
}

export interface RunHooks {
  /** Aborting stops publishing, waits briefly for acknowledgements, disconnects, resolves. */
  signal?: AbortSignal;
  onStatus?: (status: Status) => void;
  /** Occasional lines worth telling a person (devices created, connections that failed). */
  onNote?: (line: string) => void;
}

/** Publishing ticks: each emits the events due since the last one. */
const TICK_MS = 10;
const STATUS_INTERVAL_MS = 250;
/** A device with this many unacknowledged publishes skips its turn instead of queueing more. */
const MAX_IN_FLIGHT = 100;
const CONNECT_TIMEOUT_MS = 10_000;
/** How long a stop waits for outstanding acknowledgements (and trailing responses). */
const DRAIN_MS = 2_000;
/** Responses trail acknowledgements: once acknowledged, wait until none came for this long. */
const RESPONSES_QUIET_MS = 250;
const DISCONNECT_MS = 2_000;

/**
 * What is wrong with `options`, naming the option, or undefined when they are usable.
 * (The token and data directory are not checked here: the bridge's answer says more.)
 */
export function checkOptions(options: SimulationOptions): { option: keyof SimulationOptions; problem: string } | undefined {
  const o = withDefaults(options);
  const wholeAtLeast1 = (n: number) => Number.isInteger(n) && n >= 1;
  const problems: [keyof SimulationOptions, boolean, string][] = [
    ['devices', wholeAtLeast1(o.devices) && o.devices <= 100_000, 'must be a whole number from 1 to 100000'],
    ['rate', Number.isFinite(o.rate) && o.rate > 0, 'must be a number of events per second > 0'],
    ['event', rules.publishNameError(o.event, '') === '', `must be ${rules.NAME_RULE} and not reserved (hook-*, spark*, particle*, hookwire*)`],
    ['qos', o.qos === 0 || o.qos === 1, 'must be 0 or 1'],
    ['durationS', o.durationS === undefined || (Number.isFinite(o.durationS) && o.durationS > 0), 'must be a number of seconds > 0'],
    // The bridge's device-name rule, with room for the `-0001` suffix.
    ['namePrefix', /^[A-Za-z0-9_-]{1,58}$/.test(o.namePrefix), 'must be 1-58 characters of A-Z a-z 0-9 _ -'],
    ['connectConcurrency', wholeAtLeast1(o.connectConcurrency), 'must be a whole number >= 1'],
    ['apiUrl', isUrl(o.apiUrl, ['http:', 'https:']), 'must be an http:// or https:// URL'],
    ['mqttUrl', isUrl(o.mqttUrl, ['mqtt:', 'mqtts:', 'tcp:', 'tls:', 'ws:', 'wss:']), 'must be an mqtt://, mqtts://, ws:// or wss:// URL'],
  ];
  const bad = problems.find(([, ok]) => !ok);
  return bad && { option: bad[0], problem: bad[2] };
}

/** `options` with the defaults filled in (an option set to undefined takes its default). */
function withDefaults(options: SimulationOptions): Resolved {
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
  return { ...DEFAULTS, ...given } as Resolved;
}

function isUrl(s: string, protocols: string[]): boolean {
  try {
    return protocols.includes(new URL(s).protocol);
  } catch {
    return false;
  }
}

/** A device with a sensor: its own baseline, drifting a little with each reading. */
function sensor(typed: boolean): () => string | { temp: number; humidity: number } {
  let temp = 19 + Math.random() * 5;
  let humidity = 35 + Math.random() * 15;
  const clamp = (n: number, min: number, max: number) => Math.min(max, Math.max(min, n));
  return () => {
    temp = clamp(temp + (Math.random() - 0.5) * 0.2, 15, 30);
    humidity = clamp(humidity + (Math.random() - 0.5), 20, 70);
    return typed ? { temp: Math.round(temp * 10) / 10, humidity: Math.round(humidity) } : temp.toFixed(2);
  };
}

interface SimDevice {
  device: Device;
  /** Publishes not yet settled. */
  inFlight: number;
  read: () => unknown;
}

/** `promise`, or a rejection after `ms` or once `stopped` resolves, whichever comes first. */
async function within<T>(promise: Promise<T>, ms: number, stopped: Promise<void>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(sdkError('CONNECT_TIMEOUT', `no connection within ${ms / 1000} s`)), ms);
  });
  const aborted = stopped.then((): never => {
    throw sdkError('ABORTED', 'stopped');
  });
  try {
    return await Promise.race([promise, timeout, aborted]);
  } finally {
    clearTimeout(timer);
  }
}

function codeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'ERROR';
}

/** `check()` is true, or `deadline` (performance.now() time) has passed. */
async function until(check: () => boolean, deadline: number): Promise<void> {
  while (!check() && performance.now() < deadline) await sleep(10);
}

/** Acknowledgements per second over about the last second, from periodic samples. */
function rateMeter(): (total: number) => number {
  const samples: { at: number; total: number }[] = [];
  return (total) => {
    const at = performance.now();
    samples.push({ at, total });
    while (samples.length > 2 && at - samples[1]!.at >= 1000) samples.shift();
    const first = samples[0]!;
    return at > first.at ? ((total - first.total) * 1000) / (at - first.at) : 0;
  };
}

function describeOrigins(devices: SimDeviceCredentials[], path: string): string {
  const counts: Record<Origin, number> = { stored: 0, rotated: 0, created: 0 };
  for (const d of devices) counts[d.origin]++;
  const parts = [
    counts.stored && `${counts.stored} reused`,
    counts.rotated && `${counts.rotated} reused with a new token`,
    counts.created && `${counts.created} created`,
  ].filter(Boolean);
  return `${devices.length} device${devices.length === 1 ? '' : 's'}: ${parts.join(', ')} (credentials in ${path})`;
}

/** The CA file's PEM, read once for the whole fleet. */
async function readCa(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new Error(`cannot read the CA file ${path} (--ca or HOOKWIRE_CA): ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

export async function runSimulation(options: SimulationOptions, hooks: RunHooks = {}): Promise<Summary> {
  const invalid = checkOptions(options);
  if (invalid) throw new TypeError(`${invalid.option} ${invalid.problem}`);
  const o = withDefaults(options);
  const { signal, onStatus, onNote = () => {} } = hooks;
  // Resolves when the run is stopped: one abort listener for the whole run, not one per device.
  const stopped = new Promise<void>((resolve) => {
    if (signal?.aborted) resolve();
    else signal?.addEventListener('abort', () => resolve(), { once: true });
  });

  const count = { published: 0, acknowledged: 0, responses: 0, refused: 0, errors: 0, skipped: 0 };
  const errorsByCode: Record<string, number> = {};
  const fleet: SimDevice[] = [];
  let phase: Phase = 'registering';
  let registered = 0;
  let renewed = 0;
  let inFlight = 0;
  let lastResponseAt = 0;
  let publishStart = 0;
  let publishEnd = 0;

  const fail = (err: unknown) => {
    count.errors++;
    const code = codeOf(err);
    errorsByCode[code] = (errorsByCode[code] ?? 0) + 1;
  };
  const connectedNow = () => fleet.reduce((n, s) => n + (s.device.connected() ? 1 : 0), 0);
  const ca = o.ca === undefined ? undefined : await readCa(o.ca);
  const registry = await openRegistry({ apiUrl: o.apiUrl, token: o.token, dataDir: o.dataDir, ca: o.ca });
  const currentRate = rateMeter();
  const status = (): Status => ({
    phase,
    elapsedS: publishStart ? ((publishEnd || performance.now()) - publishStart) / 1000 : 0,
    devices: o.devices,
    registered,
    connected: connectedNow(),
    ...count,
    rate: currentRate(count.acknowledged),
  });

  /** Connect one device and subscribe it to its responses. */
  async function open(creds: SimDeviceCredentials): Promise<SimDevice> {
    const device = createNodeDevice({ url: o.mqttUrl, deviceId: creds.id, token: creds.token, ...(ca ? { ca } : {}) });
    try {
      await within(device.connect()!, CONNECT_TIMEOUT_MS, stopped);
    } catch (err) {
      await device.disconnect(); // stop its reconnect attempts
      throw err;
    }
    device.on('refused', () => count.refused++);
    device.on('error', fail);
    device.on('disconnect', () => {
      if (phase !== 'stopping' && phase !== 'done') fail(sdkError('CONNECTION_LOST', 'the connection closed'));
    });
    // Subscribing to its own responses is part of the simulation, not a reason to drop the device.
    await device.subscribe(`${creds.id}/hook-response/`, () => {
      count.responses++;
      lastResponseAt = performance.now();
    })!.catch(fail);
    return { device, inFlight: 0, read: sensor(o.typed) };
  }

  /** `open`, counting the failure and resolving undefined when the device cannot connect. */
  async function connect(creds: SimDeviceCredentials): Promise<SimDevice | undefined> {
    try {
      return await open(creds);
    } catch (err) {
      // Stored credentials the broker refuses: the token was rotated elsewhere. Take a new one, once.
      if (codeOf(err) === 'CONNECT_REFUSED' && creds.origin === 'stored') {
        try {
          const sim = await open(await registry.rotate(creds));
          renewed++;
          return sim;
        } catch (again) {
          err = again;
        }
      }
      if (!signal?.aborted) fail(err);
      return undefined;
    }
  }

  function publish(sim: SimDevice): void {
    // Offline, or not keeping up: shed the event rather than queue without bound.
    if (sim.inFlight >= MAX_IN_FLIGHT || !sim.device.connected()) {
      count.skipped++;
      return;
    }
    count.published++;
    sim.inFlight++;
    inFlight++;
    sim.device.publish(o.event, sim.read(), { qos: o.qos })!.then(() => {
      count.acknowledged++;
    }, fail).finally(() => {
      sim.inFlight--;
      inFlight--;
    });
  }

  /**
   * One timer for the whole fleet: each tick publishes every event due since the start
   * (the first at once, then one every 1/rate s), taking devices in turn. Resolves when the
   * duration is over or `signal` aborts.
   */
  function publishAtRate(): Promise<void> {
    const total = o.durationS === undefined ? Infinity : Math.ceil(o.durationS * o.rate - 1e-9);
    // After a stall (a GC pause, a busy event loop) catch up at most a second's worth.
    const maxBurst = Math.max(1, Math.ceil(o.rate));
    let due = 0; // events handled so far: published or skipped
    let turn = 0;
    publishStart = performance.now();
    return new Promise((resolve) => {
      const stop = () => {
        clearInterval(timer);
        publishEnd ||= performance.now();
        resolve();
      };
      const tick = () => {
        const elapsedS = (performance.now() - publishStart) / 1000;
        const target = Math.min(Math.floor(elapsedS * o.rate) + 1, total);
        if (target - due > maxBurst) {
          count.skipped += target - due - maxBurst;
          due = target - maxBurst;
        }
        for (; due < target; due++) {
          publish(fleet[turn]!);
          turn = (turn + 1) % fleet.length;
        }
        if (elapsedS >= (o.durationS ?? Infinity)) stop();
      };
      const timer = setInterval(tick, TICK_MS);
      void stopped.then(stop);
      tick();
    });
  }

  const statusTimer = onStatus && setInterval(() => onStatus(status()), STATUS_INTERVAL_MS);
  let connectedAtEnd = 0;
  try {
    const credentials = await registry.ensure(deviceNames(o.namePrefix, o.devices), {
      concurrency: o.connectConcurrency,
      signal,
      onReady: () => registered++,
    });
    onNote(describeOrigins(credentials, registry.path));

    phase = 'connecting';
    await runPool(credentials, o.connectConcurrency, async (creds) => {
      const sim = await connect(creds);
      if (sim) fleet.push(sim);
    }, signal);
    await registry.save(); // tokens renewed while connecting
    if (fleet.length === 0 && !signal?.aborted) {
      const codes = Object.keys(errorsByCode).join(', ');
      throw new Error(`none of the ${o.devices} devices could connect to ${o.mqttUrl} (${codes})`);
    }
    if (renewed) onNote(`took new tokens for ${renewed} device${renewed === 1 ? '' : 's'} whose stored token the broker refused (rotated elsewhere?)`);
    if (fleet.length < credentials.length && !signal?.aborted) onNote(`connected ${fleet.length} of ${credentials.length} devices`);

    if (!signal?.aborted) {
      phase = 'publishing';
      await publishAtRate();
      phase = 'draining';
      const deadline = performance.now() + DRAIN_MS;
      await until(() => inFlight === 0, deadline);
      if (count.responses > 0) await until(() => performance.now() - lastResponseAt >= RESPONSES_QUIET_MS, deadline);
    }
  } finally {
    connectedAtEnd = connectedNow();
    phase = 'stopping';
    // Bounded: a QoS 1 publish the broker never acknowledges must not hold the stop forever.
    await Promise.race([
      Promise.all(fleet.map((s) => s.device.disconnect())),
      sleep(DISCONNECT_MS, undefined, { ref: false }),
    ]);
    clearInterval(statusTimer);
  }

  phase = 'done';
  onStatus?.(status());
  const durationS = publishEnd > publishStart ? (publishEnd - publishStart) / 1000 : 0;
  return {
    devices: o.devices,
    connected: connectedAtEnd,
    ...count,
    durationS: Math.round(durationS * 1000) / 1000,
    rate: durationS > 0 ? Math.round((count.acknowledged / durationS) * 100) / 100 : 0,
    errorsByCode,
  };
}
