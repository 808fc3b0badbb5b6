// Every failure code the bridge produces, in one place: what it means, what to check next
// (from the troubleshooting guides Hookwire replaces: Particle's, Webex Connect's, Pusher's),
// and how it reaches a client (the HTTP status the API answers with, the MQTT packet a
// device gets). Users, logs and tests match on the code, never on the text.
//
// A code is either fixed (a key of CODES: adding one without its guidance fails the
// type-check) or one of two open families a target's answer can bring: an HTTP status, or a
// TLS error by Node's or OpenSSL's name. The dashboard, the doctor, `hookwire logs` and the
// test endpoint all read guidance from here.

import { NAME_RULE } from '../firmware-sdk/rules.ts';

export interface Guidance {
  /** A short name for the code. */
  title: string;
  /** What it usually means. */
  meaning: string;
  /** What to check next. */
  check: string;
}

export interface CodeInfo extends Guidance {
  /** The HTTP status the API answers with (codes an API request can fail with). */
  http?: number;
  /** What an MQTT client is told (codes the broker gives). */
  mqtt?: string;
}

const CODE_TABLE = {
  // --- Configuration and the API's input --------------------------------------------------
  CONFIG_INVALID: {
    title: 'Invalid configuration', meaning: 'A setting (environment variable or flag) has a value the bridge cannot use.',
    check: 'The error names the setting; see the README\'s Configuration table.',
  },
  INSECURE_BIND: {
    title: 'Plain listener on the network',
    meaning: 'The bridge was asked to listen on an address other than loopback with a listener that does not encrypt (plain MQTT, or HTTP without a certificate): device tokens and API tokens would cross the network in clear text.',
    check: 'Give the bridge a certificate (HOOKWIRE_TLS_CERT, HOOKWIRE_TLS_KEY) and turn plain MQTT off (HOOKWIRE_MQTT_PORT=off), or listen on 127.0.0.1 behind a proxy that terminates TLS. --insecure (HOOKWIRE_INSECURE=1) starts it anyway: for a network you trust, or boards that cannot do TLS.',
  },
  TLS_CERT_INVALID: {
    title: 'Certificate or key unusable',
    meaning: 'The TLS certificate or key file could not be read or used: missing, unreadable by the bridge\'s user, not PEM, or the key does not belong to the certificate.',
    check: 'Point HOOKWIRE_TLS_CERT at the certificate with its chain (Let\'s Encrypt: fullchain.pem) and HOOKWIRE_TLS_KEY at its key (privkey.pem); openssl x509 -in <file> -noout -subject -dates shows what a file holds. On a reload the bridge keeps serving the certificate it had.',
  },
  DATA_DIR_IN_USE: {
    title: 'Data directory in use',
    meaning: 'Another bridge is running on this data directory (its PID is in bridge.json there). Two bridges on one directory would write one SQLite file and share one admin token.',
    check: 'Stop the other bridge (the error names its PID and URL), or give this one its own directory: HOOKWIRE_DATA_DIR or --data-dir. A bridge.json left by a bridge that was killed is taken over by itself once that PID is gone.',
  },
  STORE_MISSING: {
    title: 'Data directory gone',
    meaning: 'The data directory or the store file was deleted or replaced while the bridge runs. It keeps working on the files it has open, but a restart would open what is on disk now: an empty store (no devices, tokens or integrations), or an old one. /health answers 503.',
    check: 'Do not restart yet: hookwire doctor says how to copy the store back from the files the bridge still holds open (Linux), or restore the data directory from a backup first.',
  },
  PORT_IN_USE: {
    title: 'Port in use',
    meaning: 'Another program (or another bridge) already listens on a port this bridge was asked to use.',
    check: 'The error names the port and the setting: choose a free port (HOOKWIRE_MQTT_PORT, HOOKWIRE_HTTP_PORT, HOOKWIRE_MQTTS_PORT or their flags), or stop what holds it (ss -ltnp shows who).',
  },
  WORKERS_NEED_SERVERS: {
    title: 'Workers need Redis and PostgreSQL',
    meaning: 'With --workers N above 1, hookwire start runs N bridges that must act as one: they share one broker through Redis and one store in PostgreSQL. One of the two is not set, or did not answer within 5 s; nothing was started.',
    check: 'The error names the setting: HOOKWIRE_REDIS=redis://host:6379/0 and HOOKWIRE_STORE=postgres://user:password@host/db (or --store), both reachable from this machine (redis-cli -u <url> ping, psql <url> -c "select 1"). Without them, run one process: --workers 1.',
  },
  BAD_REQUEST: {
    title: 'Bad request', http: 400,
    meaning: 'The request body is missing a field or has one of the wrong type.',
    check: 'The error names the field; see the API documentation for the call.',
  },
  BODY_TOO_LARGE: {
    title: 'Request body too large', http: 413,
    meaning: 'The request body is over the API\'s limit.', check: 'Send less; event data is at most 16 KB.',
  },
  NOT_FOUND: { title: 'No such route', http: 404, meaning: 'Nothing answers at that path and method.', check: 'Check the URL against the README\'s HTTP API table.' },
  NAME_TAKEN: { title: 'Name taken', http: 409, meaning: 'Another device already has that name.', check: 'Pick another name, or rename the other device.' },
  DEVICE_NOT_FOUND: { title: 'No such device', http: 404, meaning: 'No device has that ID or name.', check: 'hookwire devices list shows the devices.' },
  PRODUCT_NOT_FOUND: { title: 'No such product', http: 404, meaning: 'No product has that ID or slug.', check: 'Products are the product_id of devices; check the number.' },
  INTEGRATION_NOT_FOUND: { title: 'No such integration', http: 404, meaning: 'No integration has that ID (in this product).', check: 'hookwire integrations list shows them.' },
  DELIVERY_NOT_FOUND: { title: 'No such delivery', http: 404, meaning: 'The integration has no failed delivery with that ID.', check: 'hookwire replay <id> --list shows them.' },
  BIN_NOT_FOUND: { title: 'No such request bin', http: 404, meaning: 'No request bin has that name.', check: 'hookwire bin list shows them.' },
  BIN_NAME_INVALID: { title: 'Invalid bin name', http: 400, meaning: 'A bin name is 1-64 characters of A-Z a-z 0-9 _ -.', check: 'Rename the bin.' },
  TOKEN_NOT_FOUND: { title: 'No such token', http: 404, meaning: 'No API token has that ID.', check: 'hookwire tokens list shows them.' },
  INTEGRATION_DISABLED: {
    title: 'Integration disabled', http: 409,
    meaning: 'The integration is disabled, so what was asked of it would be lost.', check: 'Enable it first: hookwire integrations enable <id>.',
  },
  STORE_FAILED: { title: 'Store unavailable', http: 503, meaning: 'The bridge could not write to its store.', check: 'Check the data directory\'s disk space and permissions, and the bridge\'s log.' },
  INTERNAL: { title: 'Internal error', http: 500, meaning: 'The bridge failed unexpectedly.', check: 'The bridge\'s log has the details; please report it.' },
  UNAUTHORIZED: {
    title: 'API token missing or wrong', http: 401,
    meaning: 'A request to the API came without a valid token.', check: 'Check the service\'s token; list tokens with hookwire tokens list.',
  },
  CROSS_SITE: {
    title: 'Change refused: not from the console', http: 403,
    meaning: 'A change signed in by a console session came without the session\'s CSRF header, or from another site: it may be a page elsewhere acting for a signed-in person.',
    check: 'Make changes from the console page itself (reload it if it was open before a sign-in elsewhere), or call the API with a token in the Authorization header.',
  },
  FORBIDDEN: {
    title: 'Read-only token', http: 403,
    meaning: 'A read-only token tried to change something (publish, create, delete).',
    check: 'Give the service a token with admin scope: hookwire tokens create <name> --scope admin.',
  },

  // --- Events: what the broker refuses from devices, and the API from services ------------
  EVENT_NAME_INVALID: {
    title: 'Invalid event name', http: 400, mqtt: 'a notice on <deviceID>/hookwire/error (+, # and empty names close the connection)',
    meaning: `An event name must be ${NAME_RULE}.`, check: 'Fix the name the device or service publishes.',
  },
  EVENT_NAME_RESERVED: {
    title: 'Reserved event name', http: 400, mqtt: 'a notice on <deviceID>/hookwire/error',
    meaning: 'Names starting with hook-sent, hook-response, hook-error, spark, particle or hookwire belong to the cloud.',
    check: 'Rename the event; to answer a device, let an integration do it.',
  },
  EVENT_PRIVATE_SPACE: {
    title: 'Another device\'s private space', http: 400, mqtt: 'a notice on <deviceID>/hookwire/error',
    meaning: 'A device published under another device\'s ID (<deviceID>/...), which only that device and the cloud may use.',
    check: 'Publish under the device\'s own ID, or under a name without a device ID.',
  },
  EVENT_TOO_LARGE: {
    title: 'Event data too large', http: 400, mqtt: 'a notice on <deviceID>/hookwire/error',
    meaning: 'Event data over the limit: 1024 bytes of text, 16 KB typed or binary.',
    check: 'Send less per event: shorter JSON keys, fewer fields, or several events.',
  },
  EVENT_DATA_INVALID: {
    title: 'Unreadable event data', http: 400, mqtt: 'a notice on <deviceID>/hookwire/error',
    meaning: 'Typed data that does not decode (CBOR with the self-describe tag).', check: 'Check how the firmware encodes objects; the SDK does it for you.',
  },

  // --- The broker's connections -------------------------------------------------------------
  AUTH_FAILED: {
    title: 'Device not authenticated', mqtt: 'CONNACK 4 (bad user name or password)',
    meaning: 'A client connected with an unknown device ID or a wrong token.',
    check: 'Check the device ID and token in the firmware (hookwire devices list); issue a new token with hookwire devices token <id>.',
  },
  CLIENT_ID_MISMATCH: {
    title: 'Client ID is not the username', mqtt: 'CONNACK 2 (identifier rejected)',
    meaning: 'A device must connect with its device ID as both the MQTT client ID and the username.',
    check: 'Set the client ID to the device ID in the firmware or MQTT client settings.',
  },
  SUBSCRIBE_FORBIDDEN: {
    title: 'Subscription refused', mqtt: 'SUBACK 0x80 and a notice',
    meaning: 'A device subscribed into another device\'s private space, or to a $ topic.',
    check: 'Subscribe to the device\'s own <deviceID>/... topics and to shared names only.',
  },
  PUBLISH_FORBIDDEN: {
    title: 'Read-only token publishing', mqtt: 'a notice on <clientID>/hookwire/error; the connection stays',
    meaning: 'A service client logged in with a read-only API token published; read tokens may watch events but not publish them, so the event was dropped.',
    check: 'Give the publishing service a token with admin scope (hookwire tokens create <name> --scope admin), or stop it publishing on this connection.',
  },
  PACKET_TOO_LARGE: {
    title: 'MQTT packet too large', mqtt: 'connection closed',
    meaning: 'A packet announced more than 32 KiB; the connection was closed before reading it.', check: 'Check the client\'s payloads; event data is at most 16 KB.',
  },
  PROTOCOL_ERROR: { title: 'Not MQTT', mqtt: 'connection closed', meaning: 'A client sent bytes that are not MQTT 3.1.1.', check: 'Check the client speaks MQTT 3.1.1 on this port (3.1 and 5 are refused with PROTOCOL_UNSUPPORTED).' },
  PROTOCOL_UNSUPPORTED: {
    title: 'MQTT version not served', mqtt: 'connection closed',
    meaning: 'A client asked for MQTT 5 or 3.1; the bridge serves MQTT 3.1.1 only.',
    check: 'Set the client to MQTT 3.1.1 (protocol level 4): mosquitto_pub -V mqttv311, mqtt.js protocolVersion: 4.',
  },
  LOGIN_LIMITED: {
    title: 'Too many failed logins', http: 429, mqtt: 'CONNACK 4 (bad user name or password)',
    meaning: 'This address sent 20 wrong tokens within a minute; its logins are refused for a minute.',
    check: 'Find the client using an old or mistyped token (the bridge\'s log names the address), fix it, and wait a minute.',
  },
  CLIENT_ID_IN_USE: {
    title: 'Client ID in use', mqtt: 'CONNACK 2 (identifier rejected)',
    meaning: 'A read-only token tried to connect with the client ID of a connected service client of another token, which would disconnect it.',
    check: 'Give each service client its own client ID.',
  },
  KEEPALIVE_TIMEOUT: {
    title: 'Keep-alive missed', mqtt: 'connection closed',
    meaning: 'A client sent nothing for 1.5 times its keep-alive period.', check: 'A network drop or a stalled device; devices reconnect by themselves.',
  },

  // --- Webhooks: an attempt that did not reach a 2xx ----------------------------------------
  ETIMEDOUT: {
    title: 'Connection timed out', meaning: 'The target did not accept the connection within the timeout (20 s).',
    check: 'Check that the host is up and reachable from the bridge (firewall, routing), and not overloaded.',
  },
  ESOCKETTIMEDOUT: {
    title: 'No answer in time', meaning: 'The target accepted the connection but did not answer (or finish answering) within the timeout (20 s).',
    check: 'The target is overloaded or does too much before answering: it should answer at once and do the work afterwards.',
  },
  ECONNRESET: {
    title: 'Connection reset', meaning: 'The target closed the connection abruptly while the request was under way.',
    check: 'Check the target\'s logs for crashes or protocol errors, and any proxy or load balancer idle timeouts.',
  },
  ECONNREFUSED: { title: 'Connection refused', meaning: 'Nothing listens at that host and port.', check: 'Check the url\'s host and port, and that the target service is running.' },
  ENOTFOUND: { title: 'Host not found', meaning: 'The host name in the url does not resolve.', check: 'Check the url for typos, and that the bridge\'s DNS can resolve the host.' },
  EHOSTUNREACH: { title: 'Host unreachable', meaning: 'No route to the target host.', check: 'Check the network between the bridge and the host (routing, VPN, firewall).' },
  ENETUNREACH: { title: 'Network unreachable', meaning: 'The bridge has no route to the target\'s network.', check: 'Check the bridge machine\'s network configuration.' },
  EREQUEST: { title: 'Request failed', meaning: 'The request could not be made, for a reason the message gives.', check: 'See the error message in the integration\'s logs.' },
  TEMPLATE_INVALID: {
    title: 'Template error', http: 400,
    meaning: 'The template rendered something unusable for this event: invalid JSON from a string json template, an invalid URL or event name.',
    check: 'Look at the rendered text in the error; the event data may lack a field the template uses. Never retried.',
  },
  EGRESS_DENIED: {
    title: 'Target refused by the egress policy',
    meaning: 'The target\'s address is one webhooks may not reach: link-local or a cloud metadata service, the bridge\'s own API (other than /bin/...), or a range in HOOKWIRE_EGRESS_DENY. The address checked is the one connected to, after DNS. Nothing was sent; the host is not put to sleep for it.',
    check: 'Point the integration at another host, or, if the target is meant to be reachable, name its range in HOOKWIRE_EGRESS_ALLOW (README, Egress policy). Never retried; replay it once the policy allows it.',
  },
  REQUEST_TOO_LARGE: {
    title: 'Rendered request too large',
    meaning: 'The template rendered a request (URL, headers and body) over 1 MiB for this event, so it was not sent.',
    check: 'Send less: fewer or shorter fields, fewer copies of the event data (PARTICLE_EVENT_VALUE, PARTICLE_EVENT_JSON) in the template. Never retried.',
  },
  SLEEPING: {
    title: 'Skipped: host sleeping',
    meaning: 'The target host returned more errors than successes, so attempts to it are skipped for a few seconds to let it recover.',
    check: 'Fix the errors that put it to sleep (see the other codes for this host); skipped events are retried by the integration\'s retry policy.',
  },
  DISABLED: {
    title: 'Integration disabled',
    meaning: 'The integration was disabled (by a person, or after its retry schedule ran out) while this delivery waited.',
    check: 'Enable it once the target works; replay its failed deliveries.',
  },
  INTEGRATION_DELETED: { title: 'Integration deleted', meaning: 'The integration was deleted while this delivery waited.', check: 'Nothing to do: its deliveries are dropped.' },
  EINTERNAL: { title: 'Internal error', meaning: 'The bridge failed while attempting the delivery.', check: 'The bridge\'s log has the details; please report it. The delivery is retried.' },

  // --- The event stream ---------------------------------------------------------------------
  SSE_SLOW_READER: {
    title: 'Event stream reader too slow', meaning: 'A client of the event stream read less than it was sent; it was cut off.',
    check: 'Subscribe to a narrower prefix, or read the stream faster.',
  },
} satisfies Record<string, CodeInfo>;

