// What each failure code usually means and what to check, from the troubleshooting guides
// Hookwire replaces (Particle's, Webex Connect's, Pusher's). Shown by the dashboard, the
// doctor and `hookwire logs`.

export interface Guidance {
  /** A short name for the code. */
  title: string;
  /** What it usually means. */
  meaning: string;
  /** What to check next. */
  check: string;
}

const BY_CODE: Record<string, Guidance> = {
  '400': {
    title: 'Bad Request',
    meaning: 'The target could not read the request: usually the body does not match what it expects.',
    check: 'Compare the request in the integration\'s logs with the API\'s documentation (field names, JSON vs form, required fields); try it with POST /v1/integrations/:id/test.',
  },
  '401': {
    title: 'Unauthorized',
    meaning: 'The target did not accept the credentials: missing, wrong or expired.',
    check: 'Check the integration\'s auth, headers (Authorization, API keys) or the key in its URL or query; renew the key if it expired.',
  },
  '403': {
    title: 'Forbidden',
    meaning: 'The credentials are valid but not allowed to do this.',
    check: 'Check the key\'s scope or permissions at the target, and that the account is active.',
  },
  '404': {
    title: 'Not Found',
    meaning: 'Nothing at that URL: a typo, or the endpoint moved or was deleted.',
    check: 'Check the integration\'s url (and any {{variables}} in its path) against the target\'s current endpoint.',
  },
  '405': {
    title: 'Method Not Allowed',
    meaning: 'The endpoint exists but not for this HTTP method.',
    check: 'Check requestType (GET, POST, PUT, DELETE) against the API\'s documentation.',
  },
  '408': {
    title: 'Request Timeout',
    meaning: 'The target gave up waiting for the request.',
    check: 'The target may be overloaded; Hookwire retries 408. Check the target\'s health and its own timeout.',
  },
  '410': {
    title: 'Gone',
    meaning: 'The target says it no longer wants these requests.',
    check: 'Disable or delete the integration, or point it at the endpoint that replaced this one.',
  },
  '413': {
    title: 'Content Too Large',
    meaning: 'The request body is bigger than the target accepts.',
    check: 'Send less: trim the json/form template or the event data, or use noDefaults.',
  },
  '429': {
    title: 'Too Many Requests',
    meaning: 'The target\'s rate limit was exceeded.',
    check: 'Publish less often, or raise the target\'s limit; Hookwire honours Retry-After and retries 429.',
  },
  '5xx': {
    title: 'Server Error',
    meaning: 'The target failed on its side: it is down, overloaded, or has a bug.',
    check: 'Check the target\'s health and logs; make a request to it by hand. Hookwire retries 5xx.',
  },
  '521': {
    title: 'Web Server Is Down',
    meaning: 'A CDN (Cloudflare) in front of the target could not reach the origin server: the origin refused the connection.',
    check: 'Check that the origin server is up and accepts connections from the CDN.',
  },
  '523': {
    title: 'Origin Is Unreachable',
    meaning: 'A CDN (Cloudflare) in front of the target could not find a route to the origin.',
    check: 'Check the origin\'s DNS record and network at the CDN.',
  },
  ETIMEDOUT: {
    title: 'Connection timed out',
    meaning: 'The target did not accept the connection within the timeout (20 s).',
    check: 'Check that the host is up and reachable from the bridge (firewall, routing), and not overloaded.',
  },
  ESOCKETTIMEDOUT: {
    title: 'No answer in time',
    meaning: 'The target accepted the connection but did not answer (or finish answering) within the timeout (20 s).',
    check: 'The target is overloaded or does too much before answering: it should answer at once and do the work afterwards.',
  },
  ECONNRESET: {
    title: 'Connection reset',
    meaning: 'The target closed the connection abruptly while the request was under way.',
    check: 'Check the target\'s logs for crashes or protocol errors, and any proxy or load balancer idle timeouts.',
  },
  ECONNREFUSED: {
    title: 'Connection refused',
    meaning: 'Nothing listens at that host and port.',
    check: 'Check the url\'s host and port, and that the target service is running.',
  },
  ENOTFOUND: {
    title: 'Host not found',
    meaning: 'The host name in the url does not resolve.',
    check: 'Check the url for typos, and that the bridge\'s DNS can resolve the host.',
  },
  TLS: {
    title: 'TLS error',
    meaning: 'The target\'s certificate could not be verified: expired, self-signed, or for another name.',
    check: 'Fix the certificate at the target; for a test server only, set rejectUnauthorized: false.',
  },
  TEMPLATE_INVALID: {
    title: 'Template error',
    meaning: 'The template rendered something unusable for this event: invalid JSON from a string json template, an invalid URL or event name.',
    check: 'Look at the rendered text in the error; the event data may lack a field the template uses. Never retried.',
  },
  SLEEPING: {
    title: 'Skipped: host sleeping',
    meaning: 'The target host returned more errors than successes, so attempts to it are skipped for a few seconds to let it recover.',
    check: 'Fix the errors that put it to sleep (see the other codes for this host); skipped events are retried by the integration\'s retry policy.',
  },
  // What the broker refuses from devices, and the API from services (the dashboard's other types).
  AUTH_FAILED: {
    title: 'Device not authenticated',
    meaning: 'A client connected with an unknown device ID or a wrong token.',
    check: 'Check the device ID and token in the firmware (hookwire devices list); issue a new token with hookwire devices token <id>.',
  },
  CLIENT_ID_MISMATCH: {
    title: 'Client ID is not the username',
    meaning: 'A device must connect with its device ID as both the MQTT client ID and the username.',
    check: 'Set the client ID to the device ID in the firmware or MQTT client settings.',
  },
  EVENT_NAME_INVALID: {
    title: 'Invalid event name',
    meaning: 'An event name must be 1-64 characters of A-Z a-z 0-9 _ - /.',
    check: 'Fix the name the device or service publishes.',
  },
  EVENT_NAME_RESERVED: {
    title: 'Reserved event name',
    meaning: 'Names starting with hook-sent, hook-response, hook-error, spark, particle or hookwire belong to the cloud.',
    check: 'Rename the event; to answer a device, let an integration do it.',
  },
  EVENT_PRIVATE_SPACE: {
    title: 'Another device\'s private space',
    meaning: 'A device published under another device\'s ID (<deviceID>/...), which only that device and the cloud may use.',
    check: 'Publish under the device\'s own ID, or under a name without a device ID.',
  },
  EVENT_TOO_LARGE: {
    title: 'Event data too large',
    meaning: 'Event data over the limit: 1024 bytes of text, 16 KB typed or binary.',
    check: 'Send less per event: shorter JSON keys, fewer fields, or several events.',
  },
  EVENT_DATA_INVALID: {
    title: 'Unreadable event data',
    meaning: 'Typed data that does not decode (CBOR with the self-describe tag).',
    check: 'Check how the firmware encodes objects; the SDK does it for you.',
  },
  SUBSCRIBE_FORBIDDEN: {
    title: 'Subscription refused',
    meaning: 'A device subscribed into another device\'s private space.',
    check: 'Subscribe to the device\'s own <deviceID>/... topics and to shared names only.',
  },
  PACKET_TOO_LARGE: {
    title: 'MQTT packet too large',
    meaning: 'A packet announced more than 32 KiB; the connection was closed before reading it.',
    check: 'Check the client\'s payloads; event data is at most 16 KB.',
  },
  UNAUTHORIZED: {
    title: 'API token missing or wrong',
    meaning: 'A request to the API came without a valid token.',
    check: 'Check the service\'s token; list tokens with hookwire tokens list.',
  },
  FORBIDDEN: {
    title: 'Read-only token',
    meaning: 'A read-only token tried to change something (publish, create, delete).',
    check: 'Give the service a token with admin scope: hookwire tokens create <name> --scope admin.',
  },
  BAD_REQUEST: {
    title: 'Bad request',
    meaning: 'The request body is missing a field or has one of the wrong type.',
    check: 'The error names the field; see the API documentation for POST /v1/devices/events.',
  },
  DISABLED: {
    title: 'Integration disabled',
    meaning: 'The integration was disabled (by a person, or after its retry schedule ran out) while this delivery waited.',
    check: 'Enable it once the target works; replay its failed deliveries.',
  },
};

/** The guidance for a code: exact, then by family (5xx, TLS), then a generic word. */
export function guidance(code: string): Guidance {
  const exact = BY_CODE[code];
  if (exact) return exact;
  if (/^5\d\d$/.test(code)) return BY_CODE['5xx']!;
  if (/^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|HOSTNAME_MISMATCH|EPROTO$)/.test(code)) return BY_CODE.TLS!;
  if (/^4\d\d$/.test(code)) {
    return { title: `HTTP ${code}`, meaning: 'The target refused the request.', check: 'Check the request in the integration\'s logs against the target\'s documentation.' };
  }
  return { title: code, meaning: 'The request could not be made.', check: 'See the error message in the integration\'s logs.' };
}
