import { z } from 'zod';
import { sourceSchema } from '../connectors/schemas.ts';
import { duration, id, issue, priority, scalar, tagPattern } from './types.ts';

/**
 * The config schema (design §3). One schema yields the types (`AndonConfig`),
 * the validation with paths and ANDON_CONFIG_* codes, and the defaults.
 */

const isTimezone = (tz: string) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
};

const gatewaySchema = z.strictObject({
  id: id(),
  timezone: z
    .string()
    .default('UTC')
    .superRefine((tz, ctx) => {
      if (!isTimezone(tz)) issue(ctx, 'ANDON_CONFIG_INVALID_TIMEZONE', `"${tz}" is not an IANA timezone such as Asia/Shanghai or Europe/Berlin`);
    }),
  dataDir: z.string().default('./data'),
  http: z
    .strictObject({ host: z.string().default('127.0.0.1'), port: z.number().int().min(0).max(65535).default(8080), bodyLimit: z.number().int().positive().default(1_048_576) })
    .default({ host: '127.0.0.1', port: 8080, bodyLimit: 1_048_576 }),
  auth: z
    .strictObject({
      anonymousRead: z.boolean().default(true),
      tokens: z.array(z.strictObject({ name: id(), role: z.enum(['operator', 'ingest', 'admin']), token: z.string().min(16, 'tokens need at least 16 characters') })).default([]),
    })
    .default({ anonymousRead: true, tokens: [] }),
});

const assetSchema = z.strictObject({
  area: z.string().min(1),
  line: z.string().optional(),
  criticality: z.string().optional(),
  tags: z.array(tagPattern()).default([]),
});

/** What a rule watches. Exactly one detector: equals, above, below, unchangedFor or silentFor. */
const whenSchema = z
  .strictObject({
    tag: tagPattern().optional(),
    source: tagPattern().optional(),
    equals: scalar.optional(),
    above: z.number().optional(),
    below: z.number().optional(),
    for: duration().optional(),
    clearAbove: z.number().optional(),
    clearBelow: z.number().optional(),
    unchangedFor: duration().optional(),
    silentFor: duration().optional(),
  })
  .superRefine((w, ctx) => {
    const detectors = (['equals', 'above', 'below', 'unchangedFor', 'silentFor'] as const).filter((k) => w[k] !== undefined);
    if (detectors.length !== 1) {
      issue(ctx, 'ANDON_CONFIG_INVALID_RULE', `a rule needs exactly one of equals, above, below, unchangedFor, silentFor (found ${detectors.join(', ') || 'none'})`);
      return;
    }
    const kind = detectors[0];
    if (kind === 'silentFor') {
      if (w.source === undefined) issue(ctx, 'ANDON_CONFIG_INVALID_RULE', 'silentFor watches a source: add source: "<id or pattern>"', ['source']);
      if (w.tag !== undefined) issue(ctx, 'ANDON_CONFIG_INVALID_RULE', 'silentFor watches whole sources, not tags', ['tag']);
    } else if (w.tag === undefined) {
      issue(ctx, 'ANDON_CONFIG_MISSING', `${kind} needs tag: "<pattern>"`, ['tag']);
    }
    if (w.for !== undefined && kind !== 'above' && kind !== 'below' && kind !== 'equals') issue(ctx, 'ANDON_CONFIG_INVALID_RULE', `for (on-delay) applies to equals, above and below, not ${kind}`, ['for']);
    if (w.clearBelow !== undefined) {
      if (kind !== 'above') issue(ctx, 'ANDON_CONFIG_INVALID_RULE', 'clearBelow is the deadband of above', ['clearBelow']);
      else if (w.clearBelow > (w.above as number)) issue(ctx, 'ANDON_CONFIG_INVALID_RULE', `clearBelow (${w.clearBelow}) must not exceed above (${w.above})`, ['clearBelow']);
    }
    if (w.clearAbove !== undefined) {
      if (kind !== 'below') issue(ctx, 'ANDON_CONFIG_INVALID_RULE', 'clearAbove is the deadband of below', ['clearAbove']);
      else if (w.clearAbove < (w.below as number)) issue(ctx, 'ANDON_CONFIG_INVALID_RULE', `clearAbove (${w.clearAbove}) must not be under below (${w.below})`, ['clearAbove']);
    }
  });

const ruleSchema = z.strictObject({
  id: id(),
  when: whenSchema,
  fault: id(),
  category: z.string().min(1).default('general'),
  priority: priority,
  title: z.string().optional(),
  notify: z.array(z.string()).default([]),
});

