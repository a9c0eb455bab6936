import type BetterSqlite3 from 'better-sqlite3';

type Db = BetterSqlite3.Database;

/** What the alarm KPIs (gateway/alarm-kpis.ts) need to know of one live ticket. */
export interface LiveKpiRow {
  id: string;
  area: string | null;
  fault: string;
  priority: string;
  condition: 'active' | 'cleared';
  chattering: boolean;
  shelvedUntil: string | null;
  /** When the condition last became active (the first raise after the last clear); null while cleared. */
  activeSince: number | null;
  state: string;
  /** The ticket's assignedGroup (the andon_group_* gauges). */
  assignedGroup: string | null;
  respondBy: string;
  resolveBy: string;
}

/**
 * Read-only queries behind the ISA-18.2 / EEMUA 191 KPIs. They run once when
 * the gateway starts (the KPIs then follow committed changes in memory), so a
 * scrape never walks the ticket table. Plain SQL so the plan is readable.
 */
export class KpiQueries {
  private readonly s;

  constructor(db: Db) {
    this.s = {
      live: db.prepare(`
        SELECT t.id, t.area, t.fault, t.priority, t.state,
               json_extract(t.doc, '$.condition') AS condition,
               json_extract(t.doc, '$.assignedGroup') AS assignedGroup,
               json_extract(t.doc, '$.respondBy') AS respondBy,
               json_extract(t.doc, '$.resolveBy') AS resolveBy,
               json_extract(t.doc, '$.shelvedUntil') AS shelvedUntil,
               EXISTS (SELECT 1 FROM json_each(t.doc, '$.flags') WHERE value = 'chattering') AS chattering,
               (SELECT MIN(e.at) FROM ticket_events e
                 WHERE e.ticket_id = t.id AND e.action IN ('opened', 'occurrence')
                   AND e.seq > COALESCE((SELECT MAX(c.seq) FROM ticket_events c WHERE c.ticket_id = t.id AND c.action = 'cleared'), 0)
               ) AS activeSince
          FROM tickets t
         WHERE t.state NOT IN ('closed', 'merged')`),
      // Uses the index on ticket_events(at): only the window's events are read.
      raises: db.prepare(`
        SELECT t.area, e.at FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id
         WHERE e.at >= ? AND e.action IN ('opened', 'occurrence')
         ORDER BY e.at`),
    };
  }

  /** Every live (not closed, not merged) ticket, reduced to what the KPIs count. */
  live(): LiveKpiRow[] {
    return (this.s.live.all() as (Omit<LiveKpiRow, 'chattering' | 'activeSince'> & { chattering: number; activeSince: number | null })[]).map((r) => ({
      ...r,
      chattering: r.chattering === 1,
      activeSince: r.condition === 'active' ? r.activeSince : null,
    }));
  }

  /** Alarm raises (ticket opens and occurrences, floods included) since `since`, oldest first. */
  raisesSince(since: number): { area: string | null; at: number }[] {
    return this.s.raises.all(since) as { area: string | null; at: number }[];
  }
}
