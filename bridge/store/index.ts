export type * from './types.ts';
export { openSqliteStore, type StoreSync } from './sqlite.ts';
export { parseSecretKeys, sealIntegrations, type SecretKeys } from './sealed.ts';
