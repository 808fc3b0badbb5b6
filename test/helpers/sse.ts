// An event stream read as a plain HTTP client reads it: every byte kept, frames split as they
// arrive (Particle's framing: `event: <name>` and `data: <json>` lines, a blank line).

import { request, type ClientRequest } from 'node:http';

export interface SseFrame {
  name: string;
  /** The frame's two lines, exactly as sent. */
  text: string;
  data: { data: string; ttl: number; published_at: string; coreid: string };
}

export interface SseReader {
  status: number;
  /** Everything received so far. */
  text(): string;
  frames(): SseFrame[];
  /** Resolves once `check` holds, looking again at every chunk received. */
  until(check: () => boolean, what: string, ms?: number): Promise<void>;
  close(): void;
}

/** GET `url` as a stream; resolves once `:ok` arrived (the stream shows everything from then on). */
export function sse(url: string, token: string): Promise<SseReader> {
  return new Promise((resolve, reject) => {
    let req: ClientRequest | undefined = undefined;
    req = request(url, { headers: { authorization: `Bearer ${token}` } }, (res) => {
      const chunks: string[] = [];
      const frames: SseFrame[] = [];
      const waiters = new Set<() => void>();
      let pending = '';
      let opened = false;
      res.setEncoding('utf8');
      const reader: SseReader = {
        status: res.statusCode!,
        text: () => chunks.join(''),
        frames: () => frames,
        until(check, what, ms = 10_000) {
          if (check()) return Promise.resolve();
          return new Promise<void>((done, fail) => {
            const timer = setTimeout(() => {
              waiters.delete(look);
              fail(new Error(`timed out waiting for ${what}; frames: ${frames.map((f) => f.name).join(', ')}`));
            }, ms);
            const look = () => {
              if (!check()) return;
              clearTimeout(timer);
              waiters.delete(look);
              done();
            };
            waiters.add(look);
          });
        },
        close: () => req!.destroy(),
      };
      if (res.statusCode !== 200) return resolve(reader);
      res.on('data', (chunk: string) => {
        chunks.push(chunk);
        const blocks = (pending + chunk).split('\n\n');
        pending = blocks.pop()!;
        for (const block of blocks) {
          if (block === ':ok' && !opened) {
            opened = true;
            resolve(reader);
          }
          if (block.startsWith(':')) continue;
          const m = /^event: (.*)\ndata: (.*)$/.exec(block);
          if (!m) throw new Error(`not a Particle frame: ${JSON.stringify(block)}`);
          frames.push({ name: m[1]!, text: block, data: JSON.parse(m[2]!) });
        }
        for (const w of [...waiters]) w();
      });
      res.on('error', () => {});
    });
    req.on('error', (err) => {
      if (!req!.destroyed) reject(err);
    });
    req.end();
  });
}
