import type { FastifyPluginAsync } from 'fastify';
import { patternProblem } from '../../config/pattern.ts';
import { AndonError } from '../../model/errors.ts';
import type { TagView } from '../tags.ts';

interface Opts {
  tags: TagView;
}

const row = {
  type: 'object',
  additionalProperties: false,
  required: ['tag', 'value', 'quality', 'unit', 'ts', 'arrivedAt', 'source', 'asset', 'area', 'rules'],
  properties: {
    tag: { type: 'string' },
    value: { type: ['number', 'boolean', 'string', 'null'], description: 'The last value.' },
    quality: { type: 'string', enum: ['good', 'uncertain', 'bad'] },
    unit: { type: ['string', 'null'], description: 'Engineering unit of the value, when the source gives one.' },
    ts: { type: 'string', format: 'date-time', description: 'Source timestamp of the last value.' },
    arrivedAt: { type: 'string', format: 'date-time', description: 'When the gateway took the last value.' },
    source: { type: 'string', description: 'The source id it came from.' },
    asset: { type: 'string', description: 'The signal\'s asset, else the asset whose tag patterns match, else the UNS guess (as the rules see it).' },
    area: { type: ['string', 'null'] },
    rules: { type: 'array', items: { type: 'string' }, description: 'Ids of the rules this tag feeds (their when.tag and when.source match).' },
  },
} as const;

const iso = (ms: number) => new Date(ms).toISOString();

/** `GET /api/v1/tags?pattern=&q=&after=&limit=` (role read): the live tag view (contracts §Live tag view). */
export const tagRoutes: FastifyPluginAsync<Opts> = async (app, { tags }) => {
  app.get<{ Querystring: { pattern?: string; q?: string; after?: string; limit: number } }>(
    '/tags',
    {
      config: { access: 'read' },
      schema: {
        summary: 'Live tag view: the last value of every tag, with its times, source, asset and the rules it feeds',
        description:
          'Tags in tag order, a page at a time: `?after=` the previous page\'s `next`. `?pattern=` is a tag pattern in the config\'s syntax (`packaging/*/alarm/**`), `?q=` text that the tag, source or asset contains (any case). At most `gateway.tagView.maxTags` tags are tracked; `overflow` counts signals of tags left out.',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            pattern: { type: 'string', maxLength: 500, description: 'Tag pattern (`packaging/*/alarm/**`).' },
            q: { type: 'string', maxLength: 200, description: 'Text in the tag, source or asset (any case).' },
            after: { type: 'string', maxLength: 1000, description: 'Tags after this one (the `next` of the previous page).' },
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
          },
        },
        response: {
          200: {
            type: 'object',
            additionalProperties: false,
            required: ['items', 'total', 'next', 'tracked', 'maxTags', 'overflow'],
            properties: {
              items: { type: 'array', items: row },
              total: { type: 'integer', description: 'Tracked tags matching the query.' },
              next: { type: ['string', 'null'], description: 'Pass as `after` for the next page; null on the last.' },
              tracked: { type: 'integer', description: 'Tags tracked in all.' },
              maxTags: { type: 'integer', description: 'gateway.tagView.maxTags.' },
              overflow: { type: 'integer', description: 'Signals of tags not tracked because the view was full (andon_tags_overflow_total).' },
            },
          },
        },
      },
    },
    async (req) => {
      const { pattern, q, after, limit } = req.query;
      if (pattern !== undefined) {
        const problem = patternProblem(pattern);
        if (problem) throw new AndonError('ANDON_REQUEST_INVALID', `tag pattern "${pattern}" ${problem}`, { path: 'pattern' });
      }
      const page = tags.query({ pattern, q, after, limit });
      return {
        items: page.items.map(({ ts, arrived, ...r }) => ({ ...r, ts: iso(ts), arrivedAt: iso(arrived) })),
        total: page.total,
        next: page.next,
        tracked: tags.size,
        maxTags: tags.maxTags,
        overflow: tags.overflow,
      };
    },
  );
};
