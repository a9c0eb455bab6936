// @ts-check
// What the board shows, as pure functions of ticket JSON (contracts §Ticket JSON) and the time: no DOM here.
// Labels come from the gateway's locale (i18n.js). Tested under Node by model.test.ts.
import { t as tr, tOr } from './i18n.js';

/**
 * A ticket as the board gets it (contracts §Ticket JSON): from the list without `history`; the event stream's
 * carries the newest members, `membersTotal` and the history `events` it brings; an action's answer
 * has the whole `history`.
 * @typedef {import('../../model/ticket.ts').HistoryEvent & { index: number }} IndexedEvent
 * @typedef {import('../../model/ticket.ts').TicketDoc & { membersTotal?: number, events?: IndexedEvent[], history?: import('../../model/ticket.ts').HistoryEvent[] }} BoardTicket
 * @typedef {NonNullable<import('../../model/ticket.ts').Ticket['recurrence']>} Recurrence
 * @typedef {import('../../model/ticket.ts').Ticket['causes'][number]} Cause
 * @typedef {{ kind: string, text: string, title?: string }} Badge
 */

export const PRIORITIES = ['P0', 'P1', 'P2', 'P3'];
/** The states an operator still has to act on (the states shelving allows). */
export const BOARD_STATES = ['open', 'acknowledged', 'in_progress', 'waiting'];

/** @param {string} state */
export const stateLabel = (state) => tOr('state', state);

/** @param {string | null | undefined} iso */
const ms = (iso) => (iso ? Date.parse(iso) : NaN);

/** Shelved now (ISA-18.2): until `shelvedUntil`, which the gateway ends by itself. */
/** @param {BoardTicket} t @param {number} now */
export const isShelved = (t, now) => t.shelvedUntil != null && ms(t.shelvedUntil) > now;

/** On the board at all: a live state the operator acts on. */
/** @param {BoardTicket} t */
export const onBoard = (t) => BOARD_STATES.includes(t.state);

/**
 * The SLA clock that matters now: respondBy until someone acknowledges, then
 * resolveBy. `breached` when the deadline has passed or the gateway recorded
 * the breach (`breaches`, flag `sla-breached`).
 * @param {BoardTicket} t
 * @param {number} now
 * @returns {{ kind: 'respond' | 'resolve', due: number, left: number, breached: boolean, missed: boolean }}
 */
export function sla(t, now) {
  const kind = t.state === 'open' && !t.acknowledgedAt ? 'respond' : 'resolve';
  const due = ms(kind === 'respond' ? t.respondBy : t.resolveBy);
  const left = due - now;
  const breaches = t.breaches ?? [];
  return { kind, due, left, breached: left < 0 || breaches.includes(kind), missed: breaches.length > 0 || (t.flags ?? []).includes('sla-breached') };
}

/**
 * Priority first, then the earliest SLA deadline, then the oldest.
 * @param {BoardTicket} a
 * @param {BoardTicket} b
 * @param {number} now
 */
export function compareTickets(a, b, now) {
  const p = PRIORITIES.indexOf(a.priority) - PRIORITIES.indexOf(b.priority);
  if (p !== 0) return p;
  const d = sla(a, now).due - sla(b, now).due;
  if (d !== 0 && !Number.isNaN(d)) return d;
  return ms(a.openedAt) - ms(b.openedAt) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** @param {number} n */
const pad = (n) => String(n).padStart(2, '0');

/**
 * A countdown that ticks: `4:59` and `1:04:59` under a day, `3d 04h` beyond.
 * @param {number} msLeft
 */
export function countdown(msLeft) {
  const s = Math.floor(Math.abs(msLeft) / 1000);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const text = d > 0 ? `${d}${tr('unit.d')} ${pad(h)}${tr('unit.h')}` : h > 0 ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
  return msLeft < 0 ? `+${text}` : text;
}

/**
 * An age at a glance: `45s`, `12m`, `3h 05m`, `2d 4h`.
 * @param {number} msAgo
 */
export function age(msAgo) {
  const s = Math.max(0, Math.floor(msAgo / 1000));
  const [ud, uh, um, us] = ['unit.d', 'unit.h', 'unit.m', 'unit.s'].map((k) => tr(k));
  if (s < 60) return `${s}${us}`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}${um}`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}${uh} ${pad(m % 60)}${um}`;
  return `${Math.floor(h / 24)}${ud} ${h % 24}${uh}`;
}

