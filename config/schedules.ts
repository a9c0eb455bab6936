import { z } from 'zod';
import { formatDuration } from './duration.ts';
import { duration, id, issue } from './types.ts';

/**
 * On-call schedules (`schedules:`): who of a group is on duty when, in the plant's local time
 * (`gateway.timezone`). Routing assigns a new ticket to the group's on-call person; an escalation
 * level can notify the on-duty supervisor of a group. Resolved by gateway/schedules/oncall.ts.
 */

/** Weekdays as the config writes them, Monday first. */
export const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const;
/** Who of a shift an escalation level or the on-call API names. */
export const DUTY_ROLES = ['onCall', 'supervisor'] as const;
export type DutyRole = (typeof DUTY_ROLES)[number];

const DAY = 86_400_000;
const DAY_MIN = 1440;
const WEEK_MIN = 7 * DAY_MIN;

/** `06:00` → 360 (minutes since local midnight). */
export const minutesOf = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
/** `2026-03-02` → days since 1970-01-01 (a calendar date, no timezone). */
export const dayOf = (date: string): number => Date.UTC(Number(date.slice(0, 4)), Number(date.slice(5, 7)) - 1, Number(date.slice(8, 10))) / DAY;
/** A shift's length in minutes: `end` at or before `start` ends the next day (`22:00`-`06:00`: 480; `06:00`-`06:00`: 24 h). */
export const shiftMinutes = (start: string, end: string): number => {
  const len = minutesOf(end) - minutesOf(start);
  return len > 0 ? len : len + DAY_MIN;
};

const timeOfDay = () =>
  z
    .string()
    .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a local time of day is HH:MM, 00:00 to 23:59')
    .meta({ kind: 'time of day' });

const localDate = () =>
  z
    .string()
    .superRefine((text, ctx) => {
      const ok = /^\d{4}-\d{2}-\d{2}$/.test(text) && new Date(dayOf(text) * DAY).toISOString().slice(0, 10) === text;
      if (!ok) issue(ctx, 'ANDON_CONFIG_INVALID_VALUE', `"${text}" is not a date; write YYYY-MM-DD (2026-03-02)`);
    })
    .meta({ kind: 'date' });

const personSchema = z.strictObject({
  name: z.string().min(1).max(200).optional().describe('Display name (`Wang Wei`) in GET /api/v1/oncall; default the person\'s id.'),
  notify: z.string().describe('The notify channel (a name under `notify:`) that reaches this person: their escalations go there, and new P0/P1 tickets assigned to them.'),
});

const shiftSchema = z.strictObject({
  id: id().describe('Shift id (`early`, `night`), unique in its group; overrides name it.'),
  start: timeOfDay().describe('Local start (`gateway.timezone`), HH:MM.'),
  end: timeOfDay().describe('Local end, HH:MM; at or before `start` it ends the next day (`22:00` to `06:00`). Across a DST change the shift is an hour shorter or longer; a time the clocks skip means the first instant after the skip.'),
  days: z
    .array(z.enum(WEEKDAYS))
    .min(1)
    .optional()
    .meta({ defaultText: 'every day', description: 'Weekdays the shift starts on (`[Mon, Tue, Wed, Thu, Fri]`).' }),
  onCall: z.array(id()).default([]).describe('The rotation of on-call people (ids under `schedules.people`): one at a time, the next after each `every`. New tickets of the group are assigned to the one on duty (`assignee`).'),
  supervisor: z.array(id()).default([]).describe('The rotation of supervisors (ids under `schedules.people`), handed over with the same `every`; escalation levels reach them with `onDuty: [{ role: supervisor }]`.'),
  every: duration()
    .superRefine((ms, ctx) => {
      if (ms < DAY || ms % DAY !== 0) issue(ctx, 'ANDON_CONFIG_INVALID_VALUE', `a rotation hands over after whole days (1d, 7d, 2w), not ${formatDuration(ms)}`);
    })
    .default(DAY)
    .describe('The next person of each rotation takes over after this many days, counted in local calendar days from the group\'s `rotationStart` (weekends and `days` included).'),
});

const overrideSchema = z
  .strictObject({
    date: localDate().describe('Local date (YYYY-MM-DD) the overridden shift starts on.'),
    shift: id().optional().meta({ defaultText: 'every shift of that date', description: 'The shift (an id of this group) it overrides.' }),
    onCall: id().optional().describe('Who is on call instead (an id under `schedules.people`).'),
    supervisor: id().optional().describe('Who supervises instead (an id under `schedules.people`).'),
  })
  .superRefine((o, ctx) => {
    if (o.onCall === undefined && o.supervisor === undefined) issue(ctx, 'ANDON_CONFIG_MISSING', 'an override names onCall, supervisor or both');
  });

const groupSchema = z
  .strictObject({
    rotationStart: localDate().describe('Local date (YYYY-MM-DD) on which every rotation of the group starts with its first person.'),
    shifts: z.array(shiftSchema).min(1).describe('The shifts; they must not overlap (a gap between them means nobody of the group is on duty).'),
    overrides: z.array(overrideSchema).default([]).describe('Changes for one day: someone else takes a shift (sick leave, a swap), the rotation goes on after it.'),
  })
  .superRefine((g, ctx) => {
    const seen = new Set<string>();
    g.shifts.forEach((s, i) => {
      if (seen.has(s.id)) issue(ctx, 'ANDON_CONFIG_DUPLICATE_ID', `shift id "${s.id}" is used twice`, ['shifts', i, 'id']);
      seen.add(s.id);
    });
    const overlap = firstOverlap(g.shifts);
    if (overlap) issue(ctx, 'ANDON_CONFIG_INVALID_VALUE', overlap.message, ['shifts', overlap.index, 'start']);
    const taken = new Set<string>();
    g.overrides.forEach((o, i) => {
      if (o.shift !== undefined && !seen.has(o.shift)) issue(ctx, 'ANDON_CONFIG_UNKNOWN_REFERENCE', `shift "${o.shift}" is not a shift of this group`, ['overrides', i, 'shift']);
      for (const role of DUTY_ROLES) {
        if (o[role] === undefined) continue;
        const key = `${o.date}|${o.shift ?? '*'}|${role}`;
        if (taken.has(key)) issue(ctx, 'ANDON_CONFIG_DUPLICATE_ID', `${role} of ${o.shift === undefined ? 'every shift' : `shift "${o.shift}"`} on ${o.date} is overridden twice`, ['overrides', i, role]);
        taken.add(key);
      }
    });
  });

