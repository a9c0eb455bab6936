import type { FastifyPluginAsync } from 'fastify';
import { AndonError, isAndonError } from '../../model/errors.ts';
import type { AuditLog } from '../audit/audit.ts';
import type { Locale } from '../i18n.ts';
import type { Runtime } from '../runtime.ts';
import type { TicketStore } from '../store/store.ts';
import { ACTIONS } from '../tickets/lifecycle.ts';
import { STATES, type Ticket } from '../../model/ticket.ts';
import type { Who } from './auth.ts';
import { formatParam, jsonOrCsv, sendCsv, toCsv, type Column } from './csv.ts';
import { historyEventRef, ticketItemRef, ticketRef } from './schemas.ts';

interface Opts {
  store: TicketStore;
  runtime: Runtime;
  now: () => number;
  /** `gateway.locale`: the CSV header row's language. */
  locale?: Locale;
  /** The audit trail: shelving and refused transitions are recorded there. */
  audit?: AuditLog;
}

/** The columns of GET /api/v1/tickets?format=csv (docs/contracts.md), in order. */
export const TICKET_COLUMNS: Column<Omit<Ticket, 'history'>>[] = [
  { header: 'csv.id', value: (t) => t.id },
  { header: 'csv.key', value: (t) => t.key },
  { header: 'csv.priority', value: (t) => t.priority },
  { header: 'csv.state', value: (t) => t.state },
  { header: 'csv.condition', value: (t) => t.condition },
  { header: 'csv.title', value: (t) => t.title },
  { header: 'csv.asset', value: (t) => t.asset },
  { header: 'csv.area', value: (t) => t.area },
  { header: 'csv.line', value: (t) => t.line },
  { header: 'csv.fault', value: (t) => t.fault },
  { header: 'csv.category', value: (t) => t.category },
  { header: 'csv.assignedGroup', value: (t) => t.assignedGroup },
  { header: 'csv.assignee', value: (t) => t.assignee },
  { header: 'csv.openedAt', value: (t) => t.openedAt },
  { header: 'csv.acknowledgedAt', value: (t) => t.acknowledgedAt },
  { header: 'csv.resolvedAt', value: (t) => t.resolvedAt },
  { header: 'csv.closedAt', value: (t) => t.closedAt },
  { header: 'csv.respondBy', value: (t) => t.respondBy },
  { header: 'csv.resolveBy', value: (t) => t.resolveBy },
  { header: 'csv.occurrences', value: (t) => t.occurrences },
  { header: 'csv.escalationLevel', value: (t) => t.escalationLevel },
  { header: 'csv.flags', value: (t) => t.flags },
  { header: 'csv.resolution', value: (t) => t.resolution },
  { header: 'csv.rootCause', value: (t) => t.rootCause },
];

const ticket = ticketRef;
/** The authenticated token's name or person (subject and display name), recorded next to the free-text `by` (contracts §Ticket JSON history). */
/** The history event's actor (and a person's display name) for the caller; exported for the records routes. */
export const actor = (who: Who | null) => (who ? { actor: who.name, ...(who.displayName === undefined ? {} : { actorName: who.displayName }) } : {});
/** `by` when the body has none: the person's display name, or the token's name. */
export const byOf = (who: Who | null) => who?.displayName ?? who?.name ?? 'operator';
/** Transitions recorded in the audit trail when they succeed (shelving policy); every refused one is. */
const SHELVING = new Set(['shelve', 'unshelve']);
const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 64 } } } as const;

