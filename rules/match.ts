import { compilePattern, type TagMatcher } from '../config/pattern.ts';
import type { RuleConfig } from '../config/schema.ts';

const NONE: RuleConfig[] = [];

/** How many names a per-name cache keeps at most (beyond, a name's answer is worked out each time). */
export const MAX_CACHED_NAMES = 200_000;

/**
 * Rules whose `when.tag` (or `when.source`) matches a name, not cached: for a caller that keeps its
 * own per-name entry (`conditions`). Tags meet a few distinct lists of rules (most none or one): each
 * list is made once and shared by its tags. `undefined` when no rule has the field.
 */
export function ruleMatcher(rules: RuleConfig[], field: 'tag' | 'source'): ((name: string) => RuleConfig[]) | undefined {
  const compiled: [RuleConfig, TagMatcher][] = rules.flatMap((r) => {
    const p = r.when[field];
    return p === undefined ? [] : [[r, compilePattern(p)] as [RuleConfig, TagMatcher]];
  });
  if (compiled.length === 0) return undefined;
  const lists = new Map<string, RuleConfig[]>([['', NONE]]);
  return (name) => {
    // each matcher runs once: the indexes that match name the list and, when it is new, make it
    const matched: number[] = [];
    compiled.forEach(([, m], i) => {
      if (m(name)) matched.push(i);
    });
    const key = matched.join(',');
    let list = lists.get(key);
    if (!list) lists.set(key, (list = matched.map((i) => (compiled[i] as [RuleConfig, TagMatcher])[0])));
    return list;
  };
}

/** Rules whose `when.tag` (or `when.source`) matches, cached per name (a shared list per distinct set). */
export function ruleIndex(rules: RuleConfig[], field: 'tag' | 'source'): (name: string) => RuleConfig[] {
  const match = ruleMatcher(rules, field);
  // No rule of this kind (no `unchangedFor`, no `silentFor`): nothing to look up, per reading.
  if (!match) return () => NONE;
  const cache = new Map<string, RuleConfig[]>();
  return (name) => {
    let hit = cache.get(name);
    if (!hit) {
      hit = match(name);
      if (cache.size < MAX_CACHED_NAMES) cache.set(name, hit);
    }
    return hit;
  };
}

/** Runs `fn` at scheduler time `at` (now if it is past). */
export const at = (scheduler: import('rxjs').SchedulerLike, when: number, fn: () => void) => scheduler.schedule(fn, Math.max(0, when - scheduler.now()));

/** Per-rule, per-subject (tag or source) detector state, without building a composite key per reading. */
export class RuleStates<S> {
  private readonly byRule = new Map<RuleConfig, Map<string, S>>();
  get(rule: RuleConfig, subject: string): S | undefined {
    return this.byRule.get(rule)?.get(subject);
  }
  set(rule: RuleConfig, subject: string, state: S): void {
    let m = this.byRule.get(rule);
    if (!m) this.byRule.set(rule, (m = new Map<string, S>()));
    m.set(subject, state);
  }
  *values(): IterableIterator<S> {
    for (const m of this.byRule.values()) yield* m.values();
  }
}

/** A `match:` of routing, escalation or a cause link: each key one value or a list of them ("any of"). */
export type TicketMatch = Readonly<Record<string, string | readonly string[] | undefined>>;

/** Whether every given key of `match` fits the ticket (a list: one of its values); `{}` fits every ticket. */
export function matches(match: TicketMatch, t: object): boolean {
  for (const k in match) {
    const want = match[k];
    if (want === undefined) continue;
    const have = (t as Record<string, unknown>)[k];
    if (typeof want === 'string' ? have !== want : !want.includes(have as string)) return false;
  }
  return true;
}
