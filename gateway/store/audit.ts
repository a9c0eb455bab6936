import type BetterSqlite3 from 'better-sqlite3';

type Db = BetterSqlite3.Database;

/** One audit row as written (contracts §Audit trail); `at` in epoch ms. */
export interface AuditEntry {
  at: number;
  /** Who: the token's name (or a person's subject); null when nobody was authenticated (SIGHUP, a bad token). */
  actor: string | null;
  /** What: `config.reload`, `ticket.shelve`, `auth.sign-in`, ... (gateway/audit/audit.ts). */
  action: string;
  /** `ok`, `refused`, or a reload's outcome (`applied`, `invalid`, ...). */
  outcome: string;
  /** What it was done to: a ticket id, a notification id, the config file, a route. */
  target: string | null;
  /** From where: the client's address, `signal` for SIGHUP. */
  origin: string | null;
  /** The ANDON_* code of a refusal. */
  code: string | null;
  details: Record<string, unknown> | null;
}

export interface AuditRow extends AuditEntry {
  seq: number;
}

export interface AuditFilter {
  actor?: string;
  /** One action (`ticket.shelve`), or every action under a prefix (`ticket.*`). */
  action?: string;
  outcome?: string;
  /** `at` from (included) and to (excluded), epoch ms. */
  from?: number;
  to?: number;
  limit: number;
  offset: number;
}

type Row = { seq: number; at: number; actor: string | null; action: string; outcome: string; target: string | null; origin: string | null; code: string | null; details: string | null };

const toRow = (r: Row): AuditRow => ({ ...r, details: r.details === null ? null : (JSON.parse(r.details) as Record<string, unknown>) });

/**
 * The audit table: append, read in pages, and prune below the retention horizon. Nothing here updates
 * or deletes a row otherwise, and the schema refuses it (triggers of migration 0010_audit).
 */
export class AuditStore {
  private readonly insert: BetterSqlite3.Statement;
  private readonly prune$: BetterSqlite3.Transaction<(before: number, limit: number) => number>;
  private readonly statements = new Map<string, BetterSqlite3.Statement>();

  constructor(private readonly db: Db) {
    this.insert = db.prepare('INSERT INTO audit (at, actor, action, outcome, target, origin, code, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    const horizon = db.prepare('UPDATE audit_horizon SET before = MAX(before, ?) WHERE id = 1');
    const remove = db.prepare('DELETE FROM audit WHERE seq IN (SELECT seq FROM audit INDEXED BY audit_at WHERE at < ? ORDER BY at LIMIT ?)');
    this.prune$ = db.transaction((before: number, limit: number) => {
      horizon.run(before);
      return remove.run(before, limit).changes;
    });
  }

  /** Appends one row (its own transaction); returns its seq. */
  append(e: AuditEntry): number {
    return Number(this.insert.run(e.at, e.actor, e.action, e.outcome, e.target, e.origin, e.code, e.details === null ? null : JSON.stringify(e.details)).lastInsertRowid);
  }

  /** A page of rows, newest first, and how many match. */
  list(f: AuditFilter): { items: AuditRow[]; total: number } {
    // Filters are columns of a closed list, values are bound: the WHERE clause is built, never the values.
    const where: string[] = [];
    const args: unknown[] = [];
    const add = (sql: string, ...values: unknown[]) => {
      where.push(sql);
      args.push(...values);
    };
    if (f.actor !== undefined) add('actor = ?', f.actor);
    // `ticket.*`: every action that starts with `ticket.`
    if (f.action?.endsWith('.*')) add('substr(action, 1, ?) = ?', f.action.length - 1, f.action.slice(0, -1));
    else if (f.action !== undefined) add('action = ?', f.action);
    if (f.outcome !== undefined) add('outcome = ?', f.outcome);
    if (f.from !== undefined) add('at >= ?', f.from);
    if (f.to !== undefined) add('at < ?', f.to);
    const clause = where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '';
    const total = (this.prepared(`SELECT COUNT(*) AS n FROM audit${clause}`).get(...args) as { n: number }).n;
    const rows = this.prepared(`SELECT seq, at, actor, action, outcome, target, origin, code, details FROM audit${clause} ORDER BY seq DESC LIMIT ? OFFSET ?`).all(
      ...args,
      f.limit,
      f.offset,
    ) as Row[];
    return { items: rows.map(toRow), total };
  }

  /** Deletes at most `limit` rows older than `before`, oldest first (one transaction); returns how many. */
  prune(before: number, limit: number): number {
    return this.prune$.immediate(before, limit);
  }

  private prepared(sql: string): BetterSqlite3.Statement {
    let stmt = this.statements.get(sql);
    if (!stmt) this.statements.set(sql, (stmt = this.db.prepare(sql)));
    return stmt;
  }
}
