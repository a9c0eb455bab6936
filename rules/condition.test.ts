import { map, Subject, type SchedulerLike, type Subscription } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.ts';
import { assetResolver, resolveAssets } from './assets.ts';
import { conditions } from './condition.ts';
import { seeded } from '../gateway/seeded.ts';
import type { RuleHit } from './hit.ts';
import { goodQuality } from './quality.ts';
import type { Reading } from './types.ts';
import { VirtualScheduler } from './virtual-scheduler.ts';

const rules = parseConfig(`
gateway: { id: test }
rules:
  - id: sealer-alarm
    when: { tag: "packaging/*/alarm/**", equals: true }
    fault: alarm-stop
    priority: P1
  - id: running
    when: { tag: "packaging/*/running", equals: 1 }
    fault: running
    priority: P3
  - id: overtemp
    when: { tag: "**/temperature", above: 80, for: 10s, clearBelow: 78 }
    fault: overtemp
    priority: P2
  - id: undervolt
    when: { tag: "utilities/*/voltage", below: 207, for: 10s, clearAbove: 215 }
    fault: voltage-sag
    priority: P2
  - id: pressure-low
    when: { tag: "**/pressure", below: 2 }
    fault: pressure-low
    priority: P3
`).rules;

const ALARM = 'packaging/sealer-01/alarm/E21';
const TEMP = 'packaging/sealer-01/temperature';
const VOLT = 'utilities/feeder-3/voltage';

const reading = (tag: string, value: Reading['value'], quality: Reading['quality'] = 'good'): Reading => ({
  source: 'plc',
  tag,
  value,
  quality,
  ts: 0,
  asset: tag.split('/')[1] as string,
  area: tag.split('/')[0] as string,
});

/** What a hit says, small enough to read in a marble expectation. */
const brief = (h: RuleHit) => ({ kind: h.kind, rule: h.rule.id, asset: h.asset, at: h.at, value: h.evidence.value });
const R = (rule: string, asset: string, at: number, value: Reading['value']) => ({ kind: 'raise', rule, asset, at, value });
const C = (rule: string, asset: string, at: number, value: Reading['value']) => ({ kind: 'clear', rule, asset, at, value });

const newScheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

