import { from, map } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { causes, type CausesOptions } from './causes.ts';
import type { Cause, DetectCommand, TicketCommand } from './types.ts';

const S = 1_000;
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
/** 16:00 in Shanghai (08:00 UTC). */
const T0 = Date.parse('2026-01-20T08:00:00.000Z');

const detect = (asset: string, fault: string, at: number): DetectCommand => ({
  type: 'detect',
  at,
  key: `${asset}/${fault}`,
  asset,
  area: asset === 'feeder-3' ? 'utilities' : 'packaging',
  line: null,
  fault,
  category: 'hardware',
  rule: fault,
  priority: 'P1',
  title: `${asset}: ${fault}`,
  assignedGroup: null,
  notify: [],
  evidence: { tag: `x/${asset}/${fault}`, value: true, ts: at },
  flags: [],
});
const stop = (at: number) => detect('sealer-01', 'alarm-stop', at);
const sag = (at: number) => detect('feeder-3', 'voltage-sag', at);
const overload = (at: number) => detect('compressor-02', 'overload', at);
const raise = (c: DetectCommand) => ({ key: c.key, asset: c.asset, fault: c.fault, at: c.at });

/** The causes on a command, or '-' when it has none. */
const causesOf = (c: TicketCommand): Cause[] | '-' => (c.type === 'detect' && c.causes ? c.causes : '-');
const discovered = (c: Partial<Cause> & Pick<Cause, 'fault' | 'asset' | 'support' | 'of' | 'leadSeconds'>): Cause => ({ source: 'discovered', maxLeadSeconds: c.leadSeconds, ...c });
const SAG = { fault: 'voltage-sag', asset: 'feeder-3' };

/** Discovery as configured in the design: 5 min before, 3 episodes; 14-day horizon; 60 s chatter window. */
const opts: CausesOptions = { configured: [], discover: { within: 5 * MIN, minSupport: 3 }, horizon: 14 * DAY, episodeGap: 60 * S };

const newScheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

/** Runs commands through the operator and returns what came out (for streams too long for a marble). */
function through(op: CausesOptions, cmds: TicketCommand[]): TicketCommand[] {
  const out: TicketCommand[] = [];
  from(cmds)
    .pipe(causes(op))
    .subscribe((c) => out.push(c));
  return out;
}

