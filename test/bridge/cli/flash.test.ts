// hookwire flash, as a user runs it, with a stand-in for Espruino's CLI (HOOKWIRE_ESPRUINO_CLI)
// that records what it was asked to write to the board. What it records is then replayed on
// the Espruino sandbox as the real CLI would leave a board: the module and the app in Storage,
// the loader run, and the app finds `require("hookwire")`. (The real CLI against the real
// interpreter over TCP is in docs/espruino.md's measured run.)

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { espruinoSandbox } from '../../../simulator/espruino.ts';
import { until } from '../../helpers/bridge.ts';
import { espruinoModule } from '../../helpers/espruino.ts';
import { hookwire } from '../../helpers/spawn.ts';

let dir: string;
let fakeCli: string;

// The stand-in CLI: saves its arguments and every file `--storage name:file` names, and the
// file to upload; exits with FAKE_ESPRUINO_EXIT (default 0).
const FAKE = `
const fs = require('node:fs');
const args = process.argv.slice(2);
const storage = {};
for (let i = 0; i < args.length; i++) if (args[i] === '--storage') { const [name, file] = args[++i].split(/:(.*)/s); storage[name] = fs.readFileSync(file, 'utf8'); }
const upload = args.at(-1);
fs.writeFileSync(process.env.FAKE_ESPRUINO_LOG, JSON.stringify({ args, storage, upload: fs.readFileSync(upload, 'utf8') }));
console.log('Upload Complete');
process.exit(Number(process.env.FAKE_ESPRUINO_EXIT || 0));
`;

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hookwire-flash-test-'));
  fakeCli = join(dir, 'espruino-cli.cjs');
  await writeFile(fakeCli, FAKE);
  await writeFile(join(dir, 'blink.js'), 'var loaded = typeof require("hookwire").connect; console.log("app says: hookwire.connect is a " + loaded);\n');
});

test.after(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Recorded {
  args: string[];
  storage: Record<string, string>;
  upload: string;
}

async function flash(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string; recorded?: Recorded }> {
  const log = join(dir, `log-${Math.random()}.json`);
  const r = await hookwire(['flash', ...args], { HOOKWIRE_ESPRUINO_CLI: fakeCli, FAKE_ESPRUINO_LOG: log, ...env });
  const recorded = await readFile(log, 'utf8').then((t) => JSON.parse(t) as Recorded, () => undefined);
  return { ...r, recorded };
}

test('flash writes the built module to Storage as "hookwire", the app beside it, and loads the app', async () => {
  const r = await flash([join(dir, 'blink.js'), '--port', '/dev/ttyUSB0', '--board', 'ESP32']);
  assert.is(r.code, 0, r.stderr);
  const { args, storage, upload } = r.recorded!;
  assert.equal(args.slice(0, 7), ['-p', '/dev/ttyUSB0', '-b', '115200', '--no-ble', '--board', 'ESP32']);
  assert.equal(Object.keys(storage), ['hookwire', 'blink.js']);
  assert.is(storage.hookwire, await espruinoModule(), 'the module file, exactly');
  assert.is(storage['blink.js'], await readFile(join(dir, 'blink.js'), 'utf8'));
  assert.is(upload.trim(), 'load("blink.js");');
  assert.match(r.stdout, /SDK module: .*dist\/espruino\/hookwire\.js \(\d+ of 8192 bytes\)/);
  assert.match(r.stdout, /Watch the board's console with: .* -p \/dev\/ttyUSB0 -b 115200 --no-ble/);

  // What the CLI leaves on a board, replayed on the sandbox: the app runs and finds the SDK.
  const board = espruinoSandbox();
  for (const [name, content] of Object.entries(storage)) board.writeFile(name, content);
  board.run(upload);
  await until(() => board.output.some((l) => l.startsWith('app says:')));
  assert.ok(board.output.includes('app says: hookwire.connect is a function'), board.output.join('\n'));
  board.close();
});

test('--save makes the app .bootcde (run at every boot); a TCP port keeps the baud and drops Bluetooth', async () => {
  const r = await flash([join(dir, 'blink.js'), '--port', 'tcp://192.168.1.30:23', '--save', '--baud', '9600']);
  assert.is(r.code, 0, r.stderr);
  assert.equal(r.recorded!.args.slice(0, 5), ['-p', 'tcp://192.168.1.30:23', '-b', '9600', '--no-ble']);
  assert.equal(Object.keys(r.recorded!.storage), ['hookwire', '.bootcde']);
  assert.is(r.recorded!.upload.trim(), 'load();');
});

test('a Bluetooth address keeps BLE; --dry-run shows the command and runs nothing', async () => {
  const r = await flash([join(dir, 'blink.js'), '--port', 'aa:bb:cc:dd:ee:ff', '--dry-run']);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.recorded, undefined, 'nothing ran');
  assert.match(r.stdout, /-p aa:bb:cc:dd:ee:ff -b 115200 --storage hookwire:\S+ --storage blink\.js:\S+ <loader>/);
  assert.match(r.stdout, /where <loader> is a file holding: load\("blink\.js"\);/);
});

test('mistakes are usage errors: no port, no app, a missing file, a bad baud rate', async () => {
  for (const [args, message] of [
    [[join(dir, 'blink.js')], /flash needs --port/],
    [['--port', '/dev/ttyUSB0'], /flash needs one app file/],
    [[join(dir, 'nope.js'), '--port', '/dev/ttyUSB0'], /no such app file/],
    [[join(dir, 'blink.js'), '--port', '/dev/ttyUSB0', '--baud', 'fast'], /--baud must be a number/],
  ] as const) {
    const r = await flash([...args]);
    assert.is(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.match(r.stderr, /usage: hookwire flash/);
  }
});

test('the Espruino CLI failing (no board on the port) fails flash with its exit code and a hint', async () => {
  const r = await flash([join(dir, 'blink.js'), '--port', '/dev/ttyUSB9'], { FAKE_ESPRUINO_EXIT: '3' });
  assert.is(r.code, 3);
  assert.match(r.stderr, /the Espruino CLI failed \(exit code 3\); is the board on \/dev\/ttyUSB9\?/);
});

test('without the Espruino CLI and with --no-install, flash says how to install it', async () => {
  const r = await hookwire(['flash', join(dir, 'blink.js'), '--port', '/dev/ttyUSB0', '--no-install'], {
    HOOKWIRE_ESPRUINO_CLI: '', XDG_CACHE_HOME: join(dir, 'empty-cache'), PATH: '/nonexistent',
  });
  assert.is(r.code, 1);
  assert.match(r.stderr, /Espruino's command-line tool is not installed\. Install it with:\n {2}npm install --prefix \S+empty-cache\/hookwire\/espruino-0\.1\.67 espruino@0\.1\.67/);
});

test.run();
