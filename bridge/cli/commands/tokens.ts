// hookwire tokens create|list|revoke: API tokens with a scope (`read` for dashboards).

import { defineCommand, table, usageError } from '../command.ts';

interface TokenJson {
  id: string;
  name: string;
  scope: 'admin' | 'read';
  created_at: string;
  revoked_at: string | null;
  token?: string;
}

export default defineCommand({
  name: 'tokens',
  summary: 'create (admin or read-only), list, revoke API tokens',
  usage: 'tokens',
  options: { scope: { type: 'string' }, json: { type: 'boolean' } },
  common: ['json'],
  subcommands: {
    create: { usage: 'create <name> [--scope read|admin (default read)] [--json]', summary: 'a new API token, shown once; read may only read (GET)', args: 1, options: ['scope'] },
    list: { usage: 'list [--json]', summary: 'every API token, revoked ones too', args: 0 },
    revoke: { usage: 'revoke <id> [--json]', summary: 'revoke an API token: it gets 401 from then on', args: 1 },
  },
  async run({ values, sub, args }, ctx) {
    const [arg] = args;
    const api = ctx.api();
    const print = (value: unknown, text: () => string[]) => {
      for (const line of values.json ? [JSON.stringify(value, null, 2)] : text()) ctx.out(line);
    };
    const need = (what: string) => {
      if (!arg) throw usageError(`"tokens ${sub}" needs ${what}`);
      return arg;
    };

    switch (sub) {
      case 'create': {
        const t = await api.request<TokenJson>('POST', '/v1/access_tokens', { name: need('a name (who or what uses it)'), scope: values.scope ?? 'read' });
        print(t, () => [
          `Token ${t.id} (${t.name}, ${t.scope}) created.`,
          `Token (shown once, keep it): ${t.token}`,
          '',
          t.scope === 'read' ? 'It may read (GET) but not change anything. Use it as: Authorization: Bearer <token>' : 'It may do anything the admin token does.',
        ]);
        return 0;
      }
      case 'list': {
        const list = await api.request<TokenJson[]>('GET', '/v1/access_tokens');
        print(list, () => table([
          ['ID', 'NAME', 'SCOPE', 'CREATED', 'REVOKED'],
          ...list.map((t) => [t.id, t.name, t.scope, t.created_at, t.revoked_at ?? '-']),
        ]));
        return 0;
      }
      case 'revoke': {
        const t = await api.request<TokenJson>('DELETE', `/v1/access_tokens/${encodeURIComponent(need('a token ID (see tokens list)'))}`);
        print(t, () => [`Token ${t.id} (${t.name}) revoked at ${t.revoked_at}: it gets 401 from now on.`]);
        return 0;
      }
    }
    throw new Error(`tokens: no subcommand ${sub}`); // parse.ts lets only the declared ones through
  },
});
