import type { FastifyPluginAsync } from 'fastify';
import { AndonError } from '../../model/errors.ts';
import type { Locale } from '../i18n.ts';
import type { TicketStore } from '../store/store.ts';
import { formatParam, jsonOrCsv, sendCsv, toCsv, type Column } from './csv.ts';

interface Opts {
  store: TicketStore;
  now: () => number;
  /** `gateway.locale`: the CSV header row's language. */
  locale?: Locale;
}

interface TopFault {
  asset: string | null;
  area: string | null;
  fault: string;
  tickets: number;
  occurrences: number;
  lastAt: string;
}
type Stats = { count: number; meanSeconds: number | null; medianSeconds: number | null; p90Seconds: number | null };
interface ResponseRow {
  priority: string;
  opened: number;
  mtta: Stats;
  mttr: Stats;
  firstTimeFix: { verified: number; recurred: number; rate: number | null };
}

/** The columns of GET /api/v1/reports/top-faults?format=csv (docs/contracts.md). */
export const TOP_FAULT_COLUMNS: Column<TopFault>[] = [
  { header: 'csv.asset', value: (r) => r.asset },
  { header: 'csv.area', value: (r) => r.area },
  { header: 'csv.fault', value: (r) => r.fault },
  { header: 'csv.tickets', value: (r) => r.tickets },
  { header: 'csv.raises', value: (r) => r.occurrences },
  { header: 'csv.lastAt', value: (r) => r.lastAt },
];

/** The columns of GET /api/v1/reports/response?format=csv (docs/contracts.md): one row per priority. */
export const RESPONSE_COLUMNS: Column<ResponseRow>[] = [
  { header: 'csv.priority', value: (r) => r.priority },
  { header: 'csv.opened', value: (r) => r.opened },
  { header: 'csv.mttaCount', value: (r) => r.mtta.count },
  { header: 'csv.mttaMean', value: (r) => r.mtta.meanSeconds },
  { header: 'csv.mttaMedian', value: (r) => r.mtta.medianSeconds },
  { header: 'csv.mttaP90', value: (r) => r.mtta.p90Seconds },
  { header: 'csv.mttrCount', value: (r) => r.mttr.count },
  { header: 'csv.mttrMean', value: (r) => r.mttr.meanSeconds },
  { header: 'csv.mttrMedian', value: (r) => r.mttr.medianSeconds },
  { header: 'csv.mttrP90', value: (r) => r.mttr.p90Seconds },
  { header: 'csv.fixVerified', value: (r) => r.firstTimeFix.verified },
  { header: 'csv.fixRecurred', value: (r) => r.firstTimeFix.recurred },
  { header: 'csv.firstTimeFixRate', value: (r) => r.firstTimeFix.rate },
];

interface GroupRow {
  group: string | null;
  opened: number;
  mtta: Stats;
  mttr: Stats;
  overdueNow: number;
  breached: number;
  states: { state: string; tickets: number; totalSeconds: number; meanSeconds: number }[];
}

/** The columns of GET /api/v1/reports/groups?format=csv (docs/contracts.md): one row per group. */
export const GROUP_COLUMNS: Column<GroupRow>[] = [
  { header: 'csv.group', value: (r) => r.group },
  { header: 'csv.opened', value: (r) => r.opened },
  { header: 'csv.mttaCount', value: (r) => r.mtta.count },
  { header: 'csv.mttaMean', value: (r) => r.mtta.meanSeconds },
  { header: 'csv.mttaP90', value: (r) => r.mtta.p90Seconds },
  { header: 'csv.mttrCount', value: (r) => r.mttr.count },
  { header: 'csv.mttrMean', value: (r) => r.mttr.meanSeconds },
  { header: 'csv.mttrP90', value: (r) => r.mttr.p90Seconds },
  { header: 'csv.overdueNow', value: (r) => r.overdueNow },
  { header: 'csv.breached', value: (r) => r.breached },
  { header: 'csv.longestState', value: (r) => r.states[0]?.state ?? null },
  { header: 'csv.longestStateSeconds', value: (r) => r.states[0]?.totalSeconds ?? null },
];

/** `top-faults_2026-03-01_2026-03-31.csv` */
const fileName = (what: string, from: number, to: number) => `${what}_${iso(from).slice(0, 10)}_${iso(to).slice(0, 10)}.csv`;

const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();

const period = {
  from: { type: 'string', maxLength: 64, description: 'Start (ISO date-time, included). Default: 30 days before `to`.' },
  to: { type: 'string', maxLength: 64, description: 'End (ISO date-time, excluded). Default: now.' },
} as const;

