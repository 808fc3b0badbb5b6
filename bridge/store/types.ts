// The store interface. Every backend (SQLite now; PostgreSQL for several bridge nodes later)
// implements it and passes test/bridge/store/conformance.ts. Methods are async so a networked
// backend fits the same shape.

export interface DeviceRecord {
  /** 24 lowercase hex characters. */
  id: string;
  /** Unique when set. */
  name: string | null;
  productId: number | null;
  firmwareVersion: number | null;
  /** SHA-256 of the device token; the token itself is never stored. */
  tokenHash: string;
  createdAt: string;
  /** Last connect or disconnect. */
  lastHeard: string | null;
}

export interface NewDevice {
  id: string;
  name: string | null;
  productId: number | null;
  firmwareVersion: number | null;
  tokenHash: string;
}

export type DevicePatch = Partial<Pick<DeviceRecord, 'name' | 'productId' | 'firmwareVersion' | 'tokenHash' | 'lastHeard'>>;

/** `admin` may change things; `read` may only look (dashboards). */
export type TokenScope = 'admin' | 'read';

export interface ApiTokenRecord {
  id: string;
  name: string;
  scope: TokenScope;
  tokenHash: string;
  createdAt: string;
  revokedAt: string | null;
}

export interface NewApiToken {
  id: string;
  name: string;
  scope: TokenScope;
  tokenHash: string;
}

/**
 * A JSON column: the store writes it and reads it back whole, without knowing its shape; the
 * module that owns it (webhooks/) gives it its type when reading.
 */
export type JsonObject = object;

/** An integration as stored: its template is JSON, read back through the webhooks layer. */
export interface IntegrationRecord {
  id: string;
  productId: number | null;
  template: JsonObject;
  createdAt: string;
  updatedAt: string;
  /** State and counters (JSON), owned by the webhooks layer; null until first written. */
  status?: JsonObject | null;
  /** Signing secrets (JSON); null when requests are not signed. */
  signing?: JsonObject | null;
}

export interface IntegrationRepo {
  create(record: IntegrationRecord): Promise<void>;
  get(id: string): Promise<IntegrationRecord | undefined>;
  /** In creation order. */
  list(): Promise<IntegrationRecord[]>;
  /** Replace template, product, updatedAt, and status and signing when given; false when there is no such integration. */
  update(record: IntegrationRecord): Promise<boolean>;
  remove(id: string): Promise<boolean>;
}

export interface DeviceRepo {
  /** Throws HookwireError NAME_TAKEN when the name is in use. */
  create(device: NewDevice): Promise<DeviceRecord>;
  get(id: string): Promise<DeviceRecord | undefined>;
  getByName(name: string): Promise<DeviceRecord | undefined>;
  list(): Promise<DeviceRecord[]>;
  /** Undefined when there is no such device. Throws NAME_TAKEN like create. */
  update(id: string, patch: DevicePatch): Promise<DeviceRecord | undefined>;
  remove(id: string): Promise<boolean>;
}

export interface TokenRepo {
  create(token: NewApiToken): Promise<ApiTokenRecord>;
  /** The token with this hash, unless revoked. */
  findByHash(hash: string): Promise<ApiTokenRecord | undefined>;
  list(): Promise<ApiTokenRecord[]>;
  revoke(id: string): Promise<boolean>;
}

/** A console sign-in: a browser's session cookie, standing for the API token it was made from. */
export interface SessionRecord {
  /** SHA-256 of the cookie's value; the value itself is never stored. */
  idHash: string;
  tokenId: string;
  /** Sent back in a header with every change, so another site cannot make one (CSRF). */
  csrf: string;
  createdAt: string;
  /** ms since the epoch; pushed forward while the session is used. */
  expiresAt: number;
}

export interface SessionRepo {
  create(session: SessionRecord): Promise<void>;
  /** The session and its token, unless the session expired by `now` or the token is revoked. */
  find(idHash: string, now: number): Promise<{ session: SessionRecord; token: ApiTokenRecord } | undefined>;
  /** Keep a session alive until `expiresAt`. */
  touch(idHash: string, expiresAt: number): Promise<void>;
  remove(idHash: string): Promise<boolean>;
  /** Remove sessions that expired before `now`; returns how many went. */
  prune(now: number): Promise<number>;
}

/** An event as kept while it has deliveries to make (the event model's fields, typed data as JSON text). */
export interface StoredEvent {
  id: string;
  name: string;
  data: string;
  type: 'text' | 'typed' | 'binary';
  published_at: string;
  coreid: string;
  product_id: number | null;
  fw_version: number | null;
}

/**
 * pending: waiting for its time (next_at) or for room in its host's lane; running: handed to
 * a lane (a process that stops leaves these, and its successor makes them pending again);
 * done: delivered (such a job is deleted when settled, so it is never read back as done);
 * failed: given up (dropped after its retries, or not retryable), kept for replay.
 */
