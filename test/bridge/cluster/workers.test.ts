// `hookwire start --workers 2` as a person runs it, in a child process, on a PostgreSQL and a
// Redis the test starts: both ports answer, devices connected in turn land on both workers,
// an event calls its webhook once, a worker killed is restarted while the other keeps
// serving, SIGTERM stops everything with 0; without Redis or PostgreSQL it refuses to start.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { until, type LogLine } from '../../helpers/bridge.ts';
import { CLUSTER_INSTALL, clusterAvailable } from '../../helpers/cluster.ts';
import { deviceClient, type TestClient } from '../../helpers/mqtt.ts';
import { freePort } from '../../helpers/net.ts';
import { startPostgres, type TestPostgres } from '../../helpers/postgres.ts';
import { receiver, type Receiver } from '../../helpers/receiver.ts';
import { startRedis, type TestRedis } from '../../helpers/redis.ts';
import { cliBin, root, run } from '../../helpers/spawn.ts';

/** `hookwire start ...` running, its JSON log lines parsed as they come (primary's and workers' alike). */
interface Running {
  child: ChildProcess;
  logs: LogLine[];
  stderr(): string;
  exited: Promise<number | null>;
}

/** No Redis, no store from the environment the tests run in: each test says what it gives. */
const CLEAN = { HOOKWIRE_REDIS: '', HOOKWIRE_STORE: '', HOOKWIRE_WORKERS: '', HOOKWIRE_TOKEN: '', HOOKWIRE_URL: '' };

