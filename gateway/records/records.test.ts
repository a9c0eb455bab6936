import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bearer, testApp, TOKENS } from '../http/fixture.ts';
import { createHttpSink } from '../forward/http-sink.ts';
import type { ForwardedTicket } from '../forward/sink.ts';
import { eventLine, updateComment } from '../forward/rt/mapping.ts';
import { startCentral } from '../../sim/central/server.ts';
import { seeded } from '../seeded.ts';
import type { Ticket } from '../../model/ticket.ts';

/**
 * Records attached to tickets (contracts §Records) through the real API, runtime and SQLite file: the parts
 * request a wait for parts makes and its further items, an acceptance that close may require, the refusals
 * with their codes, and records on their way to central (HTTP contract, RT comments).
 */
const op = bearer(TOKENS.operator);
const CONFIG = `
lifecycle:
  closeChecklist: []
  requireAcceptance: [P1]
`;
type App = Awaited<ReturnType<typeof testApp>>;

const post = (t: App, url: string, payload: object) => t.app.inject({ method: 'POST', url, headers: op, payload });
const act = (t: App, id: string, payload: object) => post(t, `/api/v1/tickets/${id}/transitions`, { by: 'wang', ...payload });
const record = (t: App, id: string, payload: object) => post(t, `/api/v1/tickets/${id}/records`, { by: 'wang', ...payload });

async function inProgress(t: App, tag = 'packaging/sealer-01/alarm'): Promise<string> {
  t.signal(tag, true);
  const id = t.store.list({ history: false }).items.at(-1)!.id;
  for (const action of ['ack', 'start']) expect((await act(t, id, { action })).statusCode).toBe(200);
  return id;
}

