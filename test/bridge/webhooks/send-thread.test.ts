// Sending from a second thread (bridge/webhooks/send-thread.ts) against real servers: the
// same results and codes as sending on the main thread (send.ts), bodies that arrive as
// Buffers, and the split sender that keeps the first requests here and overflows the rest.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createSender, type SendOptions, type SendResult, type Sender } from '../../../bridge/webhooks/send.ts';
import { createSplitSender, createThreadSender } from '../../../bridge/webhooks/send-thread.ts';
import type { OutgoingRequest } from '../../../bridge/webhooks/render.ts';
import { freePort, hungServer } from '../../helpers/net.ts';
import { receiver, type Receiver } from '../../helpers/receiver.ts';

const options: SendOptions = { timeoutMs: 300, maxResponseBytes: 1024, connectionsPerOrigin: 8 };
let rx: Receiver;
const senders: Sender[] = [];

test.before(async () => {
  rx = await receiver();
  rx.on('/ok', (req, res) => res.end(`got ${req.body.toString()}`));
  rx.on('/missing', (_, res) => {
    res.statusCode = 404;
    res.end('no such thing');
  });
  rx.on('/big', (_, res) => res.end('x'.repeat(5000)));
  rx.on('/slow', (_, res) => setTimeout(() => res.end('late'), 50));
});
test.after(async () => {
  await Promise.all(senders.map((s) => s.close()));
  await rx.close();
});

function request(url: string, body?: string): OutgoingRequest {
  const u = new URL(url);
  const r: OutgoingRequest = { method: 'POST', url, origin: u.origin, path: u.pathname + u.search, headers: { 'content-type': 'text/plain' } };
  if (body !== undefined) r.body = body;
  return r;
}

/** What matters of a result, without timing-dependent text. */
function shape(r: SendResult) {
  return { ok: r.ok, code: r.ok ? null : r.failure.code, status: r.response?.status ?? null, body: r.response?.body.toString() ?? null, truncated: r.response?.truncated ?? null, isBuffer: r.response ? Buffer.isBuffer(r.response.body) : null };
}

test('the thread gives what the main thread gives: a success, an error status, a cut body, a refused connection, a timeout', async () => {
  const hung = await hungServer();
  const closed = await freePort();
  const here = createSender(options);
  const there = createThreadSender(options);
  senders.push(here, there);
  const requests = [
    request(`${rx.url}/ok`, 'hello'), request(`${rx.url}/missing`), request(`${rx.url}/big`),
    request(`http://127.0.0.1:${closed}/x`), request(`http://127.0.0.1:${hung.port}/x`),
  ];
  try {
    const expected = await Promise.all(requests.map((r) => here.send(r, true)));
    const got = await Promise.all(requests.map((r) => there.send(r, true)));
    assert.equal(got.map(shape), expected.map(shape));
    assert.equal(got.map((r) => (r.ok ? '' : r.failure.code)), ['', '404', '', 'ECONNREFUSED', 'ESOCKETTIMEDOUT']);
    assert.equal(shape(got[2]!).truncated, true);
  } finally {
    await hung.close();
  }
});

test('the split sender keeps the first requests on the main thread and overflows the rest: all answered, each its own', async () => {
  const split = createSplitSender(options, 2);
  senders.push(split);
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => split.send(request(`${rx.url}/ok`, `n${i}`), true)));
  assert.equal(results.map((r) => r.response?.body.toString()), Array.from({ length: 20 }, (_, i) => `got n${i}`));
  assert.ok(results.every((r) => r.ok && Buffer.isBuffer(r.response?.body)));
});

test('after close, a send fails with EINTERNAL instead of hanging', async () => {
  const there = createThreadSender(options);
  assert.ok((await there.send(request(`${rx.url}/slow`), true)).ok);
  await there.close();
  const after = await there.send(request(`${rx.url}/ok`), true);
  assert.is(after.ok ? '' : after.failure.code, 'EINTERNAL');
});

test.run();
