// Drives Espruino's interpreter built for Linux (a binary the user builds from Espruino's
// sources and names in HOOKWIRE_ESPRUINO; nothing of it is in this repository) the way a board
// is driven over its console: Storage files are written line by line at the REPL, in
// 384-byte base64 pieces as Espruino's CLI writes them, then `load("app.js")` restarts it into
// an app, whose console is read back. Used by the opt-in test and the Espruino benchmark.
//
// Its stdin is a pipe kept open: reading end-of-file (from /dev/null, say) makes the Linux
// build read garbage until it runs out of memory. Storage lives in `espruino.flash` in its
// working directory.

import { spawn, type ChildProcess } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';

export interface Interpreter {
  /** Everything it printed so far (CR removed). */
  output(): string;
  /** Write a Storage file through the REPL, waiting for the prompt after each piece (text is written as UTF-8). */
  writeFile(name: string, content: string | Buffer): Promise<void>;
  /** Type one line at the REPL and wait for the prompt that follows its result. */
  type(line: string): Promise<void>;
  /** Resolve with the first match of `pattern` in what is printed after `from` (default: from now). */
  waitFor(pattern: RegExp, ms?: number, from?: number): Promise<RegExpExecArray>;
  /** Resolves with the exit code once it exits. */
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

/** The REPL's prompt, possibly followed by its "clear to end of screen" escape. */
export const PROMPT = />(\x1b\[J)?\s*$/;
const PIECE = 384; // what Espruino's CLI sends per Storage.write (a multiple of 3 for base64)

export function startInterpreter(binary: string, cwd: string): Interpreter {
  const child: ChildProcess = spawn(binary, [], { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  let text = '';
  const waiters = new Set<() => void>();
  const collect = (decoder: StringDecoder) => (chunk: Buffer) => {
    text += decoder.write(chunk).replace(/\r/g, '');
    for (const w of waiters) w();
  };
  child.stdout!.on('data', collect(new StringDecoder('utf8')));
  child.stderr!.on('data', collect(new StringDecoder('utf8')));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => {
    for (const w of waiters) w();
    resolve(code);
  }));

  function waitFor(pattern: RegExp, ms = 10_000, from = text.length): Promise<RegExpExecArray> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const match = new RegExp(pattern.source, pattern.flags.replace('g', '')).exec(text.slice(from));
        if (match) {
          done();
          resolve(match);
        } else if (child.exitCode !== null) {
          done();
          reject(new Error(`the interpreter exited (${child.exitCode}) before printing ${pattern}:\n${text.slice(-2000)}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${ms} ms waiting for ${pattern}:\n${text.slice(-2000)}`));
      }, ms);
      const done = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  }

  async function type(line: string): Promise<void> {
    const from = text.length;
    // Echoed, with its result: a line starting with \x10 (echo off) gets no prompt to wait for.
    child.stdin!.write(`${line}\n`);
    await waitFor(PROMPT, 10_000, from);
  }

  return {
    output: () => text,
    async writeFile(name, content) {
      const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
      for (let at = 0; at < bytes.length; at += PIECE) {
        const piece = bytes.subarray(at, at + PIECE).toString('base64');
        await type(`require("Storage").write(${JSON.stringify(name)},atob(${JSON.stringify(piece)}),${at}${at === 0 ? `,${bytes.length}` : ''});`);
      }
    },
    type,
    waitFor,
    exited,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGINT'); // the Linux build handles SIGINT, not SIGTERM
        const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}
