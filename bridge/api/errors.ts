// Error replies in Particle's shape, `{"ok": false, "error": "..."}`, plus Hookwire's
// stable `code` (and the `field` at fault, when there is one).

import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { CODES, type FixedCode } from '../codes.ts';
import { HookwireError } from '../errors.ts';
import type { Logger } from '../log.ts';

/** An error reply; the status is the code's (bridge/codes.ts) unless told otherwise. */
export function sendError(reply: FastifyReply, code: FixedCode, error: string, options: { field?: string; status?: number } = {}) {
  const body = options.field ? { ok: false, error, code, field: options.field } : { ok: false, error, code };
  return reply.code(options.status ?? CODES[code].http ?? 500).send(body);
}

/** fastify's own error codes, mapped to ours (with the status fastify would give). */
const fastifyCodes: Record<string, [FixedCode, number]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: ['BODY_TOO_LARGE', 413],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: ['BAD_REQUEST', 415],
  FST_ERR_CTP_EMPTY_JSON_BODY: ['BAD_REQUEST', 400],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: ['BAD_REQUEST', 400],
  FST_ERR_VALIDATION: ['BAD_REQUEST', 400],
};

export function errorHandler(logger: Logger) {
  return function handleError(err: FastifyError, req: FastifyRequest, reply: FastifyReply) {
    if (err instanceof HookwireError) return sendError(reply, err.code, err.message, { field: err.field, status: err.status });
    const known = err.code ? fastifyCodes[err.code] : undefined;
    if (known) return sendError(reply, known[0], err.message, { status: known[1] });
    if (err instanceof SyntaxError || (err.statusCode === 400)) {
      return sendError(reply, 'BAD_REQUEST', `malformed request body: ${err.message}`);
    }
    logger.error({ err, method: req.method, route: req.routeOptions.url }, 'request failed');
    return sendError(reply, 'INTERNAL', 'internal error');
  };
}
