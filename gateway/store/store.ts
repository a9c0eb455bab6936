import type BetterSqlite3 from 'better-sqlite3';
import knexFactory, { type Knex } from 'knex';
import type { Logger } from 'pino';
import { backoff } from '../../model/backoff.ts';
import { AndonError } from '../../model/errors.ts';
import { copyTicket, iso, isLive, type HistoryEvent, type Member, type Ticket, type TicketDoc, type TicketState } from '../../model/ticket.ts';
import { corrupt, isCorruption, preflight, quickCheck, walGuard, warmWal } from './files.ts';
import { KpiQueries } from './kpi.ts';
import { MetaStore, SyncLog } from './meta.ts';
import { migrationSource } from './migrations.ts';
import { NotificationQueue, type NotificationDraft } from './notifications.ts';
import { Outbox } from './outbox.ts';
import { ChangeFeed } from './changes.ts';
import { ReportQueries } from './reports.ts';
import { Retention } from './retention.ts';
import { AuditStore } from './audit.ts';
import { SessionStore } from './sessions.ts';
import { WarningLog, type WarningRow } from './warnings.ts';
import { KnowledgeIndex } from './knowledge.ts';
import { GroupQueries } from './groups.ts';

type Db = BetterSqlite3.Database;
/**
 * Live tickets kept parsed in memory (most recently used): a signal for a hot key (a flood, a chattering
 * tag) costs no SQLite read and no JSON parse. Bounded, so 20k live tickets do not all sit in the heap.
 */
const CACHE_TICKETS = 1_000;
/** Member rows per INSERT when joined members are written together (5 parameters each). */
const MEMBER_ROWS = 100;
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
  /** Each ticket with its whole history (default true; the HTTP list leaves it out unless asked). */
  history?: boolean;
}

/** A history event with its place in the ticket's history (0-based; the event of version v is at v - 1). */
export type IndexedEvent = HistoryEvent & { index: number };

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
  /** The live ticket of `key`. Docs read here are shared with the store's cache: never mutate one, save a copy. */
  liveByKey(key: string): TicketDoc | undefined;
  byId(id: string): TicketDoc | undefined;
  /**
   * Writes the ticket (new when `previous` is null), its history event and its outbox row; returns the event's seq.
   * Members only ever grow: the ones `doc` has beyond `previous` are appended as rows of their own.
   * Without `previous`, a doc at version 1 is new and any other replaces version - 1.
   */
  save(doc: TicketDoc, event: HistoryEvent, previous?: TicketDoc | null): number;
  /** Queues notifications the change causes (gateway/tickets/triggers.ts), committed with it. */
  enqueueNotifications(drafts: readonly NotificationDraft[]): void;
  /** Records an early warning, new or settled (gateway/tickets/warnings.ts), committed with the change. */
  recordWarning(row: WarningRow): void;
  /**
   * Up to `limit` resolved or closed tickets like a new one: of the same fault (same asset first); with
   * `labels`, those whose knowledge entry shares one of them come first (most shared, same fault, same asset).
   */
  similar(fault: string, asset: string | null, limit: number, labels?: readonly string[]): TicketDoc[];
  /** The ticket of `key` closed last (the previous fix when its fault comes back). */
  lastClosedByKey(key: string): TicketDoc | undefined;
}

