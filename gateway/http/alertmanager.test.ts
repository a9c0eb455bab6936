import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/load.ts';
import { VirtualScheduler } from '../../rules/virtual-scheduler.ts';
import { matches } from '../actions.ts';
import { createMetrics } from '../metrics.ts';
import { createRuntime } from '../runtime.ts';
import { TicketStore } from '../store/store.ts';
import { alertToSignal, type AmAlert } from './alertmanager.ts';
import { buildApp } from './app.ts';

const CONFIG = `
gateway:
  id: am-test
  auth:
    tokens:
      - { name: alertmanager, role: ingest, token: ingest-token-0123456789 }
      - { name: wang, role: operator, token: operator-token-0123456789 }
sources: [ { id: mes-http, type: http } ]
assets:
  sealer-01: { area: packaging, tags: ["packaging/sealer-01/**"] }
rules:
  - { id: monitoring, when: { tag: "alertmanager/**", equals: true }, fault: monitoring-alert, category: it, priority: P1 }
`;
const INGEST = { authorization: 'Bearer ingest-token-0123456789' };
const T0 = Date.parse('2026-03-01T08:00:00Z');

/** An Alertmanager webhook body (version 4) as Alertmanager 0.25 sends it. */
const payload = (status: 'firing' | 'resolved', alerts: Partial<AmAlert>[]) => ({
  receiver: 'andon',
  status,
  alerts: alerts.map((a) => ({
    status,
    labels: { alertname: 'AndonSourceDown', severity: 'critical', instance: 'gw-a:8080', source: 'packaging-plc' },
    annotations: { summary: 'Andon source packaging-plc is down on gw-a:8080' },
    startsAt: '2026-03-01T07:58:00Z',
    endsAt: status === 'firing' ? '0001-01-01T00:00:00Z' : '2026-03-01T08:05:00Z',
    generatorURL: 'http://prometheus:9090/graph?g0.expr=andon_source_up+%3D%3D+0',
    fingerprint: '5ee1c4a1b4c3d2e1',
    ...a,
  })),
  groupLabels: { alertname: 'AndonSourceDown' },
  commonLabels: { alertname: 'AndonSourceDown' },
  commonAnnotations: {},
  externalURL: 'http://alertmanager:9093',
  version: '4',
  groupKey: '{}:{alertname="AndonSourceDown"}',
  truncatedAlerts: 0,
});

