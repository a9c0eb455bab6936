import { Gauge, Histogram, type Registry } from 'prom-client';
import type { TicketStore } from './store/store.ts';
import type { TicketChange } from './tickets/engine.ts';
import { isLive, type TicketDoc } from '../model/ticket.ts';

/** The sliding window of `andon_alarm_rate_10m` (EEMUA 191 counts alarms per 10 minutes). */
export const RATE_WINDOW_MS = 10 * 60_000;
/** ISA-18.2 "stale alarm": active for 24 hours or more. */
export const STALE_AFTER_MS = 24 * 3_600_000;
/** Open → ack, from half a minute to three days: covers SLAs of 15 min (P0) to 1 day (P3). */
export const ACK_LATENCY_BUCKETS = [30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14_400, 28_800, 86_400, 259_200];
const PRIORITIES = ['P0', 'P1', 'P2', 'P3'] as const;

/** Maps a ticket's area to a label value: a configured area, else "" (never free text). */
export function areaLabeller(areas: readonly string[] | undefined): (area: string | null) => string {
  const known = areas ? new Set(areas) : null;
  return (area) => (area !== null && (known === null || known.has(area)) ? area : '');
}

/** One live ticket, as far as the KPIs are concerned. */
interface Tracked {
  area: string;
  flood: boolean;
  chattering: boolean;
  /** When the condition last became active; null while cleared. */
  activeSince: number | null;
  shelvedUntil: number | null;
  state: string;
  priority: string;
  group: string | null;
  /** respondBy / resolveBy in epoch ms (the overdue count). */
  respondBy: number;
  resolveBy: number;
}

/** Raises of one area over the last 10 minutes, in 1-second buckets (bounded however fast alarms come). */
class RateWindow {
  private readonly buckets: { s: number; n: number }[] = [];
  private total = 0;

  add(at: number): void {
    const s = Math.floor(at / 1000);
    const last = this.buckets[this.buckets.length - 1];
    if (last && s <= last.s) last.n++;
    else this.buckets.push({ s, n: 1 });
    this.total++;
  }

  /** Raises in (now - 10 min, now]; a raise leaves the window up to 1 s early, never late. */
  count(now: number): number {
    while (this.buckets.length > 0 && (this.buckets[0] as { s: number }).s * 1000 <= now - RATE_WINDOW_MS) {
      this.total -= (this.buckets.shift() as { n: number }).n;
    }
    return this.total;
  }
}

const ms = (iso: string | null | undefined) => (iso ? Date.parse(iso) : null);

/**
 * The ISA-18.2 / EEMUA 191 alarm-management KPIs: alarm rate per area (10 min,
 * sliding), floods, chattering, stale and shelved tickets, and the ack latency.
 *
 * State is seeded once from the store and then follows committed ticket
 * changes (`onChange`), so a scrape costs one pass over the live tickets in
 * memory, never a walk of the ticket table. Time comes from `now`.
 */
