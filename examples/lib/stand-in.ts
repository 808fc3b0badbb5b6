// A tiny HTTP server for the examples' stand-ins: each one answers like the real service it
// replaces, and reports every exchange so the transcript can show what the bridge sent.

import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StandInRequest {
  method: string;
  /** Path and query, exactly as sent. */
  url: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface StandInResponse {
  status: number;
  /** Content-Type of the answer. */
  type: 'text/plain' | 'application/json';
  body: string;
}

export type Exchange = (req: StandInRequest, res: StandInResponse) => void;

export interface StandIn {
  /** Origin to send requests to, e.g. http://127.0.0.1:40001. */
  url: string;
  close(): Promise<void>;
}

/** Listen on 127.0.0.1, a port the OS picks; `answer` decides every response. */
export async function serve(answer: (req: StandInRequest) => StandInResponse, onExchange?: Exchange): Promise<StandIn> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://stand-in');
      const request: StandInRequest = {
        method: req.method ?? 'GET', url: req.url ?? '/', path: url.pathname, query: url.searchParams,
        headers: req.headers, body: Buffer.concat(chunks).toString('utf8'),
      };
      let response: StandInResponse;
      try {
        response = answer(request);
      } catch (err) {
        response = { status: 500, type: 'text/plain', body: `stand-in error: ${(err as Error).message}` };
      }
      onExchange?.(request, response);
      res.writeHead(response.status, { 'content-type': `${response.type}; charset=utf-8` }).end(response.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => {
      // The bridge keeps connections alive for reuse: end them, or close() would wait for them.
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
