import type { AndonConfig } from '../../config/schema.ts';
import { iso, isLive, MAX_WARNINGS, patchTicket, type Cause, type HistoryEvent, type TicketDoc, type Warning, type WarningCause } from '../../model/ticket.ts';
import type { WarningRow } from '../store/warnings.ts';

/** Outcomes a cause's precision is judged over (its newest), and how many must be settled before it is judged. */
export const PRECISION_WINDOW = 10;
export const PRECISION_MIN_JUDGED = 5;

/** The effective `correlation.earlyWarning` (enabled resolved: on by default when discoverCauses is set). */
export function earlyWarningSettings(config: AndonConfig) {
  const ew = config.correlation.earlyWarning;
  return {
    enabled: ew.enabled ?? config.correlation.discoverCauses !== undefined,
    beforePattern: ew.beforePattern,
    minPrecision: ew.minPrecision,
    margin: ew.margin,
  };
}

/** The key of a probable cause: `<asset>/<fault>` (its ticket key), or the fault alone when it has no asset. */
export const causeKey = (asset: string | null, fault: string): string => (asset === null ? fault : `${asset}/${fault}`);
/** The key of a warning's cause as the warnings log and report name it. */
export const warningCauseKey = (c: WarningCause): string => ('pattern' in c ? `pattern:${c.pattern}` : causeKey(c.asset, c.fault));

/**
 * When a warning expects its effect at the latest: its time + the typical lead × (1 + margin), and no earlier
 * than the longest lead seen so far (a cause whose leads spread widely gets that much room), at least a second.
 */
export const expectedBy = (at: number, leadSeconds: number, maxLeadSeconds: number, margin: number): number =>
  at + Math.max(1_000, Math.round(leadSeconds * (1 + margin) * 1000), maxLeadSeconds * 1000);

/** The earliest `expectedBy` of a ticket's pending warnings (the missed timer), or null. */
export function earliestPending(t: TicketDoc): string | null {
  let first: string | null = null;
  for (const w of t.warnings ?? []) if (w.outcome === 'pending' && (first === null || w.expectedBy < first)) first = w.expectedBy;
  return first;
}

/**
 * When a pattern warning is due on `t`: `before` ahead of its daily or weekly `recurrence.next`, unless a pattern
 * warning was already given since (for that `next`); null when none is (not live, irregular, no beforePattern).
 */
export function patternWarningDue(t: TicketDoc, before: number | undefined): string | null {
  const r = t.recurrence;
  if (before === undefined || !isLive(t.state) || !r || r.pattern === 'irregular' || !r.next) return null;
  const due = Date.parse(r.next) - before;
  if (Number.isNaN(due) || (t.warnings ?? []).some((w) => 'pattern' in w.cause && Date.parse(w.at) >= due)) return null;
  return iso(due);
}

/** The log row of a warning on ticket `t`. */
export const warningRow = (t: TicketDoc, w: Warning): WarningRow => ({
  id: w.id,
  ticketId: t.id,
  cause: warningCauseKey(w.cause),
  effect: t.key,
  at: Date.parse(w.at),
  expectedBy: Date.parse(w.expectedBy),
  leadSeconds: w.leadSeconds,
  outcome: w.outcome,
  settledAt: w.settledAt === null ? null : Date.parse(w.settledAt),
  actualLeadSeconds: w.actualLeadSeconds,
});

/** A new pending warning on `t` (its id: the ticket id and the version that records it). */
export function newWarning(t: TicketDoc, at: number, cause: WarningCause, leadSeconds: number, expected: number): Warning {
  return { id: `${t.id}:${t.version + 1}`, at: iso(at), cause, leadSeconds, expectedBy: iso(expected), outcome: 'pending', settledAt: null, actualLeadSeconds: null };
}

/** `t` with warning `w` added (the newest MAX_WARNINGS kept) and the history event that records it. */
export function withWarning(t: TicketDoc, w: Warning, by: string): { doc: TicketDoc; event: HistoryEvent } {
  const doc = patchTicket(t, { warnings: [...(t.warnings ?? []), w].slice(-MAX_WARNINGS) });
  return { doc, event: { at: w.at, action: 'warned', by, warning: w.id, cause: w.cause, leadSeconds: w.leadSeconds, expectedBy: w.expectedBy } };
}