export const schedulesSchema = z
  .strictObject({
    people: z.record(id(), personSchema).default({}).describe('Everyone the schedules name, by id (`wang`): display name and the notify channel that reaches them.'),
    groups: z
      .record(z.string().min(1), groupSchema)
      .default({})
      .describe('Schedules by group (the `assign` of a route, `maintenance-packaging`): shifts, rotations and overrides in `gateway.timezone`.'),
  })
  .default({ people: {}, groups: {} });

export type SchedulesConfig = z.output<typeof schedulesSchema>;
export type ShiftConfig = SchedulesConfig['groups'][string]['shifts'][number];

const hhmm = (m: number) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;

/**
 * The first two shifts of a group that overlap in local time, with the later one's index. Checked on
 * a week of local minutes: local time maps to instants in order, so shifts apart in local time stay
 * apart across DST changes too.
 */
function firstOverlap(shifts: readonly ShiftConfig[]): { index: number; message: string } | undefined {
  const spans: { shift: number; from: number; to: number }[] = [];
  shifts.forEach((s, i) => {
    const start = minutesOf(s.start);
    const len = shiftMinutes(s.start, s.end);
    for (const day of s.days ?? WEEKDAYS) {
      const from = WEEKDAYS.indexOf(day) * DAY_MIN + start;
      // a span past Sunday night goes on on Monday
      if (from + len <= WEEK_MIN) spans.push({ shift: i, from, to: from + len });
      else spans.push({ shift: i, from, to: WEEK_MIN }, { shift: i, from: 0, to: from + len - WEEK_MIN });
    }
  });
  for (let a = 0; a < spans.length; a++) {
    for (let b = a + 1; b < spans.length; b++) {
      const x = spans[a] as (typeof spans)[number];
      const y = spans[b] as (typeof spans)[number];
      if (x.shift === y.shift || x.to <= y.from || y.to <= x.from) continue;
      const from = Math.max(x.from, y.from);
      const to = Math.min(x.to, y.to);
      const [first, second] = x.shift < y.shift ? [x.shift, y.shift] : [y.shift, x.shift];
      const day = WEEKDAYS[Math.floor(from / DAY_MIN)] as string;
      return {
        index: second,
        message: `shifts "${shifts[first]?.id}" and "${shifts[second]?.id}" overlap (${day} ${hhmm(from % DAY_MIN)} to ${hhmm(to % DAY_MIN)} local); one person per role is on duty at a time`,
      };
    }
  }
  return undefined;
}

type Loose = Record<string, unknown>;
const record = (v: unknown): Loose => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Loose) : {});
const list = (v: unknown): Loose[] => (Array.isArray(v) ? v.filter((x): x is Loose => x !== null && typeof x === 'object') : []);

/**
 * References of the schedules that the field schemas cannot see: people's notify channels, the people
 * shifts and overrides name, and the groups escalation levels ask for. Reads defensively (it runs on
 * configs with other problems too).
 */
export function checkScheduleReferences(cfg: Loose, ctx: z.RefinementCtx): void {
  const notify = record(cfg.notify);
  const schedules = record(cfg.schedules);
  const people = record(schedules.people);
  const groups = record(schedules.groups);
  for (const [pid, p] of Object.entries(people)) {
    const channel = record(p).notify;
    if (typeof channel === 'string' && !(channel in notify))
      issue(ctx, 'ANDON_CONFIG_UNKNOWN_REFERENCE', `notify channel "${channel}" is not defined under notify:`, ['schedules', 'people', pid, 'notify']);
  }
  const person = (who: unknown, path: (string | number)[]) => {
    if (typeof who === 'string' && !(who in people)) issue(ctx, 'ANDON_CONFIG_UNKNOWN_REFERENCE', `"${who}" is not a person under schedules.people`, ['schedules', 'groups', ...path]);
  };
  for (const [name, g] of Object.entries(groups)) {
    list(record(g).shifts).forEach((s, i) => {
      for (const role of DUTY_ROLES) if (Array.isArray(s[role])) (s[role] as unknown[]).forEach((who, j) => person(who, [name, 'shifts', i, role, j]));
    });
    list(record(g).overrides).forEach((o, i) => {
      for (const role of DUTY_ROLES) person(o[role], [name, 'overrides', i, role]);
    });
  }
  list(cfg.escalation).forEach((e, i) => {
    list(e.onDuty).forEach((ref, j) => {
      if (typeof ref.group === 'string' && !(ref.group in groups))
        issue(ctx, 'ANDON_CONFIG_UNKNOWN_REFERENCE', `group "${ref.group}" has no schedule under schedules.groups`, ['escalation', i, 'onDuty', j, 'group']);
      else if (ref.group === undefined && Object.keys(groups).length === 0)
        issue(ctx, 'ANDON_CONFIG_UNKNOWN_REFERENCE', 'onDuty without group means the ticket\'s assigned group, but no group has a schedule under schedules.groups', ['escalation', i, 'onDuty', j]);
    });
  });
}
