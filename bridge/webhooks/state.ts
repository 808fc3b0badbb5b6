// Integration states (DESIGN.md; SuperOffice's states, Zettle's FAILING):
//
//   Unknown        never called
//   Active         the last delivery succeeded
//   Failing        recent failures, still retrying
//   TooManyErrors  stopped for errors: its host is asleep (skipping until the cooldown ends),
//                  or its retry schedule ran out (disabled until someone enables it)
//   Disabled       switched off by a person, with who, when and why
//
//   Unknown ──success──▶ Active ◀──success── Failing, TooManyErrors (host asleep)
//   Unknown, Active ──failure──▶ Failing
//   any but Disabled ──host asleep, event skipped──▶ TooManyErrors (temporary)
//   any but Disabled ──schedule exhausted──▶ TooManyErrors + disabled
//   any ──disabled by a person──▶ Disabled ──enabled──▶ Unknown

export const STATES = ['Unknown', 'Active', 'Failing', 'TooManyErrors', 'Disabled'] as const;
export type IntegrationState = (typeof STATES)[number];

export type Outcome =
  | { kind: 'success' }
  | { kind: 'failure'; code: string }
  | { kind: 'skipped' } // the host is asleep
  | { kind: 'exhausted'; code: string } // the retry schedule ran out: the integration stops
  | { kind: 'disabled'; by: string; reason: string }
  | { kind: 'enabled'; by: string };

export interface StateChange {
  state: IntegrationState;
  reason: string;
  /** The integration must stop firing (exhausted, or disabled by a person). */
  disable?: boolean;
  enable?: boolean;
}

/**
 * The state after `outcome`, or undefined when it stays as it is. While an integration is
 * disabled (by a person, or by an exhausted schedule), only enabling or disabling moves it:
 * deliveries still in flight do not revive it.
 */
export function transition(current: IntegrationState, outcome: Outcome, disabled: boolean): StateChange | undefined {
  switch (outcome.kind) {
    case 'disabled':
      return { state: 'Disabled', reason: `disabled by ${outcome.by}${outcome.reason ? `: ${outcome.reason}` : ''}`, disable: true };
    case 'enabled':
      return disabled ? { state: 'Unknown', reason: `enabled by ${outcome.by}`, enable: true } : undefined;
  }
  if (disabled) return undefined;
  switch (outcome.kind) {
    case 'success':
      return current === 'Active' ? undefined : { state: 'Active', reason: 'delivered' };
    case 'failure':
      return current === 'Unknown' || current === 'Active' ? { state: 'Failing', reason: `delivery failed: ${outcome.code}` } : undefined;
    case 'skipped':
      return current === 'TooManyErrors' ? undefined : { state: 'TooManyErrors', reason: 'target host is sleeping after too many errors' };
    case 'exhausted':
      return { state: 'TooManyErrors', reason: `retry schedule exhausted (last error ${outcome.code}); disabled`, disable: true };
  }
}
