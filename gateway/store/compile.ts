import type BetterSqlite3 from 'better-sqlite3';
import type { Knex } from 'knex';

type Db = BetterSqlite3.Database;

/** A parameter placeholder for `compile`: knex binds it like a value, we swap in the argument. */
const PARAM = '\u0000andon-param:';
export const $ = (i: number) => `${PARAM}${i}`;

export interface Compiled {
  run(...args: unknown[]): BetterSqlite3.RunResult;
  get(...args: unknown[]): unknown;
  all(...args: unknown[]): unknown[];
}

/** Prepares a knex query once; constants stay bound, `$(i)` placeholders take the i-th argument. */
export function compile(db: Db, b: Knex.QueryBuilder): Compiled {
  const { sql, bindings } = b.toSQL().toNative();
  const stmt = db.prepare(sql);
  const slots = (bindings as unknown[]).map((v) => (typeof v === 'string' && v.startsWith(PARAM) ? Number(v.slice(PARAM.length)) : { v }));
  const bind = (args: unknown[]) => slots.map((s) => (typeof s === 'number' ? args[s] : s.v));
  const reader = stmt.reader;
  return {
    run: (...args) => stmt.run(...bind(args)),
    get: (...args) => (reader ? stmt.get(...bind(args)) : undefined),
    all: (...args) => (reader ? stmt.all(...bind(args)) : []),
  };
}
