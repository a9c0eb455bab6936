import type { AndonConfig } from '../../config/schema.ts';
import { AndonError } from '../../model/errors.ts';
import { iso, patchTicket, type HistoryEvent, type TicketDoc, type TicketRecord } from '../../model/ticket.ts';

/** The configured record types (config records.types). */
export type RecordTypes = AndonConfig['records']['types'];
type FieldSpec = RecordTypes[number]['fields'][number];

/** Records per ticket and items per record: a ticket's document stays bounded. */
export const MAX_RECORDS = 50;
export const MAX_ITEMS = 100;
export const PARTS_REQUEST = 'parts-request';
export const ACCEPTANCE = 'acceptance';

/** One line of a parts list. */
export interface RecordItem {
  materialNumber: string;
  quantity: number;
}

const required = (message: string, path: string) => new AndonError('ANDON_RECORD_FIELD_REQUIRED', message, { path });
const invalid = (message: string, path: string) => new AndonError('ANDON_RECORD_INVALID_FIELD', message, { path });

function text(v: unknown, path: string, max = 4000): string {
  if (typeof v !== 'string') throw invalid(`${path} must be text`, path);
  if (v.length > max) throw invalid(`${path} is longer than ${max} characters`, path);
  return v;
}

/** A list of `{ materialNumber, quantity }` (1 to MAX_ITEMS lines; quantity a positive number). */
export function parseItems(v: unknown, path: string): RecordItem[] {
  if (!Array.isArray(v) || v.length === 0) throw invalid(`${path} must be a list of { materialNumber, quantity }`, path);
  if (v.length > MAX_ITEMS) throw invalid(`${path}: at most ${MAX_ITEMS} items`, path);
  return v.map((item, i) => {
    const at = `${path}[${i}]`;
    if (item === null || typeof item !== 'object' || Array.isArray(item)) throw invalid(`${at} must be { materialNumber, quantity }`, at);
    const { materialNumber, quantity, ...rest } = item as Record<string, unknown>;
    const extra = Object.keys(rest)[0];
    if (extra !== undefined) throw invalid(`${at} has no field ${extra} (materialNumber, quantity)`, `${at}.${extra}`);
    if (materialNumber === undefined || materialNumber === null || materialNumber === '') throw required(`${at} needs materialNumber`, `${at}.materialNumber`);
    if (quantity === undefined || quantity === null) throw required(`${at} needs quantity`, `${at}.quantity`);
    if (typeof quantity !== 'number' || !Number.isFinite(quantity) || quantity <= 0 || quantity > 1e9) throw invalid(`${at}.quantity must be a positive number`, `${at}.quantity`);
    return { materialNumber: text(materialNumber, `${at}.materialNumber`, 200), quantity };
  });
}

function value(spec: FieldSpec, v: unknown, path: string): unknown {
  switch (spec.type) {
    case 'text':
      return text(v, path);
    case 'date': {
      const ms = typeof v === 'string' ? Date.parse(v) : NaN;
      if (Number.isNaN(ms) || Math.abs(ms) > 8.64e15) throw invalid(`${path} must be an ISO date-time, got ${JSON.stringify(v)}`, path);
      return iso(ms);
    }
    case 'url': {
      const s = text(v, path, 2000);
      let u: URL | undefined;
      try {
        u = new URL(s);
      } catch {
        u = undefined;
      }
      if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:')) throw invalid(`${path} must be an http:// or https:// URL`, path);
      return s;
    }
    case 'number':
      if (typeof v !== 'number' || !Number.isFinite(v)) throw invalid(`${path} must be a number`, path);
      return v;
    case 'items':
      return parseItems(v, path);
    case 'result':
      if (v !== 'passed' && v !== 'failed') throw invalid(`${path} must be passed or failed`, path);
      return v;
  }
}

/** The fields of a record of `type`, checked against its spec; every field of the type present (null when not given). */
export function parseFields(types: RecordTypes, type: unknown, fields: unknown): { type: string; fields: Record<string, unknown> } {
  const spec = typeof type === 'string' ? types.find((t) => t.id === type) : undefined;
  if (!spec) throw new AndonError('ANDON_RECORD_UNKNOWN_TYPE', `record type ${JSON.stringify(type)} is not one of ${types.map((t) => t.id).join(', ')} (config records.types)`, { path: 'type' });
  const given = fields ?? {};
  if (given === null || typeof given !== 'object' || Array.isArray(given)) throw invalid('fields must be an object', 'fields');
  const g = given as Record<string, unknown>;
  for (const k of Object.keys(g)) {
    if (!spec.fields.some((f) => f.name === k)) throw invalid(`a ${spec.id} record has no field ${k} (${spec.fields.map((f) => f.name).join(', ')})`, `fields.${k}`);
  }
  const out: Record<string, unknown> = {};
  for (const f of spec.fields) {
    const v = g[f.name];
    if (v === undefined || v === null || v === '') {
      if (f.required) throw required(`a ${spec.id} record needs ${f.name}`, `fields.${f.name}`);
      out[f.name] = null;
    } else out[f.name] = value(f, v, `fields.${f.name}`);
  }
  return { type: spec.id, fields: out };
}

