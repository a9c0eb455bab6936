import { asyncScheduler, from, map } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import type { Priority } from '../config/types.ts';
import { flood, RaiseWindow, type FloodOptions } from './flood.ts';
import type { DetectCommand, TicketCommand } from './types.ts';

const S = 1_000;
const MIN = 60_000;
const FLOOD = 'packaging/alarm-flood';

/** An alarm of `asset` raised at `at` (epoch ms = virtual frame), tag `<area>/<asset>/alarm/E1`. */
const alarm = (asset: string, at: number, priority: Priority = 'P2', area: string | null = 'packaging'): DetectCommand => ({
  type: 'detect',
  at,
  key: `${asset}/alarm-stop`,
  asset,
  area,
  line: 'line-1',
  fault: 'alarm-stop',
  category: 'hardware',
  rule: 'packaging-alarm',
  priority,
  title: `${asset}: alarm-stop`,
  assignedGroup: 'maintenance-packaging',
  notify: [],
  evidence: { tag: `${area ?? 'none'}/${asset}/alarm/E1`, value: true, ts: at },
  flags: [],
});
const clear = (asset: string, at: number): TicketCommand => ({
  type: 'clear',
  at,
  key: `${asset}/alarm-stop`,
  evidence: { tag: `packaging/${asset}/alarm/E1`, value: false, ts: at },
});

/** One letter of what came out: d(etect), F(lood), m(ember), E(nd), c(lear), with the asset or key. */
const brief = (c: TicketCommand) => {
  switch (c.type) {
    case 'detect':
      return `d:${c.asset}`;
    case 'flood':
      return `F:${c.key}`;
    case 'flood-member':
      return `m:${c.member.asset}`;
    case 'flood-end':
      return `E:${c.key}`;
    case 'clear':
      return `c:${c.key}`;
    default:
      return c.type;
  }
};

const routeOf: FloodOptions['routeOf'] = (f) => ({ assignedGroup: `maintenance-${f.area}`, notify: f.priority === 'P0' ? ['duty-supervisor'] : [] });
/** More than 3 distinct tags within 10 min is a flood; it ends below 1.5 (one tag left). */
const opts: FloodOptions = { count: 3, within: 10 * MIN, routeOf };

const newScheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

/** Everything the operator emits, with the virtual time it was emitted at. */
function collect(ts: TestScheduler, run: (h: Parameters<Parameters<TestScheduler['run']>[0]>[0]) => import('rxjs').Observable<TicketCommand>) {
  const out: { frame: number; cmd: TicketCommand }[] = [];
  ts.run((helpers) => {
    run(helpers).subscribe((cmd) => out.push({ frame: ts.now(), cmd }));
    helpers.flush();
  });
  return out;
}

