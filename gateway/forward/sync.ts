import type { Logger } from 'pino';
import type { SchedulerLike, Subscription } from 'rxjs';
import { isAndonError } from '../../model/errors.ts';
import { errorText } from '../redact.ts';
import type { Runtime } from '../runtime.ts';
import { describeTimeProblem, timeProblem } from '../signal-time.ts';
import type { TicketStore } from '../store/store.ts';
import { isLifecycleAction, targetOf } from '../tickets/lifecycle.ts';
import type { CentralChange, Sink } from './sink.ts';

/** What became of one change from central (the `outcome` label of andon_sync_changes_total). */
export const SYNC_OUTCOMES = ['applied', 'duplicate', 'refused'] as const;
export type SyncOutcome = (typeof SYNC_OUTCOMES)[number];

export interface SyncResult {
  ticketId: string;
  action: string;
  outcome: SyncOutcome;
  code?: string;
  message?: string;
  /** Fields central sent that the gateway owns (or the lifecycle does not know): not applied. */
  ignoredFields?: string[];
}

/** Fields a lifecycle action takes; everything else on a ticket (occurrences, condition, detection) is the gateway's. */
const CENTRAL_FIELDS = new Set(['reason', 'partNumber', 'eta', 'resolution', 'rootCause', 'assignee', 'group', 'note', 'checklist']);

export interface SyncDeps {
  runtime: Runtime;
  store: TicketStore;
  now: () => number;
  log?: Logger;
  onResult?: (r: SyncResult) => void;
}

/**
 * Changes made at central enter the local lifecycle (contracts §Central API): central owns
 * assignment and human states, the gateway owns occurrences, condition and
 * detection fields. A change the lifecycle refuses is recorded in `sync_log`
 * and counted, never lost and never thrown; one that is already in effect
 * (the same change seen twice, by push and by poll) is a duplicate, not a refusal.
 */
export function createSyncApplier(deps: SyncDeps) {
  const log = deps.log?.child({ component: 'sync' });

  function one(c: CentralChange, source: 'push' | 'poll'): SyncResult {
    const base = { ticketId: String(c.ticketId), action: String(c.action) };
    const refuse = (code: string, message: string, extra: Partial<SyncResult> = {}): SyncResult => {
      deps.store.syncLog.add({ at: deps.now(), ...base, by: String(c.by), source, code, message, change: JSON.stringify(c) });
      log?.warn({ code, ticket: base.ticketId, action: base.action, source }, `change from central refused: ${message}`);
      return { ...base, outcome: 'refused', code, message, ...extra };
    };
    if (!isLifecycleAction(base.action)) {
      return refuse('ANDON_FORWARD_SYNC_NOT_ALLOWED', `"${base.action}" is not a lifecycle action; central owns assignment and human states only`);
    }
    const fields: Record<string, unknown> = {};
    const ignored: string[] = [];
    for (const [k, v] of Object.entries(c.fields ?? {})) {
      if (CENTRAL_FIELDS.has(k)) fields[k] = v;
      else ignored.push(k);
    }
    const extra = ignored.length > 0 ? { ignoredFields: ignored } : {};
    const ticket = deps.store.get(base.ticketId);
    if (ticket && base.action === 'assign' && ticket.assignee === (fields.assignee ?? null) && (fields.group === undefined || fields.group === ticket.assignedGroup)) {
      return { ...base, outcome: 'duplicate', ...extra };
    }
    // When it happened at central, but never later than now here: central's clock may run ahead, and a
    // change dated in the future would date its ticket version (and its outbox row) in the future too.
    // A change whose `at` is not a time (NaN, not a date, before 2000) is refused on its own: applied, it could not be
    // stored. One ahead of the gateway clock, however far, is taken as now: a central clock that runs fast must not
    // lose people's actions.
    const now = deps.now();
    const raw = (c as { at?: unknown }).at;
    const problem = raw === undefined ? undefined : typeof raw === 'number' ? timeProblem(raw, now, Infinity) : 'unparseable';
    if (problem) return refuse('ANDON_FORWARD_SYNC_INVALID_TIME', describeTimeProblem('at', raw, problem, 0), extra);
    const at = typeof raw === 'number' ? Math.min(raw, now) : now;
    try {
      deps.runtime.act({ type: 'transition', at, id: base.ticketId, action: base.action, by: `${String(c.by)} (central)`, fields });
      return { ...base, outcome: 'applied', ...extra };
    } catch (err) {
      if (!isAndonError(err) || err.code === 'ANDON_STORE_UNAVAILABLE') throw err;
      if (err.code === 'ANDON_TICKET_ILLEGAL_TRANSITION' && ticket && ticket.state === targetOf(base.action)) return { ...base, outcome: 'duplicate', ...extra };
      return refuse(err.code, err.message, extra);
    }
  }

  return {
    /** Applies changes in order; throws only when the store fails (nothing after that change is applied). */
    apply(changes: readonly CentralChange[], source: 'push' | 'poll'): SyncResult[] {
      return changes.map((c) => {
        const r = one(c, source);
        deps.onResult?.(r);
        return r;
      });
    },
  };
}

export type SyncApplier = ReturnType<typeof createSyncApplier>;

export interface PollerDeps {
  sink: Sink;
  applier: SyncApplier;
  store: TicketStore;
  scheduler: SchedulerLike;
  /** Between polls, ms; 0 turns polling off. */
  interval: number;
  /** Where the cursor is kept in `meta` (one per central). */
  cursorKey: string;
  log?: Logger;
  /** Called after each timed poll with the number of changes applied, or the error. */
  onPolled?: (r: { changes: number } | { error: unknown }) => void;
}

const MAX_PAGES = 50;

/**
 * Polls `sink.changes(cursor)` every `interval` and applies what comes back.
 * The cursor is written after its changes are applied: a crash in between
 * applies them again, which the applier sees as duplicates.
 */
export function startSyncPoller(deps: PollerDeps) {
  const changes = deps.sink.changes?.bind(deps.sink);
  const log = deps.log?.child({ component: 'sync' });
  const abort = new AbortController();
  let timer: Subscription | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;

  async function poll(): Promise<number> {
    if (!changes) return 0;
    let n = 0;
    for (let page = 0; page < MAX_PAGES; page++) {
      const cursor = deps.store.meta.get(deps.cursorKey) ?? null;
      const got = await changes(cursor, abort.signal);
      if (stopped) break;
      deps.applier.apply(got.changes, 'poll');
      deps.store.meta.set(deps.cursorKey, got.cursor);
      n += got.changes.length;
      if (got.changes.length === 0 || got.cursor === cursor) break;
    }
    return n;
  }

  function tick(): void {
    running = poll()
      .then(
        (n) => {
          if (n > 0) log?.info({ changes: n }, 'changes from central applied');
          return { changes: n };
        },
        (error: unknown) => {
          if (!stopped) log?.warn({ err: errorText(error), code: 'ANDON_FORWARD_RETRY' }, 'cannot read changes from central; trying again later');
          return { error };
        },
      )
      .then((r) => {
        running = undefined;
        // The next poll is scheduled before anyone hears of this one.
        if (!stopped) timer = deps.scheduler.schedule(tick, deps.interval);
        deps.onPolled?.(r);
      });
  }

  if (changes && deps.interval > 0) tick();
  return {
    /** One poll now (tests, and `POST /api/v1/sync` has no need of it). */
    poll,
    async stop(): Promise<void> {
      stopped = true;
      timer?.unsubscribe();
      abort.abort();
      await running;
    },
  };
}