/** `t` with warning `id` settled at `at`, and the event (`warning-confirmed` with the actual lead, or `warning-missed`). */
export function settled(t: TicketDoc, id: string, outcome: 'confirmed' | 'missed', at: number, by: string): { doc: TicketDoc; event: HistoryEvent; warning: Warning } | undefined {
  const i = t.warnings.findIndex((w) => w.id === id);
  const w = t.warnings[i];
  if (!w || w.outcome !== 'pending') return undefined;
  const actual = outcome === 'confirmed' ? Math.round((at - Date.parse(w.at)) / 1000) : null;
  const warning: Warning = { ...w, outcome, settledAt: iso(at), actualLeadSeconds: actual };
  const warnings = [...t.warnings];
  warnings[i] = warning;
  const event: HistoryEvent =
    outcome === 'confirmed'
      ? { at: iso(at), action: 'warning-confirmed', by, warning: id, cause: w.cause, leadSeconds: actual }
      : { at: iso(at), action: 'warning-missed', by, warning: id, cause: w.cause, expectedBy: w.expectedBy };
  return { doc: patchTicket(t, { warnings }), event, warning };
}

/**
 * What the engine knows to warn from, in memory: which live tickets list a probable cause (by the cause's
 * asset and fault, so a detection costs one Map lookup, and nothing when it is no one's cause), and the
 * newest outcomes of each cause → effect pair (the precision cut-off). Built from the stored live tickets
 * and the warnings log at start; kept up to date by every saved version.
 */
export class WarningIndex {
  /** cause key → ids of live tickets listing it. */
  private readonly byCause = new Map<string, Set<string>>();
  /** ticket id → the cause keys it is indexed under. */
  private readonly causesOf = new Map<string, string[]>();
  /** `cause\neffect` → the newest outcomes (true: confirmed), oldest first, at most PRECISION_WINDOW. */
  private readonly outcomes = new Map<string, boolean[]>();

  /** Indexes the stored live tickets and the logged outcomes (start, restart). */
  prime(live: readonly TicketDoc[], latest: readonly { cause: string; effect: string; outcome: string }[]): void {
    for (const t of live) this.track(t);
    for (const r of latest) this.record(r.cause, r.effect, r.outcome === 'confirmed');
  }

  /** A saved version: (re)indexes the ticket's causes while it is live, forgets it when it is not. */
  track(t: TicketDoc, previous?: TicketDoc | null): void {
    if (previous && previous.causes === t.causes && isLive(previous.state) === isLive(t.state)) return;
    const keys = isLive(t.state) ? t.causes.map((c) => causeKey(c.asset, c.fault)) : [];
    const had = this.causesOf.get(t.id);
    if (!had && keys.length === 0) return;
    for (const k of had ?? []) {
      const set = this.byCause.get(k);
      set?.delete(t.id);
      if (set?.size === 0) this.byCause.delete(k);
    }
    if (keys.length === 0) {
      this.causesOf.delete(t.id);
      return;
    }
    this.causesOf.set(t.id, keys);
    for (const k of keys) {
      let set = this.byCause.get(k);
      if (!set) this.byCause.set(k, (set = new Set()));
      set.add(t.id);
    }
  }

  /** Ids of the live tickets that list (asset, fault) as a probable cause; undefined when none does. */
  effectsOf(asset: string | null, fault: string): ReadonlySet<string> | undefined {
    return this.byCause.get(causeKey(asset, fault));
  }

  /** Records a settled warning of the pair. */
  record(cause: string, effect: string, confirmed: boolean): void {
    const k = `${cause}\n${effect}`;
    const list = this.outcomes.get(k) ?? [];
    list.push(confirmed);
    if (list.length > PRECISION_WINDOW) list.shift();
    this.outcomes.set(k, list);
  }

