/** DuckDB as the independent reader of the files sbertkit writes: one in-memory database per test file. */
import {after, before} from 'node:test';
import {DuckDBInstance, type DuckDBConnection} from '@duckdb/node-api';

export type Query = (sql: string) => Promise<Record<string, unknown>[]>;

/** Opens a connection before the file's (or suite's) tests and closes it after; returns the query function. */
export function useDuckDb(): Query {
  let duck: DuckDBInstance;
  let db: DuckDBConnection;
  before(async () => {
    duck = await DuckDBInstance.create();
    db = await duck.connect();
  });
  after(() => {
    db.closeSync();
    duck.closeSync();
  });
  return async (sql) => (await db.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[];
}

/** A SQL string literal. */
export const sqlString = (value: string): string => `'${value.replace(/'/g, "''")}'`;
