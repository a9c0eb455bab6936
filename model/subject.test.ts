import { share, Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { LeanSubject } from './subject.ts';

/** What each subscriber saw, for the same script of subscribes, unsubscribes and values. */
function script(make: () => Subject<number>): string[][] {
  const s = make();
  const seen: string[][] = [[], [], []];
  const a = s.subscribe((v) => {
    seen[0]?.push(`a${v}`);
    // an observer that unsubscribes another one, and subscribes a third, while a value is delivered
    if (v === 2) b.unsubscribe();
    if (v === 2) s.subscribe((w) => seen[2]?.push(`c${w}`));
  });
  const b = s.subscribe((v) => seen[1]?.push(`b${v}`));
  for (const v of [1, 2, 3]) s.next(v);
  a.unsubscribe();
  s.next(4);
  s.complete();
  s.next(5);
  return seen;
}

describe('LeanSubject', () => {
  it('delivers as rxjs Subject does, through subscribes and unsubscribes during a value', () => {
    const lean = script(() => new LeanSubject<number>());
    expect(lean).toEqual(script(() => new Subject<number>()));
    // b, removed during 2, gets nothing from then on (its subscriber is closed); c gets the values after its subscribe
    expect(lean).toEqual([['a1', 'a2', 'a3'], ['b1'], ['c3', 'c4']]);
  });

  it('uses its own loop with this rxjs (the snapshot field is there), and throws once unsubscribed', () => {
    const s = new LeanSubject<number>();
    expect((s as unknown as { snapshot: boolean }).snapshot).toBe(true);
    s.unsubscribe();
    expect(() => s.next(1)).toThrow(/unsubscribed/i);
  });

  it('works as share()’s connector: one upstream subscription, every subscriber gets every value', () => {
    const source = new Subject<number>();
    const shared = source.pipe(share({ connector: () => new LeanSubject<number>() }));
    const got: number[][] = [[], []];
    const a = shared.subscribe((v) => got[0]?.push(v));
    const b = shared.subscribe((v) => got[1]?.push(v));
    source.next(1);
    source.next(2);
    expect(got).toEqual([
      [1, 2],
      [1, 2],
    ]);
    expect(source.observers).toHaveLength(1);
    a.unsubscribe();
    b.unsubscribe();
    expect(source.observed).toBe(false); // the last one gone, share lets go of the source
  });
});
