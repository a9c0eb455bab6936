import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routeTable, testApp } from './fixture.ts';

/** Each route's access, as it declares it in its own options (walked with onRoute). */
const ROUTES = await routeTable();
const API = Object.keys(ROUTES).filter((k) => !ROUTES[k]!.hidden);
import { TICKET_SCHEMA } from './schemas.ts';

type Op = {
  summary?: string;
  description?: string;
  security?: Record<string, string[]>[];
  parameters?: { in: string; name: string; schema?: object }[];
  requestBody?: { content: Record<string, { schema: object }> };
  responses: Record<string, { content?: Record<string, { schema: { $ref?: string } }> }>;
};

/** Routes with a query string, and what it takes. */
const QUERIES: Record<string, string[]> = {
  'GET /api/v1/tickets': ['state', 'priority', 'area', 'asset', 'limit', 'offset', 'include', 'format'],
  'GET /api/v1/tickets/:id/history': ['after', 'before', 'limit'],
  // ?key= is documented as the streamKey security scheme (swagger lists it there, not here)
  'GET /api/v1/events': ['lastEventId'],
  'GET /api/v1/reports/top-faults': ['from', 'to', 'limit', 'format'],
  'GET /api/v1/reports/response': ['from', 'to', 'format'],
  'GET /api/v1/reports/warnings': ['from', 'to', 'format'],
  'GET /api/v1/reports/groups': ['from', 'to', 'format'],
  'GET /api/v1/knowledge': ['q', 'label', 'asset', 'fault', 'limit', 'offset', 'format'],
  'GET /api/v1/outbox': ['parked', 'limit', 'offset'],
  'GET /api/v1/notifications': ['state', 'channel', 'limit', 'offset'],
  'GET /api/v1/oncall': ['at', 'group'],
  'GET /api/v1/audit': ['actor', 'action', 'outcome', 'from', 'to', 'limit', 'offset', 'format'],
  'GET /api/v1/tags': ['pattern', 'q', 'after', 'limit'],
};

describe('OpenAPI at /docs', () => {
  let t: Awaited<ReturnType<typeof testApp>>;
  let spec: {
    openapi: string;
    paths: Record<string, Record<string, Op>>;
    components: { schemas: Record<string, { properties: object }>; securitySchemes: Record<string, object> };
  };
  let ops: [string, Op][];

  beforeAll(async () => {
    t = await testApp();
    const res = await t.app.inject({ url: '/docs/json' });
    expect(res.statusCode).toBe(200);
    spec = res.json();
    ops = Object.entries(spec.paths).flatMap(([path, byMethod]) =>
      Object.entries(byMethod).map(([method, op]): [string, Op] => [`${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`, op]),
    );
  });
  afterAll(() => t.close());

  it('serves the UI at /docs', async () => {
    const res = await t.app.inject({ url: '/docs' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
  });

  it('documents exactly the routes of the app that are not hidden', () => {
    expect(spec.openapi).toMatch(/^3\./);
    expect(ops.map(([k]) => k).sort()).toEqual(API.sort());
  });

  it('documents the bearer scheme, and each route with its role and security', () => {
    expect(spec.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(spec.components.securitySchemes.streamKey).toMatchObject({ type: 'apiKey', in: 'query', name: 'key' });
    expect(spec.components.securitySchemes).not.toHaveProperty('tokenQuery');
    expect(spec.paths['/api/v1/events']!.get!.security).toContainEqual({ streamKey: [] });
    for (const [route, op] of ops) {
      const { access } = ROUTES[route]!;
      expect(op.summary, route).toBeTruthy();
      expect(op.description, route).toContain('**Access:**');
      if (access === 'public') expect(op.security, route).toEqual([]);
      else expect(op.security, route).toContainEqual({ bearer: [] });
      if (access === 'read') expect(op.security, route).toContainEqual({}); // anonymousRead: true here
      if (access !== 'public' && access !== 'read') expect(op.description, route).toContain(`role ${access}`);
    }
  });

  it('every route has a response schema for its success and { code, message } for its errors', () => {
    for (const [route, op] of ops) {
      const ok = Object.keys(op.responses).filter((s) => s.startsWith('2'));
      expect(ok, route).toHaveLength(1);
      const content = op.responses[ok[0]!]!.content;
      expect(content && Object.values(content)[0]!.schema, route).toBeTruthy();
      const errors = [
        '400',
        '404',
        '500',
        '503',
        ...(ROUTES[route]!.access === 'public' ? [] : ['401', '403']),
        ...(route.startsWith('POST') ? ['413', '415'] : []),
      ];
      for (const s of errors) expect(op.responses[s]?.content?.['application/json']?.schema, `${route} ${s}`).toEqual({ $ref: '#/components/schemas/Error' });
    }
  });

  it('every body and query string is documented with its schema', () => {
    for (const [route, op] of ops) {
      const bodyless = route.endsWith('/retry') || route.endsWith('/key') || route.endsWith('/reload') || route.endsWith('/logout') || route.startsWith('GET');
      if (bodyless) expect(op.requestBody, route).toBeUndefined();
      else expect(op.requestBody?.content['application/json']?.schema, route).toBeTruthy();
      const query = (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
      expect(query.sort(), route).toEqual([...(QUERIES[route] ?? [])].sort());
      for (const p of op.parameters ?? []) expect(p.schema, `${route} ${p.name}`).toBeTruthy();
    }
  });

  it('the ticket list, every report and the audit trail document a CSV answer next to the JSON one', () => {
    for (const route of ['GET /api/v1/tickets', 'GET /api/v1/reports/top-faults', 'GET /api/v1/reports/response', 'GET /api/v1/reports/warnings', 'GET /api/v1/reports/groups', 'GET /api/v1/knowledge', 'GET /api/v1/audit']) {
      const op = ops.find(([k]) => k === route)![1];
      expect(Object.keys(op.responses['200']!.content!).sort(), route).toEqual(['application/json', 'text/csv']);
      expect(op.parameters?.find((p) => p.name === 'format')?.schema, route).toMatchObject({ enum: ['json', 'csv'], default: 'json' });
    }
  });

  it('tickets are answered with the shared Ticket schema, which names every field of contracts §Ticket JSON', () => {
    for (const route of ['GET /api/v1/tickets/:id', 'POST /api/v1/tickets/:id/transitions', 'POST /api/v1/tickets/:id/comments']) {
      const op = ops.find(([k]) => k === route)![1];
      expect(op.responses['200']!.content!['application/json']!.schema, route).toEqual({ $ref: '#/components/schemas/Ticket' });
    }
    expect(Object.keys(spec.components.schemas.Ticket!.properties).sort()).toEqual(Object.keys(TICKET_SCHEMA.properties).sort());
    expect(spec.components.schemas.Ticket).toMatchObject({ properties: { shelvedUntil: { nullable: true }, shelvedReason: { nullable: true } } });
  });
});
