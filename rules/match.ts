import { compilePattern, type TagMatcher } from '../config/pattern.ts';
import type { RuleConfig } from '../config/schema.ts';

/** Rules whose `when.tag` (or `when.source`) matches, cached per name. */
export function ruleIndex(rules: RuleConfig[], field: 'tag' | 'source'): (name: string) => RuleConfig[] {
  const compiled: [RuleConfig, TagMatcher][] = rules.flatMap((r) => {
    const p = r.when[field];
    return p === undefined ? [] : [[r, compilePattern(p)] as [RuleConfig, TagMatcher]];
  });
  const cache = new Map<string, RuleConfig[]>();
  return (name) => {
    let hit = cache.get(name);
    if (!hit) {
      hit = compiled.filter(([, m]) => m(name)).map(([r]) => r);
      if (cache.size < 200_000) cache.set(name, hit);
    }
    return hit;
  };
}

/** Runs `fn` at scheduler time `at` (now if it is past). */
export const at = (scheduler: import('rxjs').SchedulerLike, when: number, fn: () => void) => scheduler.schedule(fn, Math.max(0, when - scheduler.now()));
