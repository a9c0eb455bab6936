import type { FastifyPluginAsync } from 'fastify';
import { AndonError } from '../../model/errors.ts';
import { readTime } from '../signal-time.ts';
import type { CentralChange } from '../forward/sink.ts';
import type { SyncApplier } from '../forward/sync.ts';

interface Opts {
  applier: SyncApplier;
  now: () => number;
}

type ChangeBody = Omit<CentralChange, 'at' | 'fields'> & { at?: number | string; fields?: Record<string, unknown> };

const changeSchema = {
  type: 'object',
  required: ['ticketId', 'action', 'by'],
  additionalProperties: false,
  properties: {
    ticketId: { type: 'string', minLength: 1, maxLength: 64 },
    action: { type: 'string', minLength: 1, maxLength: 64 },
    by: { type: 'string', minLength: 1, maxLength: 200 },
    at: { type: ['integer', 'string'], maxLength: 64 },
    fields: { type: 'object' },
  },
} as const;

const resultSchema = {
  type: 'object',
  properties: {
    ticketId: { type: 'string' },
    action: { type: 'string' },
    outcome: { type: 'string' },
    code: { type: 'string' },
    message: { type: 'string' },
    ignoredFields: { type: 'array', items: { type: 'string' } },
  },
} as const;

/**
 * `POST /api/v1/sync`: central pushes changes made there (`CentralChange[]`, role admin).
 * Each enters the lifecycle; the answer says per change applied, duplicate or refused
 * (refused ones are kept in sync_log). 200 even when some are refused: they are recorded.
 */
export const syncRoutes: FastifyPluginAsync<Opts> = async (app, { applier, now }) => {
  app.post<{ Body: ChangeBody[] }>(
    '/sync',
    {
      config: { access: 'admin' },
      schema: {
        summary: 'Changes made at central',
        body: { type: 'array', maxItems: 1000, items: changeSchema },
        response: {
          200: {
            type: 'object',
            properties: { applied: { type: 'integer' }, duplicate: { type: 'integer' }, refused: { type: 'integer' }, results: { type: 'array', items: resultSchema } },
          },
        },
      },
    },
    async (req) => {
      const changes: CentralChange[] = req.body.map((c) => {
        // A bad `at` is refused by the applier for that change alone (ANDON_FORWARD_SYNC_INVALID_TIME), not for the batch.
        const at = readTime(c.at) ?? now();
        return { ticketId: c.ticketId, action: c.action, by: c.by, at, fields: c.fields ?? {} };
      });
      let results;
      try {
        results = applier.apply(changes, 'push');
      } catch (err) {
        throw new AndonError('ANDON_STORE_UNAVAILABLE', `changes not applied: ${(err as Error).message}`, { cause: err });
      }
      const count = (o: string) => results.filter((r) => r.outcome === o).length;
      return { applied: count('applied'), duplicate: count('duplicate'), refused: count('refused'), results };
    },
  );
};
