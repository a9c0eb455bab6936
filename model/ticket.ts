/** Ticket priorities, most urgent first (P0 stops a line). */
export const PRIORITIES = ['P0', 'P1', 'P2', 'P3'] as const;
export type Priority = (typeof PRIORITIES)[number];
/** The more urgent of two priorities. */
export const higherPriority = (a: Priority, b: Priority): Priority => (PRIORITIES.indexOf(a) <= PRIORITIES.indexOf(b) ? a : b);

export interface Recurrence {
  count: number;
  pattern: 'daily' | 'weekly' | 'irregular';
  at: string | null;
  day: string | null;
  spreadMinutes: number | null;
  /** Daily or weekly: the next expected time after the newest episode, ISO 8601 with the plant's UTC offset (`gateway.timezone`); null when irregular. */
  next: string | null;
}

export interface Cause {
  fault: string;
  asset: string | null;
  support: number;
  of: number;
  leadSeconds: number;
  /** The longest of the observed leads (a warning's `expectedBy` is at least this far ahead). */
  maxLeadSeconds: number;
  source: 'configured' | 'discovered';
}

/** What a warning expects the effect from: a probable cause that fired, or the ticket's recurrence pattern. */
export type WarningCause = { asset: string | null; fault: string; support: number; of: number } | { pattern: 'daily' | 'weekly'; support: number };

/** An early warning on a ticket (contracts §Early warnings): a cause fired, the ticket's fault is expected by `expectedBy`. */
export interface Warning {
  id: string;
  at: string;
  cause: WarningCause;
  /** The typical lead (the median of the observed ones; `beforePattern` for a pattern). */
  leadSeconds: number;
  expectedBy: string;
  outcome: 'pending' | 'confirmed' | 'missed';
  /** When it was confirmed or missed; null while pending. */
  settledAt: string | null;
  /** Confirmed: how long after the warning the fault came; null otherwise. */
  actualLeadSeconds: number | null;
}

/** At most this many warnings are kept on a ticket (the newest). */
export const MAX_WARNINGS = 50;

/** Why a ticket waits (the `wait` action's reason). */
export const WAIT_REASONS = ['parts', 'external-support', 'coordination'] as const;
/** The close checklist by default (config lifecycle.closeChecklist). */
export const CHECKLIST = ['customerInformed', 'partsRecorded', 'knowledgeBaseChecked'] as const;

export const STATES = ['open', 'acknowledged', 'in_progress', 'waiting', 'resolved', 'closed', 'merged'] as const;
export type TicketState = (typeof STATES)[number];
/** States in which a ticket still takes occurrences of its key. */
export const LIVE_STATES: readonly TicketState[] = ['open', 'acknowledged', 'in_progress', 'waiting', 'resolved'];
export const isLive = (s: TicketState) => s !== 'closed' && s !== 'merged';

export interface HistoryEvent {
  at: string;
  action: string;
  /** Who did it, as they said (free text); `andon` for the gateway's own changes. */
  by: string;
  /** The name of the token that authenticated a person's action, or the person's subject (personal sign-in); absent when none did (replay, the gateway). */
  actor?: string;
  /** The signed-in person's display name, next to their subject in `actor`; absent for a token. */
  actorName?: string;
  [field: string]: unknown;
}

/** The event with the authenticated `actor` (and a person's `actorName`) next to `by`, when there is one. */
export const withActor = (event: HistoryEvent, actor: string | undefined, actorName?: string): HistoryEvent =>
  actor === undefined ? event : { ...event, actor, ...(actorName === undefined ? {} : { actorName }) };

export interface Member {
  asset: string | null;
  fault: string;
  at: string;
}

/** What was done last time a fault was fixed (the board shows it on the recurrence). */
export interface PreviousFix {
  id: string;
  resolvedAt: string | null;
  rootCause: string | null;
  resolution: string | null;
}

/** A resolved ticket's structured knowledge (contracts §Knowledge base): what was seen, how it was found, what fixed it. */
export interface KnowledgeEntry {
  symptom: string | null;
  diagnosis: string | null;
  solution: string | null;
  /** From `knowledge.labels` (or free labels when `knowledge.freeLabels`). */
  labels: string[];
}

