// Event IDs (bridge/ids.ts), in memory.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { newEventId } from '../../bridge/ids.ts';

test('event IDs are unique and sort in publication order, within one millisecond too', () => {
  const ids = Array.from({ length: 1000 }, () => newEventId(1_700_000_000_000));
  ids.push(newEventId(1_700_000_000_001));
  assert.is(new Set(ids).size, ids.length);
  assert.equal([...ids].sort(), ids);
});

test.run();
