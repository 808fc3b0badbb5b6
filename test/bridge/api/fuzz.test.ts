// Fuzzing every API route (seeded, bounded): random JSON, malformed bodies, odd query strings
// and path parameters, as the admin. The bridge never answers 500, every refusal carries a
// code, and it keeps serving (a device's QoS 1 publishes are still acknowledged after).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { request } from 'undici';
import { connectDevice } from '../../../firmware-sdk/index.ts';
import { testBridge, type TestBridge } from '../../helpers/bridge.ts';
import { FUZZ_SEED, rng, type Rng } from '../../helpers/fuzz.ts';

const REQUESTS = 1_500;
const BUDGET_MS = 6_000;

let b: TestBridge;
test.before(async () => {
  b = await testBridge();
});
test.after(async () => {
  await b?.stop();
});

interface Route {
  path: string;
  methods: string[];
}

/** Every route, from fastify's own tree (so a new route is fuzzed without a change here). */
function routes(tree: string): Route[] {
  const out: Route[] = [];
  const stack: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^([│ ]*)[├└]── (\S+) \(([A-Z, ]+)\)$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    stack.push(m[2] === '*' ? '/*' : m[2]!);
    out.push({ path: stack.join(''), methods: m[3]!.split(', ') });
  }
  return out;
}

/** Percent-encoded; a lone surrogate becomes U+FFFD first (encodeURIComponent throws on one). */
const enc = (s: string) => encodeURIComponent(Buffer.from(s, 'utf8').toString('utf8'));

/** A value for a path parameter: sometimes a real ID, so the fuzz reaches past the lookups. */
function param(r: Rng, name: string, real: Record<string, string[]>): string {
  const known = real[name] ?? [];
  if (known.length && r.chance(0.5)) return r.pick(known);
  return enc(r.pick([r.text(30), '0', '-1', 'a'.repeat(24), 'x'.repeat(300), '..%2F..']));
}

test(`${REQUESTS} random requests over every route (seed ${FUZZ_SEED}): never a 500, every refusal with a code`, async () => {
  const d = await b.addDevice({ name: 'fuzzed', product_id: 7 });
  const integration = (await b.call('POST', '/v1/integrations', { event: 'temp', url: 'http://127.0.0.1:9/x' })).body.id as string;
  const real = { id: [d.id, integration], name: ['fuzzbin'], product: ['7'] };
  // Event streams stay open; revoking the calling token would end the run: both are tested elsewhere.
  const skip = (path: string, method: string) => (method === 'GET' && path.includes('events')) || path === '/v1/access_tokens/current' || method === 'HEAD' || method === 'TRACE';
  const all = routes(b.api.printRoutes({ commonPrefix: false })).flatMap((route) => route.methods.filter((m) => !skip(route.path, m)).map((method) => ({ ...route, method })));
  assert.ok(all.length > 40, `${all.length} routes found`);

  const r = rng();
  const started = Date.now();
  const failures: string[] = [];
  let sent = 0;
  for (; sent < REQUESTS && Date.now() - started < BUDGET_MS; sent++) {
    const route = r.pick(all);
    const path = route.path.replace(/:(\w+)/g, (_, name: string) => param(r, name, real)).replace('/*', `/${enc(r.text(20))}`);
    const query = r.chance(0.3) ? `?${r.pick(['since', 'limit', 'period', 'integration', 'probe', 'wait', 'after', 'all', r.text(5)])}=${enc(r.text(12))}` : '';
    const kind = r.int(4);
    const body = route.method === 'GET' || route.method === 'DELETE' ? undefined
      : kind === 0 ? r.text(200) : kind === 1 ? '' : JSON.stringify(r.json(4));
    const headers: Record<string, string> = { authorization: `Bearer ${b.token}` };
    if (body !== undefined) headers['content-type'] = r.pick(['application/json', 'application/json', 'application/x-www-form-urlencoded', 'text/plain']);
    const res = await request(`${b.url}${path}${query}`, { method: route.method as 'GET', headers, body, headersTimeout: 10_000 });
    const text = await res.body.text();
    const what = `${route.method} ${path}${query} ${body?.slice(0, 120) ?? ''} → ${res.statusCode} ${text.slice(0, 200)}`;
    if (res.statusCode >= 500) failures.push(what);
    else if (res.statusCode >= 400 && !path.startsWith('/bin/')) {
      let parsed: { code?: unknown; error?: unknown } | undefined;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      if (typeof parsed?.code !== 'string' && typeof parsed?.error !== 'string') failures.push(`no code: ${what}`);
    }
  }
  assert.equal(failures.slice(0, 5), [], `${failures.length} of ${sent} requests failed`);
  assert.ok(sent >= 300, `only ${sent} requests in the time allowed`);

  // And it keeps serving (a new device: the fuzz may have deleted the first or changed its token).
  const fresh = await b.addDevice();
  const device = await connectDevice({ url: b.mqttUrl, deviceId: fresh.id, token: fresh.token });
  await device.publish('after-fuzz', '1', { qos: 1 });
  await device.disconnect();
  assert.is((await b.call('GET', '/health')).status, 200);
});

test.run();
