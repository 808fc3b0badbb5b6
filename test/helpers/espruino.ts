// A simulated board for tests: the Espruino sandbox (simulator/espruino.ts) with the SDK's
// built module (the exact dist/espruino/hookwire.js bytes) in its Storage, as `hookwire flash`
// leaves a real board.

import { buildEspruino } from '../../scripts/build-espruino.ts';
import { espruinoSandbox, type EspruinoSandbox, type SandboxOptions, type StringKind } from '../../simulator/espruino.ts';
import { until } from './bridge.ts';

let built: Promise<string> | undefined;

/** The module file, built once per test run. */
export function espruinoModule(): Promise<string> {
  built ??= buildEspruino(false).then((b) => b.code);
  return built;
}

export interface Board extends EspruinoSandbox {
  /** A value of the app's, as JSON read back on the host (8-bit builds' byte strings decoded as UTF-8). */
  read<T = any>(expression: string): T;
  /** Resolve once `expression` is truthy in the app. */
  waitFor(expression: string, ms?: number): Promise<void>;
}

export const KINDS: StringKind[] = ['bytes', 'unicode'];

export async function board(kind: StringKind, options: SandboxOptions = {}): Promise<Board> {
  const sandbox = espruinoSandbox({ strings: kind, ...options });
  sandbox.writeFile('hookwire', await espruinoModule());
  const read = <T>(expression: string): T => {
    const json = sandbox.evaluate<string | undefined>(`JSON.stringify(${expression})`);
    if (json === undefined) return undefined as T;
    return JSON.parse(kind === 'bytes' ? Buffer.from(json, 'latin1').toString('utf8') : json) as T;
  };
  return Object.assign(sandbox, {
    read,
    waitFor: (expression: string, ms = 3000) => until(() => Boolean(sandbox.evaluate(expression)), ms, expression),
  });
}

/**
 * Firmware that connects a device and records what happens in `log` (`["connect"]`,
 * `["error", code]`, `["refused", code, event]`, `["disconnect"]`), with `options` merged into
 * connect's options.
 */
export function deviceApp(connect: Record<string, unknown>): string {
  return `
    var log = [];
    var device = require("hookwire").connect(${JSON.stringify({ host: '127.0.0.1', reconnectMinMs: 20, reconnectMaxMs: 200, ...connect })});
    device.on("connect", function () { log.push(["connect"]); });
    device.on("disconnect", function () { log.push(["disconnect"]); });
    device.on("error", function (e) { log.push(["error", e.code]); });
    device.on("refused", function (e) { log.push(["refused", e.code, e.event]); });
    function has(entry) { return log.some(function (l) { return l.join() === entry; }); }
  `;
}
