// npm run build:espruino: the module file a board loads, dist/espruino/hookwire.js.
//
// The SDK core and the Espruino platform bundled to ES2015 and minified by esbuild (Espruino's
// own minifier breaks ES2015 classes), then written as a module body that sets `exports`, the
// form Espruino's `require("hookwire")` reads from Storage, from node_modules/hookwire.js on a
// filesystem build, or wrapped by an uploader in `Modules.addCached`. The build fails when the
// file uses anything Espruino lacks (scripts/lib/espruino-subset.ts) or outgrows its budget.

import { parse, type Node } from 'acorn';
import { build } from 'esbuild';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkEspruinoSubset } from './lib/espruino-subset.ts';

/** The module must fit a small board's Storage and load on 1,700 variables (DESIGN.md). */
export const ESPRUINO_BUDGET_BYTES = 8192;

export const ESPRUINO_MODULE_PATH = fileURLToPath(new URL('../dist/espruino/hookwire.js', import.meta.url));
const SDK_SRC = fileURLToPath(new URL('../firmware-sdk/src/', import.meta.url));

export interface EspruinoBuild {
  code: string;
  bytes: number;
  path: string;
}

/**
 * Turn the bundle's closing `export { a as connect }` into `exports.connect = a;`: the module
 * body Espruino evaluates has `exports`, not ES module syntax.
 */
export function toModuleBody(esm: string): string {
  const program = parse(esm, { ecmaVersion: 2015, sourceType: 'module' }) as unknown as { body: (Node & { type: string; specifiers?: { local: { name: string }; exported: { name: string } }[] })[] };
  const last = program.body[program.body.length - 1];
  if (!last || last.type !== 'ExportNamedDeclaration' || !last.specifiers) throw new Error('the bundle does not end with its export list');
  const assignments = last.specifiers.map((s) => `exports.${s.exported.name}=${s.local.name};`).join('');
  return esm.slice(0, last.start) + assignments + esm.slice(last.end);
}

/** Bundle, check and (unless `write` is false) write the module; throws when it breaks a rule. */
export async function buildEspruino(write = true): Promise<EspruinoBuild> {
  const result = await build({
    // The module's whole public surface: connect(options).
    stdin: { contents: "export { connect } from './espruino.ts';", resolveDir: SDK_SRC, loader: 'ts' },
    bundle: true,
    format: 'esm',
    target: 'es2015',
    platform: 'neutral',
    charset: 'ascii', // \xNN escapes stay byte strings on Espruino's Unicode builds; \uNNNN would not
    minify: true,
    legalComments: 'none',
    // Internal property names, shortened (bytes count on a board): none is public, none is a
    // built-in's; a clash would break the sandbox tests, which run this very file.
    mangleProps: /^(onConnect|onClose|onMessage|clientId|username|password|prefix|handler|payload|topic|done|packet|utf8|text|bin|decodeText|textBytes|keepaliveSec|encode|decode|transport|codec|timers|id)$/,
    write: false,
    logLevel: 'silent',
  });
  const code = toModuleBody(result.outputFiles[0]!.text.trim()) + '\n';
  const violations = checkEspruinoSubset(code);
  if (violations.length) {
    throw new Error(`dist/espruino/hookwire.js uses what Espruino lacks:\n${violations.map((v) => `  ${v.rule} at ${v.line}:${v.column}: ${v.text}`).join('\n')}`);
  }
  // A module may reach a board typed through its console (Modules.addCached by an uploader):
  // printable ASCII only, no control character for the line editor to act on.
  const unprintable = /[^\x20-\x7e\n]/.exec(code);
  if (unprintable) throw new Error(`dist/espruino/hookwire.js holds character ${unprintable[0].charCodeAt(0)} at ${unprintable.index}: write it as an escape`);
  const bytes = Buffer.byteLength(code);
  if (bytes > ESPRUINO_BUDGET_BYTES) throw new Error(`dist/espruino/hookwire.js is ${bytes} bytes: over its ${ESPRUINO_BUDGET_BYTES}-byte budget`);
  if (write) {
    await mkdir(dirname(ESPRUINO_MODULE_PATH), { recursive: true });
    await writeFile(ESPRUINO_MODULE_PATH, code);
  }
  return { code, bytes, path: ESPRUINO_MODULE_PATH };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    const { bytes, path } = await buildEspruino();
    console.log(`${path}: ${bytes} bytes (budget ${ESPRUINO_BUDGET_BYTES})`);
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  }
}