/** Codes with one meaning each. */
export type FixedCode = keyof typeof CODE_TABLE;
export const CODES: Readonly<Record<FixedCode, CodeInfo>> = CODE_TABLE;

/** An HTTP status a target answered with, as text: "404". */
export type HttpStatusCode = `${number}`;

/** A TLS handshake or certificate failure, by Node's or OpenSSL's name. */
export type TlsCode =
  | `ERR_TLS_${string}` | `ERR_SSL_${string}` | `CERT_${string}` | `UNABLE_TO_${string}` | `DEPTH_ZERO_${string}`
  | `SELF_SIGNED_${string}` | 'HOSTNAME_MISMATCH' | 'EPROTO';

/** Every code the bridge produces. */
export type Code = FixedCode | HttpStatusCode | TlsCode;

const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|HOSTNAME_MISMATCH$|EPROTO$)/;

export const isFixedCode = (s: string): s is FixedCode => Object.hasOwn(CODES, s);
export const isTlsCode = (s: string): s is TlsCode => TLS_CODE.test(s);
export const isHttpStatusCode = (s: string): s is HttpStatusCode => /^[1-5]\d\d$/.test(s);
/** A code read back from the store or the wire; unknown text is not a code. */
export const isCode = (s: string): s is Code => isFixedCode(s) || isHttpStatusCode(s) || isTlsCode(s);

