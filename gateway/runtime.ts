import { from, map, merge, Subject, type SchedulerLike, type Subscription } from 'rxjs';
import { monotonicFactory } from 'ulid';
import type { AndonConfig } from '../config/schema.ts';
import { escalations } from '../rules/escalation.ts';
import { rulePipeline } from '../rules/pipeline.ts';
import type { Signal, TicketCommand } from '../rules/types.ts';
import { isAndonError, type AndonError } from './errors.ts';
import type { TicketStore } from './store/store.ts';
import { TicketEngine } from './tickets/engine.ts';

export interface RuntimeDeps {
  config: AndonConfig;
  store: TicketStore;
  scheduler: SchedulerLike;
  /** Random source for ticket ids; replay passes a seeded one so ids repeat run to run. */
  random?: () => number;
  expectedSources?: string[];
  /** Called when a command from the rules or timers is refused (never for `act`, which throws). */
  onRefused?: (cmd: TicketCommand, err: AndonError) => void;
}

/**
 * The gateway's core, the same for replay and live runs: signals go through
 * the rule pipeline into the ticket engine; ticket versions feed escalation
 * timers, whose commands go back into the engine.
 */
export function createRuntime(deps: RuntimeDeps) {
  const { config, store, scheduler } = deps;
  const ulid = monotonicFactory(deps.random ? () => deps.random!() : undefined);
  const engine = new TicketEngine({ store, config, newId: (at) => ulid(at) });
  const signals = new Subject<Signal>();

  const apply = (cmd: TicketCommand) => {
    try {
      engine.apply(cmd);
    } catch (err) {
      if (!isAndonError(err)) throw err;
      deps.onRefused?.(cmd, err);
    }
  };
  const subs: Subscription[] = [
    signals.pipe(rulePipeline({ config, scheduler, expectedSources: deps.expectedSources ?? [], history: store.raisesSince(scheduler.now() - historyWindow(config)) })).subscribe(apply),
    merge(from(store.liveTickets()), engine.changes$.pipe(map((c) => c.ticket)))
      .pipe(escalations(config.escalation, scheduler))
      .subscribe(apply),
  ];

  return {
    engine,
    /** Feeds one signal through the rules; its ticket changes are committed when this returns. */
    push: (s: Signal) => signals.next(s),
    /** A person's or central's action (ack, resolve, comment...): throws AndonError when refused. */
    act: (cmd: TicketCommand) => engine.apply(cmd),
    stop: () => {
      for (const s of subs) s.unsubscribe();
      signals.complete();
    },
  };
}

/** How far back the rules need raise history: the recurrence window plus the longest cause window. */
const historyWindow = (c: AndonConfig) =>
  c.correlation.recurrence.within + Math.max(0, c.correlation.discoverCauses?.within ?? 0, ...c.correlation.causes.map((x) => x.within));

export type Runtime = ReturnType<typeof createRuntime>;
