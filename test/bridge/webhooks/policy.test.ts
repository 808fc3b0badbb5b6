// Retry policies, per-host throttling, integration states and signatures, in memory.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHmac } from 'node:crypto';
import { decideRetry, parseRetryAfter, parseRetryPolicy, schedule } from '../../../bridge/webhooks/retry.ts';
import { HostThrottle } from '../../../bridge/webhooks/throttle.ts';
import { transition } from '../../../bridge/webhooks/state.ts';
import { activeSecrets, isSigningSecret, newSigningSecret, rotate, webhookHeaders } from '../../../bridge/webhooks/signing.ts';
import { HookwireError } from '../../../bridge/errors.ts';

const noJitter = () => 0.5; // 0.9 + 0.2 * 0.5 = 1

test('particle: retried after 30 s and 60 s, then exhausted; 4xx other than 408/429 never', () => {
  assert.equal(decideRetry('particle', 1, { code: '503' }, 1, noJitter), { retry: true, delayMs: 30_000 });
  assert.equal(decideRetry('particle', 2, { code: 'ECONNREFUSED' }, 1, noJitter), { retry: true, delayMs: 60_000 });
  assert.equal(decideRetry('particle', 3, { code: '503' }, 1, noJitter), { retry: false, reason: 'exhausted' });
  assert.equal(decideRetry('particle', 1, { code: '404' }, 1, noJitter), { retry: false, reason: 'not-retryable' });
  assert.equal(decideRetry('particle', 1, { code: '408' }, 1, noJitter), { retry: true, delayMs: 30_000 });
  assert.equal(decideRetry('particle', 1, { code: '429' }, 1, noJitter), { retry: true, delayMs: 30_000 });
  assert.equal(decideRetry('particle', 1, { code: 'SLEEPING' }, 1, noJitter), { retry: true, delayMs: 30_000 });
  assert.equal(decideRetry('durable', 1, { code: 'TEMPLATE_INVALID' }, 1, noJitter), { retry: false, reason: 'not-retryable' });
});

test('durable: every 60 s x10, 600 s x9, hourly x70 (89 retries, ~79.5 hours), 4xx retried too', () => {
  const s = schedule('durable');
  assert.is(s.length, 89);
  assert.equal([s[0], s[9], s[10], s[18], s[19], s[88]], [60_000, 60_000, 600_000, 600_000, 3_600_000, 3_600_000]);
  assert.is(s.reduce((a, b) => a + b, 0), 10 * 60_000 + 9 * 600_000 + 70 * 3_600_000);
  assert.equal(decideRetry('durable', 89, { code: '404' }, 1, noJitter), { retry: true, delayMs: 3_600_000 });
  assert.equal(decideRetry('durable', 90, { code: '500' }, 1, noJitter), { retry: false, reason: 'exhausted' });
});

test('explicit delays in seconds; the scale compresses time; jitter stays within ±10%', () => {
  assert.equal(decideRetry([5, 10], 2, { code: '500' }, 0.001, noJitter), { retry: true, delayMs: 10 });
  for (let i = 0; i < 100; i++) {
    const d = decideRetry('particle', 1, { code: '500' }) as { delayMs: number };
    assert.ok(d.delayMs >= 27_000 && d.delayMs <= 33_000, String(d.delayMs));
  }
});

test('Retry-After: seconds or an HTTP date; a retry never comes before it', () => {
  assert.is(parseRetryAfter('120'), 120_000);
  assert.is(parseRetryAfter(new Date(Date.now() + 90_000).toUTCString()) ! > 88_000, true);
  assert.is(parseRetryAfter('soon'), undefined);
  assert.is(parseRetryAfter(undefined), undefined);
  assert.equal(decideRetry('particle', 1, { code: '429', retryAfterMs: 120_000 }, 1, noJitter), { retry: true, delayMs: 120_000 });
  assert.equal(decideRetry('particle', 1, { code: '503', retryAfterMs: 5_000 }, 1, noJitter), { retry: true, delayMs: 30_000 });
});

test('retry policies are validated', () => {
  assert.is(parseRetryPolicy('durable'), 'durable');
  assert.equal(parseRetryPolicy([1, 2.5]), [1, 2.5]);
  for (const bad of ['sometimes', [], [0], [-1], ['5'], Array(201).fill(1), [8 * 24 * 3600]]) {
    assert.throws(() => parseRetryPolicy(bad), (e: HookwireError) => e.code === 'BAD_REQUEST' && e.field === 'retryPolicy');
  }
});

