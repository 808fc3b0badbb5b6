// hookwire devices add|list|get|remove|token

import { defineCommand, table, usageError } from '../command.ts';

interface DeviceJson {
  id: string;
  name: string | null;
  /** A product's number, or "none" (a device in no product). */
  product_id: number | 'none';
  firmware_version: number | null;
  connected: boolean;
  last_heard: string | null;
  token?: string;
}

export default defineCommand({
  name: 'devices',
  summary: 'add, list, show, remove devices; rotate a device token',
  usage: 'devices',
  options: { name: { type: 'string' }, product: { type: 'string' }, firmware: { type: 'string' }, json: { type: 'boolean' } },
  common: ['json'],
  subcommands: {
    add: { usage: 'add [name] [--product P] [--firmware V] [--json]', summary: 'add a device (the name may also be given as --name N); prints its token once', args: 1, options: ['name', 'product', 'firmware'] },
    list: { usage: 'list [--json]', summary: 'every device, connected or not, with when it was last heard', args: 0 },
    get: { usage: 'get <id|name> [--json]', summary: 'one device', args: 1 },
    remove: { usage: 'remove <id|name> [--json]', summary: 'remove a device: its token stops working', args: 1 },
    token: { usage: 'token <id|name> [--json]', summary: 'a new token for a device (shown once); the old one stops working', args: 1 },
  },
  async run({ values, sub, args }, ctx) {
    const [id] = args;
    const api = ctx.api();
    const print = (value: unknown, text: () => string[]) => {
      for (const line of values.json ? [JSON.stringify(value, null, 2)] : text()) ctx.out(line);
    };
    const need = () => {
      if (!id) throw usageError(`"devices ${sub}" needs a device ID or name`);
      return encodeURIComponent(id);
    };

    switch (sub) {
      case 'add': {
        if (id !== undefined && values.name !== undefined && id !== values.name) {
          throw usageError(`two names: "${id}" and --name ${values.name}; give one`);
        }
        const body: Record<string, unknown> = {};
        const name = id ?? values.name;
        if (name) body.name = name;
        if (values.product) body.product_id = values.product;
        if (values.firmware) body.firmware_version = values.firmware;
        const d = await api.request<DeviceJson>('POST', '/v1/devices', body);
        const mqtt = new URL(api.baseUrl).hostname;
        print(d, () => [
          `Device ${d.id}${d.name ? ` (${d.name})` : ''} added.`,
          `Token (shown once, keep it): ${d.token}`,
          '',
          'Act as this device from this terminal (publish, and see what it receives):',
          `  hookwire device ${d.id} --token ${d.token} listen`,
          'or connect any MQTT client: client ID = username = device ID, password = token, e.g.',
          `  mosquitto_pub -h ${mqtt} -p 1883 -i ${d.id} -u ${d.id} -P ${d.token} -t temp -m 21.5`,
        ]);
        return 0;
      }
      case 'list': {
        const list = await api.request<DeviceJson[]>('GET', '/v1/devices');
        print(list, () => list.length === 0 ? ['No devices yet: hookwire devices add <name>'] : table([
          ['ID', 'NAME', 'PRODUCT', 'FIRMWARE', 'CONNECTED', 'LAST HEARD'],
          ...list.map((d) => [d.id, d.name ?? '-', String(d.product_id ?? '-'), String(d.firmware_version ?? '-'), d.connected ? 'yes' : 'no', d.last_heard ?? '-']),
        ]));
        return 0;
      }
      case 'get': {
        const d = await api.request<DeviceJson>('GET', `/v1/devices/${need()}`);
        print(d, () => Object.entries(d).map(([k, v]) => `${k.padEnd(17)} ${v ?? '-'}`));
        return 0;
      }
      case 'remove': {
        await api.request('DELETE', `/v1/devices/${need()}`);
        if (!values.json) ctx.out(`Device ${id} removed.`);
        else ctx.out(JSON.stringify({ ok: true }));
        return 0;
      }
      case 'token': {
        const r = await api.request<{ id: string; token: string }>('POST', `/v1/devices/${need()}/token`);
        print(r, () => [`New token for ${r.id} (shown once; the old one no longer works): ${r.token}`]);
        return 0;
      }
    }
    throw new Error(`devices: no subcommand ${sub}`); // parse.ts lets only the declared ones through
  },
});