export function createAlarmKpis(registry: Registry, store: TicketStore, opts: { now: () => number; areas?: readonly string[] }) {
  const { now } = opts;
  const area = areaLabeller(opts.areas);
  // Every configured area (and "") shows from the start, so alerts and panels see 0, not "no data".
  const areas = [...new Set([...(opts.areas ?? []), ''])].sort();
  const live = new Map<string, Tracked>();
  const rates = new Map<string, RateWindow>();
  const rateOf = (label: string) => {
    let w = rates.get(label);
    if (!w) rates.set(label, (w = new RateWindow()));
    return w;
  };

  for (const r of store.kpi.live()) {
    live.set(r.id, {
      area: area(r.area),
      flood: r.fault === 'alarm-flood',
      chattering: r.chattering,
      activeSince: r.activeSince,
      shelvedUntil: ms(r.shelvedUntil),
      state: r.state,
      priority: r.priority,
      group: r.assignedGroup,
      respondBy: Date.parse(r.respondBy),
      resolveBy: Date.parse(r.resolveBy),
    });
  }
  for (const r of store.kpi.raisesSince(now() - RATE_WINDOW_MS)) rateOf(area(r.area)).add(r.at);

  const count = (pred: (t: Tracked, at: number) => boolean) => {
    const at = now();
    let n = 0;
    for (const t of live.values()) if (pred(t, at)) n++;
    return n;
  };

  new Gauge({
    name: 'andon_alarm_rate_10m',
    help: 'Alarm raises (ticket opens and occurrences) per area in the last 10 minutes, sliding. EEMUA 191: ~1 per 10 min is acceptable, >10 per 10 min is a flood',
    labelNames: ['area'],
    registers: [registry],
    collect() {
      const at = now();
      this.reset();
      for (const a of areas) this.set({ area: a }, 0);
      for (const [a, w] of rates) this.set({ area: a }, w.count(at));
    },
  });
  new Gauge({
    name: 'andon_flood_active',
    help: '1 while an alarm flood is active in the area (a live flood ticket whose condition is active), 0 otherwise (ISA-18.2: >10 alarms per 10 min per operator)',
    labelNames: ['area'],
    registers: [registry],
    collect() {
      this.reset();
      const on = new Set<string>();
      for (const t of live.values()) if (t.flood && t.activeSince !== null) on.add(t.area);
      for (const a of new Set([...areas, ...on])) this.set({ area: a }, on.has(a) ? 1 : 0);
    },
  });
  new Gauge({
    name: 'andon_chattering_tickets',
    help: 'Live tickets flagged chattering (ISA-18.2: an alarm that repeatedly goes in and out of alarm)',
    registers: [registry],
    collect() {
      this.set(count((t) => t.chattering));
    },
  });
  new Gauge({
    name: 'andon_stale_tickets',
    help: 'Live tickets whose condition has been active for 24 h or more (ISA-18.2 stale alarms)',
    registers: [registry],
    collect() {
      this.set(count((t, at) => t.activeSince !== null && at - t.activeSince >= STALE_AFTER_MS));
    },
  });
  new Gauge({
    name: 'andon_shelved_tickets',
    help: 'Live tickets shelved now (shelvedUntil in the future; ISA-18.2 shelving)',
    registers: [registry],
    collect() {
      // isShelved (model/ticket.ts) on epoch ms: no date parsing per ticket per scrape
      this.set(count((t, at) => t.shelvedUntil !== null && t.shelvedUntil > at));
    },
  });
  const ackLatency = new Histogram({
    name: 'andon_ack_latency_seconds',
    help: "From a ticket opening to its acknowledgement, by priority (compare with the priority's respondWithin)",
    labelNames: ['priority'],
    buckets: ACK_LATENCY_BUCKETS,
    registers: [registry],
  });
  for (const priority of PRIORITIES) ackLatency.zero({ priority });

  return {
    /** Follows one committed ticket change. */
    onChange(c: TicketChange): void {
      const { ticket: t, event } = c;
      const at = Date.parse(event.at);
      if (event.action === 'opened' || event.action === 'occurrence') rateOf(area(t.area)).add(at);
      if (event.action === 'ack') ackLatency.observe({ priority: t.priority }, Math.max(0, (at - Date.parse(t.openedAt)) / 1000));
      track(t, at);
    },
    /** Live unresolved tickets (open to waiting) per priority and area label (andon_tickets_open), from memory. */
    openCounts(): { priority: string; area: string; n: number }[] {
      const by = new Map<string, { priority: string; area: string; n: number }>();
      for (const t of live.values()) {
        if (t.state === 'resolved') continue;
        const k = `${t.priority}\u0000${t.area}`;
        const slot = by.get(k);
        if (slot) slot.n++;
        else by.set(k, { priority: t.priority, area: t.area, n: 1 });
      }
      return [...by.values()];
    },
    /**
     * Live unresolved tickets and the overdue ones among them (past respondBy unacknowledged, or past resolveBy
     * unresolved), per assigned group: the andon_group_* gauges, from memory (a walk of the ticket table took
     * ~60 ms per gauge at 20k live tickets, and held the event loop at every scrape).
     */
    groups(at: number): { group: string | null; open: number; overdue: number }[] {
      const by = new Map<string | null, { open: number; overdue: number }>();
      for (const t of live.values()) {
        if (t.state === 'resolved') continue;
        let slot = by.get(t.group);
        if (!slot) by.set(t.group, (slot = { open: 0, overdue: 0 }));
        slot.open++;
        if ((t.state === 'open' && t.respondBy < at) || t.resolveBy < at) slot.overdue++;
      }
      return [...by.entries()].map(([group, v]) => ({ group, ...v }));
    },
  };

  function track(t: TicketDoc, at: number): void {
    if (!isLive(t.state)) {
      live.delete(t.id);
      return;
    }
    const before = live.get(t.id);
    const activeSince = t.condition !== 'active' ? null : (before?.activeSince ?? (before ? at : Date.parse(t.openedAt)));
    live.set(t.id, {
      area: area(t.area),
      flood: t.fault === 'alarm-flood',
      chattering: t.flags.includes('chattering'),
      activeSince,
      shelvedUntil: ms(t.shelvedUntil),
      state: t.state,
      priority: t.priority,
      group: t.assignedGroup,
      respondBy: Date.parse(t.respondBy),
      resolveBy: Date.parse(t.resolveBy),
    });
  }
}
