import { Observable, type OperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';
import type { RuleConfig } from '../config/schema.ts';
import type { RuleHit } from './hit.ts';
import { at, ruleIndex, RuleStates } from './match.ts';
import type { Reading } from './types.ts';

interface State {
  last: number;
  active: boolean;
  timer: Subscription | null;
}

/**
 * `silentFor`: no signal at all from a source for the duration raises a
 * ticket on the source itself (asset = source id); any signal clears it.
 * Sources named in `expected` are watched from subscription, even if they never speak.
 *
 *   silentFor: 30s    signals  --s--s------------(40s)--s--
 *                     hits     ------------R-----------C--
 */
export function silence(rules: RuleConfig[], scheduler: SchedulerLike, expected: string[] = []): OperatorFunction<Reading, RuleHit> {
  const silentRules = rules.filter((r) => r.when.silentFor !== undefined);
  const matching = ruleIndex(silentRules, 'source');
  return (readings) =>
    new Observable<RuleHit>((out) => {
      const states = new RuleStates<State>();
      const hit = (kind: RuleHit['kind'], rule: RuleConfig, source: string, s: State): RuleHit => ({
        kind,
        rule,
        asset: source,
        area: null,
        at: scheduler.now(),
        evidence: {
          tag: source,
          value: kind === 'raise' ? null : true,
          ts: s.last,
          message: kind === 'raise' ? `no signal from ${source} since ${new Date(s.last).toISOString()}` : `${source} is sending again`,
        },
      });
      const arm = (rule: RuleConfig, source: string, s: State) => {
        const limit = rule.when.silentFor as number;
        s.timer = at(scheduler, s.last + limit, () => {
          s.timer = null;
          if (scheduler.now() - s.last >= limit) {
            s.active = true;
            out.next(hit('raise', rule, source, s));
          } else arm(rule, source, s); // data came meanwhile: wait for the new deadline
        });
      };
      const seen = (source: string) => {
        const now = scheduler.now();
        for (const rule of matching(source)) {
          let s = states.get(rule, source);
          if (!s) {
            s = { last: now, active: false, timer: null };
            states.set(rule, source, s);
          }
          s.last = now;
          if (s.active) {
            s.active = false;
            out.next(hit('clear', rule, source, s));
          }
          if (!s.timer) arm(rule, source, s);
        }
      };
      for (const source of expected) seen(source);
      const sub = readings.subscribe({ next: (r) => seen(r.source), error: (e) => out.error(e), complete: () => out.complete() });
      return () => {
        sub.unsubscribe();
        for (const s of states.values()) s.timer?.unsubscribe();
      };
    });
}
