import type { ConfigProblem } from '../config/load.ts';
import type { AndonConfig } from '../config/schema.ts';
import { AndonError } from '../model/errors.ts';

/**
 * What a config reload may change live and what it may not. `planReload`
 * compares the running config with the file's; `gateway/main.ts` builds the
 * new parts, then switches them in one synchronous step.
 */

/**
 * Keys only a restart can apply, with why. Anything else under `gateway` is live
 * (`publicUrl`, `auth.tokens`), and so is every other top-level key.
 */
export const RESTART_KEYS: Record<string, string> = {
  'gateway.id': 'the gateway\'s identity in every ticket and at central',
  'gateway.timezone': 'read at start by the recurrence rules, the notification texts and the board page',
  'gateway.maxClockSkew': 'bound into the HTTP ingest routes and the sources\' time guard at start',
  'gateway.dataDir': 'the ticket store and OPC UA certificates are open there',
  'gateway.http': 'the listening socket and the HTTP server\'s limits and timeouts (every key under it)',
  'gateway.auth.anonymousRead': 'bound into the API docs (/docs) at start',
  'gateway.auth.oidc': 'the identity provider is discovered and the sign-in routes are made at start',
};

/** JSON with sorted object keys: two configs that differ only in key order are the same. */
export const canonical = (v: unknown): string =>
  JSON.stringify(v, (_k, x: unknown) => (x !== null && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : x));

const same = (a: unknown, b: unknown) => canonical(a) === canonical(b);

const at = (config: AndonConfig, path: string): unknown => path.split('.').reduce<unknown>((o, k) => (o !== null && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), config);

/** The changed keys that need a restart (`gateway.http.port`), in RESTART_KEYS order. */
export function restartKeys(running: AndonConfig, next: AndonConfig): string[] {
  const out: string[] = [];
  for (const key of Object.keys(RESTART_KEYS)) {
    const [a, b] = [at(running, key), at(next, key)];
    if (same(a, b)) continue;
    // For a section, name the keys in it that changed.
    if (a !== null && typeof a === 'object' && b !== null && typeof b === 'object') {
      const inner = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => !same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
      out.push(...inner.sort().map((k) => `${key}.${k}`));
    } else out.push(key);
  }
  return out;
}

export interface ReloadPlan {
  /** Keys that need a restart; when any, nothing is applied. */
  restart: string[];
  /** The live sections that changed (`routing`, `gateway.auth.tokens`, `sources`...). */
  changed: string[];
  /** Source ids whose connector is made anew: changed or added (in the new file's order). */
  startSources: string[];
  /** Source ids whose running connector stops: changed or removed. */
  stopSources: string[];
  /** The rule pipeline is rebuilt (rules, assets, correlation or the set of source ids changed); routing and priorities are read live. */
  rebuildRules: boolean;
}

/** The live sections: the top-level keys and the live keys of `gateway`. */
const LIVE_SECTIONS = ['gateway.publicUrl', 'gateway.auth.tokens', 'sources', 'assets', 'rules', 'correlation', 'priorities', 'routing', 'escalation', 'notify', 'schedules', 'shelving', 'actions', 'store', 'forward'] as const;

/** What reloading `next` over `running` changes. */
export function planReload(running: AndonConfig, next: AndonConfig): ReloadPlan {
  const changed = LIVE_SECTIONS.filter((k) => !same(at(running, k), at(next, k)));
  const old = new Map(running.sources.map((s) => [s.id, s]));
  const fresh = new Map(next.sources.map((s) => [s.id, s]));
  const startSources = next.sources.filter((s) => !old.has(s.id) || !same(old.get(s.id), s)).map((s) => s.id);
  const stopSources = running.sources.filter((s) => !fresh.has(s.id) || !same(fresh.get(s.id), s)).map((s) => s.id);
  const ids = (c: AndonConfig) => c.sources.map((s) => s.id);
  const rebuildRules = !same(running.rules, next.rules) || !same(running.assets, next.assets) || !same(running.correlation, next.correlation) || !same(ids(running), ids(next));
  return { restart: restartKeys(running, next), changed, startSources, stopSources, rebuildRules };
}

/** The result of a reload that was not refused. */
export interface ReloadResult {
  outcome: 'applied' | 'unchanged';
  /** sha256 of the file now in use. */
  sha: string;
  changed: string[];
  /** Sources whose connector was restarted (or started, for a new one). */
  restarted: string[];
  /** Sources whose connector was stopped for good. */
  removed: string[];
}

/** A refused reload: the problems (as `andon check-config` lists them) or the keys that need a restart. */
export class ReloadError extends AndonError {
  readonly problems: ConfigProblem[];
  readonly keys: string[];
  constructor(code: 'ANDON_RELOAD_INVALID' | 'ANDON_RELOAD_RESTART_REQUIRED' | 'ANDON_RELOAD_UNAVAILABLE', message: string, opts: { problems?: ConfigProblem[]; keys?: string[]; cause?: unknown } = {}) {
    super(code, message, opts.cause === undefined ? {} : { cause: opts.cause });
    this.problems = opts.problems ?? [];
    this.keys = opts.keys ?? [];
  }

  override toJSON() {
    return { ...super.toJSON(), ...(this.problems.length > 0 ? { problems: this.problems } : {}), ...(this.keys.length > 0 ? { keys: this.keys } : {}) };
  }
}

/** `path: CODE: message`, one a line: the lines of `andon check-config`. */
export const formatProblems = (problems: ConfigProblem[]) => problems.map((p) => `${p.path || '(root)'}: ${p.code}: ${p.message}`).join('\n');

export function invalid(file: string, problems: ConfigProblem[], cause?: unknown): ReloadError {
  return new ReloadError(
    'ANDON_RELOAD_INVALID',
    `${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}; the running config stays\n${formatProblems(problems)}`,
    { problems, ...(cause === undefined ? {} : { cause }) },
  );
}

export function restartRequired(file: string, keys: string[]): ReloadError {
  return new ReloadError('ANDON_RELOAD_RESTART_REQUIRED', `${file} changes ${keys.join(', ')}, which only a restart applies; nothing was applied, the running config stays`, { keys });
}
