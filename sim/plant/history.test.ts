import { describe, expect, it } from 'vitest';
import { replay } from '../../gateway/replay.ts';
import { localParts } from '../../rules/time-pattern.ts';
import { demoConfig } from './demo-config.ts';
import { history, isReading, sameLocalTimeBefore } from './history.ts';
import { SAG, SEALER_ALARM } from './story.ts';

/**
 * The demo's past days, replayed in virtual time as the demo does before going
 * live, plus the live run's sag and stop as records: the sealer's ticket must
 * come out recurring daily at the live stop's local time with the sag as its
 * discovered cause, in any timezone, around midnight and across a DST change.
 */
const plant = {
  opcua: 'opc.tcp://127.0.0.1:4840/UA/Plant',
  modbusPort: 5020,
  mqtt: 'mqtt://127.0.0.1:1883',
  central: 'http://127.0.0.1:9100',
  webhook: 'http://127.0.0.1:9000',
};

/** The live run as the plant plays it: the sag 19 s before the stop. */
const live = (stopAt: number) => [
  ...SAG.map((v, i) => ({ t: new Date(stopAt - 19_000 + i * 3_000).toISOString(), tag: 'utilities/feeder-3/voltage', value: v, source: 'power-meter' })),
  { t: new Date(stopAt).toISOString(), tag: `packaging/sealer-01/alarm/${SEALER_ALARM.code}`, value: true, source: 'packaging-plc', severity: 700 },
];

const minutesApart = (a: number, b: number) => {
  const d = Math.abs(a - b) % 1440;
  return Math.min(d, 1440 - d);
};
const atMinutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

async function runDemoDays(stopAt: number, timezone: string) {
  const config = demoConfig({ plant, dataDir: '/nonexistent', port: 0, env: { ANDON_TIMEZONE: timezone } });
  const now = stopAt - 30_000;
  const records = [...history({ stopAt, until: now, days: 4, timezone }), ...live(stopAt)].map((r) => JSON.stringify(r));
  const { tickets, summary } = await replay({ config, input: records });
  expect(summary.rejected).toBe(0);
  expect(summary.refused).toBe(0);
  return tickets;
}

describe('the demo history', () => {
  it('puts the past stops at the same local time of day, across a DST change', () => {
    // New York moved its clocks on 2026-03-08; the stop is on 03-10 at 16:00 local.
    const stopAt = Date.parse('2026-03-10T20:00:00Z');
    for (let k = 1; k <= 4; k++) {
      const t = sameLocalTimeBefore(stopAt, k, 'America/New_York');
      expect(localParts(t, 'America/New_York').minutes).toBe(16 * 60);
      expect(localParts(t, 'America/New_York').day).toBe(localParts(stopAt, 'America/New_York').day - k);
    }
  });

  it('ends before the live run and is the same for the same options', () => {
    const stopAt = Date.parse('2026-01-20T08:00:25Z');
    const a = history({ stopAt, until: stopAt - 25_000, days: 4, timezone: 'Asia/Shanghai' });
    expect(a.every((r) => Date.parse(r.t) < stopAt - 25_000)).toBe(true);
    // the last past day is the repair's quiet day: the feeder sags, the sealer runs through it
    expect(a.filter(isReading).filter((r) => r.tag.endsWith('/alarm/E21') && r.value === true)).toHaveLength(3);
    expect(a.filter(isReading).filter((r) => r.tag === 'utilities/freezer-01/running' && r.value === true)).toHaveLength(4);
    expect(history({ stopAt, until: stopAt - 25_000, days: 4, timezone: 'Asia/Shanghai' })).toEqual(a);
  });

  const cases: [string, string, string][] = [
    ['an afternoon in Shanghai', 'Asia/Shanghai', '2026-01-20T08:01:00Z'],
    ['a minute before midnight in Berlin', 'Europe/Berlin', '2026-01-20T22:59:30Z'],
    ['just after midnight UTC', 'UTC', '2026-01-21T00:00:40Z'],
    ['two days after DST began in New York', 'America/New_York', '2026-03-10T20:00:00Z'],
    ['a half-hour zone (Kolkata), at 23:58', 'Asia/Kolkata', '2026-06-01T18:28:00Z'],
  ];
  it.each(cases)('with the live stop on %s, the repaired case is closed and the new sealer ticket lists it first, recurring daily and blaming the sag', async (_name, timezone, iso) => {
    const stopAt = Date.parse(iso);
    const tickets = await runDemoDays(stopAt, timezone);
    const sealer = tickets.filter((t) => t.key === 'sealer-01/alarm-stop');
    expect(sealer).toHaveLength(2);
    const [fixed, t] = sealer as [(typeof sealer)[number], (typeof sealer)[number]];
    // the seed case, end to end: waited for parts with a parts request, resolved with the knowledge entry, accepted, closed
    expect(fixed).toMatchObject({ priority: 'P1', state: 'closed', occurrences: 3, knowledge: { labels: ['voltage-interference'] } });
    expect(fixed.knowledge?.solution).toContain('加装稳压电源');
    expect(fixed.records.map((r) => [r.type, r.fields.result ?? null])).toEqual([
      ['parts-request', null],
      ['acceptance', 'passed'],
    ]);
    expect((fixed.records[0]!.fields.items as { materialNumber: string }[]).map((i) => i.materialNumber)).toEqual(['VS-30KVA', 'CB-16A-2P']);
    expect(fixed.history.map((e) => e.action)).toEqual(expect.arrayContaining(['wait', 'record-items', 'resolve', 'record', 'close']));
    // the next day's alarm: a new ticket that shows that case first
    expect(t).toMatchObject({ priority: 'P1', state: 'open', occurrences: 1, assignedGroup: 'maintenance-packaging', previous: { id: fixed.id } });
    expect(t.similar[0]).toMatchObject({ id: fixed.id, labels: ['voltage-interference'] });
    expect(t.similar[0]?.solution).toContain('加装稳压电源');
    expect(t.flags).toContain('recurring');
    expect(t.recurrence?.pattern).toBe('daily');
    expect(minutesApart(atMinutes(t.recurrence!.at!), localParts(stopAt, timezone).minutes)).toBeLessThanOrEqual(5);
    expect(t.causes[0]).toMatchObject({ fault: 'voltage-sag', asset: 'feeder-3', source: 'discovered', support: 4, of: 4 });
    // The sag itself is its own P2 ticket (recurring too); the labeler's MES alarm is not blamed on it.
    expect(tickets.find((x) => x.key === 'feeder-3/voltage-sag')).toMatchObject({ priority: 'P2', occurrences: 5 });
    expect(tickets.find((x) => x.key === 'labeler-02/mes-alarm')?.causes ?? []).not.toContainEqual(expect.objectContaining({ fault: 'voltage-sag' }));
  });
});
