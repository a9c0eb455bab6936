import type { Logger } from 'pino';
import { ForwardError, type CentralChange } from '../sink.ts';
import type { RtClient } from './client.ts';
import { refId, sqlString, type CustomFieldNames } from './mapping.ts';

interface RtTransaction {
  id: string;
  Type: string;
  Field: string;
  NewValue: string;
  Creator: unknown;
  Created: string;
  ObjectId: string;
}
interface RtTicketOwner {
  id: string | number;
  EffectiveId: unknown;
  Status: string;
  Owner: unknown;
  CustomFields: { name: string; values: string[] }[];
}
interface Page<T> {
  items: T[];
}

const PAGE = 100;
const MAX_TEXT = 4000;
const IDS_PER_QUERY = 50;

/** The RT user id in a version-1 auth token (`1-<user id>-<32 hex>`, RT::AuthToken::ParseAuthString). */
export const tokenUserId = (token: string): number | null => {
  const m = /^1-(\d+)-[0-9a-f]{32}$/i.exec(token.trim());
  return m ? Number(m[1]) : null;
};

interface ChangesOptions {
  client: RtClient;
  queue: string;
  cf: CustomFieldNames;
  token: string;
  log?: Logger | undefined;
}

/**
 * Sink.changes for RT. The cursor is the id of the last RT transaction looked at:
 * status and owner changes (`Type` Status / Set, `Field` Status / Owner) made by
 * anyone but the gateway's own RT user, on tickets of the queue that carry an
 * Andon id. RT resolved → `resolve` (resolution = the last correspondence);
 * RT owner → `assign`. Other status changes are not reported (see README.md).
 * At most 100 transactions per call; the next call goes on from the cursor.
 */
