// The webhook receiver of scripts/bench.ts: a minimal node:http server that answers every
// request 200 and counts them. The same process serves the bridge (end to end) and undici
// driven directly (the raw HTTP ceiling), so both face the same server.
//
//   npx tsx scripts/receiver.ts [--record] [--host 127.0.0.1] [--port 0]
//
// Prints `{"port": N}` once listening (port 0, the default: a free port; a given port, e.g.
// one the bridge has been failing to reach, to see when its deliveries resume). Plain mode reads and drops the
// body and answers `ok`. With --record, the body is the bridge's JSON with the publish time
// `t` (process.hrtime.bigint() of the publishing process, in ns, as a decimal string) and an
// ID `i`: the receiver keeps (i, arrival − t) and answers with `i`, so the device that gets
// the hook-response knows which of its publishes it answers. hrtime reads CLOCK_MONOTONIC,
// one clock for every process on the machine, so the difference is a latency.
//
// Over IPC (scripts/lib/ipc.ts): `stats` → {requests, bad, firstNs}; `samples` → {ids, latencyNs};
// `record` (true or false) switches record mode on or off and forgets the samples and bad
// bodies so far (the bench's --compare: one receiver for throughput and latency windows of two
// bridges, whose devices' IDs overlap).
// Exits when the bench goes away.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { serve } from './lib/ipc.ts';

const { values } = parseArgs({
  options: {
    record: { type: 'boolean', default: false },
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '0' },
  },
  strict: true,
});

let requests = 0;
/** When the first request arrived: process.hrtime.bigint() (CLOCK_MONOTONIC), as a decimal string. */
let firstNs: string | null = null;
/** Bodies that were not the bench's JSON (record mode). */
let bad = 0;
const ids: number[] = [];
const latencyNs: number[] = [];

function plain(req: IncomingMessage, res: ServerResponse): void {
  req.resume();
  req.on('end', () => res.end('ok'));
}

function recording(req: IncomingMessage, res: ServerResponse): void {
  const arrival = process.hrtime.bigint(); // headers parsed: the request is here
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    let id = -1;
    try {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { t?: unknown; i?: unknown };
      const t = BigInt(String(body.t));
      id = Number(body.i);
      if (!Number.isInteger(id)) throw new Error('no id');
      ids.push(id);
      latencyNs.push(Number(arrival - t));
    } catch {
      bad++;
      id = -1;
    }
    res.end(String(id));
  });
}

let handle = values.record ? recording : plain;
const server = createServer((req, res) => {
  if (requests++ === 0) firstNs = String(process.hrtime.bigint());
  handle(req, res);
});
// Keep-alive longer than any run: a reconnect mid-window is not what is measured.
server.keepAliveTimeout = 120_000;

serve({
  stats: () => ({ requests, bad, firstNs }),
  samples: () => ({ ids, latencyNs }),
  record: (on) => {
    handle = on === true ? recording : plain;
    ids.length = 0;
    latencyNs.length = 0;
    bad = 0;
  },
});

server.listen(Number(values.port), values.host, () => {
  console.log(JSON.stringify({ port: (server.address() as AddressInfo).port, record: values.record }));
});
