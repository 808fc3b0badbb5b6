// Rows both backends read back in the same shape (numbers and text, no dates), and the
// records they become: one definition for SQLite and PostgreSQL.

import type { DeliveryRecord, DeliveryStatus, StatsRow, StatsType } from './types.ts';

export interface DeliveryRow {
  id: number;
  event_id: string;
  integration_id: string;
  host: string;
  status: DeliveryStatus;
  attempts: number;
  next_at: number;
  created_at: number;
  finished_at: number | null;
  last_code: string | null;
}

export const toDelivery = (r: DeliveryRow): DeliveryRecord => ({
  id: r.id,
  eventId: r.event_id,
  integrationId: r.integration_id,
  host: r.host,
  status: r.status,
  attempts: r.attempts,
  nextAt: r.next_at,
  createdAt: r.created_at,
  finishedAt: r.finished_at,
  lastCode: r.last_code,
});

export interface StatsTableRow {
  hour: number;
  type: StatsType;
  integration_id: string;
  code: string;
  description: string;
  count: number;
  first_at: number;
  last_at: number;
}

export const toStats = (r: StatsTableRow): StatsRow => ({
  hour: r.hour, type: r.type, integrationId: r.integration_id, code: r.code, description: r.description,
  count: r.count, firstAt: r.first_at, lastAt: r.last_at,
});
