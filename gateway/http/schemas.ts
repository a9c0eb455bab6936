import { STATES } from '../../model/ticket.ts';

/**
 * JSON schemas shared by the routes (added once with `app.addSchema`, used as
 * `{ $ref: 'Ticket#' }`) and published as OpenAPI components at /docs.
 * Responses are serialised from these (fast-json-stringify drops what a schema
 * does not name), so the Ticket schema names every field of contracts §Ticket JSON;
 * schemas.test.ts checks it against tickets the engine makes.
 */

const str = { type: 'string' } as const;
const text = (description: string) => ({ type: 'string', description }) as const;
const time = (description: string) => ({ type: 'string', format: 'date-time', description }) as const;
const maybe = <T extends { type: string }>(s: T) => ({ ...s, type: [s.type, 'null'] }) as const;
const strings = { type: 'array', items: str } as const;
const state = { type: 'string', enum: [...STATES] } as const;

const member = {
  type: 'object',
  additionalProperties: false,
  required: ['asset', 'fault', 'at'],
  properties: { asset: maybe(str), fault: str, at: time('When this alarm joined the flood.') },
} as const;

const ticketProperties = {
  id: text('ULID.'),
  version: { type: 'integer', minimum: 1, description: 'Grows by one with every change (one history event per version).' },
  key: text('asset/fault: at most one live ticket per key.'),
  gateway: str,
  asset: maybe(str),
  area: maybe(str),
  line: maybe(str),
  fault: str,
  category: str,
  priority: { type: 'string', enum: ['P0', 'P1', 'P2', 'P3'] },
  rule: str,
  title: str,
  state,
  condition: { type: 'string', enum: ['active', 'cleared'] },
  openedAt: time('When the ticket opened.'),
  updatedAt: time('When the newest version was made.'),
  respondBy: time('SLA: acknowledge by then.'),
  resolveBy: time('SLA: resolve by then.'),
  acknowledgedAt: maybe(time('When it was acknowledged.')),
  resolvedAt: maybe(time('When it was resolved.')),
  closedAt: maybe(time('When it was closed.')),
  firstSeen: time('First detection.'),
  lastSeen: time('Newest detection.'),
  occurrences: { type: 'integer', minimum: 1 },
  flags: { ...strings, description: 'recurring, chattering, flood, sla-breached.' },
  recurrence: {
    type: ['object', 'null'],
    additionalProperties: false,
    required: ['count', 'pattern', 'at', 'day', 'spreadMinutes', 'next'],
    properties: {
      count: { type: 'integer' },
      pattern: { type: 'string', enum: ['daily', 'weekly', 'irregular'] },
      at: maybe(text('Local time (gateway timezone), HH:MM.')),
      day: maybe(text('Mon..Sun for weekly.')),
      spreadMinutes: { type: ['number', 'null'] },
      next: maybe(text('Daily or weekly: the next expected time, ISO 8601 with the plant\'s UTC offset (gateway.timezone); null when irregular.')),
    },
  },
  causes: {
    type: 'array',
    items: {
      type: 'object',
      additionalProperties: false,
      required: ['fault', 'asset', 'support', 'of', 'leadSeconds', 'maxLeadSeconds', 'source'],
      properties: {
        fault: str,
        asset: maybe(str),
        support: { type: 'integer' },
        of: { type: 'integer' },
        leadSeconds: { type: 'number' },
        maxLeadSeconds: { type: 'number', description: 'The longest lead observed.' },
        source: { type: 'string', enum: ['configured', 'discovered'] },
      },
    },
  },
  warnings: {
    type: 'array',
    description: 'Early warnings (contracts §Early warnings), oldest first, at most the newest 50.',
    items: {
      type: 'object',
      additionalProperties: false,
      required: ['id', 'at', 'cause', 'leadSeconds', 'expectedBy', 'outcome', 'settledAt', 'actualLeadSeconds'],
      properties: {
        id: str,
        at: time('When the cause fired.'),
        cause: {
          type: 'object',
          additionalProperties: false,
          description: 'The probable cause that fired ({ asset, fault, support, of }) or the recurrence pattern ({ pattern, support }).',
          required: ['support'],
          properties: { asset: maybe(str), fault: str, support: { type: 'integer' }, of: { type: 'integer' }, pattern: { type: 'string', enum: ['daily', 'weekly'] } },
        },
        leadSeconds: { type: 'number', description: 'The typical lead.' },
        expectedBy: time('The effect is expected by then; missed after.'),
        outcome: { type: 'string', enum: ['pending', 'confirmed', 'missed'] },
        settledAt: maybe(time('When it was confirmed or missed.')),
        actualLeadSeconds: { type: ['number', 'null'], description: 'Confirmed: seconds from the warning to the effect.' },
      },
    },
  },
  members: { type: 'array', items: member },
  firstOut: { ...member, type: ['object', 'null'] },
  assignedGroup: maybe(str),
  assignee: maybe(str),
  notify: { ...strings, description: 'Notification channels of the ticket (from routing).' },
  escalationLevel: { type: 'integer', minimum: 0 },
  escalations: {
    type: 'array',
    items: {
      type: 'object',
      additionalProperties: false,
      required: ['level', 'at', 'notified'],
      properties: { level: { type: 'integer' }, at: time('When.'), notified: strings },
    },
  },
  breaches: { type: 'array', items: { type: 'string', enum: ['respond', 'resolve'] } },
  evidence: {
    type: 'array',
    items: {
      type: 'object',
      additionalProperties: false,
      required: ['tag', 'value', 'ts'],
      properties: {
        tag: str,
        value: { description: 'The signal value (number, boolean, text or null).' },
        ts: time('Signal time.'),
        message: str,
        severity: { type: 'integer' },
        unit: { type: 'string', description: 'Engineering unit of the value (`V`), when its source names one.' },
      },
    },
  },
  similar: {
    type: 'array',
    items: {
      type: 'object',
      additionalProperties: false,
      required: ['id', 'asset', 'fault', 'state', 'resolution', 'rootCause', 'resolvedAt'],
      properties: {
        id: str,
        asset: maybe(str),
        fault: str,
        state,
        resolution: maybe(str),
        rootCause: maybe(str),
        resolvedAt: maybe(time('When it was resolved.')),
        solution: maybe(text('The solution of its knowledge entry, when it has one.')),
        labels: { ...strings, description: 'The labels of its knowledge entry.' },
      },
    },
  },
  wait: {
    type: ['object', 'null'],
    additionalProperties: false,
    required: ['reason', 'partNumber', 'eta'],
    properties: { reason: { type: 'string', enum: ['parts', 'external-support', 'coordination'] }, partNumber: maybe(str), eta: maybe(time('Expected.')) },
  },
  resolution: maybe(str),
  rootCause: maybe(str),
  checklist: { type: ['object', 'null'], additionalProperties: { type: 'boolean' }, description: 'The close checklist confirmed at close: the items of lifecycle.closeChecklist, each true.' },
  mergedInto: maybe(text('The flood ticket this one was merged into.')),
  shelvedUntil: maybe(time('ISA-18.2 shelving: no notification or escalation until then; occurrences still count.')),
  shelvedReason: maybe(text('Why it is shelved.')),
  previous: {
    type: ['object', 'null'],
    additionalProperties: false,
    required: ['id', 'resolvedAt', 'rootCause', 'resolution'],
    description: 'The fix this fault came back after: the ticket itself when Andon reopened it, or the closed ticket it recurred after (within correlation.recurrence.within of its close). Null when none.',
    properties: { id: str, resolvedAt: maybe(time('When that fix was resolved.')), rootCause: maybe(str), resolution: maybe(str) },
  },
  reopenedAt: maybe(time('When Andon last reopened the ticket because its fault came back after a resolve; SLA deadlines and escalation count from then.')),
  verifyBy: maybe(time('Resolved or closed with the fix not verified yet: if the fault stays quiet until then, the ticket gets the flag fix-verified.')),
  knowledge: {
    type: ['object', 'null'],
    additionalProperties: false,
    required: ['symptom', 'diagnosis', 'solution', 'labels'],
    description: 'The structured knowledge entry given at resolve (symptom, diagnosis, solution, labels); null when none.',
    properties: { symptom: maybe(str), diagnosis: maybe(str), solution: maybe(str), labels: strings },
  },
  records: {
    type: 'array',
    description: 'Records attached to the ticket (parts-request, acceptance, configured types), oldest first.',
    items: {
      type: 'object',
      additionalProperties: false,
      required: ['id', 'type', 'at', 'by', 'updatedAt', 'fields'],
      properties: {
        id: text('R1, R2, ... in the order added.'),
        type: text('A type of config records.types.'),
        at: time('When it was added.'),
        by: str,
        updatedAt: time('When it last changed (items added).'),
        fields: { type: 'object', additionalProperties: true, description: 'The fields its type defines; items: [{ materialNumber, quantity }].' },
      },
    },
  },
  history: { type: 'array', description: 'Every change: at, action, by and what the action recorded.', items: { $ref: 'HistoryEvent#' } },
  central: {
    type: ['object', 'null'],
    additionalProperties: false,
    required: ['id', 'url', 'syncedVersion'],
    properties: { id: str, url: maybe(str), syncedVersion: { type: 'integer' } },
  },
} as const;

