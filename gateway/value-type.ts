import type { Logger } from 'pino';
import type { RuleConfig } from '../config/schema.ts';
import { ruleIndex } from '../rules/match.ts';
import type { Signal } from '../rules/types.ts';

const LOG_EVERY_MS = 60_000;
/** Tags remembered for the once-a-minute log; beyond this the memory starts afresh (a flood of junk tags cannot grow it). */
const MAX_TAGS = 10_000;

type Kind = 'number' | 'string' | 'number or boolean';

/** The value type a rule's detector can use; undefined when any will do (unchangedFor, silentFor). */
function wants(w: RuleConfig['when']): Kind | undefined {
  if (w.above !== undefined || w.below !== undefined) return 'number';
  if (w.equals === undefined) return undefined;
  // `equals: true` also matches 1 and `equals: 1` true (rules/condition.ts): numbers and booleans go together.
  return typeof w.equals === 'string' ? 'string' : 'number or boolean';
}

const fits = (kind: Kind, v: Signal['value']): boolean =>
  kind === 'number' ? typeof v === 'number' : kind === 'string' ? typeof v === 'string' : typeof v === 'number' || typeof v === 'boolean';

/** A good reading whose value no value rule on its tag can use. */
export interface TypeMismatch {
  /** The first rule that wanted another type. */
  rule: string;
  expected: Kind;
  got: string;
  message: string;
}

/**
 * Values of the wrong type for their rules: a good reading (not null) on a
 * tag that value rules (`above`, `below`, `equals`) watch, none of which can
 * use its type (the string "12.5" for `above: 80`). The rules ignore such a
 * value; this makes it visible instead of silent: `onMismatch` (the
 * `andon_signals_rejected_total{reason="type"}` counter) for each, and a
 * warning at most once a minute per tag, timed by the injected clock. The
 * signal itself still goes in (a sign of life for `silentFor`, a value for
 * `unchangedFor`); see docs/contracts.md for what HTTP answers.
 */
export function valueTypeGuard(opts: { rules: RuleConfig[]; now: () => number; onMismatch: (source: string) => void; log?: Pick<Logger, 'warn'> }) {
  const valueRules = opts.rules.filter((r) => wants(r.when) !== undefined);
  const matching = ruleIndex(valueRules, 'tag');
  // A type every value rule can use needs no lookup of the tag's rules (the common case: numbers, no text rule).
  const kinds = new Set(valueRules.map((r) => wants(r.when) as Kind));
  const alwaysFits = { number: !kinds.has('string'), boolean: kinds.size === 1 && kinds.has('number or boolean'), string: kinds.size === 1 && kinds.has('string') };
  const lastLog = new Map<string, number>();
  return (s: Signal): TypeMismatch | undefined => {
    if (s.quality !== 'good' || s.value === null) return undefined;
    const type = typeof s.value as 'number' | 'boolean' | 'string';
    if (alwaysFits[type]) return undefined;
    const rules = matching(s.tag);
    if (rules.length === 0 || rules.some((r) => fits(wants(r.when) as Kind, s.value))) return undefined;
    const rule = rules[0] as RuleConfig;
    const expected = wants(rule.when) as Kind;
    const got = typeof s.value;
    const message = `tag ${s.tag}: rule ${rule.id} needs a ${expected} value, got ${got} ${JSON.stringify(s.value).slice(0, 100)}; the rule ignores it`;
    opts.onMismatch(s.source);
    const now = opts.now();
    const last = lastLog.get(s.tag);
    if (last === undefined || now - last >= LOG_EVERY_MS) {
      if (lastLog.size >= MAX_TAGS) lastLog.clear();
      lastLog.set(s.tag, now);
      opts.log?.warn({ source: s.source, tag: s.tag, rule: rule.id, expected, got, reason: 'type' }, `${message} (logged once a minute per tag)`);
    }
    return { rule: rule.id, expected, got, message };
  };
}
