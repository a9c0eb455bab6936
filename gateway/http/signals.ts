import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { AndonConfig } from '../../config/schema.ts';
import type { Signal } from '../../rules/types.ts';
import { AndonError } from '../../model/errors.ts';
import { describeTimeProblem, readTime, timeProblem } from '../signal-time.ts';
import type { Metrics } from '../metrics.ts';
import type { Runtime } from '../runtime.ts';
import { valueTypeGuard } from '../value-type.ts';

interface Opts {
  config: AndonConfig;
  /** The config in use now (a reload may add or remove http sources); default `config`. */
  current?: () => AndonConfig;
  runtime: Runtime;
  metrics: Metrics;
  now: () => number;
}

const signalSchema = {
  type: 'object',
  required: ['tag', 'value'],
  additionalProperties: false,
  properties: {
    source: { type: 'string', maxLength: 200 },
    tag: { type: 'string', minLength: 1, maxLength: 512 },
    value: { type: ['number', 'boolean', 'string', 'null'], maxLength: 4096 },
    quality: { type: 'string', enum: ['good', 'uncertain', 'bad'] },
    ts: { type: ['integer', 'string'], maxLength: 64 },
    asset: { type: 'string', maxLength: 200 },
    severity: { type: 'integer', minimum: 1, maximum: 1000 },
    message: { type: 'string', maxLength: 1000 },
    unit: { type: 'string', minLength: 1, maxLength: 32 },
  },
} as const;

/** Why an ingest request was refused, as the `reason` label of andon_signals_rejected_total (a closed set). */
export const REJECT_REASONS: Record<string, string> = {
  ANDON_SIGNAL_INVALID: 'schema',
  FST_ERR_CTP_INVALID_JSON_BODY: 'json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'json',
  FST_ERR_CTP_BODY_TOO_LARGE: 'too-large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'media-type',
  ANDON_AUTH_REQUIRED: 'auth',
  ANDON_AUTH_FORBIDDEN: 'auth',
};

/** Counts every refused ingest request of the plugin `app` under `source`, whatever refused it (parser, schema, auth). */
export function countRejects(app: FastifyInstance, metrics: Metrics, source: string): void {
  app.addHook('onError', async (_req, _reply, err) => {
    const e = err as { code?: string; path?: string };
    // A signal refused for its timestamp (path `ts` or `[i].ts`) is counted as `time`, not `schema`.
    const reason = e.code === 'ANDON_SIGNAL_INVALID' && /(^|\.)ts$/.test(e.path ?? '') ? 'time' : REJECT_REASONS[e.code ?? ''];
    metrics.rejected.inc({ source, reason: reason ?? 'other' });
  });
}

/** Pushes one signal and counts it; its ticket changes are committed when this returns, else ANDON_STORE_UNAVAILABLE (the client retries). */
export function ingest(runtime: Runtime, metrics: Metrics, s: Signal): void {
  const started = performance.now();
  try {
    runtime.push(s);
  } catch (err) {
    throw new AndonError('ANDON_STORE_UNAVAILABLE', `signal ${s.tag} not stored: ${(err as Error).message}`, { cause: err });
  }
  metrics.latency.observe((performance.now() - started) / 1000);
  metrics.accepted(s.source);
}

/**
 * Group commit for HTTP ingest: the signals of every request that arrives in one turn of the event loop
 * go through the rules together and commit in one transaction (one fsync), then each request is answered.
 * Under an alarm flood this is what keeps ingest near its quiet rate; a lone request waits one turn.
 * If the commit fails, every request of the turn gets ANDON_STORE_UNAVAILABLE (503) and its client retries.
 */
/** Signals committed together at most (one request larger than this still goes whole, alone). */
const MAX_BATCH = 5_000;

export function ingestBatcher(runtime: Runtime, metrics: Metrics) {
  type Waiting = { list: Signal[]; started: number; resolve: () => void; reject: (err: unknown) => void };
  let waiting: Waiting[] = [];
  let timer: NodeJS.Immediate | undefined;
  const run = () => {
    timer = undefined;
    if (waiting.length === 0) return;
    // At most MAX_BATCH signals per commit (whole requests; a larger one goes alone): under a burst of big
    // arrays the event loop gets a turn between commits, so /healthz and the board are not held for seconds.
    let n = 0;
    let take = 0;
    while (take < waiting.length && (take === 0 || n + (waiting[take] as Waiting).list.length <= MAX_BATCH)) n += (waiting[take++] as Waiting).list.length;
    const turn = waiting.slice(0, take);
    waiting = waiting.slice(take);
    if (waiting.length > 0) timer = setImmediate(run);
    const all = turn.length === 1 ? (turn[0] as Waiting).list : turn.flatMap((w) => w.list);
    try {
      runtime.pushMany(all);
    } catch (err) {
      const first = all[0]?.tag ?? '';
      for (const w of turn) w.reject(new AndonError('ANDON_STORE_UNAVAILABLE', `signal ${w.list[0]?.tag ?? first} not stored: ${(err as Error).message}`, { cause: err }));
      return;
    }
    const done = performance.now();
    for (const w of turn) {
      const seconds = (done - w.started) / 1000;
      for (const s of w.list) {
        metrics.latency.observe(seconds);
        metrics.accepted(s.source);
      }
      w.resolve();
    }
  };
  return {
    /** Resolves when the signals' ticket changes are committed; rejects with ANDON_STORE_UNAVAILABLE. */
    submit(list: Signal[]): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        waiting.push({ list, started: performance.now(), resolve, reject });
        timer ??= setImmediate(run);
      });
    },
    /** Runs what is waiting now (at close: nothing is left unanswered). */
    flush(): void {
      if (timer) clearImmediate(timer);
      while (waiting.length > 0) run();
      if (timer) clearImmediate(timer);
      timer = undefined;
    },
  };
}