const windowSchema = z.strictObject({ count: z.number().int().min(2), within: duration() });
const correlationSchema = z.strictObject({
  chatter: windowSchema.default({ count: 5, within: 60_000 }),
  flood: windowSchema.extend({ per: z.enum(['area']).default('area') }).default({ count: 10, within: 600_000, per: 'area' }),
  recurrence: windowSchema.default({ count: 3, within: 14 * 86_400_000 }),
  causes: z.array(z.strictObject({ effect: id(), cause: id(), within: duration() })).default([]),
  discoverCauses: z.strictObject({ within: duration(), minSupport: z.number().int().min(2).default(3) }).optional(),
});

const slaSchema = z.strictObject({ respondWithin: duration(), resolveWithin: duration() });
const DEFAULT_SLA = {
  P0: { respondWithin: 900_000, resolveWithin: 4 * 3_600_000 },
  P1: { respondWithin: 1_800_000, resolveWithin: 8 * 3_600_000 },
  P2: { respondWithin: 4 * 3_600_000, resolveWithin: 3 * 86_400_000 },
  P3: { respondWithin: 86_400_000, resolveWithin: 14 * 86_400_000 },
};
const prioritiesSchema = z.strictObject({
  P0: slaSchema.default(DEFAULT_SLA.P0),
  P1: slaSchema.default(DEFAULT_SLA.P1),
  P2: slaSchema.default(DEFAULT_SLA.P2),
  P3: slaSchema.default(DEFAULT_SLA.P3),
  raiseFor: z.strictObject({ criticality: z.record(z.string(), priority).default({}) }).default({ criticality: {} }),
});

const routeSchema = z.strictObject({
  match: z
    .strictObject({ area: z.string().optional(), line: z.string().optional(), asset: z.string().optional(), fault: z.string().optional(), category: z.string().optional(), priority: priority.optional() })
    .default({}),
  assign: z.string().min(1),
  notify: z.array(z.string()).default([]),
});

const escalationSchema = z.strictObject({
  after: z.union([z.enum(['respondBy', 'resolveBy']), duration()]),
  unless: z.enum(['acknowledged', 'resolved']),
  level: z.number().int().min(1),
  notify: z.array(z.string()).default([]),
});

const notifySchema = z.strictObject({
  type: z.literal('webhook'),
  format: z.enum(['json', 'wecom', 'dingtalk', 'slack', 'teams']).default('json'),
  url: z.url(),
});

const actionSchema = z.strictObject({
  on: z.strictObject({ priority: priority.optional(), state: z.string().optional(), area: z.string().optional(), asset: z.string().optional(), fault: z.string().optional() }),
  write: z.strictObject({
    source: z.string(),
    nodeId: z.string().optional(),
    table: z.enum(['holding', 'coil']).optional(),
    address: z.number().int().min(0).optional(),
    topic: z.string().optional(),
    value: scalar,
  }),
});

/** Ticket custom field names the RT sink uses (type rt only; see gateway/forward/rt/README.md). */
const rtCustomFieldsSchema = z.strictObject({
  id: z.string().min(1).default('AndonId'),
  key: z.string().min(1).default('AndonKey'),
  version: z.string().min(1).default('AndonVersion'),
  state: z.string().min(1).default('AndonState'),
  events: z.string().min(1).default('AndonEvents'),
});

const forwardSchema = z
  .strictObject({
    type: z.enum(['http', 'rt']),
    url: z.url(),
    token: z.string().optional(),
    queue: z.string().optional(),
    timeout: duration().default(10_000),
    concurrency: z.number().int().min(1).max(64).default(4),
    // The two below stay optional in the output type (defaults in gateway/forward/index.ts, FORWARD_DEFAULTS)
    // so ForwardConfig literals written for a sink need not spell them.
    /** Per-ticket retry backoff (exponential, full jitter): first delay up to `base` (default 1s), never more than `max` (default 5m). */
    backoff: z.strictObject({ base: duration().optional(), max: duration().optional() }).optional(),
    /** How often to ask central for changes made there (Sink.changes), default 30s; 0s: never (central may still POST /api/v1/sync). */
    syncInterval: duration().optional(),
    /** type rt: names of the ticket custom fields (defaults AndonId, AndonKey, AndonVersion, AndonState, AndonEvents). */
    customFields: rtCustomFieldsSchema.optional(),
    /** type rt: RT Priority per Andon priority (default P0 100, P1 75, P2 50, P3 25). */
    priorities: z.strictObject({ P0: z.number().int(), P1: z.number().int(), P2: z.number().int(), P3: z.number().int() }).partial().optional(),
  })
  .superRefine((f, ctx) => {
    if (f.type === 'rt') {
      if (f.token === undefined) issue(ctx, 'ANDON_CONFIG_MISSING', 'forward type rt needs token: an RT auth token of the gateway\'s RT user', ['token']);
      if (f.queue === undefined) issue(ctx, 'ANDON_CONFIG_MISSING', 'forward type rt needs queue: the RT queue tickets go to', ['queue']);
    } else {
      for (const k of ['customFields', 'priorities'] as const) {
        if (f[k] !== undefined) issue(ctx, 'ANDON_CONFIG_INVALID_VALUE', `${k} applies to forward type rt only`, [k]);
      }
    }
  });

