import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * The shared plant scenarios, run the way a user runs them: `andon replay`
 * through the CLI, scored by the scenarios' own score.mjs.
 */
const here = join(import.meta.dirname, 'scenarios');
const root = join(import.meta.dirname, '..');
const out = mkdtempSync(join(tmpdir(), 'andon-scenarios-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe.each(['lifecycle', 'noise', 'flood', 'silence', 'recurring-cause', 'fix-held', 'fix-failed', 'early-warning'])('scenario %s', (name) => {
  it('scores 100% through andon replay', () => {
    const tickets = join(out, `${name}.json`);
    const run = spawnSync(process.execPath, ['bin/andon.js', 'replay', '--config', join(here, name, 'config.yaml'), '--input', join(here, name, 'signals.jsonl'), '--out', tickets], {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/^replay: \d+ lines, \d+ signals/m);
    const score = spawnSync(process.execPath, [join(here, 'score.mjs'), join(here, name, 'expected.json'), tickets], { encoding: 'utf8' });
    writeFileSync(join(out, `${name}.score.txt`), score.stdout);
    expect(score.stdout.split('\n').filter((l) => l.startsWith('FAIL'))).toEqual([]);
    expect(score.status).toBe(0);
  });
});