type Body = { source?: string; tag: string; value: Signal['value']; quality?: Signal['quality']; ts?: number | string; asset?: string; severity?: number; message?: string; unit?: string };

/**
 * `POST /api/v1/signals`: one signal or an array (MES over HTTP), role ingest.
 * Answers 202 only after the ticket changes the signals caused are committed.
 * A value of the wrong type for its rules (a string for `above: 80`) still answers 202: it is listed under
 * `rejected` (reason `type`), counted and logged, and the rest of the request goes in (docs/contracts.md).
 */
export const signalRoutes: FastifyPluginAsync<Opts> = async (app, { config, current = () => config, runtime, metrics, now }) => {
  const httpSourcesOf = liveHttpSources(current);
  countRejects(app, metrics, httpSourcesOf()[0] ?? 'http');
  const batcher = ingestBatcher(runtime, metrics);
  // made again when a reload brings other rules
  const typeGuard = (c: AndonConfig) => valueTypeGuard({ rules: c.rules, now, onMismatch: (source) => metrics.rejected.inc({ source, reason: 'type' }), log: app.log.child({ component: 'ingest' }) });
  let guarded = { rules: config.rules, check: typeGuard(config) };
  const checkType = (s: Parameters<typeof guarded.check>[0]) => {
    const c = current();
    if (c.rules !== guarded.rules) guarded = { rules: c.rules, check: typeGuard(c) };
    return guarded.check(s);
  };
  app.addHook('onClose', async () => batcher.flush());
  app.post<{ Body: Body | Body[] }>(
    '/signals',
    {
      config: { access: 'ingest' },
      attachValidation: true,
      bodyLimit: config.gateway.http.signalBodyLimit,
      schema: {
        summary: 'Signals over HTTP (one or an array), answered after their tickets are committed',
        body: { oneOf: [signalSchema, { type: 'array', maxItems: 10_000, items: signalSchema }] },
        response: {
          202: {
            type: 'object',
            properties: {
              accepted: { type: 'integer' },
              rejected: {
                type: 'array',
                items: { type: 'object', properties: { index: { type: 'integer' }, tag: { type: 'string' }, reason: { type: 'string' }, rule: { type: 'string' }, message: { type: 'string' } } },
              },
            },
          },
        },
      },
    },
    async (req, reply) => {
      if (req.validationError) {
        throw new AndonError('ANDON_SIGNAL_INVALID', req.validationError.message);
      }
      const list = Array.isArray(req.body) ? req.body : [req.body];
      const at = now();
      // Every timestamp is checked before any signal goes in: a 400 means none of the request was taken.
      const times = list.map((b, i) => {
        const ts = readTime(b.ts) ?? at;
        const problem = timeProblem(ts, at, config.gateway.maxClockSkew);
        if (problem) throw new AndonError('ANDON_SIGNAL_INVALID', describeTimeProblem('ts', b.ts, problem, config.gateway.maxClockSkew), { path: Array.isArray(req.body) ? `[${i}].ts` : 'ts' });
        return ts;
      });
      const httpSources = httpSourcesOf();
      const signals = list.map((b, i) => {
        const source = b.source && httpSources.includes(b.source) ? b.source : (httpSources[0] ?? 'http');
        const s: Signal = { source, tag: b.tag, value: b.value, quality: b.quality ?? 'good', ts: times[i] as number };
        if (b.asset) s.asset = b.asset;
        if (b.severity) s.severity = b.severity;
        if (b.message) s.message = b.message;
        if (b.unit) s.unit = b.unit;
        return s;
      });
      await batcher.submit(signals);
      // Checked once they are committed (a 503 is retried by the client and must not count twice).
      const rejected = signals.flatMap((s, index) => {
        const m = checkType(s);
        return m ? [{ index, tag: s.tag, reason: 'type', rule: m.rule, message: m.message }] : [];
      });
      return reply.status(202).send(rejected.length > 0 ? { accepted: list.length - rejected.length, rejected } : { accepted: list.length });
    },
  );
};

/** The ids of the config's http sources, worked out again only when the config in use changes (a reload). */
export function liveHttpSources(current: () => AndonConfig): () => string[] {
  let seen: AndonConfig | undefined;
  let ids: string[] = [];
  return () => {
    const c = current();
    if (c !== seen) {
      seen = c;
      ids = c.sources.filter((s) => s.type === 'http').map((s) => s.id);
    }
    return ids;
  };
}