/** A typed record attached to a ticket (contracts §Records): `parts-request`, `acceptance` or a configured type. */
export interface TicketRecord {
  /** `R1`, `R2`, ... in the order they were added to the ticket. */
  id: string;
  type: string;
  at: string;
  by: string;
  updatedAt: string;
  /** The record's fields as its type (config records.types) defines them. */
  fields: Record<string, unknown>;
}

/** The ticket JSON of contracts §Ticket JSON; every field is present, `null`/`[]` when empty. */
export interface Ticket {
  id: string;
  version: number;
  key: string;
  gateway: string;
  asset: string | null;
  area: string | null;
  line: string | null;
  fault: string;
  category: string;
  priority: Priority;
  rule: string;
  title: string;
  state: TicketState;
  condition: 'active' | 'cleared';
  openedAt: string;
  updatedAt: string;
  respondBy: string;
  resolveBy: string;
  acknowledgedAt: string | null;
  resolvedAt: string | null;
  closedAt: string | null;
  firstSeen: string;
  lastSeen: string;
  occurrences: number;
  flags: string[];
  recurrence: Recurrence | null;
  causes: Cause[];
  /** Early warnings, oldest first, the newest MAX_WARNINGS; [] when none. */
  warnings: Warning[];
  members: Member[];
  firstOut: Member | null;
  assignedGroup: string | null;
  assignee: string | null;
  notify: string[];
  escalationLevel: number;
  escalations: { level: number; at: string; notified: string[] }[];
  /** SLA deadlines missed so far ('respond', 'resolve'). */
  breaches: ('respond' | 'resolve')[];
  evidence: { tag: string; value: unknown; ts: string; message?: string; severity?: number; unit?: string }[];
  similar: { id: string; asset: string | null; fault: string; state: TicketState; resolution: string | null; rootCause: string | null; resolvedAt: string | null; solution: string | null; labels: string[] }[];
  wait: { reason: string; partNumber: string | null; eta: string | null } | null;
  resolution: string | null;
  rootCause: string | null;
  checklist: Record<string, boolean> | null;
  mergedInto: string | null;
  /** ISA-18.2 shelving: until when nothing is notified or escalated (occurrences still count); null when not shelved. */
  shelvedUntil: string | null;
  /** Why it was shelved (the shelve action's reason); null when not shelved. */
  shelvedReason: string | null;
  /**
   * The fix this fault came back after: for a ticket Andon reopened (its own id) or a new ticket opened within
   * `correlation.recurrence.within` of a closed one's close (that ticket's id). Null when none.
   */
  previous: PreviousFix | null;
  /** When Andon last reopened it because its fault came back after a resolve: SLA and escalation count from here. */
  reopenedAt: string | null;
  /** Resolved or closed, fix not verified yet: if the fault stays quiet until then, the ticket gets `fix-verified`. */
  verifyBy: string | null;
  /** The structured knowledge entry given at resolve (contracts §Knowledge base); null when none. */
  knowledge: KnowledgeEntry | null;
  /** Records attached to the ticket (parts requests, acceptances, ...; contracts §Records), oldest first. */
  records: TicketRecord[];
  history: HistoryEvent[];
  central: { id: string; url: string | null; syncedVersion: number } | null;
}

/** A ticket as stored: everything but the history, which lives in its own table. */
export type TicketDoc = Omit<Ticket, 'history'>;

/** Every field of a TicketDoc, in the order the engine makes tickets (copyTicket writes them in this order). */
export const TICKET_DOC_KEYS = [
  'id',
  'version',
  'key',
  'gateway',
  'asset',
  'area',
  'line',
  'fault',
  'category',
  'priority',
  'rule',
  'title',
  'state',
  'condition',
  'openedAt',
  'updatedAt',
  'respondBy',
  'resolveBy',
  'acknowledgedAt',
  'resolvedAt',
  'closedAt',
  'firstSeen',
  'lastSeen',
  'occurrences',
  'flags',
  'recurrence',
  'causes',
  'warnings',
  'members',
  'firstOut',
  'assignedGroup',
  'assignee',
  'notify',
  'escalationLevel',
  'escalations',
  'breaches',
  'evidence',
  'similar',
  'wait',
  'resolution',
  'rootCause',
  'checklist',
  'mergedInto',
  'shelvedUntil',
  'shelvedReason',
  'previous',
  'reopenedAt',
  'verifyBy',
  'knowledge',
  'records',
  'central',
] as const satisfies readonly (keyof TicketDoc)[];
// A field added to Ticket must be added above too (and to copyTicket): this line does not compile otherwise.
const everyKeyListed: [Exclude<keyof TicketDoc, (typeof TICKET_DOC_KEYS)[number]>] extends [never] ? true : never = true;
void everyKeyListed;
const KNOWN_KEYS = new Set<string>(TICKET_DOC_KEYS);

