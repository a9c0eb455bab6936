import type BetterSqlite3 from 'better-sqlite3';
import knexFactory, { type Knex } from 'knex';
import type { Logger } from 'pino';
import { AndonError } from '../errors.ts';
import { iso, type HistoryEvent, type IndexedEvent, type Ticket, type TicketDoc, type TicketState } from '../tickets/ticket.ts';
import { $, compile } from './compile.ts';
import { corrupt, isCorruption, preflight, quickCheck, walGuard } from './files.ts';
import { KpiQueries } from './kpi.ts';
import { MetaStore, SyncLog } from './meta.ts';
import { migrationSource } from './migrations.ts';
import { NotificationQueue, type NotificationDraft } from './notifications.ts';
import { Outbox } from './outbox.ts';
import { ChangeFeed } from './changes.ts';
import { ReportQueries } from './reports.ts';
import { Retention } from './retention.ts';

type Db = BetterSqlite3.Database;
/** How often the store looks whether its -wal is still there (a stat). */
const WAL_CHECK_MS = 10_000;
type Row = Record<string, unknown>;

export interface TicketFilter {
  state?: TicketState | TicketState[];
  priority?: string;
  area?: string;
  asset?: string;
  fault?: string;
  limit?: number;
  offset?: number;
}

/** A raise recorded in history: what recurrence and cause discovery learn from after a restart. */
export interface RaiseRecord {
  key: string;
  asset: string | null;
  area: string | null;
  fault: string;
  at: number;
}

/** The writes allowed inside one store transaction. */
export interface StoreTx {
  liveByKey(key: string): TicketDoc | undefined;
  byId(id: string): TicketDoc | undefined;
  /** Writes the ticket (new when `doc.version === 1`), its history event and its outbox row; returns the event's seq. */
  save(doc: TicketDoc, event: HistoryEvent): number;
  /** Queues notifications the change causes (gateway/notify/triggers.ts), committed with it. */
  enqueueNotifications(drafts: readonly NotificationDraft[]): void;
  similar(fault: string, asset: string | null, limit: number): TicketDoc[];
}

/**
 * The ticket store: the only code that runs SQL against the ticket tables.
 * Knex builds the schema (migrations) and the statements; better-sqlite3 runs
 * them synchronously so a ticket change, its history event and its outbox row
 * commit together in one `BEGIN IMMEDIATE` transaction.
 */
