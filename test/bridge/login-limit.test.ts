// The login limiter (bridge/login-limit.ts) in memory: the local limit, and counting with other
// bridges through a share: the failure that reaches the limit over all of them is announced
// once, `block` refuses an address at once, and a share that fails leaves the local limit.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createLoginLimiter, type LoginLimitShare } from '../../bridge/login-limit.ts';
import { quietLogger } from '../helpers/store.ts';
import { until } from '../helpers/bridge.ts';

const options = { maxFailures: 3, windowMs: 60_000, blockMs: 60_000 };

/** A share whose count is what every limiter on it added (as Redis holds it), announcing to all of them. */
function shared() {
  const counts = new Map<string, number>();
  const announced: string[] = [];
  const limiters = [createLoginLimiter(quietLogger(), options), createLoginLimiter(quietLogger(), options), createLoginLimiter(quietLogger(), options)];
  const share: LoginLimitShare = {
    async count(address) {
      const n = (counts.get(address) ?? 0) + 1;
      counts.set(address, n);
      return n;
    },
    announce(address) {
      announced.push(address);
      for (const l of limiters) l.block(address);
    },
  };
  for (const l of limiters) l.share(share);
  return { limiters, announced };
}

test('alone: the limit-th wrong token refuses the address, and only it', () => {
  const l = createLoginLimiter(quietLogger(), options);
  for (let i = 0; i < 2; i++) l.failed('10.0.0.1', 'mqtt');
  assert.not.ok(l.blocked('10.0.0.1', 'mqtt'));
  l.failed('10.0.0.1', 'http');
  assert.ok(l.blocked('10.0.0.1', 'http'));
  assert.not.ok(l.blocked('10.0.0.2', 'http'));
  assert.equal([l.failures, l.refusals], [{ mqtt: 2, http: 1 }, { mqtt: 0, http: 1 }]);
});

test('shared: failures spread over limiters count together; the limit is announced once and refused by all', async () => {
  const { limiters, announced } = shared();
  limiters[0]!.failed('10.0.0.1', 'mqtt');
  limiters[1]!.failed('10.0.0.1', 'http');
  limiters[2]!.failed('10.0.0.1', 'mqtt');
  await until(() => announced.length > 0, 1000, 'the announcement');
  limiters[1]!.failed('10.0.0.1', 'http'); // past the limit: not announced again
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(announced, ['10.0.0.1']);
  assert.ok(limiters.every((l) => l.blocked('10.0.0.1', 'http')));
  assert.ok(limiters.every((l) => !l.blocked('10.0.0.2', 'http')));
});

test('a share that fails leaves the local limit working', async () => {
  const l = createLoginLimiter(quietLogger(), options);
  l.share({ count: () => Promise.reject(new Error('Redis down')), announce: () => assert.unreachable('announced') });
  for (let i = 0; i < 3; i++) l.failed('10.0.0.3', 'mqtt');
  assert.ok(l.blocked('10.0.0.3', 'mqtt'));
  l.share(undefined);
  l.block('10.0.0.4');
  assert.ok(l.blocked('10.0.0.4', 'http'), 'block refuses at once');
});

test.run();
