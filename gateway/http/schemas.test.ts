import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ERRORS, type ErrorCode } from '../../model/errors.ts';
import type { TicketDoc } from '../../model/ticket.ts';
import { ticketDoc } from '../../test/ticket-fixture.ts';
import { bearer, testApp, TOKENS } from './fixture.ts';
import { TICKET_SCHEMA } from './schemas.ts';

const OPERATOR = bearer(TOKENS.operator);
const INGEST = bearer(TOKENS.ingest);

/** The fixture's ticket with every field of contracts §Ticket JSON filled in, nested optional fields included. */
const FULL: TicketDoc = ticketDoc(
  {
    id: '01JH7FULLTICKET000000000000',
    gateway: 'api-test',
    rule: 'alarms',
    state: 'waiting',
    condition: 'cleared',
    updatedAt: '2026-03-02T07:40:00.000Z',
    acknowledgedAt: '2026-03-02T07:20:00.000Z',
    resolvedAt: '2026-03-02T07:39:00.000Z',
    closedAt: '2026-03-02T07:39:30.000Z',
    lastSeen: '2026-03-02T07:30:00.000Z',
    occurrences: 5,
    flags: ['recurring', 'chattering', 'flood', 'sla-breached'],
    recurrence: { count: 5, pattern: 'weekly', at: '16:00', day: 'Tue', spreadMinutes: 4.5, next: '2026-03-10T16:00:00+08:00' },
    causes: [{ fault: 'voltage-sag', asset: 'feeder-3', support: 5, of: 5, leadSeconds: 60.5, maxLeadSeconds: 62, source: 'discovered' }],
    members: [
      { asset: 'conveyor-02', fault: 'motor-trip', at: '2026-03-02T07:18:00.000Z' },
      { asset: null, fault: 'comms-lost', at: '2026-03-02T07:18:01.000Z' },
    ],
    firstOut: { asset: 'conveyor-02', fault: 'motor-trip', at: '2026-03-02T07:18:00.000Z' },
    assignee: 'wang',
    escalationLevel: 1,
    escalations: [{ level: 1, at: '2026-03-02T07:48:00.000Z', notified: ['duty-supervisor'] }],
    breaches: ['respond', 'resolve'],
    evidence: [
      { tag: 'packaging/sealer-01/alarm', value: true, ts: '2026-03-02T07:18:00.000Z', message: 'seal jaw fault', severity: 700 },
      { tag: 'packaging/sealer-01/temperature', value: 81.25, ts: '2026-03-02T07:19:00.000Z' },
      { tag: 'packaging/sealer-01/mode', value: 'manual', ts: '2026-03-02T07:19:30.000Z' },
      { tag: 'packaging/sealer-01/mode', value: null, ts: '2026-03-02T07:19:40.000Z' },
    ],
    similar: [
      {
        id: '01JH0OLD',
        asset: 'sealer-01',
        fault: 'alarm-stop',
        state: 'closed',
        resolution: 'installed voltage stabilizer',
        rootCause: 'sag',
        resolvedAt: '2026-02-01T10:00:00.000Z',
        solution: '加装稳压电源',
        labels: ['voltage-interference'],
      },
    ],
    wait: { reason: 'parts', partNumber: 'HB-220-40', eta: '2026-03-04T08:00:00.000Z' },
    resolution: 'replaced heater band',
    rootCause: 'heater band worn',
    checklist: { customerInformed: true, partsRecorded: true, knowledgeBaseChecked: false },
    mergedInto: '01JH7FLOOD',
    shelvedUntil: '2026-03-02T09:40:00.000Z',
    shelvedReason: 'waiting for the heater band',
    previous: { id: '01JH7PREV', resolvedAt: '2026-02-20T08:00:00.000Z', rootCause: 'loose terminal', resolution: 'retightened' },
    reopenedAt: '2026-03-02T09:00:00.000Z',
    knowledge: { symptom: 'seal jaw fault at 16:00', diagnosis: 'sag on feeder 3 a minute before', solution: '加装稳压电源', labels: ['voltage-interference'] },
    records: [
      { id: 'R1', type: 'parts-request', at: '2026-03-02T08:00:00.000Z', by: 'wang', updatedAt: '2026-03-02T08:00:00.000Z', fields: { items: [{ materialNumber: 'HB-220-40', quantity: 2 }], expectedArrival: '2026-03-04T08:00:00.000Z', supplier: null } },
    ],
    central: { id: 'RT-1234', url: 'http://central.example/rt/1234', syncedVersion: 1 },
  },
  Date.parse('2026-03-02T07:18:00.000Z'),
);

