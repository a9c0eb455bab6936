import type { Priority } from '../config/types.ts';

/** A reading or event from a source (design §2). */
export interface Signal {
  source: string;
  tag: string;
  value: number | boolean | string | null;
  quality: 'good' | 'uncertain' | 'bad';
  /** Source timestamp, epoch ms. */
  ts: number;
  asset?: string;
  severity?: number;
  message?: string;
  /** Engineering unit of the value (`V`), from the connector's tag config or the HTTP body. */
  unit?: string;
}

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

export interface Recurrence {
  count: number;
  pattern: 'daily' | 'weekly' | 'irregular';
  at: string | null;
  day: string | null;
  spreadMinutes: number | null;
}

export interface Cause {
  fault: string;
  asset: string | null;
  support: number;
  of: number;
  leadSeconds: number;
  source: 'configured' | 'discovered';
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
  | { type: 'escalate'; at: number; id: string; level: number; notify: string[]; breach: 'respond' | 'resolve' | null; unless: 'acknowledged' | 'resolved' }
  /** A person's action: `by` is who they say they are, `actor` the name of the token that authenticated it (when one did). */
  | { type: 'transition'; at: number; id?: string; key?: string; action: string; by: string; actor?: string; fields: Record<string, unknown> }
  | { type: 'comment'; at: number; id: string; by: string; actor?: string; text: string }
  /** The fix of a resolved or closed ticket stayed quiet until `verifyBy` (gateway/tickets: flag fix-verified). */
  | { type: 'verify-fix'; at: number; id: string; verifyBy: string }
  /** A shelving's end came (rules/shelving.ts); `until` names which shelving, so a re-shelved ticket stays shelved. */
  | { type: 'unshelve-due'; at: number; id: string; until: string };

export type DetectCommand = Extract<TicketCommand, { type: 'detect' }>;

/** Priority order: lower index is more urgent. */
export const PRIORITIES: readonly Priority[] = ['P0', 'P1', 'P2', 'P3'];
export const higherPriority = (a: Priority, b: Priority): Priority => (PRIORITIES.indexOf(a) <= PRIORITIES.indexOf(b) ? a : b);
