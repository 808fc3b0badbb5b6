// Every API response says what it is and that nothing may keep it: X-Content-Type-Options:
// nosniff and Cache-Control: no-store, on JSON, errors, metrics and event streams alike.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { request } from 'undici';
import { testBridge, type TestBridge } from '../../helpers/bridge.ts';

let b: TestBridge;
test.before(async () => {
  b = await testBridge();
});
test.after(async () => {
  await b?.stop();
});

test('nosniff and no-store on every kind of response', async () => {
  const auth = { authorization: `Bearer ${b.token}` };
  for (const [path, headers] of [['/v1/devices', auth], ['/v1/devices', {}], ['/metrics', auth], ['/no/such/route', auth], ['/health', {}]] as const) {
    const res = await request(`${b.url}${path}`, { headers });
    await res.body.dump();
    assert.is(res.headers['x-content-type-options'], 'nosniff', path);
    assert.is(res.headers['cache-control'], 'no-store', path);
  }
  const stream = await request(`${b.url}/v1/events`, { headers: auth });
  assert.equal([stream.headers['x-content-type-options'], stream.headers['cache-control']], ['nosniff', 'no-store']);
  stream.body.destroy();
});

test.run();
