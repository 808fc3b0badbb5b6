// GET /health: is the bridge up, and what is it serving.

import type { ApiContext } from '../context.ts';

export default function health({ app, broker, store, version, startedAt, doctor }: ApiContext) {
  app.get('/health', { config: { scope: 'public' } }, async (_req, reply) => {
    const answer = {
      ok: true,
      version,
      uptime_s: Math.round((Date.now() - startedAt) / 1000),
      store: store.backend,
      // With a shared broker: connected to any of the bridges, and to this one.
      devices_connected: broker.connectedDevices(),
      ...(broker.shared && { devices_connected_here: broker.connectedDevices('bridge') }),
    };
    // A data directory deleted or replaced under the bridge: what it writes now goes nowhere
    // a restart will find. Not healthy, whatever else works.
    const [problem] = await doctor.storageProblems();
    if (problem) {
      return reply.code(503).send({ ...answer, ok: false, code: 'STORE_MISSING', error: `the ${problem.role} ${problem.path} was ${problem.kind} while the bridge was running: run hookwire doctor before restarting` });
    }
    return answer;
  });
}
