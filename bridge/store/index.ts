export type * from './types.ts';
export { openSqliteStore, type StoreSync } from './sqlite.ts';
