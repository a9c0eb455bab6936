import { describe, expect, it } from 'vitest';
import { parseConfig, validateConfig } from '../../config/load.ts';
import { onCallOf } from './oncall.ts';
import { instantOf, localDay, offsetAt } from './zone.ts';

const at = (s: string) => Date.parse(s);
const day = (date: string) => Date.parse(`${date}T00:00:00Z`) / 86_400_000;
const HOUR = 3_600_000;

describe('local time in a timezone (Intl only)', () => {
  it('reads the offset on both sides of a DST change', () => {
    expect(offsetAt(at('2026-03-29T00:59:59Z'), 'Europe/Berlin')).toBe(HOUR);
    expect(offsetAt(at('2026-03-29T01:00:00Z'), 'Europe/Berlin')).toBe(2 * HOUR);
    expect(offsetAt(at('2026-06-01T12:00:00Z'), 'Asia/Shanghai')).toBe(8 * HOUR);
  });

  it('gives the local calendar day of an instant', () => {
    expect(localDay(at('2026-03-01T23:30:00Z'), 'Asia/Shanghai')).toBe(day('2026-03-02'));
    expect(localDay(at('2026-03-02T00:30:00Z'), 'America/Chicago')).toBe(day('2026-03-01'));
  });

  it('turns a local date and time into its instant', () => {
    expect(instantOf(day('2026-03-02'), 6 * 60, 'Asia/Shanghai')).toBe(at('2026-03-01T22:00:00Z'));
    expect(instantOf(day('2026-07-01'), 6 * 60, 'Europe/Berlin')).toBe(at('2026-07-01T04:00:00Z'));
  });

  it('a time the clocks skip is the instant after the skip (spring forward)', () => {
    // Europe/Berlin 2026-03-29: 02:00 CET becomes 03:00 CEST
    expect(instantOf(day('2026-03-29'), 2 * 60 + 30, 'Europe/Berlin')).toBe(at('2026-03-29T01:30:00Z'));
    expect(instantOf(day('2026-03-29'), 3 * 60, 'Europe/Berlin')).toBe(at('2026-03-29T01:00:00Z'));
  });

  it('a time that happens twice is the first of the two (fall back)', () => {
    // Europe/Berlin 2026-10-25: 03:00 CEST becomes 02:00 CET; 02:30 happens at 00:30Z and at 01:30Z
    expect(instantOf(day('2026-10-25'), 2 * 60 + 30, 'Europe/Berlin')).toBe(at('2026-10-25T00:30:00Z'));
  });
});

const config = (timezone: string, groups: string) =>
  parseConfig(
    `
gateway: { id: oncall-test, timezone: ${timezone} }
notify:
  wang-phone: { type: webhook, url: "http://127.0.0.1:9/wang" }
  li-phone: { type: webhook, url: "http://127.0.0.1:9/li" }
  zhao-phone: { type: webhook, url: "http://127.0.0.1:9/zhao" }
  chen-phone: { type: webhook, url: "http://127.0.0.1:9/chen" }
schedules:
  people:
    wang: { name: Wang Wei, notify: wang-phone }
    li: { name: Li Na, notify: li-phone }
    zhao: { name: Zhao Lei, notify: zhao-phone }
    chen: { notify: chen-phone }
  groups:
${groups}
`,
    {},
  );

/** Two 12-hour shifts, a daily rotation of two on-call people, one supervisor, an override for one day. */
const maintenance = `
    maintenance:
      rotationStart: "2026-03-02"
      shifts:
        - { id: day, start: "06:00", end: "18:00", onCall: [wang, li], supervisor: [zhao] }
        - { id: night, start: "18:00", end: "06:00", onCall: [li, wang], supervisor: [zhao] }
      overrides:
        - { date: "2026-03-04", shift: day, onCall: chen }
        - { date: "2026-03-05", supervisor: chen }
`;

