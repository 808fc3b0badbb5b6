// What a command declares: its name, usage, options, and its subcommands with the positional
// arguments each takes. main.ts reads the declarations to parse the line, answer --help,
// name an unknown subcommand or a stray argument, so no command repeats that work.

import type { parseArgs, ParseArgsConfig } from 'node:util';
import type { ApiClient } from '../client/index.ts';

export interface CliContext {
  api: () => ApiClient;
  out: (line: string) => void;
  err: (line: string) => void;
  env: NodeJS.ProcessEnv;
  /** Lines typed at the terminal (stdin), for interactive commands; ends at Ctrl-D. */
  input?: () => Lines;
}

/** Lines read one at a time; `close` stops reading (stdin would keep the process running). */
export interface Lines {
  lines: AsyncIterable<string>;
  close(): void;
}

/** Options as node:util parseArgs declares them. */
export type Options = NonNullable<ParseArgsConfig['options']>;

/** The values parseArgs finds for `O`. */
export type Values<O extends Options> = ReturnType<typeof parseArgs<{ options: O; allowPositionals: true; strict: true }>>['values'];

export interface Subcommand {
  /** After `hookwire <command> `: `add [name] [--product P] [--json]`. */
  usage: string;
  summary: string;
  /** Positional arguments after the subcommand's name, at most; any more is a usage error. */
  args: number;
  /** The command's options this subcommand takes (besides `common`); any other is a usage error. */
  options?: string[];
}

/** A parsed line, as a command's `run` receives it. */
export interface Input<O extends Options> {
  values: Values<O>;
  /** The subcommand's name, when the command has subcommands and one was given. */
  sub: string | undefined;
  /** The positional arguments, without the subcommand's name. */
  args: string[];
}

export interface Command<O extends Options = Options> {
  name: string;
  summary: string;
  /** After `hookwire `; for a command with subcommands, what comes before the subcommand. */
  usage: string;
  options: O;
  /** Options every subcommand takes (`json`, `product`). */
  common?: string[];
  /** Positional arguments of a command without subcommands, at most (default 0). */
  args?: number;
  subcommands?: Record<string, Subcommand>;
  /** Positional arguments before the subcommand's name (`device <id> listen`): default 0. */
  subcommandAfter?: number;
  /**
   * What the command does without a subcommand (`device <id>` is interactive), for its usage;
   * without this, no subcommand prints the usage and exits 2.
   */
  withoutSubcommand?: string;
  /** Resolves with the exit code. */
  run(input: Input<O>, ctx: CliContext): Promise<number>;
}

/**
 * A command, its `run` typed by its options. Stored as a plain Command: main hands each the
 * values of its own options, so the widening is safe.
 */
export function defineCommand<const O extends Options>(command: Command<O>): Command {
  return command as unknown as Command;
}

/** A usage error: main prints it with the (sub)command's usage and exits 2. */
export class UsageError extends Error {
  readonly code = 'ERR_PARSE_ARGS_USAGE';
  /** The usage to print with it, when the (sub)command is known where it is thrown. */
  usage: string | undefined;
  constructor(message: string, usage?: string) {
    super(message);
    this.usage = usage;
  }
}

export function usageError(message: string): UsageError {
  return new UsageError(message);
}

/** A failure the CLI reports itself (not the API's): `error: message (CODE)`, exit 1. */
export class CliError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

/** Columns padded to their widest cell. */
export function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd());
}
