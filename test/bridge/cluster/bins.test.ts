// Request bins on bridges sharing a PostgreSQL store and a Redis: a request captured by one
// bridge is seen through every other's API, a long-poll on one is woken by a capture on
// another, an answer set on one is given by all, clearing on one clears everywhere, and the
// bounds hold across the bridges.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { sleep } from '../../helpers/mqtt.ts';
import { CLUSTER_INSTALL, clusterAvailable, startCluster, type TestCluster } from '../../helpers/cluster.ts';
import type { TestBridge } from '../../helpers/bridge.ts';

if (!clusterAvailable) {
  test(`redis-server and PostgreSQL not installed: skipped (${CLUSTER_INSTALL})`, () => {});
} else {
  let cluster: TestCluster;
  let a: TestBridge;
  let b: TestBridge;
  test.before(async () => {
    cluster = await startCluster(2);
    [a, b] = cluster.bridges as [TestBridge, TestBridge];
  });
  test.after(async () => { await cluster?.stop(); });

  /** Send to a bin on a bridge's own address, as an outside service (or a webhook) would. */
  const send = (on: TestBridge, path: string, init: RequestInit = {}) => fetch(on.url + path, { method: 'POST', ...init });

  test('a request captured by B is seen, byte for byte, through A; the list and IDs are the same on both', async () => {
    const binary = Buffer.from([0x00, 0xff, 0xd9, 0x80, 0x0a]);
    const r = await send(b, '/bin/shared/orders?x=1', { headers: { 'content-type': 'application/octet-stream', 'x-from': 'b' }, body: binary });
    assert.is(r.status, 200);
    await send(a, '/bin/shared', { body: 'from a' });
    const onA = (await a.call('GET', '/v1/bins/shared')).body;
    const onB = (await b.call('GET', '/v1/bins/shared')).body;
    assert.equal(onA.requests, onB.requests);
    assert.equal([onA.count, onA.total], [2, 2]);
    const [first, second] = onA.requests;
    assert.equal([first.path, first.query, first.headers['x-from'], first.body_encoding], ['/bin/shared/orders', { x: '1' }, 'b', 'base64']);
    assert.ok(Buffer.from(first.body, 'base64').equals(binary));
    assert.is(second.body, 'from a');
    assert.ok(first.id < second.id, 'IDs increase across the bridges');
    assert.is(onA.last_id, second.id);
    assert.ok(onA.url.startsWith(a.url), 'each bridge gives its own capture URL');
    const listA = (await a.call('GET', '/v1/bins')).body;
    const listB = (await b.call('GET', '/v1/bins')).body;
    assert.equal(listA.map((x: { name: string; count: number }) => [x.name, x.count]), listB.map((x: { name: string; count: number }) => [x.name, x.count]));
    assert.ok(listA.some((x: { name: string }) => x.name === 'shared'));
  });

  test('a long-poll on A is woken by a capture on B, even one on a bin that did not exist yet', async () => {
    for (const name of ['polled', 'not-yet']) {
      const before = (await a.call('GET', `/v1/bins/${name}?wait=0.01`)).body.last_id;
      const poll = a.call('GET', `/v1/bins/${name}?after=${before}&wait=25`);
      await sleep(300); // the poll is waiting now (were it not, its answer would hold the request all the same)
      await send(b, `/bin/${name}`, { body: `hello ${name}` });
      // Woken, not answered at the end of its 25 s wait.
      const answer = await Promise.race([poll, sleep(15_000).then(() => undefined)]);
      assert.ok(answer, `the long-poll on ${name} was not woken by the capture on the other bridge`);
      assert.is(answer.status, 200);
      assert.equal(answer.body.requests.map((r: { body: string }) => r.body), [`hello ${name}`]);
    }
  });

  test('an answer set on A is what B answers with; clearing on A clears on B and keeps the answer', async () => {
    const set = await a.call('PUT', '/v1/bins/answer', { status: 503, body: 'down for maintenance', headers: { 'Retry-After': '120' } });
    assert.is(set.status, 200);
    const r = await send(b, '/bin/answer', { body: 'x' });
    assert.equal([r.status, r.headers.get('retry-after'), await r.text()], [503, '120', 'down for maintenance']);
    assert.is((await b.call('GET', '/v1/bins/answer')).body.count, 1);

    assert.equal((await a.call('DELETE', '/v1/bins/answer')).body, { ok: true });
    const after = (await b.call('GET', '/v1/bins/answer')).body;
    assert.equal([after.count, after.total, after.requests, after.response.status], [0, 1, [], 503]);
    assert.is((await send(b, '/bin/answer')).status, 503, 'the answer stays');
    assert.is((await a.call('DELETE', '/v1/bins/gone')).status, 404);
    assert.is((await b.call('GET', '/v1/bins/gone')).body.code, 'BIN_NOT_FOUND');
  });

  test('the bounds hold across the bridges: 100 requests per bin, 100 bins', async () => {
    for (let i = 1; i <= 105; i++) {
      const r = await send(i % 2 ? a : b, '/bin/many', { body: String(i) });
      assert.is(r.status, 200);
    }
    const many = (await b.call('GET', '/v1/bins/many')).body;
    assert.equal([many.count, many.total], [100, 105]);
    assert.equal(many.requests.map((r: { body: string }) => r.body).slice(0, 2), ['6', '7'], 'the oldest were dropped');

    const existing = (await a.call('GET', '/v1/bins')).body.length;
    for (let i = existing; i < 100; i++) assert.is((await send(i % 2 ? a : b, `/bin/fill-${i}`)).status, 200);
    // Full: the capture URL makes no bin on either bridge; a PUT with a token pushes the least recently used out.
    assert.is((await send(a, '/bin/one-too-many')).status, 404);
    assert.is((await send(b, '/bin/one-too-many')).status, 404);
    const oldest = (await b.call('GET', '/v1/bins')).body.at(-1).name;
    assert.is((await a.call('PUT', '/v1/bins/one-too-many', {})).status, 200);
    const names = (await b.call('GET', '/v1/bins')).body.map((x: { name: string }) => x.name);
    assert.equal([names.length, names[0], names.includes(oldest)], [100, 'one-too-many', false]);
  });
}

test.run();
