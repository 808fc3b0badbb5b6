// The data directory and its files are the bridge's user's alone: 0700 and 0600 from the
// first start, and a looser directory or database found at start is tightened (and logged).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Writable } from 'node:stream';
import { chmod, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBridge } from '../../bridge/index.ts';
import { createLogger } from '../../bridge/log.ts';
import { openSqliteStore } from '../../bridge/store/index.ts';

const modeOf = async (path: string) => ((await stat(path)).mode & 0o777).toString(8);

async function start(dataDir: string) {
  const lines: { msg: string }[] = [];
  const sink = new Writable({ write(chunk, _e, done) { for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l)); done(); } });
  const bridge = await startBridge({ host: '127.0.0.1', mqttPort: 0, httpPort: 0, dataDir }, { logger: createLogger({ level: 'info', pretty: false, destination: sink }) });
  return { bridge, lines };
}

test('a first start makes the directory 0700 and every file in it 0600', async () => {
  const root = await mkdtemp(join(tmpdir(), 'hookwire-perm-'));
  const dataDir = join(root, 'data');
  try {
    const { bridge } = await start(dataDir);
    await bridge.store.devices.create({ id: 'a'.repeat(24), name: null, productId: null, firmwareVersion: null, tokenHash: 'x' }); // the WAL gets written
    assert.is(await modeOf(dataDir), '700');
    const files = await readdir(dataDir);
    assert.ok(files.includes('hookwire.db') && files.includes('admin-token') && files.includes('hookwire.db-wal'), files.join(', '));
    for (const f of files) assert.is(await modeOf(join(dataDir, f)), '600', f);
    await bridge.close();
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('a loose directory and database from before are tightened, and the log says so', async () => {
  const root = await mkdtemp(join(tmpdir(), 'hookwire-perm-'));
  const dataDir = join(root, 'data');
  try {
    await mkdir(dataDir, { mode: 0o755 });
    await chmod(dataDir, 0o755);
    const db = openSqliteStore(join(dataDir, 'hookwire.db'));
    await db.close();
    await chmod(join(dataDir, 'hookwire.db'), 0o644);
    await writeFile(join(dataDir, 'admin-token'), 'hwt_x\n', { mode: 0o644 });
    const { bridge, lines } = await start(dataDir);
    await bridge.close();
    assert.equal([await modeOf(dataDir), await modeOf(join(dataDir, 'hookwire.db')), await modeOf(join(dataDir, 'admin-token'))], ['700', '600', '600']);
    assert.ok(lines.some((l) => l.msg === 'data directory permissions tightened'));
    assert.is(lines.filter((l) => l.msg === 'file permissions tightened').length, 2);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test.run();