/**
 * The ticket store: the only code that runs SQL against the ticket tables.
 * One SQL style: knex migrates the schema (gateway/store/migrations.ts) and
 * holds the one connection; every statement is plain SQL prepared once with
 * better-sqlite3 (here and in the sibling modules), run synchronously so a
 * ticket change, its history event and its outbox row commit together in one
 * `BEGIN IMMEDIATE` transaction.
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
  /** The append-only audit trail (gateway/store/audit.ts; written through gateway/audit). */
  readonly audit: AuditStore;
  /** Personal sign-in sessions (gateway/store/sessions.ts; gateway/http/sign-in.ts). */
  readonly sessions: SessionStore;
  /** Early warnings for reports and precision (gateway/store/warnings.ts); written through StoreTx.recordWarning. */
  readonly warnings: WarningLog;
  /** The knowledge base's index (gateway/store/knowledge.ts), kept by `save`. */
  readonly knowledge: KnowledgeIndex;
  /** The response board per assigned group (gateway/store/groups.ts). */
  readonly groups: GroupQueries;
  private readonly wal: ReturnType<typeof walGuard> | undefined;
  /** Live tickets by id, least recently used first (CACHE_TICKETS), and their ids by key. */
  private readonly cache = new Map<string, TicketDoc>();
  private readonly cacheKeys = new Map<string, string>();
  /** Ids written at each open transaction level (outer first): forgotten from the cache if it rolls back. */
  private readonly levels: Set<string>[] = [];
  /** PRAGMA data_version when the cache was last known good: it changes when another connection commits. */
  private dataVersion = -1;
  /**
   * In a batch: the flood versions more members joined (TicketStore.joinVersion), whose doc and history
   * event are written once, just before the commit, instead of once per member. Reads in the batch see the
   * doc through the cache, where it is pinned until then.
   */
  // each member overwrites its ticket's and event's entry: what they are written with is worked out once, at the commit
  private readonly deferred = { docs: new Map<string, { doc: TicketDoc; event: HistoryEvent }>(), events: new Map<number, HistoryEvent>() };
  /**
   * In a batch: the member rows of joinVersion not written yet (ticket id, n, member), flattened. They are
   * written together before any other write of the batch (a savepoint) and before the commit.
   */
  private pendingMembers: (string | number | Member)[] = [];
  /** Per open level (as `levels`): how to put `deferred` back when that level rolls back. */
  private readonly undo: (() => void)[][] = [];
  /** The open batch (TicketStore.batch); `begun` once its first write began the transaction. */
  private lazy: { begun: boolean } | undefined;
  /** While the first transaction of a batch runs (firstOfBatch): it is a transaction, though no savepoint is open. */
  private inFirst = false;
  private readonly walTimer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly knex: Knex,
    private readonly db: Db,
    readonly file: string,
    log: Logger | undefined,
  ) {
    this.stmts = this.prepare();
    this.outbox = new Outbox(db, (id) => this.forget(id));
    this.meta = new MetaStore(db);
    this.syncLog = new SyncLog(db);
    this.notifications = new NotificationQueue(db);
    this.kpi = new KpiQueries(db);
    this.reports = new ReportQueries(db);
    this.changes = new ChangeFeed(db);
    this.retention = new Retention(db);
    this.audit = new AuditStore(db);
    this.sessions = new SessionStore(db);
    this.warnings = new WarningLog(db);
    this.knowledge = new KnowledgeIndex(db);
    this.groups = new GroupQueries(db);
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
  /** `warmWal`: give the -wal its working size first (files.ts warmWal), for a long-running gateway. */
  static async open(file: string, opts: { log?: Logger; warmWal?: boolean } = {}): Promise<TicketStore> {
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
          const setUp = async () => {
            // busy_timeout first: switching a new file to WAL must wait for another opener, not fail
            conn.pragma('busy_timeout = 10000');
            if (file !== ':memory:') await whileBusy(() => conn.pragma('journal_mode = WAL'), 10_000);
            conn.pragma('synchronous = FULL');
            conn.pragma('foreign_keys = ON');
          };
          setUp().then(
            () => done(null, conn),
            (err: unknown) => done(err as Error, conn),
          );
        },
      },
    });
    try {
      const conn = (await pool(knex).acquireConnection()) as Db;
      try {
        // Before any write: migrating a damaged file can only make it worse.
        const problems = file === ':memory:' ? [] : quickCheck(conn);
        if (problems.length > 0) throw corrupt(file, `quick_check: ${problems.join('; ')}`);
        createMigrationTables(conn);
      } finally {
        await pool(knex).releaseConnection(conn);
      }
      await knex.migrate.latest({ migrationSource });
      // Keep the pool's only connection: every statement from now on runs on it, synchronously.
      const db = (await pool(knex).acquireConnection()) as Db;
      if (opts.warmWal && file !== ':memory:') warmWal(db, file, opts.log);
      return new TicketStore(knex, db, file, opts.log);
    } catch (err) {
      await knex.destroy().catch(() => undefined);
      if (err instanceof AndonError) throw err;
      if (isCorruption(err)) throw corrupt(file, (err as Error).message, err);
      throw new AndonError('ANDON_STORE_UNAVAILABLE', `cannot open the ticket store at ${file}: ${(err as Error).message}`, { cause: err });
    }
  }

  private prepare() {
    // Written as a literal so SQLite can use the partial index tickets_one_live_per_key
    // (a bound parameter hides the condition from the planner: a full scan per detection).
    const LIVE = "state NOT IN ('closed', 'merged')";
    return {
      insertTicket: this.db.prepare(
        'INSERT INTO tickets (id, key, state, version, priority, area, asset, fault, opened_at, updated_at, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      updateTicket: this.db.prepare('UPDATE tickets SET state = ?, version = ?, priority = ?, updated_at = ?, doc = ? WHERE id = ? AND version = ?'),
      // State and priority as they were (a repeat, a flood member): SQLite rewrites the entries of only the
      // indexes whose columns an UPDATE sets, so leaving them out spares the state and priority indexes.
      updateTicketDoc: this.db.prepare('UPDATE tickets SET version = ?, updated_at = ?, doc = ? WHERE id = ? AND version = ?'),
      insertEvent: this.db.prepare('INSERT INTO ticket_events (ticket_id, version, at, action, by, data) VALUES (?, ?, ?, ?, ?, ?)'),
      // A new version is due when written, unless its ticket is backing off (backoff is per ticket): then it
      // joins the ticket's newest pending row, which always carries the ticket's latest next attempt.
      insertOutbox: this.db.prepare(
        `INSERT INTO outbox (ticket_id, version, created_at, next_attempt_at) VALUES (@id, @version, @at, MAX(@at, COALESCE((
          SELECT next_attempt_at FROM outbox INDEXED BY outbox_ticket_id_version_index WHERE ticket_id = @id AND parked_at IS NULL ORDER BY version DESC LIMIT 1), 0)))`,
      ),
      liveByKey: this.db.prepare(`SELECT doc, id, member_count FROM tickets WHERE key = ? AND ${LIVE} LIMIT 1`),
      byId: this.db.prepare('SELECT doc, id, member_count FROM tickets WHERE id = ?'),
      eventsAfter: this.db.prepare(
        'SELECT version, at, action, by, data FROM ticket_events INDEXED BY ticket_events_ticket_version WHERE ticket_id = ? AND version > ? ORDER BY version LIMIT ?',
      ),
      eventsBefore: this.db.prepare(
        'SELECT version, at, action, by, data FROM ticket_events INDEXED BY ticket_events_ticket_version WHERE ticket_id = ? AND version < ? ORDER BY version DESC LIMIT ?',
      ),
      events: this.db.prepare('SELECT at, action, by, data FROM ticket_events WHERE ticket_id = ? ORDER BY seq'),
      similar: this.db.prepare(
        "SELECT doc, id, member_count FROM tickets WHERE fault = ? AND state IN ('resolved', 'closed') ORDER BY (asset IS ?) DESC, updated_at DESC LIMIT 5",
      ),
      raisesSince: this.db.prepare(
        `SELECT t.key, t.asset, t.area, t.fault, e.at FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id
          WHERE e.action IN ('opened', 'occurrence') AND e.at >= ? AND t.fault != 'alarm-flood' ORDER BY e.at`,
      ),
      lastClosedByKey: this.db.prepare(
        "SELECT doc, id, member_count FROM tickets INDEXED BY tickets_key_state_updated_at WHERE key = ? AND state = 'closed' ORDER BY updated_at DESC LIMIT 1",
      ),
      unverifiedClosed: this.db.prepare(
        "SELECT doc, id, member_count FROM tickets WHERE state = 'closed' AND json_extract(doc, '$.verifyBy') IS NOT NULL ORDER BY updated_at",
      ),
      liveTickets: this.db.prepare(`SELECT doc, id, member_count FROM tickets WHERE ${LIVE} ORDER BY opened_at`),
      begin: this.db.prepare('BEGIN IMMEDIATE'),
      commit: this.db.prepare('COMMIT'),
      rollback: this.db.prepare('ROLLBACK'),
      dataVersion: this.db.prepare('PRAGMA data_version').pluck(),
      amendEvent: this.db.prepare('UPDATE ticket_events SET at = ?, data = ? WHERE seq = ?'),
      memberCount: this.db.prepare('SELECT member_count AS n FROM tickets WHERE id = ?'),
      setMemberCount: this.db.prepare('UPDATE tickets SET member_count = ? WHERE id = ?'),
      raiseMemberCount: this.db.prepare('UPDATE tickets SET member_count = ? WHERE id = ? AND member_count < ?'),
      insertMember: this.db.prepare('INSERT INTO ticket_members (ticket_id, n, asset, fault, at) VALUES (?, ?, ?, ?, ?)'),
      members: this.db.prepare('SELECT asset, fault, at FROM ticket_members WHERE ticket_id = ? ORDER BY n'),
    };
  }

  /**
   * Runs `fn` in one immediate (write-locked) transaction; all or nothing. Called inside another
   * transaction it runs in a savepoint of it: its writes roll back alone if it throws, and commit with the
   * outer one (several signals' changes in one commit, one fsync: see TicketEngine.batch).
   */
  transaction<T>(fn: (tx: StoreTx) => T): T {
    return this.txn(fn);
  }

  /**
   * Runs `fn` so that the `transaction`s it makes join one transaction as savepoints (TicketEngine.batch):
   * one commit, one fsync for all. The transaction begins with the first write, so a batch that writes
   * nothing (quiet telemetry) costs nothing. Throws, with nothing written, when the commit fails.
   */
  batch<T>(fn: () => T): T {
    if (this.levels.length > 0 || this.lazy) return fn();
    const lazy = { begun: false };
    this.lazy = lazy;
    let result: T;
    try {
      result = fn();
      if (lazy.begun) {
        this.writeMembers();
        this.writeDeferred();
        this.stmts.commit.run();
        this.levels.pop();
        this.undo.pop();
        this.wal?.afterCommit();
      }
    } catch (err) {
      if (lazy.begun) {
        if (this.db.inTransaction) this.stmts.rollback.run();
        for (const id of this.levels.pop() ?? []) this.forget(id);
        this.undo.pop();
      }
      throw err;
    } finally {
      this.lazy = undefined;
      // clear() allocates a new table, in old space once the map is old: only when there is something to clear
      if (this.deferred.docs.size > 0) this.deferred.docs.clear();
      if (this.deferred.events.size > 0) this.deferred.events.clear();
      if (this.pendingMembers.length > 0) this.pendingMembers = [];
    }
    return result;
  }

  /** Inside a batch, the first write begins its transaction (under the write lock, with the cache check). */
  private beginBatch(): void {
    if (!this.lazy || this.lazy.begun) return;
    this.stmts.begin.run();
    this.lazy.begun = true;
    this.levels.push(new Set());
    this.undo.push([]);
    this.checkCache();
  }

  /**
   * Another connection (a second process on the file, the CLI) committed since our last look: the cache
   * may be stale. Called under the write lock, so nobody commits between this and our writes.
   */
  private checkCache(): void {
    // an in-memory database has this one connection: nobody else commits to it
    if (this.file === ':memory:') return;
    const v = this.stmts.dataVersion.get() as number;
    if (v === this.dataVersion) return;
    this.cache.clear();
    this.cacheKeys.clear();
    this.dataVersion = v;
  }

  /** The writes of a transaction: one object for the store's life (its functions keep no state of a call). */
  private txObject: StoreTx | undefined;
  /** better-sqlite3's transaction wrapper, made once: (fn, outer) → fn(tx) in a transaction or savepoint. */
  private runInTx: BetterSqlite3.Transaction<(fn: (tx: StoreTx) => unknown, outer: boolean) => unknown> | undefined;

  private txn<T>(fn: (tx: StoreTx) => T): T {
    // The first transaction of a batch begins it, and needs no savepoint: should it fail, the batch's
    // transaction rolls back whole (it holds nothing else) and the next write begins it again.
    if (this.lazy && !this.lazy.begun) return this.firstOfBatch(this.lazy, fn);
    this.beginBatch();
    // the members joined so far go in first, outside this savepoint: what it reads and writes comes after them
    if (this.pendingMembers.length > 0) this.writeMembers();
    const tx = (this.txObject ??= this.makeTx());
    const outer = this.levels.length === 0;
    this.levels.push(new Set());
    this.undo.push([]);
    this.runInTx ??= this.db.transaction((f: (tx: StoreTx) => unknown, first: boolean) => {
      if (first) this.checkCache();
      return f(tx);
    });
    let result: T;
    try {
      result = this.runInTx.immediate(fn, outer) as T;
    } catch (err) {
      // Rolled back: what the cache learnt from the writes that did not happen is forgotten.
      for (const id of this.levels.pop() ?? []) this.forget(id);
      for (const back of (this.undo.pop() ?? []).reverse()) back();
      throw err;
    }
    const written = this.levels.pop() ?? new Set<string>();
    const parent = this.levels[this.levels.length - 1];
    if (parent) for (const id of written) parent.add(id);
    const undone = this.undo.pop() ?? [];
    this.undo[this.undo.length - 1]?.push(...undone);
    if (outer) this.wal?.afterCommit();
    return result;
  }

  private firstOfBatch<T>(lazy: { begun: boolean }, fn: (tx: StoreTx) => T): T {
    this.beginBatch();
    const tx = (this.txObject ??= this.makeTx());
    this.inFirst = true;
    try {
      return fn(tx);
    } catch (err) {
      if (this.db.inTransaction) this.stmts.rollback.run();
      lazy.begun = false;
      for (const id of this.levels.pop() ?? []) this.forget(id);
      for (const back of (this.undo.pop() ?? []).reverse()) back();
      throw err;
    } finally {
      this.inFirst = false;
    }
  }

  private makeTx(): StoreTx {
    const s = this.stmts;
    /** Members only ever grow: the ones `doc` has beyond the `had` already stored become rows. */
    const appendMembers = (doc: TicketDoc, had: number) => {
      if (doc.members.length <= had) return;
      for (let n = had; n < doc.members.length; n++) {
        const m = doc.members[n] as Member;
        s.insertMember.run(doc.id, n, m.asset, m.fault, m.at);
      }
      s.setMemberCount.run(doc.members.length, doc.id);
    };
    const tx: StoreTx = {
      liveByKey: (key) => {
        const id = this.cacheKeys.get(key);
        const hit = id === undefined ? undefined : this.cache.get(id);
        if (hit) return this.touch(hit);
        return this.remember(this.readRow(s.liveByKey.get(key)));
      },
      byId: (id) => this.cache.get(id) ?? this.remember(this.readRow(s.byId.get(id))),
      similar: (fault, asset, limit, labels = []) => {
        const byFault = (s.similar.all(fault, asset) as Row[]).slice(0, limit).map((r) => this.readRow(r) as TicketDoc);
        if (labels.length === 0) return byFault;
        const shared = new Map<string, number>();
        const labelled = this.knowledge.byLabels(labels, limit * 4).map((r) => {
          shared.set(r.id as string, r.shared as number);
          return this.readRow(r) as TicketDoc;
        });
        if (labelled.length === 0) return byFault;
        const rank = (t: TicketDoc) => [shared.get(t.id) ?? 0, t.fault === fault ? 1 : 0, t.asset === asset ? 1 : 0];
        labelled.sort((a, b) => {
          const [x, y] = [rank(a), rank(b)];
          for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return (y[i] as number) - (x[i] as number);
          return b.updatedAt.localeCompare(a.updatedAt);
        });
        const ids = new Set(labelled.map((t) => t.id));
        return [...labelled, ...byFault.filter((t) => !ids.has(t.id))].slice(0, limit);
      },
      lastClosedByKey: (key) => this.readRow(s.lastClosedByKey.get(key)),
      save: (doc, event, previous) => {
        const at = Date.parse(event.at);
        // a newer version of a doc that flood members joined: written now, so the joined version's deferred
        // write must not overwrite it
        if (this.deferred.docs.has(doc.id)) this.undeferDoc(doc.id);
        // Members are rows of their own; the doc keeps an empty list where they go (the fields keep their order).
        const json = docJson(doc);
        const isNew = previous === undefined ? doc.version === 1 : previous === null;
        const expected = previous?.version ?? doc.version - 1;
        if (isNew) {
          s.insertTicket.run(doc.id, doc.key, doc.state, doc.version, doc.priority, doc.area, doc.asset, doc.fault, Date.parse(doc.openedAt), at, json);
        } else {
          const r =
            previous && previous.state === doc.state && previous.priority === doc.priority
              ? s.updateTicketDoc.run(doc.version, at, json, doc.id, expected)
              : s.updateTicket.run(doc.state, doc.version, doc.priority, at, json, doc.id, expected);
          if (r.changes !== 1) throw new AndonError('ANDON_TICKET_CONFLICT', `ticket ${doc.id} changed under us (expected version ${expected})`);
        }
        appendMembers(doc, isNew ? 0 : (previous?.members.length ?? (s.memberCount.get(doc.id) as { n: number } | undefined)?.n ?? 0));
        const { at: _at, action, by, ...data } = event;
        const seq = Number(s.insertEvent.run(doc.id, doc.version, at, action, by, Object.keys(data).length ? JSON.stringify(data) : null).lastInsertRowid);
        s.insertOutbox.run({ id: doc.id, version: doc.version, at });
        this.knowledge.onSave(doc, previous);
        this.levels[this.levels.length - 1]?.add(doc.id);
        if (isLive(doc.state)) this.remember(doc);
        else this.forget(doc.id);
        return seq;
      },
      enqueueNotifications: (drafts) => this.notifications.add(drafts),
      recordWarning: (row) => this.warnings.write(row),
    };
    return tx;
  }

  /** Whether a transaction is open (a change made now commits with it). */
  get inTransaction(): boolean {
    return this.levels.length > 0;
  }

  /** The list queries, prepared once per shape (their clauses come from a closed set of columns, so the shapes are few). */
  private readonly listStatements = new Map<string, BetterSqlite3.Statement>();
  private prepared(sql: string): BetterSqlite3.Statement {
    let stmt = this.listStatements.get(sql);
    if (!stmt) {
      if (this.listStatements.size >= 256) this.listStatements.clear();
      this.listStatements.set(sql, (stmt = this.db.prepare(sql)));
    }
    return stmt;
  }

  /**
   * A flood member joins `doc`, the version of its flood ticket this batch already wrote (TicketEngine:
   * group commit of a flood): `doc` is that version's own object, which nobody has seen before the commit,
   * and the caller changes it in place after this call (a member more, the same state and priority). The
   * member's row waits with the batch's others; the doc and `event`, the version's history event `seq`,
   * are written once before the commit. No savepoint: nothing here can fail. False, with nothing done,
   * when no batch has begun or a transaction of the batch is running (the caller takes the general path then).
   */
  joinVersion(doc: TicketDoc, event: HistoryEvent, seq: number, member: Member | undefined): boolean {
    if (!this.lazy?.begun || this.levels.length !== 1 || this.inFirst) return false;
    if (member) this.pendingMembers.push(doc.id, doc.members.length, member);
    this.deferred.docs.set(doc.id, { doc, event });
    this.deferred.events.set(seq, event);
    (this.levels[0] as Set<string>).add(doc.id);
    return true;
  }

  /** The live ticket of `key` if the cache has it (no read, no reordering): for joinVersion's caller. */
  cachedLive(key: string): TicketDoc | undefined {
    const id = this.cacheKeys.get(key);
    return id === undefined ? undefined : this.cache.get(id);
  }

  /** Writes the joined members' rows (MEMBER_ROWS to a statement) and their tickets' member counts. */
  private writeMembers(): void {
    const p = this.pendingMembers;
    if (p.length === 0) return;
    this.pendingMembers = [];
    const rows = p.length / 3;
    const counts = new Map<string, number>();
    let i = 0;
    for (let done = 0; done < rows;) {
      const n = Math.min(MEMBER_ROWS, rows - done);
      const values: (string | number | null)[] = [];
      for (let r = 0; r < n; r++, i += 3) {
        const id = p[i] as string;
        const index = p[i + 1] as number;
        const m = p[i + 2] as Member;
        values.push(id, index, m.asset, m.fault, m.at);
        counts.set(id, Math.max(counts.get(id) ?? 0, index + 1));
      }
      this.insertMembers(n).run(values);
      done += n;
    }
    for (const [id, n] of counts) this.stmts.raiseMemberCount.run(n, id, n);
  }

  /** INSERT of `n` member rows, prepared once per n (at most MEMBER_ROWS statements). */
  private readonly memberInserts = new Map<number, BetterSqlite3.Statement>();
  private insertMembers(n: number): BetterSqlite3.Statement {
    let stmt = this.memberInserts.get(n);
    if (!stmt) {
      stmt = this.db.prepare(
        `INSERT INTO ticket_members (ticket_id, n, asset, fault, at) VALUES ${Array.from({ length: n }, () => '(?, ?, ?, ?, ?)').join(', ')}`,
      );
      this.memberInserts.set(n, stmt);
    }
    return stmt;
  }

  private undeferDoc(id: string): void {
    const { docs } = this.deferred;
    const had = docs.get(id);
    docs.delete(id);
    if (had) this.undo[this.undo.length - 1]?.push(() => docs.set(id, had));
  }

  /** The deferred amends, written just before the batch commits (in its transaction). */
  private writeDeferred(): void {
    const s = this.stmts;
    for (const [id, { doc, event }] of this.deferred.docs) {
      // a joined version keeps its number, state and priority (TicketEngine: not when the priority rises)
      const r = s.updateTicketDoc.run(doc.version, Date.parse(event.at), docJson(doc), id, doc.version);
      if (r.changes !== 1) throw new AndonError('ANDON_TICKET_CONFLICT', `ticket ${id} changed under us (expected version ${doc.version})`);
    }
    for (const [seq, event] of this.deferred.events) {
      const { at, action: _action, by: _by, ...data } = event;
      s.amendEvent.run(Date.parse(at), JSON.stringify(data), seq);
    }
  }

  /** The doc of a stored row, with its members (rows of their own). */
  private readRow(row: unknown): TicketDoc | undefined {
    if (!row) return undefined;
    const r = row as Row;
    const doc = readDoc(r.doc as string);
    doc.members = (r.member_count as number) > 0 ? (this.stmts.members.all(r.id) as Member[]) : [];
    return doc;
  }

  private remember(doc: TicketDoc | undefined): TicketDoc | undefined {
    if (!doc || !isLive(doc.state)) return doc;
    const old = this.cache.get(doc.id);
    if (old && old.key !== doc.key) this.cacheKeys.delete(old.key);
    this.cache.delete(doc.id);
    this.cache.set(doc.id, doc);
    this.cacheKeys.set(doc.key, doc.id);
    if (this.cache.size > CACHE_TICKETS) {
      // the oldest that is not waiting for its deferred write (the stored row is behind it until the commit)
      for (const id of this.cache.keys()) {
        if (this.deferred.docs.has(id)) continue;
        this.forget(id);
        break;
      }
    }
    return doc;
  }

  /** Moves a hit to the most recently used end. */
  private touch(doc: TicketDoc): TicketDoc {
    this.cache.delete(doc.id);
    this.cache.set(doc.id, doc);
    return doc;
  }

  /** Drops a ticket from the cache (it changed in the store some other way, or stopped being live). */
  private forget(id: string): void {
    const doc = this.cache.get(id);
    if (!doc) return;
    this.cache.delete(id);
    if (this.cacheKeys.get(doc.key) === id) this.cacheKeys.delete(doc.key);
  }

  get(id: string): Ticket | undefined {
    const doc = this.readRow(this.stmts.byId.get(id));
    return doc && this.withHistory(doc);
  }

  /** The ticket without its history (what streams and lists carry). */
  doc(id: string): TicketDoc | undefined {
    return this.readRow(this.stmts.byId.get(id));
  }

  liveByKey(key: string): Ticket | undefined {
    const doc = this.readRow(this.stmts.liveByKey.get(key));
    return doc && this.withHistory(doc);
  }

  /** Closed tickets whose fix is not verified yet (`verifyBy` set): their verification timers resume after a restart. */
  unverifiedClosed(): TicketDoc[] {
    return (this.stmts.unverifiedClosed.all() as Row[]).map((r) => this.readRow(r) as TicketDoc);
  }

  /** Tickets that still take occurrences (for escalation timers after a restart). */
  liveTickets(): TicketDoc[] {
    return (this.stmts.liveTickets.all() as Row[]).map((r) => this.readRow(r) as TicketDoc);
  }

  list(filter: TicketFilter & { history: false }): { items: TicketDoc[]; total: number };
  list(filter?: TicketFilter): { items: Ticket[]; total: number };
  list(filter: TicketFilter = {}): { items: (Ticket | TicketDoc)[]; total: number } {
    // Filters are columns of a closed list, values are bound: the WHERE clause is built, never the values.
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.state) {
      const states = Array.isArray(filter.state) ? filter.state : [filter.state];
      where.push(`state IN (${states.map(() => '?').join(', ')})`);
      args.push(...states);
    }
    for (const f of ['priority', 'area', 'asset', 'fault'] as const) {
      if (filter[f] === undefined) continue;
      where.push(`${f} = ?`);
      args.push(filter[f]);
    }
    const clause = where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '';
    const total = (this.prepared(`SELECT COUNT(*) AS n FROM tickets${clause}`).get(...args) as { n: number } | undefined)?.n ?? 0;
    const page = filter.limit !== undefined ? ' LIMIT ? OFFSET ?' : '';
    const pageArgs = filter.limit !== undefined ? [filter.limit, filter.offset ?? 0] : [];
    const rows = this.prepared(`SELECT doc, id, member_count FROM tickets${clause} ORDER BY opened_at, id${page}`).all(...args, ...pageArgs) as Row[];
    const withHistory = filter.history ?? true;
    const items = rows.map((r) => {
      const doc = this.readRow(r) as TicketDoc;
      return withHistory ? this.withHistory(doc) : doc;
    });
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

  /**
   * A page of a ticket's history: the events after index `after` (oldest first), or with `before` the
   * ones before that index, newest first. Each version has exactly one event, so the index is version - 1
   * and a page is a range of the (ticket_id, version) index whatever the history's length.
   */
  historyPage(id: string, page: { after?: number; before?: number; limit: number }): IndexedEvent[] {
    const rows = (
      page.before !== undefined
        ? this.stmts.eventsBefore.all(id, page.before + 1, page.limit)
        : this.stmts.eventsAfter.all(id, (page.after ?? -1) + 1, page.limit)
    ) as Row[];
    return rows.map(toIndexedEvent);
  }

  /** The events of versions after `version` (oldest first, at most `limit`): what someone who has `version` is missing. */
  eventsSince(id: string, version: number, limit = Number.MAX_SAFE_INTEGER): IndexedEvent[] {
    return (this.stmts.eventsAfter.all(id, version, limit) as Row[]).map(toIndexedEvent);
  }

  /** Raises (opened/occurrence events) since `since`, oldest first. */
  raisesSince(since: number): RaiseRecord[] {
    return this.stmts.raisesSince.all(since) as RaiseRecord[];
  }

  /** Ticket versions waiting to be forwarded (not parked). */
  outboxPending(): number {
    return this.outbox.pending();
  }

  /** Whether `atLeast` ticket versions or more wait to be forwarded (reads at most that many rows). */
  outboxBacklog(atLeast: number): boolean {
    return this.outbox.backlog(atLeast);
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
    await pool(this.knex).releaseConnection(this.db);
    await this.knex.destroy();
  }

  private withHistory(doc: TicketDoc): Ticket {
    const t = copyTicket(doc) as Ticket;
    t.history = this.history(doc.id);
    return t;
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
    db.exec(
      'CREATE TABLE IF NOT EXISTS `knex_migrations` (`id` integer not null primary key autoincrement, `name` varchar(255), `batch` integer, `migration_time` datetime)',
    );
    db.exec('CREATE TABLE IF NOT EXISTS `knex_migrations_lock` (`index` integer not null primary key autoincrement, `is_locked` integer)');
    db.exec('INSERT INTO `knex_migrations_lock` (`is_locked`) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM `knex_migrations_lock`)');
  }).immediate();
}

