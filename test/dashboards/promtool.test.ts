import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { peer } from '../peers.ts';
import { ALERTS, ALERTS_TEST, grafanaExprs, resolveGrafanaVars } from './queries.ts';

const run = promisify(execFile);
const promtool = peer('promtool', ['promtool', '--version'], 'apt-get install -y --no-install-recommends prometheus');

/** Runs promtool; resolves with its output whatever the exit status. */
async function tool(...args: string[]): Promise<{ code: number; out: string }> {
  try {
    const r = await run('promtool', args, { timeout: 60_000 });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

describe.skipIf(!promtool)('Prometheus alert rules (promtool)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'andon-promtool-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('alerts.yml passes promtool check rules', async () => {
    const r = await tool('check', 'rules', ALERTS);
    expect(r.out).toMatch(/SUCCESS: \d+ rules found/);
    expect(r.code).toBe(0);
  });

  it('every alert fires and stays quiet as alerts.test.yml expects (promtool test rules)', async () => {
    const r = await tool('test', 'rules', ALERTS_TEST);
    expect(r.out).toContain('SUCCESS');
    expect(r.code).toBe(0);
  });

  it('promtool test rules notices a wrong expectation (the unit tests can fail)', async () => {
    // The same tests against rules whose P0 alert waits 10 minutes: the 4m expectation must fail.
    const slow = join(dir, 'alerts.yml');
    writeFileSync(slow, readFileSync(ALERTS, 'utf8').replace(/(alert: AndonP0Open[\s\S]*?for: )1m/, '$110m'));
    const tests = join(dir, 'alerts.test.yml');
    writeFileSync(tests, readFileSync(ALERTS_TEST, 'utf8'));
    const r = await tool('test', 'rules', tests);
    expect(r.code).not.toBe(0);
    expect(r.out).toContain('AndonP0Open');
  });

  it('every query of the Grafana dashboard is valid PromQL', async () => {
    const exprs = grafanaExprs().map((e) => ({ ...e, expr: resolveGrafanaVars(e.expr.replace(/^label_values\((.+),\s*\w+\)$/, '$1')) }));
    expect(exprs.length).toBeGreaterThan(20);
    const file = join(dir, 'grafana-queries.yml');
    writeFileSync(file, stringify({ groups: [{ name: 'grafana', rules: exprs.map((e, i) => ({ record: `andon:grafana_query_${i}`, expr: e.expr })) }] }));
    const r = await tool('check', 'rules', file);
    expect(r.out, r.out).toMatch(/SUCCESS: \d+ rules found/);
    expect(r.code).toBe(0);
  });
});
