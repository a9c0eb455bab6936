import type { FastifyPluginAsync } from 'fastify';
import { AndonError } from '../errors.ts';
import type { Runtime } from '../runtime.ts';
import type { TicketStore } from '../store/store.ts';
import { ACTIONS } from '../tickets/lifecycle.ts';
import { STATES } from '../tickets/ticket.ts';
import type { authorizer } from './auth.ts';

interface Opts {
  store: TicketStore;
  runtime: Runtime;
  auth: ReturnType<typeof authorizer>;
  now: () => number;
}

const ticket = { type: 'object', additionalProperties: true } as const;
const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 64 } } } as const;

/** Tickets: list, read, lifecycle transitions and comments (design §7). */
export const ticketRoutes: FastifyPluginAsync<Opts> = async (app, { store, runtime, auth, now }) => {
  app.get<{ Querystring: { state?: (typeof STATES)[number]; priority?: string; area?: string; asset?: string; limit?: number; offset?: number } }>(
    '/tickets',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            state: { type: 'string', enum: [...STATES] },
            priority: { type: 'string', enum: ['P0', 'P1', 'P2', 'P3'] },
            area: { type: 'string', maxLength: 200 },
            asset: { type: 'string', maxLength: 200 },
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 200 },
            offset: { type: 'integer', minimum: 0, default: 0 },
          },
        },
        response: { 200: { type: 'object', properties: { items: { type: 'array', items: ticket }, total: { type: 'integer' } } } },
      },
    },
    async (req) => {
      auth(req, 'read');
      return store.list(req.query);
    },
  );

  app.get<{ Params: { id: string } }>('/tickets/:id', { schema: { params: idParams, response: { 200: ticket } } }, async (req) => {
    auth(req, 'read');
    const t = store.get(req.params.id);
    if (!t) throw new AndonError('ANDON_TICKET_NOT_FOUND', `no ticket with id ${req.params.id}`);
    return t;
  });

  app.post<{ Params: { id: string }; Body: { action: string; by?: string } & Record<string, unknown> }>(
    '/tickets/:id/transitions',
    {
      schema: {
        params: idParams,
        body: {
          type: 'object',
          required: ['action'],
          properties: {
            action: { type: 'string', enum: [...ACTIONS] },
            by: { type: 'string', minLength: 1, maxLength: 200 },
            reason: { type: 'string', maxLength: 200 },
            partNumber: { type: 'string', maxLength: 200 },
            eta: { type: 'string', maxLength: 64 },
            resolution: { type: 'string', maxLength: 4000 },
            rootCause: { type: 'string', maxLength: 4000 },
            assignee: { type: ['string', 'null'], maxLength: 200 },
            group: { type: 'string', maxLength: 200 },
            note: { type: 'string', maxLength: 4000 },
            checklist: { type: 'object', additionalProperties: { type: 'boolean' } },
          },
          additionalProperties: false,
        },
        response: { 200: ticket },
      },
    },
    async (req) => {
      const who = auth(req, 'operator');
      const { action, by, ...fields } = req.body;
      runtime.act({ type: 'transition', at: now(), id: req.params.id, action, by: by ?? who?.name ?? 'operator', fields });
      return store.get(req.params.id);
    },
  );

  app.post<{ Params: { id: string }; Body: { by?: string; text: string } }>(
    '/tickets/:id/comments',
    {
      schema: {
        params: idParams,
        body: { type: 'object', required: ['text'], additionalProperties: false, properties: { by: { type: 'string', minLength: 1, maxLength: 200 }, text: { type: 'string', minLength: 1, maxLength: 4000 } } },
        response: { 200: ticket },
      },
    },
    async (req) => {
      const who = auth(req, 'operator');
      runtime.act({ type: 'comment', at: now(), id: req.params.id, by: req.body.by ?? who?.name ?? 'operator', text: req.body.text });
      return store.get(req.params.id);
    },
  );
};
