import type { FastifyPluginAsync } from 'fastify';
import { isAndonError } from '../../model/errors.ts';
import type { AuditLog } from '../audit/audit.ts';
import type { Runtime } from '../runtime.ts';
import type { TicketStore } from '../store/store.ts';
import type { TicketCommand } from '../../rules/types.ts';
import { ticketRef } from './schemas.ts';
import { actor, byOf } from './tickets.ts';

interface Opts {
  store: TicketStore;
  runtime: Runtime;
  now: () => number;
  audit?: AuditLog;
}

// Checked by the records module (gateway/records), so a missing materialNumber or quantity is ANDON_RECORD_FIELD_REQUIRED with its path.
const items = { type: 'array', maxItems: 100, items: { type: 'object', description: '{ materialNumber, quantity }' } } as const;

/** Records attached to tickets (contracts §Records): add one, add items to one. Role operator. */
export const recordRoutes: FastifyPluginAsync<Opts> = async (app, { store, runtime, now, audit }) => {
  const act = (cmd: TicketCommand & { type: 'record' }, origin: string, target: string) => {
    try {
      runtime.act(cmd);
    } catch (err) {
      // a refusal (unknown type, missing field, no such ticket), not a store failure: in the audit trail
      if (isAndonError(err) && err.status < 500) audit?.refused({ actor: cmd.actor ?? null, origin, action: 'ticket.record', target, code: err.code, details: { by: cmd.by, message: err.message } }, target);
      throw err;
    }
    return store.get(target);
  };

  app.post<{ Params: { id: string }; Body: { type: string; by?: string; fields?: Record<string, unknown> } }>(
    '/tickets/:id/records',
    {
      config: { access: 'operator' },
      schema: {
        summary: 'Attach a typed record to a ticket (parts-request, acceptance, configured types)',
        description:
          '`type` is one of config records.types; `fields` are the fields its type defines (parts-request: items [{ materialNumber, quantity }], expectedArrival, supplier; ' +
          'acceptance: acceptedBy, result passed|failed, note, evidence URL). An unknown type is 422 ANDON_RECORD_UNKNOWN_TYPE, a missing required field 422 ANDON_RECORD_FIELD_REQUIRED, ' +
          'a wrong value 422 ANDON_RECORD_INVALID_FIELD (`path` names the field); a closed or merged ticket 409. The record gets the id R1, R2, ... and a history event `record`.',
        params: { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 64 } } },
        body: {
          type: 'object',
          required: ['type'],
          additionalProperties: false,
          properties: {
            type: { type: 'string', minLength: 1, maxLength: 64 },
            by: { type: 'string', minLength: 1, maxLength: 200 },
            fields: { type: 'object', description: 'The fields of the record type.' },
          },
        },
        response: { 200: ticketRef },
      },
    },
    async (req) => {
      const { type, by, fields } = req.body;
      return act({ type: 'record', at: now(), id: req.params.id, by: by ?? byOf(req.who), ...actor(req.who), recordType: type, fields: fields ?? {} },
        req.ip,
        req.params.id,
      );
    },
  );

  app.post<{ Params: { id: string; record: string }; Body: { by?: string; items: unknown[] } }>(
    '/tickets/:id/records/:record/items',
    {
      config: { access: 'operator' },
      schema: {
        summary: 'Add items to a record (a parts request)',
        description: 'Appends `items` to the record\'s items field (at most 100 in all). 404 ANDON_RECORD_NOT_FOUND for a record the ticket does not have. History event `record-items`.',
        params: {
          type: 'object',
          required: ['id', 'record'],
          properties: { id: { type: 'string', maxLength: 64 }, record: { type: 'string', maxLength: 16 } },
        },
        body: { type: 'object', required: ['items'], additionalProperties: false, properties: { by: { type: 'string', minLength: 1, maxLength: 200 }, items } },
        response: { 200: ticketRef },
      },
    },
    async (req) => {
      return act(
        { type: 'record', at: now(), id: req.params.id, by: req.body.by ?? byOf(req.who), ...actor(req.who), record: req.params.record, items: req.body.items },
        req.ip,
        req.params.id,
      );
    },
  );
};
