// A bridge whose Redis does not answer refuses to start, and leaves nothing of itself open:
// its store is closed (SQLite removes its write-ahead log when the last connection closes),
// and its data directory can be started again at once.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBridge } from '../../../bridge/index.ts';
import { HookwireError } from '../../../bridge/errors.ts';
import { createLogger } from '../../../bridge/log.ts';
import { freePort } from '../../helpers/net.ts';

const logger = createLogger({ level: 'silent', pretty: false });

test('a start refused for its Redis closes the store it opened before the broker', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'hookwire-test-'));
  const err = await startBridge({ host: '127.0.0.1', mqttPort: 0, httpPort: 0, dataDir, redisUrl: `redis://127.0.0.1:${await freePort()}` }, { logger })
    .then(() => undefined, (e: unknown) => e);
  assert.instance(err, HookwireError);
  assert.is((err as HookwireError).field, 'redisUrl');
  assert.ok(existsSync(join(dataDir, 'hookwire.db')), 'the store was opened');
  assert.not.ok(existsSync(join(dataDir, 'hookwire.db-wal')), 'and closed: no write-ahead log left open');
  const bridge = await startBridge({ host: '127.0.0.1', mqttPort: 0, httpPort: 0, dataDir }, { logger });
  await bridge.close();
  await rm(dataDir, { recursive: true, force: true });
});

test.run();
