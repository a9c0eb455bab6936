import { Observable, type OperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';
import type { RuleConfig } from '../config/schema.ts';
import type { RuleHit } from './hit.ts';
import { at, ruleIndex, RuleStates } from './match.ts';
import type { Reading } from './types.ts';

/** `true` equals 1 and `false` equals 0: PLCs send booleans as either. */
const same = (a: unknown, b: unknown) =>
  a === b || (typeof a === 'boolean' && typeof b === 'number' && Number(a) === b) || (typeof a === 'number' && typeof b === 'boolean' && a === Number(b));

/** Whether the reading raises the rule's condition; undefined when the value does not apply (wrong type). */
function raises(w: RuleConfig['when'], v: Reading['value']): boolean | undefined {
  if (w.equals !== undefined) return same(v, w.equals);
  if (typeof v !== 'number' || !Number.isFinite(v)) return undefined;
  if (w.above !== undefined) return v > w.above;
  if (w.below !== undefined) return v < w.below;
  return undefined;
}

/** Whether an active condition returns to normal: past the deadband when there is one. */
function clears(w: RuleConfig['when'], v: Reading['value']): boolean {
  if (w.equals !== undefined) return !same(v, w.equals);
  if (typeof v !== 'number' || !Number.isFinite(v)) return false;
  if (w.above !== undefined) return w.clearBelow !== undefined ? v < w.clearBelow : v <= w.above;
  if (w.below !== undefined) return w.clearAbove !== undefined ? v > w.clearAbove : v >= w.below;
  return false;
}

interface State {
  active: boolean;
  /** On-delay running since (scheduler time), or null. */
  pendingSince: number | null;
  timer: Subscription | null;
  /** The on-delay's evidence while one runs, else null: a reading kept per tag would outlive a GC cycle and be old-space garbage every second. */
  last: Reading | null;
}

/**
 * Value conditions (`equals`, `above`, `below`) with on-delay (`for`) and
 * deadband (`clearBelow` / `clearAbove`); one state per rule and tag.
 * Feed it good-quality readings only (see `goodQuality`).
 *
 *   above: 80, for: 10s, clearBelow: 78
 *   value  --81--85--(10s)----79--77--
 *   hits   -----------R-------------C--
 */
export function conditions(rules: RuleConfig[], scheduler: SchedulerLike): OperatorFunction<Reading, RuleHit> {
  const matching = ruleIndex(
    rules.filter((r) => r.when.equals !== undefined || r.when.above !== undefined || r.when.below !== undefined),
    'tag',
  );
  return (readings) =>
    new Observable<RuleHit>((out) => {
      const states = new RuleStates<State>();
      const hit = (kind: RuleHit['kind'], rule: RuleConfig, r: Reading, when: number): RuleHit => ({
        kind,
        rule,
        asset: r.asset,
        area: r.area,
        at: when,
        evidence: { tag: r.tag, value: r.value, ts: r.ts, ...(r.message ? { message: r.message } : {}), ...(r.severity ? { severity: r.severity } : {}), ...(r.unit ? { unit: r.unit } : {}) },
      });
      const sub = readings.subscribe({
        next(r) {
          for (const rule of matching(r.tag)) {
            let s = states.get(rule, r.tag);
            if (!s) {
              s = { active: false, pendingSince: null, timer: null, last: null };
              states.set(rule, r.tag, s);
            }
            const now = scheduler.now();
            if (s.active) {
              if (clears(rule.when, r.value)) {
                s.active = false;
                out.next(hit('clear', rule, r, now));
              }
              continue;
            }
            const up = raises(rule.when, r.value);
            if (up === undefined) continue;
            if (!up) {
              s.last = null;
              s.pendingSince = null;
              s.timer?.unsubscribe();
              s.timer = null;
              continue;
            }
            const delay = rule.when.for ?? 0;
            if (delay !== 0) s.last = r; // the on-delay's evidence: the latest reading that applies, never an ignored one
            if (delay === 0) {
              s.active = true;
              out.next(hit('raise', rule, r, now));
            } else if (s.pendingSince === null) {
              const state = s;
              state.pendingSince = now;
              state.timer = at(scheduler, now + delay, () => {
                state.timer = null;
                if (state.pendingSince === null || state.active) return;
                const evidence = state.last;
                state.pendingSince = null;
                state.last = null;
                if (!evidence) return;
                state.active = true;
                out.next(hit('raise', rule, evidence, scheduler.now()));
              });
            }
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
