// Request bins: `/bin/<name>[/<anything>]` captures any request (public: external services
// and the bridge's own integrations post there) and answers as configured; `/v1/bins` shows
// what was captured, with a long-poll for watching.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HookwireError, NotFoundError } from '../../errors.ts';
import { REDACTED, readerHeaders, redactBody, redactHeaders } from '../../redact.ts';
import { Bins, DEFAULT_RESPONSE, SharedBins, checkBinName, type BinKeeper, type BinResponse, type BinSummary, type CapturedRequest } from '../bins.ts';
import type { ApiContext } from '../context.ts';
import { bodyOf } from '../input.ts';

type NameReq = FastifyRequest<{ Params: { name: string }; Querystring: { after?: string; wait?: string } }>;

/** Header names a bin may not set: the server frames the response itself. */
const FRAMING = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade']);
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** A bin's response from a PUT body: `{status?, body?, headers?}`; what is left out takes its default. */
function parseResponse(raw: unknown): BinResponse {
  const body = bodyOf(raw);
  let status = DEFAULT_RESPONSE.status;
  if (body.status !== undefined) {
    status = typeof body.status === 'string' && /^\d+$/.test(body.status) ? Number(body.status) : (body.status as number);
    if (!Number.isInteger(status) || status < 200 || status > 599) throw new HookwireError('BAD_REQUEST', 'status must be an HTTP status from 200 to 599', { field: 'status' });
  }
  const headers: Record<string, string> = {};
  if (body.headers !== undefined) {
    if (!body.headers || typeof body.headers !== 'object' || Array.isArray(body.headers)) throw new HookwireError('BAD_REQUEST', 'headers must be an object of header names to values', { field: 'headers' });
    for (const [k, v] of Object.entries(body.headers)) {
      const field = `headers.${k}`;
      if (!TOKEN.test(k) || FRAMING.has(k.toLowerCase())) throw new HookwireError('BAD_REQUEST', `${field} is not a header a bin may set`, { field });
      if ((typeof v !== 'string' && typeof v !== 'number') || /[\r\n\0]/.test(String(v))) throw new HookwireError('BAD_REQUEST', `${field} must be a string on one line`, { field });
      headers[k.toLowerCase()] = String(v);
    }
  }
  let text = DEFAULT_RESPONSE.body;
  let json = true;
  if (body.body !== undefined && body.body !== null) {
    // A string is sent as it is; any other JSON value as its JSON text.
    text = typeof body.body === 'string' ? body.body : JSON.stringify(body.body);
    json = typeof body.body !== 'string' || looksLikeJson(body.body);
  }
  headers['content-type'] ??= json ? 'application/json; charset=utf-8' : 'text/plain; charset=utf-8';
  return { status, headers, body: text };
}

function looksLikeJson(text: string): boolean {
  if (!/^\s*[[{]/.test(text)) return false;
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** A whole number ≥ 0 from the query, or undefined when absent. */
function queryNumber(value: string | undefined, field: string, max: number, whole: boolean): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > max || (whole && !Number.isInteger(n))) {
    throw new HookwireError('BAD_REQUEST', `${field} must be a ${whole ? 'whole ' : ''}number from 0 to ${max}`, { field });
  }
  return n;
}

/**
 * What a read-only token may see of a captured request (often an integration's, carrying its
 * template's keys): query values and header values other than plain ones (content type,
 * user agent, ...) blanked, body fields named like credentials blanked.
 */
function masked(r: CapturedRequest): CapturedRequest {
  const query: Record<string, string | string[]> = {};
  for (const k of Object.keys(r.query)) query[k] = REDACTED;
  const qs = new URLSearchParams(r.query_string);
  for (const k of [...qs.keys()]) qs.set(k, REDACTED);
  const contentType = r.headers['content-type'];
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(r.headers)) headers[k] = readerHeaders({ [k]: Array.isArray(v) ? v.join(', ') : v }, new Set(), true)[k]!;
  return {
    ...r,
    query,
    query_string: r.query_string && qs.toString(),
    headers,
    body: r.body_encoding === 'utf8' ? redactBody(r.body, typeof contentType === 'string' ? contentType : undefined) : r.body,
  };
}

