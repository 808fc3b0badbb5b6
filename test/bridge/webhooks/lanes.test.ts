// Lanes (bridge/webhooks/lanes.ts) on their own: per-host limits, a hung host that fills only
// its own lane, slots promised while the store commits, and the room call that wakes the
// scheduler.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Lanes } from '../../../bridge/webhooks/lanes.ts';

/** Jobs that run until the test finishes them, and the room calls the lanes make. */
function harness(concurrency = 2, queue = 3) {
  const running = new Map<string, () => void>();
  const started: string[] = [];
  const rooms: string[] = [];
  const lanes = new Lanes<string>({ concurrency, queue }, {
    run: (job) => new Promise<void>((resolve) => {
      started.push(job);
      running.set(job, resolve);
    }),
    room: (host) => rooms.push(host),
  });
  /** Let the job's attempt end (then a turn for the lane's `finally`). */
  async function finish(job: string): Promise<void> {
    running.get(job)!();
    running.delete(job);
    await new Promise((r) => setImmediate(r));
  }
  return { lanes, started, rooms, finish };
}

test('a lane runs `concurrency` jobs at once, queues the rest, and starts the next as one ends', async () => {
  const { lanes, started, finish } = harness(2, 3);
  for (const job of ['a1', 'a2', 'a3', 'a4']) lanes.push('a', job, false);
  assert.equal(started, ['a1', 'a2']);
  assert.equal(lanes.depths(), [{ host: 'a', active: 2, waiting: 2 }]);
  await finish('a1');
  assert.equal(started, ['a1', 'a2', 'a3']);
  assert.is(lanes.busy, 3);
});

test('a hung host fills its own lane only: another host runs at once', async () => {
  const { lanes, started } = harness(2, 3);
  for (let i = 0; i < 5; i++) lanes.push('hung', `h${i}`, false);
  assert.is(lanes.room('hung'), 0);
  assert.not.ok(lanes.reserve('hung'));
  lanes.push('ok', 'o1', false);
  assert.ok(started.includes('o1'));
  assert.is(lanes.room('ok'), 2 + 3 - 1);
  assert.is(lanes.room('never-seen'), 5);
});

test('slots promised to jobs being committed count against the lane; a released slot is free again', async () => {
  const { lanes } = harness(1, 1);
  assert.ok(lanes.reserve('a'));
  assert.ok(lanes.reserve('a'));
  assert.not.ok(lanes.reserve('a'), 'two slots, both promised');
  lanes.release('a');
  assert.is(lanes.room('a'), 1);
  lanes.push('a', 'a1', true); // the promised slot is used
  assert.is(lanes.room('a'), 1);
  lanes.release('a');
  lanes.release('a'); // nothing more promised: no effect
  assert.is(lanes.room('a'), 1);
});

test('room is called when a lane has nothing waiting; an idle lane is forgotten', async () => {
  const { lanes, rooms, finish } = harness(1, 5);
  lanes.push('a', 'a1', false);
  lanes.push('a', 'a2', false);
  await finish('a1');
  assert.equal(rooms, ['a'], 'a2 started: nothing waits any more');
  await finish('a2');
  assert.equal(rooms, ['a', 'a']);
  assert.equal(lanes.depths(), []);
  assert.is(lanes.busy, 0);
});

test.run();