describe('who is on duty', () => {
  const oncall = onCallOf(config('Asia/Shanghai', maintenance));
  const who = (iso: string) => {
    const d = oncall.at('maintenance', at(iso));
    return { shift: d?.shift?.id ?? null, onCall: d?.onCall?.id ?? null, supervisor: d?.supervisor?.id ?? null };
  };

  it('the shift change hands over at the local time', () => {
    // 2026-03-02 is the rotation's first day: day shift wang, night shift li (Shanghai is UTC+8)
    expect(who('2026-03-02T09:59:59.999Z')).toEqual({ shift: 'day', onCall: 'wang', supervisor: 'zhao' });
    expect(who('2026-03-02T10:00:00.000Z')).toEqual({ shift: 'night', onCall: 'li', supervisor: 'zhao' });
    // past local midnight the night shift is still the one that started yesterday
    expect(who('2026-03-02T17:00:00.000Z')).toEqual({ shift: 'night', onCall: 'li', supervisor: 'zhao' });
    expect(who('2026-03-02T22:00:00.000Z')).toEqual({ shift: 'day', onCall: 'li', supervisor: 'zhao' });
  });

  it('the rotation moves on every day and comes round again', () => {
    expect(who('2026-03-03T02:00:00Z').onCall).toBe('li');
    expect(who('2026-03-05T02:00:00Z').onCall).toBe('li');
    expect(who('2026-03-06T02:00:00Z').onCall).toBe('wang');
    // before rotationStart it counts backwards the same way
    expect(who('2026-03-01T02:00:00Z').onCall).toBe('li');
  });

  it('an override takes the shift of its day, and the rotation goes on after it', () => {
    const d = oncall.at('maintenance', at('2026-03-04T02:00:00Z'));
    expect(d?.onCall).toEqual({ id: 'chen', name: 'chen', notify: 'chen-phone', override: true });
    expect(d?.supervisor).toEqual({ id: 'zhao', name: 'Zhao Lei', notify: 'zhao-phone', override: false });
    // the same day's night shift is not overridden
    expect(who('2026-03-04T12:00:00Z').onCall).toBe('li');
    // an override without a shift applies to every shift of its day
    expect(who('2026-03-05T02:00:00Z').supervisor).toBe('chen');
    expect(who('2026-03-05T12:00:00Z').supervisor).toBe('chen');
    expect(who('2026-03-06T02:00:00Z')).toEqual({ shift: 'day', onCall: 'wang', supervisor: 'zhao' });
  });

  it('names the shift with its start and end', () => {
    expect(oncall.at('maintenance', at('2026-03-02T12:00:00Z'))?.shift).toEqual({ id: 'night', from: at('2026-03-02T10:00:00Z'), to: at('2026-03-02T22:00:00Z') });
  });

  it('a group without a schedule has no answer; a gap between shifts has nobody', () => {
    expect(oncall.at('utilities', at('2026-03-02T12:00:00Z'))).toBeUndefined();
    const weekdays = onCallOf(
      config('UTC', '    office:\n      rotationStart: "2026-03-02"\n      shifts: [ { id: office, start: "08:00", end: "17:00", days: [Mon, Tue, Wed, Thu, Fri], onCall: [wang] } ]\n'),
    );
    expect(weekdays.person('office', 'onCall', at('2026-03-06T16:59:00Z'))?.id).toBe('wang');
    expect(weekdays.at('office', at('2026-03-06T17:00:00Z'))).toEqual({ group: 'office', shift: null, onCall: null, supervisor: null });
    // Saturday
    expect(weekdays.person('office', 'onCall', at('2026-03-07T10:00:00Z'))).toBeNull();
    expect(weekdays.person('office', 'supervisor', at('2026-03-06T10:00:00Z'))).toBeNull();
  });

  it('weekly rotations hand over after 7 local days', () => {
    const weekly = onCallOf(config('UTC', '    crew:\n      rotationStart: "2026-03-02"\n      shifts: [ { id: all, start: "06:00", end: "06:00", every: 1w, onCall: [wang, li, zhao] } ]\n'));
    const onCall = (iso: string) => weekly.person('crew', 'onCall', at(iso))?.id;
    expect(onCall('2026-03-02T06:00:00Z')).toBe('wang');
    expect(onCall('2026-03-09T05:59:59Z')).toBe('wang');
    expect(onCall('2026-03-09T06:00:00Z')).toBe('li');
    expect(onCall('2026-03-16T06:00:00Z')).toBe('zhao');
    expect(onCall('2026-03-23T06:00:00Z')).toBe('wang');
  });
});

