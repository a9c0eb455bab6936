import { ERRORS, type ErrorSpec } from '../model/errors.ts';

/**
 * Renders docs/errors.md from the one error catalogue (model/errors.ts), in
 * the manner of Fastify's Errors.md: one heading per code, so every code has a
 * stable anchor (`docs/errors.md#andon_config_missing`) that messages and issues can link.
 */

/** Sections by the code's second word (`ANDON_<WORD>_...`); words not listed get a section of their own. */
const FAMILIES: Record<string, [title: string, about: string]> = {
  CONFIG: [
    'Config',
    'Reported by `andon check-config`, `andon start` and `andon replay` with the path of the key (`rules[2].when.for`); the process does not start (exit code 1).',
  ],
  RELOAD: ['Config reload', 'Answers of `POST /api/v1/admin/reload` and the log lines of a reload on SIGHUP; a refused reload applies nothing and the running config stays.'],
  TICKET: ['Tickets', 'Answers of the ticket lifecycle to a transition, a comment or a change from central.'],
  STORE: ['Store', 'The SQLite ticket store.'],
  API: ['API, input and CLI', 'HTTP requests, signals, replay input and the command line.'],
  OPCUA: ['OPC UA', 'The OPC UA connector ([connectors/opcua](../connectors/opcua/README.md)); logged with the source id and shown on `andon_source_up`.'],
  MODBUS: ['Modbus', 'The Modbus connector ([connectors/modbus](../connectors/modbus/README.md)).'],
  MQTT: ['MQTT', 'The MQTT connector ([connectors/mqtt](../connectors/mqtt/README.md)).'],
  FORWARD: ['Forwarding to central', 'The outbox forwarder and the sync back from central (`forward:`, [gateway/forward](../gateway/forward/README.md)).'],
  NOTIFY: ['Notifications', 'Webhook notifications (`notify:`).'],
  ONCALL: ['On-call', 'Who is on duty (`schedules:`, GET /api/v1/oncall).'],
  KNOWLEDGE: ['Knowledge base', 'Knowledge entries given at resolve (`knowledge:`, GET /api/v1/knowledge).'],
  RECORD: ['Records', 'Records attached to tickets (`records:`, POST /api/v1/tickets/{id}/records).'],
};
/** One-code words that read better together. */
const API_WORDS = new Set(['REPLAY', 'SIGNAL', 'REQUEST', 'ROUTE', 'AUTH', 'INTERNAL', 'CLI', 'HTTP']);

const familyOf = (code: string): string => {
  const word = code.split('_')[1] ?? '';
  return API_WORDS.has(word) ? 'API' : word;
};

/** The whole docs/errors.md text. */
export function renderErrorsDoc(header: string, errors: Record<string, ErrorSpec> = ERRORS): string {
  const out: string[] = [header.trimEnd(), ''];
  const codes = Object.keys(errors);
  out.push('| code | HTTP status | retry can help |', '|---|---|---|');
  for (const c of codes) out.push(`| [\`${c}\`](#${c.toLowerCase()}) | ${errors[c]!.status} | ${errors[c]!.retryable ? 'yes' : 'no'} |`);
  out.push('');
  const families = [...new Set(codes.map(familyOf))];
  for (const family of families) {
    const mine = codes.filter((c) => familyOf(c) === family);
    const [title, about] = FAMILIES[family] ?? [family.charAt(0) + family.slice(1).toLowerCase(), ''];
    out.push(`## ${title}`, '');
    if (about) out.push(about, '');
    for (const c of mine) {
      const e = errors[c]!;
      out.push(
        `### ${c}`,
        '',
        e.description,
        '',
        `HTTP ${e.status}; ${e.retryable ? 'retrying later can succeed' : 'retrying the same request does not help'}.`,
        '',
      );
    }
  }
  return out.join('\n');
}
