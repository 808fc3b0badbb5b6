// hookwire publish <name> [data]: publish an event from the cloud, to devices and integrations
// (POST /v1/devices/events, Particle's publish).

import { defineCommand, usageError } from '../command.ts';

export default defineCommand({
  name: 'publish',
  summary: 'publish an event from the cloud: subscribed devices receive it, integrations fire on it',
  usage: 'publish <name> [data] [--private] [--ttl seconds] [--product id] [--json]',
  options: { private: { type: 'boolean' }, ttl: { type: 'string' }, product: { type: 'string' }, json: { type: 'boolean' } },
  args: 2,
  async run({ values, args }, ctx) {
    const [name, data] = args;
    if (!name) throw usageError('publish needs an event name');
    const body: Record<string, unknown> = { name };
    if (data !== undefined) body.data = data;
    // Particle accepts both and implements neither: every event is private, every ttl 60.
    if (values.private) body.private = true;
    if (values.ttl !== undefined) body.ttl = values.ttl;
    const path = values.product === undefined ? '/v1/devices/events' : `/v1/products/${encodeURIComponent(values.product)}/events`;
    const answer = await ctx.api().request<{ ok: boolean }>('POST', path, body);
    ctx.out(values.json ? JSON.stringify(answer) : `Published ${name}${data === undefined ? '' : ` (${Buffer.byteLength(data)} bytes of data)`}`);
    return 0;
  },
});
