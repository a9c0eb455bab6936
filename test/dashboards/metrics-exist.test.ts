import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/load.ts';
import { startGateway } from '../../gateway/main.ts';
import { alertExprs, grafanaExprs, metricNames } from './queries.ts';

/**
 * The dashboards never reference a metric that does not exist: every andon_*
 * (and process/nodejs) name in the alert rules and in the Grafana dashboard is
 * exported by a running gateway's /metrics, with the labels the queries select on.
 */
const dir = mkdtempSync(join(tmpdir(), 'andon-dashboards-'));
const TOKEN = 'ingest-token-dashboards-test';

/** Metric families of a Prometheus text exposition: name → type and the label names of its series. */
function families(text: string): Map<string, { type: string; labels: Set<string> }> {
  const out = new Map<string, { type: string; labels: Set<string> }>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) out.set(m[1] as string, { type: m[2] as string, labels: new Set() });
  for (const m of text.matchAll(/^([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\}/gm)) {
    const name = m[1] as string;
    const family = out.get(name) ?? out.get(name.replace(/_(bucket|sum|count)$/, ''));
    for (const l of (m[2] as string).matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g)) if (l[1] !== 'le') family?.labels.add(l[1] as string);
  }
  return out;
}

/** A series name as used in a query resolved to its family: histograms are read through _bucket/_sum/_count. */
function family(fams: ReturnType<typeof families>, name: string) {
  const f = fams.get(name);
  if (f) return f;
  const base = fams.get(name.replace(/_(bucket|sum|count)$/, ''));
  return base && (base.type === 'histogram' || base.type === 'summary') ? base : undefined;
}

describe('dashboards against a running gateway', () => {
  let exposition = '';
  beforeAll(async () => {
    const config = parseConfig(`
gateway:
  id: dashboards
  dataDir: ${dir}
  auth: { tokens: [ { name: mes, role: ingest, token: ${TOKEN} } ] }
sources: [ { id: mes-http, type: http } ]
assets:
  sealer-01: { area: packaging, tags: ["packaging/sealer-01/**"] }
rules:
  - { id: alarms, when: { tag: "**/alarm/**", equals: true }, fault: alarm-stop, priority: P0 }
`);
    const gw = await startGateway(config, { port: 0, logger: pino({ level: 'silent' }) });
    try {
      // One ticket, so the per-ticket gauges have series (and labels) to show.
      const res = await fetch(`${gw.address}/api/v1/signals`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ tag: 'packaging/sealer-01/alarm/E21', value: true }),
      });
      expect(res.status).toBe(202);
      exposition = await (await fetch(`${gw.address}/metrics`)).text();
    } finally {
      await gw.stop();
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const check = (exprs: { name: string; expr: string }[]) => {
    const fams = families(exposition);
    const missing: string[] = [];
    const badLabels: string[] = [];
    let seen = 0;
    for (const { name, expr } of exprs) {
      for (const metric of metricNames(expr)) {
        seen++;
        const f = family(fams, metric);
        if (!f) {
          missing.push(`${name}: ${metric}`);
          continue;
        }
        // Label matchers of the selector (instance and job come from Prometheus, not from the gateway).
        const selector = new RegExp(`${metric}\\{([^}]*)\\}`).exec(expr)?.[1] ?? '';
        for (const l of selector.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g)) {
          const label = l[1] as string;
          if (label !== 'instance' && label !== 'job' && f.labels.size > 0 && !f.labels.has(label)) badLabels.push(`${name}: ${metric}{${label}}`);
        }
      }
    }
    expect(seen).toBeGreaterThan(5);
    expect(missing).toEqual([]);
    expect(badLabels).toEqual([]);
  };

  it('every metric an alert rule uses is exported', () => check(alertExprs()));

  it('every metric the Grafana dashboard queries is exported', () => check(grafanaExprs()));

  it('the exposition carries the KPIs with their closed label sets', () => {
    expect(exposition).toMatch(/^andon_tickets_open\{priority="P0",area="packaging"\} 1$/m);
    expect(exposition).toMatch(/^andon_alarm_rate_10m\{area="packaging"\} 1$/m);
    expect(exposition).toMatch(/^andon_flood_active\{area=""\} 0$/m);
    expect(exposition).toMatch(/^andon_ack_latency_seconds_count\{priority="P0"\} 0$/m);
    expect(exposition).toMatch(/^andon_source_up\{source="mes-http"\} 1$/m);
  });
});