describe('shifts across a DST change (Europe/Berlin)', () => {
  const oncall = onCallOf(
    config(
      'Europe/Berlin',
      `
    maintenance:
      rotationStart: "2026-03-23"
      shifts:
        - { id: day, start: "06:00", end: "22:00", onCall: [wang] }
        - { id: night, start: "22:00", end: "06:00", onCall: [li] }
`,
    ),
  );

  it('the night shift of spring forward is an hour shorter, and hands over at 06:00 local summer time', () => {
    const night = oncall.at('maintenance', at('2026-03-29T00:00:00Z'))?.shift;
    // 2026-03-28 22:00 CET = 21:00Z; 2026-03-29 06:00 CEST = 04:00Z: 7 hours
    expect(night).toEqual({ id: 'night', from: at('2026-03-28T21:00:00Z'), to: at('2026-03-29T04:00:00Z') });
    expect(oncall.person('maintenance', 'onCall', at('2026-03-29T03:59:59Z'))?.id).toBe('li');
    expect(oncall.person('maintenance', 'onCall', at('2026-03-29T04:00:00Z'))?.id).toBe('wang');
  });

  it('the night shift of fall back is an hour longer', () => {
    const night = oncall.at('maintenance', at('2026-10-25T02:00:00Z'))?.shift;
    // 2026-10-24 22:00 CEST = 20:00Z; 2026-10-25 06:00 CET = 05:00Z: 9 hours
    expect(night).toEqual({ id: 'night', from: at('2026-10-24T20:00:00Z'), to: at('2026-10-25T05:00:00Z') });
    expect(oncall.person('maintenance', 'onCall', at('2026-10-25T04:59:59Z'))?.id).toBe('li');
    expect(oncall.person('maintenance', 'onCall', at('2026-10-25T05:00:00Z'))?.id).toBe('wang');
  });

  it('a shift that starts in the skipped hour starts at the end of the skip', () => {
    const skipped = onCallOf(config('Europe/Berlin', '    g:\n      rotationStart: "2026-03-23"\n      shifts: [ { id: early, start: "02:30", end: "04:00", onCall: [wang] } ]\n'));
    expect(skipped.at('g', at('2026-03-29T01:00:00Z'))?.shift).toBeNull();
    expect(skipped.at('g', at('2026-03-29T01:30:00Z'))?.shift).toEqual({ id: 'early', from: at('2026-03-29T01:30:00Z'), to: at('2026-03-29T02:00:00Z') });
  });
});

describe('schedule checks at load', () => {
  const problems = (yaml: Record<string, unknown>) => validateConfig({ gateway: { id: 'x' }, notify: { phone: { type: 'webhook', url: 'http://127.0.0.1:9/p' } }, ...yaml }, {}).problems;
  const group = (shifts: unknown[]) => ({ schedules: { people: { wang: { notify: 'phone' } }, groups: { g: { rotationStart: '2026-03-02', shifts } } } });

  it('a Sunday night shift that runs into Monday morning overlaps a Monday early shift', () => {
    expect(
      problems(
        group([
          { id: 'weekend-night', start: '22:00', end: '07:00', days: ['Sun'], onCall: ['wang'] },
          { id: 'early', start: '06:00', end: '14:00', days: ['Mon'], onCall: ['wang'] },
        ]),
      ),
    ).toEqual([{ path: 'schedules.groups.g.shifts[1].start', code: 'ANDON_CONFIG_INVALID_VALUE', message: expect.stringContaining('overlap (Mon 06:00 to 07:00 local)') }]);
  });

  it('shifts that meet at the handover, or on other days, do not overlap', () => {
    expect(
      problems(
        group([
          { id: 'weekend-night', start: '22:00', end: '06:00', days: ['Sun'], onCall: ['wang'] },
          { id: 'early', start: '06:00', end: '14:00', days: ['Mon'], onCall: ['wang'] },
          { id: 'all-day', start: '00:00', end: '00:00', days: ['Wed'], onCall: ['wang'] },
          { id: 'thursday', start: '00:00', end: '08:00', days: ['Thu'], onCall: ['wang'] },
        ]),
      ),
    ).toEqual([]);
  });

  it('an escalation to the ticket\'s group on duty needs some schedule', () => {
    expect(problems({ escalation: [{ after: '1h', unless: 'resolved', level: 1, onDuty: [{ role: 'supervisor' }] }] })).toEqual([
      { path: 'escalation[0].onDuty[0]', code: 'ANDON_CONFIG_UNKNOWN_REFERENCE', message: expect.stringContaining('no group has a schedule') },
    ]);
  });

  it('an override names onCall or supervisor, once per shift and day', () => {
    const base = group([{ id: 'day', start: '06:00', end: '18:00', onCall: ['wang'] }]);
    const g = (base.schedules.groups as Record<string, Record<string, unknown>>).g!;
    g.overrides = [{ date: '2026-03-04' }, { date: '2026-03-05', onCall: 'wang' }, { date: '2026-03-05', shift: 'day', onCall: 'wang' }, { date: '2026-03-05', onCall: 'wang' }];
    expect(problems(base).map((p) => [p.path, p.code])).toEqual([
      ['schedules.groups.g.overrides[0]', 'ANDON_CONFIG_MISSING'],
      ['schedules.groups.g.overrides[3].onCall', 'ANDON_CONFIG_DUPLICATE_ID'],
    ]);
  });
});
