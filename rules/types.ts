import type { Cause, Priority, Recurrence } from '../model/ticket.ts';
import type { Signal } from '../model/signal.ts';

// The model's types, where the rules have always exported them from.
export type { Signal } from '../model/signal.ts';
export type { Cause, Priority, Recurrence } from '../model/ticket.ts';
export { higherPriority, PRIORITIES } from '../model/ticket.ts';

/** A signal after asset resolution: every reading knows its asset and area. */
export interface Reading extends Signal {
  asset: string;
  area: string | null;
}

export interface Evidence {
  tag: string;
  value: Signal['value'];
  ts: number;
  message?: string;
  severity?: number;
  unit?: string;
}

export interface FloodMember {
  asset: string | null;
  fault: string;
  at: number;
  tag?: string;
  key?: string;
}

/** What a detection means for its ticket; filled in by the pipeline's stages. */
export interface DetectFields {
  key: string;
  asset: string | null;
  area: string | null;
  line: string | null;
  fault: string;
  category: string;
  rule: string;
  priority: Priority;
  title: string;
  assignedGroup: string | null;
  notify: string[];
}

/**
 * What the rule pipeline hands to the ticket engine. Every command carries its
 * own time `at` (epoch ms), so the engine never reads a clock.
 */
export type TicketCommand =
  | ({ type: 'detect'; at: number; evidence: Evidence; flags: string[]; recurrence?: Recurrence; causes?: Cause[] } & DetectFields)
  | { type: 'clear'; at: number; key: string; evidence: Evidence }
  | ({ type: 'flood'; at: number; members: FloodMember[]; firstOut: FloodMember; mergeKeys: string[]; since: number; evidence: Evidence } & DetectFields)
  | { type: 'flood-member'; at: number; key: string; member: FloodMember; priority: Priority; evidence: Evidence }
  | { type: 'flood-end'; at: number; key: string }
  /** `onDuty`: people on duty to notify too, looked up when it is applied (a group of undefined: the ticket's assigned group). */
  | { type: 'escalate'; at: number; id: string; level: number; notify: string[]; onDuty?: OnDutyRef[]; breach: 'respond' | 'resolve' | null; unless: 'acknowledged' | 'resolved' }
  /** A person's action: `by` is who they say they are, `actor` the name of the token that authenticated it (when one did). */
  | { type: 'transition'; at: number; id?: string; key?: string; action: string; by: string; actor?: string; actorName?: string; fields: Record<string, unknown> }
  | { type: 'comment'; at: number; id: string; by: string; actor?: string; actorName?: string; text: string }
  /**
   * A record added to a ticket (contracts §Records): a new one of `recordType` with `fields`, or with `record`
   * more `items` on that record.
   */
  | { type: 'record'; at: number; id?: string; key?: string; by: string; actor?: string; actorName?: string; recordType?: string; fields?: Record<string, unknown>; record?: string; items?: unknown }
  /** The fix of a resolved or closed ticket stayed quiet until `verifyBy` (gateway/tickets: flag fix-verified). */
  | { type: 'verify-fix'; at: number; id: string; verifyBy: string }
  /** A shelving's end came (gateway/tickets/timers.ts); `until` names which shelving, so a re-shelved ticket stays shelved. */
  | { type: 'unshelve-due'; at: number; id: string; until: string }
  /** Pending early warnings of the ticket whose `expectedBy` came without the effect (gateway/tickets/timers.ts): they are missed. */
  | { type: 'warning-due'; at: number; id: string; until: string }
  /** `correlation.earlyWarning.beforePattern` before the ticket's `recurrence.next` (`due`: that time): warn from its pattern. */
  | { type: 'pattern-due'; at: number; id: string; next: string };

export type DetectCommand = Extract<TicketCommand, { type: 'detect' }>;

/** A person on duty an escalation level notifies (config escalation[].onDuty). */
export interface OnDutyRef {
  role: 'onCall' | 'supervisor';
  group?: string | undefined;
}

/** Priority order: lower index is more urgent. */
