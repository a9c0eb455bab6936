import type BetterSqlite3 from 'better-sqlite3';
import { durationStats, type DurationStats } from './reports.ts';

type Db = BetterSqlite3.Database;

/** The lifecycle states a ticket waits in (closed and merged end it). */
export const WAIT_STATES = ['open', 'acknowledged', 'in_progress', 'waiting', 'resolved'] as const;
type WaitState = (typeof WAIT_STATES)[number];

/** The state each history action leads to (the lifecycle's and Andon's own reopen). */
const LEADS_TO: Record<string, WaitState | 'closed' | 'merged'> = {
  opened: 'open',
  ack: 'acknowledged',
  start: 'in_progress',
  wait: 'waiting',
  resume: 'in_progress',
  resolve: 'resolved',
  reopen: 'in_progress',
  reopened: 'open',
  close: 'closed',
  merged: 'merged',
};
const ACTIONS_SQL = Object.keys(LEADS_TO)
  .map((a) => `'${a}'`)
  .join(', ');

/** Time the tickets of a group spent in one state. */
export interface StateTime {
  state: WaitState;
  /** Tickets that were in this state at some point. */
  tickets: number;
  totalSeconds: number;
  /** totalSeconds ÷ tickets. */
  meanSeconds: number;
}

/** One assigned group's response board (GET /api/v1/reports/groups). */
export interface GroupRow {
  /** The ticket's assignedGroup; null for tickets without one. */
  group: string | null;
  /** Tickets opened in the period. */
  opened: number;
  mtta: DurationStats;
  mttr: DurationStats;
  /** Live tickets of the group past respondBy unacknowledged, or past resolveBy unresolved, now (whenever opened). */
  overdueNow: number;
  /** Tickets of the group that missed an SLA deadline in the period (a `breach` in their history then). */
  breached: number;
  /** Time in each state of the tickets opened in the period (up to now for the state they are in), longest first. */
  states: StateTime[];
}

/** A live ticket of a group, for the overdue count. */
interface LiveRow {
  grp: string | null;
  state: string;
  respondBy: string;
  resolveBy: string;
}

const overdue = (r: LiveRow, now: number) => (r.state === 'open' && Date.parse(r.respondBy) < now) || (r.state !== 'resolved' && Date.parse(r.resolveBy) < now);

/**
 * The response board per assigned group (the monthly SLA review): response times, what is overdue, and where
 * tickets wait longest. Read-only; the store stays the only reader of the ticket tables.
 */
export class GroupQueries {
  private readonly s;

  constructor(db: Db) {
    this.s = {
      // tickets opened in the period via tickets(opened_at); their state-changing events via ticket_events(ticket_id, version)
      opened: db.prepare(`
        SELECT t.id, json_extract(t.doc, '$.assignedGroup') AS grp, t.opened_at AS openedAt
          FROM tickets t WHERE t.opened_at >= ? AND t.opened_at < ?`),
      events: db.prepare(`
        SELECT e.ticket_id AS id, e.at, e.action FROM ticket_events e INDEXED BY ticket_events_ticket_version
         WHERE e.ticket_id IN (SELECT t.id FROM tickets t WHERE t.opened_at >= ? AND t.opened_at < ?) AND e.action IN (${ACTIONS_SQL})
         ORDER BY e.ticket_id, e.version`),
      breached: db.prepare(`
        SELECT json_extract(t.doc, '$.assignedGroup') AS grp, COUNT(DISTINCT e.ticket_id) AS n
          FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id
         WHERE e.at >= ? AND e.at < ? AND e.data IS NOT NULL AND json_extract(e.data, '$.breach') IS NOT NULL
         GROUP BY grp`),
      // the live ones through the index of the open-tickets gauge (state, priority, area)
      live: db.prepare(`
        SELECT json_extract(doc, '$.assignedGroup') AS grp, state, json_extract(doc, '$.respondBy') AS respondBy, json_extract(doc, '$.resolveBy') AS resolveBy
          FROM tickets WHERE state IN ('open', 'acknowledged', 'in_progress', 'waiting', 'resolved')`),
    };
  }

  /** Per group (those with tickets in the period or overdue now), ordered by group name; tickets without a group last. */
  report(from: number, to: number, now: number): GroupRow[] {
    const tickets = this.s.opened.all(from, to) as { id: string; grp: string | null; openedAt: number }[];
    const events = this.s.events.all(from, to) as { id: string; at: number; action: string }[];
    const byTicket = new Map<string, { at: number; action: string }[]>();
    for (const e of events) {
      let list = byTicket.get(e.id);
      if (!list) byTicket.set(e.id, (list = []));
      list.push(e);
    }
    const overdueBy = new Map<string | null, number>();
    for (const r of this.s.live.all() as LiveRow[]) if (r.state !== 'resolved' && overdue(r, now)) overdueBy.set(r.grp, (overdueBy.get(r.grp) ?? 0) + 1);
    const breachedBy = new Map((this.s.breached.all(from, to) as { grp: string | null; n: number }[]).map((r) => [r.grp, r.n]));
    const groups = [...new Set([...tickets.map((t) => t.grp), ...overdueBy.keys(), ...breachedBy.keys()])].sort((a, b) => (a ?? '\uffff').localeCompare(b ?? '\uffff'));
    return groups.map((group) => {
      const mine = tickets.filter((t) => t.grp === group);
      const ack: number[] = [];
      const resolve: number[] = [];
      const time = new Map<WaitState, { total: number; tickets: number }>();
      for (const t of mine) {
        const list = byTicket.get(t.id) ?? [];
        const firstAck = list.find((e) => e.action === 'ack');
        const firstResolve = list.find((e) => e.action === 'resolve');
        if (firstAck) ack.push(firstAck.at - t.openedAt);
        if (firstResolve) resolve.push(firstResolve.at - t.openedAt);
        const seen = new Set<WaitState>();
        list.forEach((e, i) => {
          const state = LEADS_TO[e.action];
          if (state === undefined || state === 'closed' || state === 'merged') return;
          const end = list[i + 1]?.at ?? now;
          const slot = time.get(state) ?? { total: 0, tickets: 0 };
          slot.total += Math.max(0, end - e.at);
          if (!seen.has(state)) slot.tickets++;
          seen.add(state);
          time.set(state, slot);
        });
      }
      const states = [...time.entries()]
        .map(([state, { total, tickets: n }]) => ({ state, tickets: n, totalSeconds: total / 1000, meanSeconds: total / 1000 / n }))
        .sort((a, b) => b.totalSeconds - a.totalSeconds || WAIT_STATES.indexOf(a.state) - WAIT_STATES.indexOf(b.state));
      return { group, opened: mine.length, mtta: durationStats(ack), mttr: durationStats(resolve), overdueNow: overdueBy.get(group) ?? 0, breached: breachedBy.get(group) ?? 0, states };
    });
  }

}
