import type { OperatorFunction, SchedulerLike } from 'rxjs';
import { isLive, type TicketDoc } from '../../model/ticket.ts';
import { ticketDeadline } from './deadline.ts';
import { earliestPending, patternWarningDue } from './warnings.ts';
import type { TicketCommand } from '../../rules/types.ts';

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
  return ticketDeadline(
    scheduler,
    (t) => (isLive(t.state) ? t.shelvedUntil : null),
    (id, at, until) => ({ type: 'unshelve-due', at, id, until }),
  );
}

/**
 * Fix verification (the closed loop): a resolved or closed ticket's `verifyBy` (set at the resolve) comes
 * with the fault quiet → `verify-fix`, which flags it `fix-verified`. A raise before reopens the ticket or
 * opens a recurrence of it, and either clears `verifyBy`, which cancels the timer.
 *
 *   ticket  -r(resolved, verifyBy=7d)-------------
 *   out     ---------------------(7d)V------------
 */
export function fixVerification(scheduler: SchedulerLike): OperatorFunction<TicketDoc, TicketCommand> {
  return ticketDeadline(
    scheduler,
    (t) => (t.state === 'resolved' || t.state === 'closed' ? t.verifyBy : null),
    (id, at, verifyBy) => ({ type: 'verify-fix', at, id, verifyBy }),
  );
}

/**
 * Early warnings missed: a ticket's earliest pending warning's `expectedBy` comes without the effect →
 * `warning-due`, which marks the warnings due by then `missed`. The deadline is in the stored ticket, so the
 * live tickets fed after a restart resume it (one already past fires at once); a confirmation cancels it.
 *
 *   ticket  -w(warned, expectedBy=90s)-----------
 *   out     ------------------(90s)M-------------
 */
/**
 * Warnings from a recurrence pattern (`correlation.earlyWarning.beforePattern`): `before` ahead of a daily or
 * weekly ticket's `recurrence.next` → `pattern-due`, which warns with the cause `{ pattern }`. Read from the
 * stored ticket, so it resumes after a restart; a warning given for that `next` ends it.
 *
 *   ticket  -r(next=16:00)-------------------------
 *   out     -------------(15:45)P------------------   before: 15m
 */
export function patternWarnings(scheduler: SchedulerLike, before: () => number | undefined): OperatorFunction<TicketDoc, TicketCommand> {
  return ticketDeadline(
    scheduler,
    (t) => patternWarningDue(t, before()),
    (id, at, due) => ({ type: 'pattern-due', at, id, next: due }),
  );
}

export function missedWarnings(scheduler: SchedulerLike): OperatorFunction<TicketDoc, TicketCommand> {
  return ticketDeadline(
    scheduler,
    (t) => (isLive(t.state) ? earliestPending(t) : null),
    (id, at, until) => ({ type: 'warning-due', at, id, until }),
  );
}