export function createChanges(opts: ChangesOptions) {
  const { client, cf } = opts;
  const me = tokenUserId(opts.token);
  const search = <T>(collection: string, filter: unknown[], query: Record<string, string>, signal: AbortSignal) =>
    client.send<Page<T>>('POST', collection, filter, signal, query);

  async function latestId(signal: AbortSignal): Promise<number> {
    const page = await search<{ id: string }>('transactions', [{ field: 'id', operator: '>', value: 0 }], { orderby: 'id', order: 'DESC', per_page: '1', fields: 'id' }, signal);
    return Number(page.items[0]?.id ?? 0);
  }

  /**
   * The tickets with their Andon id. `EffectiveId = n` also brings the tickets merged into n: a
   * ticket a person merged ours into stands for the Andon ticket before the next put marks it so.
   */
  async function tickets(ids: string[], signal: AbortSignal): Promise<Map<string, { status: string; owner: string; andonId: string }>> {
    const found = new Map<string, { status: string; owner: string; andonId: string }>();
    for (let i = 0; i < ids.length; i += IDS_PER_QUERY) {
      const chunk = ids.slice(i, i + IDS_PER_QUERY);
      const query = `Queue = ${sqlString(opts.queue)} AND (${chunk.map((id) => `EffectiveId = ${Number(id)}`).join(' OR ')})`;
      const page = await client.get<Page<RtTicketOwner>>('tickets', { query, fields: 'EffectiveId,Status,Owner,CustomFields', orderby: 'id', order: 'ASC', per_page: String(PAGE) }, signal);
      const andonIdOf = (t: RtTicketOwner) => t.CustomFields.find((c) => c.name === cf.id)?.values[0];
      for (const t of page.items) {
        const self = String(t.id);
        if (refId(t.EffectiveId) !== self) continue;
        // Its own Andon id first, else the one of a ticket merged into it.
        const andonId = andonIdOf(t) ?? page.items.map((m) => (refId(m.EffectiveId) === self ? andonIdOf(m) : undefined)).find((a) => a !== undefined);
        if (andonId !== undefined) found.set(self, { status: t.Status, owner: refId(t.Owner) ?? 'Nobody', andonId });
      }
    }
    return found;
  }

  /** The text of the last correspondence on the ticket up to that transaction, if any. */
  async function lastReply(rtId: string, upTo: string, signal: AbortSignal): Promise<string | null> {
    const txns = await search<{ id: string }>(
      'transactions',
      [
        { field: 'ObjectType', value: 'RT::Ticket' },
        { field: 'ObjectId', value: Number(rtId) },
        { field: 'Type', value: 'Correspond' },
        { field: 'id', operator: '<=', value: Number(upTo) },
      ],
      { orderby: 'id', order: 'DESC', per_page: '1', fields: 'id' },
      signal,
    );
    const txn = txns.items[0];
    if (txn === undefined) return null;
    const parts = await search<{ ContentType?: string; Content?: string }>(
      'attachments',
      [{ field: 'TransactionId', value: Number(txn.id) }],
      { orderby: 'id', order: 'ASC', per_page: '20', fields: 'ContentType,Content' },
      signal,
    );
    const text = parts.items.find((p) => p.ContentType === 'text/plain' && (p.Content ?? '').trim() !== '')?.Content?.trim();
    return text === undefined ? null : text.slice(0, MAX_TEXT);
  }

  return async function changes(cursor: string | null, signal: AbortSignal): Promise<{ changes: CentralChange[]; cursor: string }> {
    try {
      return await read(cursor, signal);
    } catch (err) {
      if (err instanceof ForwardError) throw err;
      throw new ForwardError('poison', `RT changes after ${cursor ?? 'now'} failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  };

  async function read(cursor: string | null, signal: AbortSignal): Promise<{ changes: CentralChange[]; cursor: string }> {
    if (me === null) throw new ForwardError('poison', 'the RT token is not a version-1 token (1-<user id>-<hex>): cannot tell the gateway\'s own changes from people\'s');
    let after = cursor === null ? NaN : Number(cursor);
    if (!Number.isSafeInteger(after) || after < 0) {
      if (cursor !== null) opts.log?.warn({ cursor }, 'RT changes cursor is not a transaction id; starting from now');
      return { changes: [], cursor: String(await latestId(signal)) };
    }
    const txns = (
      await search<RtTransaction>(
        'transactions',
        [
          { field: 'id', operator: '>', value: after },
          { field: 'ObjectType', value: 'RT::Ticket' },
          { field: 'Creator', operator: '!=', value: me },
          { field: 'Type', operator: 'IN', value: ['Status', 'Set'] },
          { field: 'Field', operator: 'IN', value: ['Status', 'Owner'] },
        ],
        { orderby: 'id', order: 'ASC', per_page: String(PAGE), fields: 'Type,Field,NewValue,Creator,Created,ObjectId' },
        signal,
      )
    ).items;
    if (txns.length === 0) return { changes: [], cursor: String(after) };
    after = Number(txns[txns.length - 1]?.id);

    const byTicket = await tickets([...new Set(txns.map((t) => t.ObjectId))], signal);
    // Only the last owner change per ticket counts, reported with the owner RT has now.
    const lastOwnerTxn = new Map<string, string>();
    for (const t of txns) if (t.Field === 'Owner') lastOwnerTxn.set(t.ObjectId, t.id);

    const out: CentralChange[] = [];
    for (const t of txns) {
      const rt = byTicket.get(t.ObjectId);
      if (rt === undefined) continue;
      const ticketId = rt.andonId;
      const base = { ticketId, by: refId(t.Creator) ?? 'unknown', at: Date.parse(t.Created.endsWith('Z') ? t.Created : `${t.Created}Z`) };
      if (t.Field === 'Status' && t.NewValue === 'resolved' && rt.status === 'resolved') {
        const resolution = (await lastReply(t.ObjectId, t.id, signal)) ?? 'resolved in RT';
        out.push({ ...base, action: 'resolve', fields: { resolution, rootCause: `see RT #${t.ObjectId}` } });
      } else if (t.Field === 'Owner' && lastOwnerTxn.get(t.ObjectId) === t.id) {
        const owner = rt.owner;
        out.push({ ...base, action: 'assign', fields: { assignee: owner === 'Nobody' ? null : owner } });
      }
    }
    opts.log?.debug({ transactions: txns.length, changes: out.length, cursor: after }, 'RT changes');
    return { changes: out, cursor: String(after) };
  }
}
