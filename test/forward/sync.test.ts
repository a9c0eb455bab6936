import { Registry } from 'prom-client';
import { Subject } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/load.ts';
import { createHttpSink } from '../../gateway/forward/http-sink.ts';
import { createSyncApplier, startSyncPoller } from '../../gateway/forward/sync.ts';
import { buildApp } from '../../gateway/http/app.ts';
import { createMetrics } from '../../gateway/metrics.ts';
import { startCentral, type Central } from '../../sim/central/server.ts';
import { gateway, next, tempDir, when, type Gw } from './kit.ts';

const ADMIN = { authorization: 'Bearer admin-token-0123456789ab' };
const OPERATOR = { authorization: 'Bearer operator-token-0123456789' };
const APP_CONFIG = parseConfig(`
gateway:
  id: sync-test
  auth:
    tokens:
      - { name: central, role: admin, token: admin-token-0123456789ab }
      - { name: wang, role: operator, token: operator-token-0123456789 }
rules:
  - { id: alarms, when: { tag: "**/alarm/**", equals: true }, fault: alarm-stop, priority: P2 }
`);

describe('sync back from central', () => {
  let tmp: ReturnType<typeof tempDir>;
  let central: Central;
  let g: Gw;
  beforeEach(async () => {
    tmp = tempDir('sync');
    central = await startCentral();
    g = await gateway(tmp.file, central.url);
  });
  afterEach(async () => {
    await g.close();
    await central.stop();
    tmp.remove();
  });

  const app = () => {
    const registry = new Registry();
    const metrics = createMetrics(registry, g.store, { now: () => g.clock.now() });
    return { registry, app: buildApp({ config: APP_CONFIG, store: g.store, runtime: g.runtime, registry, metrics, now: () => g.clock.now(), ready: () => true }) };
  };

  it('POST /api/v1/sync applies central\'s changes through the lifecycle; refused ones are recorded and counted, never lost', async () => {
    g.alarm('s1', true);
    const id = g.ticket('s1').id;
    const { app: api, registry } = app();
    const res = await api.inject({
      method: 'POST',
      url: '/api/v1/sync',
      headers: ADMIN,
      payload: [
        { ticketId: id, action: 'assign', by: 'li', fields: { assignee: 'li', occurrences: 99, condition: 'cleared' } },
        { ticketId: id, action: 'ack', by: 'li', at: '2026-03-02T05:59:00Z' },
        { ticketId: id, action: 'ack', by: 'li' }, // the same change again (push and poll both brought it)
        { ticketId: id, action: 'close', by: 'li', fields: { checklist: {} } }, // illegal from acknowledged
        { ticketId: id, action: 'set-priority', by: 'li', fields: { priority: 'P0' } }, // not central's to change
        { ticketId: 'no-such-ticket', action: 'ack', by: 'li' },
      ],
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ applied: 2, duplicate: 1, refused: 3 });
    expect(body.results[0]).toMatchObject({ outcome: 'applied', ignoredFields: ['occurrences', 'condition'] });
    expect(body.results.slice(3).map((r: { code: string }) => r.code)).toEqual(['ANDON_TICKET_ILLEGAL_TRANSITION', 'ANDON_FORWARD_SYNC_NOT_ALLOWED', 'ANDON_TICKET_NOT_FOUND']);

    const t = g.ticket('s1');
    expect(t).toMatchObject({ state: 'acknowledged', assignee: 'li', occurrences: 1, condition: 'active', acknowledgedAt: '2026-03-02T05:59:00.000Z' });
    expect(t.history.slice(-2).map((h) => [h.action, h.by])).toEqual([
      ['assign', 'li (central)'],
      ['ack', 'li (central)'],
    ]);
    expect(g.store.syncLog.list().map((e) => [e.ticketId, e.action, e.source, e.code])).toEqual([
      ['no-such-ticket', 'ack', 'push', 'ANDON_TICKET_NOT_FOUND'],
      [id, 'set-priority', 'push', 'ANDON_FORWARD_SYNC_NOT_ALLOWED'],
      [id, 'close', 'push', 'ANDON_TICKET_ILLEGAL_TRANSITION'],
    ]);
    const metrics = await registry.getSingleMetricAsString('andon_sync_changes_total');
    expect(metrics).toContain('andon_sync_changes_total{outcome="refused"} 3');
    expect(metrics).toContain('andon_sync_changes_total{outcome="applied"} 2');
    await api.close();
  });

  it('POST /api/v1/sync refuses a change whose at is not a time on its own; the next change applies and nothing is held', async () => {
    g.alarm('s1', true);
    const id = g.ticket('s1').id;
    const { app: api, registry } = app();
    const res = await api.inject({
      method: 'POST',
      url: '/api/v1/sync',
      headers: ADMIN,
      payload: [
        { ticketId: id, action: 'ack', by: 'li', at: 'yesterday' },
        { ticketId: id, action: 'ack', by: 'li', at: -1e300 },
        { ticketId: id, action: 'ack', by: 'li', at: '1999-12-31T23:00:00Z' },
        { ticketId: id, action: 'ack', by: 'li', at: '2026-03-02T05:59:00Z' },
      ],
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ applied: 1, refused: 3 });
    expect(g.store.syncLog.list().map((e) => e.code)).toEqual(Array(3).fill('ANDON_FORWARD_SYNC_INVALID_TIME'));
    expect(g.ticket('s1').state).toBe('acknowledged');
    expect(g.runtime.held()).toBe(0);
    expect(await registry.getSingleMetricAsString('andon_sync_changes_total')).toContain('andon_sync_changes_total{outcome="refused"} 3');
    await api.close();
  });

  it('POST /api/v1/sync needs role admin and a valid body', async () => {
    const { app: api } = app();
    expect((await api.inject({ method: 'POST', url: '/api/v1/sync', headers: OPERATOR, payload: [] })).json().code).toBe('ANDON_AUTH_FORBIDDEN');
    expect((await api.inject({ method: 'POST', url: '/api/v1/sync', payload: [] })).json().code).toBe('ANDON_AUTH_REQUIRED');
    expect((await api.inject({ method: 'POST', url: '/api/v1/sync', headers: ADMIN, payload: [{ ticketId: 'x' }] })).json().code).toBe('ANDON_REQUEST_INVALID');
    await api.close();
  });

  it('polls central\'s changes with a persisted cursor; a person resolving at central resolves here, and the new version goes back', async () => {
    g.alarm('p1', true);
    const id = g.ticket('p1').id;
    g.forwarder.start();
    await when(central.events, 'write', () => central.tickets().get(id)?.version === 1);
    const applier = createSyncApplier({ runtime: g.runtime, store: g.store, now: () => g.clock.now() });
    const polled = new Subject<{ changes: number } | { error: unknown }>();
    const poller = () =>
      startSyncPoller({
        sink: createHttpSink({ url: central.url, timeout: 2_000 }),
        applier,
        store: g.store,
        scheduler: g.clock,
        interval: 30_000,
        cursorKey: 'sync.cursor test',
        onPolled: (r) => polled.next(r),
      });

    const first = next(polled, () => true);
    let p = poller();
    expect(await first).toEqual({ changes: 0 });
    expect(g.store.meta.get('sync.cursor test')).toBe('0');

    central.act(id, 'resolve', 'li', { resolution: 'replaced the seal jaw', rootCause: 'worn jaw' });
    const resolved = next(g.runtime.engine.changes$, (c) => c.event.action === 'resolve');
    g.advance(29_999);
    await g.quiet();
    expect(g.ticket('p1').state).toBe('open');
    g.advance(1); // the poll timer
    expect((await resolved).ticket).toMatchObject({ id, state: 'resolved', resolution: 'replaced the seal jaw' });
    await when(central.events, 'write', () => central.tickets().get(id)?.ticket.state === 'resolved');

    await p.stop(); // a restart of the poller: it goes on from the stored cursor
    expect(g.store.meta.get('sync.cursor test')).toBe('1');
    central.act(id, 'assign', 'li', { assignee: 'wang' });
    p = poller();
    await next(g.runtime.engine.changes$, (c) => c.event.action === 'assign');
    await p.stop();
    expect(g.ticket('p1').history.filter((h) => h.action === 'resolve')).toHaveLength(1);
    expect(g.ticket('p1').assignee).toBe('wang');
    expect(g.store.syncLog.count()).toBe(0);
  });
});
