import type BetterSqlite3 from 'better-sqlite3';

type Db = BetterSqlite3.Database;

/**
 * Ticket changes by their history seq (ticket_events.seq: strictly increasing,
 * kept across restarts): what an event stream resuming from Last-Event-ID owes.
 */
export class ChangeFeed {
  private readonly s;

  constructor(db: Db) {
    this.s = {
      // A range of the primary key (seq > ?), not a walk of the (ticket_id, seq) index: a resume reads only what changed.
      since: db.prepare('SELECT ticket_id AS id, MAX(seq) AS seq FROM ticket_events NOT INDEXED WHERE seq > ? GROUP BY ticket_id ORDER BY seq LIMIT ?'),
      last: db.prepare('SELECT MAX(seq) AS seq FROM ticket_events'),
    };
  }

  /** Tickets changed after seq `after`, each once with its newest seq, in seq order; at most `limit` + 1 rows, so callers see "too many". */
  since(after: number, limit: number): { id: string; seq: number }[] {
    return this.s.since.all(after, limit + 1) as { id: string; seq: number }[];
  }

  /** The newest seq (0 when there is no change yet). */
  last(): number {
    return (this.s.last.get() as { seq: number | null }).seq ?? 0;
  }
}
