// The HTTP API (fastify): Particle-compatible routes plus Hookwire's own. One file per
// route group under routes/, each given the same ApiContext.

import { createServer as createHttpsServer } from 'node:https';
import cookie from '@fastify/cookie';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyServerFactory } from 'fastify';
import consoleRoutes from '../console/index.ts';
import { ConsoleSessions } from '../console/session.ts';
import type { TlsSource } from '../tls/index.ts';
import { authHook } from './auth.ts';
import type { ApiContext, ApiOptions } from './context.ts';

export type { ApiOptions };
export { BIN_NAME, type BinSummary, type CapturedRequest } from './bins.ts';
import { errorHandler, sendError } from './errors.ts';
import bins from './routes/bins.ts';
import dashboard from './routes/dashboard.ts';
import devices from './routes/devices.ts';
import doctor from './routes/doctor.ts';
import events from './routes/events.ts';
import health from './routes/health.ts';
import integrations from './routes/integrations.ts';
import metrics from './routes/metrics.ts';
import tokens from './routes/tokens.ts';
import user from './routes/user.ts';

const routes = [health, devices, integrations, events, bins, dashboard, doctor, metrics, tokens, user, consoleRoutes];

/**
 * An HTTPS server with the bridge's certificate, kept current when it is renewed. Its timeouts
 * are set as fastify sets those of the HTTP server it makes itself.
 */
function httpsServer(tls: TlsSource): FastifyServerFactory {
  return (handler, opts) => {
    const server = createHttpsServer(tls.serverOptions('https'), handler);
    if (typeof opts.keepAliveTimeout === 'number') server.keepAliveTimeout = opts.keepAliveTimeout;
    if (typeof opts.requestTimeout === 'number') server.requestTimeout = opts.requestTimeout;
    if (typeof opts.connectionTimeout === 'number') server.setTimeout(opts.connectionTimeout);
    tls.track(server, 'https');
    return server;
  };
}

export function createApi(options: ApiOptions): FastifyInstance {
  const log = options.logger.child({ component: 'api' });
  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    // Request lines would carry `?access_token=`; we log our own, without the query.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.maxBodyBytes,
    forceCloseConnections: true,
    // req.ip: the X-Forwarded-For client when the peer is a trusted proxy, else the peer.
    trustProxy: options.trustProxy ? (address: string) => options.trustProxy!(address) : false,
    ...(options.tls ? { serverFactory: httpsServer(options.tls) } : {}),
  });
  // Particle's clients send forms as often as JSON.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });
  app.addHook('onRequest', async (req) => {
    (req as { startedAt?: number }).startedAt = performance.now();
  });
  // Console sign-ins are cookies (bridge/console/session.ts); the API reads no other cookie.
  void app.register(cookie);
  const sessions = new ConsoleSessions(options.store);
  app.addHook('preHandler', authHook(options.store, options.limiter, sessions));
  // No browser guesses a response's type, and nothing (a proxy, a browser) keeps a copy: every
  // response may carry a token's view of the bridge.
  // (The console's scripts and styles, named by their content, say otherwise.)
  app.addHook('onSend', async (_req, reply) => {
    reply.header('x-content-type-options', 'nosniff');
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
  });
  app.addHook('onResponse', async (req, reply) => {
    const ms = performance.now() - ((req as { startedAt?: number }).startedAt ?? 0);
    log.debug({ method: req.method, path: req.url.split('?')[0], status: reply.statusCode, ms: Math.round(ms * 10) / 10 }, 'request');
  });
  app.setErrorHandler(errorHandler(log));
  app.setNotFoundHandler((req, reply) => sendError(reply, 'NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`));

  const ctx: ApiContext = { ...options, app, sessions, logger: log, startedAt: Date.now() };
  for (const register of routes) register(ctx);
  return app;
}
