// Secrets at rest (bridge/store/sealed.ts): with a secret key, no template credential or
// signing secret is in the database file in clear; deliveries still carry them; a store
// sealed with a key will not start without it; rotation with the previous key seals
// everything again with the new one; a store from before the key is sealed at start.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { startBridge, type Bridge } from '../../../bridge/index.ts';
import { createLogger } from '../../../bridge/log.ts';
import { receiver } from '../../helpers/receiver.ts';

const SECRETS = ['HEADERSECRET', 'AUTHSECRET', 'QUERYSECRET'];
const keyA = randomBytes(32).toString('base64');
const keyB = randomBytes(32).toString('hex');

async function start(dataDir: string, secretKey?: string, secretKeyPrevious?: string) {
  const lines: { msg: string }[] = [];
  const sink = new Writable({ write(c, _e, done) { for (const l of String(c).split('\n')) if (l) lines.push(JSON.parse(l)); done(); } });
  const bridge = await startBridge({ host: '127.0.0.1', mqttPort: 0, httpPort: 0, dataDir }, { logger: createLogger({ level: 'info', pretty: false, destination: sink }), secretKey, secretKeyPrevious });
  return { bridge, lines };
}

/** The integrations table as the file holds it. */
function rawRows(dataDir: string): string {
  const db = new Database(join(dataDir, 'hookwire.db'), { readonly: true });
  try {
    return JSON.stringify(db.prepare('SELECT template, signing FROM integrations').all());
  } finally {
    db.close();
  }
}

async function call(b: Bridge, method: string, path: string, body?: unknown, token = b.adminToken) {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(b.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, body: await res.json() as any };
}

test('sealed in the file, opened for the bridge: the request carries the credentials, the file does not', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'hookwire-sealed-'));
  const rx = await receiver();
  rx.on('/in', (_req, res) => res.end('ok'));
  try {
    const { bridge } = await start(dataDir, keyA);
    const token = bridge.adminToken!;
    const created = await call(bridge, 'POST', '/v1/integrations', { event: 'sealed', url: `${rx.url}/in?key=QUERYSECRET`, headers: { 'X-Key': 'HEADERSECRET' }, auth: { username: 'u', password: 'AUTHSECRET' } });
    assert.is(created.status, 201);
    const signing = (await call(bridge, 'POST', `/v1/integrations/${created.body.id}/secret`)).body.secret as string;
    assert.match(signing, /^whsec_/);
    const raw = rawRows(dataDir);
    for (const s of [...SECRETS, signing]) assert.not.ok(raw.includes(s), `${s} is in the file in clear`);
    assert.ok(raw.includes('aes-256-gcm'));
    await bridge.close();

    const again = (await start(dataDir, keyA)).bridge;
    const shown = JSON.stringify((await call(again, 'GET', `/v1/integrations/${created.body.id}`, undefined, token)).body);
    for (const s of SECRETS) assert.ok(shown.includes(s), `${s} is shown to the admin after a restart`);
    assert.is((await call(again, 'POST', '/v1/devices/events', { name: 'sealed', data: '1' }, token)).status, 200);
    const req = await rx.next('/in');
    assert.equal([req.headers['x-key'], req.headers.authorization, req.url.includes('QUERYSECRET'), typeof req.headers['webhook-signature']], ['HEADERSECRET', `Basic ${Buffer.from('u:AUTHSECRET').toString('base64')}`, true, 'string']);
    await again.close();

    // Without the key the store cannot be read: the bridge says so and does not start.
    try {
      await start(dataDir);
      assert.unreachable('started without its key');
    } catch (err) {
      assert.equal([(err as { code?: string }).code, (err as { field?: string }).field], ['CONFIG_INVALID', 'secretKey']);
    }
  } finally {
    await rx.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('rotation: the new key with the old one as previous seals everything again; then the new key alone suffices', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'hookwire-sealed-'));
  try {
    const first = (await start(dataDir, keyA)).bridge;
    const id = (await call(first, 'POST', '/v1/integrations', { event: 'r', url: 'https://example.com/in', headers: { 'X-Key': 'HEADERSECRET' } })).body.id;
    const token = first.adminToken!;
    await first.close();
    const before = rawRows(dataDir);
    const { bridge: rotated, lines } = await start(dataDir, keyB, keyA);
    assert.ok(lines.some((l) => l.msg === 'integration credentials sealed with the current secret key'));
    await rotated.close();
    assert.not.equal(rawRows(dataDir), before);
    const last = (await start(dataDir, keyB)).bridge;
    assert.is((await call(last, 'GET', `/v1/integrations/${id}`, undefined, token)).body.integration.headers['X-Key'], 'HEADERSECRET');
    await last.close();
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('a store from before the key: sealed at the first start with one', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'hookwire-sealed-'));
  try {
    const plain = (await start(dataDir)).bridge;
    await call(plain, 'POST', '/v1/integrations', { event: 'p', url: 'https://example.com/in', auth: { username: 'u', password: 'AUTHSECRET' } });
    await plain.close();
    assert.ok(rawRows(dataDir).includes('AUTHSECRET'));
    (await (await start(dataDir, keyA)).bridge.close());
    assert.not.ok(rawRows(dataDir).includes('AUTHSECRET'));
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('a key that is not 32 bytes is refused, naming the setting', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'hookwire-sealed-'));
  try {
    await start(dataDir, 'too-short');
    assert.unreachable();
  } catch (err) {
    assert.equal([(err as { code?: string }).code, (err as { field?: string }).field], ['CONFIG_INVALID', 'secretKey']);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});

test.run();
