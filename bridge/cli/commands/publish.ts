// hookwire publish <name> [data]: publish an event from the cloud, to devices and integrations
// (POST /v1/devices/events, Particle's publish).

import { parseArgs } from 'node:util';
import type { Command } from '../command.ts';

const publish: Command = {
  name: 'publish',
  summary: 'publish an event from the cloud: subscribed devices receive it, integrations fire on it',
  usage: 'publish <name> [data] [--private] [--ttl seconds] [--product id] [--json]',
  async run(args, ctx) {
    const { values, positionals } = parseArgs({
      args,
      options: { private: { type: 'boolean' }, ttl: { type: 'string' }, product: { type: 'string' }, json: { type: 'boolean' } },
      allowPositionals: true,
    });
    const [name, data, ...extra] = positionals;
    if (!name) throw Object.assign(new Error('publish needs an event name'), { code: 'ERR_PARSE_ARGS_MISSING' });
    if (extra.length) throw Object.assign(new Error('give the data as one argument (quote it)'), { code: 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL' });
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
};

export default publish;
