// API tokens: create (the secret is shown once), list, revoke. Scopes: `admin` may change
// things, `read` may only look (dashboards, Prometheus). Admin scope for all three.

import { randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { HookwireError, NotFoundError } from '../../errors.ts';
import { hashSecret, newSecret } from '../../ids.ts';
import type { ApiTokenRecord, TokenScope } from '../../store/index.ts';
import type { ApiContext } from '../context.ts';
import { bodyOf, optionalString } from '../input.ts';

const NAME = { pattern: /^[^\x00-\x1f\x7f]{1,100}$/, describe: 'must be 1-100 characters, no control characters' };
const SCOPES: readonly TokenScope[] = ['admin', 'read'];

/** A token as the API shows it: never its hash, never its secret. */
export function tokenJson(t: ApiTokenRecord) {
  return { id: t.id, name: t.name, scope: t.scope, created_at: t.createdAt, revoked_at: t.revokedAt };
}

const admin = { config: { scope: 'admin' as const } };

export default function tokens({ app, store }: ApiContext) {
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

  // Revoked at once: every request looks its token up, so the next one gets 401.
  app.delete('/v1/access_tokens/:id', admin, async (req: FastifyRequest<{ Params: { id: string } }>) => {
    const found = (await store.tokens.list()).find((t) => t.id === req.params.id);
    if (!found) throw new NotFoundError('TOKEN_NOT_FOUND', `no API token ${req.params.id}`);
    if (!found.revokedAt) await store.tokens.revoke(found.id);
    const after = (await store.tokens.list()).find((t) => t.id === found.id)!;
    return { ok: true, ...tokenJson(after) };
  });
}
