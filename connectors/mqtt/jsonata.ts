import { createRequire } from 'node:module';
import type jsonataType from 'jsonata';

/**
 * JSONata mapping expressions (`value: { jsonata: '...' }`) of JSON
 * subscriptions. An expression is compiled once, when the config is
 * validated; the connector takes the compiled expression from here instead
 * of compiling it again. Evaluation is bounded (time, depth, sequence length),
 * so one message cannot hold the connection.
 */
export type Compiled = jsonataType.Expression;

/**
 * The jsonata library, loaded on the first expression: a gateway whose config has none does not
 * carry its ~1 MiB of source and code on the heap (a resident cost on a small box).
 */
let lib: typeof jsonataType | undefined;
// eslint-disable-next-line no-restricted-syntax -- resolves a package (code, in dist/ too), not a file beside this one
const load = createRequire(import.meta.url);
const jsonata = (text: string, opts: Parameters<typeof jsonataType>[1]): Compiled => (lib ??= load('jsonata') as typeof jsonataType)(text, opts);

/**
 * Per evaluation: wall time, nesting depth and sequence length an expression may use. The time is wall
 * time (JSONata's own guard): generous, so that a GC pause or a busy machine never refuses a sound
 * expression (bench:ingest at load 14 refused 6 of 200,000 with 100 ms), while a runaway loop (which
 * holds the event loop: JSONata evaluates in microtasks) is cut after 1 s.
 */
export const JSONATA_LIMITS = { timeout: 1_000, stack: 200, sequence: 10_000 } as const;

/** Compiled expressions by text, the config's few: bounded, the oldest goes first. */
const cache = new Map<string, Compiled>();
const CACHE_MAX = 1_000;

/** Why an expression does not compile: where (0-based character position) and what. */
export interface JsonataProblem {
  position: number;
  message: string;
}

/** Compiles `text` (or takes it from the cache); a problem with its position when it does not compile. */
export function compileJsonata(text: string): Compiled | JsonataProblem {
  const hit = cache.get(text);
  if (hit) return hit;
  let compiled: Compiled;
  try {
    compiled = jsonata(text, { ...JSONATA_LIMITS });
  } catch (err) {
    const e = err as { position?: unknown; message?: unknown; code?: unknown };
    const position = typeof e.position === 'number' ? e.position : 0;
    return { position, message: `${String(e.message)}${typeof e.code === 'string' ? ` (${e.code})` : ''}` };
  }
  if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value as string);
  cache.set(text, compiled);
  return compiled;
}

export const isProblem = (c: Compiled | JsonataProblem): c is JsonataProblem => 'position' in c && 'message' in c;

/** The text of a failed evaluation: JSONata's message and code (`D1012` time out, `T2001` type, ...). */
export function evaluationError(err: unknown): string {
  const e = err as { message?: unknown; code?: unknown; position?: unknown };
  const where = typeof e.position === 'number' ? ` at position ${e.position}` : '';
  return `${typeof e.message === 'string' && e.message ? e.message : String(err)}${typeof e.code === 'string' ? ` (${e.code})` : ''}${where}`;
}
