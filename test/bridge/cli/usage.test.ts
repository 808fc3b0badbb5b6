// How the command line treats a person finding their way: --help on every command and
// subcommand, unknown names answered with the nearest one, stray arguments refused by name,
// and output piped into `head` ending quietly. Run as users run it: the real bin, a real bridge.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { testBridge, until, type TestBridge } from '../../helpers/bridge.ts';
import { cliBin, hookwire, root } from '../../helpers/spawn.ts';
import { readFile } from 'node:fs/promises';
import commands from '../../../bridge/cli/commands/index.ts';
import { REFERENCE_PATH, reference } from '../../../bridge/cli/reference.ts';

let b: TestBridge;
let env: NodeJS.ProcessEnv;

test.before(async () => {
  b = await testBridge();
  env = { HOOKWIRE_URL: b.url, HOOKWIRE_TOKEN: b.token };
});

test.after(async () => {
  await b?.stop();
});

interface Closed {
  code: number | null;
  /** What the CLI wrote to the stream left open. */
  other: string;
}

/**
 * `hookwire <args>` with the reading end of stdout (or stderr) closed before it writes a byte,
 * as `hookwire ... | head -2` leaves it once head has its lines. `whenReady` runs once the
 * CLI has written `ready` to the other stream (for commands that wait for something).
 */
function withClosed(stream: 'stdout' | 'stderr', args: string[], ready?: { text: string; then: () => Promise<unknown> }): Promise<Closed> {
  const child = spawn(process.execPath, [cliBin, ...args], { cwd: root, env: { ...process.env, ...env } });
  child[stream].destroy();
  const open = stream === 'stdout' ? child.stderr : child.stdout;
  let other = '';
  let fired = false;
  open.on('data', (d) => {
    other += d;
    if (ready && !fired && other.includes(ready.text)) {
      fired = true;
      void ready.then();
    }
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, other })));
}

test('output piped into head ends quietly: exit 0 and no stack trace, for every kind of command', async () => {
  await b.addDevice({ name: 'pipe-dev' });
  for (const args of [['--help'], ['help'], ['version'], ['devices', '--help'], ['devices', 'list'], ['integrations', 'list', '--json'], ['dashboard']]) {
    const r = await withClosed('stdout', args);
    assert.is(r.code, 0, `${args.join(' ')}: ${r.other}`);
    assert.not.match(r.other, /EPIPE|Error|at /, args.join(' '));
  }
  // A command that runs until stopped ends when its reader has gone and it has something to say.
  const sub = await withClosed('stdout', ['subscribe', 'piped'], { text: 'Subscribed to', then: () => b.call('POST', '/v1/devices/events', { name: 'piped/one', data: '1' }) });
  assert.is(sub.code, 0, sub.other);
  assert.not.match(sub.other, /EPIPE|Error/);
});

test('stderr closed: the command still ends with its own exit code, not a crash', async () => {
  const r = await withClosed('stderr', ['frobnicate']);
  assert.is(r.code, 2);
});

test('--help and -h on every command and subcommand print its usage on stdout and exit 0', async () => {
  for (const c of commands) {
    for (const flag of ['--help', '-h']) {
      const r = await hookwire([c.name, flag], env);
      assert.is(r.code, 0, `${c.name} ${flag}: ${r.stderr}`);
      assert.match(r.stdout, `hookwire ${c.name}`, `${c.name} ${flag}`);
    }
    for (const sub of Object.keys(c.subcommands ?? {})) {
      const lead = c.name === 'device' ? [c.name, '0123456789abcdef01234567', sub] : [c.name, sub];
      const r = await hookwire([...lead, '--help'], env);
      assert.is(r.code, 0, `${c.name} ${sub} --help: ${r.stderr}`);
      const usage = r.stdout.split('\n').find((l) => l.startsWith('usage: '));
      assert.ok(usage?.startsWith(`usage: hookwire ${c.name} `) && usage.includes(sub), `${c.name} ${sub} --help printed ${r.stdout}`);
    }
  }
  // --help wins over everything else on the line, even a mistake.
  const mixed = await hookwire(['integrations', 'create', '--nope', '-h'], env);
  assert.is(mixed.code, 0, mixed.stderr);
  assert.match(mixed.stdout, 'usage: hookwire integrations create <template.json>');
  // `help <command> [subcommand]` says the same.
  const viaHelp = await hookwire(['help', 'integrations', 'create'], env);
  assert.is(viaHelp.stdout, mixed.stdout);
});

