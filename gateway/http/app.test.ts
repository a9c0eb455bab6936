import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/load.ts';
import { VirtualScheduler } from '../../rules/virtual-scheduler.ts';
import { createMetrics } from '../metrics.ts';
import { createRuntime } from '../runtime.ts';
import { TicketStore } from '../store/store.ts';
import { buildApp } from './app.ts';

const CONFIG = `
gateway:
  id: test-gw
  auth:
    anonymousRead: true
    tokens:
      - { name: mes, role: ingest, token: ingest-token-0123456789 }
      - { name: wang, role: operator, token: operator-token-0123456789 }
      - { name: root, role: admin, token: admin-token-0123456789ab }
sources: [ { id: mes-http, type: http } ]
assets:
  sealer-01: { area: packaging, tags: ["packaging/sealer-01/**"] }
rules:
  - { id: alarms, when: { tag: "packaging/*/alarm/**", equals: true }, fault: alarm-stop, category: hardware, priority: P1 }
`;

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const INGEST = bearer('ingest-token-0123456789');
const OPERATOR = bearer('operator-token-0123456789');

describe('HTTP API', () => {
  let store: TicketStore;
  let app: ReturnType<typeof buildApp>;
  let registry: Registry;
  const scheduler = new VirtualScheduler(Date.parse('2026-03-01T08:00:00Z'));

  beforeEach(async () => {
    const config = parseConfig(CONFIG);
    store = await TicketStore.open(':memory:');
    registry = new Registry();
    const metrics = createMetrics(registry, store);
    const runtime = createRuntime({ config, store, scheduler });
    runtime.engine.changes$.subscribe((c) => metrics.onChange(c));
    app = buildApp({ config, store, runtime, registry, metrics, now: () => scheduler.now(), ready: () => true });
  });
  afterEach(async () => {
    await app.close();
    await store.close();
  });

  const alarm = (value: boolean, headers: Record<string, string> = INGEST) =>
    app.inject({ method: 'POST', url: '/api/v1/signals', headers, payload: { tag: 'packaging/sealer-01/alarm/E21', value } });

  it('ingests a signal and answers after its ticket is committed', async () => {
    const res = await alarm(true);
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ accepted: 1 });
    const list = await app.inject({ method: 'GET', url: '/api/v1/tickets?state=open' });
    expect(list.json().total).toBe(1);
    expect(list.json().items[0]).toMatchObject({ key: 'sealer-01/alarm-stop', priority: 'P1', state: 'open', occurrences: 1 });
  });

  it('takes an array of signals', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/signals',
      headers: INGEST,
      payload: [
        { tag: 'packaging/sealer-01/alarm/E21', value: true },
        { tag: 'packaging/sealer-01/alarm/E21', value: false },
      ],
    });
    expect(res.statusCode).toBe(202);
    const t = (await app.inject({ method: 'GET', url: '/api/v1/tickets' })).json().items[0];
    expect(t.condition).toBe('cleared');
  });

  it('refuses ingest without a token or with the wrong role', async () => {
    expect((await alarm(true, {})).json().code).toBe('ANDON_AUTH_REQUIRED');
    const res = await alarm(true, OPERATOR);
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe('ANDON_AUTH_FORBIDDEN');
    expect((await app.inject({ method: 'GET', url: '/api/v1/tickets' })).json().total).toBe(0);
  });

  it('rejects malformed signals with a code, counts them, and keeps working', async () => {
    for (const payload of [{ tag: 1 }, { value: true }, { tag: 'a/b', value: { nested: 1 } }, 'not json', [{ tag: 'x' }]]) {
      const res = await app.inject({ method: 'POST', url: '/api/v1/signals', headers: { ...INGEST, 'content-type': 'application/json' }, payload: typeof payload === 'string' ? payload : JSON.stringify(payload) });
      expect(res.statusCode).toBe(400);
      expect(res.json().code).toMatch(/^ANDON_(SIGNAL|REQUEST)_INVALID$/);
    }
    const rejected = await registry.getSingleMetricAsString('andon_signals_rejected_total');
    expect(rejected).toMatch(/reason="schema"} 4/);
    expect(rejected).toMatch(/reason="json"} 1/);
    expect((await alarm(true)).statusCode).toBe(202);
  });

  it('drives the lifecycle and refuses illegal moves with 409 and no history event', async () => {
    await alarm(true);
    const id = (await app.inject({ method: 'GET', url: '/api/v1/tickets' })).json().items[0].id as string;
    const ack = await app.inject({ method: 'POST', url: `/api/v1/tickets/${id}/transitions`, headers: OPERATOR, payload: { action: 'ack' } });
    expect(ack.statusCode).toBe(200);
    expect(ack.json()).toMatchObject({ state: 'acknowledged', version: 2 });
    expect(ack.json().history.at(-1)).toMatchObject({ action: 'ack', by: 'wang' });

    const close = await app.inject({ method: 'POST', url: `/api/v1/tickets/${id}/transitions`, headers: OPERATOR, payload: { action: 'close', checklist: {} } });
    expect(close.statusCode).toBe(409);
    expect(close.json().code).toBe('ANDON_TICKET_ILLEGAL_TRANSITION');
    const after = (await app.inject({ method: 'GET', url: `/api/v1/tickets/${id}` })).json();
    expect(after.version).toBe(2);
    expect(after.history.map((h: { action: string }) => h.action)).toEqual(['opened', 'ack']);

    const resolve = await app.inject({ method: 'POST', url: `/api/v1/tickets/${id}/transitions`, headers: OPERATOR, payload: { action: 'resolve', resolution: 'new seal' } });
    expect(resolve.statusCode).toBe(422);
    expect(resolve.json()).toMatchObject({ code: 'ANDON_TICKET_FIELD_REQUIRED', path: 'rootCause' });

    const comment = await app.inject({ method: 'POST', url: `/api/v1/tickets/${id}/comments`, headers: OPERATOR, payload: { text: 'jaw heater checked' } });
    expect(comment.json().history.at(-1)).toMatchObject({ action: 'comment', by: 'wang', text: 'jaw heater checked' });
  });

  it('answers unknown tickets, unknown actions and unknown routes with codes', async () => {
    expect((await app.inject({ method: 'GET', url: '/api/v1/tickets/nope' })).json()).toMatchObject({ code: 'ANDON_TICKET_NOT_FOUND' });
    const bad = await app.inject({ method: 'POST', url: '/api/v1/tickets/nope/transitions', headers: OPERATOR, payload: { action: 'teleport' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().code).toBe('ANDON_REQUEST_INVALID');
    const missing = await app.inject({ method: 'POST', url: '/api/v1/tickets/nope/transitions', headers: OPERATOR, payload: { action: 'ack' } });
    expect(missing.statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/nope' })).json().code).toBe('ANDON_ROUTE_NOT_FOUND');
  });

  it('answers URLs the router refuses (a long id, broken percent-encoding) with a code too', async () => {
    for (const url of [`/api/v1/tickets/${'x'.repeat(300)}/transitions`, '/api/v1/tickets/%E0%A4%A/transitions']) {
      const res = await app.inject({ method: 'POST', url, headers: OPERATOR, payload: { action: 'ack' } });
      expect(res.statusCode, url).toBe(400);
      expect(res.json(), url).toMatchObject({ code: 'ANDON_REQUEST_INVALID', message: expect.any(String) });
    }
  });

  it('serves health, readiness and metrics', async () => {
    expect((await app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    await alarm(true);
    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/andon_tickets_opened_total\{priority="P1"} 1/);
    expect(metrics).toMatch(/andon_tickets_open\{priority="P1",area="packaging"} 1/);
    expect(metrics).toMatch(/andon_outbox_pending 1/);
  });
});
