import { from, map, merge, type SchedulerLike, type Subscription } from 'rxjs';
import { LeanSubject } from '../model/subject.ts';
import { monotonicFactory } from 'ulid';
import type { AndonConfig } from '../config/schema.ts';
import { escalations } from './tickets/escalation.ts';
import { rulePipeline } from '../rules/pipeline.ts';
import { fixVerification, missedWarnings, patternWarnings, unshelving } from './tickets/timers.ts';
import { earlyWarningSettings } from './tickets/warnings.ts';
import type { Signal, TicketCommand } from '../rules/types.ts';
import { backoff } from '../model/backoff.ts';
import { AndonError, isAndonError } from '../model/errors.ts';
import type { TicketStore } from './store/store.ts';
import { TicketEngine } from './tickets/engine.ts';
import type { TicketDoc } from '../model/ticket.ts';
import { canonical } from './reload.ts';
import type { TagView } from './tags.ts';

export interface RuntimeDeps {
  config: AndonConfig;
  store: TicketStore;
  scheduler: SchedulerLike;
  /** Random source for ticket ids; replay passes a seeded one so ids repeat run to run. */
  random?: () => number;
  expectedSources?: string[];
  /** Called when a command from the rules or timers is refused (never for `act`, which throws). */
  onRefused?: (cmd: TicketCommand, err: AndonError) => void;
  /** Called when a timer's command could not be committed (the store failed); signals throw to their caller instead. */
  onFailure?: (cmd: TicketCommand, err: unknown) => void;
  /**
   * Called when a command failed for a reason other than the store (a bug, a bad date): it is dropped,
   * not held, so the signals behind it go through. `code` is from a closed set (ANDON_INTERNAL).
   */
  onDropped?: (cmd: TicketCommand, err: unknown, code: DroppedCode) => void;
  /** The live tag view: every pushed signal updates its tag's record (gateway/tags.ts). */
  tags?: TagView;
}

/** The `code` label of andon_commands_failed_total. */
export type DroppedCode = 'ANDON_INTERNAL';

/** SQLite result codes (primary) that mean the database could not take the write now: worth holding the change for. */
const STORE_CODES = new Set(['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_IOERR', 'SQLITE_FULL', 'SQLITE_READONLY', 'SQLITE_CORRUPT', 'SQLITE_CANTOPEN', 'SQLITE_NOTADB', 'SQLITE_NOMEM', 'SQLITE_PROTOCOL', 'SQLITE_INTERRUPT']);

/**
 * Whether `err` means the store could not commit (the change may go in later), as opposed to a refusal
 * (AndonError) or a bug (anything else). The store throws better-sqlite3's SqliteError as it comes, with
 * extended codes (SQLITE_IOERR_WRITE); a trigger's RAISE (SQLITE_CONSTRAINT_TRIGGER) is the database's
 * own refusal too: Andon's ticket tables have no triggers (only the audit table has, which the engine never
 * writes), so one is an operator's guard (or a test's fault).
 */
export function isStoreFailure(err: unknown): boolean {
  if (isAndonError(err)) return err.code === 'ANDON_STORE_UNAVAILABLE' || err.code === 'ANDON_TICKET_CONFLICT';
  if (!(err instanceof Error) || err.name !== 'SqliteError') return false;
  const raw = (err as { code?: unknown }).code;
  const code = typeof raw === 'string' ? raw : '';
  return STORE_CODES.has(code.split('_').slice(0, 2).join('_')) || code === 'SQLITE_CONSTRAINT_TRIGGER';
}

/**
 * Random fractions in [0, 1) in steps of 1/256 from the system's CSPRNG, 256 bytes fetched at a time. The ulid
 * package, left to itself, asks crypto for one byte per character: 16 calls for a ticket id (~7 % of the
 * gateway's CPU while a flood's first tickets open, bench:flood --cpu-prof).
 */
export function cryptoFractions(): () => number {
  const bytes = new Uint8Array(256);
  let next = bytes.length;
  return () => {
    if (next === bytes.length) {
      crypto.getRandomValues(bytes);
      next = 0;
    }
    return (bytes[next++] as number) / 256;
  };
}

/**
 * The gateway's core, the same for replay and live runs: signals go through
 * the rule pipeline into the ticket engine; ticket versions feed escalation
 * timers, whose commands go back into the engine.
 */