function attachable(t: TicketDoc): void {
  if (t.state === 'closed' || t.state === 'merged') throw new AndonError('ANDON_TICKET_ILLEGAL_TRANSITION', `cannot add a record to a ticket that is ${t.state}`, { path: 'id' });
  if (t.records.length >= MAX_RECORDS) throw new AndonError('ANDON_RECORD_LIMIT', `a ticket holds at most ${MAX_RECORDS} records`, { path: 'type' });
}

const nextId = (t: TicketDoc) => `R${t.records.length + 1}`;

/** A new record on the ticket: the next ticket and its history event (`record`). Throws ANDON_RECORD_* and changes nothing when refused. */
export function addRecord(t: TicketDoc, types: RecordTypes, type: unknown, fields: unknown, by: string, at: number): { ticket: TicketDoc; event: HistoryEvent } {
  attachable(t);
  const parsed = parseFields(types, type, fields);
  const record: TicketRecord = { id: nextId(t), type: parsed.type, at: iso(at), by, updatedAt: iso(at), fields: parsed.fields };
  return { ticket: patchTicket(t, { records: [...t.records, record] }), event: { at: iso(at), action: 'record', by, record: record.id, type: record.type, fields: record.fields } };
}

/** More items on a record whose type has an `items` field (a parts request): event `record-items`. */
export function addItems(t: TicketDoc, types: RecordTypes, recordId: string, items: unknown, by: string, at: number): { ticket: TicketDoc; event: HistoryEvent } {
  attachable(t);
  const i = t.records.findIndex((r) => r.id === recordId);
  const rec = t.records[i];
  if (!rec) throw new AndonError('ANDON_RECORD_NOT_FOUND', `ticket ${t.id} has no record ${recordId}`, { path: 'record' });
  const field = types.find((x) => x.id === rec.type)?.fields.find((f) => f.type === 'items')?.name;
  if (field === undefined) throw invalid(`a ${rec.type} record has no items`, 'items');
  const had = Array.isArray(rec.fields[field]) ? (rec.fields[field] as RecordItem[]) : [];
  const added = parseItems(items, 'items');
  if (had.length + added.length > MAX_ITEMS) throw invalid(`a record holds at most ${MAX_ITEMS} items (it has ${had.length})`, 'items');
  const next: TicketRecord = { ...rec, updatedAt: iso(at), fields: { ...rec.fields, [field]: [...had, ...added] } };
  const records = t.records.map((r, j) => (j === i ? next : r));
  return { ticket: patchTicket(t, { records }), event: { at: iso(at), action: 'record-items', by, record: rec.id, items: added } };
}

/**
 * The parts-request record a `wait` for parts makes from its fields: partNumber (quantity, default 1), eta as the
 * expected arrival, supplier when given. Refused like a record of its own when the fields do not fit.
 */
export function partsRequestOfWait(t: TicketDoc, types: RecordTypes, fields: Record<string, unknown>, by: string, at: number): TicketRecord {
  if (t.records.length >= MAX_RECORDS) throw new AndonError('ANDON_RECORD_LIMIT', `a ticket holds at most ${MAX_RECORDS} records`, { path: 'partNumber' });
  const parsed = parseFields(types, PARTS_REQUEST, {
    items: [{ materialNumber: fields.partNumber, quantity: fields.quantity ?? 1 }],
    expectedArrival: fields.eta,
    ...(fields.supplier !== undefined ? { supplier: fields.supplier } : {}),
  });
  return { id: nextId(t), type: PARTS_REQUEST, at: iso(at), by, updatedAt: iso(at), fields: parsed.fields };
}

/** Whether the ticket has an acceptance record that passed (what `lifecycle.requireAcceptance` asks of close). */
export const hasPassedAcceptance = (t: TicketDoc): boolean => t.records.some((r) => r.type === ACCEPTANCE && r.fields.result === 'passed');
