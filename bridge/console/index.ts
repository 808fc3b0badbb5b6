// The web console, served by the bridge on its HTTP port:
//
//   GET    /console[/…]                 the page (every console URL is the same page; it routes itself)
//   GET    /console/assets/<file>       the bundled script and stylesheet (bundle.ts)
//   POST   /console/session {token}     sign in: an API token for a session cookie
//   GET    /console/session             who is signed in, and the CSRF value for changes
//   DELETE /console/session             sign out
//
// The console reads and changes everything through the HTTP API, signed in by the cookie
// (bridge/api/auth.ts).

import type { FastifyReply, FastifyRequest } from 'fastify';
import { invalidToken, loginLimited } from '../api/auth.ts';
import type { ApiContext } from '../api/context.ts';
import { sendError } from '../api/errors.ts';
import { hashSecret } from '../ids.ts';
import type { SessionRecord, ApiTokenRecord } from '../store/index.ts';
import { consoleBundle as bundle, type Bundle } from './bundle.ts';

/**
 * Scripts, styles and connections from the bridge alone; no frames, no plugins, no inline
 * script. Styles set from script (uPlot's, Preact's style props) are not inline markup and
 * need no exception.
 */
const CSP = [
  "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
  "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'", "form-action 'self'",
].join('; ');

function page(bundle: Bundle): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Hookwire</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/console/assets/${bundle.style}">
<script type="module" src="/console/assets/${bundle.script}"></script>
</head>
<body>
<div id="app"></div>
<noscript>The Hookwire console needs JavaScript. Everything it shows is also in the HTTP API and the hookwire CLI.</noscript>
</body>
</html>
`;
}

/** What the console knows about who is signed in. */
function whoJson(token: ApiTokenRecord, session: SessionRecord, listening: ApiContext['listening'], tls: boolean) {
  return {
    username: token.name,
    scope: token.scope,
    token_id: token.id,
    csrf: session.csrf,
    expires_at: new Date(session.expiresAt).toISOString(),
    // Where devices connect, on the host the browser reached: the console's device snippets.
    broker: { mqtt_port: listening?.mqttPort || null, mqtts_port: listening?.mqttsPort || null, websocket_path: '/mqtt', tls },
  };
}

/** A sign-in from another site's page (login CSRF) is refused; browsers send Origin on every POST. */
function crossSite(req: FastifyRequest): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return false;
  try {
    return new URL(origin).host !== req.host;
  } catch {
    return true;
  }
}

export default function consoleRoutes({ app, store, limiter, sessions, bus, logger, listening, tls }: ApiContext) {
  const who = (token: ApiTokenRecord, session: SessionRecord) => whoJson(token, session, listening, tls !== undefined);
  const publicRoute = { config: { scope: 'public' as const } };

  const sendPage = async (_req: FastifyRequest, reply: FastifyReply) => {
    reply.header('content-security-policy', CSP).header('x-frame-options', 'DENY').header('referrer-policy', 'same-origin');
    return reply.type('text/html; charset=utf-8').send(page(await bundle()));
  };
  app.get('/console', publicRoute, sendPage);
  app.get('/console/*', publicRoute, async (req: FastifyRequest<{ Params: { '*': string } }>, reply) => {
    if (req.params['*'].startsWith('assets/')) return sendError(reply, 'NOT_FOUND', `no console asset ${req.params['*'].slice(7)}`);
    return sendPage(req, reply);
  });

  app.get('/console/assets/:file', publicRoute, async (req: FastifyRequest<{ Params: { file: string } }>, reply) => {
    const asset = (await bundle()).assets.get(req.params.file);
    if (!asset) return sendError(reply, 'NOT_FOUND', `no console asset ${req.params.file}`);
    // Named by their content: a new version has a new name.
    reply.type(asset.type).header('cache-control', 'public, max-age=31536000, immutable').header('etag', asset.etag).header('vary', 'accept-encoding');
    if (req.headers['if-none-match'] === asset.etag) return reply.code(304).send();
    const accepts = String(req.headers['accept-encoding'] ?? '');
    if (/\bbr\b/.test(accepts)) return reply.header('content-encoding', 'br').send(asset.br);
    if (/\bgzip\b/.test(accepts)) return reply.header('content-encoding', 'gzip').send(asset.gzip);
    return reply.send(asset.raw);
  });

  app.post('/console/session', publicRoute, async (req, reply) => {
    if (crossSite(req)) return sendError(reply, 'CROSS_SITE', 'sign in from the console page itself');
    const body = req.body as Record<string, unknown> | undefined;
    const secret = body && typeof body === 'object' ? body.token : undefined;
    if (typeof secret !== 'string' || secret.trim() === '') {
      return sendError(reply, 'BAD_REQUEST', 'token is required: an API token (hookwire tokens create <name>)', { field: 'token' });
    }
    if (limiter.blocked(req.ip, 'http')) return loginLimited(reply);
    const token = await store.tokens.findByHash(hashSecret(secret.trim()));
    if (!token) {
      limiter.failed(req.ip, 'http');
      return invalidToken(reply);
    }
    const session = await sessions.signIn(token, req, reply);
    logger.info({ remote: req.ip, tokenId: token.id, scope: token.scope }, 'console sign-in');
    return { signed_in: true, ...who(token, session) };
  });

  // Asked by every console load: not being signed in is an answer, not an error.
  app.get('/console/session', publicRoute, async (req) => {
    const signedIn = await sessions.fromRequest(req);
    return signedIn ? { signed_in: true, ...who(signedIn.token, signedIn.session) } : { signed_in: false };
  });

  // Any scope may sign out; the CSRF header is checked like any change made with the cookie.
  app.delete('/console/session', { config: { scope: 'read' as const } }, async (req, reply) => {
    const signedIn = req.consoleSession;
    if (!signedIn) return sendError(reply, 'BAD_REQUEST', 'not signed in to the console: this token is in the request itself');
    await sessions.signOut(signedIn.session, req, reply);
    bus.emit('session:ended', signedIn.session.idHash);
    logger.info({ remote: req.ip, tokenId: signedIn.token.id }, 'console sign-out');
    return reply.code(204).send();
  });
}
