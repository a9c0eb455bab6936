import { describe, expect, it } from 'vitest';
import { EpisodeLog } from './episodes.ts';

const A = 'sealer-01/alarm-stop';
const B = 'feeder-3/voltage-sag';

/** Adds raises of `key` at the given times and returns which started an episode. */
const addAll = (log: EpisodeLog, key: string, times: number[]) => times.map((t) => log.add(key, key.split('/')[0] as string, key.split('/')[1] as string, t));

/** What indexAt must return: the first entry at or after `t`, by a linear scan. */
const linearIndexAt = (log: EpisodeLog, t: number) => {
  const i = log.timeline.findIndex((e) => e.at >= t);
  return i === -1 ? log.timeline.length : i;
};

describe('EpisodeLog', () => {
  describe('episodes (gap: 60)', () => {
    it('raises closer than the gap are one episode; the gap or more starts a new one', () => {
      const log = new EpisodeLog(60, 10_000);
      expect(addAll(log, A, [0, 30, 59, 200, 260, 400])).toEqual([true, false, false, true, true, true]);
      expect(log.of(A, 400, 10_000)).toEqual([0, 200, 260, 400]);
    });

    it('a chain of close raises stays one episode even when it lasts longer than the gap', () => {
      const log = new EpisodeLog(60, 10_000);
      expect(addAll(log, A, [0, 50, 100, 150, 200, 250])).toEqual([true, false, false, false, false, false]);
      expect(log.of(A, 250, 10_000)).toEqual([0]);
    });

    it('groups per key', () => {
      const log = new EpisodeLog(60, 10_000);
      addAll(log, A, [0]);
      expect(addAll(log, B, [10])).toEqual([true]);
      expect(addAll(log, A, [20])).toEqual([false]);
      expect(log.of(A, 100, 10_000)).toEqual([0]);
      expect(log.of(B, 100, 10_000)).toEqual([10]);
    });

    it('the timeline holds every episode start of every key in time order, with asset and fault', () => {
      const log = new EpisodeLog(60, 10_000);
      log.add(A, 'sealer-01', 'alarm-stop', 0);
      log.add(B, 'feeder-3', 'voltage-sag', 5);
      log.add(A, 'sealer-01', 'alarm-stop', 30); // same episode: not on the timeline
      log.add(A, 'sealer-01', 'alarm-stop', 200);
      expect(log.timeline).toEqual([
        { at: 0, key: A, asset: 'sealer-01', fault: 'alarm-stop' },
        { at: 5, key: B, asset: 'feeder-3', fault: 'voltage-sag' },
        { at: 200, key: A, asset: 'sealer-01', fault: 'alarm-stop' },
      ]);
    });
  });

  describe('of(key, now, window)', () => {
    const log = new EpisodeLog(10, 100_000);
    addAll(log, A, [100, 200, 300, 400, 500]);

    it('returns the episode starts in (now - window, now]', () => {
      expect(log.of(A, 500, 250)).toEqual([300, 400, 500]);
      // exactly `window` old is out
      expect(log.of(A, 500, 200)).toEqual([400, 500]);
      // an episode at `now` is in
      expect(log.of(A, 400, 1)).toEqual([400]);
    });

    it('ignores episodes after `now`', () => {
      expect(log.of(A, 250, 1_000)).toEqual([100, 200]);
    });

    it('an unknown key has none', () => {
      expect(log.of('nobody/nothing', 500, 1_000)).toEqual([]);
    });
  });

  describe('indexAt (binary search)', () => {
    it('on an empty timeline is 0', () => {
      expect(new EpisodeLog(10, 1_000).indexAt(5)).toBe(0);
    });

    it('agrees with a linear scan on a sorted timeline', () => {
      const log = new EpisodeLog(10, 100_000);
      const times = [100, 300, 300, 300, 500, 700, 700, 900];
      times.forEach((t, i) => log.add(`k${i}/f`, `k${i}`, 'f', t));
      expect(log.timeline.map((e) => e.at)).toEqual(times);
      for (const t of [0, 99, 100, 101, 299, 300, 301, 500, 699, 700, 701, 900, 901, 10_000])
        expect(log.indexAt(t), `indexAt(${t})`).toBe(linearIndexAt(log, t));
      expect(log.indexAt(300)).toBe(1);
      expect(log.indexAt(700)).toBe(5);
      expect(log.indexAt(0)).toBe(0);
      expect(log.indexAt(901)).toBe(times.length);
    });
  });

  describe('pruning (retention: 1000, at most every 100)', () => {
    it('keeps recent entries correct and drops what is older than the retention', () => {
      const log = new EpisodeLog(10, 1_000);
      // A every 50, B every 120, for 5000.
      const expectA: number[] = [];
      const expectB: number[] = [];
      for (let t = 0; t <= 5_000; t += 10) {
        if (t % 50 === 0) {
          log.add(A, 'sealer-01', 'alarm-stop', t);
          expectA.push(t);
        }
        if (t % 120 === 0) {
          log.add(B, 'feeder-3', 'voltage-sag', t);
          expectB.push(t);
        }
      }
      const now = 5_000;
      for (const w of [1, 50, 333, 999, 1_000]) {
        expect(log.of(A, now, w), `A within ${w}`).toEqual(expectA.filter((t) => now - t < w));
        expect(log.of(B, now, w), `B within ${w}`).toEqual(expectB.filter((t) => now - t < w));
      }
      // Pruned: nothing older than the retention plus one pruning interval is left.
      expect(log.timeline[0]?.at).toBeGreaterThanOrEqual(now - 1_000 - 100);
      expect(log.timeline.length).toBeLessThan(expectA.length + expectB.length);
      // The timeline is still sorted and indexAt still agrees with a scan after the splice.
      const ats = log.timeline.map((e) => e.at);
      expect(ats).toEqual([...ats].sort((a, b) => a - b));
      for (const t of [0, 3_900, 4_000, 4_005, 4_440, 4_500, 4_999, 5_000, 5_001]) expect(log.indexAt(t), `indexAt(${t})`).toBe(linearIndexAt(log, t));
    });

    it('a key quiet for longer than the retention is forgotten; its next raise is a new episode', () => {
      const log = new EpisodeLog(10, 1_000);
      addAll(log, A, [0, 100]);
      addAll(log, B, [2_000]); // prunes: A is older than the retention
      expect(log.of(A, 2_000, 1_000_000)).toEqual([]);
      expect(log.timeline.map((e) => e.key)).toEqual([B]);
      expect(addAll(log, A, [2_050])).toEqual([true]);
      expect(log.of(A, 2_050, 1_000)).toEqual([2_050]);
    });

    it('an entry exactly at the retention cut is kept', () => {
      const log = new EpisodeLog(10, 1_000);
      addAll(log, A, [1_000]);
      addAll(log, B, [2_000]); // cut = 1000
      expect(log.timeline.map((e) => e.at)).toEqual([1_000, 2_000]);
      expect(log.of(A, 2_000, 1_001)).toEqual([1_000]);
    });

    it('is amortised: between prunes, stale entries may stay on the timeline but never count', () => {
      const log = new EpisodeLog(10, 1_000);
      log.add('a/x', 'a', 'x', 0); // prunes (the first add always does)
      log.add('b/x', 'b', 'x', 95); // within a tenth of the retention: no prune
      log.add('c/x', 'c', 'x', 1_050); // prunes at cut 50: a goes, b stays
      expect(log.timeline.map((e) => e.key)).toEqual(['b/x', 'c/x']);
      log.add('d/x', 'd', 'x', 1_140); // 90 after the last prune: b (older than the retention) stays for now
      expect(log.timeline.map((e) => e.key)).toEqual(['b/x', 'c/x', 'd/x']);
      expect(log.of('b/x', 1_140, 1_000)).toEqual([]);
      log.add('e/x', 'e', 'x', 1_150); // 100 after: prunes at cut 150
      expect(log.timeline.map((e) => e.key)).toEqual(['c/x', 'd/x', 'e/x']);
      expect(log.indexAt(1_140)).toBe(1);
    });
  });
});