export type DeliveryStatus = 'pending' | 'running' | 'done' | 'failed';

export interface NewDelivery {
  integrationId: string;
  /** Target host: lanes, throttling and claiming are per host. */
  host: string;
  status: 'pending' | 'running';
  /** ms since the epoch. */
  nextAt: number;
}

export interface DeliveryRecord {
  id: number;
  eventId: string;
  integrationId: string;
  host: string;
  status: DeliveryStatus;
  /** Attempts made so far. */
  attempts: number;
  nextAt: number;
  createdAt: number;
  finishedAt: number | null;
  /** The last attempt's outcome code (an HTTP status, a network code, SLEEPING, ...). */
  lastCode: string | null;
}

export interface DeliveryUpdate {
  id: number;
  status: 'pending' | 'done' | 'failed';
  attempts: number;
  nextAt: number;
  lastCode: string;
  finishedAt: number | null;
}

export interface DailyIncrement {
  integrationId: string;
  /** UTC day, YYYY-MM-DD. */
  day: string;
  success: number;
  error: number;
  skipped: number;
}

export interface DailyCount {
  day: string;
  success: number;
  error: number;
  skipped: number;
}

export interface LogEntry {
  integrationId: string;
  ok: boolean;
  at: string;
  entry: JsonObject;
}

/**
 * An integration's status after a batch (JSON the webhooks layer owns). The store knows two
 * things of it, so that bridges sharing it do not undo each other's work: the counters named
 * in `add` are added to the stored ones (each bridge adds what it counted), and its numeric
 * `revision`, which a person's change (or a stop) raises: the status's other fields replace
 * the stored ones unless the stored revision is newer, a change made through another bridge
 * that the settling one has not read yet.
 */
export interface StatusUpdate {
  integrationId: string;
  /** The status as the settling bridge has it, with its `revision`; its counters named in `add` are not written as given. */
  status: JsonObject;
  /** How much to add to each counter (a field of the status): every counter, 0 for those unchanged. */
  add: Record<string, number>;
}

/** What a batch of finished attempts changes, written in one transaction. */
export interface Settlement {
  deliveries: DeliveryUpdate[];
  /** Each integration's status as it now is, with what the batch added to its counters. */
  statuses: StatusUpdate[];
  daily: DailyIncrement[];
  /** New log entries; each integration keeps its last `keepLogs` successes and errors. */
  logs: LogEntry[];
}

export interface Retention {
  /** Events no delivery needs any more are kept this long, ms (delivered jobs go at once). */
  eventsMs: number;
  /** Failed jobs (kept for replay) this long, ms. */
  failedMs: number;
  /** Daily counts this many days. */
  dailyDays: number;
}

export interface DeliveryRepo {
  /** Events and their deliveries, in one transaction (the group commit); new delivery IDs per event. */
  accept(batch: { event: StoredEvent; deliveries: NewDelivery[] }[]): Promise<number[][]>;
  /** A batch of outcomes, in one transaction. */
  settle(settlement: Settlement, keepLogs: number): Promise<void>;
  /** Up to `limit` pending deliveries to `host` due by `now`, oldest due first, made running, with their events. */
  claimDue(host: string, now: number, limit: number): Promise<{ delivery: DeliveryRecord; event: StoredEvent }[]>;
  /**
   * Whether this bridge still holds the running delivery `id`, just before it is attempted.
   * Only stores shared by several bridges have it (a lease another bridge can take over once
   * it ends): true at once while the lease is surely this bridge's, else the store is asked
   * (and the lease renewed when it is). Absent: one bridge, which holds every delivery it runs.
   */
  holds?(id: number): true | Promise<boolean>;
  /** Hosts with pending deliveries, and when each one's earliest is due. */
  pendingHosts(): Promise<Map<string, number>>;
  /** When the earliest pending delivery to `host` is due; undefined when none is pending. */
  nextDue(host: string): Promise<number | undefined>;
  /** At start: deliveries a stopped process left running go back to pending, due now. */
  requeueRunning(now: number): Promise<number>;
  /** Remove what is past its retention; returns what was removed. */
  prune(now: number, retention: Retention): Promise<{ deliveries: number; events: number; days: number }>;
  counts(): Promise<Record<DeliveryStatus, number>>;
  logs(integrationId: string): Promise<LogEntry[]>;
  /** Daily counts from `fromDay` (YYYY-MM-DD) on, oldest first. */
  daily(integrationId: string, fromDay: string): Promise<DailyCount[]>;
  /** An integration's failed deliveries (kept for replay), newest failure first, and how many there are in all. */
  failed(integrationId: string, query: FailedQuery): Promise<{ total: number; deliveries: FailedDelivery[] }>;
  /**
   * Replay failed deliveries of an integration: back to pending, due at `now`, with their
   * attempts reset to 0 so the retry policy starts over. `host`, when given, moves them to
   * that host's lane (the integration's URL changed since they failed). Returns how many
   * were requeued per host, so the caller can wake the scheduler for each.
   */
  replayFailed(integrationId: string, which: ReplaySelector, now: number, host?: string): Promise<Map<string, number>>;
}