describe('the Ticket JSON through the API', () => {
  let t: Awaited<ReturnType<typeof testApp>>;
  beforeEach(async () => {
    t = await testApp();
  });
  afterEach(() => t.close());

  it('the Ticket schema names exactly the fields of the tickets the engine makes', async () => {
    t.signal('packaging/sealer-01/alarm', true);
    const made = t.store.list().items[0]!;
    expect(Object.keys(TICKET_SCHEMA.properties).sort()).toEqual(Object.keys(made).sort());
    expect([...TICKET_SCHEMA.required].sort()).toEqual(Object.keys(made).sort());
  });

  it('a full ticket round-trips unchanged through GET one, GET list and a transition (no field dropped)', async () => {
    t.store.transaction((tx) => {
      tx.save(FULL, { at: FULL.openedAt, action: 'opened', by: 'andon', tag: 'packaging/sealer-01/alarm', value: true, members: 2, firstOut: FULL.firstOut });
      tx.save(
        { ...FULL, version: 2 },
        { at: FULL.updatedAt, action: 'wait', by: 'wang', actor: 'wang', reason: 'parts', partNumber: 'HB-220-40', eta: FULL.wait!.eta, note: 'ordered' },
      );
    });
    const stored = t.store.get(FULL.id)!;
    expect(stored).toMatchObject({ ...FULL, version: 2 });
    const expected = JSON.parse(JSON.stringify(stored));

    const one = await t.app.inject({ url: `/api/v1/tickets/${FULL.id}` });
    expect(one.statusCode).toBe(200);
    expect(one.json()).toEqual(expected);
    const list = await t.app.inject({ url: '/api/v1/tickets?include=history' });
    expect(list.json()).toEqual({ items: [expected], total: 1 });
    // without include=history a list carries everything but the history
    const { history: _history, ...withoutHistory } = expected;
    expect((await t.app.inject({ url: '/api/v1/tickets' })).json()).toEqual({ items: [withoutHistory], total: 1 });
    // the field order of the JSON does not matter; nothing may be lost or added
    expect(Object.keys(one.json()).sort()).toEqual(Object.keys(expected).sort());

    const res = await t.app.inject({ method: 'POST', url: `/api/v1/tickets/${FULL.id}/transitions`, headers: OPERATOR, payload: { action: 'resume' } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(JSON.parse(JSON.stringify(t.store.get(FULL.id))));
    expect(res.json().history.at(-2)).toEqual({
      at: FULL.updatedAt,
      action: 'wait',
      by: 'wang',
      actor: 'wang',
      reason: 'parts',
      partNumber: 'HB-220-40',
      eta: FULL.wait!.eta,
      note: 'ordered',
    });
  });

  it('shelve and unshelve over HTTP: role operator, fields checked, refusals with codes and no history event', async () => {
    t.signal('packaging/sealer-01/alarm', true);
    const id = t.store.list().items[0]!.id;
    const post = (payload: object, headers = OPERATOR) => t.app.inject({ method: 'POST', url: `/api/v1/tickets/${id}/transitions`, headers, payload });
    expect((await post({ action: 'shelve', reason: 'r', duration: '1h' }, INGEST)).statusCode).toBe(403);
    for (const [payload, status, code, path] of [
      [{ action: 'shelve', reason: 'r', duration: '9h' }, 422, 'ANDON_TICKET_INVALID_FIELD', 'duration'],
      [{ action: 'shelve', reason: 'r', until: '2026-03-02T07:00:00Z' }, 422, 'ANDON_TICKET_INVALID_FIELD', 'until'],
      [{ action: 'shelve', duration: '1h' }, 422, 'ANDON_TICKET_FIELD_REQUIRED', 'reason'],
      [{ action: 'unshelve' }, 409, 'ANDON_TICKET_ILLEGAL_TRANSITION', 'action'],
      [{ action: 'shelve', reason: 'r', duration: 3600 }, 400, 'ANDON_REQUEST_INVALID', undefined],
    ] as const) {
      const res = await post(payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(status);
      expect(res.json()).toMatchObject({ code, ...(path ? { path } : {}) });
    }
    expect(t.store.get(id)!.history).toHaveLength(1);
    const shelved = await post({ action: 'shelve', reason: 'sensor under repair', duration: '2h', by: 'li' });
    expect(shelved.json()).toMatchObject({ state: 'open', shelvedUntil: '2026-03-02T10:00:00.000Z', shelvedReason: 'sensor under repair' });
    expect(shelved.json().history.at(-1)).toEqual({
      at: '2026-03-02T08:00:00.000Z',
      action: 'shelve',
      by: 'li',
      actor: 'wang', // said to be li, authenticated as the operator token wang
      reason: 'sensor under repair',
      until: '2026-03-02T10:00:00.000Z',
    });
    const back = await post({ action: 'unshelve' });
    expect(back.json()).toMatchObject({ shelvedUntil: null, shelvedReason: null });
    expect(back.json().history.at(-1)).toMatchObject({ action: 'unshelve', by: 'wang', actor: 'wang' });
  });
});

describe('errors come from the one catalogue', () => {
  let t: Awaited<ReturnType<typeof testApp>>;
  beforeEach(async () => {
    t = await testApp();
  });
  afterEach(() => t.close());

  const check = async (res: { statusCode: number; json(): { code: ErrorCode; message: string } }, status: number, code: ErrorCode) => {
    expect(res.statusCode).toBe(status);
    expect(res.json()).toMatchObject({ code, message: expect.any(String) });
    expect(ERRORS[code].status).toBe(status);
  };

  it('401, 403, 404, 400, 409, 413 and 415 answer { code, message } and are counted', async () => {
    t.signal('packaging/sealer-01/alarm', true);
    const id = t.store.list().items[0]!.id;
    const post = (url: string, payload: unknown, headers: Record<string, string> = OPERATOR) =>
      t.app.inject({ method: 'POST', url, headers, payload: payload as object });
    await check(await post(`/api/v1/tickets/${id}/comments`, { text: 'x' }, {}), 401, 'ANDON_AUTH_REQUIRED');
    await check(await post(`/api/v1/tickets/${id}/comments`, { text: 'x' }, INGEST), 403, 'ANDON_AUTH_FORBIDDEN');
    await check(await t.app.inject({ url: '/api/v1/tickets/no-such-id' }), 404, 'ANDON_TICKET_NOT_FOUND');
    await check(await t.app.inject({ url: '/api/v1/no-such-route' }), 404, 'ANDON_ROUTE_NOT_FOUND');
    await check(await t.app.inject({ url: '/api/v1/tickets?limit=many' }), 400, 'ANDON_REQUEST_INVALID');
    await check(await t.app.inject({ url: '/api/v1/tickets?colour=red' }), 400, 'ANDON_REQUEST_INVALID');
    await check(await post(`/api/v1/tickets/${id}/comments`, { text: 'x', extra: 1 }), 400, 'ANDON_REQUEST_INVALID');
    await check(await post(`/api/v1/tickets/${id}/transitions`, { action: 'start' }), 409, 'ANDON_TICKET_ILLEGAL_TRANSITION');
    await check(await post(`/api/v1/tickets/${id}/comments`, { text: 'x'.repeat(2_000_000) }), 413, 'ANDON_REQUEST_TOO_LARGE');
    await check(
      await t.app.inject({ method: 'POST', url: `/api/v1/tickets/${id}/comments`, headers: { ...OPERATOR, 'content-type': 'text/csv' }, payload: 'text,x' }),
      415,
      'ANDON_REQUEST_MEDIA_TYPE',
    );
    const metrics = (await t.app.inject({ url: '/metrics' })).body;
    for (const code of ['ANDON_AUTH_REQUIRED', 'ANDON_AUTH_FORBIDDEN', 'ANDON_ROUTE_NOT_FOUND', 'ANDON_REQUEST_TOO_LARGE', 'ANDON_REQUEST_MEDIA_TYPE']) {
      expect(metrics).toContain(`andon_http_errors_total{code="${code}"} 1`);
    }
    expect(metrics).toContain('andon_http_errors_total{code="ANDON_REQUEST_INVALID"} 3');
  });

  it('the body limit is gateway.http.bodyLimit, and the smaller gateway.http.signalBodyLimit for signals', async () => {
    const small = await testApp({ bodyLimit: 2048, http: 'signalBodyLimit: 1024' });
    try {
      const big = { tag: 'packaging/sealer-01/alarm', value: true, message: 'x'.repeat(900), asset: 'y'.repeat(200) };
      await check(await small.app.inject({ method: 'POST', url: '/api/v1/signals', headers: INGEST, payload: big }), 413, 'ANDON_REQUEST_TOO_LARGE');
      expect(
        (await small.app.inject({ method: 'POST', url: '/api/v1/signals', headers: INGEST, payload: { tag: 'packaging/sealer-01/alarm', value: true } }))
          .statusCode,
      ).toBe(202);
      const id = small.store.list().items[0]!.id;
      const comment = (text: string) => small.app.inject({ method: 'POST', url: `/api/v1/tickets/${id}/comments`, headers: OPERATOR, payload: { text } });
      expect((await comment('x'.repeat(1500))).statusCode).toBe(200);
      await check(await comment('x'.repeat(2100)), 413, 'ANDON_REQUEST_TOO_LARGE');
    } finally {
      await small.close();
    }
  });
});
