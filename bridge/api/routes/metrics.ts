// GET /metrics in Prometheus text format, for a `read` token (Prometheus sends it as
// `Authorization: Bearer`). The collector lives as long as the API.

import { createMetrics } from '../../metrics.ts';
import type { ApiContext } from '../context.ts';

export default function metrics({ app, bus, broker, webhooks, store }: ApiContext) {
  const collector = createMetrics({ bus, broker, webhooks, store });
  app.addHook('onClose', async () => collector.close());

  app.get('/metrics', async (_req, reply) => reply.type(collector.contentType).send(await collector.render()));
}
