import { dayOf, minutesOf, shiftMinutes, WEEKDAYS, type DutyRole, type SchedulesConfig } from '../../config/schedules.ts';
import { instantOf, localDay, weekday } from './zone.ts';

/**
 * Who is on duty (contracts §On-call): the shift of a group at an instant, its on-call person and its
 * supervisor, from the rotations and overrides of `schedules`. Pure: time is an argument, never the
 * wall clock (routing and escalation ask in the engine's time, replay in virtual time).
 */

const DAY_MS = 86_400_000;

export interface DutyPerson {
  id: string;
  name: string;
  /** The notify channel that reaches them. */
  notify: string;
  /** Named by an override for that day, not by the rotation. */
  override: boolean;
}

export interface Duty {
  group: string;
  /** The shift under way (epoch ms), null when the group has nobody on duty then. */
  shift: { id: string; from: number; to: number } | null;
  onCall: DutyPerson | null;
  supervisor: DutyPerson | null;
}

interface Shift {
  id: string;
  start: number;
  length: number;
  /** Monday 0 … Sunday 6. */
  days: Set<number>;
  everyDays: number;
  onCall: string[];
  supervisor: string[];
}

interface Group {
  rotationStart: number;
  shifts: Shift[];
  /** `<day>|<shift id or *>` → who stands in. */
  overrides: Map<string, { onCall?: string; supervisor?: string }>;
}

/** The on-duty answers of one schedules config in one timezone. */
export class OnCall {
  private readonly groups = new Map<string, Group>();
  /** The last answer per group with a shift, valid for the whole shift (shifts of a group never overlap). */
  private readonly last = new Map<string, Duty>();

  constructor(
    private readonly schedules: SchedulesConfig,
    private readonly timezone: string,
  ) {
    for (const [name, g] of Object.entries(schedules.groups)) {
      const overrides = new Map<string, { onCall?: string; supervisor?: string }>();
      for (const o of g.overrides) {
        const key = `${dayOf(o.date)}|${o.shift ?? '*'}`;
        overrides.set(key, { ...overrides.get(key), ...(o.onCall !== undefined ? { onCall: o.onCall } : {}), ...(o.supervisor !== undefined ? { supervisor: o.supervisor } : {}) });
      }
      this.groups.set(name, {
        rotationStart: dayOf(g.rotationStart),
        overrides,
        shifts: g.shifts.map((s) => ({
          id: s.id,
          start: minutesOf(s.start),
          length: shiftMinutes(s.start, s.end),
          days: new Set((s.days ?? WEEKDAYS).map((d) => WEEKDAYS.indexOf(d))),
          everyDays: Math.round(s.every / DAY_MS),
          onCall: s.onCall,
          supervisor: s.supervisor,
        })),
      });
    }
  }

  /** The groups with a schedule, in config order. */
  names(): string[] {
    return [...this.groups.keys()];
  }

  has(group: string): boolean {
    return this.groups.has(group);
  }

  /** Who of `group` is on duty at `at` (epoch ms); undefined when the group has no schedule. */
  at(group: string, at: number): Duty | undefined {
    const g = this.groups.get(group);
    if (!g) return undefined;
    const hit = this.last.get(group);
    if (hit?.shift && hit.shift.from <= at && at < hit.shift.to) return hit;
    const today = localDay(at, this.timezone);
    // A shift takes at most a day, so the one under way started today or yesterday (local).
    for (const day of [today, today - 1]) {
      for (const s of g.shifts) {
        if (!s.days.has(weekday(day))) continue;
        const from = instantOf(day, s.start, this.timezone);
        if (at < from) continue;
        const endMinute = s.start + s.length;
        const to = instantOf(day + Math.floor(endMinute / 1440), endMinute % 1440, this.timezone);
        if (at >= to) continue;
        const duty: Duty = { group, shift: { id: s.id, from, to }, onCall: this.pick(g, s, day, 'onCall'), supervisor: this.pick(g, s, day, 'supervisor') };
        this.last.set(group, duty);
        return duty;
      }
    }
    return { group, shift: null, onCall: null, supervisor: null };
  }

  /** The person of `role` of `group` on duty at `at`; null when nobody is (no schedule, no shift, an empty rotation). */
  person(group: string, role: DutyRole, at: number): DutyPerson | null {
    return this.at(group, at)?.[role] ?? null;
  }

  /** The override for the shift's day (for this shift, else for every shift of the day), else the rotation's turn. */
  private pick(g: Group, s: Shift, day: number, role: DutyRole): DutyPerson | null {
    const stand = g.overrides.get(`${day}|${s.id}`)?.[role] ?? g.overrides.get(`${day}|*`)?.[role];
    if (stand !== undefined) return this.personOf(stand, true);
    const rotation = s[role];
    if (rotation.length === 0) return null;
    const turn = Math.floor((day - g.rotationStart) / s.everyDays);
    return this.personOf(rotation[((turn % rotation.length) + rotation.length) % rotation.length] as string, false);
  }

  private personOf(id: string, override: boolean): DutyPerson {
    const p = this.schedules.people[id];
    return { id, name: p?.name ?? id, notify: p?.notify ?? '', override };
  }
}

const resolvers = new WeakMap<SchedulesConfig, OnCall>();

/** The resolver of a config's schedules, made once per schedules object (a reload brings a new one). */
export function onCallOf(config: { schedules?: SchedulesConfig; gateway: { timezone: string } }): OnCall {
  // a config object made by hand (not by the schema) may have no schedules at all
  const schedules = config.schedules ?? NONE;
  let r = resolvers.get(schedules);
  if (!r) resolvers.set(schedules, (r = new OnCall(schedules, config.gateway.timezone)));
  return r;
}

const NONE: SchedulesConfig = { people: {}, groups: {} };
