// hookwire flash <app.js> --port <port>: put the SDK and an app on an Espruino board.
//
// The SDK's module (dist/espruino/hookwire.js, built first) goes to the board's Storage as
// module `hookwire`, where `require("hookwire")` finds it and its code stays in flash, not RAM;
// the app goes to Storage too, and `load()` restarts the board into it. With --save the app is
// `.bootcde`, the file Espruino runs at every boot (what the Web IDE's "save to flash" writes).
// Talking to the board (serial, TCP to a Linux build or a Wifi board's telnet, Bluetooth) is the
// job of Espruino's own command-line tool, the npm package `espruino`: found on PATH, in
// HOOKWIRE_ESPRUINO_CLI, or installed on first use into the user's cache, saying so. It writes
// Storage files in 384-byte pieces, small enough for any board's RAM.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { defineCommand, usageError, type CliContext } from '../command.ts';

/** The Espruino CLI release the flash command is written against. */
export const ESPRUINO_CLI_PACKAGE = 'espruino@0.1.67';
/** Espruino keeps Storage file names to 28 characters. */
const MAX_STORAGE_NAME = 28;

/** Where a first use installs the Espruino CLI: the user's cache, never the project. */
export function cliCacheDir(env: NodeJS.ProcessEnv): string {
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'hookwire', ESPRUINO_CLI_PACKAGE.replace('@', '-'));
}

/** The command that runs the Espruino CLI: [program, ...leading args], or null when there is none. */
export function findEspruinoCli(env: NodeJS.ProcessEnv): string[] | null {
  if (env.HOOKWIRE_ESPRUINO_CLI) {
    const cli = env.HOOKWIRE_ESPRUINO_CLI;
    return /\.[cm]?js$/.test(cli) ? [process.execPath, cli] : [cli];
  }
  const cached = join(cliCacheDir(env), 'node_modules', 'espruino', 'bin', 'espruino-cli.js');
  if (existsSync(cached)) return [process.execPath, cached];
  const onPath = spawnSync('espruino', ['--help'], { stdio: 'ignore', env });
  return onPath.error ? null : ['espruino'];
}

export interface FlashPlan {
  /** The Espruino CLI's arguments. */
  args: string[];
  /** The Storage file the app is written to. */
  appFile: string;
}

/**
 * The Espruino CLI's arguments: the module and the app into Storage, then a loader that
 * `load()`s the app. The loader is given as the file to upload, so the CLI resets the board
 * before writing (a running app's RAM is freed) and finds no `require("hookwire")` to look
 * up on the web; the module is already in Storage by then.
 */
export function flashPlan(options: { app: string; module: string; loader: string; port: string; board?: string; baud: number; save: boolean }): FlashPlan {
  const appFile = options.save ? '.bootcde' : basename(options.app);
  if (appFile.length > MAX_STORAGE_NAME) throw usageError(`the app's file name is longer than Espruino's ${MAX_STORAGE_NAME} characters: ${appFile}`);
  const args = ['-p', options.port, '-b', String(options.baud)];
  // A serial port or TCP address needs no Bluetooth; only a BLE address keeps it on.
  if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(options.port)) args.push('--no-ble');
  if (options.board) args.push('--board', options.board);
  args.push('--storage', `hookwire:${options.module}`, '--storage', `${appFile}:${options.app}`, options.loader);
  return { args, appFile };
}

/** What restarts the board into the app: `load()` runs .bootcde, `load(name)` a Storage file. */
function loadCall(appFile: string): string {
  return appFile === '.bootcde' ? 'load();' : `load(${JSON.stringify(appFile)});`;
}

function install(ctx: CliContext): string[] | null {
  const dir = cliCacheDir(ctx.env);
  ctx.err(`hookwire flash: talking to the board takes Espruino's command-line tool (npm package ${ESPRUINO_CLI_PACKAGE}).`);
  ctx.err(`Installing it once into ${dir} (from the npm registry; pass --no-install to stop here)...`);
  const npm = spawnSync('npm', ['install', '--prefix', dir, '--no-save', '--no-audit', '--no-fund', '--loglevel=error', ESPRUINO_CLI_PACKAGE], { stdio: ['ignore', 'inherit', 'inherit'], env: ctx.env });
  if (npm.status !== 0) return null;
  return findEspruinoCli(ctx.env);
}

