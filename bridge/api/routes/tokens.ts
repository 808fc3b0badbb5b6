// API tokens: create (the secret is shown once), list, revoke. Scopes: `admin` may change
// things, `read` may only look (dashboards, Prometheus). Admin scope for all, except that any
// token may revoke itself. Revoking ends what the token opened: MQTT sessions, event streams.

import { randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { HookwireError, NotFoundError } from '../../errors.ts';
import { hashSecret, newSecret } from '../../ids.ts';
import type { ApiTokenRecord, TokenScope } from '../../store/index.ts';
import { loginLimited } from '../auth.ts';
import type { ApiContext } from '../context.ts';
import { bodyOf, optionalString } from '../input.ts';

const NAME = { pattern: /^[^\x00-\x1f\x7f]{1,100}$/, describe: 'must be 1-100 characters, no control characters' };
const SCOPES: readonly TokenScope[] = ['admin', 'read'];

/** A token as the API shows it: never its hash, never its secret. */
export function tokenJson(t: ApiTokenRecord) {
  return { id: t.id, name: t.name, scope: t.scope, created_at: t.createdAt, revoked_at: t.revokedAt };
}

const admin = { config: { scope: 'admin' as const } };

/** A token's value (rather than its ID) in the path. */
const isTokenValue = (s: string) => s.startsWith('hwt_');

export default function tokens({ app, store, bus, limiter }: ApiContext) {
  app.post('/v1/access_tokens', admin, async (req, reply) => {
    const body = bodyOf(req.body);
    const name = optionalString(body, ['name'], NAME);
    if (name === undefined) throw new HookwireError('BAD_REQUEST', 'name is required: who or what uses the token (e.g. "grafana")', { field: 'name' });
    const scope = optionalString(body, ['scope']) ?? 'read';
    if (!(SCOPES as readonly string[]).includes(scope)) throw new HookwireError('BAD_REQUEST', 'scope must be "admin" or "read"', { field: 'scope' });
    const secret = newSecret('hwt_');
    const record = await store.tokens.create({ id: randomUUID(), name, scope: scope as TokenScope, tokenHash: hashSecret(secret) });
    return reply.code(201).send({ ...tokenJson(record), token: secret });
  });

  app.get('/v1/access_tokens', admin, async () => (await store.tokens.list()).map(tokenJson));

  /** Revoke a token: the next request with it gets 401, and what it opened ends now. */
  async function revoke(found: ApiTokenRecord) {
    if (!found.revokedAt && await store.tokens.revoke(found.id)) bus.emit('token:revoked', found.id);
    const after = (await store.tokens.list()).find((t) => t.id === found.id)!;
    return { ok: true, ...tokenJson(after) };
  }

  // Particle's `particle logout`: the token that makes the call revokes itself (any scope).
  app.delete('/v1/access_tokens/current', { config: { scope: 'read' as const } }, async (req) => revoke(req.token!));

  // By ID (an admin token), or by the token's value, which is its own credential: Particle's
  // `particle token revoke <token>` sends the value, with no bearer token of ours.
  const byIdOrValue = { config: { scope: (req: FastifyRequest) => (isTokenValue((req.params as { id: string }).id) ? 'public' as const : 'admin' as const) } };
  app.delete('/v1/access_tokens/:id', byIdOrValue, async (req: FastifyRequest<{ Params: { id: string } }>, reply) => {
    const { id } = req.params;
    if (isTokenValue(id) && limiter.blocked(req.ip, 'http')) return loginLimited(reply);
    const found = isTokenValue(id) ? await store.tokens.findByHash(hashSecret(id)) : (await store.tokens.list()).find((t) => t.id === id);
    // A token's value is a secret: never echoed back, and a wrong one counts as a failed login.
    if (!found && isTokenValue(id)) limiter.failed(req.ip, 'http');
    if (!found) throw new NotFoundError('TOKEN_NOT_FOUND', isTokenValue(id) ? 'no such API token' : `no API token ${id}`);
    return revoke(found);
  });
}
