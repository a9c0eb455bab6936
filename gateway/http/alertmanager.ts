import { createHash } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import type { AndonConfig } from '../../config/schema.ts';
import type { Signal } from '../../rules/types.ts';
import { AndonError } from '../../model/errors.ts';
import { readTime, timeProblem } from '../signal-time.ts';
import type { Metrics } from '../metrics.ts';
import type { Runtime } from '../runtime.ts';
import { countRejects, ingest, liveHttpSources } from './signals.ts';

interface Opts {
  config: AndonConfig;
  /** The config in use now (a reload may change assets and http sources); default `config`. */
  current?: () => AndonConfig;
  runtime: Runtime;
  metrics: Metrics;
  now: () => number;
}

/** One alert of an Alertmanager webhook (payload version 4). */
export interface AmAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  startsAt?: string;
  endsAt?: string;
  fingerprint?: string;
}

const text = (max: number) => ({ type: 'string', maxLength: max }) as const;
const labelSet = { type: 'object', maxProperties: 64, additionalProperties: text(4096) } as const;
// Alertmanager's own payload: the fields Andon reads are checked; others (and future ones) are let through.
const payloadSchema = {
  type: 'object',
  required: ['version', 'status', 'alerts'],
  additionalProperties: true,
  properties: {
    version: { type: 'string', enum: ['4'] },
    status: { type: 'string', enum: ['firing', 'resolved'] },
    receiver: text(512),
    groupKey: text(8192),
    truncatedAlerts: { type: 'integer', minimum: 0 },
    alerts: {
      type: 'array',
      maxItems: 1000,
      items: {
        type: 'object',
        required: ['status', 'labels'],
        additionalProperties: true,
        properties: {
          status: { type: 'string', enum: ['firing', 'resolved'] },
          labels: labelSet,
          annotations: labelSet,
          startsAt: text(64),
          endsAt: text(64),
          generatorURL: text(4096),
          fingerprint: { type: 'string', pattern: '^[0-9a-fA-F]{1,64}$' },
        },
      },
    },
  },
} as const;

const SEVERITY: Record<string, number> = { critical: 900, page: 900, error: 800, high: 800, warning: 600, medium: 500, low: 300, info: 200, none: 100 };

/** A tag segment from a label value: letters, digits and `_.:-` only (never `/` or a pattern's `*`). */
const segment = (v: string | undefined) => (v ?? '').replace(/[^A-Za-z0-9_.:-]/g, '_').slice(0, 100) || 'unnamed';

/** The alert's identity: Alertmanager's fingerprint, else a hash of its label set (same labels, same alert). */
function fingerprint(a: AmAlert): string {
  if (a.fingerprint) return a.fingerprint.toLowerCase();
  const labels = Object.keys(a.labels)
    .sort()
    .map((k) => [k, a.labels[k]]);
  return createHash('sha256').update(JSON.stringify(labels)).digest('hex').slice(0, 16);
}

/**
 * One Alertmanager alert as an Andon signal: tag `alertmanager/<alertname>/<fingerprint>`
 * (each alert instance keeps its own condition; by the UNS convention the
 * alertname is the asset, so one ticket per alertname), value true while
 * firing and false once resolved. Only config ids cross over from labels: the
 * `asset` label when it names a configured asset; `severity` maps to a number.
 */
export function alertToSignal(a: AmAlert, source: string, assets: AndonConfig['assets'], now: number, maxSkew = Infinity, onReplaced?: () => void): Signal | undefined {
  const firing = a.status === 'firing';
  // startsAt of a firing alert, endsAt of a resolved one (for a firing alert endsAt is 0001-01-01 or a guess, never read).
  // Absent: now. Not a good time (gateway/signal-time.ts): a firing alert is refused (undefined); a resolved one takes
  // now (onReplaced), because refusing it would leave its ticket's condition active for good.
  let ts = readTime(firing ? a.startsAt : a.endsAt) ?? now;
  if (timeProblem(ts, now, maxSkew)) {
    if (firing) return undefined;
    onReplaced?.();
    ts = now;
  }
  const s: Signal = { source, tag: `alertmanager/${segment(a.labels.alertname)}/${fingerprint(a)}`, value: firing, quality: 'good', ts };
  const asset = a.labels.asset;
  if (asset !== undefined && Object.hasOwn(assets, asset)) s.asset = asset;
  const severity = SEVERITY[(a.labels.severity ?? '').toLowerCase()];
  if (severity) s.severity = severity;
  const message = a.annotations?.summary ?? a.annotations?.description ?? a.labels.alertname;
  if (message) s.message = message.slice(0, 1000);
  return s;
}

/**
 * `POST /api/v1/alertmanager`: an Alertmanager webhook receiver (payload
 * version 4), role ingest. Each alert becomes a signal (see `alertToSignal`),
 * so ordinary rules and actions turn it into a ticket and a stack light.
 * Answers 200 only after the ticket changes are committed; on a store failure
 * 503, and Alertmanager sends the group again.
 */
export const alertmanagerRoutes: FastifyPluginAsync<Opts> = async (app, { config, current = () => config, runtime, metrics, now }) => {
  const httpSources = liveHttpSources(current);
  const sourceOf = () => {
    const http = httpSources();
    return http.includes('alertmanager') ? 'alertmanager' : (http[0] ?? 'alertmanager');
  };
  countRejects(app, metrics, sourceOf());
  app.post<{ Body: { alerts: AmAlert[] } }>(
    '/alertmanager',
    {
      config: { access: 'ingest' },
      attachValidation: true,
      schema: {
        summary: 'Alertmanager webhook receiver (payload version 4)',
        body: payloadSchema,
        response: { 200: { type: 'object', properties: { accepted: { type: 'integer' }, rejected: { type: 'integer' } } } },
      },
    },
    async (req) => {
      if (req.validationError) throw new AndonError('ANDON_SIGNAL_INVALID', `not an Alertmanager webhook payload (version 4): ${req.validationError.message}`);
      const at = now();
      const source = sourceOf();
      const { assets } = current();
      // An alert with a bad time is refused on its own (counted, reason time); Alertmanager does not resend
      // a payload answered 4xx, so refusing the whole group would lose its good alerts too.
      let rejected = 0;
      for (const alert of req.body.alerts) {
        const s = alertToSignal(alert, source, assets, at, config.gateway.maxClockSkew, () => metrics.timeReplaced.inc({ source }));
        if (s) ingest(runtime, metrics, s);
        else {
          rejected++;
          metrics.rejected.inc({ source, reason: 'time' });
          req.log.warn({ code: 'ANDON_SIGNAL_INVALID', alertname: alert.labels.alertname }, 'firing alert refused: its startsAt is not a good time (not a date, before 2000 or ahead of gateway.maxClockSkew)');
        }
      }
      return { accepted: req.body.alerts.length - rejected, rejected };
    },
  );
};
