import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Access } from './auth.ts';
import { bearer, routeTable, testApp, TOKENS } from './fixture.ts';

/** The app's routes as declared in their own options, walked with onRoute. */
const ROUTES = await routeTable();
/** The API: every route /docs shows (the board's page and files and the docs UI are hidden there). */
const API = Object.fromEntries(Object.entries(ROUTES).filter(([, r]) => !r.hidden));

type Caller = 'anonymous' | 'bad token' | 'operator' | 'ingest' | 'admin';
const CALLERS: Caller[] = ['anonymous', 'bad token', 'operator', 'ingest', 'admin'];

/** A request that the route takes when allowed, and the status it then answers. */
interface Sample {
  url: (ticketId: string) => string;
  body?: unknown;
  ok: number;
}
const SAMPLES: Record<string, Sample> = {
  'GET /healthz': { url: () => '/healthz', ok: 200 },
  'GET /readyz': { url: () => '/readyz', ok: 200 },
  'GET /metrics': { url: () => '/metrics', ok: 200 },
  'GET /api/v1/board/config': { url: () => '/api/v1/board/config', ok: 200 },
  'GET /api/v1/tickets': { url: () => '/api/v1/tickets?state=open', ok: 200 },
  'GET /api/v1/tickets/:id': { url: (id) => `/api/v1/tickets/${id}`, ok: 200 },
  'GET /api/v1/tickets/:id/history': { url: (id) => `/api/v1/tickets/${id}/history?limit=5`, ok: 200 },
  'POST /api/v1/tickets/:id/transitions': { url: (id) => `/api/v1/tickets/${id}/transitions`, body: { action: 'assign', assignee: 'li' }, ok: 200 },
  'POST /api/v1/tickets/:id/comments': { url: (id) => `/api/v1/tickets/${id}/comments`, body: { text: 'seal jaw cleaned' }, ok: 200 },
  'GET /api/v1/events': { url: () => '/api/v1/events', ok: 200 },
  'POST /api/v1/events/key': { url: () => '/api/v1/events/key', ok: 200 },
  'GET /api/v1/reports/top-faults': { url: () => '/api/v1/reports/top-faults', ok: 200 },
  'GET /api/v1/reports/response': { url: () => '/api/v1/reports/response', ok: 200 },
  'GET /api/v1/reports/warnings': { url: () => '/api/v1/reports/warnings', ok: 200 },
  'GET /api/v1/reports/groups': { url: () => '/api/v1/reports/groups', ok: 200 },
  'GET /api/v1/knowledge': { url: () => '/api/v1/knowledge?q=seal', ok: 200 },
  'POST /api/v1/tickets/:id/records': { url: (id) => `/api/v1/tickets/${id}/records`, body: { type: 'acceptance', fields: { acceptedBy: 'Zhang', result: 'passed' } }, ok: 200 },
  'POST /api/v1/tickets/:id/records/:record/items': { url: (id) => `/api/v1/tickets/${id}/records/R99/items`, body: { items: [{ materialNumber: 'CB-16A', quantity: 1 }] }, ok: 404 },
  'POST /api/v1/signals': { url: () => '/api/v1/signals', body: { tag: 'packaging/sealer-01/alarm', value: true }, ok: 202 },
  'POST /api/v1/alertmanager': { url: () => '/api/v1/alertmanager', body: { version: '4', status: 'firing', alerts: [] }, ok: 200 },
  'POST /api/v1/sync': { url: () => '/api/v1/sync', body: [], ok: 200 },
  'GET /api/v1/outbox': { url: () => '/api/v1/outbox', ok: 200 },
  // allowed, and then "nothing parked": the role check passed
  'POST /api/v1/outbox/:ticketId/retry': { url: (id) => `/api/v1/outbox/${id}/retry`, ok: 404 },
  'GET /api/v1/notifications': { url: () => '/api/v1/notifications', ok: 200 },
  'POST /api/v1/notifications/:id/retry': { url: () => '/api/v1/notifications/1/retry', ok: 404 },
  // allowed, and then "no config file to read" (ANDON_RELOAD_UNAVAILABLE): the test app has none
  'POST /api/v1/admin/reload': { url: () => '/api/v1/admin/reload', ok: 409 },
  'GET /api/v1/oncall': { url: () => '/api/v1/oncall', ok: 200 },
  'GET /api/v1/audit': { url: () => '/api/v1/audit?action=auth.*', ok: 200 },
  // without a session cookie there is nothing to end
  'POST /auth/logout': { url: () => '/auth/logout', ok: 200 },
  'GET /api/v1/me': { url: () => '/api/v1/me', ok: 200 },
  'GET /api/v1/tags': { url: () => '/api/v1/tags?pattern=packaging/**', ok: 200 },
};

/** Who gets through, from contracts §HTTP API: read is any token (or none with anonymousRead), admin may do everything. */
function expected(access: Access, caller: Caller, anonymousRead: boolean): 'ok' | 401 | 403 {
  if (access === 'public') return 'ok';
  if (caller === 'bad token') return 401;
  if (caller === 'anonymous') return access === 'read' && anonymousRead ? 'ok' : 401;
  if (access === 'read' || caller === 'admin' || caller === access) return 'ok';
  return 403;
}

const headersOf = (caller: Caller): Record<string, string> =>
  caller === 'anonymous' ? {} : caller === 'bad token' ? bearer('not-a-token-0123456789') : bearer(TOKENS[caller]);

