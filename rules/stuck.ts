import { Observable, type OperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';
import type { RuleConfig } from '../config/schema.ts';
import type { RuleHit } from './hit.ts';
import { at, ruleIndex, RuleStates } from './match.ts';
import type { Reading } from './types.ts';

interface State {
  value: Reading['value'];
  changedAt: number;
  active: boolean;
  /** The last reading was not good: a frozen value then means no data, not a stuck sensor. */
  suspect: boolean;
  last: Reading;
  timer: Subscription | null;
}

/**
 * `unchangedFor` (stuck sensor): the same good value for the whole duration
 * raises; the first change clears. Fires on the timer, so report-by-exception
 * sources (which send nothing while the value holds) are covered too.
 *
 *   unchangedFor: 2h    value  --64.5--64.5--64.5---(2h)---65.1--
 *                       hits   ---------------------R------C-----
 */
export function stuck(rules: RuleConfig[], scheduler: SchedulerLike): OperatorFunction<Reading, RuleHit> {
  const matching = ruleIndex(
    rules.filter((r) => r.when.unchangedFor !== undefined),
    'tag',
  );
  return (readings) =>
    new Observable<RuleHit>((out) => {
      const states = new RuleStates<State>();
      const hit = (kind: RuleHit['kind'], rule: RuleConfig, s: State): RuleHit => ({
        kind,
        rule,
        asset: s.last.asset,
        area: s.last.area,
        at: scheduler.now(),
        evidence: {
          tag: s.last.tag,
          value: s.last.value,
          ts: s.last.ts,
          ...(s.last.unit ? { unit: s.last.unit } : {}),
          ...(kind === 'raise' ? { message: `unchanged since ${new Date(s.changedAt).toISOString()}` } : {}),
        },
      });
      const arm = (rule: RuleConfig, s: State) => {
        const limit = rule.when.unchangedFor as number;
        s.timer = at(scheduler, s.changedAt + limit, () => {
          s.timer = null;
          if (s.active || s.suspect) return; // re-armed by the next good reading
          if (scheduler.now() - s.changedAt >= limit) {
            s.active = true;
            out.next(hit('raise', rule, s));
          } else arm(rule, s);
        });
      };
      const sub = readings.subscribe({
        next(r) {
          for (const rule of matching(r.tag)) {
            const now = scheduler.now();
            let s = states.get(rule, r.tag);
            if (r.quality !== 'good') {
              if (s) s.suspect = true;
              continue;
            }
            if (!s) {
              s = { value: r.value, changedAt: now, active: false, suspect: false, last: r, timer: null };
              states.set(rule, r.tag, s);
            }
            s.last = r;
            if (s.suspect) s.changedAt = now; // the clock restarts when good data returns
            s.suspect = false;
            if (r.value !== s.value) {
              s.value = r.value;
              s.changedAt = now;
              if (s.active) {
                s.active = false;
                out.next(hit('clear', rule, s));
              }
            }
            if (!s.timer && !s.active) arm(rule, s);
          }
        },
        error: (e) => out.error(e),
        complete: () => out.complete(),
      });
      return () => {
        sub.unsubscribe();
        for (const s of states.values()) s.timer?.unsubscribe();
      };
    });
}
