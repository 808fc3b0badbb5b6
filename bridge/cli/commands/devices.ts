// hookwire devices add|list|get|remove|token

import { parseArgs } from 'node:util';
import { table, type Command } from '../command.ts';

interface DeviceJson {
  id: string;
  name: string | null;
  product_id: number | null;
  firmware_version: number | null;
  connected: boolean;
  last_heard: string | null;
  token?: string;
}

const devices: Command = {
  name: 'devices',
  summary: 'add, list, show, remove devices; rotate a device token',
  usage: 'devices add [--name N] [--product P] [--firmware V] [--json] | list | get <id> | remove <id> | token <id>',
  async run(args, ctx) {
    const { values, positionals } = parseArgs({
      args,
      options: { name: { type: 'string' }, product: { type: 'string' }, firmware: { type: 'string' }, json: { type: 'boolean' } },
      allowPositionals: true,
    });
    const [sub, id] = positionals;
    const api = ctx.api();
    const print = (value: unknown, text: () => string[]) => {
      for (const line of values.json ? [JSON.stringify(value, null, 2)] : text()) ctx.out(line);
    };
    const need = () => {
      if (!id) throw Object.assign(new Error(`"devices ${sub}" needs a device ID or name`), { code: 'ERR_PARSE_ARGS_MISSING' });
      return encodeURIComponent(id);
    };

    switch (sub) {
      case 'add': {
        const body: Record<string, unknown> = {};
        if (values.name) body.name = values.name;
        if (values.product) body.product_id = values.product;
        if (values.firmware) body.firmware_version = values.firmware;
        const d = await api.request<DeviceJson>('POST', '/v1/devices', body);
        const mqtt = new URL(api.baseUrl).hostname;
        print(d, () => [
          `Device ${d.id}${d.name ? ` (${d.name})` : ''} added.`,
          `Token (shown once, keep it): ${d.token}`,
          '',
          'Connect as this device: client ID = username = device ID, password = token, e.g.',
          `  mosquitto_pub -h ${mqtt} -p 1883 -i ${d.id} -u ${d.id} -P ${d.token} -t temp -m 21.5`,
        ]);
        return 0;
      }
      case 'list': {
        const list = await api.request<DeviceJson[]>('GET', '/v1/devices');
        print(list, () => list.length === 0 ? ['No devices yet: hookwire devices add --name <name>'] : table([
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
      default:
        ctx.err(`usage: hookwire ${devices.usage}`);
        return 2;
    }
  },
};

export default devices;
