import type BetterSqlite3 from 'better-sqlite3';

type Db = BetterSqlite3.Database;

/** One early warning as the store keeps it for reports (table `warnings`). */
export interface WarningRow {
  id: string;
  ticketId: string;
  /** The cause: `<asset>/<fault>` of a probable cause, or `pattern:daily` / `pattern:weekly`. */
  cause: string;
  /** The effect: the ticket's key. */
  effect: string;
  at: number;
  expectedBy: number;
  leadSeconds: number;
  outcome: 'pending' | 'confirmed' | 'missed';
  settledAt: number | null;
  actualLeadSeconds: number | null;
}

/**
 * The warnings log (table `warnings`): a row per warning, written (raised, then settled) in the transaction of
 * the ticket version that made the change (StoreTx.recordWarning). Read for the warnings report and, at start,
 * for each cause's latest outcomes (the precision cut-off).
 */
export class WarningLog {
  private readonly s;

  constructor(db: Db) {
    this.s = {
      upsert: db.prepare(
        `INSERT INTO warnings (id, ticket_id, cause, effect, at, expected_by, lead_seconds, outcome, settled_at, actual_lead_seconds)
         VALUES (@id, @ticketId, @cause, @effect, @at, @expectedBy, @leadSeconds, @outcome, @settledAt, @actualLeadSeconds)
         ON CONFLICT (id) DO UPDATE SET outcome = excluded.outcome, settled_at = excluded.settled_at, actual_lead_seconds = excluded.actual_lead_seconds`,
      ),
      latest: db.prepare(
        `SELECT cause, effect, outcome FROM (
           SELECT cause, effect, outcome, settled_at, ROW_NUMBER() OVER (PARTITION BY cause, effect ORDER BY settled_at DESC, id DESC) AS n
           FROM warnings WHERE outcome != 'pending')
         WHERE n <= ? ORDER BY cause, effect, settled_at`,
      ),
      period: db.prepare(
        `SELECT id, ticket_id AS ticketId, cause, effect, at, expected_by AS expectedBy, lead_seconds AS leadSeconds, outcome,
                settled_at AS settledAt, actual_lead_seconds AS actualLeadSeconds
         FROM warnings INDEXED BY warnings_at WHERE at >= ? AND at < ? ORDER BY at`,
      ),
    };
  }

  /** Writes a warning (new, or its settlement). Only through a ticket transaction (StoreTx.recordWarning). */
  write(row: WarningRow): void {
    this.s.upsert.run(row);
  }

  /** The settled outcomes of each cause → effect pair, the newest `n` of each, oldest first. */
  latest(n: number): { cause: string; effect: string; outcome: 'confirmed' | 'missed' }[] {
    return this.s.latest.all(n) as { cause: string; effect: string; outcome: 'confirmed' | 'missed' }[];
  }

  /** The warnings raised in [from, to), oldest first. */
  inPeriod(from: number, to: number): WarningRow[] {
    return this.s.period.all(from, to) as WarningRow[];
  }
}
