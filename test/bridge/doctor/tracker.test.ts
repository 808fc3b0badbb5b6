// The doctor's tracker merged over bridges (mergeSeen): what several bridges saw reads as one
// tracker would have seen it, after a trip through JSON (as the snapshots travel over Redis).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createTracker, mergeSeen, type SeenSnapshot } from '../../../bridge/doctor/tracker.ts';
import type { AttemptRecord } from '../../../bridge/webhooks/index.ts';
import { deviceEvent } from '../../helpers/store.ts';

const D1 = 'a'.repeat(24);
const D2 = 'b'.repeat(24);
const viaJson = (s: SeenSnapshot): SeenSnapshot => JSON.parse(JSON.stringify(s));
const attempt = (record: Partial<AttemptRecord> & { kind: AttemptRecord['kind'] }) =>
  ({ job: { integrationId: 'i1', host: 'example.com' }, ...record }) as unknown as AttemptRecord;

test('counts add up, first and last widen, lists join, and the latest event and texts win', async () => {
  const [one, two] = [createTracker(), createTracker()];
  one.event!(deviceEvent('temp', '1', D1));
  one.attempt!(attempt({ kind: 'failure', failure: { code: '500', message: 'first' } as never }));
  one.attempt!(attempt({ kind: 'success', reply: { data: Buffer.alloc(600), whole: false } as never }));
  one.refused!({ at: '', clientId: D1, code: 'AUTH_FAILED', message: 'wrong token', remote: '10.0.0.1' });
  await new Promise((r) => setTimeout(r, 5));
  two.event!(deviceEvent('temp', '{"c":2}', D2));
  two.attempt!(attempt({ kind: 'failure', failure: { code: '500', message: 'second' } as never }));
  two.attempt!(attempt({ kind: 'success', reply: { data: Buffer.alloc(6000), whole: false } as never }));
  two.refused!({ at: '', clientId: D1, code: 'AUTH_FAILED', message: 'wrong token again', remote: '10.0.0.2' });
  two.refused!({ at: '', clientId: D2, code: 'AUTH_FAILED', message: 'unknown', remote: '10.0.0.3' });

  const view = mergeSeen([one.snapshot(), viaJson(two.snapshot())]);
  const [temp] = [...view.names()];
  assert.equal([temp!.count, temp!.devices, temp!.last.coreid, temp!.last.data], [2, [D1, D2], D2, '{"c":2}']);
  const i = view.integration('i1')!;
  assert.equal([i.attempts, i.failures, i.successes, i.hosts], [4, 2, 2, ['example.com']]);
  assert.equal(i.codes.get('500'), { count: 2, lastAt: i.codes.get('500')!.lastAt, message: 'second' });
  assert.equal([i.replies.answered, i.replies.maxParts, i.replies.maxBytes, i.replies.overParts], [2, 12, 6000, 1]);
  const logins = new Map([...view.loginFailures()].map((f) => [f.deviceId, f]));
  assert.equal([logins.get(D1)!.failures, logins.get(D1)!.reason, logins.get(D1)!.lastRemote, logins.get(D1)!.remotes.sort()],
    [2, 'wrong token again', '10.0.0.2', ['10.0.0.1', '10.0.0.2']]);
  assert.is(logins.get(D2)!.failures, 1);
  assert.is(view.startedAt, Math.min(one.startedAt, two.startedAt));
  assert.is(view.integration('nope'), undefined);
});

test.run();