const stats = {
  type: 'object',
  additionalProperties: false,
  required: ['count', 'meanSeconds', 'medianSeconds', 'p90Seconds'],
  properties: {
    count: { type: 'integer' },
    meanSeconds: { type: ['number', 'null'] },
    medianSeconds: { type: ['number', 'null'] },
    p90Seconds: { type: ['number', 'null'], description: 'Nearest rank.' },
  },
} as const;

const fix = {
  type: 'object',
  additionalProperties: false,
  required: ['verified', 'recurred', 'rate'],
  description: 'Whether fixes held: verified ÷ (verified + recurred); rate null while neither is known.',
  properties: {
    verified: { type: 'integer', description: 'Tickets whose fix was verified (fix-verified) and never came back after a fix.' },
    recurred: { type: 'integer', description: 'Tickets whose fault came back after a fix at least once (reopened, or recurred after close).' },
    rate: { type: ['number', 'null'] },
  },
} as const;

const periodOut = { from: { type: 'string', format: 'date-time' }, to: { type: 'string', format: 'date-time' } } as const;

/** Parses and checks the period [from, to); ANDON_REQUEST_INVALID when it is not one. */
export function parsePeriod(q: { from?: string; to?: string }, now: number): { from: number; to: number } {
  const at = (name: 'from' | 'to', fallback: number) => {
    const v = q[name];
    if (v === undefined) return fallback;
    const ms = Date.parse(v);
    if (Number.isNaN(ms)) throw new AndonError('ANDON_REQUEST_INVALID', `${name} must be an ISO date-time, got "${v}"`, { path: name });
    return ms;
  };
  const to = at('to', now);
  const from = at('from', to - 30 * DAY);
  if (from >= to) throw new AndonError('ANDON_REQUEST_INVALID', 'from must be before to', { path: 'from' });
  return { from, to };
}

/**
 * Reports over a period (role read): the faults raised most (the monthly TOP 5)
 * and the response times per priority (MTTA, MTTR). The SQL is the store's
 * (gateway/store/reports.ts).
 */