describe('causes: discovery (within: 5m, minSupport: 3)', () => {
  it('a detection on another asset before each of 3 episodes is a discovered cause, with the median lead', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      // Leads 45 s, 2 min, 60 s: median 60 s.
      const cmds = cold('a-b-c-d-e-f|', {
        a: sag(T0 - 45 * S),
        b: stop(T0),
        c: sag(T0 + DAY - 2 * MIN),
        d: stop(T0 + DAY),
        e: sag(T0 + 2 * DAY - MIN),
        f: stop(T0 + 2 * DAY),
      });
      expectObservable(cmds.pipe(causes(opts), map(causesOf))).toBe('a-b-c-d-e-f|', {
        a: '-',
        b: '-',
        c: '-',
        d: '-',
        e: '-',
        f: [discovered({ ...SAG, support: 3, of: 3, leadSeconds: 60, maxLeadSeconds: 120 })],
      });
    });
  });

  it('causes are ranked by support ratio, whatever came first', () => {
    // Overload 30 s before three of four stops; the sag a minute before all four.
    const cmds: TicketCommand[] = [];
    for (let d = 0; d < 4; d++) {
      const t = T0 + d * DAY;
      cmds.push(sag(t - MIN));
      if (d !== 1) cmds.push(overload(t - 30 * S));
      cmds.push(stop(t));
    }
    const out = through(opts, cmds);
    expect(causesOf(out.at(-1) as TicketCommand)).toEqual([
      discovered({ ...SAG, support: 4, of: 4, leadSeconds: 60 }),
      discovered({ fault: 'overload', asset: 'compressor-02', support: 3, of: 4, leadSeconds: 30 }),
    ]);
  });

  it('a precursor on the same asset is not a discovered cause', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      const air = (at: number) => detect('sealer-01', 'low-air', at);
      const cmds = cold('a-b-c-d-e-f|', {
        a: air(T0 - MIN),
        b: stop(T0),
        c: air(T0 + DAY - MIN),
        d: stop(T0 + DAY),
        e: air(T0 + 2 * DAY - MIN),
        f: stop(T0 + 2 * DAY),
      });
      expectObservable(cmds.pipe(causes(opts), map(causesOf))).toBe('a-b-c-d-e-f|', { a: '-', b: '-', c: '-', d: '-', e: '-', f: '-' });
    });
  });

  it('a precursor further back than `within` is not a cause; exactly `within` still is', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      const far = cold('a-b-c-d-e-f|', {
        a: sag(T0 - 6 * MIN),
        b: stop(T0),
        c: sag(T0 + DAY - 6 * MIN),
        d: stop(T0 + DAY),
        e: sag(T0 + 2 * DAY - 6 * MIN),
        f: stop(T0 + 2 * DAY),
      });
      expectObservable(far.pipe(causes(opts), map(causesOf))).toBe('a-b-c-d-e-f|', { a: '-', b: '-', c: '-', d: '-', e: '-', f: '-' });
      const edge = cold('a-b-c-d-e-f|', {
        a: sag(T0 - 5 * MIN),
        b: stop(T0),
        c: sag(T0 + DAY - 5 * MIN),
        d: stop(T0 + DAY),
        e: sag(T0 + 2 * DAY - 5 * MIN),
        f: stop(T0 + 2 * DAY),
      });
      expectObservable(edge.pipe(causes(opts), map(causesOf))).toBe('a-b-c-d-e-f|', {
        a: '-',
        b: '-',
        c: '-',
        d: '-',
        e: '-',
        f: [discovered({ ...SAG, support: 3, of: 3, leadSeconds: 300 })],
      });
    });
  });

  it('fewer than minSupport episodes give no cause; chatter raises do not add episodes', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      // Two episodes; the second chatters (three raises within a minute).
      const cmds = cold('a-b-c-d-e-f|', {
        a: sag(T0 - MIN),
        b: stop(T0),
        c: sag(T0 + DAY - MIN),
        d: stop(T0 + DAY),
        e: stop(T0 + DAY + 20 * S),
        f: stop(T0 + DAY + 40 * S),
      });
      expectObservable(cmds.pipe(causes(opts), map(causesOf))).toBe('a-b-c-d-e-f|', { a: '-', b: '-', c: '-', d: '-', e: '-', f: '-' });
    });
  });

  it('preceding fewer than half of the episodes is no cause, even with minSupport', () => {
    // Seven stops, a sag before three of them.
    const cmds: TicketCommand[] = [];
    for (let d = 0; d < 7; d++) {
      if (d % 2 === 0 && d < 6) cmds.push(sag(T0 + d * DAY - MIN));
      cmds.push(stop(T0 + d * DAY));
    }
    expect(causesOf(through(opts, cmds).at(-1) as TicketCommand)).toBe('-');
    // With a sag before a fourth stop it is more than half.
    cmds.splice(-1, 0, sag(T0 + 6 * DAY - MIN));
    expect(causesOf(through(opts, cmds).at(-1) as TicketCommand)).toEqual([discovered({ ...SAG, support: 4, of: 7, leadSeconds: 60 })]);
  });

  it('base-rate guard: a key firing every few minutes precedes every stop by chance and is no cause', () => {
    // A filter alarm every 3 minutes for 3 days; stops at 16:00 on each day, each with a real sag a minute before.
    const noise = (at: number) => detect('hvac-01', 'filter-alarm', at);
    const cmds: TicketCommand[] = [];
    for (let t = T0 - 12 * HOUR; t < T0 + 2 * DAY + 12 * HOUR; t += 3 * MIN) cmds.push(noise(t + 7 * S));
    for (let d = 0; d < 3; d++) cmds.push(sag(T0 + d * DAY - MIN), stop(T0 + d * DAY));
    cmds.sort((a, b) => a.at - b.at);
    const last = through(opts, cmds)
      .filter((c) => c.type === 'detect' && c.fault === 'alarm-stop')
      .at(-1) as TicketCommand;
    expect(causesOf(last)).toEqual([discovered({ ...SAG, support: 3, of: 3, leadSeconds: 60 })]);
  });

  it('base-rate guard holds in a run longer than the horizon, as it does after a restart', () => {
    // Horizon 1 day. A filter alarm every 3 minutes for 10 days, then three stops on day 10.
    const short: CausesOptions = { ...opts, horizon: DAY };
    const noise = (at: number) => detect('hvac-01', 'filter-alarm', at);
    const before: DetectCommand[] = [];
    for (let t = T0 - 10 * DAY; t < T0; t += 3 * MIN) before.push(noise(t + 7 * S));
    const after: DetectCommand[] = [];
    for (let t = T0; t < T0 + 4 * HOUR; t += 3 * MIN) after.push(noise(t + 7 * S));
    after.push(stop(T0 + HOUR), stop(T0 + 2 * HOUR), stop(T0 + 3 * HOUR));
    after.sort((a, b) => a.at - b.at);
    const lastStop = (out: TicketCommand[]) => out.filter((c) => c.type === 'detect' && c.fault === 'alarm-stop').at(-1) as TicketCommand;

    // One long run...
    expect(causesOf(lastStop(through(short, [...before, ...after])))).toBe('-');
    // ...and a restart at T0 with the history the gateway loads (the horizon plus the longest window).
    const history = before.filter((c) => c.at >= T0 - (DAY + 5 * MIN)).map(raise);
    expect(causesOf(lastStop(through({ ...short, history }, after)))).toBe('-');
  });

  it('a daily event hours before the fault is no cause', () => {
    const startup = (at: number) => detect('boiler-01', 'startup', at);
    const cmds: TicketCommand[] = [];
    for (let d = 0; d < 5; d++) cmds.push(startup(T0 + d * DAY - 4 * HOUR), stop(T0 + d * DAY));
    expect(through(opts, cmds).map(causesOf)).toEqual(cmds.map(() => '-'));
  });

  it('history seeds the log, so a restart still finds the cause', () => {
    const history = [sag(T0 - MIN), stop(T0), sag(T0 + DAY - MIN), stop(T0 + DAY)].map(raise);
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      const cmds = cold('a-b|', { a: sag(T0 + 2 * DAY - MIN), b: stop(T0 + 2 * DAY) });
      expectObservable(cmds.pipe(causes({ ...opts, history }), map(causesOf))).toBe('a-b|', {
        a: '-',
        b: [discovered({ ...SAG, support: 3, of: 3, leadSeconds: 60 })],
      });
    });
  });
});

