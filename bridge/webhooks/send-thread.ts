// Sending on the second core. The sender (send.ts) runs in a worker thread: undici's HTTP
// parsing, the sockets' reads and writes and the response bodies cost the main thread
// nothing but one message each way per batch. Same interface, same results, same codes as
// createSender: the pipeline does not know which one it has.
//
// Requests are posted once per microtask checkpoint (a lane starting many attempts posts
// them together); results come back once per turn of the worker's loop. Should the worker
// die, what was in flight fails with EINTERNAL (the deliveries are retried) and a new worker
// takes the next requests. The egress policy travels as data (SendOptions.egress); the
// bridge's own API addresses, known only once it listens, follow as a message.

import { Worker } from 'node:worker_threads';
import type { OutgoingRequest } from './render.ts';
import type { ListenAddress } from './egress.ts';
import { createSender, type HttpResponse, type SendOptions, type SendResult, type Sender } from './send.ts';
import type { ResultBatch, SendBatch, WorkerData } from './send-worker.ts';

export function createThreadSender(options: SendOptions): Sender {
  let worker: Worker | undefined;
  const waiting = new Map<number, (result: SendResult) => void>();
  let nextId = 0;
  let batch: SendBatch = [];
  let closing = false;
  const ownApi: ListenAddress[] = [];

  function start(): Worker {
    const workerData: WorkerData = { options, ownApi };
    const w = new Worker(new URL('./send-worker.js', import.meta.url), { workerData });
    w.unref(); // the bridge's servers keep the process alive, not this thread
    w.on('message', (results: ResultBatch) => {
      for (const [id, result] of results) {
        const resolve = waiting.get(id);
        waiting.delete(id);
        resolve?.(withBuffer(result));
      }
    });
    const lost = (why: string) => {
      if (worker !== w) return;
      worker = undefined;
      for (const resolve of waiting.values()) resolve({ ok: false, failure: { code: 'EINTERNAL', message: `internal error: the sending thread ${why}` } });
      waiting.clear();
    };
    w.on('error', (err) => lost(`failed: ${err.message}`));
    w.on('exit', (code) => lost(`exited (${code})`));
    return w;
  }

  function flush(): void {
    const out = batch;
    batch = [];
    (worker ??= start()).postMessage(out);
  }

  return {
    send(request: OutgoingRequest, rejectUnauthorized: boolean): Promise<SendResult> {
      if (closing) return Promise.resolve({ ok: false, failure: { code: 'EINTERNAL', message: 'internal error: the bridge is stopping' } });
      return new Promise((resolve) => {
        const id = nextId++;
        waiting.set(id, resolve);
        if (batch.length === 0) queueMicrotask(flush);
        batch.push([id, request, rejectUnauthorized]);
      });
    },
    addOwnApi(listening) {
      ownApi.push(...listening);
      worker?.postMessage({ ownApi: listening });
    },
    async close() {
      closing = true;
      const w = worker;
      if (!w) return;
      await new Promise<void>((resolve) => {
        w.once('exit', () => resolve());
        w.postMessage('close');
        // A worker that does not finish closing in time is stopped.
        setTimeout(() => void w.terminate(), 2000).unref();
      });
    },
  };
}

/** A body crosses threads as a Uint8Array: make it a Buffer again (no copy). */
function withBuffer(result: SendResult): SendResult {
  const r = result.response;
  if (r && !Buffer.isBuffer(r.body)) {
    const u8 = r.body as Uint8Array;
    (r as HttpResponse).body = Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
  }
  return result;
}

/**
 * Send on the main thread while it is lightly loaded (no hop between threads, the lowest
 * latency), and overflow to the sending thread under load (the second core): up to
 * `mainInFlight` requests at once stay here, the rest go there.
 */
export function createSplitSender(options: SendOptions, mainInFlight: number): Sender {
  const here = createSender(options);
  const there = createThreadSender(options);
  let inFlight = 0;
  return {
    async send(request, rejectUnauthorized) {
      if (inFlight >= mainInFlight) return there.send(request, rejectUnauthorized);
      inFlight++;
      try {
        return await here.send(request, rejectUnauthorized);
      } finally {
        inFlight--;
      }
    },
    addOwnApi(listening) {
      here.addOwnApi(listening);
      there.addOwnApi(listening);
    },
    async close() {
      await Promise.all([here.close(), there.close()]);
    },
  };
}
