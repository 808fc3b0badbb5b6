// The `hookwire` command line: one file per command under commands/, each declaring its
// options and subcommands (command.ts); parse.ts reads the line against that declaration.

import { createInterface } from 'node:readline';
import { apiClient, ApiError } from '../client/index.ts';
import { CliError, UsageError, type CliContext } from './command.ts';
import commands from './commands/index.ts';
import { parseLine, UnknownName, unknownName } from './parse.ts';
import { HookwireError } from '../errors.ts';
import { version } from '../version.ts';

function help(ctx: CliContext): void {
  ctx.out(`hookwire ${version}: a self-hosted device cloud for webhooks`);
  ctx.out('');
  ctx.out('usage: hookwire <command> [arguments] [options]     hookwire <command> --help: its usage');
  ctx.out('');
  for (const c of commands) ctx.out(`  ${c.name.padEnd(14)} ${c.summary}`);
  ctx.out('');
  ctx.out('The CLI finds the bridge with HOOKWIRE_URL (default http://127.0.0.1:8080) and its token with');
  ctx.out('HOOKWIRE_TOKEN, else the admin-token file in HOOKWIRE_DATA_DIR (default ./data). For https:// with a');
  ctx.out('certificate from a private CA: --ca FILE (or HOOKWIRE_CA), the CA\'s PEM file. Every command: docs/cli.md.');
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
    input() {
      const lines = createInterface({ input: process.stdin, terminal: false });
      return {
        lines,
        close() {
          lines.close();
          process.stdin.destroy();
        },
      };
    },
  };
}

/** The bridge's refusal: its message, the field at fault when it names one, and its code. */
function refusal(err: ApiError | HookwireError | CliError): string {
  const field = 'field' in err && typeof err.field === 'string' ? ` (field ${err.field})` : '';
  return `error${field}: ${err.message} (${err.code})`;
}

const isParseError = (err: unknown): err is Error => err instanceof Error && 'code' in err && typeof err.code === 'string' && err.code.startsWith('ERR_PARSE_ARGS');

export async function main(line: string[], given?: CliContext): Promise<number> {
  const { argv, ca } = takeCa(line);
  const ctx = given ?? defaultContext(ca ? { ...process.env, HOOKWIRE_CA: ca } : process.env);
  const [name, ...args] = argv;
  if (!name || name === '--help' || name === '-h') {
    help(ctx);
    return name ? 0 : 1;
  }
  if (name === '--version' || name === 'version') {
    ctx.out(version);
    return 0;
  }
  // `hookwire help devices add` is `hookwire devices add --help`.
  const asking = name === 'help';
  if (asking && args.length === 0) {
    help(ctx);
    return 0;
  }
  const wanted = asking ? args[0]! : name;
  const command = commands.find((c) => c.name === wanted);
  if (!command) {
    const names = commands.map((c) => c.name);
    ctx.err(`hookwire: ${unknownName('command', wanted, asking ? names : [...names, 'help', 'version']).message}; see hookwire help`);
    return 2;
  }
  let usage = command.usage;
  try {
    const parsed = parseLine(command, asking ? [...args.slice(1), '--help'] : args);
    if (parsed.kind === 'help') {
      for (const l of parsed.lines) ctx.out(l);
      return 0;
    }
    if (parsed.kind === 'missing') {
      for (const l of parsed.lines) ctx.err(l);
      return 2;
    }
    usage = parsed.usage;
    return await command.run(parsed.input, ctx);
  } catch (err) {
    if (err instanceof UnknownName) {
      ctx.err(`hookwire: ${err.message}\nsee: ${err.seeAlso}`);
      return 2;
    }
    if (err instanceof ApiError || err instanceof HookwireError || err instanceof CliError) {
      ctx.err(refusal(err));
      return 1;
    }
    if (isParseError(err)) {
      const shown = err instanceof UsageError && err.usage ? err.usage : usage;
      ctx.err(`hookwire ${command.name}: ${err.message}\nusage: hookwire ${shown}`);
      return 2;
    }
    throw err;
  }
}
