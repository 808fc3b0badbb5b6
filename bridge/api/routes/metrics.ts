// GET /metrics in Prometheus text format, for a `read` token (Prometheus sends it as
// `Authorization: Bearer`), from the bridge's metrics (bridge/metrics.ts).

import type { ApiContext } from '../context.ts';

export default function metrics({ app, metrics: collector }: ApiContext) {
  app.get('/metrics', async (_req, reply) => reply.type(collector.contentType).send(await collector.render()));
}
