import type { FastifyPluginAsync } from 'fastify';
import { AndonError } from '../../model/errors.ts';
import type { TicketStore } from '../store/store.ts';
import type { AuditLog } from '../audit/audit.ts';

interface Opts {
  store: TicketStore;
  now: () => number;
  /** Tells the forwarder to look at the outbox now (after an un-park). */
  wake: () => void;
  /** The audit trail: retries (and refused ones) are recorded there. */
  audit?: AuditLog;
}

const item = {
  type: 'object',
  properties: {
    ticketId: { type: 'string' },
    versions: { type: 'integer' },
    fromVersion: { type: 'integer' },
    toVersion: { type: 'integer' },
    attempts: { type: 'integer' },
    nextAttemptAt: { type: ['string', 'null'] },
    createdAt: { type: 'string' },
    parkedAt: { type: ['string', 'null'] },
    lastError: { type: ['string', 'null'] },
  },
} as const;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** The outbox for admins: what waits for central, what central refused, and un-parking (role admin). */
export const outboxRoutes: FastifyPluginAsync<Opts> = async (app, { store, now, wake, audit }) => {
  app.get<{ Querystring: { parked?: boolean; limit?: number; offset?: number } }>(
    '/outbox',
    {
      config: { access: 'admin' },
      schema: {
        summary: 'What waits for central, and what central refused (parked)',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { parked: { type: 'boolean', default: false }, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 }, offset: { type: 'integer', minimum: 0, default: 0 } },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              pending: { type: 'object', properties: { versions: { type: 'integer' }, tickets: { type: 'integer' }, oldestSeconds: { type: 'number' } } },
              parked: { type: 'object', properties: { versions: { type: 'integer' }, tickets: { type: 'integer' } } },
              items: { type: 'array', items: item },
            },
          },
        },
      },
    },
    async (req) => {
      const s = store.outbox.summary();
      const items = store.outbox.list(req.query).map((t) => ({ ...t, nextAttemptAt: iso(t.nextAttemptAt), createdAt: iso(t.createdAt), parkedAt: iso(t.parkedAt) }));
      const oldestSeconds = s.pending.oldestAt === null ? 0 : Math.max(0, (now() - s.pending.oldestAt) / 1000);
      return { pending: { versions: s.pending.versions, tickets: s.pending.tickets, oldestSeconds }, parked: s.parked, items };
    },
  );

  app.post<{ Params: { ticketId: string } }>(
    '/outbox/:ticketId/retry',
    {
      config: { access: 'admin' },
      schema: {
        summary: "Un-park a ticket's outbox rows",
        params: { type: 'object', required: ['ticketId'], properties: { ticketId: { type: 'string', maxLength: 64 } } },
        response: { 200: { type: 'object', properties: { ticketId: { type: 'string' }, unparked: { type: 'integer' } } } },
      },
    },
    async (req) => {
      const ticketId = req.params.ticketId;
      const who = { actor: req.who?.name ?? null, origin: req.ip };
      const unparked = store.outbox.retry(ticketId, now());
      if (unparked === 0) {
        audit?.refused({ ...who, action: 'outbox.retry', target: ticketId, code: 'ANDON_FORWARD_NOT_PARKED' }, ticketId);
        throw new AndonError('ANDON_FORWARD_NOT_PARKED', `ticket ${ticketId} has no parked outbox rows`);
      }
      // Who un-parked what: the audit trail is the record (the outbox rows keep no history of their own).
      audit?.record({ ...who, action: 'outbox.retry', outcome: 'ok', target: ticketId, details: { unparked } });
      req.log.info({ component: 'outbox', ticket: ticketId, unparked, actor: who.actor }, 'parked outbox rows retried');
      wake();
      return { ticketId: req.params.ticketId, unparked };
    },
  );
};
