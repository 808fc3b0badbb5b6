// The event stream and publishing from the cloud, in Particle's shapes (PARTICLE.md §6):
//
//   GET  /v1/events[/<prefix>]                      every event (Server-Sent Events), on every
//                                                   bridge sharing the broker
//   GET  /v1/devices/events[/<prefix>]              the same (one bridge = one account)
//   GET  /v1/devices/:id/events[/<prefix>]          events one device published
//   GET  /v1/products/:product/events[/<prefix>]    events of one product
//   GET  /v1/products/:product/devices/:id/events[/<prefix>]
//   POST /v1/devices/events                         publish (name, data, private, ttl) → {"ok": true}
//   POST /v1/products/:product/events               publish as that product
//
// The prefix is Particle's string prefix on the event name and may hold slashes
// (`/v1/events/hook-sent/temp`). A publish is Hookwire's inbound webhook: it reaches devices
// (MQTT subscribers) and integrations like a device's event, and each one, accepted or
// refused, is told to the bus as `inbound` for the dashboard.

import type { FastifyReply, FastifyRequest } from 'fastify';
import { isFixedCode } from '../../codes.ts';
import { HookwireError, InputError, NotFoundError, StoreError } from '../../errors.ts';
import { API_COREID, eventFrom, isRefused, type EventBus, type HookwireEvent, type Inbound } from '../../events/index.ts';
import type { Logger } from '../../log.ts';
import type { ApiContext } from '../context.ts';
import { type Body, bodyOf, optionalInt, productScope } from '../input.ts';
import { EventStreams, type StreamFilter } from '../sse.ts';
import { findDevice } from './devices.ts';

type Params = { product?: string; id?: string; '*'?: string };
type Req = FastifyRequest<{ Params: Params }>;