describe('flood (count: 3, within: 10m, per area)', () => {
  it('more than `count` distinct alarm tags within the window open one flood command', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      const alarms = cold('a 999ms b 999ms c 999ms d', {
        a: alarm('sealer-01', 0),
        b: alarm('wrapper-02', S),
        c: alarm('filler-03', 2 * S),
        d: alarm('capper-04', 3 * S),
      });
      // a, b, c open their own tickets; d is the fourth distinct tag: a flood. It ends at 10m 2s,
      // when c leaves the window and only d is left (1 < 3/2), without further input.
      expectObservable(alarms.pipe(flood(opts, ts), map(brief))).toBe('a 999ms b 999ms c 999ms F 598999ms E', {
        a: 'd:sealer-01',
        b: 'd:wrapper-02',
        c: 'd:filler-03',
        F: `F:${FLOOD}`,
        E: `E:${FLOOD}`,
      });
    });
  });

  it('the flood command has the members, first out, merge keys, since, highest priority and routing', () => {
    const ts = newScheduler();
    const routed: Parameters<FloodOptions['routeOf']>[0][] = [];
    const spy: FloodOptions['routeOf'] = (f) => {
      routed.push(f);
      return routeOf(f);
    };
    const a = alarm('sealer-01', 0, 'P2');
    const b = alarm('wrapper-02', S, 'P0');
    const c = alarm('filler-03', 2 * S, 'P3');
    const d = alarm('capper-04', 3 * S, 'P1');
    const out = collect(ts, ({ cold }) => cold('a 999ms b 999ms c 999ms d', { a, b, c, d }).pipe(flood({ ...opts, routeOf: spy }, ts)));
    const floods = out.filter((o) => o.cmd.type === 'flood');
    expect(floods).toHaveLength(1);
    const m = (x: DetectCommand) => ({ asset: x.asset, fault: x.fault, at: x.at, tag: x.evidence.tag, key: x.key });
    expect(floods[0]).toEqual({
      frame: 3 * S,
      cmd: {
        type: 'flood',
        at: 3 * S,
        key: FLOOD,
        asset: null,
        area: 'packaging',
        line: 'line-1',
        fault: 'alarm-flood',
        category: 'hardware',
        rule: 'alarm-flood',
        priority: 'P0',
        title: 'packaging: alarm flood (first out sealer-01: alarm-stop)',
        assignedGroup: 'maintenance-packaging',
        notify: ['duty-supervisor'],
        members: [m(a), m(b), m(c), m(d)],
        firstOut: m(a),
        mergeKeys: ['sealer-01/alarm-stop', 'wrapper-02/alarm-stop', 'filler-03/alarm-stop', 'capper-04/alarm-stop'],
        since: 0,
        evidence: d.evidence,
      },
    });
    expect(routed).toEqual([{ area: 'packaging', line: 'line-1', fault: 'alarm-flood', category: 'hardware', priority: 'P0' }]);
  });

  it('exactly `count` distinct tags is not a flood', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      const alarms = cold('a 999ms b 999ms c', { a: alarm('sealer-01', 0), b: alarm('wrapper-02', S), c: alarm('filler-03', 2 * S) });
      expectObservable(alarms.pipe(flood(opts, ts), map(brief)), '^ 30m !').toBe('a 999ms b 999ms c', {
        a: 'd:sealer-01',
        b: 'd:wrapper-02',
        c: 'd:filler-03',
      });
    });
  });

  it('tags spread wider than the window do not flood: a raise exactly `within` old has left it', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      // a at 0 has left the window when d arrives at 10m: three distinct tags remain.
      const alarms = cold('a 4m b 4m c 2m d', {
        a: alarm('sealer-01', 0),
        b: alarm('wrapper-02', 4 * MIN + 1),
        c: alarm('filler-03', 8 * MIN + 2),
        d: alarm('capper-04', 10 * MIN + 3),
      });
      expectObservable(alarms.pipe(flood(opts, ts), map(brief)), '^ 60m !').toBe('a 4m b 4m c 2m d', {
        a: 'd:sealer-01',
        b: 'd:wrapper-02',
        c: 'd:filler-03',
        d: 'd:capper-04',
      });
    });
  });

  it('a chattering tag counts once, and its raises are all members', () => {
    const ts = newScheduler();
    const raises = [
      alarm('sealer-01', 0),
      alarm('sealer-01', S),
      alarm('sealer-01', 2 * S),
      alarm('sealer-01', 3 * S),
      alarm('wrapper-02', 4 * S),
      alarm('filler-03', 5 * S),
      alarm('capper-04', 6 * S),
    ];
    const [a, b, c, d, e, f, g] = raises as [DetectCommand, DetectCommand, DetectCommand, DetectCommand, DetectCommand, DetectCommand, DetectCommand];
    ts.run(({ cold, expectObservable }) => {
      const alarms = cold('a 999ms b 999ms c 999ms d 999ms e 999ms f 999ms g', { a, b, c, d, e, f, g });
      // Four raises of sealer-01 plus two other tags: three distinct, no flood; capper-04 makes four.
      expectObservable(alarms.pipe(flood(opts, ts), map(brief)), '^ 5m !').toBe('a 999ms b 999ms c 999ms d 999ms e 999ms f 999ms F', {
        a: 'd:sealer-01',
        b: 'd:sealer-01',
        c: 'd:sealer-01',
        d: 'd:sealer-01',
        e: 'd:wrapper-02',
        f: 'd:filler-03',
        F: `F:${FLOOD}`,
      });
    });
    const ts2 = newScheduler();
    const out = collect(ts2, ({ cold }) => cold('a 999ms b 999ms c 999ms d 999ms e 999ms f 999ms g', { a, b, c, d, e, f, g }).pipe(flood(opts, ts2)));
    const cmd = out.find((o) => o.cmd.type === 'flood')?.cmd;
    if (cmd?.type !== 'flood') throw new Error('no flood');
    expect(cmd.members.map((x) => `${x.asset}@${x.at}`)).toEqual([
      'sealer-01@0',
      'sealer-01@1000',
      'sealer-01@2000',
      'sealer-01@3000',
      'wrapper-02@4000',
      'filler-03@5000',
      'capper-04@6000',
    ]);
    expect(cmd.firstOut).toMatchObject({ asset: 'sealer-01', at: 0 });
    expect(cmd.mergeKeys).toEqual(raises.map((r) => r.key));
    expect(cmd.since).toBe(0);
  });

  it('after recognition, member alarms become flood-member commands and open nothing', () => {
    const ts = newScheduler();
    const e = alarm('labeler-05', 4 * S, 'P0');
    ts.run(({ cold, expectObservable }) => {
      const alarms = cold('a 999ms b 999ms c 999ms d 999ms e 999ms f', {
        a: alarm('sealer-01', 0),
        b: alarm('wrapper-02', S),
        c: alarm('filler-03', 2 * S),
        d: alarm('capper-04', 3 * S),
        e,
        f: alarm('sealer-01', 5 * S),
      });
      expectObservable(alarms.pipe(flood(opts, ts)), '^ 5m !').toBe('a 999ms b 999ms c 999ms F 999ms m 999ms n', {
        a: alarm('sealer-01', 0),
        b: alarm('wrapper-02', S),
        c: alarm('filler-03', 2 * S),
        F: expect.objectContaining({ type: 'flood', key: FLOOD, priority: 'P2' }),
        // a member raises the flood's priority to the highest seen; later members carry it.
        m: {
          type: 'flood-member',
          at: 4 * S,
          key: FLOOD,
          member: { asset: 'labeler-05', fault: 'alarm-stop', at: 4 * S, tag: 'packaging/labeler-05/alarm/E1', key: 'labeler-05/alarm-stop' },
          priority: 'P0',
          evidence: e.evidence,
        },
        n: expect.objectContaining({
          type: 'flood-member',
          at: 5 * S,
          key: FLOOD,
          priority: 'P0',
          member: expect.objectContaining({ asset: 'sealer-01', at: 5 * S }),
        }),
      });
    });
  });

  it('member alarms keep the flood going; it ends on a timer once fewer than count/2 distinct tags are left', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      const alarms = cold('a 999ms b 999ms c 999ms d 296999ms e 59999ms f', {
        a: alarm('sealer-01', 0),
        b: alarm('wrapper-02', S),
        c: alarm('filler-03', 2 * S),
        d: alarm('capper-04', 3 * S),
        e: alarm('labeler-05', 5 * MIN),
        f: alarm('palletizer-06', 6 * MIN),
      });
      // At 10m 3s only e and f are left (2, not below 1.5); at 15m e leaves too: the end.
      expectObservable(alarms.pipe(flood(opts, ts), map(brief))).toBe('a 999ms b 999ms c 999ms F 296999ms e 59999ms f 539999ms E', {
        a: 'd:sealer-01',
        b: 'd:wrapper-02',
        c: 'd:filler-03',
        F: `F:${FLOOD}`,
        e: 'm:labeler-05',
        f: 'm:palletizer-06',
        E: `E:${FLOOD}`,
      });
    });
  });

  it('ends only below half the count: with count 4, two distinct tags left still hold it', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      const alarms = cold('a 999ms b 999ms c 999ms d 999ms e', {
        a: alarm('sealer-01', 0),
        b: alarm('wrapper-02', S),
        c: alarm('filler-03', 2 * S),
        d: alarm('capper-04', 3 * S),
        e: alarm('labeler-05', 4 * S),
      });
      // Window after 10m 2s: d, e (2, not < 2); after 10m 3s: e alone: the end.
      expectObservable(alarms.pipe(flood({ ...opts, count: 4 }, ts), map(brief))).toBe('a 999ms b 999ms c 999ms d 999ms F 598999ms E', {
        a: 'd:sealer-01',
        b: 'd:wrapper-02',
        c: 'd:filler-03',
        d: 'd:capper-04',
        F: `F:${FLOOD}`,
        E: `E:${FLOOD}`,
      });
    });
  });

  it('after the end, alarms in the area are detects again, and a second burst opens a new flood', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      // First flood ends at 10m 2s; the second burst starts at 20m.
      const alarms = cold('a 999ms b 999ms c 999ms d 1196999ms e 999ms f 999ms g 999ms h', {
        a: alarm('sealer-01', 0),
        b: alarm('wrapper-02', S),
        c: alarm('filler-03', 2 * S),
        d: alarm('capper-04', 3 * S),
        e: alarm('labeler-05', 20 * MIN),
        f: alarm('sealer-01', 20 * MIN + S),
        g: alarm('wrapper-02', 20 * MIN + 2 * S),
        h: alarm('filler-03', 20 * MIN + 3 * S),
      });
      expectObservable(alarms.pipe(flood(opts, ts), map(brief))).toBe('a 999ms b 999ms c 999ms F 598999ms E 597999ms e 999ms f 999ms g 999ms G 598999ms Z', {
        a: 'd:sealer-01',
        b: 'd:wrapper-02',
        c: 'd:filler-03',
        F: `F:${FLOOD}`,
        E: `E:${FLOOD}`,
        e: 'd:labeler-05',
        f: 'd:sealer-01',
        g: 'd:wrapper-02',
        G: `F:${FLOOD}`,
        Z: `E:${FLOOD}`,
      });
    });
  });

  it('the second flood has its own first out, members and since', () => {
    const ts = newScheduler();
    const out = collect(ts, ({ cold }) =>
      cold('a 999ms b 999ms c 999ms d 1196999ms e 999ms f 999ms g 999ms h', {
        a: alarm('sealer-01', 0),
        b: alarm('wrapper-02', S),
        c: alarm('filler-03', 2 * S),
        d: alarm('capper-04', 3 * S),
        e: alarm('labeler-05', 20 * MIN),
        f: alarm('sealer-01', 20 * MIN + S),
        g: alarm('wrapper-02', 20 * MIN + 2 * S),
        h: alarm('filler-03', 20 * MIN + 3 * S),
      }).pipe(flood(opts, ts)),
    );
    const second = out.filter((o) => o.cmd.type === 'flood')[1]?.cmd;
    if (second?.type !== 'flood') throw new Error('no second flood');
    expect(second.firstOut).toMatchObject({ asset: 'labeler-05', at: 20 * MIN });
    expect(second.since).toBe(20 * MIN);
    expect(second.members.map((x) => x.asset)).toEqual(['labeler-05', 'sealer-01', 'wrapper-02', 'filler-03']);
    expect(second.mergeKeys).toEqual(['labeler-05/alarm-stop', 'sealer-01/alarm-stop', 'wrapper-02/alarm-stop', 'filler-03/alarm-stop']);
  });

  it("other areas' alarms pass through unchanged during a flood and do not count towards it", () => {
    const ts = newScheduler();
    const x = alarm('feeder-3', 4 * S, 'P2', 'utilities');
    const y = alarm('feeder-4', 5 * S, 'P2', 'utilities');
    const out = collect(ts, ({ cold }) =>
      cold('a 999ms b 999ms c 999ms d 999ms x 999ms y', {
        a: alarm('sealer-01', 0),
        b: alarm('wrapper-02', S),
        c: alarm('filler-03', 2 * S),
        d: alarm('capper-04', 3 * S),
        x,
        y,
      }).pipe(flood(opts, ts)),
    );
    expect(out.map((o) => brief(o.cmd))).toEqual(['d:sealer-01', 'd:wrapper-02', 'd:filler-03', `F:${FLOOD}`, 'd:feeder-3', 'd:feeder-4', `E:${FLOOD}`]);
    expect(out[4]?.cmd).toBe(x);
    expect(out[5]?.cmd).toBe(y);
  });

  it('counts per area: alarms spread over two areas do not add up to a flood', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      const alarms = cold('a-b-c-d-e-f', {
        a: alarm('sealer-01', 0),
        b: alarm('feeder-3', 2, 'P2', 'utilities'),
        c: alarm('wrapper-02', 4),
        d: alarm('feeder-4', 6, 'P2', 'utilities'),
        e: alarm('filler-03', 8),
        f: alarm('feeder-5', 10, 'P2', 'utilities'),
      });
      expectObservable(alarms.pipe(flood(opts, ts), map(brief)), '^ 30m !').toBe('a-b-c-d-e-f', {
        a: 'd:sealer-01',
        b: 'd:feeder-3',
        c: 'd:wrapper-02',
        d: 'd:feeder-4',
        e: 'd:filler-03',
        f: 'd:feeder-5',
      });
    });
  });

  it('clear commands pass through, before and during a flood', () => {
    const ts = newScheduler();
    const x = clear('sealer-01', 500);
    const z = clear('wrapper-02', 3500);
    ts.run(({ cold, expectObservable }) => {
      const cmds = cold('a 499ms x 499ms b 999ms c 999ms d 499ms z', {
        a: alarm('sealer-01', 0),
        x,
        b: alarm('wrapper-02', S),
        c: alarm('filler-03', 2 * S),
        d: alarm('capper-04', 3 * S),
        z,
      });
      expectObservable(cmds.pipe(flood(opts, ts)), '^ 5m !').toBe('a 499ms x 499ms b 999ms c 999ms F 499ms z', {
        a: alarm('sealer-01', 0),
        x,
        b: alarm('wrapper-02', S),
        c: alarm('filler-03', 2 * S),
        F: expect.objectContaining({ type: 'flood' }),
        z,
      });
    });
  });

  it('detects without an area pass through and do not count', () => {
    const ts = newScheduler();
    const n = [0, 1, 2, 3, 4].map((i) => alarm(`line-plc-${i}`, i * S, 'P2', null));
    const [a, b, c, d, e] = n as [DetectCommand, DetectCommand, DetectCommand, DetectCommand, DetectCommand];
    const out = collect(ts, ({ cold }) => cold('a 999ms b 999ms c 999ms d 999ms e', { a, b, c, d, e }).pipe(flood(opts, ts)));
    expect(out.map((o) => o.cmd)).toEqual(n);
    out.forEach((o, i) => expect(o.cmd).toBe(n[i]));
  });

  it('keeps its areas per subscription', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      const alarms = cold('a 999ms b 999ms c 999ms d', {
        a: alarm('sealer-01', 0),
        b: alarm('wrapper-02', S),
        c: alarm('filler-03', 2 * S),
        d: alarm('capper-04', 3 * S),
      }).pipe(flood(opts, ts), map(brief));
      // Each subscriber recognises its own flood; a shared window would make the second one's d a member.
      const expected = { a: 'd:sealer-01', b: 'd:wrapper-02', c: 'd:filler-03', F: `F:${FLOOD}` };
      expectObservable(alarms, '^ 5m !').toBe('a 999ms b 999ms c 999ms F', expected);
      expectObservable(alarms, '^ 5m !').toBe('a 999ms b 999ms c 999ms F', expected);
    });
  });
});

