import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../../../bridge/store/index.ts';
import { storeConformance } from './conformance.ts';

storeConformance('sqlite :memory:', async () => openSqliteStore(':memory:')).run();

const dir = mkdtempSync(join(tmpdir(), 'hookwire-store-'));
let n = 0;
const file = () => join(dir, `store-${n}.db`);
storeConformance('sqlite file', async () => { n++; return openSqliteStore(file()); }, async (s) => {
  await s.close();
  return openSqliteStore(file());
}).run();
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
