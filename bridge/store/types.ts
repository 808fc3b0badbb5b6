// The store interface. Every backend (SQLite now; PostgreSQL for several bridge nodes later)
// implements it and passes test/store.conformance.ts. Methods are async so a networked
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

/** An integration as stored: its template is JSON, read back through the webhooks layer. */
export interface IntegrationRecord {
  id: string;
  productId: number | null;
  template: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}

export interface IntegrationRepo {
  create(record: IntegrationRecord): Promise<void>;
  get(id: string): Promise<IntegrationRecord | undefined>;
  /** In creation order. */
  list(): Promise<IntegrationRecord[]>;
  /** Replace template, product and updatedAt; false when there is no such integration. */
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

export interface Store {
  /** Backend name, for /health and logs. */
  readonly backend: string;
  readonly devices: DeviceRepo;
  readonly tokens: TokenRepo;
  readonly integrations: IntegrationRepo;
  close(): Promise<void>;
}
