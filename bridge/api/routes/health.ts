// GET /health: is the bridge up, and what is it serving.

import type { ApiContext } from '../context.ts';

export default function health({ app, broker, store, version, startedAt }: ApiContext) {
  app.get('/health', { config: { scope: 'public' } }, async () => ({
    ok: true,
    version,
    uptime_s: Math.round((Date.now() - startedAt) / 1000),
    store: store.backend,
    devices_connected: broker.connectedDevices(),
  }));
}