/** What a target's HTTP status usually means, by status, then by class. */
const STATUS_GUIDANCE: Record<string, Guidance> = {
  '400': { title: 'Bad Request', meaning: 'The target could not read the request: usually the body does not match what it expects.', check: 'Compare the request in the integration\'s logs with the API\'s documentation (field names, JSON vs form, required fields); try it with POST /v1/integrations/:id/test.' },
  '401': { title: 'Unauthorized', meaning: 'The target did not accept the credentials: missing, wrong or expired.', check: 'Check the integration\'s auth, headers (Authorization, API keys) or the key in its URL or query; renew the key if it expired.' },
  '403': { title: 'Forbidden', meaning: 'The credentials are valid but not allowed to do this.', check: 'Check the key\'s scope or permissions at the target, and that the account is active.' },
  '404': { title: 'Not Found', meaning: 'Nothing at that URL: a typo, or the endpoint moved or was deleted.', check: 'Check the integration\'s url (and any {{variables}} in its path) against the target\'s current endpoint.' },
  '405': { title: 'Method Not Allowed', meaning: 'The endpoint exists but not for this HTTP method.', check: 'Check requestType (GET, POST, PUT, DELETE) against the API\'s documentation.' },
  '408': { title: 'Request Timeout', meaning: 'The target gave up waiting for the request.', check: 'The target may be overloaded; Hookwire retries 408. Check the target\'s health and its own timeout.' },
  '410': { title: 'Gone', meaning: 'The target says it no longer wants these requests.', check: 'Disable or delete the integration, or point it at the endpoint that replaced this one.' },
  '413': { title: 'Content Too Large', meaning: 'The request body is bigger than the target accepts.', check: 'Send less: trim the json/form template or the event data, or use noDefaults.' },
  '429': { title: 'Too Many Requests', meaning: 'The target\'s rate limit was exceeded.', check: 'Publish less often, or raise the target\'s limit; Hookwire honours Retry-After and retries 429.' },
  '521': { title: 'Web Server Is Down', meaning: 'A CDN (Cloudflare) in front of the target could not reach the origin server: the origin refused the connection.', check: 'Check that the origin server is up and accepts connections from the CDN.' },
  '523': { title: 'Origin Is Unreachable', meaning: 'A CDN (Cloudflare) in front of the target could not find a route to the origin.', check: 'Check the origin\'s DNS record and network at the CDN.' },
  '5xx': { title: 'Server Error', meaning: 'The target failed on its side: it is down, overloaded, or has a bug.', check: 'Check the target\'s health and logs; make a request to it by hand. Hookwire retries 5xx.' },
};