describe('causes: configured links', () => {
  const link = { effect: 'alarm-stop', cause: 'voltage-sag', within: 2 * MIN };
  const configuredOnly: CausesOptions = { ...opts, configured: [link], discover: undefined };

  it('a configured cause counts from one episode', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      const cmds = cold('a-b|', { a: sag(T0 - MIN), b: stop(T0) });
      expectObservable(cmds.pipe(causes(configuredOnly), map(causesOf))).toBe('a-b|', {
        a: '-',
        b: [{ ...SAG, support: 1, of: 1, leadSeconds: 60, maxLeadSeconds: 60, source: 'configured' }],
      });
    });
  });

  it("only within the link's own window, and only for its effect and cause faults", () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      // A sag 3 min before (outside 2 min); an overload 30 s before (not the cause fault); a sag before another fault.
      const cmds = cold('a-b-c-d-e|', {
        a: sag(T0 - 3 * MIN),
        b: overload(T0 - 30 * S),
        c: stop(T0),
        d: sag(T0 + DAY - MIN),
        e: detect('wrapper-02', 'jam', T0 + DAY),
      });
      expectObservable(cmds.pipe(causes(configuredOnly), map(causesOf))).toBe('a-b-c-d-e|', { a: '-', b: '-', c: '-', d: '-', e: '-' });
    });
  });

  it('takes precedence over discovery for the same key, and ranks first on a tie', () => {
    // Sag 60 s, 60 s and 3 min before the stops: the link sees 2 of 3; discovery would see 3 of 3 but must not list it again.
    const cmds: TicketCommand[] = [
      sag(T0 - MIN),
      overload(T0 - 30 * S),
      stop(T0),
      sag(T0 + DAY - MIN),
      overload(T0 + DAY - 30 * S),
      stop(T0 + DAY),
      sag(T0 + 2 * DAY - 3 * MIN),
      overload(T0 + 2 * DAY - 30 * S),
      stop(T0 + 2 * DAY),
    ];
    const out = through({ ...opts, configured: [link] }, cmds);
    expect(causesOf(out.at(-1) as TicketCommand)).toEqual([
      discovered({ fault: 'overload', asset: 'compressor-02', support: 3, of: 3, leadSeconds: 30 }),
      { ...SAG, support: 2, of: 3, leadSeconds: 60, maxLeadSeconds: 60, source: 'configured' },
    ]);
    // With the sag a minute before every stop both are 3 of 3, and the configured link comes first.
    cmds[6] = sag(T0 + 2 * DAY - MIN);
    expect(causesOf(through({ ...opts, configured: [link] }, cmds).at(-1) as TicketCommand)).toEqual([
      { ...SAG, support: 3, of: 3, leadSeconds: 60, maxLeadSeconds: 60, source: 'configured' },
      discovered({ fault: 'overload', asset: 'compressor-02', support: 3, of: 3, leadSeconds: 30 }),
    ]);
  });

  it('a link scoped by match applies only to effect tickets on those assets or areas; the cause may be anywhere', () => {
    const scoped: CausesOptions = { ...configuredOnly, configured: [{ ...link, match: { asset: ['sealer-01', 'sealer-02'] } }] };
    const cmds = [sag(T0 - MIN), stop(T0), detect('wrapper-02', 'alarm-stop', T0 + 10 * S)];
    const out = through(scoped, cmds);
    expect(causesOf(out[1] as TicketCommand)).toEqual([{ ...SAG, support: 1, of: 1, leadSeconds: 60, maxLeadSeconds: 60, source: 'configured' }]);
    // wrapper-02 is not in the link's assets: no cause, although the sag precedes it too.
    expect(causesOf(out[2] as TicketCommand)).toBe('-');
    // By area: packaging fits both stops, utilities neither.
    const byArea = (area: string | string[]) => through({ ...configuredOnly, configured: [{ ...link, match: { area } }] }, cmds).map(causesOf).slice(1);
    expect(byArea(['paint', 'packaging']).every((c) => c !== '-')).toBe(true);
    expect(byArea('utilities')).toEqual(['-', '-']);
  });

  it('history seeds configured links too', () => {
    const history = [sag(T0 - MIN), stop(T0)].map(raise);
    const out = through({ ...configuredOnly, history }, [sag(T0 + DAY - MIN), stop(T0 + DAY)]);
    expect(causesOf(out[1] as TicketCommand)).toEqual([{ ...SAG, support: 2, of: 2, leadSeconds: 60, maxLeadSeconds: 60, source: 'configured' }]);
  });
});

