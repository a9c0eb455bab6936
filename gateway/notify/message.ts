import { translator, type Locale } from '../i18n.ts';
import type { NotificationKind } from '../store/notifications.ts';
import { withUnit } from '../../connectors/values.ts';
import type { HistoryEvent, Ticket } from '../../model/ticket.ts';

/** Everything a format needs for one message: the notification, the ticket as it is now, and where the board is. */
export interface NotificationMessage {
  /** The queue row id: the same on every attempt (receivers can dedupe by it). */
  id: number;
  channel: string;
  kind: NotificationKind;
  /** The history event that caused the notification. */
  event: HistoryEvent;
  /** The ticket now (contracts §Ticket JSON), with its history. */
  ticket: Ticket;
  /** `gateway.publicUrl`, or null: then messages carry no link. */
  publicUrl: string | null;
  /** `gateway.timezone`: times in messages are local to the plant. */
  timezone: string;
  /** `gateway.locale`: the language of the message's texts (default en); plant text stays as it is. */
  locale?: Locale;
}

/** The human content every format renders: a headline, the ticket's title, an optional detail, facts and a link. */
export interface Summary {
  /** "[P1] New ticket: sealer-01: alarm-stop" */
  headline: string;
  priority: Ticket['priority'];
  /** The ticket's title. */
  title: string;
  /** The newest evidence's message (e.g. an OPC UA alarm text), when there is one. */
  detail: string | null;
  /** Label and value, in display order (priority, asset, fault, area, state, SLA deadline, escalation level, ...). */
  facts: [string, string][];
  /** The ticket on the board, when `gateway.publicUrl` is set. */
  link: string | null;
}

/** One line of at most `max` characters: plant text (titles, alarm messages) must not break a message's layout. */
export const oneLine = (s: string, max = 200): string => {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

/** `2026-01-20 16:31 GMT+8`: a time as people at the plant read it. */
export function localTime(iso: string, timezone: string): string {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: timezone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    timeZoneName: 'shortOffset',
  }).formatToParts(new Date(iso));
  const p = (type: Intl.DateTimeFormatPartTypes) => parts.find((x) => x.type === type)?.value ?? '';
  return `${p('year')}-${p('month')}-${p('day')} ${p('hour')}:${p('minute')} ${p('timeZoneName')}`;
}

/** The ticket's page on the board (the board reads `?ticket=<id>`). */
export const boardLink = (publicUrl: string, ticketId: string): string => `${publicUrl.replace(/\/+$/, '')}/?ticket=${encodeURIComponent(ticketId)}`;

/** The translator of a message's locale. */
export const textsOf = (m: Pick<NotificationMessage, 'locale'>) => translator(m.locale ?? 'en');

const what = (m: NotificationMessage): string => {
  const tr = textsOf(m);
  if (m.kind === 'opened') return tr('notify.opened');
  if (m.kind === 'raised') return tr('notify.raised', { priority: m.ticket.priority });
  if (m.kind === 'reopened') return tr('notify.reopened');
  if (m.kind === 'warning') return tr('notify.warned');
  return tr('notify.escalated', { level: typeof m.event.level === 'number' ? m.event.level : m.ticket.escalationLevel });
};

/** The SLA deadline that matters now: respond-by until someone acknowledges, then resolve-by. */
function deadline(t: Ticket, m: NotificationMessage): [string, string] {
  const tr = textsOf(m);
  const respond = t.state === 'open';
  const kind = respond ? 'respond' : 'resolve';
  const at = localTime(respond ? t.respondBy : t.resolveBy, m.timezone);
  return [tr(respond ? 'notify.respondBy' : 'notify.resolveBy'), t.breaches.includes(kind) ? tr('notify.missed', { time: at }) : at];
}

/**
 * The newest reading as people read it, `utilities/feeder-3/voltage = 196.4 V`: when the newest evidence
 * is a number or names its unit (an alarm's `true` says nothing the fault does not).
 */
function readingOf(t: Ticket, label: string): [string, string] | undefined {
  const e = t.evidence.at(-1);
  if (!e || (typeof e.value !== 'number' && e.unit === undefined)) return undefined;
  return [label, `${e.tag} = ${withUnit(e.value, e.unit)}`];
}

/** `65 s`, `15 min`: a lead as people read it. */
const leadText = (m: NotificationMessage, seconds: number) => {
  const tr = textsOf(m);
  return seconds < 120 ? tr('notify.seconds', { n: Math.round(seconds) }) : tr('notify.minutes', { n: Math.round(seconds / 60) });
};

/**
 * An early warning's sentence: "sealer-01: alarm-stop is likely within ~65 s: feeder-3 voltage-sag, 5 of 5 times",
 * or, from the recurrence pattern, "... is likely within ~15 min: it recurs daily around 16:00".
 */
export function warningText(m: NotificationMessage): string {
  const tr = textsOf(m);
  const t = m.ticket;
  const cause = (m.event.cause ?? {}) as { asset?: string | null; fault?: string; support?: number; of?: number; pattern?: string };
  const lead = leadText(m, typeof m.event.leadSeconds === 'number' ? m.event.leadSeconds : 0);
  if (cause.pattern !== undefined) {
    const at = t.recurrence?.at ?? '';
    return tr('notify.warningPattern', { what: t.title, lead, pattern: tr(cause.pattern === 'weekly' ? 'notify.weekly' : 'notify.daily'), at });
  }
  return tr('notify.warning', { what: t.title, lead, cause: [cause.asset, cause.fault].filter((x) => typeof x === 'string').join(' '), support: cause.support ?? 0, of: cause.of ?? 0 });
}

/** The content of a notification, independent of the receiver's format. */
export function summarize(m: NotificationMessage): Summary {
  const t = m.ticket;
  const detail = [...t.evidence].reverse().find((e) => typeof e.message === 'string' && e.message.trim() !== '')?.message;
  const tr = textsOf(m);
  const reading = readingOf(t, tr('notify.reading'));
  const facts: [string, string][] = [
    [tr('notify.priority'), t.priority],
    [tr('notify.asset'), t.asset ?? '-'],
    [tr('notify.fault'), t.fault],
    ...(reading ? [reading] : []),
    [tr('notify.area'), t.area ?? '-'],
    [tr('notify.state'), tr(`stateName.${t.state}`)],
    deadline(t, m),
    [tr('notify.escalationLevel'), String(t.escalationLevel)],
    [tr('notify.assignedTo'), t.assignee ?? t.assignedGroup ?? '-'],
    [tr('notify.occurrences'), String(t.occurrences)],
  ];
  if (m.kind === 'warning' && typeof m.event.expectedBy === 'string') facts.splice(3, 0, [tr('notify.expectedBy'), localTime(m.event.expectedBy, m.timezone)]);
  return {
    headline: oneLine(m.kind === 'warning' ? `[${t.priority}] ${what(m)}: ${warningText(m)}` : `[${t.priority}] ${what(m)}: ${t.title}`),
    priority: t.priority,
    title: oneLine(t.title),
    detail: detail === undefined ? null : oneLine(detail, 500),
    facts: facts.map(([k, v]) => [k, oneLine(v, 120)]),
    link: m.publicUrl ? boardLink(m.publicUrl, t.id) : null,
  };
}
