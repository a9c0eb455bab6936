import type { FastifyPluginAsync } from 'fastify';
import { AndonError } from '../../model/errors.ts';
import type { Locale } from '../i18n.ts';
import type { AuditRow } from '../store/audit.ts';
import type { TicketStore } from '../store/store.ts';
import { formatParam, jsonOrCsv, sendCsv, toCsv, type Column } from './csv.ts';

interface Opts {
  store: TicketStore;
  /** `gateway.locale`: the CSV header row's language. */
  locale?: Locale;
}

interface AuditItem {
  seq: number;
  at: string;
  actor: string | null;
  action: string;
  outcome: string;
  target: string | null;
  origin: string | null;
  code: string | null;
  details: Record<string, unknown> | null;
}

/** The columns of GET /api/v1/audit?format=csv (docs/contracts.md), in order; `details` as JSON. */
export const AUDIT_COLUMNS: Column<AuditItem>[] = [
  { header: 'csv.seq', value: (r) => r.seq },
  { header: 'csv.at', value: (r) => r.at },
  { header: 'csv.actor', value: (r) => r.actor },
  { header: 'csv.action', value: (r) => r.action },
  { header: 'csv.outcome', value: (r) => r.outcome },
  { header: 'csv.target', value: (r) => r.target },
  { header: 'csv.origin', value: (r) => r.origin },
  { header: 'csv.code', value: (r) => r.code },
  { header: 'csv.details', value: (r) => r.details },
];

const item = {
  type: 'object',
  additionalProperties: false,
  required: ['seq', 'at', 'actor', 'action', 'outcome', 'target', 'origin', 'code', 'details'],
  properties: {
    seq: { type: 'integer', description: 'Grows with every row, never reused.' },
    at: { type: 'string', format: 'date-time' },
    actor: { type: ['string', 'null'], description: 'Who: the name of the token (or the person) that authenticated it; null when nobody was (SIGHUP, an unknown token).' },
    action: { type: 'string', description: 'config.reload, ticket.shelve, ticket.unshelve, ticket.<action> (refused), outbox.retry, notification.retry, auth.sign-in, auth.refused.' },
    outcome: { type: 'string', description: 'ok, refused, or a reload\'s outcome (applied, unchanged, invalid, restart_required, failed, unavailable).' },
    target: { type: ['string', 'null'], description: 'What it was done to: a ticket id, a notification id, the config file, a route.' },
    origin: { type: ['string', 'null'], description: 'From where: the client\'s address; `signal` for SIGHUP.' },
    code: { type: ['string', 'null'], description: 'The ANDON_* code of a refusal.' },
    details: { type: ['object', 'null'], additionalProperties: true, description: 'What else the action records (a reload\'s oldSha/newSha, a shelving\'s reason and until; `repeated`: how many more of the same this row stands for).' },
  },
} as const;

const toItem = (r: AuditRow): AuditItem => ({ ...r, at: new Date(r.at).toISOString() });

const time = (name: 'from' | 'to', v: string | undefined): number | undefined => {
  if (v === undefined) return undefined;
  const ms = Date.parse(v);
  if (!Number.isFinite(ms)) throw new AndonError('ANDON_REQUEST_INVALID', `${name} must be an ISO date-time, got "${v}"`, { path: name });
  return ms;
};

/** `GET /api/v1/audit` (role admin): the audit trail, newest first, paged and filtered, as JSON or CSV. */
export const auditRoutes: FastifyPluginAsync<Opts> = async (app, { store, locale = 'en' }) => {
  app.get<{ Querystring: { actor?: string; action?: string; outcome?: string; from?: string; to?: string; limit: number; offset: number; format?: 'json' | 'csv' } }>(
    '/audit',
    {
      config: { access: 'admin' },
      schema: {
        summary: 'The audit trail: who did what, when and from where (newest first)',
        description:
          'Config reloads (old and new sha), shelving, admin retries, sign-ins (token use, a row per token and address an hour), refused requests (401/403) and refused transitions. ' +
          'Paged (`limit`, default 100, at most 1000; `offset`), newest first; give `to` to page a fixed set while rows are added. ' +
          'Filters: `actor`, `action` (one, or a prefix like `ticket.*`), `outcome`, `from`/`to` (ISO date-times, [from, to)). ' +
          '`?format=csv`: the same page as CSV (columns in docs/contracts.md, `X-Total-Count` says how many match).',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            actor: { type: 'string', maxLength: 200 },
            action: { type: 'string', maxLength: 100, pattern: '^[a-z][a-z.-]*(\\.\\*)?$', description: 'An action (`config.reload`) or a prefix (`ticket.*`).' },
            outcome: { type: 'string', maxLength: 50 },
            from: { type: 'string', maxLength: 64, description: 'From (ISO date-time, included).' },
            to: { type: 'string', maxLength: 64, description: 'To (ISO date-time, excluded).' },
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
            offset: { type: 'integer', minimum: 0, default: 0 },
            format: formatParam,
          },
        },
        response: {
          200: jsonOrCsv(
            { type: 'object', required: ['items', 'total'], properties: { items: { type: 'array', items: item }, total: { type: 'integer', description: 'How many rows match.' } } },
            'A page of the audit trail.',
          ),
        },
      },
    },
    async (req, reply) => {
      const { actor, action, outcome, limit, offset, format } = req.query;
      const from = time('from', req.query.from);
      const to = time('to', req.query.to);
      if (from !== undefined && to !== undefined && from >= to) throw new AndonError('ANDON_REQUEST_INVALID', 'from must be before to', { path: 'from' });
      const page = store.audit.list({
        limit,
        offset,
        ...(actor !== undefined ? { actor } : {}),
        ...(action !== undefined ? { action } : {}),
        ...(outcome !== undefined ? { outcome } : {}),
        ...(from !== undefined ? { from } : {}),
        ...(to !== undefined ? { to } : {}),
      });
      const items = page.items.map(toItem);
      if (format === 'csv') return sendCsv(reply.header('x-total-count', String(page.total)), 'andon-audit.csv', toCsv(locale, AUDIT_COLUMNS, items));
      return { items, total: page.total };
    },
  );
};
