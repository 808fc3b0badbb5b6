// The sender's one deadline per attempt (bridge/webhooks/send.ts), against real servers: a
// target that trickles its body, or never finishes its headers, fails at the deadline with
// ESOCKETTIMEDOUT however it paces its bytes; one that answers in time is unaffected.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createSender, type SendResult, type Sender } from '../../../bridge/webhooks/send.ts';
import type { OutgoingRequest } from '../../../bridge/webhooks/render.ts';

const TIMEOUT_MS = 1000;
let sender: Sender;
const servers: Server[] = [];
const sockets = new Set<Socket>();

test.before(() => {
  sender = createSender({ timeoutMs: TIMEOUT_MS, maxResponseBytes: 100 * 1024, connectionsPerOrigin: 4 });
});
test.after(async () => {
  await sender.close();
  for (const s of sockets) s.destroy();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

/** A raw TCP target: writes `head` on each request, then one byte of `body` every `everyMs`. */
async function trickler(head: string, body: string, everyMs: number): Promise<number> {
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {}); // the sender cuts it off at the deadline
    socket.once('data', () => {
      socket.write(head);
      let i = 0;
      const timer = setInterval(() => {
        if (i >= body.length || socket.destroyed) return clearInterval(timer);
        socket.write(body[i++]!);
      }, everyMs);
      socket.on('close', () => clearInterval(timer));
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

function get(port: number): OutgoingRequest {
  return { method: 'GET', url: `http://127.0.0.1:${port}/`, origin: `http://127.0.0.1:${port}`, path: '/', headers: {} };
}

/** The result, or 'unfinished' when it takes longer than `ms` (the target would have held it that long). */
async function within(p: Promise<SendResult>, ms: number): Promise<SendResult | 'unfinished'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'unfinished'>((r) => { timer = setTimeout(() => r('unfinished'), ms); });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

test('a body announced as 1000 bytes and sent a byte every 100 ms fails at the deadline: ESOCKETTIMEDOUT', async () => {
  const port = await trickler('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n', 'x'.repeat(1000), 100);
  const result = await within(sender.send(get(port), true), 10 * TIMEOUT_MS); // sent whole, it would take 100 s
  assert.ok(result !== 'unfinished', 'the attempt did not end at its deadline');
  assert.is(result.ok, false);
  assert.is(!result.ok && result.failure.code, 'ESOCKETTIMEDOUT');
});

test('a chunked body that trickles fails at the deadline too', async () => {
  const chunks = Array.from({ length: 100 }, () => '1\r\nx\r\n').join('');
  const port = await trickler('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', chunks, 20);
  const result = await within(sender.send(get(port), true), 10 * TIMEOUT_MS);
  assert.ok(result !== 'unfinished', 'the attempt did not end at its deadline');
  assert.is(!result.ok && result.failure.code, 'ESOCKETTIMEDOUT');
});

test('headers sent a byte at a time fail at the deadline', async () => {
  const port = await trickler('', `HTTP/1.1 200 OK\r\nX-Padding: ${'p'.repeat(200)}\r\nContent-Length: 0\r\n\r\n`, 50);
  const result = await within(sender.send(get(port), true), 10 * TIMEOUT_MS);
  assert.ok(result !== 'unfinished', 'the attempt did not end at its deadline');
  assert.is(!result.ok && result.failure.code, 'ESOCKETTIMEDOUT');
});

test('a response that finishes in time is whole', async () => {
  const port = await trickler('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n', 'hello', 10);
  const result = await within(sender.send(get(port), true), 10 * TIMEOUT_MS);
  assert.ok(result !== 'unfinished');
  assert.is(result.ok, true);
  assert.is(result.response?.body.toString(), 'hello');
});

test.run();
