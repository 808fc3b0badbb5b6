// An Espruino-like sandbox: firmware apps and the SDK's board module (dist/espruino/hookwire.js)
// run on Node, in a `vm` context that holds only what Espruino provides, with real sockets.
// The tests run the built module and the example apps here; `examples/espruino-*/run.ts` run
// an app here against a bridge, so it can be tried before a board is flashed.
//
// What is Espruino-like (checked against Espruino 2v29's Linux build):
// - Missing built-ins are missing: Map, Set, WeakMap, Symbol, Proxy, Reflect, TextEncoder,
//   Array.from/of, Uint8Array.from, Number.isInteger, Math.trunc, Promise finally/race/
//   allSettled/any, codePointAt, queueMicrotask, setImmediate, Array#lastIndexOf, process.exit.
//   `Array.prototype.slice` and `String.prototype.*` read as undefined (`[].slice` works),
//   `Uint8Array#slice` returns a plain Array, `err.name` is undefined.
// - Strings: on an 8-bit build (`strings: 'bytes'`, as ESP8266/ESP32/STM32) source files are
//   read byte by byte, so "é" is two characters, and a `\uXXXX` escape keeps its low byte.
//   `String.fromCharCode` keeps 8 bits on every build. `E.asUTF8` throws and `E.fromUTF8`
//   returns false there, as on those boards.
// - `require("net")` and `require("tls")` give sockets over real TCP whose `data` events carry
//   byte strings (one character per byte), asynchronously; `write` sends a byte string's bytes,
//   a Unicode text string as UTF-8, and an array or typed array as its decimal text
//   (`1,2,255`), as Espruino does. `require("Storage")` keeps files in memory; a module is
//   loaded from Storage or `Modules.addCached`, as on a board.
// - `load(file)` runs a Storage file, as after `hookwire flash` (the restart is not emulated).
// - Timer and socket callbacks that throw are reported as "Uncaught ..." and the sandbox goes
//   on, as Espruino does.
// Not emulated: memory (JsVars; `process.memory()` answers NaN), the interpreter's speed, and
// syntax Espruino lacks (scripts/lib/espruino-subset.ts checks that statically).

