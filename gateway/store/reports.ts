import type BetterSqlite3 from 'better-sqlite3';
import type { Priority } from '../../config/types.ts';

type Db = BetterSqlite3.Database;

/** One asset/fault pair of the top-faults report. */
export interface TopFault {
  asset: string | null;
  area: string | null;
  fault: string;
  /** Tickets of this asset and fault raised (opened or an occurrence) in the period. */
  tickets: number;
  /** Raises in the period: the opening and every occurrence. */
  occurrences: number;
  /** The newest raise in the period (ms). */
  lastAt: number;
}

/** count, mean, median and p90 of durations in seconds; null figures when count is 0. */
export interface DurationStats {
  count: number;
  meanSeconds: number | null;
  medianSeconds: number | null;
  p90Seconds: number | null;
}

/** Response times of the tickets of one priority opened in the period. */
export interface ResponseRow {
  priority: Priority;
  /** Tickets opened in the period. */
  opened: number;
  /** Time to acknowledge: opening to the first `ack` (tickets acknowledged so far). */
  mtta: DurationStats;
  /** Time to resolve: opening to the first `resolve` (tickets resolved so far). */
  mttr: DurationStats;
  firstTimeFix: FirstTimeFix;
}

/**
 * Whether fixes held, over the tickets opened in the period: `verified` tickets got fix-verified and their fault
 * never came back after a fix; `recurred` ones came back at least once (reopened by Andon, or a closed ticket
 * whose fault opened a new one while its fix was being verified or within correlation.recurrence.within).
 * `rate` = verified ÷ (verified + recurred), null while neither is known.
 */
export interface FirstTimeFix {
  verified: number;
  recurred: number;
  rate: number | null;
}

/** The first-time-fix figures of the tickets of one area (null: tickets with no area). */
export interface AreaFixRow {
  area: string | null;
  firstTimeFix: FirstTimeFix;
}

type FixRow = { verified: number; recurred: number };
const firstTimeFix = (rows: FixRow[]): FirstTimeFix => {
  const recurred = rows.filter((r) => r.recurred > 0).length;
  const verified = rows.filter((r) => r.recurred === 0 && r.verified > 0).length;
  return { verified, recurred, rate: verified + recurred === 0 ? null : verified / (verified + recurred) };
};

const PRIORITIES: Priority[] = ['P0', 'P1', 'P2', 'P3'];

/** Statistics of durations in ms, in seconds: mean, median (middle, or mean of the two middles), p90 (nearest rank). */
export function durationStats(ms: number[]): DurationStats {
  const n = ms.length;
  if (n === 0) return { count: 0, meanSeconds: null, medianSeconds: null, p90Seconds: null };
  const s = [...ms].sort((a, b) => a - b);
  const mid = n >> 1;
  const median = n % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  const p90 = s[Math.ceil(0.9 * n) - 1]!;
  return { count: n, meanSeconds: s.reduce((a, b) => a + b, 0) / n / 1000, medianSeconds: median / 1000, p90Seconds: p90 / 1000 };
}

/**
 * Read-only report queries over the ticket tables (the store stays their only
 * reader and writer). Periods are [from, to) in epoch ms; plain SQL so the plan
 * is readable: both use an index on the period's column.
 */
export class ReportQueries {
  private readonly s;

  constructor(db: Db) {
    this.s = {
      // Raises in the period via ticket_events(at); grouped by the ticket's asset and fault.
      topFaults: db.prepare(`
        SELECT t.asset, MAX(t.area) AS area, t.fault, COUNT(DISTINCT e.ticket_id) AS tickets, COUNT(*) AS occurrences, MAX(e.at) AS lastAt
          FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id
         WHERE e.at >= ? AND e.at < ? AND e.action IN ('opened', 'occurrence')
         GROUP BY t.asset, t.fault
         ORDER BY occurrences DESC, tickets DESC, lastAt DESC, t.asset, t.fault
         LIMIT ?`),
      // Tickets opened in the period via tickets(opened_at); the first ack and resolve from ticket_events(ticket_id, seq).
      response: db.prepare(`
        SELECT t.priority, t.area, t.opened_at AS openedAt,
               (SELECT MIN(e.at) FROM ticket_events e WHERE e.ticket_id = t.id AND e.action = 'ack') AS ackAt,
               (SELECT MIN(e.at) FROM ticket_events e WHERE e.ticket_id = t.id AND e.action = 'resolve') AS resolveAt,
               (SELECT COUNT(*) FROM ticket_events e WHERE e.ticket_id = t.id AND e.action IN ('reopened', 'recurred')) AS recurred,
               EXISTS (SELECT 1 FROM json_each(t.doc, '$.flags') f WHERE f.value = 'fix-verified') AS verified
          FROM tickets t
         WHERE t.opened_at >= ? AND t.opened_at < ?`),
    };
  }

  /** The faults raised most in [from, to): per asset and fault, tickets and raises, most raises first. */
  topFaults(from: number, to: number, limit: number): TopFault[] {
    return this.s.topFaults.all(from, to, limit) as TopFault[];
  }

  /** MTTA and MTTR per priority of the tickets opened in [from, to); every priority is listed. */
  response(from: number, to: number): ResponseRow[] {
    return this.responseAndAreas(from, to).byPriority;
  }

  /** The response report: per priority (every priority listed), and the first-time-fix rate per area (areas with tickets). */
  responseAndAreas(from: number, to: number): { byPriority: ResponseRow[]; byArea: AreaFixRow[] } {
    const rows = this.s.response.all(from, to) as ({ priority: Priority; area: string | null; openedAt: number; ackAt: number | null; resolveAt: number | null } & FixRow)[];
    const areas = [...new Set(rows.map((r) => r.area))].sort((a, b) => (a ?? '\uffff').localeCompare(b ?? '\uffff'));
    const byArea = areas.map((area) => ({ area, firstTimeFix: firstTimeFix(rows.filter((r) => r.area === area)) }));
    const byPriority = PRIORITIES.map((priority) => {
      const mine = rows.filter((r) => r.priority === priority);
      return {
        priority,
        opened: mine.length,
        mtta: durationStats(mine.filter((r) => r.ackAt !== null).map((r) => r.ackAt! - r.openedAt)),
        mttr: durationStats(mine.filter((r) => r.resolveAt !== null).map((r) => r.resolveAt! - r.openedAt)),
        firstTimeFix: firstTimeFix(mine),
      };
    });
    return { byPriority, byArea };
  }
}
