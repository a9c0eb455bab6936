import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { asyncScheduler } from 'rxjs';
import type { AndonConfig } from '../config/schema.ts';
import { createAlarmKpis } from './alarm-kpis.ts';
import { OUTCOMES } from './forward/forwarder.ts';
import { SYNC_OUTCOMES } from './forward/sync.ts';
import type { TicketChange } from './tickets/engine.ts';
import type { TicketStore } from './store/store.ts';

/**
 * Andon's metrics (contracts §Metrics), made in one place on an injected registry.
 * Label values come from config ids and closed sets only.
 */
export function createMetrics(
  registry: Registry,
  store: TicketStore,
  opts: {
    defaults?: boolean;
    now?: () => number;
    /** Configured areas (`areasOf(config)`): other areas are labelled "". */ areas?: readonly string[];
    /** Configured groups (`groupsOf(config)`, read at each scrape so a reload applies): other groups are labelled "". */ groups?: () => readonly string[];
  } = {},
) {
  if (opts.defaults) collectDefaultMetrics({ register: registry });
  const now = opts.now ?? (() => asyncScheduler.now());
  /**
   * Signals accepted since the last read of andon_signals_total, per source: plain numbers, added to the
   * counter when it is read. prom-client's `inc` hashes its labels into a new string on every call
   * (~110 bytes of garbage a signal, 5 % of the gateway's allocations at 10k tags).
   */
  const accepted = new Map<string, number>();
  const m = {
    signals: new Counter({
      name: 'andon_signals_total',
      help: 'Signals accepted, by source',
      labelNames: ['source'],
      registers: [registry],
      collect() {
        for (const [source, n] of accepted) this.inc({ source }, n);
        accepted.clear();
      },
    }),
    rejected: new Counter({ name: 'andon_signals_rejected_total', help: 'Signals rejected, by source and reason', labelNames: ['source', 'reason'], registers: [registry] }),
    opened: new Counter({ name: 'andon_tickets_opened_total', help: 'Tickets opened, by priority', labelNames: ['priority'], registers: [registry] }),
    breaches: new Counter({ name: 'andon_sla_breaches_total', help: 'SLA deadlines missed, by kind (respond, resolve)', labelNames: ['kind'], registers: [registry] }),
    escalations: new Counter({ name: 'andon_escalations_total', help: 'Escalations, by level', labelNames: ['level'], registers: [registry] }),
    fixes: new Counter({
      name: 'andon_fixes_total',
      help: 'Outcomes of fixes: verified (the fault stayed quiet for correlation.verifyFix.after) or recurred (it came back after the fix)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    earlyWarnings: new Counter({
      name: 'andon_early_warnings_total',
      help: 'Early warnings by outcome: pending (raised), confirmed (the fault came by expectedBy) or missed',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    sourceUp: new Gauge({ name: 'andon_source_up', help: '1 when the source\'s connector is up (or degraded), 0 otherwise', labelNames: ['source'], registers: [registry] }),
    refused: new Counter({ name: 'andon_commands_refused_total', help: 'Ticket commands refused, by error code', labelNames: ['code'], registers: [registry] }),
    commandsFailed: new Counter({
      name: 'andon_commands_failed_total',
      help: 'Ticket commands dropped because applying them failed for a reason other than the store (a bug), by error code (ANDON_INTERNAL)',
      labelNames: ['code'],
      registers: [registry],
    }),
    timeReplaced: new Counter({
      name: 'andon_signal_time_replaced_total',
      help: 'Signals from protocol sources whose timestamp was invalid (not a date, before 2000, ahead of gateway.maxClockSkew) and got the arrival time, by source',
      labelNames: ['source'],
      registers: [registry],
    }),
    httpErrors: new Counter({ name: 'andon_http_errors_total', help: 'API requests answered with an error, by ANDON_* code', labelNames: ['code'], registers: [registry] }),
    sseCut: new Counter({ name: 'andon_events_clients_cut_total', help: 'Event stream (SSE) clients cut off for falling too far behind', registers: [registry] }),
    forwardRequests: new Counter({
      name: 'andon_forward_requests_total',
      help: 'Requests to central, by outcome (ok, conflict, retry, poison, aborted)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    forwardUp: new Gauge({
      name: 'andon_forward_up',
      help: '1 when the forward sink can deliver (connected, its stream there) and central answers; 0 while versions wait for it, by sink (forward.type)',
      labelNames: ['sink'],
      registers: [registry],
    }),
    syncChanges: new Counter({ name: 'andon_sync_changes_total', help: 'Changes from central, by outcome (applied, duplicate, refused)', labelNames: ['outcome'], registers: [registry] }),
    reloads: new Counter({
      name: 'andon_config_reloads_total',
      help: 'Config reloads (SIGHUP, POST /api/v1/admin/reload), by outcome (applied, unchanged, invalid, restart_required, failed)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    configInfo: new Gauge({ name: 'andon_config_info', help: '1, labelled with the sha256 of the config file in use', labelNames: ['sha'], registers: [registry] }),
    auditRecords: new Counter({
      name: 'andon_audit_records_total',
      help: 'Rows written to the audit trail, by action (config.reload, ticket.shelve, auth.sign-in, auth.refused, ...)',
      labelNames: ['action'],
      registers: [registry],
    }),
    auditErrors: new Counter({
      name: 'andon_audit_write_errors_total',
      help: 'Audit rows the store could not write (logged; the audited action itself went ahead)',
      registers: [registry],
    }),
    signIns: new Counter({
      name: 'andon_sign_ins_total',
      help: 'Personal sign-ins (gateway.auth.oidc), by outcome: ok, refused (no role), failed (state, code or ID token), unavailable (provider unreachable)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    oidcUp: new Gauge({ name: 'andon_oidc_up', help: '1 when the identity provider of gateway.auth.oidc has been discovered, 0 while it cannot be reached', registers: [registry] }),
    latency: new Histogram({
      name: 'andon_signal_to_ticket_seconds',
      help: 'From a signal\'s arrival to its ticket change being committed',
      buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers: [registry],
    }),
  };
  new Gauge({
    name: 'andon_tickets_open',
    help: 'Live tickets (not resolved, closed or merged), by priority and area',
    labelNames: ['priority', 'area'],
    registers: [registry],
    collect() {
      this.reset();
      for (const r of kpis.openCounts()) this.inc({ priority: r.priority, area: r.area }, r.n);
    },
  });
  new Gauge({
    name: 'andon_outbox_pending',
    help: 'Ticket versions waiting to be forwarded to central',
    registers: [registry],
    collect() {
      this.set(store.outboxPending());
    },
  });
  new Gauge({
    name: 'andon_outbox_oldest_seconds',
    help: 'Age of the oldest ticket version waiting to be forwarded (0 when none)',
    registers: [registry],
    collect() {
      const at = store.outbox.oldestAt();
      this.set(at === null ? 0 : Math.max(0, (now() - at) / 1000));
    },
  });
  new Gauge({
    name: 'andon_outbox_parked',
    help: 'Ticket versions central refused (4xx), parked until retried (andon outbox retry)',
    registers: [registry],
    collect() {
      this.set(store.outbox.parked());
    },
  });
  const notifications = new Counter({
    name: 'andon_notifications_total',
    help: 'Notification deliveries, by notify channel (config id) and outcome',
    labelNames: ['channel', 'outcome'],
    registers: [registry],
  });
  const notificationsPending = new Gauge({
    name: 'andon_notifications_pending',
    help: 'Notifications waiting to be delivered (not parked)',
    registers: [registry],
    collect() {
      this.set(store.notifications.pending());
    },
  });
  // Per assigned group, bounded to the configured groups (every one shows, 0 when quiet); others and none are "".
  const groupGauge = (name: string, help: string, pick: (r: { open: number; overdue: number }) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['group'],
      registers: [registry],
      collect() {
        this.reset();
        const known = new Set(opts.groups?.() ?? []);
        for (const group of known) this.set({ group }, 0);
        for (const r of kpis.groups(now())) this.inc({ group: r.group !== null && known.has(r.group) ? r.group : '' }, pick(r));
      },
    });
  groupGauge('andon_group_open_tickets', 'Live unresolved tickets (open to waiting), by assigned group (configured groups; others "")', (r) => r.open);
  groupGauge('andon_group_overdue_tickets', 'Live tickets past respondBy unacknowledged or past resolveBy unresolved, by assigned group (configured groups; others "")', (r) => r.overdue);
  let heldOf: () => number = () => 0;
  new Gauge({
    name: 'andon_changes_held',
    help: 'Ticket changes the rules made that the store could not commit yet (retried; signals are refused meanwhile)',
    registers: [registry],
    collect() {
      this.set(heldOf());
    },
  });
  let tagsOf: { size: number; overflow: number } = { size: 0, overflow: 0 };
  new Gauge({
    name: 'andon_tags_tracked',
    help: 'Tags the live tag view tracks (at most gateway.tagView.maxTags)',
    registers: [registry],
    collect() {
      this.set(tagsOf.size);
    },
  });
  let overflowSeen = 0;
  new Counter({
    name: 'andon_tags_overflow_total',
    help: 'Signals of tags the live tag view did not track because it held gateway.tagView.maxTags tags',
    registers: [registry],
    collect() {
      const n = tagsOf.overflow;
      if (n > overflowSeen) this.inc(n - overflowSeen);
      overflowSeen = n;
    },
  });
  const kpis = createAlarmKpis(registry, store, { now, ...(opts.areas ? { areas: opts.areas } : {}) });
  // Every outcome shows from the start (0), so rate() and alerts see the series before the first event.
  for (const outcome of OUTCOMES) m.forwardRequests.inc({ outcome }, 0);
  for (const outcome of SYNC_OUTCOMES) m.syncChanges.inc({ outcome }, 0);
  for (const priority of ['P0', 'P1', 'P2', 'P3']) m.opened.inc({ priority }, 0);
  for (const kind of ['respond', 'resolve']) m.breaches.inc({ kind }, 0);
  for (const outcome of ['verified', 'recurred']) m.fixes.inc({ outcome }, 0);
  for (const outcome of ['pending', 'confirmed', 'missed']) m.earlyWarnings.inc({ outcome }, 0);
  m.commandsFailed.inc({ code: 'ANDON_INTERNAL' }, 0);
  for (const outcome of RELOAD_OUTCOMES) m.reloads.inc({ outcome }, 0);
  return {
    ...m,
    /** One more signal accepted from `source` (andon_signals_total, counted without garbage). */
    accepted(source: string): void {
      accepted.set(source, (accepted.get(source) ?? 0) + 1);
    },
    /** Where andon_changes_held reads from (the runtime, made after the metrics). */
    watchHeld(f: () => number): void {
      heldOf = f;
    },
    /** Where andon_tags_tracked and andon_tags_overflow_total read from (the tag view). */
    watchTags(view: { size: number; overflow: number }): void {
      tagsOf = view;
    },
    /** andon_config_info: the sha256 of the config file in use, the only series. */
    configSha(sha: string): void {
      m.configInfo.reset();
      m.configInfo.set({ sha }, 1);
    },
    /** Fed by the notifier: one per delivery attempt's outcome. */
    notifications,
    /** Read from the notification queue at each scrape. */
    notificationsPending,
    /** Counts what a committed ticket change means. */
    onChange(c: TicketChange): void {
      if (c.event.action === 'opened') m.opened.inc({ priority: c.ticket.priority });
      if (typeof c.event.breach === 'string') m.breaches.inc({ kind: c.event.breach });
      if (c.event.action === 'escalated') m.escalations.inc({ level: String(c.ticket.escalationLevel) });
      if (c.event.action === 'fix-verified') m.fixes.inc({ outcome: 'verified' });
      if (c.event.action === 'reopened' || c.event.action === 'recurred') m.fixes.inc({ outcome: 'recurred' });
      const warning = WARNING_OUTCOMES[c.event.action];
      if (warning) m.earlyWarnings.inc({ outcome: warning });
      kpis.onChange(c);
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/** The `outcome` of andon_early_warnings_total per history action. */
const WARNING_OUTCOMES: Partial<Record<string, string>> = { warned: 'pending', 'warning-confirmed': 'confirmed', 'warning-missed': 'missed' };

/** The `outcome` label of andon_config_reloads_total (gateway/reload.ts). */
export const RELOAD_OUTCOMES = ['applied', 'unchanged', 'invalid', 'restart_required', 'failed'] as const;
export type ReloadOutcome = (typeof RELOAD_OUTCOMES)[number];

/** The areas of the configured assets: the only values the `area` label takes (besides ""). */
export const areasOf = (config: Pick<AndonConfig, 'assets'>): string[] => [...new Set(Object.values(config.assets).map((a) => a.area))].sort();

/** The groups tickets are assigned to by config (routing[].assign, schedules.groups): the only values the `group` label takes (besides ""). */
export const groupsOf = (config: Pick<AndonConfig, 'routing' | 'schedules'>): string[] =>
  [...new Set([...config.routing.map((r) => r.assign), ...Object.keys(config.schedules?.groups ?? {})])].sort();