const TLS_GUIDANCE: Guidance = {
  title: 'TLS error',
  meaning: 'The target\'s certificate could not be verified: expired, self-signed, or for another name.',
  check: 'Fix the certificate at the target; for a test server only, set rejectUnauthorized: false.',
};

/** The guidance for a code: the table's, or its family's (an HTTP status, a TLS error). */
export function guidance(code: Code): Guidance {
  if (isFixedCode(code)) return CODES[code];
  if (isTlsCode(code)) return TLS_GUIDANCE;
  const exact = STATUS_GUIDANCE[code];
  if (exact) return exact;
  if (code.startsWith('5')) return STATUS_GUIDANCE['5xx']!;
  return { title: `HTTP ${code}`, meaning: 'The target refused the request.', check: 'Check the request in the integration\'s logs against the target\'s documentation.' };
}

/**
 * Guidance for a code read back as text (a stored log, a query): the code's when it is one,
 * else a generic word. For a code the types already know, call `guidance`.
 */
export function guidanceOf(text: string): Guidance {
  if (isCode(text)) return guidance(text);
  return { title: text, meaning: 'The request could not be made.', check: 'See the error message in the integration\'s logs.' };
}

/** A failure as data (an attempt's outcome, a refused publish): its code and what happened. */
export interface Failure<C extends Code = Code> {
  code: C;
  message: string;
}
