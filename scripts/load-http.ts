// The raw HTTP ceiling of scripts/bench.ts: the webhook receiver driven directly by undici,
// in its own process, with the request the bridge sends (same method, headers and body) and
// the bridge's connection count per origin, a bounded number of requests in flight.
//
//   started by scripts/bench.ts: npx tsx scripts/load-http.ts --options '<LoadHttpOptions JSON>'
//
// Over IPC (scripts/lib/ipc.ts): `start`, `stats` → LoadHttpStats, `stop` → LoadHttpStats
// once the requests in flight are done.

import { parseArgs } from 'node:util';
import { Pool, type Dispatcher } from 'undici';
import { serve } from './lib/ipc.ts';

export interface LoadHttpOptions {
  /** The request, as bridge/webhooks/render.ts renders it. */
  request: { method: Dispatcher.HttpMethod; url: string; headers: Record<string, string>; body?: string };
  /** Connections to the origin: the bridge's connectionsPerOrigin. */
  connections: number;
  /** Requests in flight (sent, response not read yet); more than `connections` queue in the pool. */
  inflight: number;
}

export interface LoadHttpStats {
  /** Responses read to the end. */
  done: number;
  /** Of which not 2xx. */
  non2xx: number;
  errors: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { options: { type: 'string' } }, strict: true });
  const options = JSON.parse(values.options ?? '') as LoadHttpOptions;
  const url = new URL(options.request.url);
  // The bridge's Agent settings for this origin (bridge/webhooks/send.ts).
  const pool = new Pool(url.origin, {
    connections: options.connections,
    headersTimeout: 20_000,
    bodyTimeout: 20_000,
    keepAliveTimeout: 30_000,
  });
  const request: Dispatcher.RequestOptions = {
    path: url.pathname + url.search,
    method: options.request.method,
    headers: options.request.headers,
    body: options.request.body,
  };
  const stats: LoadHttpStats = { done: 0, non2xx: 0, errors: 0 };
  let running = false;
  let inflight = 0;
  let idle: (() => void) | undefined;

  /** Read the body as the bridge does (bridge/webhooks/send.ts: chunks, then one Buffer). */
  async function one(): Promise<void> {
    const res = await pool.request(request);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      size += chunk.length;
    }
    Buffer.concat(chunks, size);
    if (res.statusCode < 200 || res.statusCode >= 300) stats.non2xx++;
  }

  function settled(err?: unknown): void {
    inflight--;
    if (err) stats.errors++;
    else stats.done++;
    pump();
    if (inflight === 0) idle?.();
  }

  function pump(): void {
    while (running && inflight < options.inflight) {
      inflight++;
      one().then(() => settled(), settled);
    }
  }

  serve({
    start: () => {
      running = true;
      pump();
    },
    stats: () => ({ ...stats }),
    stop: async () => {
      running = false;
      if (inflight > 0) await new Promise<void>((resolve) => (idle = resolve));
      await pool.close();
      return { ...stats };
    },
  });
  console.log(JSON.stringify({ ready: true, origin: url.origin }));
}

await main();