export default defineCommand({
  name: 'flash',
  summary: 'put the SDK (to Storage, as module "hookwire") and an app on an Espruino board',
  usage: 'flash <app.js> --port </dev/ttyUSB0|tcp://host:2323> [--board ESP32|ESP8266|PICO_R1_3|...] [--baud 115200] [--save] [--dry-run] [--no-install]',
  options: {
    port: { type: 'string', short: 'p' }, board: { type: 'string' }, baud: { type: 'string', default: '115200' },
    save: { type: 'boolean' }, 'dry-run': { type: 'boolean' }, 'no-install': { type: 'boolean' },
  },
  args: 1,
  async run({ values, args }, ctx) {
    const [app] = args;
    if (!app) throw usageError('flash needs one app file');
    if (!values.port) throw usageError('flash needs --port (a serial device such as /dev/ttyUSB0, or tcp://host:2323)');
    const baud = Number(values.baud);
    if (!Number.isInteger(baud) || baud <= 0) throw usageError(`--baud must be a number: ${values.baud}`);
    const appPath = resolve(app);
    if (!existsSync(appPath)) throw usageError(`no such app file: ${app}`);

    // Loaded here, not at the top: only this command needs the bundler.
    const { ESPRUINO_BUDGET_BYTES, buildEspruino } = await import('../../../scripts/build-espruino.ts');
    const built = await buildEspruino();
    ctx.out(`SDK module: ${built.path} (${built.bytes} of ${ESPRUINO_BUDGET_BYTES} bytes)`);

    const dir = await mkdtemp(join(tmpdir(), 'hookwire-flash-'));
    try {
      const loader = join(dir, 'load-app.js');
      const plan = flashPlan({ app: appPath, module: built.path, loader, port: values.port, board: values.board, baud, save: values.save === true });
      await writeFile(loader, `${loadCall(plan.appFile)}\n`);
      const what = values.save ? 'the app to .bootcde (it runs at every boot)' : `the app to Storage as ${plan.appFile} (it runs until the next reset)`;

      let cli = findEspruinoCli(ctx.env);
      if (values['dry-run']) {
        ctx.out(`Would write the module to Storage as "hookwire" and ${what}, then load it, with:`);
        ctx.out([...(cli ?? ['espruino']), ...plan.args.slice(0, -1), '<loader>'].join(' '));
        ctx.out(`where <loader> is a file holding: ${loadCall(plan.appFile)}`);
        return 0;
      }
      if (!cli) {
        if (values['no-install']) {
          ctx.err(`hookwire flash: Espruino's command-line tool is not installed. Install it with:\n  npm install --prefix ${cliCacheDir(ctx.env)} ${ESPRUINO_CLI_PACKAGE}\nor set HOOKWIRE_ESPRUINO_CLI to its espruino-cli.js.`);
          return 1;
        }
        cli = install(ctx);
        if (!cli) {
          ctx.err('hookwire flash: installing the Espruino CLI failed (see above).');
          return 1;
        }
      }
      ctx.out(`Writing the module to Storage as "hookwire" and ${what}, over ${values.port}...`);
      const [program, ...lead] = cli;
      const code = await new Promise<number>((done) => {
        const child = spawn(program!, [...lead, ...plan.args], { stdio: 'inherit', env: ctx.env });
        child.on('error', (err) => {
          ctx.err(`hookwire flash: could not run ${program}: ${err.message}`);
          done(1);
        });
        child.on('exit', (status) => done(status ?? 1));
      });
      if (code !== 0) {
        ctx.err(`hookwire flash: the Espruino CLI failed (exit code ${code}); is the board on ${values.port}? (docs/espruino.md, Troubleshooting)`);
        return code;
      }
      ctx.out(`Done. Watch the board's console with: ${[...cli, '-p', values.port, '-b', String(baud), '--no-ble'].join(' ')}`);
      return 0;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
});