export const reportRoutes: FastifyPluginAsync<Opts> = async (app, { store, now, locale = 'en' }) => {
  app.get<{ Querystring: { from?: string; to?: string; limit: number; format?: 'json' | 'csv' } }>(
    '/reports/top-faults',
    {
      config: { access: 'read' },
      schema: {
        summary: 'The faults raised most in a period, by asset and fault',
        description:
          'Per asset and fault: tickets raised and raises (openings and occurrences) in [from, to), most raises first. ' +
          '`?format=csv`: one row per item (columns in docs/contracts.md).',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { ...period, limit: { type: 'integer', minimum: 1, maximum: 100, default: 5 }, format: formatParam },
        },
        response: {
          200: jsonOrCsv(
            {
              type: 'object',
              additionalProperties: false,
              required: ['from', 'to', 'items'],
              properties: {
                ...periodOut,
                items: {
                  type: 'array',
                  items: {
                    type: 'object',
                    additionalProperties: false,
                    required: ['asset', 'area', 'fault', 'tickets', 'occurrences', 'lastAt'],
                    properties: {
                      asset: { type: ['string', 'null'] },
                      area: { type: ['string', 'null'] },
                      fault: { type: 'string' },
                      tickets: { type: 'integer' },
                      occurrences: { type: 'integer' },
                      lastAt: { type: 'string', format: 'date-time', description: 'The newest raise in the period.' },
                    },
                  },
                },
              },
            },
            'The TOP faults of the period.',
          ),
        },
      },
    },
    async (req, reply) => {
      const { from, to } = parsePeriod(req.query, now());
      const items = store.reports.topFaults(from, to, req.query.limit).map((r) => ({ ...r, lastAt: iso(r.lastAt) }));
      if (req.query.format === 'csv') return sendCsv(reply, fileName('top-faults', from, to), toCsv(locale, TOP_FAULT_COLUMNS, items));
      return { from: iso(from), to: iso(to), items };
    },
  );

  app.get<{ Querystring: { from?: string; to?: string; format?: 'json' | 'csv' } }>(
    '/reports/response',
    {
      config: { access: 'read' },
      schema: {
        summary: 'Response times per priority: MTTA and MTTR; first-time-fix rate per priority and area',
        description:
          'Tickets opened in [from, to), per priority: MTTA from opening to the first ack, MTTR from opening to the first resolve, ' +
          'over the tickets acknowledged (resolved) so far; count, mean, median and p90 in seconds. ' +
          'firstTimeFix per priority and per area: verified (fix-verified, never back after a fix) ÷ (verified + recurred: back after a fix at least once). ' +
          '`?format=csv`: one row per priority (columns in docs/contracts.md).',
        querystring: { type: 'object', additionalProperties: false, properties: { ...period, format: formatParam } },
        response: {
          200: jsonOrCsv(
            {
              type: 'object',
              additionalProperties: false,
              required: ['from', 'to', 'byPriority', 'byArea'],
              properties: {
                ...periodOut,
                byPriority: {
                  type: 'array',
                  items: {
                    type: 'object',
                    additionalProperties: false,
                    required: ['priority', 'opened', 'mtta', 'mttr', 'firstTimeFix'],
                    properties: { priority: { type: 'string', enum: ['P0', 'P1', 'P2', 'P3'] }, opened: { type: 'integer' }, mtta: stats, mttr: stats, firstTimeFix: fix },
                  },
                },
                byArea: {
                  type: 'array',
                  description: 'The first-time-fix rate per area of the tickets opened in the period (area null: tickets with no area).',
                  items: {
                    type: 'object',
                    additionalProperties: false,
                    required: ['area', 'firstTimeFix'],
                    properties: { area: { type: ['string', 'null'] }, firstTimeFix: fix },
                  },
                },
              },
            },
            'MTTA, MTTR and the first-time-fix rate per priority.',
          ),
        },
      },
    },
    async (req, reply) => {
      const { from, to } = parsePeriod(req.query, now());
      const report = store.reports.responseAndAreas(from, to);
      if (req.query.format === 'csv') return sendCsv(reply, fileName('response', from, to), toCsv(locale, RESPONSE_COLUMNS, report.byPriority));
      return { from: iso(from), to: iso(to), ...report };
    },
  );
  app.get<{ Querystring: { from?: string; to?: string; format?: 'json' | 'csv' } }>(
    '/reports/groups',
    {
      config: { access: 'read' },
      schema: {
        summary: 'The response board per assigned group: response times, overdue tickets, the states where tickets wait longest',
        description:
          'Per assigned group, over the tickets opened in [from, to): MTTA and MTTR (count, mean, median, p90 in seconds), and the time spent in each lifecycle state ' +
          '(up to now for the state a ticket is in), longest first (TOP waiting stages); `overdueNow` counts the group\'s live tickets past respondBy unacknowledged or past ' +
          'resolveBy unresolved now, `breached` the tickets that missed an SLA deadline in the period. Group null: tickets without one. `?format=csv`: one row per group.',
        querystring: { type: 'object', additionalProperties: false, properties: { ...period, format: formatParam } },
        response: {
          200: jsonOrCsv(
            {
              type: 'object',
              additionalProperties: false,
              required: ['from', 'to', 'groups'],
              properties: {
                ...periodOut,
                groups: {
                  type: 'array',
                  items: {
                    type: 'object',
                    additionalProperties: false,
                    required: ['group', 'opened', 'mtta', 'mttr', 'overdueNow', 'breached', 'states'],
                    properties: {
                      group: { type: ['string', 'null'] },
                      opened: { type: 'integer' },
                      mtta: stats,
                      mttr: stats,
                      overdueNow: { type: 'integer' },
                      breached: { type: 'integer' },
                      states: {
                        type: 'array',
                        description: 'Time in each lifecycle state, longest first.',
                        items: {
                          type: 'object',
                          additionalProperties: false,
                          required: ['state', 'tickets', 'totalSeconds', 'meanSeconds'],
                          properties: {
                            state: { type: 'string', enum: ['open', 'acknowledged', 'in_progress', 'waiting', 'resolved'] },
                            tickets: { type: 'integer', description: 'Tickets that were in this state.' },
                            totalSeconds: { type: 'number' },
                            meanSeconds: { type: 'number', description: 'totalSeconds ÷ tickets.' },
                          },
                        },
                      },
                    },
                  },
                },
              },
            },
            'The response board per group.',
          ),
        },
      },
    },
    async (req, reply) => {
      const at = now();
      const { from, to } = parsePeriod(req.query, at);
      const groups = store.groups.report(from, to, at);
      if (req.query.format === 'csv') return sendCsv(reply, fileName('groups', from, to), toCsv(locale, GROUP_COLUMNS, groups));
      return { from: iso(from), to: iso(to), groups };
    },
  );
};
