import type BetterSqlite3 from 'better-sqlite3';
import { redact } from '../redact.ts';

type Db = BetterSqlite3.Database;

/** Where a ticket lives at central, as recorded on the ticket (contracts §Ticket JSON `central`). */
export interface CentralLink {
  id: string;
  url: string | null;
  syncedVersion: number;
}

/** The outbox state of one ticket: its newest unparked version and its backoff. */
export interface OutboxHead {
  version: number;
  attempts: number;
  nextAttemptAt: number;
}

/** What became of one delivery attempt; `Outbox.settle` writes a batch of them in one transaction. */
export type Settlement =
  /** Central holds `version` (or newer): its rows and every older one go, the ticket records the link. */
  | { kind: 'delivered'; ticketId: string; version: number; central: CentralLink | null }
  /** Try the ticket again at `nextAttemptAt` (every unparked row of it: backoff is per ticket). */
  | { kind: 'retry'; ticketId: string; attempts: number; nextAttemptAt: number; error: string; resync?: CentralLink }
  /** Central refused `version`: its rows and older ones are parked until someone retries them. */
  | { kind: 'park'; ticketId: string; version: number; at: number; error: string };

/** One ticket's rows in the outbox, for `andon outbox` and `GET /api/v1/outbox`. */
export interface OutboxTicket {
  ticketId: string;
  versions: number;
  fromVersion: number;
  toVersion: number;
  attempts: number;
  nextAttemptAt: number | null;
  createdAt: number;
  parkedAt: number | null;
  lastError: string | null;
}

export interface OutboxSummary {
  pending: { versions: number; tickets: number; oldestAt: number | null };
  parked: { versions: number; tickets: number };
}

/**
 * The outbox side of the store: one row per ticket version, written by
 * `TicketStore.transaction` with the ticket. The forwarder never loads the
 * backlog: it asks for the next few ticket ids due (index `outbox_due`), the
 * head of one ticket, and settles results in batches. Plain SQL here, so the
 * planner's use of `outbox_due` is visible in the text.
 */
export class Outbox {
  private readonly s;
  private readonly settleTx: BetterSqlite3.Transaction<(list: readonly Settlement[]) => void>;
  private readonly sync: { relaxed: BetterSqlite3.Statement; restore: BetterSqlite3.Statement };

