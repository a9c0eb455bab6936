import { describe, expect, it } from 'vitest';
import { ENTRIES } from './entries/index.ts';
import { formatResult, runEntry } from './harness.ts';

/**
 * Bad input never costs anything else: per entry point FUZZ_COUNT (default
 * 2,000; config 1,000, the slowest to parse) generated bad payloads, and every 500 of them a good alarm that must
 * still open its ticket, with nothing held and no ticket on a poison time.
 * FUZZ_SEED picks the seed (default: fixed, so a failure here repeats);
 * FUZZ_SKIP_TS_POISON=1 leaves out payloads with poison timestamps.
 * The long run is `npm run fuzz` (100,000 per entry point).
 */
const count = Number(process.env.FUZZ_COUNT ?? 2_000);
const seed = Number(process.env.FUZZ_SEED ?? 20_261_105);

describe('fuzzing the entry points', () => {
  it.each(Object.keys(ENTRIES))(
    '%s: bad payloads are refused, and a good signal still opens its ticket',
    async (name) => {
      const r = await runEntry((ENTRIES[name] as () => Parameters<typeof runEntry>[0])(), {
        seed,
        count: name === 'config' ? Math.ceil(count / 2) : count,
        checkEvery: 500,
        skipTsPoison: process.env.FUZZ_SKIP_TS_POISON === '1',
        localize: 1,
      });
      expect(r.failures, formatResult(r)).toEqual([]);
      expect(r.passed).toBe(r.checks);
    },
    120_000,
  );
});
