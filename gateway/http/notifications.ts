import type { FastifyPluginAsync } from 'fastify';
import { AndonError } from '../../model/errors.ts';
import type { QueuedNotification } from '../store/notifications.ts';
import type { TicketStore } from '../store/store.ts';
import type { AuditLog } from '../audit/audit.ts';

interface Opts {
  store: TicketStore;
  now: () => number;
  /** Configured channel ids (now: a reload may change them): a row of another channel cannot be retried. */
  channels: () => readonly string[];
  /** Tells the notifier to look at the queue now (after a retry). */
  wake: () => void;
  /** The audit trail: retries (and refused ones) are recorded there. */
  audit?: AuditLog;
}

const time = { type: ['string', 'null'] } as const;
const item = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    channel: { type: 'string' },
    kind: { type: 'string' },
    ticketId: { type: 'string' },
    version: { type: 'integer' },
    createdAt: { type: 'string' },
    retriedAt: time,
    attempts: { type: 'integer' },
    nextAttemptAt: time,
    parkedAt: time,
    code: { type: ['string', 'null'] },
    lastError: { type: ['string', 'null'] },
  },
} as const;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const view = (n: QueuedNotification) => ({
  id: n.id,
  channel: n.channel,
  kind: n.kind,
  ticketId: n.ticketId,
  version: n.version,
  createdAt: iso(n.createdAt),
  retriedAt: iso(n.retriedAt),
  attempts: n.attempts,
  nextAttemptAt: n.parkedAt === null ? iso(n.nextAttemptAt) : null,
  parkedAt: iso(n.parkedAt),
  code: n.code,
  lastError: n.lastError,
});

/** The notification queue for admins: what waits, what receivers refused (parked, with the reason), and retrying (role admin). */
export const notificationRoutes: FastifyPluginAsync<Opts> = async (app, { store, now, channels, wake, audit }) => {
  app.get<{ Querystring: { state: 'pending' | 'parked'; channel?: string; limit: number; offset: number } }>(
    '/notifications',
    {
      config: { access: 'admin' },
      schema: {
        summary: 'Queued and parked notifications',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            state: { type: 'string', enum: ['pending', 'parked'], default: 'pending' },
            channel: { type: 'string', maxLength: 200 },
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
            offset: { type: 'integer', minimum: 0, default: 0 },
          },
        },
        response: { 200: { type: 'object', properties: { items: { type: 'array', items: item }, total: { type: 'integer' } } } },
      },
    },
    async (req) => {
      const { state, channel, limit, offset } = req.query;
      const { items, total } = store.notifications.list({ parked: state === 'parked', limit, offset, ...(channel === undefined ? {} : { channel }) });
      return { items: items.map(view), total };
    },
  );

  app.post<{ Params: { id: number } }>(
    '/notifications/:id/retry',
    {
      config: { access: 'admin' },
      schema: {
        summary: 'Retry a parked notification',
        params: { type: 'object', required: ['id'], properties: { id: { type: 'integer', minimum: 1 } } },
        response: { 200: item },
      },
    },
    async (req) => {
      const { id } = req.params;
      const who = { actor: req.who?.name ?? null, origin: req.ip };
      const row = store.notifications.get(id);
      const refuse = (err: AndonError) => {
        audit?.refused({ ...who, action: 'notification.retry', target: String(id), code: err.code, details: { message: err.message } }, String(id));
        return err;
      };
      if (!row || row.parkedAt === null) throw refuse(new AndonError('ANDON_NOTIFY_NOT_PARKED', `no parked notification with id ${id}`));
      if (!channels().includes(row.channel)) throw refuse(new AndonError('ANDON_NOTIFY_UNKNOWN_CHANNEL', `notification ${id} is for channel ${row.channel}, which is not under notify: in the config`));
      if (!store.notifications.retry(id, now())) throw refuse(new AndonError('ANDON_NOTIFY_NOT_PARKED', `no parked notification with id ${id}`));
      // Who retried what: the audit trail is the record (the row keeps only retriedAt).
      audit?.record({ ...who, action: 'notification.retry', outcome: 'ok', target: String(id), details: { channel: row.channel, ticketId: row.ticketId, kind: row.kind } });
      req.log.info({ component: 'notify', notification: id, channel: row.channel, ticket: row.ticketId, actor: who.actor }, 'parked notification retried');
      wake();
      return view(store.notifications.get(id) as QueuedNotification);
    },
  );
};