test('a host sleeps while errors outnumber successes, skips, and wakes after a quiet cooldown', () => {
  const t = new HostThrottle({ cooldownMs: 1000, minErrors: 3, window: 20 });
  let now = 0;
  for (let i = 0; i < 4; i++) assert.not.ok(t.record('a.example', true, now));
  assert.not.ok(t.record('a.example', false, now));
  assert.not.ok(t.record('a.example', false, now));
  assert.not.ok(t.record('a.example', false, now), '3 errors, 4 successes: awake');
  assert.not.ok(t.record('a.example', false, now), '4 and 4: not outnumbered yet');
  assert.ok(t.record('a.example', false, (now = 10)), '5 errors outnumber 4 successes: asleep');
  assert.not.ok(t.allows('a.example', 500));
  assert.ok(t.allows('b.example', 500), 'other hosts are not affected');
  assert.equal(t.sleeping(500), [{ host: 'a.example', until: 1010 }]);
  assert.ok(t.allows('a.example', 1010), 'awake after the cooldown');
  assert.ok(t.record('a.example', false, 1020), 'on probation: one failure puts it back to sleep');
  assert.not.ok(t.allows('a.example', 1500));
  assert.ok(t.allows('a.example', 2020));
  assert.not.ok(t.record('a.example', true, 2030));
  assert.not.ok(t.record('a.example', false, 2040), 'a success ends probation');
});


test('a host put to sleep here is announced; one put to sleep elsewhere sleeps here for the cooldown, without an announcement', () => {
  const announced: string[] = [];
  const t = new HostThrottle({ cooldownMs: 1000, minErrors: 1, window: 20 }, (host) => announced.push(host));
  assert.ok(t.record('a.example', false, 0));
  assert.not.ok(t.record('a.example', false, 100), 'already asleep: not announced again');
  assert.equal(announced, ['a.example']);

  t.sleep('b.example', 200);
  t.sleep('b.example', 200); // the same notice twice changes nothing
  assert.equal(announced, ['a.example']);
  assert.not.ok(t.allows('b.example', 1199));
  assert.equal(t.sleeping(500).find((h) => h.host === 'b.example'), { host: 'b.example', until: 1200 });
  t.sleep('b.example', 100);
  assert.equal(t.sleeping(500).find((h) => h.host === 'b.example')!.until, 1200, 'an older notice does not shorten the sleep');
  assert.ok(t.allows('b.example', 1200), 'awake after the cooldown');
  assert.ok(t.record('b.example', false, 1300), 'on probation, as if it had slept here');
  assert.equal(announced, ['a.example', 'b.example']);
});
test('one early error does not put a host to sleep', () => {
  const t = new HostThrottle({ cooldownMs: 1000, minErrors: 3, window: 20 });
  assert.not.ok(t.record('h', false, 0));
  assert.not.ok(t.record('h', false, 0));
  assert.ok(t.record('h', false, 0));
});

test('state transitions', () => {
  const cases: [Parameters<typeof transition>, string | undefined][] = [
    [['Unknown', { kind: 'success' }, false], 'Active'],
    [['Unknown', { kind: 'failure', code: '500' }, false], 'Failing'],
    [['Active', { kind: 'failure', code: '500' }, false], 'Failing'],
    [['Failing', { kind: 'failure', code: '500' }, false], undefined],
    [['Failing', { kind: 'success' }, false], 'Active'],
    [['Active', { kind: 'skipped' }, false], 'TooManyErrors'],
    [['TooManyErrors', { kind: 'success' }, false], 'Active'],
    [['Failing', { kind: 'exhausted', code: '500' }, false], 'TooManyErrors'],
    [['TooManyErrors', { kind: 'success' }, true], undefined],
    [['Active', { kind: 'disabled', by: 'ada', reason: 'maintenance' }, false], 'Disabled'],
    [['Disabled', { kind: 'success' }, true], undefined],
    [['Disabled', { kind: 'enabled', by: 'ada' }, true], 'Unknown'],
    [['Active', { kind: 'enabled', by: 'ada' }, false], undefined],
  ];
  for (const [args, expected] of cases) assert.is(transition(...args)?.state, expected, JSON.stringify(args));
  assert.ok(transition('Failing', { kind: 'exhausted', code: '500' }, false)!.disable);
  assert.is(transition('Active', { kind: 'disabled', by: 'ada', reason: 'maintenance' }, false)!.reason, 'disabled by ada: maintenance');
});

test('signatures: whsec_ secrets, v1 HMAC-SHA256 over id.timestamp.body, both secrets during a rotation', () => {
  const secret = newSigningSecret();
  assert.ok(isSigningSecret(secret));
  assert.is(Buffer.from(secret.slice(6), 'base64').length, 32);
  const now = 1_700_000_000_123;
  const h = webhookHeaders('msg_abc', '{"a":1}', { current: secret }, now);
  assert.equal(Object.keys(h).sort(), ['webhook-id', 'webhook-signature', 'webhook-timestamp']);
  assert.is(h['webhook-timestamp'], '1700000000');
  const expected = createHmac('sha256', Buffer.from(secret.slice(6), 'base64')).update('msg_abc.1700000000.{"a":1}').digest('base64');
  assert.is(h['webhook-signature'], `v1,${expected}`);

  const rotated = rotate({ current: secret }, 60_000, now);
  assert.is.not(rotated.current, secret);
  assert.equal(activeSecrets(rotated, now + 1000), [rotated.current, secret]);
  assert.equal(activeSecrets(rotated, now + 60_001), [rotated.current]);
  assert.is(webhookHeaders('m', 'b', rotated, now)['webhook-signature']!.split(' ').length, 2);
  assert.equal(Object.keys(webhookHeaders('m', 'b', undefined, now)).sort(), ['webhook-id', 'webhook-timestamp']);
});

test.run();
