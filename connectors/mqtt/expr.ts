/**
 * The two kinds of mapping expressions of a JSON subscription:
 *
 * - a JSON path, starting with `$`: `$`, `$.active`, `$.data.v`, `$.items[0].v`,
 *   `$['odd key']`. It keeps the JSON type (number, boolean, string, null, ...).
 * - a template, anything else: literal text with placeholders. `{n}` (digits,
 *   n >= 1) is what the n-th topic wildcard captured (see topic.ts); `{name}`
 *   is the top-level JSON field `name`. A template always yields a string;
 *   text without placeholders is a constant (`asset: sealer-01`).
 */
export type Expr = { kind: 'path'; text: string; steps: (string | number)[] } | { kind: 'template'; text: string; parts: Part[] };
type Part = { literal: string } | { capture: number } | { field: string };

/** Why an expression gave nothing: `unmapped` (absent) or `wrong-type` (an object where text was needed). */
export interface Miss {
  miss: 'unmapped' | 'wrong-type';
  why: string;
}
/** What an expression gave: a value (`undefined` when a path finds nothing) or a miss. */
export type Found = { value: unknown } | Miss;

const STEP = /^(?:\.([^.[\]]+)|\[(\d+)\]|\['([^']*)'\]|\["([^"]*)"\])/;
const PLACEHOLDER = /\{([^{}]+)\}/g;

/** Parses an expression; returns a string describing the problem when it is invalid. */
export function parseExpr(text: string): Expr | string {
  if (text.startsWith('$')) {
    const steps: (string | number)[] = [];
    let rest = text.slice(1);
    while (rest.length > 0) {
      const m = STEP.exec(rest);
      if (!m) return `JSON path "${text}" is invalid at "${rest}" (write $.field, $.a.b, $.list[0] or $['odd key'])`;
      steps.push(m[2] !== undefined ? Number(m[2]) : ((m[1] ?? m[3] ?? m[4]) as string));
      rest = rest.slice(m[0].length);
    }
    return { kind: 'path', text, steps };
  }
  const parts: Part[] = [];
  let last = 0;
  for (const m of text.matchAll(PLACEHOLDER)) {
    if (m.index > last) parts.push({ literal: text.slice(last, m.index) });
    const name = (m[1] as string).trim();
    if (/^\d+$/.test(name)) {
      if (Number(name) < 1) return `template "${text}" uses {0}; wildcard captures count from {1}`;
      parts.push({ capture: Number(name) });
    } else parts.push({ field: name });
    last = m.index + m[0].length;
  }
  if (last < text.length) parts.push({ literal: text.slice(last) });
  const stray = parts.some((p) => 'literal' in p && /[{}]/.test(p.literal));
  if (stray) return `template "${text}" has an unmatched "{" or "}"`;
  return { kind: 'template', text, parts };
}

/** The highest `{n}` an expression uses (0 when none): must not exceed the topic filter's wildcards. */
export const maxCapture = (e: Expr): number => (e.kind === 'template' ? Math.max(0, ...e.parts.map((p) => ('capture' in p ? p.capture : 0))) : 0);

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Evaluates an expression against one JSON item and the topic's captures. */
export function evaluate(e: Expr, item: unknown, captures: readonly string[]): Found {
  if (e.kind === 'path') {
    let v: unknown = item;
    for (const step of e.steps) {
      if (typeof step === 'number') v = Array.isArray(v) ? v[step] : undefined;
      else v = isRecord(v) && Object.hasOwn(v, step) ? v[step] : undefined;
      if (v === undefined) break;
    }
    return { value: v };
  }
  let out = '';
  for (const p of e.parts) {
    if ('literal' in p) out += p.literal;
    else if ('capture' in p) out += captures[p.capture - 1] ?? '';
    else {
      const v = isRecord(item) && Object.hasOwn(item, p.field) ? item[p.field] : undefined;
      if (v === undefined || v === null) return { miss: 'unmapped', why: `field "${p.field}" of template "${e.text}" is missing` } satisfies Miss;
      if (typeof v === 'object') return { miss: 'wrong-type', why: `field "${p.field}" of template "${e.text}" is not text or a number` } satisfies Miss;
      out += typeof v === 'string' ? v : (JSON.stringify(v) ?? '');
    }
  }
  return { value: out };
}
