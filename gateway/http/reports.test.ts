import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { durationStats } from '../store/reports.ts';
import { bearer, testApp, TOKENS } from './fixture.ts';

const DAY1 = Date.parse('2026-03-02T00:00:00.000Z');
const MIN = 60_000;
const H = 60 * MIN;
const D = 24 * H;
const CLOSE = { checklist: { customerInformed: true, partsRecorded: true, knowledgeBaseChecked: true } };

describe('durationStats', () => {
  it('gives count, mean, median (middle or mean of the two middles) and p90 (nearest rank) in seconds', () => {
    expect(durationStats([])).toEqual({ count: 0, meanSeconds: null, medianSeconds: null, p90Seconds: null });
    expect(durationStats([5000])).toEqual({ count: 1, meanSeconds: 5, medianSeconds: 5, p90Seconds: 5 });
    expect(durationStats([30_000, 10_000, 20_000])).toEqual({ count: 3, meanSeconds: 20, medianSeconds: 20, p90Seconds: 30 });
    expect(durationStats([4000, 1000, 3000, 2000])).toEqual({ count: 4, meanSeconds: 2.5, medianSeconds: 2.5, p90Seconds: 4 });
    const tens = Array.from({ length: 10 }, (_, i) => (i + 1) * 1000);
    expect(durationStats(tens).p90Seconds).toBe(9);
    expect(durationStats([...tens, 11_000]).p90Seconds).toBe(10);
  });
});

