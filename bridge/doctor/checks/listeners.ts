// The bridge itself, before any integration: is it reachable from the network in clear text
// (started with --insecure), and is the certificate it serves about to expire? Both are the
// kind of thing that works today and fails everyone at once later (a token sniffed on the
// network; devices refusing an expired certificate after a renewal stopped running).

import { insecureMessage, tlsDefaults } from '../../tls/index.ts';
import type { Check } from '../context.ts';
import type { Finding } from '../types.ts';

/** Plain MQTT or HTTP on a non-loopback address: what the bridge only does with --insecure. */
export const insecureListeners: Check = (ctx) => {
  const e = ctx.security?.exposure;
  if (!e?.insecure) return [];
  return [{
    check: 'INSECURE_BIND',
    severity: 'warning',
    message: `The bridge listens on ${e.host} with ${e.plain.join(' and ')} unencrypted (started with --insecure): ${insecureMessage(e)}.`,
    next: e.plain.includes('HTTP')
      ? 'Configure a certificate (HOOKWIRE_TLS_CERT, HOOKWIRE_TLS_KEY) and set HOOKWIRE_MQTT_PORT=off once devices use MQTTS; or listen on 127.0.0.1 behind a TLS proxy. See the README\'s TLS section.'
      : 'Set HOOKWIRE_MQTT_PORT=off once every device connects with mqtts:// (boards that cannot do TLS are what keeps it on).',
    evidence: { host: e.host, plain: e.plain, listeners: e.listeners },
  }];
};

/** The certificate served expires soon (its renewal may have stopped) or has expired. */
export const certificateExpiry: Check = (ctx) => {
  const info = ctx.security?.certificate?.();
  if (!info) return [];
  const daysLeft = (Date.parse(info.validTo) - ctx.now) / 86_400_000;
  if (daysLeft >= tlsDefaults.expiringDays) return [];
  const expired = daysLeft < 0;
  const finding: Finding = {
    check: 'TLS_CERT_EXPIRING',
    severity: expired ? 'error' : 'warning',
    message: expired
      ? `The TLS certificate (${info.subject}) expired at ${info.validTo}: devices and clients refuse to connect over TLS.`
      : `The TLS certificate (${info.subject}) expires at ${info.validTo}, in ${Math.floor(daysLeft)} days; Let's Encrypt renews 30 days before.`,
    next: 'Check the renewal (certbot renew --dry-run); the bridge picks up the renewed files by itself, or on SIGHUP.',
    evidence: { subject: info.subject, serialNumber: info.serialNumber, validTo: info.validTo, daysLeft: Math.floor(daysLeft) },
  };
  return [finding];
};
