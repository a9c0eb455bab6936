import type { FastifyPluginAsync } from 'fastify';
import type { AndonConfig } from '../../config/schema.ts';
import type { Locale } from '../i18n.ts';
import type { TicketStore } from '../store/store.ts';
import { earlyWarningSettings, PRECISION_WINDOW, warningReport, type WarningReportRow } from '../tickets/warnings.ts';
import { formatParam, jsonOrCsv, sendCsv, toCsv, type Column } from './csv.ts';
import { parsePeriod } from './reports.ts';

interface Opts {
  store: TicketStore;
  now: () => number;
  /** The config in use (correlation.earlyWarning.minPrecision). */
  current: () => AndonConfig;
  locale?: Locale;
}

/** The columns of GET /api/v1/reports/warnings?format=csv (docs/contracts.md): one row per cause → effect. */
export const WARNING_COLUMNS: Column<WarningReportRow>[] = [
  { header: 'csv.cause', value: (r) => r.cause },
  { header: 'csv.effect', value: (r) => r.effect },
  { header: 'csv.warnings', value: (r) => r.warnings },
  { header: 'csv.confirmed', value: (r) => r.confirmed },
  { header: 'csv.missed', value: (r) => r.missed },
  { header: 'csv.pending', value: (r) => r.pending },
  { header: 'csv.precision', value: (r) => r.precision },
  { header: 'csv.medianLead', value: (r) => r.medianLeadSeconds },
  { header: 'csv.recentPrecision', value: (r) => r.recentPrecision },
  { header: 'csv.stopped', value: (r) => r.stopped },
];

const iso = (ms: number) => new Date(ms).toISOString();
const num = { type: ['number', 'null'] } as const;

/** Whether early warnings are worth it (role read): per cause → effect, what became of the warnings of a period. */
export const warningReportRoutes: FastifyPluginAsync<Opts> = async (app, { store, now, current, locale = 'en' }) => {
  app.get<{ Querystring: { from?: string; to?: string; format?: 'json' | 'csv' } }>(
    '/reports/warnings',
    {
      config: { access: 'read' },
      schema: {
        summary: 'Early warnings per cause and effect: confirmed, missed, precision, median lead',
        description:
          'The early warnings raised in [from, to), per cause → effect: warnings, confirmed, missed, pending, precision (confirmed ÷ settled), ' +
          'the median actual lead of the confirmed ones, and whether the pair stopped warning (precision over its newest 10 settled warnings ' +
          'below correlation.earlyWarning.minPrecision; a stopped pair is listed even with no warning in the period). `?format=csv`: one row per pair.',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            from: { type: 'string', maxLength: 64, description: 'Start (ISO date-time, included). Default: 30 days before `to`.' },
            to: { type: 'string', maxLength: 64, description: 'End (ISO date-time, excluded). Default: now.' },
            format: formatParam,
          },
        },
        response: {
          200: jsonOrCsv(
            {
              type: 'object',
              additionalProperties: false,
              required: ['from', 'to', 'minPrecision', 'items'],
              properties: {
                from: { type: 'string', format: 'date-time' },
                to: { type: 'string', format: 'date-time' },
                minPrecision: { type: 'number', description: 'correlation.earlyWarning.minPrecision in use.' },
                items: {
                  type: 'array',
                  items: {
                    type: 'object',
                    additionalProperties: false,
                    required: ['cause', 'effect', 'warnings', 'confirmed', 'missed', 'pending', 'precision', 'medianLeadSeconds', 'recentPrecision', 'stopped'],
                    properties: {
                      cause: { type: 'string', description: '`<asset>/<fault>` of the probable cause, or `pattern:daily` / `pattern:weekly`.' },
                      effect: { type: 'string', description: 'The key of the warned ticket.' },
                      warnings: { type: 'integer' },
                      confirmed: { type: 'integer' },
                      missed: { type: 'integer' },
                      pending: { type: 'integer' },
                      precision: { ...num, description: 'confirmed ÷ (confirmed + missed); null while none is settled.' },
                      medianLeadSeconds: { ...num, description: 'Median seconds from warning to effect, over the confirmed ones.' },
                      recentPrecision: { ...num, description: `Precision over the pair's newest ${PRECISION_WINDOW} settled warnings, whatever the period; null while fewer than 5.` },
                      stopped: { type: 'boolean', description: 'The pair no longer warns: recentPrecision is below minPrecision.' },
                    },
                  },
                },
              },
            },
            'The warnings of the period per cause and effect.',
          ),
        },
      },
    },
    async (req, reply) => {
      const { from, to } = parsePeriod(req.query, now());
      const { minPrecision } = earlyWarningSettings(current());
      const items = warningReport(store.warnings.inPeriod(from, to), store.warnings.latest(PRECISION_WINDOW), minPrecision);
      if (req.query.format === 'csv') return sendCsv(reply, `warnings_${iso(from).slice(0, 10)}_${iso(to).slice(0, 10)}.csv`, toCsv(locale, WARNING_COLUMNS, items));
      return { from: iso(from), to: iso(to), minPrecision, items };
    },
  );
};