export interface FailedQuery {
  /** Only those that failed at or after this time, ms since the epoch. */
  since?: number;
  /** At most this many. */
  limit: number;
}

/** A failed delivery with the event it was for. */
export interface FailedDelivery extends DeliveryRecord {
  event: Pick<StoredEvent, 'id' | 'name' | 'coreid' | 'published_at'>;
}

/** Which failed deliveries to replay: one by ID, or all that failed at or after a time (0 = all). */
export type ReplaySelector = { deliveryId: number } | { since: number };

/** outbound: webhook delivery attempts; inbound: publishes through the API; device: device events. */
export type StatsType = 'outbound' | 'inbound' | 'device';

/** Successes (code '') or failures of one kind within one UTC hour. */
export interface StatsRow {
  /** Start of the UTC hour, ms since the epoch. */
  hour: number;
  type: StatsType;
  /** '' when the row is not about an integration. */
  integrationId: string;
  /** '' for successes; else the failure's stable code (an HTTP status, ETIMEDOUT, EVENT_TOO_LARGE, ...). */
  code: string;
  /** The failure in words, stable so rows group well ('' for successes). */
  description: string;
  count: number;
  /** First and last occurrence within the hour, ms since the epoch. */
  firstAt: number;
  lastAt: number;
}

export interface StatsRepo {
  /** Add counts (rows with the same key add up; first and last widen), in one transaction. */
  add(rows: StatsRow[]): Promise<void>;
  /** Rows of the hours from `from` (inclusive) to `until` (exclusive), ms since the epoch. */
  range(from: number, until: number): Promise<StatsRow[]>;
  /** Remove hours before `before`; returns how many rows went. */
  prune(before: number): Promise<number>;
}

/** Request bins' bounds, which hold across every bridge sharing the bins. */
export interface BinLimits {
  /** Requests kept per bin; older ones are dropped. */
  maxRequests: number;
  /** Bins kept (see BinRepo.capture and configure for who may push one out). */
  maxBins: number;
  /** Bytes of requests kept across all bins; the least recently used bins' oldest requests go first. */
  maxTotalBytes: number;
}

/** A request bin as stored; its answer and requests are JSON owned by bridge/api/bins.ts. */
export interface BinRecord {
  name: string;
  createdAt: string;
  lastRequestAt: string | null;
  /** Requests kept. */
  count: number;
  /** Requests captured since the bin was made (dropped and cleared ones too). */
  total: number;
  /** How the bin answers; null until set (the default answer). */
  response: JsonObject | null;
}

/** A captured request as stored: its ID increases across all bins, in the order they were kept. */
export interface BinRequestRecord {
  id: number;
  request: JsonObject;
}

/** A request to keep: when it came, its size as the byte bound counts it, and what it was. */
export interface NewBinRequest {
  at: string;
  size: number;
  request: JsonObject;
}

/**
 * Request bins several bridges share (the store they share keeps them), with their bounds
 * applied across all of them. A single bridge keeps its bins in memory instead.
 */
export interface BinRepo {
  /**
   * Keep a request in bin `name`, made if need be while there are fewer than maxBins (the
   * capture URL needs no token, so it may not push a bin out), then apply the bounds (never
   * dropping the request just kept) and tell every watcher. Returns the bin's answer, or
   * undefined when the bin does not exist and there is no room for it.
   */
  capture(name: string, request: NewBinRequest, limits: BinLimits): Promise<{ response: JsonObject | null } | undefined>;
  /** Set bin `name`'s answer (made if need be, pushing out the least recently used bins over maxBins). */
  configure(name: string, response: JsonObject, limits: BinLimits): Promise<BinRecord>;
  get(name: string): Promise<BinRecord | undefined>;
  /** Requests of bin `name` with an ID above `after`, oldest first. */
  requests(name: string, after: number): Promise<BinRequestRecord[]>;
  /** All bins, most recently used first. */
  list(): Promise<BinRecord[]>;
  /** Forget a bin's requests (its answer stays); false when there is no such bin. */
  clear(name: string): Promise<boolean>;
  /** Call `listener` with a bin's name each time any bridge keeps a request in it; resolves once listening, with what stops it. */
  watch(listener: (name: string) => void): Promise<() => Promise<void>>;
}

export interface Store {
  /** Backend name, for /health and logs. */
  readonly backend: string;
  readonly devices: DeviceRepo;
  readonly tokens: TokenRepo;
  readonly sessions: SessionRepo;
  readonly integrations: IntegrationRepo;
  readonly deliveries: DeliveryRepo;
  readonly stats: StatsRepo;
  /** Request bins shared by the bridges on this store; absent on a store of one bridge (its bins stay in memory). */
  readonly bins?: BinRepo;
  close(): Promise<void>;
}
