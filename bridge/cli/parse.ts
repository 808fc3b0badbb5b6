// Reading a command line against a command's declaration (command.ts): --help anywhere, the
// subcommand, its positional arguments and options. Every refusal names what was wrong: an
// unknown subcommand with the nearest one, a stray argument, an option of another subcommand.

import { parseArgs } from 'node:util';
import type { Command, Input, Options, Subcommand } from './command.ts';
import { UsageError } from './command.ts';
import { nearest } from './suggest.ts';

/** What the line asks for. */
export type Parsed =
  /** --help or -h: this usage, on stdout, exit 0. */
  | { kind: 'help'; lines: string[] }
  /** A command with subcommands, none given: its usage on stderr, exit 2. */
  | { kind: 'missing'; lines: string[] }
  | { kind: 'run'; input: Input<Options>; usage: string };

/** A name that is not a command or subcommand; exit 2. */
export class UnknownName extends Error {
  readonly code = 'ERR_UNKNOWN_NAME';
  constructor(message: string, readonly seeAlso: string) {
    super(message);
  }
}

/** `unknown subcommand "lst" for integrations; did you mean "list"?` and the like. */
export function unknownName(kind: 'command' | 'subcommand', typed: string, names: string[], of?: string): UnknownName {
  const near = nearest(typed, names);
  const what = `unknown ${kind} "${typed}"${of ? ` for ${of}` : ''}`;
  const hint = near ? `did you mean "${near}"?` : `${of ? 'it has' : 'the commands are'}: ${names.join(', ')}`;
  return new UnknownName(`${what}; ${hint}`, `hookwire ${of ? `${of} ` : ''}--help`);
}

/** `hookwire integrations create <template.json> ...`: the full usage of one subcommand. */
export function subUsage(command: Command, sub: Subcommand): string {
  return `${command.usage} ${sub.usage}`;
}

/** A command's usage lines: its own line, or one per subcommand with its summary. */
export function usageLines(command: Command): string[] {
  if (!command.subcommands) return [`usage: hookwire ${command.usage}`, '', command.summary];
  const lines = [`hookwire ${command.name}: ${command.summary}`, '', `usage: hookwire ${command.usage} <subcommand> ...`, ''];
  if (command.withoutSubcommand) lines.push(`  hookwire ${command.usage}`, `      ${command.withoutSubcommand}`);
  for (const sub of Object.values(command.subcommands)) lines.push(`  hookwire ${subUsage(command, sub)}`, `      ${sub.summary}`);
  return lines;
}

function subcommandLines(command: Command, sub: Subcommand): string[] {
  return [`usage: hookwire ${subUsage(command, sub)}`, '', sub.summary];
}

const isHelp = (arg: string) => arg === '--help' || arg === '-h';

export function parseLine(command: Command, args: string[]): Parsed {
  // After `--`, everything is an argument, `-h` included.
  const dashes = args.indexOf('--');
  const asked = (a: string, i: number) => isHelp(a) && (dashes < 0 || i < dashes);
  const help = args.some(asked);
  const rest = args.filter((a, i) => !asked(a, i));

  // Leniently first, to find the subcommand whatever else is wrong with the line.
  const loose = parseArgs({ args: rest, options: command.options, allowPositionals: true, strict: false });
  const at = command.subcommandAfter ?? 0;
  const subs = command.subcommands;
  const typed = subs ? loose.positionals[at] : undefined;
  const sub = typed !== undefined && subs && Object.hasOwn(subs, typed) ? subs[typed] : undefined;

  if (help) return { kind: 'help', lines: sub ? subcommandLines(command, sub) : usageLines(command) };
  if (subs && typed !== undefined && !sub) throw unknownName('subcommand', typed, Object.keys(subs), command.name);
  if (subs && typed === undefined && !command.withoutSubcommand) return { kind: 'missing', lines: usageLines(command) };

  const usage = sub ? subUsage(command, sub) : command.usage;
  let strict: ReturnType<typeof parseArgs<{ options: Options; allowPositionals: true; strict: true }>>;
  try {
    strict = parseArgs({ args: rest, options: command.options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message, usage);
  }
  const positionals = sub ? [...strict.positionals.slice(0, at), ...strict.positionals.slice(at + 1)] : strict.positionals;
  const where = sub ? `"${command.name} ${typed}"` : `"${command.name}"`;

  const most = sub ? at + sub.args : subs ? at : (command.args ?? 0);
  if (positionals.length > most) {
    const takes = most === 0 ? 'it takes none' : `it takes at most ${most}`;
    throw new UsageError(`unexpected argument "${positionals[most]}" for ${where} (${takes}; quote an argument with spaces)`, usage);
  }
  if (sub) {
    const allowed = new Set([...(command.common ?? []), ...(sub.options ?? [])]);
    for (const [key, value] of Object.entries(strict.values)) {
      if (value !== undefined && !allowed.has(key)) throw new UsageError(`--${key} does not apply to ${where}`, usage);
    }
  }
  return { kind: 'run', input: { values: strict.values, sub: sub ? typed : undefined, args: positionals }, usage };
}