/** The ticket JSON of contracts §Ticket JSON (every field present; `null`/`[]` when empty). */
export const TICKET_SCHEMA = {
  $id: 'Ticket',
  type: 'object',
  description: 'A ticket (contracts §Ticket JSON): every field is present, null or [] when empty.',
  additionalProperties: false,
  required: Object.keys(ticketProperties),
  properties: ticketProperties,
} as const;

/** One history event (contracts §Ticket JSON); `index` (its place in the history, 0-based) where a route or stream gives it. */
export const HISTORY_EVENT_SCHEMA = {
  $id: 'HistoryEvent',
  type: 'object',
  additionalProperties: true,
  required: ['at', 'action', 'by'],
  properties: {
    index: { type: 'integer', minimum: 0, description: 'Its place in the ticket\'s history: the event of version v is at v - 1.' },
    at: time('When.'),
    action: str,
    by: text('Who did it, as they said (free text; "andon" for the gateway\'s own changes).'),
    actor: maybe(text('The name of the token that authenticated the action (gateway.auth.tokens), or the subject of the signed-in person (gateway.auth.oidc); absent or null when nobody was authenticated (replay, the gateway itself).')),
    actorName: text('The signed-in person\'s display name, next to their subject in `actor`; absent for a token.'),
  },
} as const;

