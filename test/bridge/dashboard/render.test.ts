// The dashboard for a terminal (hookwire dashboard): counts in words read right, one or many.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { render } from '../../../bridge/cli/commands/dashboard.ts';
import { summarize, windowOf } from '../../../bridge/dashboard/index.ts';
import type { StatsRow } from '../../../bridge/store/index.ts';

const AT = Date.parse('2027-03-14T12:00:00.000Z');
const w = windowOf('1d', AT);

/** A failure row of one integration in the period. */
const failure = (integrationId: string, description: string): StatsRow =>
  ({ hour: w.from, type: 'outbound', integrationId, code: '500', description, count: 2, firstAt: w.from, lastAt: w.from + 1000 });

const heading = (rows: StatsRow[]) => render(summarize(rows, w, () => 'temp')).find((l) => l.startsWith('Failures ('));

test('one kind of failure: "1 kind"', () => {
  assert.is(heading([failure('i1', 'HTTP 500')]), 'Failures (1 kind):');
});

test('several kinds: "kinds"', () => {
  assert.is(heading([failure('i1', 'HTTP 500'), failure('i2', 'HTTP 500')]), 'Failures (2 kinds):');
});

test('no failure: no heading, a sentence', () => {
  const lines = render(summarize([], w, () => undefined));
  assert.is(heading([]), undefined);
  assert.ok(lines.includes('No failures in this period.'));
});

test.run();
