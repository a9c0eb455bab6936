import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GRAFANA, grafanaExprs } from './queries.ts';

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type: string; uid: string };
  targets?: { expr: string; refId: string; datasource?: { uid: string } }[];
  fieldConfig?: { defaults?: { thresholds?: { steps: { value: number | null }[] } } };
}

const dashboard = JSON.parse(readFileSync(GRAFANA, 'utf8')) as {
  schemaVersion: number;
  uid: string;
  title: string;
  __inputs: { name: string; type: string; pluginId: string }[];
  templating: { list: { name: string; type: string }[] };
  panels: Panel[];
};
const panels = dashboard.panels.filter((p) => p.type !== 'row');
const byTitle = (re: RegExp) => panels.find((p) => re.test(p.title));

describe('Grafana dashboard dashboards/grafana/andon.json', () => {
  it('is an importable dashboard: schema ~39, a uid, the data source as the ${DS_PROMETHEUS} input and variable', () => {
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dashboard.schemaVersion).toBeLessThanOrEqual(41);
    expect(dashboard.uid).toMatch(/^[a-z0-9-]{1,40}$/);
    expect(dashboard.__inputs).toContainEqual(expect.objectContaining({ name: 'DS_PROMETHEUS', type: 'datasource', pluginId: 'prometheus' }));
    expect(dashboard.templating.list).toContainEqual(expect.objectContaining({ name: 'DS_PROMETHEUS', type: 'datasource' }));
    for (const p of panels) {
      expect(p.datasource, p.title).toEqual({ type: 'prometheus', uid: '${DS_PROMETHEUS}' });
      for (const t of p.targets ?? []) expect(t.datasource?.uid, p.title).toBe('${DS_PROMETHEUS}');
    }
  });

  it('has unique panel ids and a layout without overlaps inside 24 columns', () => {
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const cells = new Set<string>();
    for (const p of dashboard.panels) {
      const g = p.gridPos;
      expect(g.x + g.w, p.title).toBeLessThanOrEqual(24);
      for (let x = g.x; x < g.x + g.w; x++) {
        for (let y = g.y; y < g.y + g.h; y++) {
          expect(cells.has(`${x},${y}`), `${p.title} overlaps at ${x},${y}`).toBe(false);
          cells.add(`${x},${y}`);
        }
      }
    }
  });

  it('every panel queries something, with unique refIds', () => {
    for (const p of panels) {
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      const refs = (p.targets ?? []).map((t) => t.refId);
      expect(new Set(refs).size, p.title).toBe(refs.length);
      for (const t of p.targets ?? []) expect(t.expr.trim(), p.title).not.toBe('');
    }
  });

  it('has the panels the control room asks for', () => {
    const want: [RegExp, RegExp][] = [
      [/open tickets by priority/i, /andon_tickets_open/],
      [/alarm rate per area/i, /andon_alarm_rate_10m/],
      [/flood/i, /andon_flood_active/],
      [/chattering/i, /andon_chattering_tickets/],
      [/stale/i, /andon_stale_tickets/],
      [/shelved/i, /andon_shelved_tickets/],
      [/ack latency/i, /histogram_quantile\(0\.5,.*andon_ack_latency_seconds_bucket/],
      [/sla breaches/i, /andon_sla_breaches_total/],
      [/escalations/i, /andon_escalations_total/],
      [/sources up/i, /andon_source_up/],
      [/outbox/i, /andon_outbox_pending/],
      [/forward requests/i, /andon_forward_requests_total/],
      [/signal to ticket p99/i, /histogram_quantile\(0\.99,.*andon_signal_to_ticket_seconds_bucket/],
      [/memory/i, /process_resident_memory_bytes/],
      [/cpu/i, /process_cpu_seconds_total/],
      [/per group/i, /andon_group_open_tickets[\s\S]*andon_group_overdue_tickets/],
    ];
    for (const [title, expr] of want) {
      const p = byTitle(title);
      expect(p, String(title)).toBeDefined();
      expect((p?.targets ?? []).map((t) => t.expr).join('\n'), String(title)).toMatch(expr);
    }
    expect(grafanaExprs().some((e) => /histogram_quantile\(0\.9,.*andon_ack_latency_seconds_bucket/.test(e.expr))).toBe(true);
    const outbox = (byTitle(/outbox/i)?.targets ?? []).map((t) => t.expr).join('\n');
    expect(outbox).toMatch(/andon_outbox_oldest_seconds/);
    expect(outbox).toMatch(/andon_outbox_parked/);
  });

  it('draws the EEMUA 191 benchmarks on the alarm rate: ~1 per 10 min acceptable, >10 per 10 min a flood', () => {
    const steps = byTitle(/alarm rate per area/i)?.fieldConfig?.defaults?.thresholds?.steps.map((s) => s.value);
    expect(steps).toEqual([null, 1, 10]);
  });
});
