export type * from './types.ts';
export { openSqliteStore, type StoreSync } from './sqlite.ts';
export { isPostgresUrl, openPostgresStore, postgresDefaults, postgresLabel, type PostgresStoreOptions } from './postgres.ts';
export { parseSecretKeys, sealIntegrations, type SecretKeys } from './sealed.ts';