/** A stored ticket; fields added after it was written get their empty value, so every Ticket JSON field is present. */
const NO_MEMBERS: Member[] = [];
const toIndexedEvent = (r: Row): IndexedEvent => ({
  index: (r.version as number) - 1,
  at: iso(r.at as number),
  action: r.action as string,
  by: r.by as string,
  ...(r.data ? (JSON.parse(r.data as string) as object) : {}),
});
/** knex's connection pool (its client is typed `any`): the one better-sqlite3 connection the store runs on. */
const pool = (knex: Knex) => knex.client as { acquireConnection(): Promise<unknown>; releaseConnection(conn: unknown): Promise<void> };

/** The stored JSON of a doc: members are rows of their own, so the doc keeps an empty list where they go (the fields keep their order). */
const docJson = (doc: TicketDoc): string => {
  const copy = copyTicket(doc);
  copy.members = NO_MEMBERS;
  return JSON.stringify(copy);
};

/** Fields added after the first stores were written, with the value a doc without them has. */
const LATER_FIELDS = {
  warnings: [],
  shelvedUntil: null,
  shelvedReason: null,
  previous: null,
  reopenedAt: null,
  verifyBy: null,
  knowledge: null,
  records: [],
} as const;

const readDoc = (json: string): TicketDoc => {
  // Set on the parsed object where missing (not `{ ...defaults, ...parsed }`: a spread of a doc's fields is V8's slow path, per read)
  const doc = JSON.parse(json) as TicketDoc;
  for (const k in LATER_FIELDS) {
    const key = k as keyof typeof LATER_FIELDS;
    if (doc[key] === undefined) (doc as unknown as Record<string, unknown>)[key] = Array.isArray(LATER_FIELDS[key]) ? [] : LATER_FIELDS[key];
  }
  // similar cases stored before they carried the knowledge entry's solution and labels
  if (doc.similar.length > 0 && doc.similar[0]?.labels === undefined)
    doc.similar = doc.similar.map((x) => ({ ...x, solution: x.solution ?? null, labels: x.labels ?? [] }));
  return doc;
};

/**
 * Runs `fn` again, after a growing, jittered pause (model/backoff.ts), while SQLite says SQLITE_BUSY at
 * once, until `ms` have passed. Processes that open a new file together each read its schema (a shared
 * lock) and then want the exclusive one to switch it to WAL: SQLite refuses one of them without calling
 * its busy handler, since waiting could deadlock (seen in CI: 3 writers opening one fresh file,
 * "database is locked"). The jitter keeps openers that were refused together from trying together again.
 */
export async function whileBusy<T>(fn: () => T, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (let attempt = 1; ; attempt++) {
    try {
      return fn();
    } catch (err) {
      const pause = backoff(attempt, { base: 10, max: 200, min: 1, jitter: 'equal' });
      if ((err as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() + pause > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
}