  /** `onLink(id)`: a ticket's doc changed here (its central link), outside a new version: the store's cache forgets it. */
  constructor(
    private readonly db: Db,
    private readonly onLink: (id: string) => void = () => undefined,
  ) {
    const NOT_BUSY = 'ticket_id NOT IN (SELECT value FROM json_each(@busy))';
    // Without it the planner may pick outbox_due (parked_at = ?) and walk every pending row.
    const BY_TICKET = 'outbox INDEXED BY outbox_ticket_id_version_index';
    this.s = {
      due: db.prepare(
        `SELECT ticket_id AS id FROM outbox INDEXED BY outbox_due WHERE parked_at IS NULL AND next_attempt_at <= @now AND ${NOT_BUSY} ORDER BY next_attempt_at LIMIT @rows`,
      ),
      nextDue: db.prepare(
        `SELECT next_attempt_at AS at FROM outbox INDEXED BY outbox_due WHERE parked_at IS NULL AND ${NOT_BUSY} ORDER BY next_attempt_at LIMIT 1`,
      ),
      head: db.prepare(
        `SELECT MAX(version) AS version, MAX(attempts) AS attempts, MIN(next_attempt_at) AS nextAttemptAt FROM ${BY_TICKET} WHERE ticket_id = @id AND parked_at IS NULL`,
      ),
      remove: db.prepare(`DELETE FROM ${BY_TICKET} WHERE ticket_id = @id AND version <= @version`),
      // Not a new ticket version: no history event, no outbox row. Never moves syncedVersion back.
      link: db.prepare(
        "UPDATE tickets SET doc = json_set(doc, '$.central', json(@central)) WHERE id = @id AND COALESCE(json_extract(doc, '$.central.syncedVersion'), 0) <= @version",
      ),
      // Central says it holds less than we thought: the link goes back to what it holds (the next delta starts there).
      relink: db.prepare("UPDATE tickets SET doc = json_set(doc, '$.central', json(@central)) WHERE id = @id"),
      retry: db.prepare(
        `UPDATE ${BY_TICKET} SET attempts = @attempts, next_attempt_at = @next, last_error = @error WHERE ticket_id = @id AND parked_at IS NULL`,
      ),
      park: db.prepare(`UPDATE ${BY_TICKET} SET parked_at = @at, last_error = @error WHERE ticket_id = @id AND version <= @version AND parked_at IS NULL`),
      pending: db.prepare('SELECT COUNT(*) AS n FROM outbox WHERE parked_at IS NULL'),
      backlog: db.prepare('SELECT COUNT(*) AS n FROM (SELECT 1 FROM outbox WHERE parked_at IS NULL LIMIT @n)'),
      parked: db.prepare('SELECT COUNT(*) AS n FROM outbox WHERE parked_at IS NOT NULL'),
      // seq follows commit order, so the first pending row is the oldest one (index parked_at, seq)
      oldest: db.prepare('SELECT created_at AS at FROM outbox WHERE parked_at IS NULL ORDER BY seq LIMIT 1'),
      summary: db.prepare(
        'SELECT parked_at IS NOT NULL AS parked, COUNT(*) AS versions, COUNT(DISTINCT ticket_id) AS tickets, MIN(created_at) AS oldestAt FROM outbox GROUP BY 1',
      ),
      unparkOne: db.prepare(`UPDATE ${BY_TICKET} SET parked_at = NULL, attempts = 0, next_attempt_at = @now, last_error = NULL WHERE ticket_id = @id`),
      unparkAll: db.prepare('UPDATE outbox SET parked_at = NULL, attempts = 0, next_attempt_at = @now, last_error = NULL WHERE parked_at IS NOT NULL'),
      parkedOf: db.prepare(`SELECT COUNT(*) AS n FROM ${BY_TICKET} WHERE ticket_id = @id AND parked_at IS NOT NULL`),
    };
    this.settleTx = db.transaction((list: readonly Settlement[]) => {
      for (const x of list) {
        if (x.kind === 'delivered') {
          this.s.remove.run({ id: x.ticketId, version: x.version });
          if (x.central) {
            this.s.link.run({ id: x.ticketId, version: x.version, central: JSON.stringify(x.central) });
            this.onLink(x.ticketId);
          }
        } else if (x.kind === 'retry') {
          if (x.resync) {
            this.s.relink.run({ id: x.ticketId, central: JSON.stringify(x.resync) });
            this.onLink(x.ticketId);
          }
          this.s.retry.run({ id: x.ticketId, attempts: x.attempts, next: x.nextAttemptAt, error: x.error.slice(0, 2000) });
        } else {
          this.s.park.run({ id: x.ticketId, version: x.version, at: x.at, error: x.error.slice(0, 2000) });
        }
      }
    });

    // settle's commit level, and the connection's own (read once: the store sets it when it opens)
    const level = Number(db.pragma('synchronous', { simple: true }));
    this.sync = { relaxed: db.prepare(`PRAGMA synchronous = ${Math.min(level, 1)}`), restore: db.prepare(`PRAGMA synchronous = ${level}`) };
  }

  /** Up to `limit` ticket ids with a version due at `now`, earliest due first, leaving out `busy` ones. */
  due(now: number, limit: number, busy: Iterable<string>): string[] {
    const ids = new Set<string>();
    // Several rows per ticket are common (coalescing); read a few times more rows than ids wanted.
    for (const r of this.s.due.iterate({ now, rows: limit * 8, busy: JSON.stringify([...busy]) }) as Iterable<{ id: string }>) {
      ids.add(r.id);
      if (ids.size >= limit) break;
    }
    return [...ids];
  }

  /** When the earliest unparked row of a ticket not in `busy` is due; null when there is none. */
  nextDueAt(busy: Iterable<string>): number | null {
    const r = this.s.nextDue.get({ busy: JSON.stringify([...busy]) }) as { at: number } | undefined;
    return r?.at ?? null;
  }

