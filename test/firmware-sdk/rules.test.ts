// Event-name rules and helpers (firmware-sdk/rules.ts, shared by the SDK and the bridge), in
// memory: no socket needed.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  filterForPrefix, isDeviceId, isReservedName, isValidName, privateOwner, publishNameError,
} from '../../firmware-sdk/rules.ts';

const me = 'aaaaaaaaaaaaaaaaaaaaaaaa';
const other = 'bbbbbbbbbbbbbbbbbbbbbbbb';

test('valid names: 1-64 of A-Z a-z 0-9 _ - /', () => {
  for (const ok of ['t', 'temp', 'Temp_1-2/x', 'a'.repeat(64), 'a//b', '/lead']) assert.ok(isValidName(ok), ok);
  for (const bad of ['', 'a'.repeat(65), 'a+b', 'a#', '$SYS', 'a b', 'é', 'a.b', 'tab\t']) assert.not.ok(isValidName(bad), bad);
});

test('device IDs and private space', () => {
  assert.ok(isDeviceId(me));
  assert.not.ok(isDeviceId('A'.repeat(24)));
  assert.not.ok(isDeviceId('a'.repeat(23)));
  assert.is(privateOwner(`${me}/x`), me);
  assert.is(privateOwner(me), me);
  assert.is(privateOwner(`${me}x/y`), '');
  assert.is(privateOwner('temp'), '');
});

test('reserved names, at the start or after a device ID, any case for spark/particle/hookwire', () => {
  for (const r of ['hook-sent/x', 'hook-response', 'hook-error/a/0', 'spark', 'SPARK/x', 'particle-x', 'Hookwire/y', `${me}/hook-response/x`, `${me}/hookwire/error`, `${me}/sparkle`])
    assert.ok(isReservedName(r), r);
  for (const n of ['hook', 'hooks/x', 'my-spark', `${me}/temp`, 'temp/hook-sent']) assert.not.ok(isReservedName(n), n);
});

test('publishNameError: invalid, other device\'s space, reserved, fine', () => {
  assert.is(publishNameError('a+b', me), 'EVENT_NAME_INVALID');
  assert.is(publishNameError(`${other}/x`, me), 'EVENT_PRIVATE_SPACE');
  assert.is(publishNameError(`${other}/hook-response/x`, me), 'EVENT_PRIVATE_SPACE');
  assert.is(publishNameError('spark/x', me), 'EVENT_NAME_RESERVED');
  assert.is(publishNameError(`${me}/mine`, me), '');
  assert.is(publishNameError('temp', me), '');
});

test('filterForPrefix: complete levels plus #', () => {
  assert.is(filterForPrefix('temp'), '#');
  assert.is(filterForPrefix(''), '#');
  assert.is(filterForPrefix(`${me}/hook-response/`), `${me}/hook-response/#`);
  assert.is(filterForPrefix(`${me}/hook-response/wea`), `${me}/hook-response/#`);
  assert.is(filterForPrefix('a/b/c'), 'a/b/#');
});

test.run();