  /** Whether the pair's precision over its newest outcomes fell below `minPrecision` (judged once enough are settled). */
  silenced(cause: string, effect: string, minPrecision: number): boolean {
    const list = this.outcomes.get(`${cause}\n${effect}`);
    if (!list || list.length < PRECISION_MIN_JUDGED) return false;
    return list.filter(Boolean).length / list.length < minPrecision;
  }
}

/** The cause `t` lists for (asset, fault), if it still does. */
export const causeOn = (t: TicketDoc, asset: string | null, fault: string): Cause | undefined => t.causes.find((c) => c.asset === asset && c.fault === fault);

/** One cause → effect pair of the warnings report (GET /api/v1/reports/warnings). */
export interface WarningReportRow {
  /** `<asset>/<fault>` of the cause, or `pattern:daily` / `pattern:weekly`. */
  cause: string;
  /** The effect ticket's key. */
  effect: string;
  warnings: number;
  confirmed: number;
  missed: number;
  pending: number;
  /** confirmed ÷ (confirmed + missed) over the period; null while none is settled. */
  precision: number | null;
  /** The median actual lead of the confirmed ones (seconds); null when none. */
  medianLeadSeconds: number | null;
  /** Precision over the pair's newest 10 settled warnings (any period); null while fewer than 5 are settled. */
  recentPrecision: number | null;
  /** Whether the pair has stopped warning: recentPrecision below correlation.earlyWarning.minPrecision. */
  stopped: boolean;
}

const medianOf = (xs: number[]): number | null => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const ratio = (a: number, b: number) => (b === 0 ? null : Math.round((a / b) * 1000) / 1000);

/**
 * The warnings report: per cause → effect, the warnings raised in the period and what became of them, and
 * whether the pair still warns (its precision over its newest 10 settled warnings, as WarningIndex judges it).
 * Pairs with most warnings first.
 */
export function warningReport(
  rows: readonly { cause: string; effect: string; outcome: string; actualLeadSeconds: number | null }[],
  latest: readonly { cause: string; effect: string; outcome: string }[],
  minPrecision: number,
): WarningReportRow[] {
  const pairs = new Map<string, { cause: string; effect: string; confirmed: number; missed: number; pending: number; leads: number[] }>();
  for (const r of rows) {
    const k = `${r.cause}\n${r.effect}`;
    let p = pairs.get(k);
    if (!p) pairs.set(k, (p = { cause: r.cause, effect: r.effect, confirmed: 0, missed: 0, pending: 0, leads: [] }));
    if (r.outcome === 'confirmed') {
      p.confirmed++;
      if (r.actualLeadSeconds !== null) p.leads.push(r.actualLeadSeconds);
    } else if (r.outcome === 'missed') p.missed++;
    else p.pending++;
  }
  const index = new WarningIndex();
  for (const r of latest) index.record(r.cause, r.effect, r.outcome === 'confirmed');
  // A pair that stopped warning raised none in the period: it is listed all the same, so the report says so.
  for (const r of latest) {
    const k = `${r.cause}\n${r.effect}`;
    if (!pairs.has(k) && index.silenced(r.cause, r.effect, minPrecision)) pairs.set(k, { cause: r.cause, effect: r.effect, confirmed: 0, missed: 0, pending: 0, leads: [] });
  }
  return [...pairs.values()]
    .map((p) => {
      const recent = latest.filter((r) => r.cause === p.cause && r.effect === p.effect);
      return {
        cause: p.cause,
        effect: p.effect,
        warnings: p.confirmed + p.missed + p.pending,
        confirmed: p.confirmed,
        missed: p.missed,
        pending: p.pending,
        precision: ratio(p.confirmed, p.confirmed + p.missed),
        medianLeadSeconds: medianOf(p.leads),
        recentPrecision: recent.length < PRECISION_MIN_JUDGED ? null : ratio(recent.filter((r) => r.outcome === 'confirmed').length, recent.length),
        stopped: index.silenced(p.cause, p.effect, minPrecision),
      };
    })
    .sort((a, b) => b.warnings - a.warnings || a.cause.localeCompare(b.cause) || a.effect.localeCompare(b.effect));
}
