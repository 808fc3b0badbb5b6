// Configuration (bridge/config.ts): defaults, the environment, and a bad value named by its field.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makeConfig, fromEnv } from '../../bridge/config.ts';
import { HookwireError } from '../../bridge/errors.ts';

test('config: defaults, environment, validation naming the field', () => {
  const c = makeConfig();
  assert.equal([c.host, c.mqttPort, c.httpPort], ['127.0.0.1', 1883, 8080]);
  assert.ok(c.dataDir.endsWith('/data'));
  const e = makeConfig(fromEnv({ HOOKWIRE_MQTT_PORT: '0', HOOKWIRE_HTTP_PORT: '9000', HOOKWIRE_HOST: '0.0.0.0', HOOKWIRE_DATA_DIR: '/tmp/x' }));
  assert.equal([e.host, e.mqttPort, e.httpPort, e.dataDir], ['0.0.0.0', 0, 9000, '/tmp/x']);
  for (const [field, value] of [['mqttPort', '70000'], ['httpPort', 'abc'], ['logLevel', 'loud'], ['storeSync', 'sometimes'], ['sendThread', 'always'], ['smtpUrl', 'mail.example.com'], ['timeScale', '0']] as const) {
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
