// The console's code (console/, TypeScript with Preact, htm and uPlot) bundled by esbuild,
// which tsx already brings, in memory the first time /console is asked for: nothing to build
// at install or start, and a browser gets one script and one stylesheet, minified and
// compressed, named by their content so they can be cached for good.

import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { build } from 'esbuild';

export interface Asset {
  type: string;
  raw: Buffer;
  br: Buffer;
  gzip: Buffer;
  etag: string;
}

export interface Bundle {
  /** By file name (`app-<hash>.js`, `app-<hash>.css`, and the source map). */
  assets: Map<string, Asset>;
  script: string;
  style: string;
}

const ENTRY = fileURLToPath(new URL('../../console/main.ts', import.meta.url));
const TYPES: Record<string, string> = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  map: 'application/json; charset=utf-8',
};

function asset(name: string, raw: Buffer): Asset {
  const ext = name.slice(name.lastIndexOf('.') + 1);
  // The script and stylesheet every visit loads get the best compression; source maps, which
  // only a developer's tools fetch, a quick one.
  const quality = ext === 'map' ? 5 : 11;
  return {
    type: TYPES[ext] ?? 'application/octet-stream',
    raw,
    br: brotliCompressSync(raw, { params: { [constants.BROTLI_PARAM_QUALITY]: quality, [constants.BROTLI_PARAM_SIZE_HINT]: raw.length } }),
    gzip: gzipSync(raw, { level: 9 }),
    etag: `"${createHash('sha256').update(raw).digest('base64url').slice(0, 22)}"`,
  };
}

let built: Promise<Bundle> | undefined;

/** The bundle, made once per process (every bridge in it serves the same files). */
export function consoleBundle(): Promise<Bundle> {
  built ??= bundleConsole().catch((err: unknown) => {
    built = undefined; // a failed build is tried again on the next request
    throw err;
  });
  return built;
}

async function bundleConsole(): Promise<Bundle> {
  const result = await build({
    entryPoints: { app: ENTRY },
    bundle: true,
    format: 'esm',
    minify: true,
    sourcemap: 'linked',
    target: ['chrome111', 'firefox111', 'safari16.4'],
    write: false,
    outdir: '/assets',
    entryNames: '[name]-[hash]',
    legalComments: 'none',
    logLevel: 'silent',
  });
  const assets = new Map<string, Asset>();
  let script = '';
  let style = '';
  for (const file of result.outputFiles) {
    const name = file.path.slice(file.path.lastIndexOf('/') + 1);
    assets.set(name, asset(name, Buffer.from(file.contents)));
    if (name.endsWith('.js')) script = name;
    if (name.endsWith('.css')) style = name;
  }
  return { assets, script, style };
}
