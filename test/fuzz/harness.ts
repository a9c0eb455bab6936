/**
 * The fuzz loop shared by every entry point: generate payload i from its own
 * seed, send it, and every `checkEvery` payloads send a good signal that must
 * still open its ticket (the invariant). A broken invariant is a failure: the
 * target is rebuilt (so later failures are independent) and, for the first
 * few, the window is replayed one payload at a time on a fresh target to name
 * the payload that broke it.
 */
import { payloadSeed, preview, Rng, type Payload } from './gen.ts';

/** A running system under test for one entry point. */
export interface Target {
  /** Sends one payload; resolves to an outcome label (`400 ANDON_SIGNAL_INVALID`, `sent`) or rejects with what went wrong. */
  send(p: Payload): Promise<string> | string;
  /** Sends good signal `n` and resolves once its ticket opened; rejects when the invariant does not hold. */
  check(n: number): Promise<void>;
  /** Outcomes the target counts itself (refusals of a connector), merged into the report at the end. */
  outcomes?(): Promise<Record<string, number>>;
  close(): Promise<void>;
}

export interface Entry {
  name: string;
  generate(rng: Rng, i: number): Payload;
  start(): Promise<Target>;
}

export interface Failure {
  entry: string;
  seed: number;
  /** The payload that broke the invariant, when known; else the first of the window. */
  index: number;
  /** The window of payloads after which the check failed: [from, to). */
  window: [number, number];
  /** Whether the window (or the culprit, when found) carries a poison timestamp: the timestamp validation's business. */
  poison: boolean;
  culprit: boolean;
  kind: string;
  payload: string;
  message: string;
}

export interface EntryResult {
  entry: string;
  seed: number;
  payloads: number;
  skipped: number;
  seconds: number;
  outcomes: Record<string, number>;
  checks: number;
  passed: number;
  failures: Failure[];
}

export interface RunOptions {
  seed: number;
  count: number;
  from?: number;
  checkEvery: number;
  /** Leave out payloads with a poison timestamp (while the timestamp validation is not merged). */
  skipTsPoison: boolean;
  /** How many failed windows to narrow down to one payload (each costs a fresh target and a check per payload). */
  localize?: number;
  /** Longest wait for one send or check. */
  timeoutMs?: number;
  onProgress?: (done: number) => void;
}

