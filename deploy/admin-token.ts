// One admin token for every bridge of compose.yaml: made once in the shared PostgreSQL store
// (HOOKWIRE_STORE) and kept in <dir>/admin-token (default /admin), which each bridge copies
// into its own data directory before it starts. Without it each bridge would make its own
// admin token on its first start. Run again, it keeps the token it finds valid.
//
//   node --import tsx deploy/admin-token.ts [dir]

import { ensureAdminToken } from '../bridge/admin-token.ts';
import { privateDir, privateFile } from '../bridge/data-dir.ts';
import { createLogger } from '../bridge/log.ts';
import { isPostgresUrl, openPostgresStore } from '../bridge/store/index.ts';

const url = process.env.HOOKWIRE_STORE;
const dir = process.argv[2] ?? '/admin';
if (!isPostgresUrl(url)) {
  console.error('admin-token: HOOKWIRE_STORE must be the postgres:// URL of the store the bridges share');
  process.exit(1);
}
const logger = createLogger({ level: 'info', pretty: false });
await privateDir(dir, logger);
// The tables are created here if they are not yet, as the first bridge would.
const store = await openPostgresStore(url, { maxConnections: 1 });
try {
  const admin = await ensureAdminToken(store, dir);
  await privateFile(admin.path, logger, false);
  logger.info({ file: admin.path, created: admin.created !== undefined }, admin.created ? 'made the admin token' : 'admin token kept');
} finally {
  await store.close();
}
