// Notifications when an integration enters Failing or TooManyErrors or is disabled:
//
// - a cloud event `hookwire/integrations/<id>/state`, which other integrations may trigger on
//   (to post to a chat service, say), with JSON data {id, name, state, previous, reason, at};
// - an email to the integration's `errorsEmail`, through the SMTP server at HOOKWIRE_SMTP_URL
//   (nodemailer). A flapping hook floods no one: the same state is emailed at most once per
//   interval; a worse one (TooManyErrors, Disabled after Failing) always goes out.

import nodemailer from 'nodemailer';
import type { Logger } from '../log.ts';
import type { Integration } from './integration.ts';
import type { IntegrationState } from './state.ts';
import type { IntegrationStatus } from './status.ts';

export interface NotifyOptions {
  /** smtp://user:pass@host:port (or smtps://); none: no email. */
  smtpUrl: string | undefined;
  /** The From address. Default hookwire@localhost. */
  from: string;
  /** At most one email per integration per this many ms. Default 1 hour. */
  emailIntervalMs: number;
}

export const notifyDefaults: NotifyOptions = { smtpUrl: undefined, from: 'hookwire@localhost', emailIntervalMs: 3_600_000 };

/** States worth telling someone about. */
const ALARMING = new Set<IntegrationState>(['Failing', 'TooManyErrors', 'Disabled']);

export interface StateChangeNotice {
  integration: Integration;
  status: IntegrationStatus;
  previous: IntegrationState;
}

export function stateEventName(integrationId: string): string {
  return `hookwire/integrations/${integrationId}/state`;
}

export function createNotifier(options: NotifyOptions, publish: (name: string, data: string) => void, logger: Logger) {
  const log = logger.child({ component: 'notify' });
  const transport = options.smtpUrl ? nodemailer.createTransport(options.smtpUrl) : undefined;

  async function email(n: StateChangeNotice): Promise<void> {
    const { integration: i, status: s } = n;
    const label = i.name ? `${i.name} (${i.id})` : i.id;
    const lines = [
      `Integration ${label} is now ${s.state} (it was ${n.previous}).`,
      '',
      `Why: ${s.reason}`,
      `Trigger: events starting with "${i.event}" → ${i.requestType} ${i.url}`,
      s.lastError ? `Last error: ${s.lastError.code}: ${s.lastError.message} (${s.lastError.at})` : '',
      `Calls: ${s.totalCalls}, errors: ${s.totalErrors} (${s.consecutiveErrors} in a row), skipped: ${s.totalSkipped}, dropped: ${s.totalDropped}`,
      s.lastSuccessAt ? `Last success: ${s.lastSuccessAt}` : 'No success yet.',
      '',
      `See its recent deliveries: hookwire integrations show ${i.id}`,
      s.disabledAt ? `It is disabled; when the target is fixed: hookwire integrations enable ${i.id}` : '',
    ];
    await transport!.sendMail({
      from: options.from,
      to: i.errorsEmail,
      subject: `[Hookwire] ${label} is ${s.state}`,
      text: lines.filter((l, k) => l !== '' || lines[k - 1] !== '').join('\n'),
    });
  }

  return {
    /**
     * Tell the world a state changed. Returns true when an email went out (the caller keeps
     * `notifiedAt` and `notifiedState`, which throttle the next one).
     */
    changed(n: StateChangeNotice, now = Date.now()): boolean {
      const { integration: i, status: s } = n;
      publish(stateEventName(i.id), JSON.stringify({ id: i.id, name: i.name ?? null, state: s.state, previous: n.previous, reason: s.reason, at: s.changedAt }));
      if (!transport || !i.errorsEmail || !ALARMING.has(s.state)) return false;
      if (s.notifiedState === s.state && s.notifiedAt && now - Date.parse(s.notifiedAt) < options.emailIntervalMs) return false;
      email(n).then(
        () => log.info({ integrationId: i.id, state: s.state }, 'owner notified by email'),
        (err) => log.warn({ integrationId: i.id, err: (err as Error).message }, 'notification email failed'),
      );
      return true;
    },
    close(): void {
      transport?.close();
    },
  };
}

export type Notifier = ReturnType<typeof createNotifier>;
