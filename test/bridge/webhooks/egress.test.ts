// The egress policy (bridge/webhooks/egress.ts): its rules in memory, then the sender
// (send.ts) against a real receiver on 127.0.0.1 with 127.0.0.0/8 denied, reached by every
// spelling of that address, by a name, and by a name that rebinds between two connections.
// The check is on the address connected to, so every spelling fails with EGRESS_DENIED and
// the receiver never sees a request.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { LookupAddress } from 'node:dns';
import { EgressPolicy, EgressRuleError, parseRangeList, type Resolve } from '../../../bridge/webhooks/egress.ts';
import { createSender, type SendResult, type Sender } from '../../../bridge/webhooks/send.ts';
import { createThreadSender } from '../../../bridge/webhooks/send-thread.ts';
import type { OutgoingRequest } from '../../../bridge/webhooks/render.ts';
import { receiver, type Receiver } from '../../helpers/receiver.ts';

let rx: Receiver;
const senders: Sender[] = [];

test.before(async () => {
  rx = await receiver();
  rx.on('/close', (_req, res) => {
    res.setHeader('connection', 'close'); // the next request needs a new connection, and a new lookup
    res.end('first');
  });
});
test.after(async () => {
  await Promise.all(senders.map((s) => s.close()));
  await rx.close();
});

function get(url: string): OutgoingRequest {
  const u = new URL(url);
  return { method: 'GET', url: u.href, origin: u.origin, path: u.pathname + u.search, headers: {} };
}

const code = (r: SendResult) => (r.ok ? `${r.response.status}` : r.failure.code);

test('built-in denies: link-local, cloud metadata, unspecified; private ranges and loopback are allowed', () => {
  const p = new EgressPolicy();
  assert.is(p.refusal('169.254.169.254'), 'cloud metadata');
  assert.is(p.refusal('fd00:ec2::254'), 'cloud metadata');
  assert.is(p.refusal('100.100.100.200'), 'cloud metadata');
  assert.is(p.refusal('169.254.10.1'), 'link-local');
  assert.is(p.refusal('fe80::1'), 'link-local');
  assert.is(p.refusal('0.0.0.0'), 'unspecified address');
  assert.is(p.refusal('::ffff:169.254.169.254'), 'cloud metadata', 'an IPv4-mapped IPv6 address');
  assert.is(p.refusal('64:ff9b::a9fe:a9fe'), 'cloud metadata', 'NAT64 of 169.254.169.254');
  for (const ok of ['10.1.2.3', '192.168.1.20', '172.16.0.1', '127.0.0.1', '::1', '93.184.216.34', '2606:4700::1111']) {
    assert.is(p.refusal(ok), undefined, ok);
  }
});

test('HOOKWIRE_EGRESS_DENY adds ranges (CIDRs, addresses, private and loopback); ALLOW makes holes in them', () => {
  const p = new EgressPolicy({ deny: ['private', 'loopback', '203.0.113.7'], allow: ['10.9.0.0/16'] });
  assert.is(p.refusal('10.1.2.3'), 'HOOKWIRE_EGRESS_DENY');
  assert.is(p.refusal('192.168.1.1'), 'HOOKWIRE_EGRESS_DENY');
  assert.is(p.refusal('fd12::1'), 'HOOKWIRE_EGRESS_DENY');
  assert.is(p.refusal('127.0.0.2'), 'HOOKWIRE_EGRESS_DENY');
  assert.is(p.refusal('::ffff:127.0.0.1'), 'HOOKWIRE_EGRESS_DENY');
  assert.is(p.refusal('203.0.113.7'), 'HOOKWIRE_EGRESS_DENY');
  assert.is(p.refusal('10.9.4.4'), undefined, 'allowed explicitly');
  assert.is(p.refusal('8.8.8.8'), undefined);
});

test('a built-in deny is lifted only by an ALLOW entry inside it: 0.0.0.0/0 never opens the metadata service', () => {
  const broad = new EgressPolicy({ deny: [], allow: ['0.0.0.0/0', '::/0'] });
  assert.is(broad.refusal('169.254.169.254'), 'cloud metadata');
  assert.is(broad.refusal('fe80::1'), 'link-local');
  const linkLocal = new EgressPolicy({ deny: [], allow: ['169.254.0.0/16'] });
  assert.is(linkLocal.refusal('169.254.10.1'), undefined, 'link-local named explicitly');
  assert.is(linkLocal.refusal('169.254.169.254'), 'cloud metadata', 'the metadata address is its own rule');
  const metadata = new EgressPolicy({ deny: [], allow: ['169.254.169.254/32'] });
  assert.is(metadata.refusal('169.254.169.254'), undefined);
});

test('the bridge\'s own API: refused on its port and addresses, except request-bin paths; a wildcard listener covers loopback', () => {
  const p = new EgressPolicy();
  p.addOwnApi([{ address: '127.0.0.1', port: 8080 }, { address: '::', port: 9090 }]);
  assert.is(p.refusal('127.0.0.1', 8080), "the bridge's own API");
  assert.is(p.refusal('::ffff:127.0.0.1', 8080), "the bridge's own API");
  assert.is(p.refusal('127.0.0.1', 8080, true), undefined, 'a request-bin path');
  assert.is(p.refusal('127.0.0.1', 8081), undefined, 'another port');
  assert.is(p.refusal('127.0.0.5', 9090), "the bridge's own API");
  assert.is(p.refusal('::1', 9090), "the bridge's own API");
});

