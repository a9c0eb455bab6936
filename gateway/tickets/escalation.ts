import { Observable, type OperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';
import type { AndonConfig } from '../../config/schema.ts';
import { isShelved, type TicketDoc } from '../../model/ticket.ts';
import { at, matches } from '../../rules/match.ts';
import type { OnDutyRef, TicketCommand } from '../../rules/types.ts';

type Escalate = Extract<TicketCommand, { type: 'escalate' }>;

interface Step {
  due: number;
  level: number;
  unless: Escalate['unless'];
  notify: string[];
  onDuty: OnDutyRef[];
  breach: Escalate['breach'];
}

/** The deadlines of a ticket: its SLA (respondBy, resolveBy) and the configured escalation levels. */
export function steps(t: TicketDoc, escalation: AndonConfig['escalation']): Step[] {
  const respondBy = Date.parse(t.respondBy);
  const resolveBy = Date.parse(t.resolveBy);
  const list: Step[] = [
    { due: respondBy, level: 0, unless: 'acknowledged', notify: [], onDuty: [], breach: 'respond' },
    { due: resolveBy, level: 0, unless: 'resolved', notify: [], onDuty: [], breach: 'resolve' },
    // A level whose match does not fit the ticket is skipped for it (re-planned with every version, so a raised priority can bring it in).
    ...escalation.filter((e) => matches(e.match, t)).map((e): Step => ({
      // a ticket Andon reopened (its fault came back after a fix) escalates again from the reopen
      due: e.after === 'respondBy' ? respondBy : e.after === 'resolveBy' ? resolveBy : Date.parse(t.reopenedAt ?? t.openedAt) + e.after,
      level: e.level,
      unless: e.unless,
      notify: e.notify,
      onDuty: e.onDuty ?? [],
      // A level at an SLA deadline breaches it only when it waits for what that SLA asks
      // (respondBy: acknowledged, resolveBy: resolved); the SLA's own step carries the breach otherwise.
      breach: e.after === 'respondBy' && e.unless === 'acknowledged' ? 'respond' : e.after === 'resolveBy' && e.unless === 'resolved' ? 'resolve' : null,
    })),
  ];
  return list.sort((a, b) => a.due - b.due || a.level - b.level);
}

/** Whether a step still has something to do for the ticket as it is now. */
function pending(t: TicketDoc, s: Step): boolean {
  if (t.state === 'closed' || t.state === 'merged') return false;
  if (s.unless === 'acknowledged' ? t.state !== 'open' : t.state === 'resolved') return false;
  return s.level > t.escalationLevel || (s.breach !== null && !t.breaches.includes(s.breach));
}

/**
 * The ticket's next deadline with something to do: steps sharing the earliest deadline become one command (the
 * highest level, and the breach). None while shelved: the unshelved version re-arms them and what fell due fires then.
 */
function nextStep(t: TicketDoc, escalation: AndonConfig['escalation'], now: number): Step | undefined {
  if (isShelved(t, now)) return undefined;
  const due = steps(t, escalation).filter((s) => pending(t, s));
  const first = due[0];
  if (!first) return undefined;
  return {
    ...due.filter((s) => s.due === first.due).reduce((a, b) => (b.level > a.level ? b : a)),
    breach: due.find((s) => s.due === first.due && s.breach !== null)?.breach ?? null,
  };
}

const sameStep = (a: Step, b: Step) =>
  a.due === b.due &&
  a.level === b.level &&
  a.breach === b.breach &&
  a.unless === b.unless &&
  a.notify.length === b.notify.length &&
  a.notify.every((n, i) => n === b.notify[i]) &&
  a.onDuty.length === b.onDuty.length &&
  a.onDuty.every((r, i) => r.role === b.onDuty[i]?.role && r.group === b.onDuty[i]?.group);

/**
 * Escalation: watches ticket versions and, at each deadline nobody met
 * (`after: respondBy|resolveBy|<duration>` `unless: acknowledged|resolved`),
 * emits an `escalate` command stamped with the deadline. Deadlines come from
 * the stored ticket, so feeding the live tickets after a restart resumes them.
 * A shelved ticket has no timers; at unshelve the overdue steps fire at once.
 * A level with a `match` applies only to the tickets it fits (`priority: [P0, P1]`).
 *
 *   ticket  -o(open, respondBy=30m)-------------------
 *   out     -----------------------(30m)E-------------
 */
export function escalations(escalation: AndonConfig['escalation'], scheduler: SchedulerLike): OperatorFunction<TicketDoc, TicketCommand> {
  return (tickets) =>
    new Observable<TicketCommand>((out) => {
      const timers = new Map<string, { step: Step; sub: Subscription }>();
      const sub = tickets.subscribe({
        next(t) {
          const next = nextStep(t, escalation, scheduler.now());
          const current = timers.get(t.id);
          // Keep the timer only if it would send the same command: a version can drop a step that
          // shares the deadline (SLA met), which changes the breach even when due and level stay.
          if (current && next && sameStep(current.step, next)) return;
          current?.sub.unsubscribe();
          timers.delete(t.id);
          if (!next) return;
          // the timer keeps the id, not the ticket (no closure in this scope may use `t`): 20k live tickets'
          // docs are not held for their deadlines
          const id = t.id;
          const handle = at(scheduler, next.due, () => {
            timers.delete(id);
            out.next({
              type: 'escalate',
              at: Math.max(next.due, scheduler.now()),
              id,
              level: next.level,
              notify: next.notify,
              ...(next.onDuty.length > 0 ? { onDuty: next.onDuty } : {}),
              breach: next.breach,
              unless: next.unless,
            });
          });
          timers.set(id, { step: next, sub: handle });
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