describe('reports on a real SQLite file, tickets made through the runtime', () => {
  let t: Awaited<ReturnType<typeof testApp>>;
  const at = (ms: number) => t.clock.advanceTo(ms);
  const act = (key: string, action: string, fields: Record<string, unknown> = {}) =>
    t.runtime.act({ type: 'transition', at: t.clock.now(), key, action, by: 'wang', fields });
  const get = (url: string) => t.app.inject({ url, headers: bearer(TOKENS.operator) });

  beforeEach(async () => {
    t = await testApp({ start: DAY1 - 2 * D });
    // Before the period: a sealer ticket, raised and closed two days earlier.
    t.signal('packaging/sealer-01/alarm', true);
    act('sealer-01/alarm-stop', 'resolve', { resolution: 'x', rootCause: 'y' });
    act('sealer-01/alarm-stop', 'close', CLOSE);
    t.signal('packaging/sealer-01/alarm', false);

    // Day 1, 08:00: sealer opens (P1), 2 more raises; ack after 5 min, resolved after 60 min, closed.
    at(DAY1 + 8 * H);
    t.signal('packaging/sealer-01/alarm', true);
    at(DAY1 + 8 * H + 5 * MIN);
    act('sealer-01/alarm-stop', 'ack');
    for (const m of [10, 20]) {
      at(DAY1 + 8 * H + m * MIN - MIN);
      t.signal('packaging/sealer-01/alarm', false);
      at(DAY1 + 8 * H + m * MIN);
      t.signal('packaging/sealer-01/alarm', true);
    }
    at(DAY1 + 9 * H);
    t.signal('packaging/sealer-01/alarm', false);
    act('sealer-01/alarm-stop', 'resolve', { resolution: 'cleaned jaw', rootCause: 'residue' });
    act('sealer-01/alarm-stop', 'close', CLOSE);

    // Day 2: press (P1) acked after 30 min, not resolved; oven (P2) raised 6 times, untouched.
    at(DAY1 + D + 10 * H);
    t.signal('stamping/press-1/alarm', true);
    at(DAY1 + D + 10 * H + 30 * MIN);
    act('press-1/alarm-stop', 'ack');
    for (let i = 0; i < 6; i++) {
      at(DAY1 + D + 12 * H + i * 10 * MIN);
      t.signal('baking/oven-1/temperature', 85);
      at(DAY1 + D + 12 * H + i * 10 * MIN + MIN);
      t.signal('baking/oven-1/temperature', 70);
    }

    // Day 3: the sealer again (a new ticket): ack after 15 min, resolved 2 h after opening.
    at(DAY1 + 2 * D + 6 * H);
    t.signal('packaging/sealer-01/alarm', true);
    at(DAY1 + 2 * D + 6 * H + 15 * MIN);
    act('sealer-01/alarm-stop', 'ack');
    at(DAY1 + 2 * D + 8 * H);
    act('sealer-01/alarm-stop', 'resolve', { resolution: 'new jaw', rootCause: 'wear' });

    // After the period: more press raises, not counted.
    at(DAY1 + 5 * D);
    t.signal('stamping/press-1/alarm', false);
    at(DAY1 + 5 * D + MIN);
    t.signal('stamping/press-1/alarm', true);
  });
  afterEach(() => t.close());

  const FROM = new Date(DAY1).toISOString();
  const TO = new Date(DAY1 + 3 * D).toISOString();

  it('top faults: per asset and fault, tickets and raises in the period, most raises first', async () => {
    const res = await get(`/api/v1/reports/top-faults?from=${FROM}&to=${TO}`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      from: FROM,
      to: TO,
      items: [
        { asset: 'oven-1', area: 'baking', fault: 'overtemp', tickets: 1, occurrences: 6, lastAt: new Date(DAY1 + D + 12 * H + 50 * MIN).toISOString() },
        { asset: 'sealer-01', area: 'packaging', fault: 'alarm-stop', tickets: 2, occurrences: 4, lastAt: new Date(DAY1 + 2 * D + 6 * H).toISOString() },
        { asset: 'press-1', area: 'stamping', fault: 'alarm-stop', tickets: 1, occurrences: 1, lastAt: new Date(DAY1 + D + 10 * H).toISOString() },
      ],
    });
    expect(t.store.reports.topFaults(DAY1, DAY1 + 3 * D, 1).map((r) => r.asset)).toEqual(['oven-1']);
  });

  it('top faults: the default limit is 5 (the monthly TOP 5) and the period defaults to the 30 days before now', async () => {
    for (let i = 0; i < 6; i++) t.signal(`line/m-${i}/alarm`, true);
    at(t.clock.now() + MIN); // the period ends before now: raises at now are not in it yet
    const res = await get('/api/v1/reports/top-faults');
    expect(res.json().items).toHaveLength(5);
    expect(res.json().to).toBe(new Date(t.clock.now()).toISOString());
    expect(res.json().from).toBe(new Date(t.clock.now() - 30 * D).toISOString());
    expect((await get('/api/v1/reports/top-faults?limit=100')).json().items).toHaveLength(9);
  });

  it('response times: MTTA (open to first ack) and MTTR (open to first resolve) per priority', async () => {
    const res = await get(`/api/v1/reports/response?from=${FROM}&to=${TO}`);
    expect(res.statusCode).toBe(200);
    const none = { count: 0, meanSeconds: null, medianSeconds: null, p90Seconds: null };
    const unknown = { verified: 0, recurred: 0, rate: null };
    expect(res.json()).toEqual({
      from: FROM,
      to: TO,
      byPriority: [
        { priority: 'P0', opened: 0, mtta: none, mttr: none, firstTimeFix: unknown },
        // acks after 5, 30 and 15 min; resolutions after 60 min and 2 h
        {
          priority: 'P1',
          opened: 3,
          mtta: { count: 3, meanSeconds: 1000, medianSeconds: 900, p90Seconds: 1800 },
          mttr: { count: 2, meanSeconds: 5400, medianSeconds: 5400, p90Seconds: 7200 },
          // day 1's sealer fix did not hold: the fault was back on day 3; day 3's fix is still being verified
          firstTimeFix: { verified: 0, recurred: 1, rate: 0 },
        },
        { priority: 'P2', opened: 1, mtta: none, mttr: none, firstTimeFix: unknown },
        { priority: 'P3', opened: 0, mtta: none, mttr: none, firstTimeFix: unknown },
      ],
      byArea: [
        { area: 'baking', firstTimeFix: unknown },
        { area: 'packaging', firstTimeFix: { verified: 0, recurred: 1, rate: 0 } },
        { area: 'stamping', firstTimeFix: unknown },
      ],
    });
  });

  it('first-time fix: a fix quiet for 7 days is verified and counts; one whose fault came back does not', async () => {
    // day 3's sealer fix (resolved day 3, 08:00) stays quiet a week
    at(DAY1 + 2 * D + 8 * H + 7 * D);
    const res = (await get(`/api/v1/reports/response?from=${FROM}&to=${TO}`)).json();
    expect(res.byPriority[1].firstTimeFix).toEqual({ verified: 1, recurred: 1, rate: 0.5 });
    expect(res.byArea[1]).toEqual({ area: 'packaging', firstTimeFix: { verified: 1, recurred: 1, rate: 0.5 } });
    expect(t.store.liveByKey('sealer-01/alarm-stop')?.flags).toContain('fix-verified');
  });

  it('a period that is not one is refused with ANDON_REQUEST_INVALID', async () => {
    for (const q of ['from=yesterday', `from=${TO}&to=${FROM}`, `from=${FROM}&to=${FROM}`, 'limit=0', 'limit=101', 'colour=red']) {
      const res = await get(`/api/v1/reports/top-faults?${q}`);
      expect(res.statusCode, q).toBe(400);
      expect(res.json().code, q).toBe('ANDON_REQUEST_INVALID');
    }
    expect((await get('/api/v1/reports/response?to=soon')).json()).toMatchObject({ code: 'ANDON_REQUEST_INVALID', path: 'to' });
  });
});
