import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.ts';
import { replay } from '../gateway/replay.ts';
import { generate, type Family, type Options } from './variants/generate.ts';
import { SCENARIO_NAMES } from './variants/kit.ts';

/**
 * Generated plant situations (test/variants/generate.ts) like the shared
 * scenarios, but with other names, timezones, times of day, thresholds,
 * delays, windows and counts: nothing may be tuned to the scenarios' numbers.
 * Each case replays in-process and is scored by the scenarios' own score.mjs.
 *
 * A failure names the family, seed and options; reproduce with
 *   node --import tsx test/variants/generate.ts <family> <seed> <dir>
 * (options: call generate() with them) or keep every case's files with
 *   ANDON_VARIANTS_OUT=/tmp/variants npx vitest run test/variants.test.ts
 */

const score = join(import.meta.dirname, 'scenarios', 'score.mjs');
const keep = process.env.ANDON_VARIANTS_OUT;
const out = keep ?? mkdtempSync(join(tmpdir(), 'andon-variants-'));
afterAll(() => {
  if (!keep) rmSync(out, { recursive: true, force: true });
});

interface Case {
  family: Family;
  seed: number;
  opts?: Options;
}

const seeds = (family: Family, list: number[], opts?: (seed: number, i: number) => Options | undefined): Case[] =>
  list.map((seed, i) => ({ family, seed, ...(opts?.(seed, i) ? { opts: opts(seed, i) } : {}) }));

const NAMED_ZONES = ['America/Chicago', 'Europe/Berlin', 'Asia/Kolkata', 'UTC', 'Pacific/Auckland'];

const CASES: Case[] = [
  // 1. recurring cause: the five named zones (every other one across a DST change), drawn zones, stops around midnight
  ...seeds('recurring-daily', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], (_s, i) => ({ timezone: NAMED_ZONES[i % 5] as string, crossDst: i % 2 === 0 })),
  ...seeds('recurring-daily', [11, 12]),
  ...seeds('recurring-daily', [13, 14, 15], () => ({ nearMidnight: true })),
  ...seeds('recurring-weekly', [1, 2, 3, 4], (_s, i) => (i < 2 ? { crossDst: true } : undefined)),
  ...seeds('recurring-irregular', [1, 2, 3, 4]),
  // 2. base-rate guard (a few hundred raises of the frequent alarm each); long runs with a short counting window
  ...seeds('base-rate', [1, 2, 4]),
  ...seeds('base-rate', [3, 6], () => ({ longRun: true })),
  // 3..6
  ...seeds('flood', [1, 2, 3, 4, 5, 6, 7, 8]),
  ...seeds('noise', [1, 2, 3, 4, 5, 6, 7, 8]),
  ...seeds('silence', [1, 2, 3, 4, 5, 6, 7, 8]),
  ...seeds('lifecycle', [1, 2, 3, 4, 5, 6, 7, 8]),
];

const label = (c: Case) => `${c.family} seed ${c.seed}${c.opts ? ` ${JSON.stringify(c.opts)}` : ''}`;

for (const family of new Set(CASES.map((c) => c.family))) {
  describe(`variants: ${family}`, () => {
    for (const c of CASES.filter((x) => x.family === family)) {
      it(`${label(c)} scores 100%`, async () => {
        const v = generate(c.family, c.seed, c.opts);
        const dir = join(out, label(c).replace(/[^A-Za-z0-9_.-]+/g, '_'));
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, 'config.yaml'), v.config);
        writeFileSync(join(dir, 'expected.json'), JSON.stringify(v.expected, null, 2));
        const { tickets, summary } = await replay({ config: parseConfig(v.config, {}), input: v.lines, now: Infinity });
        writeFileSync(join(dir, 'tickets.json'), JSON.stringify(tickets, null, 2));
        const run = spawnSync(process.execPath, [score, join(dir, 'expected.json'), join(dir, 'tickets.json')], { encoding: 'utf8' });
        const fails = run.stdout.split('\n').filter((l) => l.startsWith('FAIL'));
        if (fails.length > 0 || keep) writeFileSync(join(dir, 'signals.jsonl'), v.lines.join('\n') + '\n');
        const repro =
          `${label(c)}: ${v.expected.description}\n` +
          `reproduce: generate(${JSON.stringify(c.family)}, ${c.seed}${c.opts ? `, ${JSON.stringify(c.opts)}` : ''}); files in ${dir}\n` +
          `params: ${JSON.stringify(v.params)}`;
        expect(fails, repro).toEqual([]);
        expect(run.status, `${repro}\n${run.stdout}${run.stderr}`).toBe(0);
        expect({ rejected: summary.rejected, refused: summary.refused }, `${repro}\nrefusals: ${JSON.stringify(summary.refusals)}`).toEqual(v.summary);
      });
    }
  });
}

describe('the generator', () => {
  it('is deterministic: the same seed gives the same plant', () => {
    for (const family of ['recurring-daily', 'flood', 'noise', 'silence', 'lifecycle'] as const) {
      const a = generate(family, 42);
      const b = generate(family, 42);
      expect(b.config, family).toBe(a.config);
      expect(b.lines, family).toEqual(a.lines);
      expect(b.expected, family).toEqual(a.expected);
    }
  });

  it('varies the plant: names, zones and numbers differ from seed to seed and from the scenarios', () => {
    const configs = [1, 2, 3, 4, 5, 6].map((s) => generate('recurring-daily', s).config);
    expect(new Set(configs.map((c) => /timezone: (\S+)/.exec(c)?.[1])).size).toBeGreaterThan(2);
    expect(new Set(configs.map((c) => /discoverCauses: \{ within: (\S+),/.exec(c)?.[1])).size).toBeGreaterThan(2);
    for (const family of ['recurring-daily', 'base-rate', 'flood', 'noise', 'silence', 'lifecycle'] as const) {
      for (const seed of [1, 2, 3]) {
        const { config } = generate(family, seed);
        expect(config).not.toContain('Asia/Shanghai');
        const words = new Set(config.match(/[A-Za-z][\w-]*/g));
        expect(
          SCENARIO_NAMES.filter((n) => words.has(n)),
          `${family} seed ${seed}`,
        ).toEqual([]);
      }
    }
  });
});
