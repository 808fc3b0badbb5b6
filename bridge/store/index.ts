export type * from './types.ts';
export { openSqliteStore } from './sqlite.ts';
