import type { FastifyPluginAsync } from 'fastify';
import type { Locale } from '../i18n.ts';
import type { KnowledgeHit } from '../store/knowledge.ts';
import type { TicketStore } from '../store/store.ts';
import { formatParam, jsonOrCsv, sendCsv, toCsv, type Column } from './csv.ts';

interface Opts {
  store: TicketStore;
  /** `gateway.locale`: the CSV header row's language. */
  locale?: Locale;
}

/** The columns of GET /api/v1/knowledge?format=csv (docs/contracts.md), in order. */
export const KNOWLEDGE_COLUMNS: Column<KnowledgeHit>[] = [
  { header: 'csv.id', value: (h) => h.id },
  { header: 'csv.title', value: (h) => h.title },
  { header: 'csv.asset', value: (h) => h.asset },
  { header: 'csv.fault', value: (h) => h.fault },
  { header: 'csv.state', value: (h) => h.state },
  { header: 'csv.resolvedAt', value: (h) => h.resolvedAt },
  { header: 'csv.resolution', value: (h) => h.resolution },
  { header: 'csv.rootCause', value: (h) => h.rootCause },
  { header: 'csv.symptom', value: (h) => h.knowledge?.symptom ?? null },
  { header: 'csv.diagnosis', value: (h) => h.knowledge?.diagnosis ?? null },
  { header: 'csv.solution', value: (h) => h.knowledge?.solution ?? null },
  { header: 'csv.labels', value: (h) => h.knowledge?.labels ?? [] },
  { header: 'csv.snippet', value: (h) => h.snippet },
];

const maybe = (type: string) => ({ type: [type, 'null'] }) as const;
const entry = {
  type: ['object', 'null'],
  additionalProperties: false,
  required: ['symptom', 'diagnosis', 'solution', 'labels'],
  properties: { symptom: maybe('string'), diagnosis: maybe('string'), solution: maybe('string'), labels: { type: 'array', items: { type: 'string' } } },
} as const;

/** The knowledge base (contracts §Knowledge base): resolved and closed tickets, searched with FTS5. Role read. */
export const knowledgeRoutes: FastifyPluginAsync<Opts> = async (app, { store, locale = 'en' }) => {
  app.get<{ Querystring: { q?: string; label?: string; asset?: string; fault?: string; limit: number; offset: number; format?: 'json' | 'csv' } }>(
    '/knowledge',
    {
      config: { access: 'read' },
      schema: {
        summary: 'Search the knowledge base: resolved and closed tickets and their knowledge entries',
        description:
          'Every word of `q` must occur in the title, resolution, root cause or the knowledge entry (symptom, diagnosis, solution, labels) of a resolved or closed ticket. ' +
          'Chinese needs no spaces (`q=稳压` finds 加装稳压电源); words of 3 characters or more are ranked by relevance (FTS5 trigram, bm25), shorter ones are matched as substrings. ' +
          '`label`, `asset`, `fault` filter. Paged (`limit` 20 by default, at most 200; `offset`), `total` says how many match. `?format=csv`: the page as CSV.',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            q: { type: 'string', maxLength: 200, description: 'Words, separated by spaces (at most 8 are used).' },
            label: { type: 'string', maxLength: 64 },
            asset: { type: 'string', maxLength: 200 },
            fault: { type: 'string', maxLength: 200 },
            limit: { type: 'integer', minimum: 1, maximum: 200, default: 20 },
            offset: { type: 'integer', minimum: 0, default: 0 },
            format: formatParam,
          },
        },
        response: {
          200: jsonOrCsv(
            {
              type: 'object',
              additionalProperties: false,
              required: ['items', 'total'],
              properties: {
                total: { type: 'integer', description: 'How many entries match (items holds at most limit of them).' },
                items: {
                  type: 'array',
                  items: {
                    type: 'object',
                    additionalProperties: false,
                    required: ['id', 'title', 'asset', 'fault', 'state', 'resolvedAt', 'resolution', 'rootCause', 'knowledge', 'field', 'snippet', 'score'],
                    properties: {
                      id: { type: 'string', description: 'The ticket id.' },
                      title: { type: 'string' },
                      asset: maybe('string'),
                      fault: { type: 'string' },
                      state: { type: 'string', enum: ['resolved', 'closed'] },
                      resolvedAt: { type: ['string', 'null'], format: 'date-time' },
                      resolution: maybe('string'),
                      rootCause: maybe('string'),
                      knowledge: entry,
                      field: { ...maybe('string'), description: 'The field the snippet comes from (solution, symptom, diagnosis, resolution, rootCause, title, labels).' },
                      snippet: { type: 'string', description: 'About 80 characters around the first match.' },
                      score: { ...maybe('number'), description: 'Relevance (higher is better); null when only words of 1-2 characters were asked.' },
                    },
                  },
                },
              },
            },
            'A page of knowledge base entries, best first.',
          ),
        },
      },
    },
    async (req, reply) => {
      const { format, limit, offset, ...filter } = req.query;
      const page = store.knowledge.search({ ...filter, limit, offset });
      if (format === 'csv') return sendCsv(reply.header('x-total-count', String(page.total)), 'andon-knowledge.csv', toCsv(locale, KNOWLEDGE_COLUMNS, page.items));
      return page;
    },
  );
};
