import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The board's JS is checked by TypeScript from its JSDoc types, with the DOM
 * (gateway/board/tsconfig.json); the root tsconfig has no DOM and leaves
 * gateway/board out, so this runs that check as part of the tests.
 */
const DIR = import.meta.dirname;
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

describe('the board type-checks', () => {
  it('every board script says // @ts-check', () => {
    const scripts = readdirSync(DIR).filter((f) => f.endsWith('.js'));
    expect(scripts.length).toBeGreaterThan(5);
    for (const f of scripts) expect(readFileSync(join(DIR, f), 'utf8').startsWith('// @ts-check\n'), f).toBe(true);
  });

  it('tsc -p gateway/board finds nothing', () => {
    const run = spawnSync(process.execPath, [tsc, '--noEmit', '-p', DIR], { encoding: 'utf8', timeout: 120_000 });
    expect(run.stdout + run.stderr).toBe('');
    expect(run.status).toBe(0);
  }, 120_000);
});