describe('flood: the window of raises', () => {
  it('decides as counting the distinct tags of the whole window afresh would, over a seeded stream with a flapping alarm', () => {
    const within = 10 * S;
    const count = 20;
    /** The window as it was kept before: an array pruned from the front, its distinct tags counted on every raise. */
    const reference = () => {
      const windows = new Map<string, { at: number; tag: string }[]>();
      const flooding = new Set<string>();
      return (cmd: DetectCommand): string => {
        const area = cmd.area as string;
        const w = windows.get(area) ?? [];
        windows.set(area, w);
        let i = 0;
        while (i < w.length && cmd.at - (w[i] as { at: number }).at >= within) i++;
        w.splice(0, i);
        w.push({ at: cmd.at, tag: cmd.evidence.tag });
        if (flooding.has(area)) return `m:${cmd.asset}`;
        if (new Set(w.map((r) => r.tag)).size <= count) return `d:${cmd.asset}`;
        flooding.add(area);
        return `F:${w.map((r) => r.tag).join(',')}`;
      };
    };
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    for (let round = 0; round < 5; round++) {
      const expected = reference();
      const commands: DetectCommand[] = [];
      let now = 0;
      for (let i = 0; i < 3_000; i++) {
        now += Math.floor(rand() * 40);
        // mostly one flapping alarm per area; now and then another asset, a burst of them late in the stream
        const asset = rand() < (i > 2_500 ? 0.6 : 0.03) ? `a${Math.floor(rand() * 60)}` : 'flapper';
        const back = rand() < 0.05 ? Math.floor(rand() * 2 * within) : 0; // a clock that is behind
        commands.push(alarm(asset, now - back, 'P2', rand() < 0.5 ? 'packaging' : 'filling'));
      }
      const want = commands.map((c) => expected(c));
      const got: string[] = [];
      const sub = from(commands)
        .pipe(flood({ ...opts, count, within }, asyncScheduler))
        .subscribe((c) => {
          if (c.type === 'detect') got.push(`d:${c.asset}`);
          else if (c.type === 'flood-member') got.push(`m:${c.member.asset}`);
          else if (c.type === 'flood') got.push(`F:${c.members.map((m) => m.tag).join(',')}`);
        });
      sub.unsubscribe();
      expect(got).toEqual(want);
      expect(want.some((w) => w.startsWith('F:'))).toBe(true); // the stream does flood, late
      expect(want.filter((w) => w.startsWith('d:')).length).toBeGreaterThan(2_000); // after a long calm
    }
  });
});