const withTimeout = <T>(p: Promise<T> | T, ms: number, what: string): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms (hang?)`)), ms);
  });
  return Promise.race([Promise.resolve(p), t]).finally(() => clearTimeout(timer));
};

const message = (err: unknown) => (err instanceof Error ? `${err.name}: ${err.message}` : String(err)).slice(0, 600);

/** Objects must not gain properties through a payload's `__proto__` or `constructor.prototype`. */
export function pollution(): string | undefined {
  const keys = Object.keys(Object.prototype).concat(Object.keys(Array.prototype), Object.keys(Function.prototype));
  return keys.length > 0 || ({} as Record<string, unknown>).polluted !== undefined ? `prototype polluted: ${keys.join(', ') || 'polluted'}` : undefined;
}

export async function runEntry(entry: Entry, opts: RunOptions): Promise<EntryResult> {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const from = opts.from ?? 0;
  const gen = (i: number) => entry.generate(new Rng(payloadSeed(opts.seed, entry.name, i)), i);
  const result: EntryResult = { entry: entry.name, seed: opts.seed, payloads: 0, skipped: 0, seconds: 0, outcomes: {}, checks: 0, passed: 0, failures: [] };
  let localized = 0;
  let target = await entry.start();
  let checkNo = 0;
  let window: { i: number; p: Payload }[] = [];
  const started = performance.now();
  const fail = (i: number, w: [number, number], p: Payload, poison: boolean, culprit: boolean, err: unknown) =>
    result.failures.push({
      entry: entry.name,
      seed: opts.seed,
      index: i,
      window: w,
      poison,
      culprit,
      kind: p.kind,
      payload: preview(p.data),
      message: message(err),
    });

  /** Narrows a failed window down to the first payload after which the check fails on a fresh target. */
  const narrow = async (w: { i: number; p: Payload }[]): Promise<{ i: number; p: Payload; err: unknown } | undefined> => {
    const t = await entry.start();
    try {
      for (const { i, p } of w) {
        try {
          await withTimeout(t.send(p), timeoutMs, 'send');
          await withTimeout(t.check(1_000_000 + i), timeoutMs, 'check');
        } catch (err) {
          return { i, p, err };
        }
      }
      return undefined;
    } finally {
      await t.close();
    }
  };

  /** Adds the outcomes the target counted itself (before it is closed). */
  const absorb = async () => {
    const counted = await target.outcomes?.().catch(() => ({}) as Record<string, number>);
    for (const [k, n] of Object.entries(counted ?? {})) result.outcomes[k] = (result.outcomes[k] ?? 0) + n;
  };

  /** The invariant broke (`err`) after the payloads of the window: name the culprit if we still may, then start afresh. */
  const broken = async (err: unknown) => {
    const w: [number, number] = [(window[0] as { i: number }).i, (window.at(-1) as { i: number }).i + 1];
    const found = localized < (opts.localize ?? 3) ? (localized++, await narrow(window)) : undefined;
    if (found) fail(found.i, w, found.p, found.p.poison, true, found.err);
    else {
      const first = window.find((x) => x.p.poison) ?? (window[0] as { i: number; p: Payload });
      fail(
        first.i,
        w,
        first.p,
        window.some((x) => x.p.poison),
        false,
        err,
      );
    }
    await absorb();
    await target.close().catch(() => undefined);
    target = await entry.start();
    window = [];
  };

  const check = async () => {
    if (window.length === 0) return;
    result.checks++;
    try {
      await withTimeout(target.check(checkNo++), timeoutMs, 'check');
      const polluted = pollution();
      if (polluted) throw new Error(polluted);
      result.passed++;
      window = [];
    } catch (err) {
      await broken(err);
    }
  };

  try {
    for (let i = from; i < from + opts.count; i++) {
      const p = gen(i);
      if (p.poison && opts.skipTsPoison) {
        result.skipped++;
        continue;
      }
      result.payloads++;
      window.push({ i, p });
      try {
        const label = await withTimeout(target.send(p), timeoutMs, 'send');
        result.outcomes[label] = (result.outcomes[label] ?? 0) + 1;
      } catch (err) {
        // A wrong answer breaks the invariant too: the gateway must answer every payload with a refusal or an acceptance.
        result.outcomes.failed = (result.outcomes.failed ?? 0) + 1;
        result.checks++;
        await broken(err);
        continue;
      }
      if (window.length >= opts.checkEvery) await check();
      if (opts.onProgress && (i - from + 1) % 10_000 === 0) opts.onProgress(i - from + 1);
    }
    await check();
    await absorb();
  } finally {
    await target.close();
  }
  result.seconds = (performance.now() - started) / 1000;
  return result;
}

/** The report lines of one entry's run. */
export function formatResult(r: EntryResult): string {
  const rate = r.payloads / Math.max(r.seconds, 1e-9);
  const outcomes = Object.entries(r.outcomes)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `    ${String(n).padStart(8)}  ${k}`)
    .join('\n');
  const failures = r.failures
    .slice(0, 20)
    .map(
      (f) =>
        `    ${f.culprit ? 'payload' : 'window'} seed=${f.seed} index=${f.index} window=[${f.window[0]},${f.window[1]}) ${f.poison ? '(ts poison) ' : ''}${f.kind}\n` +
        `      ${f.message}\n      payload: ${f.payload}`,
    )
    .join('\n');
  return (
    `${r.entry}: ${r.payloads} payloads (${r.skipped} ts-poison skipped) in ${r.seconds.toFixed(1)} s = ${rate.toFixed(0)}/s; ` +
    `invariant checks ${r.passed}/${r.checks} passed; ${r.failures.length} failures (${r.failures.filter((f) => f.poison).length} with ts poison)\n` +
    `  outcomes:\n${outcomes}\n` +
    (failures ? `  failures (reproduce: npm run fuzz -- --only ${r.entry} --seed ${r.seed} --from <index> --count 1):\n${failures}\n` : '')
  );
}