const configObject = z
  .strictObject({
    gateway: gatewaySchema,
    sources: z.array(sourceSchema).default([]),
    assets: z.record(z.string(), assetSchema).default({}),
    rules: z.array(ruleSchema).default([]),
    correlation: correlationSchema.default({
      chatter: { count: 5, within: 60_000 },
      flood: { count: 10, within: 600_000, per: 'area' },
      recurrence: { count: 3, within: 14 * 86_400_000 },
      causes: [],
    }),
    priorities: prioritiesSchema.default({ ...DEFAULT_SLA, raiseFor: { criticality: {} } }),
    routing: z.array(routeSchema).default([]),
    escalation: z.array(escalationSchema).default([]),
    notify: z.record(z.string(), notifySchema).default({}),
    shelving: z.strictObject({ maxDuration: duration().default(8 * 3_600_000) }).default({ maxDuration: 8 * 3_600_000 }),
    actions: z.array(actionSchema).default([]),
    forward: forwardSchema.optional(),
  });

// `when: () => true`: report broken references even when other fields have problems too,
// so check-config shows everything in one run. The check therefore reads defensively.
export const configSchema = configObject.superRefine(checkReferences, { when: () => true });

type Loose = Record<string, unknown>;
const list = (v: unknown): Loose[] => (Array.isArray(v) ? v.filter((x): x is Loose => x !== null && typeof x === 'object') : []);
const record = (v: unknown): Loose => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Loose) : {});
const names = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** Cross-references the field schemas cannot see: ids unique, channels, sources and faults defined. */
function checkReferences(value: unknown, ctx: z.RefinementCtx): void {
  const cfg = record(value);
  const dup = (where: string) => {
    const seen = new Set<unknown>();
    list(cfg[where]).forEach((x, i) => {
      if (typeof x.id === 'string' && seen.has(x.id)) issue(ctx, 'ANDON_CONFIG_DUPLICATE_ID', `${where} id "${x.id}" is used twice`, [where, i, 'id']);
      seen.add(x.id);
    });
  };
  dup('sources');
  dup('rules');
  const notify = record(cfg.notify);
  const channels = (where: string) =>
    list(cfg[where]).forEach((x, i) =>
      names(x.notify).forEach((n, j) => {
        if (!(n in notify)) issue(ctx, 'ANDON_CONFIG_UNKNOWN_REFERENCE', `notify channel "${n}" is not defined under notify:`, [where, i, 'notify', j]);
      }),
    );
  channels('rules');
  channels('routing');
  channels('escalation');
  const sources = new Set(list(cfg.sources).map((x) => x.id));
  list(cfg.actions).forEach((a, i) => {
    const target = record(a.write).source;
    if (typeof target === 'string' && !sources.has(target)) {
      issue(ctx, 'ANDON_CONFIG_UNKNOWN_REFERENCE', `action writes to source "${target}", which is not defined under sources:`, ['actions', i, 'write', 'source']);
    }
  });
  const faults = new Set([...list(cfg.rules).map((r) => r.fault), 'alarm-flood']);
  list(record(cfg.correlation).causes).forEach((c, i) => {
    for (const k of ['effect', 'cause'] as const) {
      if (typeof c[k] === 'string' && !faults.has(c[k])) issue(ctx, 'ANDON_CONFIG_UNKNOWN_REFERENCE', `correlation cause ${k} "${c[k]}" is no rule's fault`, ['correlation', 'causes', i, k]);
    }
  });
}

export type AndonConfig = z.output<typeof configSchema>;
export type RuleConfig = AndonConfig['rules'][number];
export type AssetConfig = AndonConfig['assets'][string];
export type EscalationConfig = AndonConfig['escalation'][number];
export type ForwardConfig = NonNullable<AndonConfig['forward']>;