describe('RaiseWindow', () => {
  it('holds what an array pruned from the front holds, and counts its distinct tags, across compactions', () => {
    let seed = 99;
    const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    const within = 1_000;
    const w = new RaiseWindow();
    let model: { at: number; tag: string }[] = [];
    let now = 0;
    for (let i = 0; i < 20_000; i++) {
      // bursts fill it (thousands within the window), quiet spells empty it; some times go back
      now += i % 5_000 < 4_000 ? (rand() < 0.9 ? 0 : 1) : Math.floor(rand() * 600);
      const at = rand() < 0.05 ? now - Math.floor(rand() * 2 * within) : now;
      w.prune(at, within);
      let drop = 0;
      while (drop < model.length && at - (model[drop] as { at: number }).at >= within) drop++;
      model = model.slice(drop);
      const r = { at, tag: `t${Math.floor(rand() * 30)}`, key: 'a/alarm-stop', asset: 'a', fault: 'alarm-stop', priority: 'P2' as const, line: null, category: 'hardware' as const };
      w.push(r);
      model.push(r);
      if (i % 97 === 0 || i % 5_000 === 4_999) {
        expect(w.all().map((x) => `${x.at}:${x.tag}`)).toEqual(model.map((x) => `${x.at}:${x.tag}`));
        expect(w.oldest).toBe(model[0]);
      }
      expect(w.distinctTags).toBe(new Set(model.map((x) => x.tag)).size);
    }
  });
});
