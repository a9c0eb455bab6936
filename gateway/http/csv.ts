import type { FastifyReply } from 'fastify';
import { translate, type Locale, type MessageKey } from '../i18n.ts';

/**
 * CSV answers (`?format=csv` on GET /api/v1/tickets and the reports): RFC 4180
 * (comma-separated, CRLF line ends, a field with a comma, a double quote, CR or
 * LF in double quotes with its quotes doubled), UTF-8 with a byte order mark so
 * that Excel opens Chinese text as such, and a header row in `gateway.locale`.
 *
 * Plant text goes into spreadsheets: a text field that starts with = + - @, a
 * tab or a CR would be taken for a formula by Excel and LibreOffice (CSV
 * injection), so it gets a leading `'` (OWASP's advice). Numbers are written
 * as they are; times are ISO 8601 in UTC, as in the JSON.
 */
export const BOM = '\uFEFF';
export const CSV_TYPE = 'text/csv; charset=utf-8';

/** The `format` query parameter of the routes that can answer CSV. */
export const formatParam = {
  type: 'string',
  enum: ['json', 'csv'],
  default: 'json',
  description: 'json (default) or csv: `text/csv; charset=utf-8`, UTF-8 with a BOM, RFC 4180, the header row in gateway.locale (columns in docs/contracts.md).',
} as const;

/** A column: its key in the row object and the text key of its header. */
export interface Column<T> {
  header: MessageKey;
  value: (row: T) => unknown;
}

const FORMULA = /^[=+\-@\t\r]/;

/** One field: empty for null/undefined, lists joined with "; ", quoted when RFC 4180 needs it. */
export function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  let s: string;
  if (typeof v === 'number') s = Number.isFinite(v) ? String(v) : '';
  else if (typeof v === 'boolean') s = String(v);
  else if (Array.isArray(v)) s = v.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join('; ');
  else if (typeof v === 'object') s = JSON.stringify(v);
  else s = typeof v === 'string' ? v : (JSON.stringify(v) ?? '');
  if (typeof v !== 'number' && FORMULA.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The whole document: BOM, the header row in `locale`, one row per item; every line ends with CRLF. */
export function toCsv<T>(locale: Locale, columns: Column<T>[], rows: readonly T[]): string {
  const lines = [columns.map((c) => csvField(translate(locale, c.header))), ...rows.map((r) => columns.map((c) => csvField(c.value(r))))];
  return `${BOM}${lines.map((l) => `${l.join(',')}\r\n`).join('')}`;
}

/** Sends a CSV document as a download named `name`. */
export function sendCsv(reply: FastifyReply, name: string, body: string): FastifyReply {
  return reply.type(CSV_TYPE).header('content-disposition', `attachment; filename="${name}"`).send(body);
}

/** The OpenAPI answer of a route that gives JSON (`schema`) or, with ?format=csv, CSV. */
export const jsonOrCsv = (schema: object, description: string) => ({
  description,
  content: {
    'application/json': { schema },
    'text/csv': { schema: { type: 'string', description: 'With ?format=csv: UTF-8 with a BOM, RFC 4180, header row in gateway.locale.' } },
  },
});