describe('records of a repair', () => {
  let t: App;
  beforeEach(async () => {
    t = await testApp({ extra: CONFIG });
  });
  afterEach(() => t.close());

  it('wait for parts makes the parts request; more items join it; close needs a passed acceptance', async () => {
    const id = await inProgress(t);
    const wait = await act(t, id, { action: 'wait', reason: 'parts', partNumber: 'VS-2000', eta: '2026-03-03T08:00:00+08:00', supplier: 'Delixi' });
    expect(wait.statusCode).toBe(200);
    const waiting = wait.json<Ticket>();
    expect(waiting.wait).toEqual({ reason: 'parts', partNumber: 'VS-2000', eta: '2026-03-03T00:00:00.000Z' });
    expect(waiting.records).toEqual([
      {
        id: 'R1',
        type: 'parts-request',
        at: '2026-03-02T08:00:00.000Z',
        by: 'wang',
        updatedAt: '2026-03-02T08:00:00.000Z',
        fields: { items: [{ materialNumber: 'VS-2000', quantity: 1 }], expectedArrival: '2026-03-03T00:00:00.000Z', supplier: 'Delixi' },
      },
    ]);
    expect(waiting.history.at(-1)).toMatchObject({ action: 'wait', record: 'R1', partNumber: 'VS-2000' });

    t.clock.advanceTo(t.clock.now() + 60_000);
    const more = await post(t, `/api/v1/tickets/${id}/records/R1/items`, { by: 'li', items: [{ materialNumber: 'CB-16A', quantity: 2 }] });
    expect(more.statusCode).toBe(200);
    const r1 = more.json<Ticket>().records[0]!;
    expect(r1.fields.items).toEqual([{ materialNumber: 'VS-2000', quantity: 1 }, { materialNumber: 'CB-16A', quantity: 2 }]);
    expect(r1.updatedAt).toBe('2026-03-02T08:01:00.000Z');
    expect(more.json<Ticket>().history.at(-1)).toMatchObject({ action: 'record-items', by: 'li', actor: 'wang', record: 'R1', items: [{ materialNumber: 'CB-16A', quantity: 2 }] });

    for (const action of ['resume']) expect((await act(t, id, { action })).statusCode).toBe(200);
    expect((await act(t, id, { action: 'resolve', resolution: '加装稳压电源', rootCause: 'voltage sag' })).statusCode).toBe(200);
    const refused = await act(t, id, { action: 'close' });
    expect(refused.statusCode).toBe(422);
    expect(refused.json()).toMatchObject({ code: 'ANDON_TICKET_ACCEPTANCE_REQUIRED', path: 'records' });

    const failed = await record(t, id, { type: 'acceptance', fields: { acceptedBy: 'Zhang (customer)', result: 'failed', note: 'one stop in 24 h' } });
    expect(failed.json<Ticket>().records[1]).toMatchObject({ id: 'R2', type: 'acceptance', fields: { result: 'failed', evidence: null } });
    expect((await act(t, id, { action: 'close' })).json()).toMatchObject({ code: 'ANDON_TICKET_ACCEPTANCE_REQUIRED' });

    const passed = await record(t, id, { type: 'acceptance', fields: { acceptedBy: 'Zhang (customer)', result: 'passed', note: '24 h without alarms', evidence: 'https://mes.example/acc/77' } });
    expect(passed.statusCode).toBe(200);
    const closed = await act(t, id, { action: 'close' });
    expect(closed.statusCode).toBe(200);
    expect(closed.json<Ticket>()).toMatchObject({ state: 'closed' });
    expect(closed.json<Ticket>().records.map((r) => r.type)).toEqual(['parts-request', 'acceptance', 'acceptance']);
    // a closed ticket takes no more records
    expect((await record(t, id, { type: 'acceptance', fields: { acceptedBy: 'x', result: 'passed' } })).json()).toMatchObject({ code: 'ANDON_TICKET_ILLEGAL_TRANSITION' });
  });

  it('a priority not in requireAcceptance closes without one; wait for parts still needs its part number and eta', async () => {
    t.signal('packaging/oven-01/temperature', 95); // P2
    const id = t.store.list({ history: false }).items[0]!.id;
    for (const action of ['ack', 'start']) await act(t, id, { action });
    expect((await act(t, id, { action: 'wait', reason: 'parts', eta: '2026-03-03T08:00:00Z' })).json()).toMatchObject({ code: 'ANDON_TICKET_FIELD_REQUIRED', path: 'partNumber' });
    expect((await act(t, id, { action: 'wait', reason: 'parts', partNumber: 'HB-1' })).json()).toMatchObject({ code: 'ANDON_TICKET_FIELD_REQUIRED', path: 'eta' });
    expect(t.store.doc(id)).toMatchObject({ state: 'in_progress', records: [] });
    // waiting for something else makes no record
    expect((await act(t, id, { action: 'wait', reason: 'coordination' })).json<Ticket>().records).toEqual([]);
    await act(t, id, { action: 'resume' });
    await act(t, id, { action: 'resolve', resolution: 'r', rootCause: 'c' });
    expect((await act(t, id, { action: 'close' })).statusCode).toBe(200);
  });

  it('refuses bad records with a code, changes nothing, and counts them', async () => {
    const id = await inProgress(t);
    const cases: [string, object, number, object][] = [
      [`/api/v1/tickets/${id}/records`, { type: 'invoice', fields: {} }, 422, { code: 'ANDON_RECORD_UNKNOWN_TYPE', path: 'type' }],
      [`/api/v1/tickets/${id}/records`, { type: 'parts-request', fields: { items: [{ materialNumber: 'A', quantity: 1 }] } }, 422, { code: 'ANDON_RECORD_FIELD_REQUIRED', path: 'fields.expectedArrival' }],
      [`/api/v1/tickets/${id}/records`, { type: 'parts-request', fields: { items: [{ materialNumber: 'A' }], expectedArrival: '2026-03-03T00:00:00Z' } }, 422, { code: 'ANDON_RECORD_FIELD_REQUIRED', path: 'fields.items[0].quantity' }],
      [`/api/v1/tickets/${id}/records`, { type: 'parts-request', fields: { items: [{ materialNumber: 'A', quantity: 1 }], expectedArrival: 'tomorrow' } }, 422, { code: 'ANDON_RECORD_INVALID_FIELD', path: 'fields.expectedArrival' }],
      [`/api/v1/tickets/${id}/records`, { type: 'acceptance', fields: { acceptedBy: 'z', result: 'ok' } }, 422, { code: 'ANDON_RECORD_INVALID_FIELD', path: 'fields.result' }],
      [`/api/v1/tickets/${id}/records`, { type: 'acceptance', fields: { acceptedBy: 'z', result: 'passed', evidence: 'javascript:alert(1)' } }, 422, { code: 'ANDON_RECORD_INVALID_FIELD', path: 'fields.evidence' }],
      [`/api/v1/tickets/${id}/records`, { type: 'acceptance', fields: { acceptedBy: 'z', result: 'passed', colour: 'red' } }, 422, { code: 'ANDON_RECORD_INVALID_FIELD', path: 'fields.colour' }],
      [`/api/v1/tickets/NOPE/records`, { type: 'acceptance', fields: { acceptedBy: 'z', result: 'passed' } }, 404, { code: 'ANDON_TICKET_NOT_FOUND' }],
      [`/api/v1/tickets/${id}/records/R9/items`, { items: [{ materialNumber: 'A', quantity: 1 }] }, 404, { code: 'ANDON_RECORD_NOT_FOUND' }],
    ];
    for (const [url, body, status, answer] of cases) {
      const res = await post(t, url, { by: 'wang', ...body });
      expect(res.statusCode, JSON.stringify(body)).toBe(status);
      expect(res.json()).toMatchObject(answer);
    }
    expect(t.store.doc(id)).toMatchObject({ version: 3, records: [] });
    const metrics = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toContain('andon_http_errors_total{code="ANDON_RECORD_UNKNOWN_TYPE"} 1');
    expect(metrics).toContain('andon_http_errors_total{code="ANDON_RECORD_FIELD_REQUIRED"} 2');
    expect(metrics).toContain('andon_http_errors_total{code="ANDON_RECORD_INVALID_FIELD"} 4');
    expect(metrics).toContain('andon_http_errors_total{code="ANDON_RECORD_NOT_FOUND"} 1');
    const audit = t.store.audit.list({ limit: 50, offset: 0, action: 'ticket.record' });
    expect(audit.items.some((r) => r.outcome === 'refused' && r.code === 'ANDON_RECORD_UNKNOWN_TYPE')).toBe(true);
  });

  it('a config reload applies new record types and requireAcceptance', async () => {
    const id = await inProgress(t);
    expect((await record(t, id, { type: 'calibration', fields: { value: 3 } })).json()).toMatchObject({ code: 'ANDON_RECORD_UNKNOWN_TYPE' });
    const types = [...t.config.records.types, { id: 'calibration', fields: [{ name: 'value', type: 'number' as const, required: true }] }];
    t.runtime.reconfigure({ ...t.config, records: { types }, lifecycle: { ...t.config.lifecycle, requireAcceptance: [] } }, { rebuildRules: false });
    expect((await record(t, id, { type: 'calibration', fields: { value: 3 } })).json<Ticket>().records[0]).toMatchObject({ id: 'R1', type: 'calibration', fields: { value: 3 } });
    await act(t, id, { action: 'resolve', resolution: 'r', rootCause: 'c' });
    expect((await act(t, id, { action: 'close' })).statusCode).toBe(200);
  });
});