export function createRuntime(deps: RuntimeDeps) {
  const { config, store, scheduler } = deps;
  const ulid = monotonicFactory(deps.random ? () => deps.random!() : cryptoFractions());
  const engine = new TicketEngine({ store, config, newId: (at) => ulid(at) });
  const signals = new LeanSubject<Signal>();

  // A store failure must reach whoever pushed the signal (HTTP answers 5xx, MQTT does not ack),
  // and must not kill the pipeline: RxJS would only report an error thrown in a subscriber later.
  // The rules have moved on by then (a raise is "active" in their state, so the redelivered signal
  // raises nothing), so the commands the store could not take are held, in order, and committed
  // before anything else: by the next push (which fails while they cannot be), or by a retry timer.
  // Only the store's failures are held: a command that fails otherwise (a bug) would fail the same way
  // forever and block everything behind it, so it is dropped and reported (onDropped).
  let pushing = false;
  let failure: { err: unknown } | undefined;
  const held: TicketCommand[] = [];
  let retry: Subscription | undefined;
  /** Retries of the held commands that failed in a row (0: none held). */
  let retries = 0;
  const jitter = deps.random ?? Math.random;
  /**
   * While a batch is open: the commands it took (applied or held), in order. Should its commit fail, none
   * of them is in the store, so they are all held, in this order, for the retry.
   */
  let batchLog: TicketCommand[] | undefined;
  /** Not a store failure: a refusal is reported (onRefused), anything else dropped (onDropped). Either way the command is done. */
  const settle = (cmd: TicketCommand, err: unknown) => {
    if (batchLog) {
      const i = batchLog.lastIndexOf(cmd);
      if (i >= 0) batchLog.splice(i, 1);
    }
    if (isAndonError(err)) deps.onRefused?.(cmd, err);
    else deps.onDropped?.(cmd, err, 'ANDON_INTERNAL');
  };
  /** Commits the held commands in order; false (with the error noted) when the store still fails. */
  const flush = (): boolean => {
    while (held.length > 0) {
      const cmd = held[0] as TicketCommand;
      try {
        engine.apply(cmd);
      } catch (err) {
        if (isStoreFailure(err)) {
          if (pushing) failure ??= { err };
          else deps.onFailure?.(cmd, err);
          scheduleRetry();
          return false;
        }
        settle(cmd, err);
      }
      held.shift();
    }
    retries = 0;
    return true;
  };
  const scheduleRetry = () => {
    if (retry && !retry.closed) return;
    retry = scheduler.schedule(
      () => {
        retry = undefined;
        flush();
      },
      backoff(++retries, HELD_RETRY, jitter),
    );
  };
  const apply = (cmd: TicketCommand) => {
    batchLog?.push(cmd);
    if (held.length > 0) {
      held.push(cmd);
      flush();
      return;
    }
    try {
      engine.apply(cmd);
    } catch (err) {
      if (!isStoreFailure(err)) return settle(cmd, err);
      held.push(cmd);
      if (pushing) failure ??= { err };
      else deps.onFailure?.(cmd, err);
      scheduleRetry();
    }
  };
  /** Throws the store's error while held commands cannot be committed: nothing new goes in before them. */
  const flushOrThrow = () => {
    pushing = true;
    try {
      if (flush()) return;
    } finally {
      pushing = false;
    }
    const err = failure?.err ?? new AndonError('ANDON_STORE_UNAVAILABLE', 'earlier ticket changes are not committed yet');
    failure = undefined;
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- the store's own error, as it threw it
    throw err;
  };
  const pushMany = (list: readonly Signal[]) => {
    flushOrThrow();
    pushing = true;
    const log: TicketCommand[] = [];
    batchLog = log;
    try {
      const tags = deps.tags;
      const arrived = tags ? scheduler.now() : 0;
      engine.batch(() => {
        for (const s of list) {
          tags?.record(s, arrived);
          signals.next(s);
        }
      });
    } catch (err) {
      // The commit failed: nothing of the batch is in the store. Held commands of the batch are in the log too.
      held.splice(0, held.length, ...log);
      failure ??= { err };
      if (log.length > 0) scheduleRetry();
    } finally {
      pushing = false;
      batchLog = undefined;
    }
    if (failure) {
      const { err } = failure;
      failure = undefined;
      throw err;
    }
  };
  // Timers run from ticket versions: the stored live tickets first (a restart resumes them), then every change.
  // Auto-unshelve is subscribed first so that, after a restart past a shelving's end, it fires before what fell due.
  let current = config;
  const ticketsFrom = (live: TicketDoc[]) => merge(from(live), engine.changes$.pipe(map((c) => c.ticket)));
  const rules = (c: AndonConfig, expectedSources: string[], live: TicketDoc[]) =>
    signals
      .pipe(
        rulePipeline({
          config: c,
          current: () => current,
          scheduler,
          expectedSources,
          history: store.raisesSince(scheduler.now() - historyWindow(c)),
          activeFloods: activeFloods(live),
        }),
      )
      .subscribe(apply);
  const escalating = (c: AndonConfig, live: TicketDoc[]) => ticketsFrom(live).pipe(escalations(c.escalation, scheduler)).subscribe(apply);
  let live = store.liveTickets();
  engine.prime(live);
  let pipeline = rules(config, deps.expectedSources ?? [], live);
  const unshelve = ticketsFrom(live).pipe(unshelving(scheduler)).subscribe(apply);
  let escalation = escalating(config, live);
  // closed tickets still verifying their fix are not live: they join the live ones for this timer only
  const warnings = ticketsFrom(live).pipe(missedWarnings(scheduler)).subscribe(apply);
  const patterns = ticketsFrom(live)
    .pipe(patternWarnings(scheduler, () => (earlyWarningSettings(current).enabled ? earlyWarningSettings(current).beforePattern : undefined)))
    .subscribe(apply);
  const verify = merge(from(store.unverifiedClosed()), ticketsFrom(live)).pipe(fixVerification(scheduler)).subscribe(apply);
  // The timer subscriptions have read the stored live tickets; `from(live)` would hold them (20k docs) for good.
  live.length = 0;

  /**
   * A config reload, in one synchronous step (no signal, timer or action runs in between, so each
   * signal meets either the old rules or the new, never none and never both). The engine takes the new
   * SLAs and shelving limit; routing and priority raises are read live by the rules; the rule pipeline
   * is rebuilt only when `rebuildRules` (its in-memory state starts afresh as after a restart: on-delays,
   * chatter and flood windows, silence timers; recurrence history and active floods come from the store);
   * escalation timers are re-planned from the stored live tickets only when `escalation` changed.
   */
  const reconfigure = (next: AndonConfig, opts: { rebuildRules: boolean; expectedSources?: string[] }) => {
    const replanEscalation = canonical(next.escalation) !== canonical(current.escalation);
    current = next;
    engine.setConfig(next);
    deps.tags?.setConfig(next);
    if (!opts.rebuildRules && !replanEscalation) return;
    live = store.liveTickets();
    if (opts.rebuildRules) {
      pipeline.unsubscribe();
      pipeline = rules(next, opts.expectedSources ?? deps.expectedSources ?? [], live);
    }
    if (replanEscalation) {
      escalation.unsubscribe();
      escalation = escalating(next, live);
    }
    live.length = 0;
  };

  return {
    engine,
    /** Feeds one signal through the rules; its ticket changes are committed when this returns. */
    push: (s: Signal) => pushMany([s]),
    /**
     * Feeds signals through the rules in order; their ticket changes are committed together (one
     * transaction, one fsync) when this returns. Throws the store's error if any could not be: the ones
     * not committed are held and go in, in order, before anything else.
     */
    pushMany,
    /** A person's or central's action (ack, resolve, comment...): throws AndonError when refused. */
    act: (cmd: TicketCommand) => {
      flushOrThrow();
      return engine.apply(cmd);
    },
    /** The live tag view the pushes record into, when one was given. */
    tags: deps.tags,
    /** Ticket changes the rules or timers made that the store has not taken yet (committed by a retry). */
    held: (): number => held.length,
    reconfigure,
    stop: () => {
      retry?.unsubscribe();
      for (const s of [pipeline, unshelve, escalation, warnings, patterns, verify]) s.unsubscribe();
      signals.complete();
    },
  };
}