describe('causes: pass-through', () => {
  it('with no configured links and no discovery, commands pass through untouched', () => {
    const cmds: TicketCommand[] = [sag(T0 - MIN), stop(T0), sag(T0 + DAY - MIN), stop(T0 + DAY), sag(T0 + 2 * DAY - MIN), stop(T0 + 2 * DAY)];
    const out = through({ ...opts, discover: undefined }, cmds);
    expect(out).toHaveLength(cmds.length);
    out.forEach((c, i) => expect(c).toBe(cmds[i]));
  });

  it('clears pass through and the annotated command is a copy', () => {
    const ts = newScheduler();
    const x: TicketCommand = { type: 'clear', at: T0 + 10 * S, key: 'sealer-01/alarm-stop', evidence: { tag: 'x', value: false, ts: T0 + 10 * S } };
    const f = stop(T0 + 2 * DAY);
    ts.run(({ cold, expectObservable }) => {
      const cmds = cold('a-b-x-c-d-e-f|', { a: sag(T0 - MIN), b: stop(T0), x, c: sag(T0 + DAY - MIN), d: stop(T0 + DAY), e: sag(T0 + 2 * DAY - MIN), f });
      expectObservable(cmds.pipe(causes(opts))).toBe('a-b-x-c-d-e-f|', {
        a: sag(T0 - MIN),
        b: stop(T0),
        x,
        c: sag(T0 + DAY - MIN),
        d: stop(T0 + DAY),
        e: sag(T0 + 2 * DAY - MIN),
        f: { ...f, causes: [discovered({ ...SAG, support: 3, of: 3, leadSeconds: 60 })] },
      });
    });
    expect('causes' in f).toBe(false);
  });

  it('keeps its log per subscription', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      const cmds = cold('a-b-c-d|', { a: sag(T0 - MIN), b: stop(T0), c: sag(T0 + DAY - MIN), d: stop(T0 + DAY) }).pipe(causes(opts), map(causesOf));
      expectObservable(cmds).toBe('a-b-c-d|', { a: '-', b: '-', c: '-', d: '-' });
      expectObservable(cmds).toBe('a-b-c-d|', { a: '-', b: '-', c: '-', d: '-' });
    });
  });
});
