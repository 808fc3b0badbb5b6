// The sending thread's side of send-thread.ts: requests arrive in batches of
// [id, request, rejectUnauthorized]; each goes through the same sender as on the main thread
// (send.ts: undici, the body cap, failure codes, the egress policy), and results go back in
// batches of [id, result], one message per turn of this thread's event loop. The bridge's
// own API addresses come in workerData, and as a message when they are learnt later.

import { parentPort, workerData } from 'node:worker_threads';
import type { ListenAddress } from './egress.ts';
import type { OutgoingRequest } from './render.ts';
import { createSender, type SendOptions, type SendResult } from './send.ts';

export type SendBatch = [id: number, request: OutgoingRequest, rejectUnauthorized: boolean][];
export type ResultBatch = [id: number, result: SendResult][];
export interface WorkerData {
  options: SendOptions;
  ownApi: ListenAddress[];
}

const port = parentPort!;
const data = workerData as WorkerData;
const sender = createSender(data.options);
sender.addOwnApi(data.ownApi);
let results: ResultBatch = [];

function reply(id: number, result: SendResult): void {
  if (results.length === 0) setImmediate(() => {
    port.postMessage(results);
    results = [];
  });
  results.push([id, result]);
}

port.on('message', (message: SendBatch | 'close' | { ownApi: ListenAddress[] }) => {
  if (message === 'close') {
    void sender.close().then(() => port.close());
    return;
  }
  if (!Array.isArray(message)) {
    sender.addOwnApi(message.ownApi);
    return;
  }
  for (const [id, request, rejectUnauthorized] of message) {
    sender.send(request, rejectUnauthorized).then((result) => reply(id, result), (err: Error) => {
      reply(id, { ok: false, failure: { code: 'EINTERNAL', message: `internal error: ${err.message}` } });
    });
  }
});