/**
 * A shallow copy of a ticket doc, for the engine's new versions. `{ ...doc }` of these 51 fields takes
 * V8's slow path: ~3.6 KB of garbage and ~4 µs a copy (measured in node 20, object spread and
 * Object.assign alike), and every member of an alarm flood copied the flood ticket twice. One object
 * literal with every field is ~0.4 KB and a fraction of that time. A doc with a field this version does
 * not know, or without one it knows (a store written by another version), is copied by spread, which
 * keeps it as it is.
 */
export function copyTicket(doc: TicketDoc): TicketDoc {
  let n = 0;
  for (const k in doc) {
    if (!KNOWN_KEYS.has(k)) return { ...doc };
    n++;
  }
  if (n !== TICKET_DOC_KEYS.length) return { ...doc };
  return {
    id: doc.id,
    version: doc.version,
    key: doc.key,
    gateway: doc.gateway,
    asset: doc.asset,
    area: doc.area,
    line: doc.line,
    fault: doc.fault,
    category: doc.category,
    priority: doc.priority,
    rule: doc.rule,
    title: doc.title,
    state: doc.state,
    condition: doc.condition,
    openedAt: doc.openedAt,
    updatedAt: doc.updatedAt,
    respondBy: doc.respondBy,
    resolveBy: doc.resolveBy,
    acknowledgedAt: doc.acknowledgedAt,
    resolvedAt: doc.resolvedAt,
    closedAt: doc.closedAt,
    firstSeen: doc.firstSeen,
    lastSeen: doc.lastSeen,
    occurrences: doc.occurrences,
    flags: doc.flags,
    recurrence: doc.recurrence,
    causes: doc.causes,
    warnings: doc.warnings,
    members: doc.members,
    firstOut: doc.firstOut,
    assignedGroup: doc.assignedGroup,
    assignee: doc.assignee,
    notify: doc.notify,
    escalationLevel: doc.escalationLevel,
    escalations: doc.escalations,
    breaches: doc.breaches,
    evidence: doc.evidence,
    similar: doc.similar,
    wait: doc.wait,
    resolution: doc.resolution,
    rootCause: doc.rootCause,
    checklist: doc.checklist,
    mergedInto: doc.mergedInto,
    shelvedUntil: doc.shelvedUntil,
    shelvedReason: doc.shelvedReason,
    previous: doc.previous,
    reopenedAt: doc.reopenedAt,
    verifyBy: doc.verifyBy,
    knowledge: doc.knowledge,
    records: doc.records,
    central: doc.central,
  };
}

/** A copy of a ticket doc with some fields changed (copyTicket, then the changes set on it). */
export function patchTicket(doc: TicketDoc, patch: Partial<TicketDoc>): TicketDoc {
  return Object.assign(copyTicket(doc), patch);
}

let lastMs = Number.NaN;
let lastIso = '';
/** Epoch ms as an ISO string; the last one is remembered (a change writes the same instant several times). */
export const iso = (ms: number): string => {
  if (ms === lastMs) return lastIso;
  lastIso = new Date(ms).toISOString();
  lastMs = ms;
  return lastIso;
};

/** Whether the ticket is shelved at `now` (epoch ms): `shelvedUntil` is set and still ahead. */
export const isShelved = (t: Pick<TicketDoc, 'shelvedUntil'>, now: number): boolean => t.shelvedUntil !== null && Date.parse(t.shelvedUntil) > now;
