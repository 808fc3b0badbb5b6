// What the bridge knows about how an integration is doing: its state (state.ts), who
// disabled it, and its counters. Kept in memory, written with each batch of outcomes: the
// counters as what the batch added (bridges sharing a store each add theirs), the rest as
// this bridge has it, unless a person changed the integration since (a newer `revision`).

import type { IntegrationState } from './state.ts';

export interface LastError {
  code: string;
  message: string;
  at: string;
}

export interface IntegrationStatus {
  state: IntegrationState;
  reason: string;
  changedAt: string | null;
  disabledBy: string | null;
  disabledAt: string | null;
  disabledReason: string | null;
  /** Requests made (successes and errors; skipped attempts are not calls). */
  totalCalls: number;
  totalErrors: number;
  totalSkipped: number;
  /** Deliveries given up: retries exhausted, not retryable, or the integration stopped. */
  totalDropped: number;
  consecutiveErrors: number;
  lastError: LastError | null;
  lastSuccessAt: string | null;
  /** When its owner was last emailed, and about which state, so a flapping hook floods no one. */
  notifiedAt: string | null;
  notifiedState: IntegrationState | null;
  /**
   * Raised by each change a person makes (and by a stop): a batch of outcomes from a bridge
   * that has not read that change yet leaves the stored state as it is (it adds its counts).
   */
  revision: number;
}

/** The counters: settled as increments, added to the stored ones. */
export const COUNTERS = ['totalCalls', 'totalErrors', 'totalSkipped', 'totalDropped'] as const;
export type Counter = (typeof COUNTERS)[number];
export type Counts = Record<Counter, number>;

export function noCounts(): Counts {
  return { totalCalls: 0, totalErrors: 0, totalSkipped: 0, totalDropped: 0 };
}

export function newStatus(): IntegrationStatus {
  return {
    state: 'Unknown', reason: 'never called', changedAt: null,
    disabledBy: null, disabledAt: null, disabledReason: null,
    totalCalls: 0, totalErrors: 0, totalSkipped: 0, totalDropped: 0, consecutiveErrors: 0,
    lastError: null, lastSuccessAt: null, notifiedAt: null, notifiedState: null, revision: 0,
  };
}

/** A stored status, with any field a newer version added filled in. */
export function readStatus(stored: object | null | undefined): IntegrationStatus {
  return { ...newStatus(), ...(stored as Partial<IntegrationStatus> | null | undefined) };
}