describe('POST /api/v1/alertmanager', () => {
  let store: TicketStore;
  let app: ReturnType<typeof buildApp>;
  let registry: Registry;
  const clock = new VirtualScheduler(T0);
  const config = parseConfig(CONFIG);

  beforeEach(async () => {
    store = await TicketStore.open(':memory:');
    registry = new Registry();
    const metrics = createMetrics(registry, store, { now: () => clock.now() });
    const runtime = createRuntime({ config, store, scheduler: clock });
    runtime.engine.changes$.subscribe((c) => metrics.onChange(c));
    app = buildApp({ config, store, runtime, registry, metrics, now: () => clock.now(), ready: () => true });
  });
  afterEach(async () => {
    await app.close();
    await store.close();
  });

  const post = (body: unknown, headers: Record<string, string> = INGEST) =>
    app.inject({ method: 'POST', url: '/api/v1/alertmanager', headers, payload: body as object });

  it('a firing alert opens a ticket that an action would light; its resolution clears the condition, the ticket stays for a person', async () => {
    const res = await post(payload('firing', [{}]));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ accepted: 1, rejected: 0 });
    const t = store.liveByKey('AndonSourceDown/monitoring-alert')!;
    expect(t).toMatchObject({ state: 'open', condition: 'active', priority: 'P1', asset: 'AndonSourceDown', fault: 'monitoring-alert' });
    expect(t.evidence[0]).toMatchObject({
      tag: 'alertmanager/AndonSourceDown/5ee1c4a1b4c3d2e1',
      value: true,
      severity: 900,
      message: 'Andon source packaging-plc is down on gw-a:8080',
    });
    expect(matches({ fault: 'monitoring-alert', state: 'open' }, t)).toBe(true);

    expect((await post(payload('resolved', [{}]))).statusCode).toBe(200);
    expect(store.liveByKey('AndonSourceDown/monitoring-alert')).toMatchObject({ state: 'open', condition: 'cleared', occurrences: 1 });
    expect(await registry.getSingleMetricAsString('andon_signals_total')).toContain('andon_signals_total{source="mes-http"} 2');
  });

  it('Alertmanager repeating a firing group changes nothing; each alert instance keeps its own condition', async () => {
    await post(payload('firing', [{}]));
    await post(payload('firing', [{}])); // repeat_interval: the same group again
    expect(store.list().items.map((t) => [t.key, t.occurrences, t.history.length])).toEqual([['AndonSourceDown/monitoring-alert', 1, 1]]);
    // a second instance of the same alert (another source): one ticket per alertname, a new occurrence
    const other = { labels: { alertname: 'AndonSourceDown', source: 'power-meter' }, fingerprint: '0123456789abcdef' };
    await post(payload('firing', [{}, other]));
    expect(store.list().items.map((t) => [t.key, t.occurrences])).toEqual([['AndonSourceDown/monitoring-alert', 2]]);
  });

  it('takes only configured assets from labels and makes tags out of anything', async () => {
    await post(payload('firing', [{ labels: { alertname: 'SealerDown', asset: 'sealer-01' } }]));
    expect(store.liveByKey('sealer-01/monitoring-alert')).toMatchObject({ asset: 'sealer-01', area: 'packaging' });
    await post(payload('firing', [{ labels: { alertname: 'Disk / full *', asset: '../../etc' }, fingerprint: 'ab' }]));
    expect(store.liveByKey('Disk___full__/monitoring-alert')?.evidence[0]?.tag).toBe('alertmanager/Disk___full__/ab');
  });

  it('gives an alert without a fingerprint a stable identity from its labels', () => {
    const a: AmAlert = { status: 'firing', labels: { alertname: 'X', b: '2', a: '1' } };
    const b: AmAlert = { status: 'firing', labels: { a: '1', alertname: 'X', b: '2' } };
    const tag = (x: AmAlert) => alertToSignal(x, 'mes-http', {}, T0)!.tag;
    expect(tag(a)).toMatch(/^alertmanager\/X\/[0-9a-f]{16}$/);
    expect(tag(a)).toBe(tag(b));
    expect(tag({ ...a, labels: { ...a.labels, b: '3' } })).not.toBe(tag(a));
    // "not ended" (0001-01-01) or a far-off clock falls back to the gateway's time
    expect(alertToSignal({ ...a, status: 'resolved', endsAt: '0001-01-01T00:00:00Z' }, 'mes-http', {}, T0)!.ts).toBe(T0);
    expect(alertToSignal({ ...a, startsAt: '2026-03-01T07:59:00Z' }, 'mes-http', {}, T0)!.ts).toBe(T0 - 60_000);
  });

  it('refuses a firing alert dated before 2000 or ahead of the clock on its own, and counts it; the good alert opens its ticket', async () => {
    const res = await post(
      payload('firing', [
        { labels: { alertname: 'Old' }, startsAt: '1999-01-01T00:00:00Z', fingerprint: 'a1' },
        { labels: { alertname: 'Ahead' }, startsAt: '2026-03-01T09:00:00Z', fingerprint: 'a2' },
        { labels: { alertname: 'Good' }, startsAt: '2026-03-01T07:59:00Z', fingerprint: 'a3' },
      ]),
    );
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ accepted: 1, rejected: 2 });
    expect(store.list().items.map((t) => t.key)).toEqual(['Good/monitoring-alert']);
    expect(await registry.metrics()).toMatch(/andon_signals_rejected_total\{source="mes-http",reason="time"} 2/);
    // A resolved alert with a bad endsAt is not refused (its ticket's condition would stay active): it takes now, counted.
    await post(payload('resolved', [{ labels: { alertname: 'Good' }, endsAt: '1999-01-01T00:00:00Z', fingerprint: 'a3' }]));
    expect(store.liveByKey('Good/monitoring-alert')?.condition).toBe('cleared');
    expect(await registry.metrics()).toMatch(/andon_signal_time_replaced_total\{source="mes-http"} 1/);
  });

  it('refuses what is not an Alertmanager v4 payload, with a code, and counts it', async () => {
    const bad: [unknown, string][] = [
      [{ ...payload('firing', [{}]), version: '3' }, 'version'],
      [{ version: '4', status: 'firing' }, 'alerts'],
      [payload('firing', [{ status: 'bogus' as 'firing' }]), 'status'],
      [payload('firing', [{ labels: { alertname: 42 } as unknown as Record<string, string> }]), 'labels'],
      [payload('firing', [{ fingerprint: 'not hex!' }]), 'fingerprint'],
      [{ ...payload('firing', []), alerts: Array.from({ length: 1001 }, () => payload('firing', [{}]).alerts[0]) }, 'alerts'],
    ];
    for (const [body, what] of bad) {
      const res = await post(body);
      expect(res.statusCode, what).toBe(400);
      expect(res.json().code, what).toBe('ANDON_SIGNAL_INVALID');
      expect(res.json().message, what).toMatch(/^not an Alertmanager webhook payload \(version 4\)/);
    }
    expect((await post(payload('firing', [{}]), {})).json().code).toBe('ANDON_AUTH_REQUIRED');
    expect((await post(payload('firing', [{}]), { authorization: 'Bearer operator-token-0123456789' })).statusCode).toBe(403);
    expect(store.list().total).toBe(0);
    const rejected = await registry.getSingleMetricAsString('andon_signals_rejected_total');
    expect(rejected).toContain('andon_signals_rejected_total{source="mes-http",reason="schema"} 6');
    expect(rejected).toContain('andon_signals_rejected_total{source="mes-http",reason="auth"} 2');
  });
});
