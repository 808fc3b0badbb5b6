// The trigger index, in memory: prefixes, filters, replace and delete.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MatchIndex } from '../../../bridge/webhooks/match.ts';
import type { Integration } from '../../../bridge/webhooks/integration.ts';
import type { HookwireEvent } from '../../../bridge/events/index.ts';

const integration = (id: string, event: string, extra: Partial<Integration> = {}): Integration => ({
  id, event, url: 'https://example.com', requestType: 'POST', disabled: false, noDefaults: false, rejectUnauthorized: true,
  unchunked: false, dataUrlResponseEvent: false, retryPolicy: 'particle', productId: null, createdAt: '', updatedAt: '', ...extra,
});
const event = (name: string, coreid = 'a'.repeat(24), product: number | null = null): HookwireEvent => ({
  id: '1', name, data: '', type: 'text', published_at: '', coreid, product_id: product, fw_version: null,
});
const ids = (index: MatchIndex, e: HookwireEvent) => index.match(e).map((i) => i.id).sort();

test('prefixes along the name, shortest first; filters by device and product', () => {
  const index = new MatchIndex();
  index.set(integration('t', 't'));
  index.set(integration('temp', 'temp'));
  index.set(integration('temp2', 'temp'));
  index.set(integration('tempe', 'tempe'));
  index.set(integration('dev', 'temp', { deviceID: 'b'.repeat(24) }));
  index.set(integration('prod', 'temp', { productId: 7 }));
  assert.equal(index.match(event('temperature')).map((i) => i.id), ['t', 'temp', 'temp2', 'tempe']);
  assert.equal(ids(index, event('tem')), ['t']);
  assert.equal(ids(index, event('high_temp')), []);
  assert.equal(ids(index, event('temp', 'b'.repeat(24))), ['dev', 't', 'temp', 'temp2']);
  assert.equal(ids(index, event('temp', 'c'.repeat(24), 7)), ['prod', 't', 'temp', 'temp2']);
  assert.equal(ids(index, event('hook-sent/temp')), []);
});

test('replace moves an integration; delete prunes; disabled never match', () => {
  const index = new MatchIndex();
  index.set(integration('a', 'abc'));
  index.set(integration('b', 'ab'));
  index.set(integration('a', 'xyz')); // replaced: now on another prefix
  assert.equal(ids(index, event('abcd')), ['b']);
  assert.equal(ids(index, event('xyz')), ['a']);
  index.delete('b');
  assert.equal(ids(index, event('abcd')), []);
  index.set(integration('a', 'xyz', { disabled: true }));
  assert.equal(ids(index, event('xyz')), []);
  assert.is(index.size, 0);
  index.set(integration('c', 'ab'));
  assert.equal(ids(index, event('abc')), ['c'], 'the pruned path grows back');
  index.delete('nope');
  assert.is(index.size, 1);
});

test.run();
