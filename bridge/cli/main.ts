// The `hookwire` command line: one file per command under commands/.

import { apiClient, ApiError } from '../client/index.ts';
import type { CliContext, Command } from './command.ts';
import devices from './commands/devices.ts';
import integrations from './commands/integrations.ts';
import start from './commands/start.ts';
import subscribe from './commands/subscribe.ts';
import publish from './commands/publish.ts';
import logs from './commands/logs.ts';
import history from './commands/history.ts';
import testCommand from './commands/test.ts';
import replay from './commands/replay.ts';
import doctor from './commands/doctor.ts';
import dashboard from './commands/dashboard.ts';
import bin from './commands/bin.ts';
import tokens from './commands/tokens.ts';
import flash from './commands/flash.ts';
import { HookwireError } from '../errors.ts';
import { version } from '../version.ts';

const commands: Command[] = [start, devices, integrations, subscribe, publish, logs, history, testCommand, replay, doctor, dashboard, bin, tokens, flash];

function help(ctx: CliContext): void {
  ctx.out(`hookwire ${version}: a self-hosted device cloud for webhooks\n`);
  ctx.out('Usage: hookwire <command> [options]\n');
  for (const c of commands) ctx.out(`  hookwire ${c.name.padEnd(14)} ${c.summary}\n      ${c.usage}`);
  ctx.out('\nThe CLI finds the bridge with HOOKWIRE_URL (default http://127.0.0.1:8080) and its token with');
  ctx.out('HOOKWIRE_TOKEN, else the admin-token file in HOOKWIRE_DATA_DIR (default ./data). For https:// with a');
  ctx.out('certificate from a private CA: --ca FILE (or HOOKWIRE_CA), the CA\'s PEM file.');
}

/** `--ca FILE` (or `--ca=FILE`) anywhere on the line: the CA the API client trusts, as HOOKWIRE_CA. */
export function takeCa(argv: string[]): { argv: string[]; ca: string | undefined } {
  const rest: string[] = [];
  let ca: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--ca' && i + 1 < argv.length) ca = argv[++i];
    else if (arg.startsWith('--ca=')) ca = arg.slice('--ca='.length);
    else rest.push(arg);
  }
  return { argv: rest, ca };
}

function defaultContext(env: NodeJS.ProcessEnv): CliContext {
  return {
    api: () => apiClient(env),
    out: (line) => process.stdout.write(line + '\n'),
    err: (line) => process.stderr.write(line + '\n'),
    env,
  };
}

export async function main(line: string[], given?: CliContext): Promise<number> {
  const { argv, ca } = takeCa(line);
  const ctx = given ?? defaultContext(ca ? { ...process.env, HOOKWIRE_CA: ca } : process.env);
  const [name, ...args] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    help(ctx);
    return name ? 0 : 1;
  }
  if (name === '--version' || name === 'version') {
    ctx.out(version);
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    ctx.err(`hookwire: unknown command "${name}"; see hookwire help`);
    return 2;
  }
  try {
    return await command.run(args, ctx);
  } catch (err) {
    if (err instanceof ApiError || err instanceof HookwireError) {
      ctx.err(`error: ${err.message} (${err.code})`);
      return 1;
    }
    if (err instanceof Error && 'code' in err && typeof err.code === 'string' && err.code.startsWith('ERR_PARSE_ARGS')) {
      ctx.err(`hookwire ${name}: ${err.message}\nusage: hookwire ${command.usage}`);
      return 2;
    }
    throw err;
  }
}
