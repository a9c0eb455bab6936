import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMetrics } from '../metrics.ts';
import { warningReport } from '../tickets/warnings.ts';
import { bearer, testApp, TOKENS } from './fixture.ts';

const DAY1 = Date.parse('2026-03-02T06:00:00.000Z');
const S = 1000;
const D = 86_400_000;

describe('warningReport (precision figures)', () => {
  const row = (outcome: string, actualLeadSeconds: number | null = null) => ({ cause: 'a/x', effect: 'b/y', outcome, actualLeadSeconds });
  it('precision = confirmed ÷ settled, median of the confirmed leads, pending left out of precision', () => {
    const [r] = warningReport([row('confirmed', 40), row('missed'), row('confirmed', 70), row('pending'), row('confirmed', 50)], [], 0.5);
    expect(r).toEqual({ cause: 'a/x', effect: 'b/y', warnings: 5, confirmed: 3, missed: 1, pending: 1, precision: 0.75, medianLeadSeconds: 50, recentPrecision: null, stopped: false });
  });
  it('nothing settled: precision and median null', () => {
    expect(warningReport([row('pending')], [], 0.5)[0]).toMatchObject({ precision: null, medianLeadSeconds: null, stopped: false });
  });
  it('stopped: the newest 10 settled (judged from 5) below minPrecision; listed even without warnings in the period', () => {
    const latest = (outcomes: string[]) => outcomes.map((outcome) => ({ cause: 'a/x', effect: 'b/y', outcome }));
    expect(warningReport([], latest(['confirmed', 'missed', 'missed', 'missed']), 0.5)).toEqual([]); // 4 settled: not judged yet
    expect(warningReport([], latest(['confirmed', 'confirmed', 'missed', 'missed', 'missed']), 0.5)).toEqual([
      { cause: 'a/x', effect: 'b/y', warnings: 0, confirmed: 0, missed: 0, pending: 0, precision: null, medianLeadSeconds: null, recentPrecision: 0.4, stopped: true },
    ]);
    expect(warningReport([], latest(['confirmed', 'confirmed', 'missed', 'missed', 'missed']), 0.4)).toEqual([]); // 0.4 is not below 0.4
  });
});

describe('GET /api/v1/reports/warnings on a real gateway (runtime, SQLite file, virtual time)', () => {
  let t: Awaited<ReturnType<typeof testApp>>;
  let metrics: ReturnType<typeof createMetrics>;
  let registry: Registry;
  const at = (ms: number) => t.clock.advanceTo(ms);
  const get = (url: string) => t.app.inject({ url, headers: bearer(TOKENS.operator) });
  /** Oven-4 overheats; `lead` later (or never) press-9 stops; both back to normal 10 min later. */
  const day = (n: number, lead: number | null) => {
    const t0 = DAY1 + n * D;
    at(t0);
    t.signal('ovens/oven-4/temperature', 95);
    at(t0 + 10 * S);
    t.signal('ovens/oven-4/temperature', 20);
    if (lead !== null) {
      at(t0 + lead * S);
      t.signal('stamping/press-9/alarm', true);
    }
    at(t0 + 10 * 60 * S);
    if (lead !== null) t.signal('stamping/press-9/alarm', false);
  };

  beforeEach(async () => {
    t = await testApp({ start: DAY1 - D, extra: '  discoverCauses: { within: 5m, minSupport: 3 }' });
    registry = new Registry();
    metrics = createMetrics(registry, t.store);
    t.runtime.engine.changes$.subscribe((c) => metrics.onChange(c));
    for (const n of [0, 1, 2]) day(n, 60); // learnt: oven-4 overtemp 60 s before each press-9 stop
    // warned on days 3..9: confirmed after 50, 70, 40 s on days 3, 4, 6; missed on 5, 7, 8, 9
    for (const [n, lead] of [[3, 50], [4, 70], [5, null], [6, 40], [7, null], [8, null], [9, null]] as const) day(n, lead);
    day(10, null); // precision over the last 7 settled: 3/7 < 0.5 since day 9, so day 10 warns no more
  });
  afterEach(() => t.close());

  it('gives per cause → effect warnings, confirmed, missed, precision and median lead, and says the cause stopped warning', async () => {
    const res = await get(`/api/v1/reports/warnings?from=${new Date(DAY1).toISOString()}&to=${new Date(DAY1 + 30 * D).toISOString()}`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      from: new Date(DAY1).toISOString(),
      to: new Date(DAY1 + 30 * D).toISOString(),
      minPrecision: 0.5,
      items: [{ cause: 'oven-4/overtemp', effect: 'press-9/alarm-stop', warnings: 7, confirmed: 3, missed: 4, pending: 0, precision: 0.429, medianLeadSeconds: 50, recentPrecision: 0.429, stopped: true }],
    });
    const ticket = t.store.liveByKey('press-9/alarm-stop');
    expect(ticket?.warnings.map((w) => w.outcome)).toEqual(['confirmed', 'confirmed', 'missed', 'confirmed', 'missed', 'missed', 'missed']);
    const text = await registry.getSingleMetricAsString('andon_early_warnings_total');
    expect(text).toContain('andon_early_warnings_total{outcome="pending"} 7');
    expect(text).toContain('andon_early_warnings_total{outcome="confirmed"} 3');
    expect(text).toContain('andon_early_warnings_total{outcome="missed"} 4');
  });

  it('a period picks the warnings raised in it; CSV has one row per pair under a localized header', async () => {
    const first = await get(`/api/v1/reports/warnings?from=${new Date(DAY1 + 3 * D).toISOString()}&to=${new Date(DAY1 + 5 * D).toISOString()}`);
    expect(first.json().items[0]).toMatchObject({ warnings: 2, confirmed: 2, missed: 0, precision: 1, medianLeadSeconds: 60, stopped: true });
    const csv = await get(`/api/v1/reports/warnings?from=${new Date(DAY1).toISOString()}&to=${new Date(DAY1 + 30 * D).toISOString()}&format=csv`);
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(csv.body).toBe(
      '\uFEFFCause,Effect,Warnings,Confirmed,Missed,Pending,Precision,Median lead (s),"Precision, last 10",Stopped warning\r\n' +
        'oven-4/overtemp,press-9/alarm-stop,7,3,4,0,0.429,50,0.429,true\r\n',
    );
  });
});
