// Configuration (bridge/config.ts): defaults, the environment, and a bad value named by its field.

import { hostname } from 'node:os';
import { resolve } from 'node:path';
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

test('config: TLS settings from the environment (paths made absolute), plain MQTT off, insecure as 1/0; pairs checked', () => {
  const c = makeConfig(fromEnv({
    HOOKWIRE_TLS_CERT: 'certs/fullchain.pem', HOOKWIRE_TLS_KEY: '/etc/hookwire/privkey.pem', HOOKWIRE_TLS_CA: 'devices-ca.pem',
    HOOKWIRE_MQTTS_PORT: '0', HOOKWIRE_MQTT_PORT: 'off', HOOKWIRE_INSECURE: '1', HOOKWIRE_TLS_WATCH_MS: '0',
  }));
  assert.equal([c.tlsCert, c.tlsKey, c.tlsCa], [resolve('certs/fullchain.pem'), '/etc/hookwire/privkey.pem', resolve('devices-ca.pem')]);
  assert.equal([c.mqttsPort, c.mqttPort, c.insecure, c.tlsWatchMs], [0, 'off', true, 0]);
  const d = makeConfig();
  assert.equal([d.mqttsPort, d.tlsCert, d.tlsKey, d.tlsCa, d.insecure, d.tlsWatchMs], [8883, undefined, undefined, undefined, false, 2000]);
  assert.equal(['0', 'no', 'false', 'yes', 'TRUE'].map((v) => makeConfig({ insecure: v }).insecure), [false, false, false, true, true]);
  const bad: [Record<string, unknown>, string][] = [
    [{ tlsCert: 'c.pem' }, 'tlsKey'],
    [{ tlsKey: 'k.pem' }, 'tlsCert'],
    [{ tlsCa: 'ca.pem' }, 'tlsCa'],
    [{ mqttsPort: '99999' }, 'mqttsPort'],
    [{ mqttPort: 'none' }, 'mqttPort'],
    [{ insecure: 'maybe' }, 'insecure'],
    [{ tlsWatchMs: '-1' }, 'tlsWatchMs'],
  ];
  for (const [overrides, field] of bad) {
    try {
      makeConfig(overrides);
      assert.unreachable(JSON.stringify(overrides));
    } catch (err) {
      assert.instance(err, HookwireError);
      assert.equal([(err as HookwireError).code, (err as HookwireError).field], ['CONFIG_INVALID', field], JSON.stringify(overrides));
    }
  }
});

test('config: bridge name (default the host name and data directory) and delivery lease (seconds, bounded), from the environment', () => {
  const d = makeConfig({ dataDir: '/srv/hw1/data' });
  assert.equal([d.bridgeName, d.deliveryLeaseSec], [`${hostname()}:/srv/hw1/data`, 60]);
  assert.is.not(makeConfig({ dataDir: '/srv/hw2/data' }).bridgeName, d.bridgeName, 'two bridges on one host are told apart');
  const e = makeConfig(fromEnv({ HOOKWIRE_BRIDGE_NAME: ' web-1 ', HOOKWIRE_DELIVERY_LEASE_SEC: '5' }));
  assert.equal([e.bridgeName, e.deliveryLeaseSec], ['web-1', 5]);
  assert.equal([makeConfig({ deliveryLeaseSec: '1' }).deliveryLeaseSec, makeConfig({ deliveryLeaseSec: 3600 }).deliveryLeaseSec], [1, 3600]);
  for (const [field, value] of [['deliveryLeaseSec', '0'], ['deliveryLeaseSec', '3601'], ['deliveryLeaseSec', '1.5'], ['deliveryLeaseSec', 'soon'],
    ['bridgeName', 'a\nb'], ['bridgeName', 'x'.repeat(256)]] as const) {
    try {
      makeConfig({ [field]: value });
      assert.unreachable(`${field} ${value}`);
    } catch (err) {
      assert.instance(err, HookwireError);
      assert.equal([(err as HookwireError).code, (err as HookwireError).field], ['CONFIG_INVALID', field], `${field} ${value}`);
    }
  }
});

test.run();
