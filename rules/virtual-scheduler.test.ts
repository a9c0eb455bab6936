import { delay, interval, of, take, timer, type SchedulerAction } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { VirtualScheduler } from './virtual-scheduler.ts';

describe('VirtualScheduler', () => {
  it('starts at the given time and does not move on its own', () => {
    const s = new VirtualScheduler(1_000);
    expect(s.now()).toBe(1_000);
    s.schedule(() => undefined, 500);
    expect(s.now()).toBe(1_000);
  });

  it('runs timers in due order, ties in schedule order, each at its own time', () => {
    const s = new VirtualScheduler(0);
    const ran: string[] = [];
    const log = (name: string) => () => void ran.push(`${name}@${s.now()}`);
    s.schedule(log('c'), 300);
    s.schedule(log('a1'), 100);
    s.schedule(log('b'), 200);
    s.schedule(log('a2'), 100);
    s.schedule(log('now'), 0);
    s.schedule(log('a3'), 100);
    s.advanceTo(1_000);
    expect(ran).toEqual(['now@0', 'a1@100', 'a2@100', 'a3@100', 'b@200', 'c@300']);
    expect(s.now()).toBe(1_000);
  });

  it('runs only what is due, a timer due exactly at t included', () => {
    const s = new VirtualScheduler(0);
    const ran: number[] = [];
    for (const d of [50, 100, 150]) s.schedule(() => void ran.push(d), d);
    s.advanceTo(100);
    expect(ran).toEqual([50, 100]);
    expect(s.now()).toBe(100);
    s.advanceTo(149);
    expect(ran).toEqual([50, 100]);
    s.advanceTo(150);
    expect(ran).toEqual([50, 100, 150]);
  });

  it('cancelled timers never run', () => {
    const s = new VirtualScheduler(0);
    const ran: string[] = [];
    const a = s.schedule(() => void ran.push('a'), 100);
    s.schedule(() => void ran.push('b'), 100);
    const c = s.schedule(() => void ran.push('c'), 50);
    a.unsubscribe();
    c.unsubscribe();
    s.advanceTo(200);
    expect(ran).toEqual(['b']);
  });

  it('a timer cancelled by an earlier timer in the same advance never runs', () => {
    const s = new VirtualScheduler(0);
    const ran: string[] = [];
    let victim: { unsubscribe(): void } | null = null;
    s.schedule(() => {
      ran.push('killer');
      victim?.unsubscribe();
    }, 50);
    victim = s.schedule(() => void ran.push('victim'), 100);
    s.advanceTo(100);
    expect(ran).toEqual(['killer']);
  });

  it('never goes backwards', () => {
    const s = new VirtualScheduler(0);
    s.advanceTo(1_000);
    s.advanceTo(500);
    expect(s.now()).toBe(1_000);
    const ran: number[] = [];
    s.schedule(() => void ran.push(s.now()), 100);
    s.advanceTo(900);
    expect(ran).toEqual([]);
    expect(s.now()).toBe(1_000);
    s.advanceTo(1_100);
    expect(ran).toEqual([1_100]);
  });

  it('a negative delay runs at the present, not in the past', () => {
    const s = new VirtualScheduler(1_000);
    const ran: number[] = [];
    s.schedule(() => void ran.push(s.now()), -500);
    s.advanceTo(1_000);
    expect(ran).toEqual([1_000]);
  });

  it('work can reschedule itself with this.schedule, relative to its own due time', () => {
    const s = new VirtualScheduler(0);
    const ran: number[] = [];
    s.schedule(function (this: SchedulerAction<number>, n?: number) {
      ran.push(s.now());
      if ((n ?? 0) < 3) this.schedule((n ?? 0) + 1, 100);
    }, 100, 0);
    s.advanceTo(250);
    expect(ran).toEqual([100, 200]);
    s.advanceTo(10_000);
    expect(ran).toEqual([100, 200, 300, 400]);
    expect(s.size).toBe(0);
  });

  it('work can schedule new timers that fall inside the same advance', () => {
    const s = new VirtualScheduler(0);
    const ran: string[] = [];
    s.schedule(() => {
      ran.push(`outer@${s.now()}`);
      s.schedule(() => void ran.push(`inner@${s.now()}`), 10);
      s.schedule(() => void ran.push(`same@${s.now()}`), 0);
    }, 100);
    s.schedule(() => void ran.push(`other@${s.now()}`), 105);
    s.advanceTo(200);
    expect(ran).toEqual(['outer@100', 'same@100', 'other@105', 'inner@110']);
  });

  it('rescheduling a pending action moves it instead of running it twice', () => {
    const s = new VirtualScheduler(0);
    const ran: number[] = [];
    const action = s.schedule(() => void ran.push(s.now()), 100) as unknown as SchedulerAction<unknown>;
    action.schedule(undefined, 300);
    s.advanceTo(1_000);
    expect(ran).toEqual([300]);
  });

  it('flush runs every timer however far away', () => {
    const s = new VirtualScheduler(0);
    const ran: number[] = [];
    s.schedule(() => void ran.push(s.now()), 14 * 86_400_000);
    s.flush();
    expect(ran).toEqual([14 * 86_400_000]);
  });

  it('drives RxJS timer()', () => {
    const s = new VirtualScheduler(1_000);
    const got: [number, number][] = [];
    let done = false;
    timer(5_000, s).subscribe({ next: (v) => got.push([v, s.now()]), complete: () => (done = true) });
    s.advanceTo(5_999);
    expect(got).toEqual([]);
    s.advanceTo(6_000);
    expect(got).toEqual([[0, 6_000]]);
    expect(done).toBe(true);
  });

  it('drives RxJS timer() with a period and interval()', () => {
    const s = new VirtualScheduler(0);
    const got: number[] = [];
    timer(100, 50, s).pipe(take(3)).subscribe(() => got.push(s.now()));
    interval(1_000, s).pipe(take(2)).subscribe(() => got.push(-s.now()));
    s.advanceTo(10_000);
    expect(got).toEqual([100, 150, 200, -1_000, -2_000]);
  });

  it('drives RxJS delay()', () => {
    const s = new VirtualScheduler(0);
    const got: [string, number][] = [];
    of('a', 'b')
      .pipe(delay(250, s))
      .subscribe((v) => got.push([v, s.now()]));
    s.advanceTo(249);
    expect(got).toEqual([]);
    s.advanceTo(250);
    expect(got).toEqual([
      ['a', 250],
      ['b', 250],
    ]);
  });

  it('unsubscribing from an RxJS timer cancels it', () => {
    const s = new VirtualScheduler(0);
    const got: number[] = [];
    const sub = timer(100, s).subscribe(() => got.push(s.now()));
    sub.unsubscribe();
    s.advanceTo(1_000);
    expect(got).toEqual([]);
  });

  it('keeps order with many timers (heap property)', () => {
    const s = new VirtualScheduler(0);
    const ran: number[] = [];
    let x = 12345;
    const delays: number[] = [];
    for (let i = 0; i < 2_000; i++) {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      delays.push(x % 10_000);
    }
    const handles = delays.map((d) => s.schedule(() => void ran.push(d), d));
    handles.forEach((h, i) => i % 3 === 0 && h.unsubscribe());
    s.advanceTo(10_000);
    const expected = delays.filter((_, i) => i % 3 !== 0).sort((a, b) => a - b);
    expect(ran).toEqual(expected);
  });
});
