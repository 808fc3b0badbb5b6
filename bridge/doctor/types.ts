// What the doctor reports: findings, each with a stable check code, a severity, what was
// seen (the figures), and a concrete next step.

/** Stable codes: users, scripts and tests match on these, never on the message. */
export const CHECK_CODES = [
  // an integration that never fires
  'NEAR_MISS_NAME', // devices publish a name that almost matches, or the filters exclude them
  'EVENT_REFUSED', // matching events were refused by the broker (too large, reserved name...)
  'NEVER_FIRED', // no matching or near-miss event seen at all (info)
  // state
  'INTEGRATION_DISABLED',
  'TOO_MANY_ERRORS',
  'HOST_SLEEPING',
  'ERRORS_BY_CODE',
  // requests and responses
  'TEMPLATE_INVALID_JSON',
  'SIGNED_GET_QUERY', // a signed GET whose event data travels in the query, which the signature does not cover
  'RESPONSE_TOO_MANY_PARTS',
  'RESPONSE_OVER_DEVICE_LIMIT',
  'SUBSCRIBED_NO_RESPONSE',
  'RESPONSE_TOPIC_MISMATCH',
  // the target
  'TARGET_UNREACHABLE',
  'TARGET_NOT_PROBED',
  // devices
  'DEVICE_LOGIN_FAILED', // a device ID refused at login: not registered, or a wrong token
  // the bridge itself
  'STORE_MISSING', // the data directory or the store file deleted or replaced under the running bridge
  'INSECURE_BIND', // plain MQTT or HTTP on a network address (--insecure)
  'TLS_CERT_EXPIRING', // the certificate served expires within 14 days, or has expired
  // the doctor itself
  'CHECK_FAILED',
] as const;
export type CheckCode = (typeof CHECK_CODES)[number];

/** `error` and `warning` need attention (the CLI exits 1); `info` is worth knowing. */
export type Severity = 'error' | 'warning' | 'info';

export interface Finding {
  check: CheckCode;
  severity: Severity;
  integrationId?: string;
  /** What is wrong, with the figures that show it. */
  message: string;
  /** A concrete next step: a command to run or a field to change. */
  next: string;
  /** The figures behind the message, for scripts (JSON). Never holds a secret. */
  evidence: Record<string, unknown>;
}

export interface DoctorReport {
  /** No finding of severity error or warning. */
  ok: boolean;
  checkedAt: string;
  /** Since when the doctor has watched events and attempts (the bridge's start). */
  observedSince: string;
  /** Integrations checked. */
  integrations: number;
  findings: Finding[];
}

export const SEVERITY_ORDER: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

export function needsAttention(f: Pick<Finding, 'severity'>): boolean {
  return f.severity !== 'info';
}