const isAdmin = (req: FastifyRequest) => req.token?.scope === 'admin';

/** Capture routes in their own scope: a raw-buffer parser for every content type, only here. */
function captureRoutes(bins: BinKeeper) {
  return async function capture(scope: FastifyInstance) {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    const handler = async (req: FastifyRequest<{ Params: { name: string } }>, reply: FastifyReply) => {
      const name = checkBinName(req.params.name);
      const response = await bins.capture(name, {
        method: req.method,
        url: req.url,
        headers: req.headers,
        body: Buffer.isBuffer(req.body) ? req.body : undefined,
        remoteAddress: req.ip,
      });
      if (!response) throw new NotFoundError('BIN_NOT_FOUND', `no bin ${name}, and no room for another: make it with a token (PUT /v1/bins/${name}), which drops the least recently used bin`);
      return reply.code(response.status).headers(response.headers).send(response.body);
    };
    const options = { config: { scope: 'public' as const } };
    scope.all('/bin/:name', options, handler);
    scope.all('/bin/:name/*', options, handler);
  };
}

export default function bins({ app, store: shared }: ApiContext) {
  // Bridges sharing a store share its bins; one bridge keeps them in memory.
  const store: BinKeeper = shared.bins ? new SharedBins(shared.bins) : new Bins();
  // Long-polls end when the server closes, so closing never waits up to 25 s for them.
  app.addHook('preClose', async () => store.close());

  app.register(captureRoutes(store));

  const urlOf = (req: FastifyRequest, name: string) => `${req.protocol}://${req.host}/bin/${name}`;
  const view = (req: FastifyRequest, s: BinSummary) => ({
    ...s,
    url: urlOf(req, s.name),
    response: isAdmin(req) ? s.response : { ...s.response, headers: redactHeaders(s.response.headers) },
  });
  const notFound = (name: string) => new NotFoundError('BIN_NOT_FOUND', `no bin ${name}: it is made by its first request to /bin/${name}, or by PUT /v1/bins/${name}`);

  app.get('/v1/bins', async (req) => (await store.list()).map((s) => view(req, s)));

  // Newest last. `after` skips what a watcher has seen; `wait` holds the request open until
  // one comes (a watcher may start before the bin's first request).
  app.get('/v1/bins/:name', async (req: NameReq, reply: FastifyReply) => {
    const name = checkBinName(req.params.name);
    const after = queryNumber(req.query.after, 'after', Number.MAX_SAFE_INTEGER, true) ?? 0;
    const wait = queryNumber(req.query.wait, 'wait', store.options.maxWaitSec, false) ?? 0;
    if (wait > 0) {
      const gone = new AbortController();
      const abort = () => gone.abort();
      reply.raw.once('close', abort);
      await store.wait(name, after, wait * 1000, gone.signal);
      reply.raw.off('close', abort);
    }
    const found = await store.summary(name);
    if (!found && wait === 0) throw notFound(name);
    const s = found ?? { name, created_at: null, last_request_at: null, count: 0, total: 0, response: DEFAULT_RESPONSE };
    const requests = await store.requests(name, after);
    return {
      ...view(req, s as BinSummary),
      last_id: requests.at(-1)?.id ?? after,
      requests: isAdmin(req) ? requests : requests.map(masked),
    };
  });

  app.put('/v1/bins/:name', async (req: NameReq) => {
    const name = checkBinName(req.params.name);
    return view(req, await store.configure(name, parseResponse(req.body)));
  });

  app.delete('/v1/bins/:name', async (req: NameReq) => {
    const name = checkBinName(req.params.name);
    if (!(await store.clear(name))) throw notFound(name);
    return { ok: true };
  });
}
