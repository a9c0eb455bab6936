import type BetterSqlite3 from 'better-sqlite3';
import { redact } from '../redact.ts';
import type { HistoryEvent, TicketState } from '../../model/ticket.ts';

type Db = BetterSqlite3.Database;

/** Why a notification exists: a ticket opened at P0/P1, a ticket raised to P0/P1, or an escalation. */
/** `warning`: an early warning on the ticket (its cause fired, the fault is expected soon). */
export type NotificationKind = 'opened' | 'raised' | 'escalated' | 'reopened' | 'warning';

/** A notification to queue, in the same transaction as the ticket change that causes it. */
export interface NotificationDraft {
  channel: string;
  kind: NotificationKind;
  ticketId: string;
  /** The ticket version the change made. */
  version: number;
  /** The ticket's state after the change (an alert is dropped when someone has acted on the ticket since). */
  state: TicketState;
  /** The history event of the change. */
  event: HistoryEvent;
  /** When the change happened (epoch ms): the row is due then. */
  at: number;
}

/** One queued notification as the notifier and the admin API see it. */
export interface QueuedNotification {
  id: number;
  channel: string;
  kind: NotificationKind;
  ticketId: string;
  version: number;
  state: TicketState;
  event: HistoryEvent;
  createdAt: number;
  /** When an admin last retried it (null: never); its maxAge counts from then. */
  retriedAt: number | null;
  attempts: number;
  nextAttemptAt: number;
  parkedAt: number | null;
  code: string | null;
  lastError: string | null;
}

/** What became of one delivery attempt; `settle` writes a batch of them in one transaction. */
export type NotificationSettlement =
  /** Sent (the receiver's 2xx) or dropped (nobody needs it any more): the row goes. */
  | { kind: 'done'; id: number }
  | { kind: 'retry'; id: number; attempts: number; nextAttemptAt: number; error: string }
  | { kind: 'park'; id: number; at: number; code: string; error: string };

const COLUMNS = `id, channel, kind, ticket_id AS ticketId, version, state, event, created_at AS createdAt, retried_at AS retriedAt, attempts,
  next_attempt_at AS nextAttemptAt, parked_at AS parkedAt, code, last_error AS lastError`;

// The notifier stores errors redacted; rows written by an older version may still show a URL's secrets.
const toQueued = (r: Record<string, unknown>): QueuedNotification => ({
  ...(r as unknown as QueuedNotification),
  event: JSON.parse(r.event as string) as HistoryEvent,
  lastError: typeof r.lastError === 'string' ? redact(r.lastError) : null,
});

/**
 * The notification queue (table `notifications`): rows are added by
 * `TicketStore.transaction` with the ticket change, read per channel in id
 * order (the channel's line), settled in batches, and deleted only once the
 * receiver answered 2xx (or the notification is no longer needed). The
 * backlog stays on disk: the notifier reads a few rows per channel at a time.
 */
export class NotificationQueue {
  private readonly s;

  constructor(private readonly db: Db) {
    const LINE = 'notifications INDEXED BY notifications_line';
    this.s = {
      add: db.prepare(
        `INSERT INTO notifications (channel, ticket_id, version, kind, state, event, created_at, next_attempt_at)
         VALUES (@channel, @ticketId, @version, @kind, @state, @event, @at, @at) ON CONFLICT DO NOTHING`,
      ),
      line: db.prepare(`SELECT ${COLUMNS} FROM ${LINE} WHERE channel = @channel AND parked_at IS NULL AND id NOT IN (SELECT value FROM json_each(@busy)) ORDER BY id LIMIT @limit`),
      remove: db.prepare('DELETE FROM notifications WHERE id = ?'),
      retry: db.prepare('UPDATE notifications SET attempts = @attempts, next_attempt_at = @next, last_error = @error WHERE id = @id'),
      park: db.prepare('UPDATE notifications SET parked_at = @at, code = @code, last_error = @error WHERE id = @id'),
      parkOthers: db.prepare(
        `UPDATE notifications SET parked_at = @at, code = 'ANDON_NOTIFY_UNKNOWN_CHANNEL', last_error = 'channel ' || channel || ' is not under notify: in the config'
         WHERE parked_at IS NULL AND channel NOT IN (SELECT value FROM json_each(@channels))`,
      ),
      unpark: db.prepare('UPDATE notifications SET parked_at = NULL, code = NULL, last_error = NULL, attempts = 0, next_attempt_at = @now, retried_at = @now WHERE id = @id AND parked_at IS NOT NULL'),
      byId: db.prepare(`SELECT ${COLUMNS} FROM notifications WHERE id = ?`),
      pending: db.prepare('SELECT channel, COUNT(*) AS n FROM notifications WHERE parked_at IS NULL GROUP BY channel'),
      pendingAll: db.prepare('SELECT COUNT(*) AS n FROM notifications WHERE parked_at IS NULL'),
    };
  }

