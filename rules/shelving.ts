import { Observable, type OperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';
import { isLive, type TicketDoc } from '../gateway/tickets/ticket.ts';
import { at } from './match.ts';
import type { TicketCommand } from './types.ts';

/**
 * Auto-unshelve (ISA-18.2): watches ticket versions and, when a shelving's
 * `shelvedUntil` comes, emits `unshelve-due` for that shelving. The deadline is
 * in the stored ticket, so feeding the live tickets after a restart resumes it
 * (one already past fires at once). A new shelving or an early unshelve
 * replaces or cancels the timer.
 *
 *   ticket  -s(shelvedUntil=2h)------------------
 *   out     --------------------(2h)U------------
 */
export function unshelving(scheduler: SchedulerLike): OperatorFunction<TicketDoc, TicketCommand> {
  return (tickets) =>
    new Observable<TicketCommand>((out) => {
      const timers = new Map<string, { until: string; sub: Subscription }>();
      const sub = tickets.subscribe({
        next(t) {
          const until = isLive(t.state) ? t.shelvedUntil : null;
          const current = timers.get(t.id);
          if (current && current.until === until) return;
          current?.sub.unsubscribe();
          timers.delete(t.id);
          if (until === null) return;
          const due = Date.parse(until);
          const handle = at(scheduler, due, () => {
            timers.delete(t.id);
            out.next({ type: 'unshelve-due', at: Math.max(due, scheduler.now()), id: t.id, until });
          });
          timers.set(t.id, { until, sub: handle });
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