describe.each([true, false])('who may call what (anonymousRead: %s)', (anonymousRead) => {
  let t: Awaited<ReturnType<typeof testApp>>;
  let base: string;
  let ticketId: string;

  beforeAll(async () => {
    t = await testApp({ anonymousRead });
    base = await t.app.listen({ host: '127.0.0.1', port: 0 });
    t.signal('packaging/sealer-01/alarm', true);
    ticketId = t.store.list().items[0]!.id;
  });
  afterAll(() => t.close());

  it('every API route has a sample request here', () => {
    expect(Object.keys(SAMPLES).sort()).toEqual(Object.keys(API).sort());
  });

  const cases = Object.entries(API).flatMap(([route, { access }]) =>
    CALLERS.map((caller) => ({ route, access: access!, caller, want: expected(access!, caller, anonymousRead) })),
  );

  it.each(cases)('$route as $caller: $want', async ({ route, caller, want }) => {
    const sample = SAMPLES[route]!;
    const method = route.split(' ')[0]!;
    const abort = new AbortController();
    const headers: Record<string, string> = headersOf(caller);
    if (sample.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${base}${sample.url(ticketId)}`, {
      method,
      headers,
      signal: abort.signal,
      ...(sample.body === undefined ? {} : { body: JSON.stringify(sample.body) }),
    });
    const isStream = res.headers.get('content-type')?.startsWith('text/event-stream') ?? false;
    const body = isStream ? null : await res.text();
    abort.abort();
    if (want === 'ok') {
      expect(res.status, body ?? '').toBe(sample.ok);
    } else {
      expect(res.status).toBe(want);
      expect(JSON.parse(body!)).toMatchObject({ code: want === 401 ? 'ANDON_AUTH_REQUIRED' : 'ANDON_AUTH_FORBIDDEN', message: expect.any(String) });
    }
  });

  it('the events stream takes a stream key as ?key=, with the role of the token it was issued for, and never a token', async () => {
    const key = async (token: string) =>
      ((await (await fetch(`${base}/api/v1/events/key`, { method: 'POST', headers: bearer(token) })).json()) as { key: string }).key;
    const abort = new AbortController();
    const ok = await fetch(`${base}/api/v1/events?key=${await key(TOKENS.ingest)}`, { signal: abort.signal });
    abort.abort();
    expect(ok.status).toBe(200);
    expect((await fetch(`${base}/api/v1/events?key=not-a-key`)).status).toBe(401);
    // ?token= is gone: without anonymous read it is refused, with it the unknown parameter is
    expect((await fetch(`${base}/api/v1/events?token=${TOKENS.ingest}`)).status).toBe(anonymousRead ? 400 : 401);
    // a key opens the event stream only: it is no bearer token for anything else
    expect((await fetch(`${base}/api/v1/outbox?key=${await key(TOKENS.admin)}`)).status).toBe(401);
  });
});

describe('each route declares who may call it', () => {
  it('every route of the app has an access (walked with onRoute); only the board pages (/, /tags), their files, the docs UI and the browser\'s sign-in redirects are hidden, and they are public', () => {
    expect(Object.keys(ROUTES).length).toBeGreaterThan(Object.keys(SAMPLES).length);
    for (const [route, { access, hidden }] of Object.entries(ROUTES)) {
      expect(access, route).toMatch(/^(public|read|operator|ingest|admin)$/);
      if (hidden) {
        expect(route, route).toMatch(/^GET \/(board\/.*|docs(\/.*)?|tags|auth\/(login|callback))?$/);
        expect(access, route).toBe('public');
      }
    }
    // the stream key is declared by the event stream only
    expect(
      Object.entries(ROUTES)
        .filter(([, r]) => r.streamKey)
        .map(([k]) => k),
    ).toEqual(['GET /api/v1/events']);
  });

  it('a route that declares no access stops the app from being built (no route is open by mistake)', async () => {
    const t = await testApp();
    try {
      const add = async () => {
        t.app.post('/api/v1/undeclared', async () => ({ done: true }));
        await t.app.ready();
      };
      await expect(add()).rejects.toThrow(/POST \/api\/v1\/undeclared declares no access/);
    } finally {
      await t.close().catch(() => undefined);
    }
  });

  it('a declared route is enforced from its declaration, and its HEAD route too', async () => {
    const t = await testApp({ anonymousRead: false });
    try {
      await t.app.register(async (scope) => {
        scope.get('/api/v1/declared', { config: { access: 'operator' } }, async () => ({ done: true }));
      });
      await t.app.ready();
      expect((await t.app.inject({ url: '/api/v1/declared' })).json()).toMatchObject({ code: 'ANDON_AUTH_REQUIRED' });
      expect((await t.app.inject({ method: 'HEAD', url: '/api/v1/declared' })).statusCode).toBe(401);
      expect((await t.app.inject({ url: '/api/v1/declared', headers: bearer(TOKENS.ingest) })).json()).toMatchObject({ code: 'ANDON_AUTH_FORBIDDEN' });
      expect((await t.app.inject({ url: '/api/v1/declared', headers: bearer(TOKENS.operator) })).json()).toEqual({ done: true });
      // documented from the same declaration
      const op = (await t.app.inject({ url: '/docs/json' })).json().paths['/api/v1/declared'].get;
      expect(op.description).toContain('Bearer token with role operator or admin.');
      expect(op.security).toEqual([{ bearer: [] }]);
    } finally {
      await t.close();
    }
  });
});
