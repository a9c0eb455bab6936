import { describe, expect, it } from 'vitest';
import { formatProgress, progressLine } from './progress.ts';

const ERASE = '\r\x1b[2K';

/** A progress line on a fake clock, recording what it writes. */
function setup(opts: { interval?: number; columns?: number } = {}) {
  let t = 0;
  const writes: string[] = [];
  const p = progressLine({ label: 'replay', total: 10 * 1_048_576, write: (s) => writes.push(s), now: () => t, ...opts });
  return { p, writes, advance: (ms: number) => (t += ms) };
}

describe('progress line', () => {
  it('says percent of the file, lines, lines/s, MiB and time left', () => {
    expect(formatProgress('replay', 160_000, 2.5 * 1_048_576, 10 * 1_048_576, 1000)).toBe(
      'replay:  25% │ 160,000 lines │ 160,000 lines/s │ 2.5 of 10.0 MiB │ ~3s left',
    );
    expect(formatProgress('replay', 0, 0, 10, 0)).toBe('replay:   0% │ 0 lines │ 0 lines/s │ 0.0 of 0.0 MiB');
  });

  it('groups the figures as Intl.NumberFormat en-US does, rounding half up, without it', () => {
    const intl = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
    for (const n of [0, 1, 999, 999.5, 1000, 1234.49, 12_345.5, 999_999.6, 1_000_000, 123_456_789, 2 ** 40 + 0.5]) {
      expect(formatProgress('r', n, 0, 1, 1000)).toBe(`r:   0% │ ${intl.format(n)} lines │ ${intl.format(n)} lines/s │ 0.0 of 0.0 MiB`);
    }
  });

  it('draws the first update at once, then at most once per interval', () => {
    const { p, writes, advance } = setup({ interval: 250 });
    p.update(4096, 1_048_576);
    advance(100);
    p.update(8192, 2_097_152); // within 250 ms of the last draw: skipped
    advance(100);
    p.update(12_288, 3_145_728); // still within
    advance(60);
    p.update(16_384, 4_194_304); // 260 ms after the first draw
    expect(writes).toHaveLength(2);
    expect(writes[0]?.startsWith(`${ERASE}replay:  10% │ 4,096 lines │ `)).toBe(true);
    expect(writes[1]).toBe(`${ERASE}replay:  40% │ 16,384 lines │ 63,015 lines/s │ 4.0 of 10.0 MiB │ ~1s left`);
  });

  it('is erased at the end, once, and only if something was drawn', () => {
    const quiet = setup();
    quiet.p.done();
    expect(quiet.writes).toEqual([]);

    const { p, writes } = setup();
    p.update(1, 1);
    p.done();
    p.done();
    expect(writes.at(-1)).toBe(ERASE);
    expect(writes.filter((w) => w === ERASE)).toHaveLength(1);
  });

  it('is cut to the terminal width so it never wraps', () => {
    const { p, writes } = setup({ columns: 40 });
    p.update(123_456, 5_000_000);
    expect((writes[0] as string).slice(ERASE.length)).toHaveLength(39);
  });
});
