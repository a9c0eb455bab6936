import { Observable, type OperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';
import type { RuleConfig } from '../config/schema.ts';
import type { RuleHit } from './hit.ts';
import type { TagRows } from './assets.ts';
import { at, MAX_CACHED_NAMES, ruleMatcher } from './match.ts';
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

/** A tag that no value rule matches. */
const NO_STATES: never[] = [];

interface State {
  /** The rule this state is for (a tag has one state per rule that matches it). */
  readonly rule: RuleConfig;
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
export function conditions(rules: RuleConfig[], scheduler: SchedulerLike, rows?: TagRows): OperatorFunction<Reading, RuleHit> {
  const matching = ruleMatcher(
    rules.filter((r) => r.when.equals !== undefined || r.when.above !== undefined || r.when.below !== undefined),
    'tag',
  );
  return (readings) =>
    new Observable<RuleHit>((out) => {
      /**
       * Each tag's states, one per rule of the tag (the rule is in its state): a tag with one rule has
       * its State, with several an array, with none NO_STATES. One Map lookup per reading; a lookup in
       * a Map of 64k tags costs ~500 ns inside a replay (cache misses), and the rule list and the state
       * were two (`andon replay`, profile). Tags without a rule are kept up to MAX_CACHED_NAMES.
       */
      const states = new Map<string, State | State[]>();
      const claimed = rows?.claim() ?? false;
      /** The states whose on-delay timer runs, cancelled when this subscription ends. */
      const timed = new Set<State>();
      const newState = (rule: RuleConfig): State => ({ rule, active: false, pendingSince: null, timer: null, last: null });
      const statesOf = (tag: string): State | State[] => {
        // the asset index's row of this reading's tag (the pipeline's resolveAssets looked it up just before)
        const row = claimed ? rows?.rowOf(tag) : undefined;
        if (row) return (row.conditions ??= forTag(tag)) as State | State[];
        let s = states.get(tag);
        if (s === undefined) {
          s = forTag(tag);
          if (s !== NO_STATES || states.size < MAX_CACHED_NAMES) states.set(tag, s);
        }
        return s;
      };
      /** A new tag's states: one per rule that matches it. */
      const forTag = (tag: string): State | State[] => {
        const matched = matching === undefined ? NO_STATES : matching(tag);
        return matched.length === 0 ? NO_STATES : matched.length === 1 ? newState(matched[0] as RuleConfig) : matched.map(newState);
      };
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
          const found = statesOf(r.tag);
          if (Array.isArray(found)) for (const s of found) step(s, r);
          else step(found, r);
        },
        error: (e) => out.error(e),
        complete: () => out.complete(),
      });
      /** One reading against one rule of its tag. */
      function step(s: State, r: Reading): void {
        const rule = s.rule;
        const now = scheduler.now();
        if (s.active) {
          if (clears(rule.when, r.value)) {
            s.active = false;
            out.next(hit('clear', rule, r, now));
          }
          return;
        }
        const up = raises(rule.when, r.value);
        if (up === undefined) return;
        if (!up) {
          s.last = null;
          s.pendingSince = null;
          if (s.timer) {
            s.timer.unsubscribe();
            timed.delete(s);
          }
          s.timer = null;
          return;
        }
        const delay = rule.when.for ?? 0;
        if (delay !== 0) s.last = r; // the on-delay's evidence: the latest reading that applies, never an ignored one
        if (delay === 0) {
          s.active = true;
          out.next(hit('raise', rule, r, now));
        } else if (s.pendingSince === null) {
          const state = s;
          state.pendingSince = now;
          timed.add(state);
          state.timer = at(scheduler, now + delay, () => {
            state.timer = null;
            timed.delete(state);
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
      return () => {
        sub.unsubscribe();
        for (const s of timed) s.timer?.unsubscribe();
        if (claimed) rows?.release();
      };
    });
}
