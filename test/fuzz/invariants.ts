/** What must hold after any amount of bad input, checked by every entry's `check`. */
import type { Subscription } from 'rxjs';
import type { AndonConfig } from '../../config/schema.ts';
import type { Runtime } from '../../gateway/runtime.ts';
import type { TicketStore } from '../../gateway/store/store.ts';
import { DAY, Y2000 } from './gen.ts';

/** How far ahead of the gateway's clock a source time may be: gateway.maxClockSkew once the config has it, else a day. */
export const skewOf = (config: AndonConfig): number => {
  const v = (config.gateway as { maxClockSkew?: unknown }).maxClockSkew;
  return typeof v === 'number' ? v : DAY;
};

/**
 * Watches a runtime: no ticket change may carry a source time that is not
 * finite, before 2000 or beyond the allowed skew, and no change may be held
 * (only a failing store holds changes, and the fuzz store never fails).
 */
export function watchRuntime(runtime: Runtime, config: AndonConfig, now: () => number) {
  const skew = skewOf(config);
  const bad: string[] = [];
  const sub: Subscription = runtime.engine.changes$.subscribe((c) => {
    const ts = (c.command as { evidence?: { ts?: unknown; tag?: unknown } }).evidence?.ts;
    if (typeof ts === 'number' && (!Number.isFinite(ts) || ts < Y2000 || ts > now() + skew)) {
      if (bad.length < 5)
        bad.push(`ticket ${c.ticket.key} took source time ${ts} (tag ${String((c.command as { evidence?: { tag?: unknown } }).evidence?.tag).slice(0, 80)})`);
    }
  });
  return {
    /** Throws what went wrong since the last call. */
    assert() {
      const problems = [...bad];
      bad.length = 0;
      if (runtime.held() !== 0) problems.unshift(`runtime holds ${runtime.held()} ticket changes (held() must be 0 when the store works)`);
      if (problems.length > 0) throw new Error(problems.join('; '));
    },
    stop: () => sub.unsubscribe(),
  };
}

/** Throws unless the live ticket `key` exists with more occurrences than `before` (0: it must have opened). */
export function assertTicket(store: TicketStore, key: string, before = 0): void {
  const t = store.liveByKey(key);
  if (!t) throw new Error(`the good signal did not open ticket ${key}`);
  if (t.occurrences <= before) throw new Error(`ticket ${key} did not gain an occurrence (${t.occurrences})`);
}