/** Tickets: list, read, lifecycle transitions and comments (contracts §HTTP API). */
export const ticketRoutes: FastifyPluginAsync<Opts> = async (app, { store, runtime, now, locale = 'en', audit }) => {
  app.get<{
    Querystring: {
      state?: (typeof STATES)[number];
      priority?: string;
      area?: string;
      asset?: string;
      limit?: number;
      offset?: number;
      include?: 'history';
      format?: 'json' | 'csv';
    };
  }>(
    '/tickets',
    {
      config: { access: 'read' },
      schema: {
        summary: 'List tickets (oldest first), filtered by state, priority, area, asset',
        description:
          'Paged (`limit`, default 100, at most 1000; `offset`). The tickets come without their history, which can be long: ' +
          '`?include=history` adds it; GET /api/v1/tickets/{id} and /api/v1/tickets/{id}/history give it for one ticket. ' +
          '`?format=csv`: the same page as CSV (one row per ticket, columns in docs/contracts.md, `X-Total-Count` says how many match); not with include=history.',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            state: { type: 'string', enum: [...STATES] },
            priority: { type: 'string', enum: ['P0', 'P1', 'P2', 'P3'] },
            area: { type: 'string', maxLength: 200 },
            asset: { type: 'string', maxLength: 200 },
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
            offset: { type: 'integer', minimum: 0, default: 0 },
            include: { type: 'string', enum: ['history'], description: 'history: each ticket with its whole history.' },
            format: formatParam,
          },
        },
        response: {
          200: jsonOrCsv(
            {
              type: 'object',
              required: ['items', 'total'],
              properties: {
                items: { type: 'array', items: ticketItemRef },
                total: { type: 'integer', description: 'How many tickets match (items holds at most limit of them).' },
              },
            },
            'A page of tickets.',
          ),
        },
      },
    },
    async (req, reply) => {
      const { include, format, ...filter } = req.query;
      if (format === 'csv') {
        if (include !== undefined)
          throw new AndonError('ANDON_REQUEST_INVALID', 'format=csv has one row per ticket and no history: leave out include=history', { path: 'include' });
        const page = store.list({ ...filter, history: false });
        return sendCsv(reply.header('x-total-count', String(page.total)), 'andon-tickets.csv', toCsv(locale, TICKET_COLUMNS, page.items));
      }
      return store.list({ ...filter, history: include === 'history' });
    },
  );

  app.get<{ Params: { id: string }; Querystring: { after?: number; before?: number; limit?: number } }>(
    '/tickets/:id/history',
    {
      config: { access: 'read' },
      schema: {
        summary: "A page of a ticket's history",
        description:
          'Each event has its `index` (0-based; the event of version v is at v - 1). `?after=<index>`: the events after it, oldest first ' +
          '(without after or before: from the first). `?before=<index>`: the events before it, newest first (`?before=<version>` gives the newest). ' +
          '`next` is what to pass for the following page (null at the end); `total` is the number of events (= the version).',
        params: idParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            after: { type: 'integer', minimum: -1, description: 'Events with a greater index, oldest first.' },
            before: { type: 'integer', minimum: 0, description: 'Events with a smaller index, newest first.' },
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
          },
        },
        response: {
          200: {
            type: 'object',
            additionalProperties: false,
            required: ['items', 'total', 'next'],
            properties: {
              items: { type: 'array', items: historyEventRef },
              total: { type: 'integer', description: 'Events in the whole history.' },
              next: { type: ['integer', 'null'], description: 'The after (or before) of the next page; null when this page is the last.' },
            },
          },
        },
      },
    },
    async (req) => {
      const { after, before, limit = 100 } = req.query;
      if (after !== undefined && before !== undefined) throw new AndonError('ANDON_REQUEST_INVALID', 'give after or before, not both', { path: 'before' });
      const t = store.doc(req.params.id);
      if (!t) throw new AndonError('ANDON_TICKET_NOT_FOUND', `no ticket with id ${req.params.id}`);
      const items = store.historyPage(t.id, before !== undefined ? { before, limit } : { after: after ?? -1, limit });
      const lastIndex = items[items.length - 1]?.index;
      const next = lastIndex === undefined ? null : before !== undefined ? (lastIndex > 0 ? lastIndex : null) : lastIndex < t.version - 1 ? lastIndex : null;
      return { items, total: t.version, next };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/tickets/:id',
    { config: { access: 'read' }, schema: { summary: 'One ticket with its history', params: idParams, response: { 200: ticket } } },
    async (req) => {
      const t = store.get(req.params.id);
      if (!t) throw new AndonError('ANDON_TICKET_NOT_FOUND', `no ticket with id ${req.params.id}`);
      return t;
    },
  );

  app.post<{ Params: { id: string }; Body: { action: string; by?: string } & Record<string, unknown> }>(
    '/tickets/:id/transitions',
    {
      config: { access: 'operator' },
      schema: {
        summary: 'A lifecycle action (ack, start, wait, resume, resolve, close, reopen, assign, shelve, unshelve)',
        description:
          'Illegal moves are 409 ANDON_TICKET_ILLEGAL_TRANSITION; missing or invalid fields 422 (`path` names the field). ' +
          'shelve takes reason and duration or until (at most shelving.maxDuration ahead); the state does not change.',
        params: idParams,
        body: {
          type: 'object',
          required: ['action'],
          properties: {
            action: { type: 'string', enum: [...ACTIONS] },
            by: { type: 'string', minLength: 1, maxLength: 200 },
            reason: { type: 'string', maxLength: 1000, description: 'wait: parts | external-support | coordination; shelve: why (required); reopen: why.' },
            partNumber: { type: 'string', maxLength: 200 },
            eta: { type: 'string', maxLength: 64 },
            resolution: { type: 'string', maxLength: 4000 },
            rootCause: { type: 'string', maxLength: 4000 },
            knowledge: {
              type: 'object',
              additionalProperties: false,
              description: 'resolve: the structured knowledge entry (optional): symptom, diagnosis, solution, labels (from knowledge.labels).',
              properties: {
                symptom: { type: 'string', maxLength: 4000 },
                diagnosis: { type: 'string', maxLength: 4000 },
                solution: { type: 'string', maxLength: 4000 },
                labels: { type: 'array', maxItems: 20, items: { type: 'string', minLength: 1, maxLength: 64 } },
              },
            },
            quantity: { type: 'number', exclusiveMinimum: 0, description: 'wait for parts: how many of partNumber (default 1) in the parts request.' },
            supplier: { type: 'string', maxLength: 200, description: 'wait for parts: the supplier, in the parts request.' },
            assignee: { type: ['string', 'null'], maxLength: 200 },
            group: { type: 'string', maxLength: 200 },
            note: { type: 'string', maxLength: 4000 },
            checklist: {
              type: 'object',
              additionalProperties: { type: 'boolean' },
              description:
                'close: every item of lifecycle.closeChecklist true (default customerInformed, partsRecorded, knowledgeBaseChecked; GET /api/v1/board/config lists them with labels).',
            },
            duration: { type: 'string', maxLength: 32, description: 'shelve: for how long, like 30m or 2h (at most shelving.maxDuration).' },
            until: { type: 'string', maxLength: 64, description: 'shelve: until when (ISO date-time), instead of duration.' },
          },
          additionalProperties: false,
        },
        response: { 200: ticket },
      },
    },
    async (req) => {
      const { action, by, ...fields } = req.body;
      const id = req.params.id;
      const who = { actor: req.who?.name ?? null, origin: req.ip };
      try {
        runtime.act({ type: 'transition', at: now(), id, action, by: by ?? byOf(req.who), ...actor(req.who), fields });
      } catch (err) {
        // a refusal (the lifecycle's, a missing field, no such ticket), not a store failure
        if (isAndonError(err) && err.status < 500) audit?.refused({ ...who, action: `ticket.${action}`, target: id, code: err.code, details: { by: by ?? null, message: err.message } }, id);
        throw err;
      }
      const t = store.get(id);
      if (t && SHELVING.has(action)) {
        audit?.record({ ...who, action: `ticket.${action}`, outcome: 'ok', target: id, details: { key: t.key, by: by ?? null, ...(action === 'shelve' ? { reason: t.shelvedReason, until: t.shelvedUntil } : {}) } });
      }
      return t;
    },
  );

  app.post<{ Params: { id: string }; Body: { by?: string; text: string } }>(
    '/tickets/:id/comments',
    {
      config: { access: 'operator' },
      schema: {
        summary: 'Add a comment to the ticket history',
        params: idParams,
        body: {
          type: 'object',
          required: ['text'],
          additionalProperties: false,
          properties: { by: { type: 'string', minLength: 1, maxLength: 200 }, text: { type: 'string', minLength: 1, maxLength: 4000 } },
        },
        response: { 200: ticket },
      },
    },
    async (req) => {
      runtime.act({ type: 'comment', at: now(), id: req.params.id, by: req.body.by ?? byOf(req.who), ...actor(req.who), text: req.body.text });
      return store.get(req.params.id);
    },
  );
};