test('unknown subcommands and commands are named, with the nearest one suggested; exit 2', async () => {
  const lst = await hookwire(['integrations', 'lst'], env);
  assert.is(lst.code, 2);
  assert.match(lst.stderr, 'unknown subcommand "lst" for integrations; did you mean "list"?');
  assert.is(lst.stdout, '');

  const remvoe = await hookwire(['devices', 'remvoe', 'x'], env);
  assert.is(remvoe.code, 2);
  assert.match(remvoe.stderr, 'unknown subcommand "remvoe" for devices; did you mean "remove"?');

  const top = await hookwire(['integratoins', 'list'], env);
  assert.is(top.code, 2);
  assert.match(top.stderr, 'unknown command "integratoins"; did you mean "integrations"?');

  const far = await hookwire(['frobnicate'], env);
  assert.is(far.code, 2);
  assert.match(far.stderr, 'unknown command "frobnicate"');
  assert.not.match(far.stderr, 'did you mean');
  assert.match(far.stderr, 'hookwire help');

  const farSub = await hookwire(['tokens', 'zzz'], env);
  assert.is(farSub.code, 2);
  assert.match(farSub.stderr, 'unknown subcommand "zzz" for tokens; it has: create, list, revoke');
});

test('devices add takes the name as its argument; --name still works; both must agree', async () => {
  const add = await hookwire(['devices', 'add', 'kitchen', '--json'], env);
  assert.is(add.code, 0, add.stderr);
  assert.is(JSON.parse(add.stdout).name, 'kitchen');
  const got = await b.call('GET', `/v1/devices/${JSON.parse(add.stdout).id}`);
  assert.is(got.body.name, 'kitchen');

  const flag = await hookwire(['devices', 'add', '--name', 'hall', '--json'], env);
  assert.is(JSON.parse(flag.stdout).name, 'hall');

  const both = await hookwire(['devices', 'add', 'porch', '--name', 'shed'], env);
  assert.is(both.code, 2);
  assert.match(both.stderr, '"porch"');
  assert.match(both.stderr, '--name shed');
});

test('a stray argument is an error naming it, never silently ignored', async () => {
  const before = (await b.call('GET', '/v1/devices')).body.length;
  for (const [args, stray] of [
    [['devices', 'add', 'kitchen', 'extra'], 'extra'],
    [['devices', 'list', 'all'], 'all'],
    [['devices', 'get', 'a', 'b'], 'b'],
    [['integrations', 'list', 'mine'], 'mine'],
    [['tokens', 'list', 'x'], 'x'],
    [['history', 'abc', 'def'], 'def'],
    [['logs', 'abc', 'def'], 'def'],
    [['dashboard', 'now'], 'now'],
    [['doctor', 'a', 'b'], 'b'],
    [['bin', 'list', 'x'], 'x'],
  ] as const) {
    const r = await hookwire([...args], env);
    assert.is(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, `unexpected argument "${stray}"`, args.join(' '));
    assert.match(r.stderr, 'usage: hookwire', args.join(' '));
  }
  assert.is((await b.call('GET', '/v1/devices')).body.length, before, 'nothing was made');

  // An option meant for another subcommand is refused too.
  const misplaced = await hookwire(['devices', 'list', '--firmware', '3'], env);
  assert.is(misplaced.code, 2);
  assert.match(misplaced.stderr, '--firmware');
});

test('docs/cli.md is the reference the commands declare (npx tsx bridge/cli/reference.ts --write)', async () => {
  const written = await readFile(REFERENCE_PATH, 'utf8');
  assert.fixture(written, reference());
  for (const c of commands) assert.match(written, `## hookwire ${c.name}\n`);
});

test.run();
