import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.ts';
import { VirtualScheduler } from '../rules/virtual-scheduler.ts';
import { ACK_LATENCY_BUCKETS } from './alarm-kpis.ts';
import { areasOf, createMetrics, type Metrics } from './metrics.ts';
import { createRuntime, type Runtime } from './runtime.ts';
import { TicketStore } from './store/store.ts';

const config = parseConfig(`
gateway: { id: kpi-test }
assets:
  sealer-01: { area: packaging, tags: ["packaging/sealer-01/**"] }
  sealer-02: { area: packaging, tags: ["packaging/sealer-02/**"] }
  filler-01: { area: packaging, tags: ["packaging/filler-01/**"] }
  capper-01: { area: packaging, tags: ["packaging/capper-01/**"] }
  feeder-3: { area: utilities, tags: ["utilities/feeder-3/**"] }
rules:
  - { id: alarms, when: { tag: "**/alarm/**", equals: true }, fault: alarm-stop, priority: P1 }
correlation:
  chatter: { count: 3, within: 60s }
  flood: { count: 3, within: 10m }
`);

const T0 = Date.parse('2026-03-02T08:00:00Z');
const MIN = 60_000;
const HOUR = 60 * MIN;

describe('alarm-management KPIs (ISA-18.2 / EEMUA 191)', () => {
  let store: TicketStore;
  let clock: VirtualScheduler;
  let registry: Registry;
  let metrics: Metrics;
  let runtime: Runtime;

  const start = () => {
    registry = new Registry();
    metrics = createMetrics(registry, store, { now: () => clock.now(), areas: areasOf(config) });
    runtime = createRuntime({ config, store, scheduler: clock });
    runtime.engine.changes$.subscribe((c) => metrics.onChange(c));
  };
  beforeEach(async () => {
    store = await TicketStore.open(':memory:');
    clock = new VirtualScheduler(T0);
    start();
  });
  afterEach(async () => {
    runtime.stop();
    await store.close();
  });

  const at = (t: number) => clock.advanceTo(t);
  const signal = (tag: string, value: boolean) => runtime.push({ source: 'plc', tag, value, quality: 'good', ts: clock.now() });
  /** One alarm raise: the tag goes to true (from false, so a repeat is a new raise). */
  const raise = (tag: string) => {
    signal(tag, false);
    signal(tag, true);
  };
  const values = async (name: string) => {
    const got = await registry.getSingleMetric(name)!.get();
    return Object.fromEntries(got.values.map((v) => [Object.keys(v.labels).length ? Object.values(v.labels).join(',') : '-', v.value]));
  };
  const value = async (name: string) => (await values(name))['-'];
  const act = (id: string, action: string, fields: Record<string, unknown> = {}) =>
    runtime.act({ type: 'transition', at: clock.now(), id, action, by: 'wang', fields });

  it('alarm rate counts raises per area over a sliding 10 minutes; unknown areas count under ""', async () => {
    expect(await values('andon_alarm_rate_10m')).toEqual({ '': 0, packaging: 0, utilities: 0 });
    raise('packaging/sealer-01/alarm/E21'); // opens the ticket
    at(T0 + 2 * MIN);
    signal('packaging/sealer-01/alarm/E21', false);
    at(T0 + 4 * MIN);
    signal('packaging/sealer-01/alarm/E21', true); // an occurrence
    raise('utilities/feeder-3/alarm/UV');
    raise('mystery/box-7/alarm/E1'); // area "mystery" is not configured
    expect(await values('andon_alarm_rate_10m')).toEqual({ '': 1, packaging: 2, utilities: 1 });
    at(T0 + 10 * MIN - 1);
    expect((await values('andon_alarm_rate_10m')).packaging).toBe(2);
    at(T0 + 10 * MIN); // the first raise leaves the window
    expect(await values('andon_alarm_rate_10m')).toEqual({ '': 1, packaging: 1, utilities: 1 });
    at(T0 + 14 * MIN);
    expect(await values('andon_alarm_rate_10m')).toEqual({ '': 0, packaging: 0, utilities: 0 });
  });

  it('the flood gauge is 1 while a flood lasts in its area and 0 once it ends; every area is present', async () => {
    expect(await values('andon_flood_active')).toEqual({ '': 0, packaging: 0, utilities: 0 });
    for (const asset of ['sealer-01', 'sealer-02', 'filler-01', 'capper-01']) raise(`packaging/${asset}/alarm/E1`);
    expect(store.list({ fault: 'alarm-flood' }).total).toBe(1);
    expect(await values('andon_flood_active')).toEqual({ '': 0, packaging: 1, utilities: 0 });
    at(T0 + 11 * MIN); // the window empties: the flood ends (the ticket stays for review)
    expect(store.list({ fault: 'alarm-flood' }).items[0]).toMatchObject({ state: 'open', condition: 'cleared' });
    expect(await values('andon_flood_active')).toEqual({ '': 0, packaging: 0, utilities: 0 });
  });

  it('counts chattering tickets until they are closed', async () => {
    for (let i = 0; i < 3; i++) {
      at(T0 + i * 10_000);
      raise('packaging/sealer-01/alarm/E21');
    }
    const t = store.liveByKey('sealer-01/alarm-stop')!;
    expect(t.flags).toContain('chattering');
    expect(await value('andon_chattering_tickets')).toBe(1);
    act(t.id, 'resolve', { resolution: 'tightened the proximity switch', rootCause: 'loose sensor' });
    expect(await value('andon_chattering_tickets')).toBe(1); // resolved is still live
    act(t.id, 'close', { checklist: { customerInformed: true, partsRecorded: true, knowledgeBaseChecked: true } });
    expect(await value('andon_chattering_tickets')).toBe(0);
  });

  it('a ticket is stale once its condition has been active for 24 h, and not after it clears', async () => {
    raise('packaging/sealer-01/alarm/E21');
    at(T0 + 2 * HOUR);
    raise('utilities/feeder-3/alarm/UV'); // active from 2 h on
    at(T0 + 24 * HOUR - 1);
    expect(await value('andon_stale_tickets')).toBe(0);
    at(T0 + 24 * HOUR);
    expect(await value('andon_stale_tickets')).toBe(1);
    at(T0 + 26 * HOUR);
    expect(await value('andon_stale_tickets')).toBe(2);
    signal('packaging/sealer-01/alarm/E21', false); // back to normal
    expect(await value('andon_stale_tickets')).toBe(1);
    signal('packaging/sealer-01/alarm/E21', true); // active again: the 24 h start over
    expect(await value('andon_stale_tickets')).toBe(1);
    at(T0 + 50 * HOUR);
    expect(await value('andon_stale_tickets')).toBe(2);
  });

  it('observes the ack latency once per ack, by priority', async () => {
    raise('packaging/sealer-01/alarm/E21');
    const t = store.liveByKey('sealer-01/alarm-stop')!;
    at(T0 + 20 * MIN);
    act(t.id, 'ack');
    act(t.id, 'start');
    runtime.act({ type: 'comment', at: clock.now(), id: t.id, by: 'wang', text: 'on it' });
    const h = await registry.getSingleMetric('andon_ack_latency_seconds')!.get();
    const series = (suffix: string) => h.values.filter((v) => (v as { metricName?: string }).metricName === `andon_ack_latency_seconds${suffix}`);
    const p1 = (suffix: string) => series(suffix).filter((v) => v.labels.priority === 'P1');
    expect(p1('_count')[0]!.value).toBe(1);
    expect(p1('_sum')[0]!.value).toBe(1200);
    expect(p1('_bucket').find((b) => b.labels.le === 900)!.value).toBe(0);
    expect(p1('_bucket').find((b) => b.labels.le === 1800)!.value).toBe(1);
    // every priority has its series from the start (0), the buckets span SLA minutes to days
    expect(series('_count').map((v) => v.labels.priority)).toEqual(['P0', 'P1', 'P2', 'P3']);
    expect(ACK_LATENCY_BUCKETS[0]).toBeLessThanOrEqual(60);
    expect(ACK_LATENCY_BUCKETS.at(-1)).toBeGreaterThanOrEqual(86_400);
  });

  it('counts shelved tickets while shelvedUntil is in the future', async () => {
    raise('packaging/sealer-01/alarm/E21');
    raise('utilities/feeder-3/alarm/UV');
    const sealer = store.liveByKey('sealer-01/alarm-stop')!;
    const feeder = store.liveByKey('feeder-3/alarm-stop')!;
    act(sealer.id, 'shelve', { reason: 'sensor replaced tomorrow', duration: '2h' });
    act(feeder.id, 'shelve', { reason: 'feeder work', duration: '1h' });
    expect(await value('andon_shelved_tickets')).toBe(2);
    act(feeder.id, 'unshelve');
    expect(await value('andon_shelved_tickets')).toBe(1);
    // after a restart the gauge starts from the store
    runtime.stop();
    start();
    expect(await value('andon_shelved_tickets')).toBe(1);
    at(T0 + 2 * HOUR - 1);
    expect(await value('andon_shelved_tickets')).toBe(1);
    at(T0 + 2 * HOUR);
    expect(await value('andon_shelved_tickets')).toBe(0);
  });

  it('after a restart every KPI starts from the store', async () => {
    for (let i = 0; i < 3; i++) {
      at(T0 + i * 10_000);
      raise('utilities/feeder-3/alarm/UV'); // chattering
    }
    at(T0 + 30_000);
    for (const asset of ['sealer-01', 'sealer-02', 'filler-01', 'capper-01']) raise(`packaging/${asset}/alarm/E1`); // a flood
    raise('mystery/box-7/alarm/E1');
    at(T0 + 5 * MIN);
    const kpis = async () => ({
      rate: await values('andon_alarm_rate_10m'),
      flood: await values('andon_flood_active'),
      chattering: await value('andon_chattering_tickets'),
    });
    const before = await kpis();
    expect(before).toEqual({ rate: { '': 1, packaging: 4, utilities: 3 }, flood: { '': 0, packaging: 1, utilities: 0 }, chattering: 1 });
    runtime.stop();
    start();
    expect(await kpis()).toEqual(before);
    // The restarted rules pick the flood up from its ticket and end it once the area was calm for the window.
    at(T0 + 30_000 + 10 * MIN);
    expect(store.list({ fault: 'alarm-flood' }).items[0]!.condition).toBe('cleared');
    expect((await values('andon_flood_active')).packaging).toBe(0);
    at(T0 + 15_000 + 24 * HOUR);
    expect(await value('andon_stale_tickets')).toBe(0); // feeder-3 cleared and rose again at +20 s
    at(T0 + 20_000 + 24 * HOUR);
    expect(await value('andon_stale_tickets')).toBe(1); // feeder-3, active since its last raise
    at(T0 + 30_000 + 24 * HOUR);
    expect(await value('andon_stale_tickets')).toBe(2); // and box-7 (the flood ended)
  });

  it('open tickets and the per-group open and overdue gauges follow each change in memory, and agree with the store after a restart', async () => {
    raise('packaging/sealer-01/alarm/E21');
    raise('utilities/feeder-3/alarm/UV');
    const sealer = store.liveByKey('sealer-01/alarm-stop')!;
    const feeder = store.liveByKey('feeder-3/alarm-stop')!;
    const gauges = async () => ({ open: await values('andon_tickets_open'), groups: await values('andon_group_open_tickets'), overdue: await values('andon_group_overdue_tickets') });
    expect(await gauges()).toEqual({ open: { 'P1,packaging': 1, 'P1,utilities': 1 }, groups: { '': 2 }, overdue: { '': 0 } });
    at(Date.parse(sealer.respondBy) + 1); // both past respondBy, unacknowledged
    expect((await gauges()).overdue).toEqual({ '': 2 });
    act(sealer.id, 'ack');
    expect((await gauges()).overdue).toEqual({ '': 1 });
    act(sealer.id, 'start');
    act(sealer.id, 'resolve', { resolution: 'cleaned the sensor', rootCause: 'dust' });
    const after = await gauges();
    expect(after).toEqual({ open: { 'P1,utilities': 1 }, groups: { '': 1 }, overdue: { '': 1 } });
    expect(Date.parse(feeder.resolveBy)).toBeGreaterThan(clock.now());
    runtime.stop();
    start();
    expect(await gauges()).toEqual(after);
  });

  it('labels open tickets of unconfigured areas area=""', async () => {
    raise('mystery/box-7/alarm/E1');
    raise('other/box-8/alarm/E1');
    raise('packaging/sealer-01/alarm/E21');
    expect(await values('andon_tickets_open')).toEqual({ 'P1,': 2, 'P1,packaging': 1 });
  });
});