  /** Queues notifications; only `TicketStore.transaction` calls this, inside the ticket change's transaction. */
  add(drafts: readonly NotificationDraft[]): void {
    for (const d of drafts) {
      this.s.add.run({ channel: d.channel, ticketId: d.ticketId, version: d.version, kind: d.kind, state: d.state, event: JSON.stringify(d.event), at: d.at });
    }
  }

  /** The first `limit` unparked rows of a channel's line (id order), leaving out `busy` ids. */
  line(channel: string, limit: number, busy: Iterable<number>): QueuedNotification[] {
    return (this.s.line.all({ channel, limit, busy: JSON.stringify([...busy]) }) as Record<string, unknown>[]).map(toQueued);
  }

  get(id: number): QueuedNotification | undefined {
    const r = this.s.byId.get(id) as Record<string, unknown> | undefined;
    return r && toQueued(r);
  }

  /** Writes the outcomes of several deliveries in one transaction (one fsync for all of them). */
  settle(list: readonly NotificationSettlement[]): void {
    if (list.length === 0) return;
    this.db
      .transaction(() => {
        for (const x of list) {
          if (x.kind === 'done') this.s.remove.run(x.id);
          else if (x.kind === 'retry') this.s.retry.run({ id: x.id, attempts: x.attempts, next: x.nextAttemptAt, error: x.error.slice(0, 2000) });
          else this.s.park.run({ id: x.id, at: x.at, code: x.code, error: x.error.slice(0, 2000) });
        }
      })
      .immediate();
  }

  /** Parks the pending rows of channels not in `channels` (removed from the config); returns how many. */
  parkUnknownChannels(channels: readonly string[], at: number): number {
    return this.s.parkOthers.run({ channels: JSON.stringify(channels), at }).changes;
  }

  /** Puts a parked row back in its channel's line, due at `now` with a fresh backoff; false when it is not parked. */
  retry(id: number, now: number): boolean {
    return this.s.unpark.run({ id, now }).changes === 1;
  }

  /** Unparked rows (waiting to be delivered). */
  pending(): number {
    return (this.s.pendingAll.get() as { n: number }).n;
  }

  /** Unparked rows per channel. */
  pendingByChannel(): Map<string, number> {
    return new Map((this.s.pending.all() as { channel: string; n: number }[]).map((r) => [r.channel, r.n]));
  }

  /** Pending (or parked) rows, oldest first, optionally of one channel; with the total for paging. */
  list(opts: { parked: boolean; channel?: string; limit?: number; offset?: number }): { items: QueuedNotification[]; total: number } {
    const where = `parked_at IS ${opts.parked ? 'NOT NULL' : 'NULL'}${opts.channel === undefined ? '' : ' AND channel = @channel'}`;
    const args = { channel: opts.channel, limit: opts.limit ?? 100, offset: opts.offset ?? 0 };
    const total = (this.db.prepare(`SELECT COUNT(*) AS n FROM notifications WHERE ${where}`).get(args) as { n: number }).n;
    const rows = this.db.prepare(`SELECT ${COLUMNS} FROM notifications WHERE ${where} ORDER BY id LIMIT @limit OFFSET @offset`).all(args) as Record<string, unknown>[];
    return { items: rows.map(toQueued), total };
  }
}
