// The README's Quickstart, run as written: its shell blocks, in order, on a fresh data
// directory and ports the OS picks (so not the defaults), with the bridge started by `npm start`
// as the first block says. Placeholders a reader fills in (<token>, <deviceID>) are filled from
// what the earlier commands printed. The lines the README shows as output (`# ...` after a
// command) must appear in what the command printed, with the values that vary (IDs, tokens,
// times, ports) matched loosely. So the README cannot drift from the product.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testBridge, until } from './helpers/bridge.ts';
import { root, run } from './helpers/spawn.ts';

interface Step {
  command: string;
  /** Output lines the README shows for it (without the leading `# `). */
  shows: string[];
}

/** The Quickstart's shell blocks as steps: a heredoc is one command with its body. */
export function quickstartSteps(readme: string): Step[] {
  const start = readme.indexOf('\n## Quickstart');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
  const steps: Step[] = [];
  for (const [, block] of section.matchAll(/```sh\n([\s\S]*?)```/g)) {
    const lines = block!.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      if (!line.trim()) continue;
      if (line.startsWith('#')) {
        steps.at(-1)?.shows.push(line.replace(/^# ?/, ''));
        continue;
      }
      const heredoc = /<<'?(\w+)'?\s*$/.exec(line);
      let command = line;
      if (heredoc) {
        while (lines[++i] !== undefined && lines[i] !== heredoc[1]) command += `\n${lines[i]}`;
        command += `\n${heredoc[1]}`;
      }
      steps.push({ command, shows: [] });
    }
  }
  return steps;
}

/** A shown line as a pattern: IDs, tokens, times, ports and `...` match what varies. */
function pattern(shown: string): RegExp {
  const escaped = shown.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(escaped
    .replace(/\\\.\\\.\\\./g, '.*')
    .replace(/[0-9a-f]{24}/g, '[0-9a-f]{24}')
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\\\.\d{3}Z/g, '\\S+')
    .replace(/(127\\\.0\\\.0\\\.1):\d+/g, '$1:\\d+')
    .replace(/\\\.\/data/g, '\\S+'));
}

test('the Quickstart runs as written, on its own ports and data directory, and prints what it shows', async () => {
  const readme = await readFile(join(root, 'README.md'), 'utf8');
  const steps = quickstartSteps(readme);
  assert.ok(steps.length >= 5, `${steps.length} steps found`);
  assert.match(steps[0]!.command, /npm start/);

  // The second terminal: a folder of the reader's, where `npx hookwire` is installed.
  const work = await mkdtemp(join(tmpdir(), 'hookwire-quickstart-'));
  const dataDir = join(work, 'data');
  await mkdir(join(work, 'node_modules', '.bin'), { recursive: true });
  await symlink(join(root, 'bridge', 'cli', 'bin.js'), join(work, 'node_modules', '.bin', 'hookwire'));
  await writeFile(join(work, 'package.json'), '{"name": "quickstart", "private": true}\n');
  const env = { HOOKWIRE_DATA_DIR: dataDir, HOOKWIRE_HTTP_PORT: '0', HOOKWIRE_MQTT_PORT: '0', HOOKWIRE_URL: '', HOOKWIRE_MQTT_URL: '', HOOKWIRE_TOKEN: '' };

  // The first terminal: the bridge, as `npm start` runs it in the repository (npm ci has run).
  const bridge = spawn('npm', ['start'], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let banner = '';
  bridge.stderr!.on('data', (d) => { banner += d; });
  try {
    await until(async () => (await readFile(join(dataDir, 'bridge.json'), 'utf8').then((t) => JSON.parse(t).http, () => undefined)) !== undefined, 20_000, 'the bridge');
    // The banner follows bridge.json by a moment (it is printed once the start has returned).
    const printed = () => steps[0]!.shows.every((shown) => pattern(shown).test(banner));
    await until(printed, 10_000, 'the banner').catch(() => {});
    for (const shown of steps[0]!.shows) assert.match(banner, pattern(shown), `npm start printed:\n${banner}`);

    const filled: Record<string, string> = {};
    for (const step of steps.slice(1)) {
      const command = step.command.replace(/<(\w+)>/g, (whole, name: string) => filled[name.toLowerCase()] ?? whole);
      assert.not.match(command, /<\w+>/, `a placeholder nothing printed before: ${command}`);
      const res = await run('bash', ['-c', command], { ...env, PATH: `${join(work, 'node_modules', '.bin')}:${process.env.PATH}` }, 60_000, work);
      const out = res.stdout + res.stderr;
      assert.is(res.code, 0, `${command}\n${out}`);
      for (const shown of step.shows) assert.match(out, pattern(shown), `${command} printed:\n${out}`);
      // What a reader copies from the output into later commands.
      const device = /Device ([0-9a-f]{24}) /.exec(out);
      if (device) filled.deviceid = device[1]!;
      const token = /Token \(shown once, keep it\): (hwd_\S+)/.exec(out);
      if (token) filled.token = token[1]!;
    }
  } finally {
    bridge.kill('SIGTERM');
    await new Promise((resolve) => bridge.once('close', resolve));
    await rm(work, { recursive: true, force: true });
  }
});

test('the SDK snippet runs as pasted: saved as device.mts beside the README, it publishes and prints the reply', async () => {
  const readme = await readFile(join(root, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## A device in code');
  const code = /```ts\n([\s\S]*?)```/.exec(readme.slice(start))?.[1];
  assert.ok(code, 'no ts block under "A device in code"');
  const b = await testBridge();
  // Beside the README, as the text says (its import is ./firmware-sdk/index.ts); a name of its own.
  const file = join(root, `device-readme-${process.pid}.mts`);
  try {
    await b.call('PUT', '/v1/bins/snippet', { status: 200, body: 'stored, thanks' });
    assert.is((await b.call('POST', '/v1/integrations', { integration_type: 'Webhook', event: 'temp', url: `${b.url}/bin/snippet` })).status, 201);
    const device = await b.addDevice();
    await writeFile(file, code!);
    const res = await run(process.execPath, ['--import', 'tsx', file], { DEVICE_ID: device.id, DEVICE_TOKEN: device.token, HOOKWIRE_MQTT_URL: b.mqttUrl }, 30_000);
    assert.is(res.code, 0, res.stderr);
    assert.is(res.stdout.trim(), `${device.id}/hook-response/temp/0 stored, thanks`);
    const event = (await b.call('GET', '/v1/bins/snippet')).body.requests[0];
    assert.match(event.body, 'data=21.5');
  } finally {
    await rm(file, { force: true });
    await b.stop();
  }
});

test.run();