/** Retry of held commands: the gateway's one backoff formula, equal jitter, ceilings from 1 s doubling up to 30 s. */
const HELD_RETRY = { base: 1_000, max: 30_000, jitter: 'equal' } as const;

/** Live flood tickets whose condition is still active: the flood stage picks them up after a restart. */
const activeFloods = (live: TicketDoc[]) =>
  live
    .filter((t) => t.fault === 'alarm-flood' && t.condition === 'active' && t.area !== null && t.members.length > 0)
    .map((t) => ({ key: t.key, area: t.area as string, priority: t.priority, lastAt: Date.parse(t.lastSeen) }));

/** How far back the rules need raise history: the recurrence window plus the longest cause window. */
const historyWindow = (c: AndonConfig) =>
  c.correlation.recurrence.within + Math.max(0, c.correlation.discoverCauses?.within ?? 0, ...c.correlation.causes.map((x) => x.within));

export type Runtime = ReturnType<typeof createRuntime>;

/** What a log line says about a command: its type, target and the signal behind it (tag, source time), never its value. */
export function describeCommand(cmd: TicketCommand): Record<string, unknown> {
  const target = 'key' in cmd && cmd.key !== undefined ? { key: cmd.key } : 'id' in cmd && cmd.id !== undefined ? { id: cmd.id } : {};
  const signal = 'evidence' in cmd ? { tag: cmd.evidence.tag, ts: cmd.evidence.ts } : {};
  return { type: cmd.type, at: cmd.at, ...target, ...signal };
}