/** A ticket in a list: the Ticket JSON, with `history` only when asked for (`?include=history`). */
export const TICKET_ITEM_SCHEMA = {
  $id: 'TicketItem',
  type: 'object',
  description: 'A ticket in a list: every field of Ticket; `history` only with ?include=history.',
  additionalProperties: false,
  required: Object.keys(ticketProperties).filter((k) => k !== 'history'),
  properties: ticketProperties,
} as const;

/** `{ code, message }` of every refused request; `path` names the offending field when there is one. */
export const ERROR_SCHEMA = {
  $id: 'Error',
  type: 'object',
  additionalProperties: false,
  required: ['code', 'message'],
  properties: {
    code: { type: 'string', pattern: '^ANDON_[A-Z_]+$', description: 'Stable code from the error catalogue (model/errors.ts).' },
    message: text('What went wrong, for people.'),
    path: text('The field at fault, when there is one.'),
    requestId: text('Server errors (5xx): the request id, which the gateway log has with the details.'),
  },
} as const;

export const ticketRef = { $ref: 'Ticket#' } as const;
export const ticketItemRef = { $ref: 'TicketItem#' } as const;
export const historyEventRef = { $ref: 'HistoryEvent#' } as const;
export const errorRef = { $ref: 'Error#' } as const;