describe('conditions', () => {
  describe('quality gating (goodQuality before conditions)', () => {
    it('a bad or uncertain reading neither raises nor clears', () => {
      const ts = newScheduler();
      ts.run(({ cold, expectObservable }) => {
        const readings = cold('a-b-c-d-e-f', {
          a: reading(ALARM, true, 'bad'),
          b: reading(ALARM, true, 'uncertain'),
          c: reading(ALARM, true),
          d: reading(ALARM, false, 'bad'),
          e: reading(ALARM, false, 'uncertain'),
          f: reading(ALARM, false),
        });
        expectObservable(readings.pipe(goodQuality(), conditions(rules, ts), map(brief))).toBe('----c-----f', {
          c: R('sealer-alarm', 'sealer-01', 4, true),
          f: C('sealer-alarm', 'sealer-01', 10, false),
        });
      });
    });

    it('a bad reading does not cancel a running on-delay', () => {
      const ts = newScheduler();
      ts.run(({ cold, expectObservable }) => {
        // 85 good at 0, 70 bad at 3s, 50 uncertain at 5s: still raises at 10s on the good 85.
        const readings = cold('a 2999ms b 1999ms c', { a: reading(TEMP, 85), b: reading(TEMP, 70, 'bad'), c: reading(TEMP, 50, 'uncertain') });
        expectObservable(readings.pipe(goodQuality(), conditions(rules, ts), map(brief))).toBe('10s r', { r: R('overtemp', 'sealer-01', 10_000, 85) });
      });
    });
  });

  describe('equals', () => {
    it('raises on the edge only and clears on a different value', () => {
      const ts = newScheduler();
      ts.run(({ cold, expectObservable }) => {
        const readings = cold('t-t-t-f-f-t|', { t: reading(ALARM, true), f: reading(ALARM, false) });
        expectObservable(readings.pipe(conditions(rules, ts), map(brief))).toBe('a-----b---c|', {
          a: R('sealer-alarm', 'sealer-01', 0, true),
          b: C('sealer-alarm', 'sealer-01', 6, false),
          c: R('sealer-alarm', 'sealer-01', 10, true),
        });
      });
    });

    it('treats booleans as 1 and 0, both ways', () => {
      const ts = newScheduler();
      ts.run(({ cold, expectObservable }) => {
        // equals: true fed numbers; equals: 1 fed booleans.
        const readings = cold('a-b-c-d|', {
          a: reading(ALARM, 1),
          b: reading(ALARM, 0),
          c: reading('packaging/sealer-01/running', true),
          d: reading('packaging/sealer-01/running', false),
        });
        expectObservable(readings.pipe(conditions(rules, ts), map(brief))).toBe('a-b-c-d|', {
          a: R('sealer-alarm', 'sealer-01', 0, 1),
          b: C('sealer-alarm', 'sealer-01', 2, 0),
          c: R('running', 'sealer-01', 4, true),
          d: C('running', 'sealer-01', 6, false),
        });
      });
    });

    it('keeps one state per tag: two alarms of one asset raise and clear separately', () => {
      const ts = newScheduler();
      ts.run(({ cold, expectObservable }) => {
        const e21 = ALARM;
        const e22 = 'packaging/sealer-01/alarm/E22';
        const readings = cold('a-b-c-d|', { a: reading(e21, true), b: reading(e22, true), c: reading(e21, false), d: reading(e22, true) });
        expectObservable(readings.pipe(conditions(rules, ts), map((h) => `${h.kind}:${h.evidence.tag}`))).toBe('a-b-c--|', {
          a: `raise:${e21}`,
          b: `raise:${e22}`,
          c: `clear:${e21}`,
        });
      });
    });

    it('keeps one state per rule of a tag: two limits on one tag (warn and trip) raise and clear each on its own', () => {
      const twoLimits = parseConfig(`
gateway: { id: test }
rules:
  - { id: warn, when: { tag: "**/temperature", above: 80 }, fault: hot, priority: P3 }
  - { id: trip, when: { tag: "**/temperature", above: 95 }, fault: overheat, priority: P1 }
`).rules;
      const ts = newScheduler();
      ts.run(({ cold, expectObservable }) => {
        const readings = cold('a-b-c-d|', { a: reading(TEMP, 85), b: reading(TEMP, 97), c: reading(TEMP, 90), d: reading(TEMP, 70) });
        expectObservable(readings.pipe(conditions(twoLimits, ts), map((h) => `${h.kind}:${h.rule.id}`))).toBe('a-b-c-d|', {
          a: 'raise:warn',
          b: 'raise:trip',
          c: 'clear:trip',
          d: 'clear:warn',
        });
      });
    });

    it('ignores tags no rule watches', () => {
      const ts = newScheduler();
      ts.run(({ cold, expectObservable }) => {
        const readings = cold('a-b|', { a: reading('packaging/sealer-01/speed', 500), b: reading('warehouse/rack-1/alarm/X', true) });
        expectObservable(readings.pipe(conditions(rules, ts))).toBe('---|');
      });
    });

    it('carries message and severity of native alarms as evidence', () => {
      const ts = newScheduler();
      ts.run(({ cold, expectObservable }) => {
        const a = { ...reading(ALARM, true), ts: 1234, severity: 700, message: 'seal jaw fault' };
        expectObservable(cold('a|', { a }).pipe(conditions(rules, ts), map((h) => h.evidence))).toBe('e|', {
          e: { tag: ALARM, value: true, ts: 1234, severity: 700, message: 'seal jaw fault' },
        });
      });
    });
  });

  describe('above with for: 10s and clearBelow: 78', () => {
    it('a spike shorter than the on-delay raises nothing', () => {
      const ts = newScheduler();
      ts.run(({ cold, expectObservable }) => {
        // 85 at 0, back to 79 at 5s (under 80, inside the deadband), 90 at 20s for 5s, then 70.
        const readings = cold('a 4999ms b 14999ms c 4999ms d', { a: reading(TEMP, 85), b: reading(TEMP, 79), c: reading(TEMP, 90), d: reading(TEMP, 70) });
        expectObservable(readings.pipe(conditions(rules, ts))).toBe('');
      });
    });

    it('raises exactly at the 10 s mark on the timer, with no further reading', () => {
      const ts = newScheduler();
      ts.run(({ cold, expectObservable }) => {
        expectObservable(cold('a', { a: reading(TEMP, 85) }).pipe(conditions(rules, ts), map(brief))).toBe('10s r', { r: R('overtemp', 'sealer-01', 10_000, 85) });
      });
    });

    it('readings that stay above do not restart the on-delay', () => {
      const ts = newScheduler();
      ts.run(({ cold, expectObservable }) => {
        const readings = cold('a 2999ms b 2999ms c', { a: reading(TEMP, 85), b: reading(TEMP, 86), c: reading(TEMP, 87) });
        // Raises at 10 s after the first reading; evidence is the latest reading.
        expectObservable(readings.pipe(conditions(rules, ts), map(brief))).toBe('10s r', { r: R('overtemp', 'sealer-01', 10_000, 87) });
      });
    });

    it('holds through the deadband, clears under clearBelow, and raises again after the clear', () => {
      const ts = newScheduler();
      ts.run(({ cold, expectObservable }) => {
        // 85 @0 -> raise @10s; 79 @15s and 85 @16s: still active, no clear, no second raise;
        // 77 @20s -> clear; 85 @21s -> raise again @31s.
        const readings = cold('a 14999ms b 999ms c 3999ms d 999ms e', {
          a: reading(TEMP, 85),
          b: reading(TEMP, 79),
          c: reading(TEMP, 85),
          d: reading(TEMP, 77),
          e: reading(TEMP, 85),
        });
        expectObservable(readings.pipe(conditions(rules, ts), map(brief))).toBe('10s r 9999ms c 10999ms s', {
          r: R('overtemp', 'sealer-01', 10_000, 85),
          c: C('overtemp', 'sealer-01', 20_000, 77),
          s: R('overtemp', 'sealer-01', 31_000, 85),
        });
      });
    });

    it('exactly the limit is not above it, and exactly clearBelow does not clear', () => {
      const ts = newScheduler();
      ts.run(({ cold, expectObservable }) => {
        // 80 @0 starts nothing; 81 @1s raises @11s; 78 @12s holds; 77.9 @13s clears.
        const readings = cold('a 999ms b 10999ms c 999ms d', { a: reading(TEMP, 80), b: reading(TEMP, 81), c: reading(TEMP, 78), d: reading(TEMP, 77.9) });
        expectObservable(readings.pipe(conditions(rules, ts), map(brief))).toBe('11s r 1999ms c', {
          r: R('overtemp', 'sealer-01', 11_000, 81),
          c: C('overtemp', 'sealer-01', 13_000, 77.9),
        });
      });
    });

    it('ignores non-numeric values: they neither raise, clear, nor cancel the on-delay', () => {
      const ts = newScheduler();
      ts.run(({ cold, expectObservable }) => {
        // 'n/a', null and true alone raise nothing; 85 @3s starts the on-delay;
        // 'n/a' @5s neither cancels it nor becomes the evidence; raise @13s; null @14s does not clear.
        const readings = cold('a 999ms b 999ms c 999ms d 1999ms e 8999ms f', {
          a: reading(TEMP, 'n/a'),
          b: reading(TEMP, null),
          c: reading(TEMP, true),
          d: reading(TEMP, 85),
          e: reading(TEMP, 'n/a'),
          f: reading(TEMP, null),
        });
        expectObservable(readings.pipe(conditions(rules, ts), map(brief))).toBe('13s r', { r: R('overtemp', 'sealer-01', 13_000, 85) });
      });
    });

    it('unsubscribing cancels a pending on-delay timer', () => {
      const vs = new VirtualScheduler(0);
      const timers: Subscription[] = [];
      const spy: SchedulerLike = {
        now: () => vs.now(),
        schedule: (work, delay, state) => {
          const t = vs.schedule(work as never, delay, state);
          timers.push(t);
          return t;
        },
      };
      const readings = new Subject<Reading>();
      const seen: RuleHit[] = [];
      const sub = readings.pipe(conditions(rules, spy)).subscribe((h) => seen.push(h));
      readings.next(reading(TEMP, 85));
      expect(timers).toHaveLength(1);
      vs.advanceTo(5_000);
      sub.unsubscribe();
      expect(timers.every((t) => t.closed)).toBe(true);
      vs.advanceTo(60_000);
      expect(seen).toEqual([]);
    });
  });

  describe('below with for: 10s and clearAbove: 215', () => {
    it('a dip shorter than the on-delay raises nothing', () => {
      const ts = newScheduler();
      ts.run(({ cold, expectObservable }) => {
        const readings = cold('a 4999ms b', { a: reading(VOLT, 196.4), b: reading(VOLT, 210) });
        expectObservable(readings.pipe(conditions(rules, ts))).toBe('');
      });
    });

    it('raises at the 10 s mark, holds through the deadband, clears above clearAbove, raises again', () => {
      const ts = newScheduler();
      ts.run(({ cold, expectObservable }) => {
        // 196 @0 -> raise @10s; 210 @15s, 200 @16s: active, nothing; 216 @20s -> clear; 190 @21s -> raise @31s.
        const readings = cold('a 14999ms b 999ms c 3999ms d 999ms e', {
          a: reading(VOLT, 196),
          b: reading(VOLT, 210),
          c: reading(VOLT, 200),
          d: reading(VOLT, 216),
          e: reading(VOLT, 190),
        });
        expectObservable(readings.pipe(conditions(rules, ts), map(brief))).toBe('10s r 9999ms c 10999ms s', {
          r: R('undervolt', 'feeder-3', 10_000, 196),
          c: C('undervolt', 'feeder-3', 20_000, 216),
          s: R('undervolt', 'feeder-3', 31_000, 190),
        });
      });
    });

    it('ignores non-numeric values', () => {
      const ts = newScheduler();
      ts.run(({ cold, expectObservable }) => {
        const readings = cold('a-b-c', { a: reading(VOLT, 'low'), b: reading(VOLT, false), c: reading(VOLT, null) });
        expectObservable(readings.pipe(conditions(rules, ts))).toBe('');
      });
    });

    it('without for or deadband: raises at once and clears at the threshold', () => {
      const ts = newScheduler();
      ts.run(({ cold, expectObservable }) => {
        const P = 'line-1/pump-2/pressure';
        const readings = cold('a-b-c-d|', { a: reading(P, 1.5), b: reading(P, 1.8), c: reading(P, 2), d: reading(P, 1.9) });
        expectObservable(readings.pipe(conditions(rules, ts), map(brief))).toBe('a---c-d|', {
          a: R('pressure-low', 'pump-2', 0, 1.5),
          c: C('pressure-low', 'pump-2', 4, 2),
          d: R('pressure-low', 'pump-2', 6, 1.9),
        });
      });
    });
  });

  describe("states kept in the asset index's rows (one lookup per reading, as rulePipeline wires it)", () => {
    const signal = (tag: string, value: number | boolean, quality: Reading['quality'] = 'good') => ({ source: 'plc', tag, value, quality, ts: 0 });
    /** The hits of a run: conditions fed by resolveAssets, with the resolver's rows or without. */
    const run = (withRows: boolean, feed: (push: (s: ReturnType<typeof signal>) => void, vs: VirtualScheduler) => void): string[] => {
      const vs = new VirtualScheduler(0);
      const resolver = assetResolver({});
      const input = new Subject<ReturnType<typeof signal>>();
      const seen: string[] = [];
      const sub = input
        .pipe(resolveAssets(resolver), goodQuality(), conditions(rules, vs, withRows ? resolver : undefined))
        .subscribe((h) => seen.push(`${vs.now()} ${h.kind} ${h.rule.id} ${h.evidence.tag}`));
      feed((s) => input.next(s), vs);
      sub.unsubscribe();
      return seen;
    };

    it('gives the hits the detector gives with its own map, over a seeded stream of many tags', () => {
      const feed = (push: (s: ReturnType<typeof signal>) => void, vs: VirtualScheduler) => {
        const random = seeded(3);
        const tags = [TEMP, VOLT, ALARM, 'packaging/sealer-02/temperature', 'utilities/feeder-1/voltage', 'packaging/sealer-02/alarm/E9', 'hall/x/speed'];
        for (let i = 0; i < 3_000; i++) {
          vs.advanceTo(vs.now() + Math.floor(random() * 3_000));
          const tag = tags[Math.floor(random() * tags.length)] as string;
          const value = tag.endsWith('temperature') ? 70 + random() * 20 : tag.endsWith('voltage') ? 200 + random() * 20 : random() < 0.5;
          push(signal(tag, value, random() < 0.05 ? 'bad' : 'good'));
        }
      };
      const own = run(false, feed);
      expect(own.length).toBeGreaterThan(200);
      expect(run(true, feed)).toEqual(own);
    });

    it("a tag's states stay in its row when another tag was looked up between the lookup and the detector", () => {
      const vs = new VirtualScheduler(0);
      const resolver = assetResolver({});
      const direct = new Subject<Reading>();
      const seen: string[] = [];
      const sub = direct.pipe(conditions(rules, vs, resolver)).subscribe((h) => seen.push(`${h.kind} ${h.evidence.tag}`));
      resolver.bySignal(signal(ALARM, true));
      resolver.bySignal(signal(TEMP, 70)); // the last lookup is another tag now
      direct.next(reading(ALARM, true));
      resolver.bySignal(signal(ALARM, false)); // the usual order: looked up just before
      direct.next(reading(ALARM, false));
      sub.unsubscribe();
      expect(seen).toEqual([`raise ${ALARM}`, `clear ${ALARM}`]);
    });

    it('a later subscription starts with fresh states, and two at once keep their own', () => {
      const vs = new VirtualScheduler(0);
      const resolver = assetResolver({});
      const input = new Subject<ReturnType<typeof signal>>();
      const detect = () => input.pipe(resolveAssets(resolver), conditions(rules, vs, resolver));
      const first: string[] = [];
      let sub = detect().subscribe((h) => first.push(h.kind));
      input.next(signal(ALARM, true));
      sub.unsubscribe();
      // the alarm raised in the first subscription: the next one has not seen it, so it raises again
      const second: string[] = [];
      sub = detect().subscribe((h) => second.push(h.kind));
      const third: string[] = [];
      const other = detect().subscribe((h) => third.push(h.kind));
      input.next(signal(ALARM, true));
      input.next(signal(ALARM, false));
      sub.unsubscribe();
      other.unsubscribe();
      expect([first, second, third]).toEqual([['raise'], ['raise', 'clear'], ['raise', 'clear']]);
    });
  });
});