describe('records on their way to central', () => {
  it('the HTTP contract carries them in the ticket and its history; RT gets them as comment lines', async () => {
    const t = await testApp({ extra: CONFIG });
    const central = await startCentral({ random: seeded(3) });
    try {
      const id = await inProgress(t);
      await act(t, id, { action: 'wait', reason: 'parts', partNumber: 'VS-2000', eta: '2026-03-03T00:00:00Z' });
      await record(t, id, { type: 'acceptance', fields: { acceptedBy: 'Zhang', result: 'passed' } });
      const ticket = t.store.get(id)!;
      const sink = createHttpSink({ url: central.url, timeout: 5_000 }, { now: () => t.clock.now() });
      const body: ForwardedTicket = { ...ticket, historyFrom: 0, history: ticket.history.map((e, index) => ({ ...e, index })) };
      const answer = await sink.put(body, AbortSignal.timeout(5_000));
      expect(answer).toMatchObject({ version: ticket.version });
      const stored = central.tickets().get(id)!.ticket as unknown as Ticket;
      expect(stored.records.map((r) => [r.id, r.type])).toEqual([
        ['R1', 'parts-request'],
        ['R2', 'acceptance'],
      ]);
      expect(stored.history.map((e) => e.action)).toContain('record');
      // RT: each event is a comment line, the record's fields with it
      const comment = updateComment(ticket, ticket.history.slice(-2));
      expect(comment.Subject).toBe(`Andon v${ticket.version}: wait, record`);
      expect(comment.Content).toContain('record=R1');
      expect(eventLine(ticket.history.at(-1)!)).toMatch(/record by wang .*type=acceptance .*"acceptedBy":"Zhang"/);
    } finally {
      await central.stop();
      await t.close();
    }
  });
});