  /** The newest unparked version of a ticket, its attempts and when it is due (its earliest row, as in `due`). */
  head(ticketId: string): OutboxHead | undefined {
    const r = this.s.head.get({ id: ticketId }) as { version: number | null; attempts: number; nextAttemptAt: number } | undefined;
    return r && r.version !== null ? { version: r.version, attempts: r.attempts, nextAttemptAt: r.nextAttemptAt } : undefined;
  }

  /**
   * Writes the outcome of several deliveries in one transaction, without an fsync of its own
   * (`synchronous = NORMAL` for this commit only; the connection's level is restored after it).
   * It survives kill -9 like any commit (the WAL is written); only a power loss before the next
   * ticket change's fsync can forget it, and then the version is sent again: central absorbs it by
   * its idempotency key (the RT sink by its `CF.{AndonId}` lookup), as after a kill -9 between
   * central's answer and this commit. An fsync per settlement held the event loop on the disk
   * for every few deliveries of a drain.
   */
  settle(list: readonly Settlement[]): void {
    if (list.length === 0) return;
    const sync = this.sync;
    sync.relaxed.run();
    try {
      this.settleTx.immediate(list);
    } finally {
      sync.restore.run();
    }
  }

  /** Ticket versions waiting to be forwarded (not parked). */
  pending(): number {
    return (this.s.pending.get() as { n: number }).n;
  }

  /** Whether `atLeast` versions or more wait to be forwarded (not parked): reads at most that many rows, not all. */
  backlog(atLeast: number): boolean {
    return (this.s.backlog.get({ n: atLeast }) as { n: number }).n >= atLeast;
  }

  parked(): number {
    return (this.s.parked.get() as { n: number }).n;
  }

  /** When the oldest pending version was written; null when nothing is pending. */
  oldestAt(): number | null {
    return (this.s.oldest.get() as { at: number } | undefined)?.at ?? null;
  }

  summary(): OutboxSummary {
    const out: OutboxSummary = { pending: { versions: 0, tickets: 0, oldestAt: null }, parked: { versions: 0, tickets: 0 } };
    for (const r of this.s.summary.all() as { parked: number; versions: number; tickets: number; oldestAt: number }[]) {
      if (r.parked) out.parked = { versions: r.versions, tickets: r.tickets };
      else out.pending = { versions: r.versions, tickets: r.tickets, oldestAt: r.oldestAt };
    }
    return out;
  }

  /** Tickets with pending (or, with `parked`, parked) rows, oldest first. */
  list(opts: { parked?: boolean; limit?: number; offset?: number } = {}): OutboxTicket[] {
    const sql = `SELECT ticket_id AS ticketId, COUNT(*) AS versions, MIN(version) AS fromVersion, MAX(version) AS toVersion, MAX(attempts) AS attempts,
        MAX(next_attempt_at) AS nextAttemptAt, MIN(created_at) AS createdAt, MAX(parked_at) AS parkedAt,
        (SELECT last_error FROM outbox e WHERE e.ticket_id = o.ticket_id AND e.last_error IS NOT NULL ORDER BY e.seq DESC LIMIT 1) AS lastError
      FROM outbox o WHERE parked_at IS ${opts.parked ? 'NOT NULL' : 'NULL'} GROUP BY ticket_id ORDER BY MIN(seq) LIMIT @limit OFFSET @offset`;
    const rows = this.db.prepare(sql).all({ limit: opts.limit ?? 100, offset: opts.offset ?? 0 }) as OutboxTicket[];
    // The forwarder stores errors redacted; rows written by an older version may still show a URL's secrets.
    return rows.map((r) => (r.lastError === null ? r : { ...r, lastError: redact(r.lastError) }));
  }

  /**
   * Un-parks a ticket's rows (or every parked row with `ticketId` null) and makes
   * them due at `now` with a fresh backoff. Returns how many parked rows it un-parked.
   */
  retry(ticketId: string | null, now: number): number {
    return this.db
      .transaction(() => {
        if (ticketId === null) return this.s.unparkAll.run({ now }).changes;
        const n = (this.s.parkedOf.get({ id: ticketId }) as { n: number }).n;
        if (n > 0) this.s.unparkOne.run({ id: ticketId, now });
        return n;
      })
      .immediate();
  }
}