/** Event data as text: a string as sent, other JSON values as their JSON text, none as ''. */
function dataText(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** `private`: accepted and ignored, as Particle (all events are private now); must be a boolean. */
function checkPrivate(body: Body): void {
  const v = body.private;
  if (v === undefined || v === null || v === '' || typeof v === 'boolean' || v === 'true' || v === 'false') return;
  throw new HookwireError('BAD_REQUEST', 'private must be true or false', { field: 'private' });
}

/**
 * The event a publish request makes, or a refusal naming the field. Names follow the device
 * rules except that the cloud may publish into a device's private space (`<deviceID>/...`,
 * to reach that device alone); reserved names stay the cloud's own, so nobody can forge a
 * webhook response or an error notice.
 */
function apiEvent(body: Body, productId: number | null): { event: HookwireEvent; payload: Buffer } {
  const name = body.name;
  if (name === undefined || name === null || name === '') {
    throw new HookwireError('BAD_REQUEST', 'name is required: the name of the event to publish', { field: 'name' });
  }
  if (typeof name !== 'string') throw new HookwireError('BAD_REQUEST', 'name must be a string', { field: 'name' });
  checkPrivate(body);
  optionalInt(body, ['ttl']); // Particle: accepted, not implemented
  const payload = Buffer.from(dataText(body.data), 'utf8'); // the same 1024-byte limit as a device's text event
  const event = eventFrom(name, payload, { coreid: API_COREID, productId, firmwareVersion: null }, 'api');
  if (isRefused(event)) throw new InputError(event.code, event.message, { field: event.code.startsWith('EVENT_NAME') ? 'name' : 'data' });
  return { event, payload };
}

/** The JSON body of an answer, for the refusal's code and message. */
function answerOf(payload: unknown): Record<string, unknown> {
  try {
    const parsed: unknown = typeof payload === 'string' ? JSON.parse(payload) : undefined;
    return parsed && typeof parsed === 'object' ? parsed as Record<string, unknown> : {};
  } catch {
    return {};
  }
}

/**
 * Tell the bus about every publish request, accepted or refused, whatever refused it: bad
 * input, a wrong token (401/403), malformed JSON, a body too large. An `onSend` hook sees
 * all of them with the answer they got.
 */
function inboundHook(bus: EventBus, log: Logger) {
  return async function countInbound(req: FastifyRequest, reply: FastifyReply, payload: unknown) {
    const ok = reply.statusCode < 400;
    const body = req.body as Record<string, unknown> | undefined;
    const inbound: Inbound = { at: new Date().toISOString(), ok };
    if (body && typeof body === 'object' && typeof body.name === 'string' && body.name) inbound.name = body.name.slice(0, 64);
    if (!ok) {
      const answer = answerOf(payload);
      inbound.code = typeof answer.code === 'string' && isFixedCode(answer.code) ? answer.code
        : reply.statusCode === 401 ? 'UNAUTHORIZED' : reply.statusCode >= 500 ? 'INTERNAL' : 'BAD_REQUEST';
      const message = answer.error_description ?? answer.error;
      if (typeof message === 'string') inbound.message = message;
      log.info({ code: inbound.code, status: reply.statusCode, event: inbound.name }, 'API publish refused');
    } else {
      log.debug({ event: inbound.name }, 'API publish');
    }
    bus.emit('inbound', inbound);
    return payload;
  };
}

export default function events({ app, bus, ingest, store, broker, logger, sseKeepAliveMs, sseMaxBufferedBytes }: ApiContext) {
  // The API's logger (component: api); a child with its own component would write the key twice.
  const log = logger;
  // With a shared broker, streams show the other bridges' events too.
  const streams = new EventStreams(bus, { keepAliveMs: sseKeepAliveMs, maxBufferedBytes: sseMaxBufferedBytes }, logger, broker.shared ? broker : undefined);
  app.addHook('preClose', async () => streams.closeAll());

  /** A device named in the path, within the route's product when it has one. */
  async function deviceOf(req: Req, productId: number | undefined): Promise<string> {
    const device = await findDevice(store, req.params.id!);
    if (productId !== undefined && device.productId !== productId) {
      throw new NotFoundError('DEVICE_NOT_FOUND', `no device ${req.params.id} in product ${productId}`);
    }
    return device.id;
  }

  /** Which events a stream route shows, from its path; throws (a JSON 4xx) before streaming. */
  async function filterOf(req: Req, byDevice: boolean): Promise<StreamFilter> {
    const filter: StreamFilter = { prefix: req.params['*'] ?? '' };
    const productId = productScope(req.params) ?? undefined;
    if (productId !== undefined) filter.productId = productId;
    if (byDevice) filter.coreid = await deviceOf(req, productId);
    return filter;
  }

  function stream(byDevice: boolean) {
    return async function openStream(req: Req, reply: FastifyReply) {
      const filter = await filterOf(req, byDevice);
      reply.hijack(); // from here on the response is the stream's, written raw
      streams.open(reply.raw, filter, { tokenId: req.token!.id, session: req.consoleSession?.session.idHash });
    };
  }

  // A HEAD would open a stream that can carry no body.
  const read = { exposeHeadRoute: false };
  for (const [path, byDevice] of [
    ['/v1/events', false],
    ['/v1/devices/events', false],
    ['/v1/devices/:id/events', true],
    ['/v1/products/:product/events', false],
    ['/v1/products/:product/devices/:id/events', true],
  ] as const) {
    app.get(path, read, stream(byDevice));
    app.get(`${path}/*`, read, stream(byDevice));
  }

  async function publish(req: Req) {
    const { event, payload } = apiEvent(bodyOf(req.body), productScope(req.params));
    try {
      await ingest.take(event, { durable: true, forward: { payload, qos: 1 } });
    } catch (err) {
      log.error({ err, event: event.name }, 'API publish could not be stored');
      throw new StoreError('the event could not be stored; try again');
    }
    return { ok: true };
  }

  const write = { onSend: inboundHook(bus, log) };
  app.post<{ Params: Params }>('/v1/devices/events', write, publish);
  app.post<{ Params: Params }>('/v1/products/:product/events', write, publish);
}
