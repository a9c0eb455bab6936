import { Observable, type OperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';
import type { TicketDoc } from '../../model/ticket.ts';
import { at } from '../../rules/match.ts';
import type { TicketCommand } from '../../rules/types.ts';

/**
 * One timer per ticket at a deadline the ticket itself stores (an ISO time, or null for none): watches ticket
 * versions and, when a ticket's deadline comes, emits `command(ticket id, time, deadline)`. Since the deadline
 * is in the stored ticket, feeding the stored tickets after a restart resumes the timers (one already past
 * fires at once). A version with another deadline replaces the timer; one with none cancels it.
 *
 *   ticket  -d(deadline=2h)------------------
 *   out     ------------------(2h)C----------
 */
export function ticketDeadline(
  scheduler: SchedulerLike,
  deadline: (t: TicketDoc) => string | null,
  command: (id: string, at: number, deadline: string) => TicketCommand,
): OperatorFunction<TicketDoc, TicketCommand> {
  return (tickets) =>
    new Observable<TicketCommand>((out) => {
      const timers = new Map<string, { until: string; sub: Subscription }>();
      const sub = tickets.subscribe({
        next(t) {
          const until = deadline(t);
          const current = timers.get(t.id);
          if (current && current.until === until) return;
          current?.sub.unsubscribe();
          timers.delete(t.id);
          if (until === null) return;
          const due = Date.parse(until);
          if (Number.isNaN(due)) return;
          const id = t.id; // the timer keeps the id, not the ticket
          const handle = at(scheduler, due, () => {
            timers.delete(id);
            out.next(command(id, Math.max(due, scheduler.now()), until));
          });
          timers.set(id, { until, sub: handle });
        },
        error: (e) => out.error(e),
        complete: () => out.complete(),
      });
      return () => {
        sub.unsubscribe();
        for (const t of timers.values()) t.sub.unsubscribe();
      };
    });
}