export class TicketStore {
  private readonly stmts: ReturnType<TicketStore['prepare']>;
  /** The outbox: what the forwarder reads, settles and parks (gateway/store/outbox.ts). */
  readonly outbox: Outbox;
  readonly meta: MetaStore;
  readonly syncLog: SyncLog;
  /** Notifications waiting for their webhook (gateway/store/notifications.ts). */
  readonly notifications: NotificationQueue;
  /** Read-only queries the alarm KPIs start from (gateway/store/kpi.ts). */
  readonly kpi: KpiQueries;
  /** Read-only reports: top faults, response times (gateway/store/reports.ts). */
  readonly reports: ReportQueries;
  /** Ticket changes by history seq, for resuming event streams (gateway/store/changes.ts). */
  readonly changes: ChangeFeed;
  /** Pruning of old closed tickets (`store.retention`, gateway/store/retention.ts). */
  readonly retention: Retention;
  private readonly wal: ReturnType<typeof walGuard> | undefined;
  private readonly walTimer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly knex: Knex,
    private readonly db: Db,
    readonly file: string,
    log: Logger | undefined,
  ) {
    this.stmts = this.prepare();
    this.outbox = new Outbox(db);
    this.meta = new MetaStore(db);
    this.syncLog = new SyncLog(db);
    this.notifications = new NotificationQueue(db);
    this.kpi = new KpiQueries(db);
    this.reports = new ReportQueries(db);
    this.changes = new ChangeFeed(db);
    this.retention = new Retention(db);
    if (file !== ':memory:') {
      this.wal = walGuard(db, file, log);
      this.walTimer = setInterval(() => this.checkFiles(), WAL_CHECK_MS).unref();
    }
  }

  /**
   * Opens (and migrates) the store. `:memory:` gives a private in-memory store.
   * Refuses a directory or file it cannot write (ANDON_STORE_UNAVAILABLE) and a
   * file that fails PRAGMA quick_check (ANDON_STORE_CORRUPT), naming the path.
   */
  static async open(file: string, opts: { log?: Logger } = {}): Promise<TicketStore> {
    if (file !== ':memory:') preflight(file, opts.log);
    const knex = knexFactory({
      client: 'better-sqlite3',
      connection: { filename: file },
      useNullAsDefault: true,
      // knex would print a failed open to the console; the error is thrown (with a code) below.
      log: { warn: () => undefined, error: () => undefined, deprecate: () => undefined, debug: () => undefined },
      pool: {
        min: 1,
        max: 1,
        afterCreate: (conn: Db, done: (err: Error | null, conn: Db) => void) => {
          try {
            // busy_timeout first: switching a new file to WAL must wait for another opener, not fail
            conn.pragma('busy_timeout = 10000');
            if (file !== ':memory:') conn.pragma('journal_mode = WAL');
            conn.pragma('synchronous = FULL');
            conn.pragma('foreign_keys = ON');
            done(null, conn);
          } catch (err) {
            done(err as Error, conn);
          }
        },
      },
    });
    try {
      const conn = (await knex.client.acquireConnection()) as Db;
      try {
        // Before any write: migrating a damaged file can only make it worse.
        const problems = file === ':memory:' ? [] : quickCheck(conn);
        if (problems.length > 0) throw corrupt(file, `quick_check: ${problems.join('; ')}`);
        createMigrationTables(conn);
      } finally {
        await knex.client.releaseConnection(conn);
      }
      await knex.migrate.latest({ migrationSource });
      // Keep the pool's only connection: every statement from now on runs on it, synchronously.
      const db = (await knex.client.acquireConnection()) as Db;
      return new TicketStore(knex, db, file, opts.log);
    } catch (err) {
      await knex.destroy().catch(() => undefined);
      if (err instanceof AndonError) throw err;
      if (isCorruption(err)) throw corrupt(file, (err as Error).message, err);
      throw new AndonError('ANDON_STORE_UNAVAILABLE', `cannot open the ticket store at ${file}: ${(err as Error).message}`, { cause: err });
    }
  }

  private prepare() {
    const k = this.knex;
    const c = (b: Knex.QueryBuilder) => compile(this.db, b);
    // Written as a literal so SQLite can use the partial index tickets_one_live_per_key
    // (a bound parameter hides the condition from the planner: a full scan per detection).
    const LIVE = "state NOT IN ('closed', 'merged')";
    return {
      insertTicket: c(
        k('tickets').insert({
          id: $(0),
          key: $(1),
          state: $(2),
          version: $(3),
          priority: $(4),
          area: $(5),
          asset: $(6),
          fault: $(7),
          opened_at: $(8),
          updated_at: $(9),
          doc: $(10),
        }),
      ),
      updateTicket: c(
        k('tickets')
          .update({ state: $(0), version: $(1), priority: $(2), updated_at: $(3), doc: $(4) })
          .where({ id: $(5), version: $(6) }),
      ),
      insertEvent: c(k('ticket_events').insert({ ticket_id: $(0), version: $(1), at: $(2), action: $(3), by: $(4), data: $(5) })),
      // A new version is due when written, unless its ticket is backing off (backoff is per ticket): then it
      // joins the ticket's newest pending row, which always carries the ticket's latest next attempt.
      insertOutbox: this.db.prepare(
        `INSERT INTO outbox (ticket_id, version, created_at, next_attempt_at) VALUES (@id, @version, @at, MAX(@at, COALESCE((
          SELECT next_attempt_at FROM outbox INDEXED BY outbox_ticket_id_version_index WHERE ticket_id = @id AND parked_at IS NULL ORDER BY version DESC LIMIT 1), 0)))`,
      ),
      liveByKey: c(
        k('tickets')
          .select('doc')
          .where({ key: $(0) })
          .whereRaw(LIVE)
          .limit(1),
      ),
      byId: c(
        k('tickets')
          .select('doc')
          .where({ id: $(0) }),
      ),
      events: c(
        k('ticket_events')
          .select('at', 'action', 'by', 'data')
          .where({ ticket_id: $(0) })
          .orderBy('seq'),
      ),
      similar: c(
        k('tickets')
          .select('doc')
          .where({ fault: $(0) })
          .whereIn('state', ['resolved', 'closed'])
          .orderByRaw('(asset IS ?) DESC, updated_at DESC', [$(1)])
          .limit(5),
      ),
      raisesSince: c(
        k('ticket_events as e')
          .join('tickets as t', 't.id', 'e.ticket_id')
          .select('t.key', 't.asset', 't.area', 't.fault', 'e.at')
          .whereIn('e.action', ['opened', 'occurrence'])
          .where('e.at', '>=', $(0))
          .whereNot('t.fault', 'alarm-flood')
          .orderBy('e.at'),
      ),
      liveTickets: c(k('tickets').select('doc').whereRaw(LIVE).orderBy('opened_at')),
      openCounts: c(
        k('tickets')
          .select('priority', 'area')
          .count({ n: '*' })
          .whereIn('state', ['open', 'acknowledged', 'in_progress', 'waiting'])
          .groupBy('priority', 'area'),
      ),
    };
  }

  /** Runs `fn` in one immediate (write-locked) transaction; all or nothing. */
  transaction<T>(fn: (tx: StoreTx) => T): T {
    const s = this.stmts;
    const tx: StoreTx = {
      liveByKey: (key) => parseDoc(s.liveByKey.get(key)),
      byId: (id) => parseDoc(s.byId.get(id)),
      similar: (fault, asset, limit) => (s.similar.all(fault, asset) as Row[]).slice(0, limit).map((r) => readDoc(r.doc as string)),
      save: (doc, event) => {
        const at = Date.parse(event.at);
        const json = JSON.stringify(doc);
        if (doc.version === 1) {
          s.insertTicket.run(doc.id, doc.key, doc.state, 1, doc.priority, doc.area, doc.asset, doc.fault, Date.parse(doc.openedAt), at, json);
        } else {
          const r = s.updateTicket.run(doc.state, doc.version, doc.priority, at, json, doc.id, doc.version - 1);
          if (r.changes !== 1) throw new AndonError('ANDON_TICKET_CONFLICT', `ticket ${doc.id} changed under us (expected version ${doc.version - 1})`);
        }
        const { at: _at, action, by, ...data } = event;
        const seq = Number(s.insertEvent.run(doc.id, doc.version, at, action, by, Object.keys(data).length ? JSON.stringify(data) : null).lastInsertRowid);
        s.insertOutbox.run({ id: doc.id, version: doc.version, at });
        return seq;
      },
      enqueueNotifications: (drafts) => this.notifications.add(drafts),
    };
    const result = this.db.transaction(fn).immediate(tx);
    this.wal?.afterCommit();
    return result;
  }

  get(id: string): Ticket | undefined {
    const doc = parseDoc(this.stmts.byId.get(id));
    return doc && this.withHistory(doc);
  }

  liveByKey(key: string): Ticket | undefined {
    const doc = parseDoc(this.stmts.liveByKey.get(key));
    return doc && this.withHistory(doc);
  }

  /** Tickets that still take occurrences (for escalation timers after a restart). */
  liveTickets(): TicketDoc[] {
    return (this.stmts.liveTickets.all() as Row[]).map((r) => readDoc(r.doc as string));
  }

  list(filter: TicketFilter = {}): { items: Ticket[]; total: number } {
    const q = this.knex('tickets');
    if (filter.state) q.whereIn('state', Array.isArray(filter.state) ? filter.state : [filter.state]);
    for (const f of ['priority', 'area', 'asset', 'fault'] as const) if (filter[f] !== undefined) q.where(f, filter[f]);
    const total = this.run<{ n: number }>(q.clone().count({ n: '*' }))[0]?.n ?? 0;
    q.select('doc').orderBy([{ column: 'opened_at' }, { column: 'id' }]);
    if (filter.limit !== undefined) q.limit(filter.limit).offset(filter.offset ?? 0);
    const items = this.run<{ doc: string }>(q).map((r) => this.withHistory(readDoc(r.doc)));
    return { items, total };
  }

  history(id: string): HistoryEvent[] {
    return (this.stmts.events.all(id) as Row[]).map((r) => ({
      at: iso(r.at as number),
      action: r.action as string,
      by: r.by as string,
      ...(r.data ? (JSON.parse(r.data as string) as object) : {}),
    }));
  }

  /** The ticket without its history (what forwarding sends next to a history delta). */
  doc(id: string): TicketDoc | undefined {
    return parseDoc(this.stmts.byId.get(id));
  }

  /**
   * The history events of versions after `afterVersion` (through `throughVersion` when given), oldest
   * first (seq order), each with its `index`: its 0-based place in the ticket's full history. The
   * forwarder sends these to central instead of the whole history (gateway/forward/README.md).
   *
   * Today `save()` writes exactly one event per version and versions start at 1, so index = version - 1.
   * The index is not derived from that: it is the number of the ticket's events of versions up to
   * `afterVersion` (a count over the index ticket_events(ticket_id, version), migration 0006) plus the
   * event's place in the delta, so it stays right if a version ever carries no event or several.
   */
  historySince(id: string, afterVersion: number, throughVersion = Number.MAX_SAFE_INTEGER): IndexedEvent[] {
    const s = this.deltaStmts();
    const base = afterVersion <= 0 ? 0 : this.historyCount(id, afterVersion);
    return (s.since.all(id, afterVersion, throughVersion) as Row[]).map((r, i) => ({
      at: iso(r.at as number),
      action: r.action as string,
      by: r.by as string,
      ...(r.data ? (JSON.parse(r.data as string) as object) : {}),
      index: base + i,
    }));
  }

  /** How many history events the ticket's versions up to `throughVersion` have (= the index of the next event). */
  historyCount(id: string, throughVersion: number): number {
    return (this.deltaStmts().count.get(id, throughVersion) as { n: number }).n;
  }

  private delta: { since: BetterSqlite3.Statement; count: BetterSqlite3.Statement } | undefined;
  private deltaStmts() {
    this.delta ??= {
      since: this.db.prepare(
        'SELECT at, action, by, data FROM ticket_events INDEXED BY ticket_events_ticket_version WHERE ticket_id = ? AND version > ? AND version <= ? ORDER BY seq',
      ),
      count: this.db.prepare('SELECT COUNT(*) AS n FROM ticket_events INDEXED BY ticket_events_ticket_version WHERE ticket_id = ? AND version <= ?'),
    };
    return this.delta;
  }

  /** Raises (opened/occurrence events) since `since`, oldest first. */
  raisesSince(since: number): RaiseRecord[] {
    return this.stmts.raisesSince.all(since) as RaiseRecord[];
  }

  /** Ticket versions waiting to be forwarded (not parked). */
  outboxPending(): number {
    return this.outbox.pending();
  }

  /** Live, unresolved tickets per priority and area (for the open-tickets gauge). */
  openCounts(): { priority: string; area: string | null; n: number }[] {
    return this.stmts.openCounts.all() as { priority: string; area: string | null; n: number }[];
  }

  /** Whether the -wal was deleted under the running store (checked every 10 s; see files.ts walGuard). */
  checkFiles(): { walLost: boolean } {
    return { walLost: this.wal?.check() ?? false };
  }

  async close(): Promise<void> {
    if (!this.db.open) return;
    clearInterval(this.walTimer);
    // Copy the -wal into andon.sqlite now; SQLite deletes it when the last connection closes.
    try {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch {
      // busy (another process reads) or failing: SQLite checkpoints at the next open
    }
    await this.knex.client.releaseConnection(this.db);
    await this.knex.destroy();
  }

  private withHistory(doc: TicketDoc): Ticket {
    return { ...doc, history: this.history(doc.id) };
  }

  private run<T>(b: Knex.QueryBuilder): T[] {
    const { sql, bindings } = b.toSQL().toNative();
    return this.db.prepare(sql).all(...(bindings as unknown[])) as T[];
  }
}

