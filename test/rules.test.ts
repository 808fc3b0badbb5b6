// Event-name rules and helpers, in memory (no socket needed).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  filterForPrefix, isDeviceId, isReservedName, isValidName, privateOwner, publishNameError,
} from '../firmware-sdk/src/rules.ts';
import { makeConfig, fromEnv } from '../bridge/config.ts';
import { HookwireError } from '../bridge/errors.ts';
import { newEventId } from '../bridge/ids.ts';

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

test('event IDs are unique and sort in publication order, within one millisecond too', () => {
  const ids = Array.from({ length: 1000 }, () => newEventId(1_700_000_000_000));
  ids.push(newEventId(1_700_000_000_001));
  assert.is(new Set(ids).size, ids.length);
  assert.equal([...ids].sort(), ids);
});

test('config: defaults, environment, validation naming the field', () => {
  const c = makeConfig();
  assert.equal([c.host, c.mqttPort, c.httpPort], ['127.0.0.1', 1883, 8080]);
  assert.ok(c.dataDir.endsWith('/data'));
  const e = makeConfig(fromEnv({ HOOKWIRE_MQTT_PORT: '0', HOOKWIRE_HTTP_PORT: '9000', HOOKWIRE_HOST: '0.0.0.0', HOOKWIRE_DATA_DIR: '/tmp/x' }));
  assert.equal([e.host, e.mqttPort, e.httpPort, e.dataDir], ['0.0.0.0', 0, 9000, '/tmp/x']);
  for (const [field, value] of [['mqttPort', '70000'], ['httpPort', 'abc'], ['logLevel', 'loud'], ['storeSync', 'sometimes'], ['smtpUrl', 'mail.example.com'], ['timeScale', '0']] as const) {
    try {
      makeConfig({ [field]: value });
      assert.unreachable(field);
    } catch (err) {
      assert.instance(err, HookwireError);
      assert.is((err as HookwireError).field, field);
      assert.is((err as HookwireError).code, 'CONFIG_INVALID');
    }
  }
});

test.run();
