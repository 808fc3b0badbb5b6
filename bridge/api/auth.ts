// API authentication: `Authorization: Bearer <token>`, or `access_token` in the query or a
// form body (Particle's clients and curl use both). Tokens are looked up by hash.

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ConsoleSessions } from '../console/session.ts';
import { hashSecret } from '../ids.ts';
import type { LoginLimiter } from '../login-limit.ts';
import type { ApiTokenRecord, Store, TokenScope } from '../store/index.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The API token that authenticated this request. */
    token?: ApiTokenRecord;
  }
  interface FastifyContextConfig {
    /**
     * The scope a route needs; default `read` for GET, `admin` otherwise; `public` for none; or
     * a function of the request, for a route whose parameters are themselves a credential.
     */
    scope?: TokenScope | 'public' | ((req: FastifyRequest) => TokenScope | 'public');
  }
}

/** The token a request carries, wherever Particle's clients put it. */
export function presentedToken(req: FastifyRequest): string | undefined {
  const header = req.headers.authorization;
  if (header) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return m?.[1];
  }
  const query = req.query as Record<string, unknown> | undefined;
  if (typeof query?.access_token === 'string') return query.access_token;
  const body = req.body as Record<string, unknown> | undefined;
  if (body && typeof body === 'object' && typeof body.access_token === 'string') return body.access_token;
  return undefined;
}

/** Particle's 401 body. */
export function invalidToken(reply: FastifyReply, description = 'The access token provided is invalid.') {
  return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'invalid_token', error_description: description });
}

/** An address that failed to log in too often (bridge/login-limit.ts). */
export function loginLimited(reply: FastifyReply) {
  return reply.code(429).header('retry-after', '60').send({ ok: false, error: 'Too many failed logins from this address; try again in a minute.', code: 'LOGIN_LIMITED' });
}

const forbidden = (reply: FastifyReply) => reply.code(403).send({ ok: false, error: 'This token is read-only.', code: 'FORBIDDEN' });

/**
 * Authenticate by the token a request carries or, without one, by a console session cookie
 * (bridge/console/session.ts); a change made with the cookie must carry the session's CSRF
 * header.
 */
export function authHook(store: Store, limiter: LoginLimiter, sessions: ConsoleSessions) {
  return async function authenticate(req: FastifyRequest, reply: FastifyReply) {
    const scope = req.routeOptions.config.scope;
    const safe = req.method === 'GET' || req.method === 'HEAD';
    const needed = (typeof scope === 'function' ? scope(req) : scope) ?? (safe ? 'read' : 'admin');
    if (needed === 'public') return;
    const secret = presentedToken(req);
    if (!secret) {
      const signedIn = await sessions.fromRequest(req);
      if (!signedIn) return invalidToken(reply, 'The access token was not found.');
      if (needed === 'admin' && signedIn.token.scope !== 'admin') return forbidden(reply);
      if (!safe && !sessions.csrfOk(req, signedIn.session)) {
        return reply.code(403).send({ ok: false, error: 'A change made with a console session needs its X-CSRF-Token header.', code: 'CROSS_SITE' });
      }
      req.token = signedIn.token;
      req.consoleSession = signedIn;
      return;
    }
    if (limiter.blocked(req.ip, 'http')) {
      return loginLimited(reply);
    }
    const token = await store.tokens.findByHash(hashSecret(secret));
    if (!token) {
      limiter.failed(req.ip, 'http');
      return invalidToken(reply);
    }
    if (needed === 'admin' && token.scope !== 'admin') return forbidden(reply);
    req.token = token;
  };
}