test('lists: bad entries are named; blanks and spaces are ignored', () => {
  assert.equal(parseRangeList(' 10.0.0.0/8 , ,::1').map((r) => `${r.address}/${r.prefix}`), ['10.0.0.0/8', '::1/128']);
  for (const bad of ['10.0.0.0/33', 'example.com', '10.0.0.0/x', 'fe80::/129']) {
    assert.throws(() => parseRangeList(`1.2.3.4,${bad}`), (err: unknown) => err instanceof EgressRuleError && err.entry === bad, bad);
  }
});

test('every spelling of a denied address fails with EGRESS_DENIED, and nothing reaches it', async () => {
  const sender = createSender({ timeoutMs: 2000, maxResponseBytes: 1024, connectionsPerOrigin: 2, egress: { deny: ['127.0.0.0/8'], allow: [] } });
  senders.push(sender);
  const before = rx.requests.length;
  const spellings = [`127.0.0.1:${rx.port}`, `2130706433:${rx.port}`, `0x7f000001:${rx.port}`, `0177.0.0.1:${rx.port}`, `127.1:${rx.port}`, `[::ffff:127.0.0.1]:${rx.port}`, `localhost:${rx.port}`];
  for (const spelling of spellings) {
    const r = await sender.send(get(`http://${spelling}/x`), true);
    assert.is(code(r), 'EGRESS_DENIED', spelling);
    assert.match(!r.ok ? r.failure.message : '', /HOOKWIRE_EGRESS_DENY/);
  }
  assert.is(rx.requests.length, before, 'no request reached the receiver');
});

test('by default loopback is allowed (a self-hosted bridge calls its own machine and LAN)', async () => {
  const sender = createSender({ timeoutMs: 2000, maxResponseBytes: 1024, connectionsPerOrigin: 2 });
  senders.push(sender);
  assert.is(code(await sender.send(get(`http://localhost:${rx.port}/ok`), true)), '200');
  assert.is(code(await sender.send(get(`http://[::ffff:127.0.0.1]:${rx.port}/ok`), true)), '200');
});

test('a cloud metadata address fails at once, without a connection (not after the timeout)', async () => {
  const sender = createSender({ timeoutMs: 20_000, maxResponseBytes: 1024, connectionsPerOrigin: 2 });
  senders.push(sender);
  const started = performance.now();
  const r = await sender.send(get('http://169.254.169.254/latest/meta-data/iam/security-credentials/'), true);
  assert.is(code(r), 'EGRESS_DENIED');
  assert.ok(performance.now() - started < 10_000, 'it waited for a connection');
  assert.is(code(await sender.send(get('http://[fd00:ec2::254]/latest/'), true)), 'EGRESS_DENIED');
});

test('DNS rebinding: a name checked on every connection, so the second answer (metadata) is refused', async () => {
  const answers: LookupAddress[][] = [[{ address: '127.0.0.1', family: 4 }], [{ address: '169.254.169.254', family: 4 }]];
  const lookups: string[] = [];
  const resolve: Resolve = (hostname, _options, callback) => {
    lookups.push(hostname);
    callback(null, answers[Math.min(lookups.length - 1, answers.length - 1)]!);
  };
  const sender = createSender({ timeoutMs: 2000, maxResponseBytes: 1024, connectionsPerOrigin: 1 }, { resolve });
  senders.push(sender);
  const url = `http://rebind.test:${rx.port}/close`;
  assert.is(code(await sender.send(get(url), true)), '200', 'the first answer is allowed');
  assert.is(code(await sender.send(get(url), true)), 'EGRESS_DENIED', 'the second connection resolves to the metadata address');
  assert.is(lookups.length, 2);
});

test('a name with allowed and denied addresses connects only to the allowed ones', async () => {
  const resolve: Resolve = (_hostname, _options, callback) => callback(null, [{ address: '169.254.169.254', family: 4 }, { address: '127.0.0.1', family: 4 }]);
  const sender = createSender({ timeoutMs: 2000, maxResponseBytes: 1024, connectionsPerOrigin: 1 }, { resolve });
  senders.push(sender);
  assert.is(code(await sender.send(get(`http://mixed.test:${rx.port}/ok`), true)), '200');
});

test('the sending thread applies the same policy, and learns the bridge\'s own API after it started', async () => {
  const there = createThreadSender({ timeoutMs: 2000, maxResponseBytes: 1024, connectionsPerOrigin: 2, egress: { deny: ['169.254.0.0/16'], allow: [] } });
  senders.push(there);
  // /close ends its connection: the next request opens a new one, which the policy checks.
  assert.is(code(await there.send(get(`${rx.url}/close`), true)), '200', 'the worker is up, the receiver allowed');
  assert.is(code(await there.send(get('http://169.254.1.1/'), true)), 'EGRESS_DENIED');
  there.addOwnApi([{ address: '127.0.0.1', port: rx.port }]);
  assert.is(code(await there.send(get(`http://127.0.0.1:${rx.port}/other`), true)), 'EGRESS_DENIED', 'a new connection to the "own API" is refused');
  assert.is(code(await there.send(get(`http://127.0.0.1:${rx.port}/bin/here`), true)), '200', 'request-bin paths are not');
});

test.run();
