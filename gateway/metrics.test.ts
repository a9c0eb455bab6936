import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from './metrics.ts';
import { TicketStore } from './store/store.ts';

/**
 * The metric contract of docs/contracts.md (Metrics): name → label names.
 * Dashboards and alert rules are checked against a live gateway in test/dashboards.
 */
const CONTRACT: Record<string, string[]> = {
  andon_signals_total: ['source'],
  andon_signals_rejected_total: ['source', 'reason'],
  andon_source_up: ['source'],
  andon_tickets_open: ['priority', 'area'],
  andon_tickets_opened_total: ['priority'],
  andon_sla_breaches_total: ['kind'],
  andon_escalations_total: ['level'],
  andon_outbox_pending: [],
  andon_outbox_oldest_seconds: [],
  andon_outbox_parked: [],
  andon_forward_requests_total: ['outcome'],
  andon_signal_to_ticket_seconds: [],
  // ISA-18.2 / EEMUA 191 KPIs and notifications (issue 6)
  andon_alarm_rate_10m: ['area'],
  andon_flood_active: ['area'],
  andon_chattering_tickets: [],
  andon_stale_tickets: [],
  andon_ack_latency_seconds: ['priority'],
  andon_shelved_tickets: [],
  andon_notifications_total: ['channel', 'outcome'],
  andon_notifications_pending: [],
  andon_changes_held: [],
  // the closed loop (issue 13)
  andon_fixes_total: ['outcome'],
  // config reload (issue 13)
  andon_config_reloads_total: ['outcome'],
  andon_config_info: ['sha'],
  // audit trail (issue 16)
  andon_audit_records_total: ['action'],
  andon_audit_write_errors_total: [],
  // personal sign-in (issue 16)
  andon_sign_ins_total: ['outcome'],
  andon_oidc_up: [],
  // live tag view (issue 16)
  andon_tags_tracked: [],
  andon_tags_overflow_total: [],
  // early warnings (issue 18)
  andon_early_warnings_total: ['outcome'],
  // fleet over NATS (issue 15)
  andon_forward_up: ['sink'],
  andon_group_open_tickets: ['group'],
  andon_group_overdue_tickets: ['group'],
};

const CONTRACTS = fileURLToPath(new URL('../docs/contracts.md', import.meta.url));

describe('metric names', () => {
  let store: TicketStore;
  const registry = new Registry();
  beforeAll(async () => {
    store = await TicketStore.open(':memory:');
    createMetrics(registry, store, { defaults: true, areas: ['packaging'] });
  });
  afterAll(() => store.close());

  it('exports every metric of the contract with its labels', () => {
    for (const [name, labels] of Object.entries(CONTRACT)) {
      const m = registry.getSingleMetric(name) as unknown as { labelNames: string[] } | undefined;
      expect(m, name).toBeDefined();
      expect(
        [...(m?.labelNames ?? [])].filter((l) => l !== 'le'),
        name,
      ).toEqual(labels);
    }
  });

  it('exports the default process metrics (memory, CPU)', () => {
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds'])
      expect(registry.getSingleMetric(name), name).toBeDefined();
  });

  it('is the Metrics table of docs/contracts.md, name for name and label for label', () => {
    const text = readFileSync(CONTRACTS, 'utf8');
    const section = text.slice(text.indexOf('## Metrics')).split(/\n## /)[0] as string;
    const rows = [...section.matchAll(/^\| `(andon_[a-z0-9_]+)` \|([^|]*)\|/gm)].map(([, name, labels]) => [name as string, (labels as string).trim()] as const);
    expect(rows.length).toBeGreaterThanOrEqual(20);
    const documented = Object.fromEntries(rows.map(([name, labels]) => [name, labels === '' ? [] : labels.split(',').map((l) => l.trim())]));
    expect(documented).toEqual(CONTRACT);
  });
});

describe('andon_signals_total', () => {
  it('counts each accepted signal once per source, across reads (counted in plain numbers, added when read)', async () => {
    const store = await TicketStore.open(':memory:');
    try {
      const registry = new Registry();
      const metrics = createMetrics(registry, store);
      const read = async () => (await registry.getSingleMetricAsString('andon_signals_total')).split('\n').filter((l) => l.startsWith('andon_signals_total{'));
      for (let i = 0; i < 3; i++) metrics.accepted('plc-1');
      expect(await read()).toEqual(['andon_signals_total{source="plc-1"} 3']);
      metrics.accepted('plc-1');
      metrics.accepted('meter');
      expect(await read()).toEqual(['andon_signals_total{source="plc-1"} 4', 'andon_signals_total{source="meter"} 1']);
      expect(await read()).toEqual(['andon_signals_total{source="plc-1"} 4', 'andon_signals_total{source="meter"} 1']);
    } finally {
      await store.close();
    }
  });
});
