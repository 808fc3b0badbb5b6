// The API's log lines as written, before any parser folds them: each key once per line. A
// child logger of a child logger with the same key (component) writes it twice, and
// JSON.parse keeps the last silently, so these lines are read as raw text here.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { startBridge, type Bridge } from '../../../bridge/index.ts';
import { createLogger } from '../../../bridge/log.ts';
import { until } from '../../helpers/bridge.ts';

/** The keys of a JSON object's top level, in order, duplicates kept. */
export function topLevelKeys(text: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (depth === 1 && expectKey) keys.push(JSON.parse(text.slice(i, j + 1)) as string);
      expectKey = false;
      i = j;
    } else if (c === '{' || c === '[') {
      depth++;
      expectKey = c === '{' && depth === 1;
    } else if (c === '}' || c === ']') {
      depth--;
    } else if (c === ',' && depth === 1) {
      expectKey = true;
    }
  }
  return keys;
}

let bridge: Bridge;
let dataDir: string;
const lines: string[] = [];

test.before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'hookwire-test-'));
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) if (line) lines.push(line);
      done();
    },
  });
  const logger = createLogger({ level: 'debug', pretty: false, destination: sink });
  bridge = await startBridge({ host: '127.0.0.1', mqttPort: 0, httpPort: 0, dataDir }, { logger });
});
test.after(async () => {
  await bridge?.close();
  await rm(dataDir, { recursive: true, force: true });
});

test('topLevelKeys sees a repeated key, and only the top level', () => {
  assert.equal(topLevelKeys('{"a":1,"b":{"a":2},"c":"x\\",\\"a\\":","a":[{"a":3}]}'), ['a', 'b', 'c', 'a']);
});

test('API publishes (refused and accepted) and event streams log each key once', async () => {
  const auth = { authorization: `Bearer ${bridge.adminToken}`, 'content-type': 'application/json' };
  const refused = await fetch(`${bridge.url}/v1/devices/events`, { method: 'POST', headers: auth, body: JSON.stringify({ name: 'hook-sent/forged' }) });
  assert.is(refused.status, 400);
  const ok = await fetch(`${bridge.url}/v1/devices/events`, { method: 'POST', headers: auth, body: JSON.stringify({ name: 'temp', data: '21' }) });
  assert.is(ok.status, 200);
  const stream = new AbortController();
  const opened = await fetch(`${bridge.url}/v1/events`, { headers: auth, signal: stream.signal });
  await until(() => lines.some((l) => l.includes('event stream opened')), 2000, 'the stream\'s line');
  stream.abort();
  await opened.body?.cancel().catch(() => {});
  await until(() => lines.some((l) => l.includes('event stream closed')), 2000, 'the stream\'s closing line');

  const seen = ['API publish refused', 'API publish', 'event stream opened', 'event stream closed'];
  for (const msg of seen) assert.ok(lines.some((l) => (JSON.parse(l) as { msg: string }).msg === msg), `a line "${msg}"`);
  for (const line of lines) {
    const keys = topLevelKeys(line);
    const twice = keys.filter((k, i) => keys.indexOf(k) !== i);
    assert.equal(twice, [], `keys written twice in ${line}`);
  }
  const refusal = JSON.parse(lines.find((l) => l.includes('API publish refused'))!) as Record<string, unknown>;
  assert.equal([refusal.component, refusal.code, refusal.event], ['api', 'EVENT_NAME_RESERVED', 'hook-sent/forged']);
});

test.run();
