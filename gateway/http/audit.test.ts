import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, testApp, TOKENS } from './fixture.ts';

/**
 * The audit trail over HTTP: what the API records (token use, refusals, shelving, refused transitions,
 * admin retries, a reload it cannot do) and GET /api/v1/audit (admin), against a real server on
 * 127.0.0.1 and a SQLite file, in virtual time.
 */
describe('the audit trail over HTTP', () => {
  let t: Awaited<ReturnType<typeof testApp>>;
  let base: string;
  let ticketId: string;
  const T0 = '2026-03-02T08:00:00.000Z';

  const call = async (method: string, path: string, token?: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { ...(token ? bearer(token) : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    // as bytes: fetch's text() would drop a byte order mark
    return { status: res.status, headers: res.headers, text: Buffer.from(await res.arrayBuffer()).toString('utf8') };
  };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- answers are compared with toEqual/toMatchObject
  const audit = async (query = ''): Promise<{ items: any[]; total: number }> => JSON.parse((await call('GET', `/api/v1/audit${query}`, TOKENS.admin)).text);
  /** The rows the store holds, oldest first, without the reads of the audit itself. */
  const rows = () => t.store.audit.list({ limit: 1000, offset: 0 }).items.reverse();

  beforeAll(async () => {
    t = await testApp({ anonymousRead: false });
    base = await t.app.listen({ host: '127.0.0.1', port: 0 });
    t.signal('packaging/sealer-01/alarm', true);
    ticketId = t.store.list().items[0]!.id;
  });
  afterAll(() => t.close());

  it('a token\'s first use is a sign-in with its name and the client\'s address, not the token', async () => {
    expect((await call('GET', '/api/v1/tickets', TOKENS.operator)).status).toBe(200);
    expect((await call('GET', '/api/v1/tickets', TOKENS.operator)).status).toBe(200);
    const signIns = rows().filter((r) => r.action === 'auth.sign-in');
    expect(signIns).toEqual([
      { seq: expect.any(Number), at: Date.parse(T0), actor: 'wang', action: 'auth.sign-in', outcome: 'ok', target: null, origin: '127.0.0.1', code: null, details: { method: 'token' } },
    ]);
    expect(JSON.stringify(rows())).not.toContain(TOKENS.operator);
  });

  it('401 and 403 are recorded with who (when known), the route and the code', async () => {
    expect((await call('GET', '/api/v1/tickets')).status).toBe(401);
    expect((await call('POST', '/api/v1/admin/reload', TOKENS.operator)).status).toBe(403);
    const refused = rows().filter((r) => r.action === 'auth.refused');
    expect(refused).toEqual([
      expect.objectContaining({ actor: null, outcome: 'refused', code: 'ANDON_AUTH_REQUIRED', target: 'GET /api/v1/tickets', origin: '127.0.0.1' }),
      expect.objectContaining({ actor: 'wang', outcome: 'refused', code: 'ANDON_AUTH_FORBIDDEN', target: 'POST /api/v1/admin/reload' }),
    ]);
    // a token that is not in the config: the same kind as no token, folded within the minute
    expect((await call('GET', '/api/v1/tickets', 'not-a-token-0123456789')).status).toBe(401);
    expect(rows().filter((r) => r.action === 'auth.refused')).toHaveLength(2);
  });

  it('shelving and unshelving are recorded with the reason and end; other transitions are in the ticket history only', async () => {
    expect((await call('POST', `/api/v1/tickets/${ticketId}/transitions`, TOKENS.operator, { action: 'ack' })).status).toBe(200);
    const shelve = await call('POST', `/api/v1/tickets/${ticketId}/transitions`, TOKENS.operator, { action: 'shelve', reason: 'sensor being replaced', duration: '2h', by: 'Wang Wei' });
    expect(shelve.status).toBe(200);
    expect((await call('POST', `/api/v1/tickets/${ticketId}/transitions`, TOKENS.operator, { action: 'unshelve' })).status).toBe(200);
    expect(rows().filter((r) => r.action.startsWith('ticket.'))).toEqual([
      expect.objectContaining({
        actor: 'wang',
        action: 'ticket.shelve',
        outcome: 'ok',
        target: ticketId,
        details: { key: 'sealer-01/alarm-stop', by: 'Wang Wei', reason: 'sensor being replaced', until: '2026-03-02T10:00:00.000Z' },
      }),
      expect.objectContaining({ actor: 'wang', action: 'ticket.unshelve', outcome: 'ok', target: ticketId, details: { key: 'sealer-01/alarm-stop', by: null } }),
    ]);
  });

  it('a refused transition is recorded with its code, and the ticket is unchanged', async () => {
    const version = t.store.get(ticketId)!.version;
    expect((await call('POST', `/api/v1/tickets/${ticketId}/transitions`, TOKENS.operator, { action: 'ack' })).status).toBe(409);
    expect((await call('POST', `/api/v1/tickets/${ticketId}/transitions`, TOKENS.operator, { action: 'resolve' })).status).toBe(422);
    expect((await call('POST', '/api/v1/tickets/01NOSUCHTICKET/transitions', TOKENS.operator, { action: 'ack' })).status).toBe(404);
    expect(t.store.get(ticketId)!.version).toBe(version);
    expect(rows().filter((r) => r.outcome === 'refused' && r.action.startsWith('ticket.'))).toEqual([
      expect.objectContaining({ actor: 'wang', action: 'ticket.ack', target: ticketId, code: 'ANDON_TICKET_ILLEGAL_TRANSITION' }),
      expect.objectContaining({ actor: 'wang', action: 'ticket.resolve', target: ticketId, code: 'ANDON_TICKET_FIELD_REQUIRED' }),
      expect.objectContaining({ actor: 'wang', action: 'ticket.ack', target: '01NOSUCHTICKET', code: 'ANDON_TICKET_NOT_FOUND' }),
    ]);
  });

  it('admin retries and a reload the gateway cannot do are recorded', async () => {
    expect((await call('POST', `/api/v1/outbox/${ticketId}/retry`, TOKENS.admin)).status).toBe(404);
    expect((await call('POST', '/api/v1/notifications/7/retry', TOKENS.admin)).status).toBe(404);
    expect((await call('POST', '/api/v1/admin/reload', TOKENS.admin)).status).toBe(409);
    expect(rows().filter((r) => r.actor === 'root' && r.action !== 'auth.sign-in')).toEqual([
      expect.objectContaining({ action: 'outbox.retry', outcome: 'refused', target: ticketId, code: 'ANDON_FORWARD_NOT_PARKED' }),
      expect.objectContaining({ action: 'notification.retry', outcome: 'refused', target: '7', code: 'ANDON_NOTIFY_NOT_PARKED' }),
      expect.objectContaining({ action: 'config.reload', outcome: 'unavailable', code: 'ANDON_RELOAD_UNAVAILABLE', origin: '127.0.0.1' }),
    ]);
  });

  it('GET /api/v1/audit is for admins only (and the refusal is recorded)', async () => {
    // a minute on: wang's 403 above is not folded into these
    t.clock.advanceTo(Date.parse(T0) + 61_000);
    expect((await call('GET', '/api/v1/audit', TOKENS.operator)).status).toBe(403);
    expect((await call('GET', '/api/v1/audit', TOKENS.ingest)).status).toBe(403);
    expect((await call('GET', '/api/v1/audit')).status).toBe(401);
    expect(rows().filter((r) => r.target === 'GET /api/v1/audit').map((r) => `${r.actor}:${r.code}`)).toEqual([
      'wang:ANDON_AUTH_FORBIDDEN',
      'mes:ANDON_AUTH_FORBIDDEN',
      'null:ANDON_AUTH_REQUIRED',
    ]);
  });

  it('answers newest first, filtered by actor, action, outcome and time, and paged', async () => {
    const all = await audit();
    expect(all.total).toBe(rows().length);
    expect(all.items.map((r: { seq: number }) => r.seq)).toEqual(rows().map((r) => r.seq).reverse());
    expect(all.items[all.items.length - 1]).toEqual({ seq: expect.any(Number), at: T0, actor: 'wang', action: 'auth.sign-in', outcome: 'ok', target: null, origin: '127.0.0.1', code: null, details: { method: 'token' } });

    expect((await audit('?actor=wang&action=ticket.*')).items.map((r) => `${r.action}:${r.outcome}`)).toEqual([
      'ticket.ack:refused',
      'ticket.resolve:refused',
      'ticket.ack:refused',
      'ticket.unshelve:ok',
      'ticket.shelve:ok',
    ]);
    expect((await audit('?outcome=refused&action=auth.refused')).items.map((r) => `${r.target}:${r.actor}:${r.code}`)).toEqual([
      'GET /api/v1/audit:null:ANDON_AUTH_REQUIRED',
      'GET /api/v1/audit:mes:ANDON_AUTH_FORBIDDEN',
      'GET /api/v1/audit:wang:ANDON_AUTH_FORBIDDEN',
      'POST /api/v1/admin/reload:wang:ANDON_AUTH_FORBIDDEN',
      'GET /api/v1/tickets:null:ANDON_AUTH_REQUIRED',
    ]);
    const page = await audit('?limit=2&offset=1');
    expect(page).toEqual({ total: all.total, items: all.items.slice(1, 3) });
    const later = rows().filter((r) => r.at > Date.parse(T0)).length;
    expect(later).toBeGreaterThan(0);
    expect((await audit(`?from=${encodeURIComponent('2026-03-02T08:00:00.001Z')}`)).total).toBe(later);
    expect((await audit(`?to=${encodeURIComponent('2026-03-02T08:00:00.001Z')}`)).total).toBe(all.total - later);
  });

  it('refuses a bad filter with a code', async () => {
    const bad = async (q: string) => {
      const r = await call('GET', `/api/v1/audit${q}`, TOKENS.admin);
      return [r.status, JSON.parse(r.text).code, JSON.parse(r.text).path];
    };
    expect(await bad('?from=yesterday')).toEqual([400, 'ANDON_REQUEST_INVALID', 'from']);
    expect(await bad('?from=2026-03-03T00:00:00Z&to=2026-03-02T00:00:00Z')).toEqual([400, 'ANDON_REQUEST_INVALID', 'from']);
    expect((await bad("?action=x'%20OR%201=1"))[0]).toBe(400);
    expect((await bad('?limit=5000'))[0]).toBe(400);
  });

  it('?format=csv gives the same page as CSV with a BOM, the header row in gateway.locale and X-Total-Count', async () => {
    const json = await audit('?action=ticket.shelve');
    const res = await call('GET', '/api/v1/audit?action=ticket.shelve&format=csv', TOKENS.admin);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="andon-audit.csv"');
    expect(res.headers.get('x-total-count')).toBe(String(json.total));
    const r = json.items[0];
    expect(res.text).toBe(
      '\uFEFFSeq,At,Actor,Action,Outcome,Target,From,Code,Details\r\n' +
        `${r.seq},${T0},wang,ticket.shelve,ok,${ticketId},127.0.0.1,,` +
        `"{""key"":""sealer-01/alarm-stop"",""by"":""Wang Wei"",""reason"":""sensor being replaced"",""until"":""2026-03-02T10:00:00.000Z""}"\r\n`,
    );
  });

  it('rows the folding holds are written when the app closes', async () => {
    const before = rows().filter((r) => r.action === 'auth.sign-in' && r.actor === 'root');
    expect(before).toHaveLength(1);
    await t.app.close();
    const after = t.store.audit.list({ limit: 1000, offset: 0, actor: 'root', action: 'auth.sign-in' }).items;
    expect(after).toHaveLength(2);
    expect(after[0]!.details).toMatchObject({ method: 'token', repeated: expect.any(Number) });
  });
});

describe('the audit CSV in zh-CN', () => {
  it('has its header row in Chinese', async () => {
    const t = await testApp({ anonymousRead: false, gateway: '  locale: zh-CN' });
    try {
      const res = await t.app.inject({ method: 'GET', url: '/api/v1/audit?format=csv', headers: bearer(TOKENS.admin) });
      expect(res.body.split('\r\n')[0]).toBe('\uFEFF序号,时间,操作者,操作,结果,对象,来源,代码,详情');
    } finally {
      await t.close();
    }
  });
});