/** "daily ~16:00", "weekly Mon ~16:00", "irregular ×5" (times are the gateway's local time). */
/** @param {Recurrence | null | undefined} r */
export function recurrenceLabel(r) {
  if (!r) return '';
  if (r.pattern === 'daily' && r.at) return tr('recurrence.daily', { at: r.at });
  if (r.pattern === 'weekly' && r.at) return tr('recurrence.weekly', { day: r.day ?? '', at: r.at }).replace('  ', ' ');
  return tr('recurrence.irregular', { count: r.count });
}

/** "feeder-3 voltage-sag 1m before (5/5)" */
/** @param {Cause} c */
export function causeLabel(c) {
  const lead = c.leadSeconds >= 60 ? `${Math.round(c.leadSeconds / 60)}${tr('unit.m')}` : `${c.leadSeconds}${tr('unit.s')}`;
  return tr('cause.label', { what: `${c.asset ? `${c.asset} ` : ''}${c.fault}`, lead, support: c.support, of: c.of });
}

/**
 * The early warning a row shows: the ticket's newest pending one, none while the ticket is shelved (shelving silences warnings).
 * @param {BoardTicket} t
 * @param {number} now
 * @returns {import('../../model/ticket.ts').Warning | null}
 */
export function pendingWarning(t, now) {
  if (isShelved(t, now)) return null;
  const list = t.warnings ?? [];
  for (let i = list.length - 1; i >= 0; i--) {
    const w = list[i];
    if (w && w.outcome === 'pending') return w;
  }
  return null;
}

/** "Early warning · feeder-3 voltage-sag, 5 of 5 times" */
/** @param {import('../../model/ticket.ts').Warning} w */
export function warningLabel(w) {
  const c = w.cause;
  const cause =
    'pattern' in c
      ? tr('warning.pattern', { pattern: tr(c.pattern === 'weekly' ? 'notify.weekly' : 'notify.daily') })
      : tr('warning.cause', { cause: `${c.asset ? `${c.asset} ` : ''}${c.fault}`, support: c.support, of: c.of });
  return tr('warning.banner', { cause });
}

/** How many alarms a flood ticket holds: stream messages carry the newest members and `membersTotal`. */
/** @param {BoardTicket} t */
export const memberCount = (t) => t.membersTotal ?? (t.members ?? []).length;

/**
 * The small labels of a row, in reading order; `kind` picks the colour.
 * @param {BoardTicket} t
 * @param {number} now
 * @param {(iso: string) => string} fmtTime
 * @returns {Badge[]}
 */
export function badges(t, now, fmtTime) {
  /** @type {Badge[]} */
  const out = [];
  const flags = t.flags ?? [];
  if (t.fault === 'alarm-flood' || flags.includes('flood')) out.push({ kind: 'flood', text: tr('badge.flood', { count: memberCount(t) }) });
  if (flags.includes('recurring') || t.recurrence) {
    const r = t.recurrence;
    out.push({ kind: 'recurring', text: `↻ ${recurrenceLabel(r) || tr('badge.recurring')}`, title: r ? episodes(r) : '' });
  }
  if (flags.includes('recurred-after-fix') && !['resolved', 'closed'].includes(t.state)) {
    const p = t.previous;
    out.push({ kind: 'recurred', text: tr('badge.recurred'), title: p ? tr('badge.recurredTitle', { resolution: p.resolution ?? '—', rootCause: p.rootCause ?? '—' }) : '' });
  }
  if (flags.includes('fix-verified')) out.push({ kind: 'verified', text: tr('badge.fixVerified') });
  if (flags.includes('chattering')) out.push({ kind: 'chattering', text: tr('badge.chattering') });
  if (t.escalationLevel > 0) out.push({ kind: 'escalated', text: tr('badge.escalated', { level: t.escalationLevel }) });
  if (sla(t, now).missed) out.push({ kind: 'breached', text: tr('badge.slaMissed') });
  if (isShelved(t, now)) out.push({ kind: 'shelved', text: tr('badge.shelvedUntil', { time: fmtTime(t.shelvedUntil ?? '') }), title: t.shelvedReason ?? '' });
  if (t.condition === 'cleared') out.push({ kind: 'cleared', text: tr('badge.cleared') });
  if (t.wait) out.push({ kind: 'waiting', text: `${tr('badge.waiting', { reason: tOr('wait', t.wait.reason) })}${t.wait.eta ? tr('badge.eta', { eta: t.wait.eta }) : ''}` });
  const cause = (t.causes ?? [])[0];
  if (cause) out.push({ kind: 'cause', text: tr('badge.cause', { cause: causeLabel(cause) }), title: tr('badge.causeSource', { source: tOr('cause', cause.source) }) });
  return out;
}

