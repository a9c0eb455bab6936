import type BetterSqlite3 from 'better-sqlite3';
import type { Logger } from 'pino';
import type { SchedulerLike, Subscription } from 'rxjs';

/** Tickets deleted per transaction: short enough that ingest never waits long for the write lock. */
export const PRUNE_BATCH = 500;
const EVERY_MS = 3_600_000;

/**
 * Deletes closed tickets that have not changed since `before`, with their
 * history events, outbox rows and notification rows, in one transaction per
 * batch. A ticket with an outbox row still waiting for central (not parked) is
 * kept: retention never drops what central has not seen. So is a ticket with a
 * knowledge entry (the knowledge base keeps its cases).
 */
export class Retention {
  private readonly prune$: BetterSqlite3.Transaction<(before: number, limit: number) => number>;

  constructor(db: BetterSqlite3.Database) {
    const pick = db.prepare(
      `SELECT id FROM tickets INDEXED BY tickets_state_updated_at WHERE state = 'closed' AND updated_at < ?
         AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.ticket_id = tickets.id AND o.parked_at IS NULL)
         AND NOT EXISTS (SELECT 1 FROM knowledge_docs k WHERE k.ticket_id = tickets.id AND k.has_entry = 1) LIMIT ?`,
    );
    const ids = 'SELECT value FROM json_each(?)';
    const remove = ['notifications', 'outbox', 'ticket_events', 'ticket_members', 'warnings'].map((t) => db.prepare(`DELETE FROM ${t} WHERE ticket_id IN (${ids})`));
    // a pruned ticket leaves the knowledge index too (one with a knowledge entry is never pruned)
    const removeKnowledge = [
      db.prepare(`DELETE FROM knowledge_fts WHERE rowid IN (SELECT n FROM knowledge_docs WHERE ticket_id IN (${ids}))`),
      db.prepare(`DELETE FROM knowledge_docs WHERE ticket_id IN (${ids})`),
      db.prepare(`DELETE FROM knowledge_labels WHERE ticket_id IN (${ids})`),
    ];
    const removeTickets = db.prepare(`DELETE FROM tickets WHERE id IN (${ids})`);
    this.prune$ = db.transaction((before: number, limit: number) => {
      const list = JSON.stringify((pick.all(before, limit) as { id: string }[]).map((r) => r.id));
      for (const stmt of [...remove, ...removeKnowledge]) stmt.run(list);
      return removeTickets.run(list).changes;
    });
  }

  /** Deletes at most `limit` prunable tickets (one transaction); returns how many. */
  prune(before: number, limit = PRUNE_BATCH): number {
    return this.prune$.immediate(before, limit);
  }
}

/**
 * `store.retention`: prunes closed tickets at start and hourly, a batch per scheduler turn so signals and
 * requests get the store between batches.
 */
export function startRetention(store: { retention: Retention }, retentionMs: number, scheduler: SchedulerLike, log: Logger, onPruned?: (n: number) => void) {
  return startPruning((before) => store.retention.prune(before), { retentionMs, what: 'closed tickets' }, scheduler, log, onPruned);
}

/** `store.auditRetention`: prunes audit rows older than the retention, the same way (gateway/store/audit.ts). */
export function startAuditRetention(store: { audit: { prune(before: number, limit: number): number } }, retentionMs: number, scheduler: SchedulerLike, log: Logger, onPruned?: (n: number) => void) {
  return startPruning((before) => store.audit.prune(before, PRUNE_BATCH), { retentionMs, what: 'audit rows' }, scheduler, log, onPruned);
}

/**
 * The one pruning loop of the store's retentions: at start and hourly, `prune` (at most PRUNE_BATCH rows, one
 * transaction) until a batch is not full, one batch per scheduler turn.
 */
function startPruning(prune: (before: number) => number, opts: { retentionMs: number; what: string }, scheduler: SchedulerLike, log: Logger, onPruned?: (n: number) => void) {
  const subs = new Set<Subscription>();
  const later = (delay: number, work: () => void) => {
    const sub = scheduler.schedule(() => {
      subs.delete(sub);
      work();
    }, delay);
    subs.add(sub);
  };
  const run = (before: number, total: number) => {
    let n = 0;
    try {
      n = prune(before);
    } catch (err) {
      log.warn({ component: 'store', err }, `retention: pruning ${opts.what} failed; trying again in an hour`);
    }
    if (n > 0) onPruned?.(n);
    if (n === PRUNE_BATCH) return later(0, () => run(before, total + n));
    if (total + n > 0) log.info({ component: 'store', pruned: total + n, before: new Date(before).toISOString() }, `retention: ${opts.what} pruned`);
    later(EVERY_MS, () => run(scheduler.now() - opts.retentionMs, 0));
  };
  later(0, () => run(scheduler.now() - opts.retentionMs, 0));
  return {
    stop(): void {
      for (const s of subs) s.unsubscribe();
      subs.clear();
    },
  };
}
