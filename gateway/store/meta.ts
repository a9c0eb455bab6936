import type BetterSqlite3 from 'better-sqlite3';

type Db = BetterSqlite3.Database;

/** The gateway's own small state (the sync cursor), one text value per key. */
export class MetaStore {
  private readonly s;

  constructor(db: Db) {
    this.s = {
      get: db.prepare('SELECT value FROM meta WHERE key = ?'),
      set: db.prepare('INSERT INTO meta (key, value) VALUES (@key, @value) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
    };
  }

  get(key: string): string | undefined {
    return (this.s.get.get(key) as { value: string } | undefined)?.value;
  }

  set(key: string, value: string): void {
    this.s.set.run({ key, value });
  }
}

/** A change from central that was refused, as kept in `sync_log`. */
export interface SyncLogEntry {
  seq?: number;
  at: number;
  ticketId: string;
  action: string;
  by: string;
  /** How it came: `push` (POST /api/v1/sync) or `poll` (sink.changes). */
  source: string;
  code: string;
  message: string;
  /** The change as received (JSON). */
  change: string;
}

/** Refused changes from central: recorded, never lost (contracts §Central API sync back). */
export class SyncLog {
  private readonly s;

  constructor(db: Db) {
    this.s = {
      add: db.prepare('INSERT INTO sync_log (at, ticket_id, action, by, source, code, message, change) VALUES (@at, @ticketId, @action, @by, @source, @code, @message, @change)'),
      list: db.prepare('SELECT seq, at, ticket_id AS ticketId, action, by, source, code, message, change FROM sync_log ORDER BY seq DESC LIMIT ?'),
      count: db.prepare('SELECT COUNT(*) AS n FROM sync_log'),
    };
  }

  add(e: SyncLogEntry): void {
    this.s.add.run({ ...e, message: e.message.slice(0, 2000), change: e.change.slice(0, 20_000) });
  }

  /** The newest entries first. */
  list(limit = 100): SyncLogEntry[] {
    return this.s.list.all(limit) as SyncLogEntry[];
  }

  count(): number {
    return (this.s.count.get() as { n: number }).n;
  }
}