/** "5 episodes, spread ±3 min (gateway time)" */
/** @param {Recurrence} r */
export const episodes = (r) => `${tr('badge.episodes', { count: r.count })}${r.spreadMinutes != null ? tr('badge.spread', { minutes: r.spreadMinutes }) : ''}${tr('badge.gatewayTime')}`;

/** The ticket's own title when it says more than the default `<asset>: <fault>` (a rule's configured `title`); a flood's banner says it already. */
/** @param {BoardTicket} t */
export const ownTitle = (t) => (t.title && t.fault !== 'alarm-flood' && t.title !== `${t.asset ?? ''}: ${t.fault}` ? t.title : null);

/** A reading for people: numbers to 7 significant digits (a float32 register's 221.39999389648438 reads 221.4), with the unit when the signal named one (`196.4 V`). */
/** @param {unknown} v @param {string} [unit] */
export const fmtValue = (v, unit) => {
  const text = typeof v === 'number' && Number.isFinite(v) ? String(Number(v.toPrecision(7))) : JSON.stringify(v);
  return unit ? `${text} ${unit}` : text;
};

/**
 * The newest human-readable detail of a ticket: the latest evidence message, else its tag.
 * @param {Pick<BoardTicket, 'evidence'>} t
 */
export function latestDetail(t) {
  const ev = t.evidence ?? [];
  for (let i = ev.length - 1; i >= 0; i--) {
    const message = ev[i]?.message;
    if (message) return message;
  }
  const last = ev[ev.length - 1];
  return last ? `${last.tag} = ${fmtValue(last.value, last.unit)}` : '';
}

/**
 * The tickets the board knows, newest version wins: live updates, the
 * initial list and a reload after `reset` may arrive in any order.
 */
export class TicketBook {
  constructor() {
    /** @type {Map<string, BoardTicket>} */
    this.byId = new Map();
  }
  /**
   * Keeps `t` when it is newer than what we hold; says whether it changed anything.
   * @param {BoardTicket} t
   */
  upsert(t) {
    const had = this.byId.get(t.id);
    if (had && had.version >= t.version) return false;
    this.byId.set(t.id, t);
    return true;
  }
  /**
   * After a reload: the list is the truth, except versions that arrived live meanwhile.
   * @param {BoardTicket[]} list
   * @param {(id: string) => boolean} [keep] which tickets missing from the list to keep (ones the list cannot have yet)
   */
  replace(list, keep = () => false) {
    const next = new Map(list.map((t) => [t.id, t]));
    for (const [id, t] of this.byId) {
      const fresh = next.get(id);
      if ((fresh && fresh.version < t.version) || (!fresh && keep(id))) next.set(id, t);
    }
    this.byId = next;
  }
  /** @param {string} id */
  get(id) {
    return this.byId.get(id);
  }
  /**
   * The tickets on the board, split into the active list and the shelved list, each sorted.
   * @param {number} now
   */
  view(now) {
    const all = [...this.byId.values()].filter(onBoard).sort((a, b) => compareTickets(a, b, now));
    return { active: all.filter((t) => !isShelved(t, now)), shelved: all.filter((t) => isShelved(t, now)) };
  }
}

/**
 * Counts per priority of the active (unshelved) tickets, plus how many are unacknowledged.
 * @param {BoardTicket[]} active
 * @returns {Record<string, { total: number, unack: number }>}
 */
export function counts(active) {
  const c = Object.fromEntries(PRIORITIES.map((p) => [p, { total: 0, unack: 0 }]));
  for (const t of active) {
    const slot = c[t.priority];
    if (!slot) continue;
    slot.total++;
    if (t.state === 'open') slot.unack++;
  }
  return c;
}

/**
 * One banner per area with an active flood: the flood ticket and its first-out alarm.
 * @param {BoardTicket[]} active
 */
export function floods(active) {
  return active
    .filter((t) => t.fault === 'alarm-flood' && t.condition === 'active')
    .map((t) => ({ ticket: t, area: t.area ?? 'plant', members: memberCount(t), firstOut: t.firstOut }));
}
