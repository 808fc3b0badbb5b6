// Error replies in Particle's shape, `{"ok": false, "error": "..."}`, plus Hookwire's
// stable `code` (and the `field` at fault, when there is one).

import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { HookwireError, type ErrorCode } from '../errors.ts';
import type { Logger } from '../log.ts';

export function sendError(reply: FastifyReply, status: number, code: ErrorCode, error: string, field?: string) {
  return reply.code(status).send(field ? { ok: false, error, code, field } : { ok: false, error, code });
}

/** fastify's own error codes, mapped to ours. */
const fastifyCodes: Record<string, [number, ErrorCode]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'BODY_TOO_LARGE'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'BAD_REQUEST'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'BAD_REQUEST'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'BAD_REQUEST'],
  FST_ERR_VALIDATION: [400, 'BAD_REQUEST'],
};

export function errorHandler(logger: Logger) {
  return function handleError(err: FastifyError, req: FastifyRequest, reply: FastifyReply) {
    if (err instanceof HookwireError) return sendError(reply, err.status, err.code, err.message, err.field);
    const known = err.code ? fastifyCodes[err.code] : undefined;
    if (known) return sendError(reply, known[0], known[1], err.message);
    if (err instanceof SyntaxError || (err.statusCode === 400)) {
      return sendError(reply, 400, 'BAD_REQUEST', `malformed request body: ${err.message}`);
    }
    logger.error({ err, method: req.method, route: req.routeOptions.url }, 'request failed');
    return sendError(reply, 500, 'INTERNAL', 'internal error');
  };
}
