// hookwire bin url|watch|show|respond|clear|list: the built-in request bin.

import { ApiError, type ApiClient } from '../../client/index.ts';
import { BIN_NAME, type BinSummary, type CapturedRequest as Captured } from '../../api/index.ts';
import { defineCommand, table, UsageError, type CliContext } from '../command.ts';

/** A bin as GET /v1/bins/<name> answers. */
interface BinView extends BinSummary {
  url: string;
  last_id?: number;
  requests?: Captured[];
}

/** Seconds each long-poll waits; the bridge answers sooner when a request arrives. */
const WATCH_WAIT_SEC = 25;

/** One block per request: the request line, headers, a blank line, the body. */
function block(r: Captured): string[] {
  const lines = [`#${r.id}  ${r.received_at}  ${r.method} ${r.path}${r.query_string ? `?${r.query_string}` : ''}  from ${r.remote_address}`];
  for (const [k, v] of Object.entries(r.headers)) lines.push(`  ${k}: ${Array.isArray(v) ? v.join(', ') : v}`);
  if (r.body_bytes > 0) {
    lines.push('');
    const note = [r.body_encoding === 'base64' ? 'base64, not UTF-8' : '', r.truncated ? `first part of ${r.body_bytes} bytes` : ''].filter(Boolean).join('; ');
    lines.push(...r.body.split('\n').map((l) => `  ${l}`));
    if (note) lines.push(`  (${note})`);
  }
  lines.push('');
  return lines;
}

const path = (name: string) => `/v1/bins/${encodeURIComponent(name)}`;

/** The bin, or undefined when it has had no request yet. */
async function fetchBin(api: ApiClient, name: string, query = ''): Promise<BinView | undefined> {
  try {
    return await api.request<BinView>('GET', path(name) + query);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return undefined;
    throw err;
  }
}

/** Long-poll for new requests and print each as it comes, until interrupted. */
async function watch(api: ApiClient, name: string, ctx: CliContext, json: boolean, all: boolean): Promise<number> {
  const first = await fetchBin(api, name);
  let after = first?.last_id ?? 0;
  const print = (r: Captured) => {
    for (const line of json ? [JSON.stringify(r)] : block(r)) ctx.out(line);
  };
  if (all) for (const r of first?.requests ?? []) print(r);
  // On stderr, so `--json` output stays one request per line.
  ctx.err(`Watching ${api.baseUrl}/bin/${name} (Ctrl-C to stop)`);
  for (;;) {
    const next = await api.request<BinView>('GET', `${path(name)}?after=${after}&wait=${WATCH_WAIT_SEC}`);
    for (const r of next.requests ?? []) print(r);
    after = next.last_id ?? after;
  }
}

export default defineCommand({
  name: 'bin',
  summary: 'request bin: capture what is sent to /bin/<name>, watch it, choose the answer',
  usage: 'bin',
  options: {
    json: { type: 'boolean' },
    all: { type: 'boolean' },
    status: { type: 'string' },
    body: { type: 'string' },
    header: { type: 'string', multiple: true },
  },
  common: ['json'],
  subcommands: {
    url: { usage: 'url <name>', summary: 'the URL to point a webhook at', args: 1 },
    watch: { usage: 'watch <name> [--all] [--json]', summary: 'print requests as they arrive (--all: the kept ones first), until Ctrl-C', args: 1, options: ['all'] },
    show: { usage: 'show <name> [--json]', summary: 'the requests kept', args: 1 },
    respond: { usage: 'respond <name> --status N [--body text] [--header "K: V"]... [--json]', summary: 'choose what the bin answers', args: 1, options: ['status', 'body', 'header'] },
    clear: { usage: 'clear <name> [--json]', summary: 'forget the requests kept', args: 1 },
    list: { usage: 'list [--json]', summary: 'every bin', args: 0 },
  },
  async run({ values, sub, args }, ctx) {
    const [name] = args;
    const api = ctx.api();
    const need = () => {
      if (!name) throw new UsageError(`"bin ${sub}" needs a bin name`);
      if (!BIN_NAME.test(name)) throw new UsageError(`bin name "${name}" is invalid: use 1-64 characters of A-Z a-z 0-9 _ -`);
      return name;
    };
    const print = (value: unknown, text: () => string[]) => {
      for (const line of values.json ? [JSON.stringify(value, null, 2)] : text()) ctx.out(line);
    };

    switch (sub) {
      case 'url':
        ctx.out(`${api.baseUrl}/bin/${need()}`);
        return 0;
      case 'watch':
        return watch(api, need(), ctx, !!values.json, !!values.all);
      case 'show': {
        const view = await fetchBin(api, need());
        if (!view) {
          ctx.err(`No requests in bin ${name} yet: send one to ${api.baseUrl}/bin/${name}`);
          return 1;
        }
        print(view, () => [
          `Bin ${view.name}: ${view.count} kept, ${view.total} received; answers ${view.response.status}  ${view.url}`,
          '',
          ...(view.requests ?? []).flatMap(block),
        ]);
        return 0;
      }
      case 'respond': {
        const n = need();
        if (!values.status) throw new UsageError('"bin respond" needs --status, e.g. --status 500');
        const body: Record<string, unknown> = { status: values.status };
        if (values.body !== undefined) body.body = values.body;
        if (values.header?.length) {
          const headers: Record<string, string> = {};
          for (const h of values.header) {
            const colon = h.indexOf(':');
            if (colon < 1) throw new UsageError(`--header "${h}" must look like "Name: value"`);
            headers[h.slice(0, colon).trim()] = h.slice(colon + 1).trim();
          }
          body.headers = headers;
        }
        const view = await api.request<BinView>('PUT', path(n), body);
        print(view, () => [`Bin ${view.name} now answers ${view.response.status} with ${JSON.stringify(view.response.body)}  ${view.url}`]);
        return 0;
      }
      case 'clear':
        await api.request('DELETE', path(need()));
        print({ ok: true }, () => [`Bin ${name} cleared.`]);
        return 0;
      case 'list': {
        const list = await api.request<BinView[]>('GET', '/v1/bins');
        print(list, () => list.length === 0 ? [`No bins yet: send any request to ${api.baseUrl}/bin/<name>`] : table([
          ['NAME', 'KEPT', 'RECEIVED', 'LAST REQUEST', 'ANSWERS', 'URL'],
          ...list.map((b) => [b.name, String(b.count), String(b.total), b.last_request_at ?? '-', String(b.response.status), b.url]),
        ]));
        return 0;
      }
    }
    throw new Error(`bin: no subcommand ${sub}`); // parse.ts lets only the declared ones through
  },
});