/**
 * Creates knex's own bookkeeping tables (as knex would) in one write-locked
 * transaction. knex checks then creates them outside any transaction, so two
 * processes opening a new file at once could fail with "table knex_migrations
 * already exists", or both insert a lock row and lock migrations for good.
 * From here on knex's migration run is serialised by SQLite's write lock.
 */
function createMigrationTables(db: Db): void {
  db.transaction(() => {
    db.exec('CREATE TABLE IF NOT EXISTS `knex_migrations` (`id` integer not null primary key autoincrement, `name` varchar(255), `batch` integer, `migration_time` datetime)');
    db.exec('CREATE TABLE IF NOT EXISTS `knex_migrations_lock` (`index` integer not null primary key autoincrement, `is_locked` integer)');
    db.exec('INSERT INTO `knex_migrations_lock` (`is_locked`) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM `knex_migrations_lock`)');
  }).immediate();
}

/** A stored ticket; fields added after it was written get their empty value, so every Ticket JSON field is present. */
const readDoc = (json: string): TicketDoc => ({ shelvedUntil: null, shelvedReason: null, ...(JSON.parse(json) as Partial<TicketDoc>) }) as TicketDoc;
const parseDoc = (row: unknown): TicketDoc | undefined => (row ? readDoc((row as Row).doc as string) : undefined);