function startProcess(args: string[], env: NodeJS.ProcessEnv): Running {
  const child = spawn(process.execPath, [cliBin, 'start', ...args], { cwd: root, env: { ...process.env, ...CLEAN, ...env } });
  const logs: LogLine[] = [];
  let err = '';
  let buffered = '';
  child.stderr!.on('data', (d) => { err += d; });
  child.stdout!.on('data', (d) => {
    buffered += d;
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) {
      try {
        logs.push(JSON.parse(line) as LogLine);
      } catch {
        // not a log line
      }
    }
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  return { child, logs, stderr: () => err, exited };
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

let pg: TestPostgres;
let redis: TestRedis;
let web: Receiver;
let storeUrl: string;
let dataDir: string;
let mqttPort: number;
let httpPort: number;
let cluster: Running;
let token: string;
const clients: TestClient[] = [];

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`http://127.0.0.1:${httpPort}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** The worker PIDs the primary reported once every worker listened. */
function workerPids(): number[] {
  const line = cluster.logs.find((l) => l.role === 'primary' && Array.isArray(l.workerPids));
  return (line?.workerPids as number[] | undefined) ?? [];
}

/** Connect a new device; resolves with the PID of the worker that holds it (its debug log says). */
async function connectDeviceOnce(): Promise<{ id: string; pid: number; client: TestClient }> {
  const created = await call('POST', '/v1/devices', {});
  assert.is(created.status, 201);
  const d = created.body as { id: string; token: string };
  const client = await deviceClient(`mqtt://127.0.0.1:${mqttPort}`, d);
  clients.push(client);
  let pid = 0;
  await until(() => {
    const line = cluster.logs.find((l) => l.msg === 'device connected to this worker' && l.deviceId === d.id);
    pid = (line?.workerPid as number | undefined) ?? 0;
    return pid !== 0;
  }, 10_000, `the worker holding device ${d.id} to say so`);
  return { id: d.id, pid, client };
}

if (!clusterAvailable) {
  test(`redis-server and PostgreSQL not installed: skipped (${CLUSTER_INSTALL})`, () => {});
} else {
  test.before(async () => {
    pg = await startPostgres();
    redis = await startRedis();
    storeUrl = await pg.createDatabase();
    web = await receiver();
    dataDir = await mkdtemp(join(tmpdir(), 'hookwire-workers-'));
  });
  test.after(async () => {
    for (const c of clients) await c.end().catch(() => {});
    if (cluster && cluster.child.exitCode === null) {
      cluster.child.kill('SIGKILL');
      for (const pid of workerPids()) if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
    await web?.close();
    await redis?.stop();
    await pg?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  test('--workers 2: both ports answer, devices connected in turn land on both workers, one admin token for the cluster', async () => {
    mqttPort = await freePort();
    httpPort = await freePort();
    cluster = startProcess(['--workers', '2', '--mqtt-port', String(mqttPort), '--http-port', String(httpPort), '--data-dir', dataDir, '--log-level', 'debug'],
      { HOOKWIRE_STORE: storeUrl, HOOKWIRE_REDIS: redis.url });
    // Listening: both workers said so, and the primary printed the banner once they had.
    await until(() => (workerPids().length === 2 && /^hookwire: console /m.test(cluster.stderr())) || cluster.child.exitCode !== null, 60_000, 'the two workers to listen');
    assert.is(cluster.child.exitCode, null, cluster.stderr());
    const pids = workerPids();
    assert.ok(pids.every(alive), 'the workers run');
    assert.not.ok(pids.includes(cluster.child.pid!), 'the workers are processes of their own');

    // The banner, once, from the primary; the tools find the cluster through its data directory.
    assert.is(cluster.stderr().match(/^hookwire: MQTT /gm)?.length, 1, cluster.stderr());
    const instance = JSON.parse(readFileSync(join(dataDir, 'bridge.json'), 'utf8')) as { pid: number; http: string; mqtt: string };
    assert.equal([instance.pid, instance.http, instance.mqtt], [cluster.child.pid, `http://127.0.0.1:${httpPort}`, `mqtt://127.0.0.1:${mqttPort}`]);
    token = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();

    const health = await fetch(`http://127.0.0.1:${httpPort}/health`);
    assert.is(health.status, 200);
    // The admin token in ./data works whichever worker answers, and is the cluster's only one.
    for (let i = 0; i < 4; i++) {
      const tokens = await call('GET', '/v1/access_tokens');
      assert.is(tokens.status, 200);
      assert.is((tokens.body as { scope: string }[]).filter((t) => t.scope === 'admin').length, 1, 'one admin token');
    }

    // Connections go to the workers in turn: four devices, both workers.
    const holders = new Set<number>();
    for (let i = 0; i < 4; i++) holders.add((await connectDeviceOnce()).pid);
    assert.equal([...holders].sort(), [...pids].sort(), 'devices on both workers');
  });

  test('an event from a device calls its webhook once, and the answer reaches the device whichever worker sent it', async () => {
    // The target answers with the data it was sent: each answer names its event.
    web.on('/hook', (req, res) => res.end(`got ${new URLSearchParams(req.body.toString()).get('data')}`));
    const created = await call('POST', '/v1/integrations', { integration_type: 'Webhook', event: 'temp', url: `${web.url}/hook` });
    assert.is(created.status < 300, true, JSON.stringify(created.body));
    const { id, client } = await connectDeviceOnce();
    await client.client.subscribeAsync(`${id}/hook-response/#`, { qos: 1 });
    const answers = () => client.received.filter((r) => r.topic === `${id}/hook-response/temp/0`).map((r) => r.payload.toString());
    // An integration created on one worker is matched on the other once its change notice is in.
    await until(async () => {
      await client.client.publishAsync('temp', 'warming up', { qos: 1 });
      return answers().includes('got warming up');
    }, 20_000, 'the webhook\'s answer at the device');

    await client.client.publishAsync('temp', '22', { qos: 1 });
    await until(() => answers().includes('got 22'), 20_000, 'the answer to 22');
    // And one more after it, so a second call for 22 (another worker's) would have come by now.
    await client.client.publishAsync('temp', '23', { qos: 1 });
    await until(() => answers().includes('got 23'), 20_000, 'the answer to 23');
    // Particle's default body: the event as a form.
    const sent = web.requests.filter((r) => r.url === '/hook').map((r) => new URLSearchParams(r.body.toString()).get('data'));
    assert.is(sent.filter((d) => d === '22').length, 1, 'the event called its webhook once');
    assert.is(answers().filter((a) => a === 'got 22').length, 1, 'one answer');
  });

  test('a worker killed (SIGKILL) is restarted by the primary; the service keeps answering', async () => {
    const [victim, survivor] = workerPids() as [number, number];
    process.kill(victim, 'SIGKILL');
    await until(() => cluster.logs.some((l) => l.role === 'primary' && l.workerPid === victim && typeof l.restartInMs === 'number'), 10_000, 'the primary to see the worker die');
    // The other worker answers meanwhile.
    await until(async () => (await fetch(`http://127.0.0.1:${httpPort}/health`).catch(() => undefined))?.status === 200, 10_000, '/health');
    assert.ok(alive(survivor));
    // Restarted: listening again, on a new process (the latest, should a restart have failed too).
    const back = () => cluster.logs.filter((l) => l.role === 'primary' && typeof l.restarts === 'number' && l.restartInMs === undefined).at(-1);
    await until(() => back() !== undefined, 30_000, 'the worker restarted');
    const restarted = back()!.workerPid as number;
    assert.ok(alive(restarted));
    assert.is.not(restarted, survivor);
    assert.is.not(restarted, victim);
    // New connections reach the new worker too.
    const holders = new Set<number>();
    for (let i = 0; i < 6 && !holders.has(restarted); i++) holders.add((await connectDeviceOnce()).pid);
    assert.ok(holders.has(restarted), 'a device on the restarted worker');
    assert.not.ok(holders.has(victim));
  });

  test('SIGTERM to the primary: every worker stops cleanly and all exit with 0', async () => {
    for (const c of clients.splice(0)) await c.end();
    // Every worker that ever listened, the one killed included.
    const pids = [...new Set(cluster.logs.filter((l) => typeof l.httpPort === 'number').map((l) => l.workerPid as number))];
    assert.ok(pids.length >= 3, "two workers and the one restarted");
    cluster.child.kill('SIGTERM');
    assert.is(await cluster.exited, 0, cluster.stderr());
    for (const pid of pids) assert.not.ok(alive(pid), `worker ${pid} gone`);
    // Each worker that was running stopped itself (its claims handed back), and said so.
    const stopped = cluster.logs.filter((l) => l.msg === 'stopped').map((l) => l.workerPid as number);
    assert.is(stopped.length, 2, 'both running workers stopped');
    assert.not.ok(existsSync(join(dataDir, 'bridge.json')), 'the data directory released');
  });

  /** `hookwire start --workers 2` with `env`: refused before it listens. */
  async function refused(env: NodeJS.ProcessEnv): Promise<{ stderr: string; listened: boolean }> {
    const dir = await mkdtemp(join(tmpdir(), 'hookwire-workers-'));
    const port = await freePort();
    try {
      const r = await run(process.execPath, [cliBin, 'start', '--workers', '2', '--mqtt-port', '0', '--http-port', String(port), '--data-dir', dir], { ...CLEAN, ...env }, 60_000);
      assert.is(r.code, 1, r.stderr);
      const listened = r.stdout.split('\n').some((l) => /"httpPort"/.test(l)) || existsSync(join(dir, 'bridge.json')) || existsSync(join(dir, 'worker-1'));
      return { stderr: r.stderr.trim(), listened };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  test('--workers 2 without Redis, or without a PostgreSQL store, or with one that does not answer: refused before listening, naming the setting', async () => {
    const noRedis = await refused({ HOOKWIRE_STORE: storeUrl });
    assert.match(noRedis.stderr, /^error \(field redisUrl\): --workers 2 needs Redis: set HOOKWIRE_REDIS=.* \(WORKERS_NEED_SERVERS\)$/);
    assert.not.ok(noRedis.listened);

    const noStore = await refused({ HOOKWIRE_REDIS: redis.url });
    assert.match(noStore.stderr, /^error \(field storePath\): --workers 2 needs a PostgreSQL store: set HOOKWIRE_STORE=.* \(WORKERS_NEED_SERVERS\)$/);
    assert.not.ok(noStore.listened);

    const deadRedis = `redis://127.0.0.1:${await freePort()}`;
    const silent = await refused({ HOOKWIRE_STORE: storeUrl, HOOKWIRE_REDIS: deadRedis });
    assert.match(silent.stderr, /^error \(field redisUrl\): --workers 2 needs Redis: Redis at redis:\/\/127\.0\.0\.1:\d+ \(HOOKWIRE_REDIS\) does not answer: .* \(WORKERS_NEED_SERVERS\)$/);
    assert.not.ok(silent.listened);

    const deadStore = `postgres://postgres@127.0.0.1:${await freePort()}/none`;
    const gone = await refused({ HOOKWIRE_STORE: deadStore, HOOKWIRE_REDIS: redis.url });
    assert.match(gone.stderr, /^error \(field storePath\): --workers 2 needs a PostgreSQL store: PostgreSQL at .* \(HOOKWIRE_STORE\) does not answer: .* \(WORKERS_NEED_SERVERS\)$/);
    assert.not.ok(gone.listened);
  });
}

test.run();
