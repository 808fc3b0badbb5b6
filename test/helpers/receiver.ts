// A real HTTP server standing in for a webhook target: it keeps every request byte for byte
// and answers as each test tells it to.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface Captured {
  method: string;
  /** Path and query, exactly as sent. */
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
  at: number;
}

export type Handler = (req: Captured, res: ServerResponse) => void;

export interface Receiver {
  url: string;
  port: number;
  requests: Captured[];
  /** Answer requests to `prefix` (or below it) with `handler` (default: 200, empty body). */
  on(prefix: string, handler: Handler): void;
  /** The first request (already received or to come) to `prefix` or below it. */
  next(prefix: string, ms?: number): Promise<Captured>;
  close(): Promise<void>;
}

/** A receiver on `host`:`port` (default 127.0.0.1, any free port). */
export async function receiver(port = 0, host = '127.0.0.1'): Promise<Receiver> {
  const requests: Captured[] = [];
  const handlers: [string, Handler][] = [];
  const waiters: { prefix: string; resolve: (c: Captured) => void }[] = [];
  const sockets = new Set<Socket>();
  const pathOf = (url: string) => url.split('?')[0]!;
  /** `/a` matches `/a` and `/a/b`, never `/ab`. */
  const under = (url: string, prefix: string) => {
    const path = pathOf(url);
    return path === prefix || path.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`);
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const captured: Captured = { method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks), at: performance.now() };
      requests.push(captured);
      for (const w of [...waiters]) if (under(captured.url, w.prefix)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(captured);
      }
      const handler = handlers.find(([p]) => under(captured.url, p))?.[1];
      if (handler) handler(captured, res);
      else res.end();
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  const bound = (server.address() as AddressInfo).port;

  return {
    url: `http://${host}:${bound}`,
    port: bound,
    requests,
    on: (prefix, handler) => void handlers.unshift([prefix, handler]),
    next(prefix, ms = 5000) {
      const seen = requests.find((r) => under(r.url, prefix));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no request to ${prefix}`)), ms);
        waiters.push({ prefix, resolve: (c) => { clearTimeout(timer); resolve(c); } });
      });
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