import { connect as netConnect, type Socket as NodeSocket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { inspect } from 'node:util';
import vm from 'node:vm';

/** `bytes`: an 8-bit build (ESP8266, ESP32, STM32). `unicode`: the Linux build, Bangle.js. */
export type StringKind = 'bytes' | 'unicode';

export interface SandboxOptions {
  /** Which kind of Espruino build to be. Default 'bytes' (the common boards). */
  strings?: StringKind;
  /** Each line the app prints (console.log, print), as UTF-8 text. */
  onOutput?: (line: string) => void;
  /** Board globals: pins, serial ports, `E` extras (merged into `E`), anything an app uses. */
  globals?: Record<string, unknown>;
  /** Modules the board has built in besides net, tls and Storage (e.g. `Wifi`). */
  modules?: Record<string, unknown>;
  /** Deliver socket data in events of at most this many bytes (default: as TCP gives it). */
  maxChunk?: number;
  /** Multiply every timer's delay by this (0.01: a 10 s timeout fires after 100 ms). Default 1. */
  timeScale?: number;
}

export interface EspruinoSandbox {
  /** Run a script as Espruino runs uploaded code (source as UTF-8 text, as in a file). */
  run(source: string, filename?: string): unknown;
  /** Write a Storage file, as `require("Storage").write(name, data)` would. */
  writeFile(name: string, data: string | Uint8Array): void;
  /** Evaluate an expression in the sandbox and return its value (for tests). */
  evaluate<T = unknown>(expression: string): T;
  /** Everything printed so far, one entry per line. */
  output: string[];
  /** Errors thrown by callbacks (reported as "Uncaught"). */
  errors: unknown[];
  /** Open sockets (to cut them: a network drop). */
  sockets(): NodeSocket[];
  /** True once the app called quit(). */
  quitted(): boolean;
  /** Close every socket and cancel every timer. */
  close(): void;
}

/** The built-ins Espruino lacks, removed from the context (prelude run inside it). */
const PRELUDE = `(function (g) {
  var RealArray = Array, RealString = String, isArray = Array.isArray;
  var hasInstance = Symbol.hasInstance;
  var TypedArray = Object.getPrototypeOf(Uint8Array);
  ['Map', 'Set', 'WeakMap', 'WeakSet', 'WeakRef', 'FinalizationRegistry', 'Symbol', 'Proxy', 'Reflect',
   'BigInt', 'BigInt64Array', 'BigUint64Array', 'SharedArrayBuffer', 'Atomics', 'queueMicrotask',
   'setImmediate', 'TextEncoder', 'TextDecoder', 'structuredClone'].forEach(function (k) { delete g[k]; });
  delete RealArray.from; delete RealArray.of; delete TypedArray.from; delete TypedArray.of;
  delete Number.isInteger; delete Math.trunc;
  delete Promise.prototype.finally; delete Promise.race; delete Promise.allSettled; delete Promise.any;
  delete RealString.prototype.codePointAt; delete RealArray.prototype.lastIndexOf;
  delete Error.prototype.name;
  var slice = RealArray.prototype.slice;
  TypedArray.prototype.slice = function (a, b) { return slice.call(this, a, b); };
  // Array.prototype.slice and String.prototype.* read as undefined; [].slice and "".x work.
  function EArray() { return RealArray.apply(null, arguments); }
  EArray.isArray = isArray;
  EArray.prototype = {};
  Object.defineProperty(EArray, hasInstance, { value: function (x) { return isArray(x); } });
  function EString(v) { return arguments.length ? RealString(v) : ''; }
  var fromCharCode = RealString.fromCharCode;
  EString.fromCharCode = function () {
    var codes = [];
    for (var i = 0; i < arguments.length; i++) codes.push(arguments[i] & 255);
    return fromCharCode.apply(null, codes);
  };
  EString.prototype = {};
  Object.defineProperty(EString, hasInstance, { value: function (x) { return typeof x === 'string'; } });
  g.Array = EArray;
  g.String = EString;
  g.global = g;
})(globalThis);`;

/** Text as an 8-bit build's lexer sees it: the file's bytes, `\uXXXX` escapes cut to their low byte. */
function asByteSource(source: string): string {
  return Buffer.from(source, 'utf8').toString('latin1').replace(/\\u[0-9a-fA-F]{2}([0-9a-fA-F]{2})/g, '\\x$1');
}

export function espruinoSandbox(options: SandboxOptions = {}): EspruinoSandbox {
  const kind = options.strings ?? 'bytes';
  const scale = options.timeScale ?? 1;
  const output: string[] = [];
  const errors: unknown[] = [];
  const storage = new Map<string, Buffer>();
  const cached = new Map<string, unknown>();
  const timers = new Map<number, NodeJS.Timeout>();
  const open = new Set<NodeSocket>();
  let nextTimer = 1;
  let stopped = false;

  const context = vm.createContext({});
  vm.runInContext(PRELUDE, context);
  const VmUint8Array = vm.runInContext('Uint8Array', context) as Uint8ArrayConstructor;

  /** Bytes a string stands for, as Espruino would write it to a socket. */
  const bytesOf = (s: string) =>
    kind === 'unicode' && /[^\u0000-\u00ff]/.test(s) ? Buffer.from(s, 'utf8') : Buffer.from(s, 'latin1');

  function print(...args: unknown[]) {
    const line = args.map((a) => (typeof a === 'string' ? a : inspect(a, { depth: 4, breakLength: Infinity }))).join(' ');
    for (const l of (kind === 'bytes' ? Buffer.from(line, 'latin1').toString('utf8') : line).split('\n')) {
      output.push(l);
      options.onOutput?.(l);
    }
  }

  /** Run an app callback; what it throws is reported as Espruino reports it, and the sandbox goes on. */
  function guard(fn: () => void) {
    if (stopped) return;
    try {
      fn();
    } catch (err) {
      errors.push(err);
      print(`Uncaught ${err instanceof Error || (err && typeof err === 'object' && 'message' in err) ? `Error: ${(err as Error).message}` : String(err)}`);
    }
  }

  function setTimer(fn: (...a: unknown[]) => void, ms: number, repeat: boolean, args: unknown[]) {
    const id = nextTimer++;
    const delay = Math.max(0, (ms || 0) * scale);
    const run = () => {
      if (!repeat) timers.delete(id);
      guard(() => fn(...args));
    };
    timers.set(id, repeat ? setInterval(run, delay) : setTimeout(run, delay));
    return id;
  }
  function clearTimer(id: unknown) {
    const t = timers.get(id as number);
    if (t) clearTimeout(t);
    timers.delete(id as number);
  }

  function toBytes(data: unknown): Buffer {
    if (typeof data === 'string') return Buffer.from(data, 'latin1');
    if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    if (data instanceof ArrayBuffer || Object.prototype.toString.call(data) === '[object ArrayBuffer]') return Buffer.from(data as ArrayBuffer);
    if (Array.isArray(data)) return Buffer.concat(data.map((d) => (typeof d === 'number' ? Buffer.from([d & 255]) : toBytes(d))));
    if (typeof data === 'number') return Buffer.from([data & 255]);
    return Buffer.alloc(0);
  }

  const E = {
    toString: (...parts: unknown[]) => toBytes(parts.length === 1 ? parts[0] : parts).toString('latin1'),
    toUint8Array: (...parts: unknown[]) => {
      const bytes = toBytes(parts.length === 1 ? parts[0] : parts);
      const out = new VmUint8Array(bytes.length);
      out.set(bytes);
      return out;
    },
    asUTF8: (s: string) => {
      if (kind === 'bytes') throw new Error('Unicode not supported on this build');
      return Buffer.from(s, 'latin1').toString('utf8');
    },
    fromUTF8: (s: string) => (kind === 'bytes' ? false : Buffer.from(s, 'utf8').toString('latin1')),
    ...(options.globals?.E as object | undefined),
  };

  /** A socket as Espruino's net and tls modules give it. */
  function socket(host: string | undefined, port: number | undefined, secure: boolean, ca: string | undefined, onOpen?: () => void) {
    const listeners: Record<string, ((arg?: unknown) => void)[]> = {};
    const emit = (event: string, arg?: unknown) => setImmediate(() => {
      for (const fn of listeners[event] ?? []) guard(() => fn(arg));
    });
    let connected = false;
    let failed = false;
    const opts = { host: host ?? 'localhost', port: port ?? 80 };
    const s: NodeSocket = secure
      ? tlsConnect({ ...opts, ca, rejectUnauthorized: Boolean(ca) })
      : netConnect(opts);
    open.add(s);
    s.on(secure ? 'secureConnect' : 'connect', () => {
      connected = true;
      if (onOpen) setImmediate(() => guard(onOpen));
    });
    s.on('data', (buf: Buffer) => {
      const step = options.maxChunk ?? buf.length;
      for (let i = 0; i < buf.length; i += step) emit('data', buf.subarray(i, i + step).toString('latin1'));
    });
    s.on('error', (err: NodeJS.ErrnoException) => {
      failed = true;
      // Espruino's codes: -9 connection reset or refused, -6 not found, -10 unknown.
      const code = err.code === 'ECONNREFUSED' || err.code === 'ECONNRESET' ? -9 : err.code === 'ENOTFOUND' ? -6 : -10;
      emit('error', { code, message: err.message });
    });
    s.on('close', () => {
      open.delete(s);
      // Espruino: an error on a socket that never connected is not followed by `close`.
      if (connected || !failed) emit('close', failed);
    });
    return {
      write(data: unknown) {
        if (s.destroyed) return false;
        if (typeof data === 'string') s.write(bytesOf(data));
        else if (data !== undefined) s.write(Array.prototype.join.call(toBytes(data), ',')); // Espruino writes what toString gives
        return false;
      },
      end(data?: unknown) {
        if (data !== undefined) this.write(data);
        s.end(() => s.destroy()); // Espruino closes both ways
      },
      on(event: string, fn: (arg?: unknown) => void) {
        (listeners[event] ??= []).push(fn);
      },
    };
  }

  type ConnectOptions = { host?: string; port?: number; ca?: string };
  const builtins: Record<string, unknown> = {
    net: { connect: (o: ConnectOptions, cb?: () => void) => socket(o.host, o.port, false, undefined, cb) },
    tls: { connect: (o: ConnectOptions, cb?: () => void) => socket(o.host, o.port, true, o.ca, cb) },
    Storage: {
      write(name: string, data: unknown, offset?: number, size?: number) {
        const bytes = toBytes(data);
        let file = storage.get(name);
        if (!file || size !== undefined || offset === undefined) file = Buffer.alloc(size ?? bytes.length, 0xff);
        bytes.copy(file, offset ?? 0);
        storage.set(name, file);
        return true;
      },
      read: (name: string) => storage.get(name)?.toString('latin1'),
      readJSON: (name: string, noExceptions?: boolean) => {
        try {
          const text = storage.get(name)?.toString('latin1');
          return text === undefined ? undefined : vm.runInContext(`JSON.parse(${JSON.stringify(kind === 'unicode' ? Buffer.from(text, 'latin1').toString('utf8') : text)})`, context);
        } catch (err) {
          if (noExceptions) return undefined;
          throw err;
        }
      },
      list: () => [...storage.keys()],
      erase: (name: string) => void storage.delete(name),
    },
    ...options.modules,
  };

  function loadModule(name: string, body: string): unknown {
    const wrapper = vm.runInContext(`(function (exports, module) {${body}\n})`, context, { filename: name });
    const module = { exports: vm.runInContext('({})', context) as Record<string, unknown> };
    wrapper(module.exports, module);
    return module.exports;
  }

  function require(name: string): unknown {
    if (name in builtins) return builtins[name];
    if (cached.has(name)) return cached.get(name);
    const file = storage.get(name);
    if (!file) throw new Error(`Module ${JSON.stringify(name)} not found`);
    const body = kind === 'bytes' ? asByteSource(file.toString('utf8')) : file.toString('utf8');
    const exports = loadModule(name, body);
    cached.set(name, exports);
    return exports;
  }

  Object.assign(context, {
    console: { log: print },
    print,
    require,
    E,
    Modules: {
      addCached(name: string, module: unknown) {
        cached.set(name, typeof module === 'function' ? loadModule(name, `(${String(module)}).call(exports)`) : loadModule(name, String(module)));
      },
      removeCached: (name: string) => void cached.delete(name),
      getCached: () => [...cached.keys()],
    },
    setTimeout: (fn: () => void, ms?: number, ...args: unknown[]) => setTimer(fn, ms ?? 0, false, args),
    setInterval: (fn: () => void, ms?: number, ...args: unknown[]) => setTimer(fn, ms ?? 0, true, args),
    clearTimeout: clearTimer,
    clearInterval: clearTimer,
    getSerial: () => '33FFD305-41573033-15720843',
    getTime: () => (performance.timeOrigin + performance.now()) / 1000, // seconds, sub-millisecond
    process: { memory: () => ({ free: NaN, usage: NaN, total: NaN }), env: { VERSION: '2v29-sandbox', BOARD: 'SANDBOX' }, version: '2v29-sandbox' },
    quit: () => sandbox.close(),
    // load(): Espruino restarts and runs .bootcde, or the named Storage file. The restart (RAM
    // cleared) is not emulated: the file runs in this context once the caller returns.
    load: (name?: string) => setTimer(() => {
      const file = storage.get(name ?? '.bootcde');
      if (!file) throw new Error(`no such Storage file: ${name ?? '.bootcde'}`);
      sandbox.run(file.toString('utf8'), name ?? '.bootcde');
    }, 0, false, []),
    ...Object.fromEntries(Object.entries(options.globals ?? {}).filter(([k]) => k !== 'E')),
  });

  const sandbox: EspruinoSandbox = {
    run(source, filename = 'app.js') {
      return vm.runInContext(kind === 'bytes' ? asByteSource(source) : source, context, { filename });
    },
    writeFile(name, data) {
      storage.set(name, typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data));
      cached.delete(name);
    },
    evaluate: (expression) => vm.runInContext(expression, context),
    output,
    errors,
    sockets: () => [...open],
    quitted: () => stopped,
    close() {
      stopped = true;
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
      for (const s of open) s.destroy();
      open.clear();
    },
  };
  return sandbox;
}
