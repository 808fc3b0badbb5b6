// `npm start` as a newcomer runs it: stopping npm stops the bridge (npm passes its signal on,
// and the script execs the bridge, so no shell is left between them to swallow it).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { until } from './helpers/bridge.ts';
import { root } from './helpers/spawn.ts';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test('SIGTERM to npm start stops the bridge cleanly: nothing left listening, bridge.json removed', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'hookwire-npm-start-'));
  const npm = spawn('npm', ['start'], {
    cwd: root, stdio: 'ignore',
    env: { ...process.env, HOOKWIRE_DATA_DIR: dataDir, HOOKWIRE_MQTT_PORT: '0', HOOKWIRE_HTTP_PORT: '0', HOOKWIRE_LOG_LEVEL: 'info' },
  });
  const exited = new Promise<number | null>((resolve) => npm.on('close', resolve));
  try {
    let info: { pid: number; http?: string } | undefined;
    await until(async () => {
      info = await readFile(join(dataDir, 'bridge.json'), 'utf8').then((t) => JSON.parse(t), () => undefined);
      return info?.http !== undefined;
    }, 20_000, 'the bridge listening');
    assert.is((await fetch(`${info!.http}/health`)).status, 200);
    npm.kill('SIGTERM');
    await exited;
    await until(() => !alive(info!.pid), 10_000, 'the bridge to stop');
    assert.is(await readFile(join(dataDir, 'bridge.json'), 'utf8').then(() => 'left', () => 'removed'), 'removed', 'a clean stop');
    assert.is(await fetch(`${info!.http}/health`).then(() => 'answered', () => 'refused'), 'refused');
  } finally {
    if (npm.exitCode === null) npm.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  }
});

test.run();
