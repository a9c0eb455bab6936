// @ts-check
// The ticket detail (click a row): facts, actions, probable causes, evidence, flood members,
// similar cases and history. Rebuilt on every live update except the actions, which keep typed text.
import { actionsKey, renderActions } from './actions.js';
import { historyNewest } from './api.js';
import { fill, fmtFull, fmtTime, h } from './dom.js';
import { t as tr, tOr } from './i18n.js';
import { badges, causeLabel, countdown, episodes, fmtValue, memberCount, ownTitle, recurrenceLabel, sla, stateLabel, warningLabel } from './model.js';

/** The detail shows this many of the newest history events (the whole history: GET /api/v1/tickets/{id}/history). */
const HISTORY_SHOWN = 100;

/** @typedef {import('./model.js').BoardTicket} BoardTicket */
/** @typedef {import('./model.js').IndexedEvent} IndexedEvent */
/** @typedef {import('./dom.js').Child} Child */
/**
 * The shown ticket's newest history events (newest first) and how far their loading got.
 * @typedef {{ id: string | null, events: IndexedEvent[], total: number, loading: boolean, error: string | null }} HistoryView
 */

/** @param {string} title @param {Child[]} body */
const section = (title, ...body) => h('section', { class: 'detail-section' }, h('h3', {}, title), ...body);

/**
 * @param {string[]} head
 * @param {{ cells: Child[], cls?: string | null }[]} rows
 * @param {string} [cls]
 */
const table = (head, rows, cls = '') =>
  h(
    'table',
    { class: `detail-table ${cls}` },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        head.map((x) => h('th', {}, x)),
      ),
    ),
    h(
      'tbody',
      {},
      rows.map((r) =>
        h(
          'tr',
          { class: r.cls ?? null },
          r.cells.map((c) => h('td', {}, c)),
        ),
      ),
    ),
  );

/** @param {string} k @param {string | null | undefined} v */
const fact = (k, v) => v != null && v !== '' && [h('dt', {}, k), h('dd', {}, v)];

/** History event fields other than at/action/by/actor, as "key: value" text (field names in the board's language). */
/** @param {IndexedEvent} e */
function eventDetail(e) {
  return Object.entries(e)
    .filter(([k]) => !['at', 'action', 'by', 'actor', 'actorName', 'index'].includes(k))
    .map(([k, v]) => `${tOr('field', k)}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' · ');
}

/** A record's fields as text: parts as "VS-2000 ×1", the rest "name: value" (nulls left out). */
/** @param {Record<string, unknown>} fields */
function recordText(fields) {
  return Object.entries(fields)
    .filter(([, v]) => v != null)
    .map(([k, v]) =>
      Array.isArray(v)
        ? v.map((i) => (i && typeof i === 'object' && 'materialNumber' in i ? `${String(i.materialNumber)} ×${String(i.quantity)}` : JSON.stringify(i))).join(', ')
        : `${tOr('field', k)}: ${typeof v === 'string' && /T\d\d:\d\d:\d\d/.test(v) ? fmtFull(v) : String(v)}`,
    )
    .join(' · ');
}

/**
 * The ticket's knowledge entry (given at resolve) and its records (parts requests, acceptances, ...).
 * @param {BoardTicket} t
 * @returns {HTMLElement[]}
 */
function knowledgeAndRecords(t) {
  const out = [];
  const k = t.knowledge;
  if (k) {
    out.push(
      section(
        tr('section.knowledge'),
        h(
          'dl',
          { class: 'facts knowledge' },
          fact(tr('fact.symptom'), k.symptom),
          fact(tr('fact.diagnosis'), k.diagnosis),
          fact(tr('fact.solution'), k.solution),
        ),
        k.labels.length > 0 && h('p', { class: 'labels' }, k.labels.map((l) => h('span', { class: 'label-chip' }, l))),
      ),
    );
  }
  const records = t.records ?? [];
  if (records.length) {
    out.push(
      section(
        tr('section.records', { count: records.length }),
        table(
          [tr('col.record'), tr('col.type'), tr('col.by'), tr('col.at'), tr('col.fields')],
          records.map((r) => ({
            cells: [r.id, tOr('record', r.type), r.by, fmtFull(r.updatedAt), recordText(r.fields)],
            cls: r.type === 'acceptance' && r.fields.result === 'passed' ? 'record-passed' : r.type === 'acceptance' ? 'record-failed' : null,
          })),
          'records',
        ),
      ),
    );
  }
  return out;
}

/**
 * @param {BoardTicket} t
 * @param {number} now
 * @param {HistoryView} history
 */
function body(t, now, history) {
  const s = sla(t, now);
  const r = t.recurrence;
  /** @type {HTMLElement[]} */
  const parts = [
    h(
      'dl',
      { class: 'facts' },
      fact(tr('fact.area'), [t.area, t.line].filter(Boolean).join(' · ')),
      fact(tr('fact.category'), t.category),
      fact(tr('fact.rule'), t.rule),
      fact(tr('fact.assigned'), [t.assignedGroup, t.assignee].filter(Boolean).join(' / ')),
      fact(tr('fact.opened'), fmtFull(t.openedAt)),
      fact(tr('fact.lastSeen'), `${fmtFull(t.lastSeen)} (×${t.occurrences})`),
      fact(tr('fact.respondBy'), fmtFull(t.respondBy)),
      fact(tr('fact.resolveBy'), fmtFull(t.resolveBy)),
      fact(tr('fact.slaNow'), `${tr(`sla.${s.kind}${s.left < 0 ? 'Overdue' : 'In'}`)} ${countdown(s.left)}`),
      fact(
        tr('fact.escalation'),
        t.escalationLevel
          ? `${tr('fact.escalationLevel', { level: t.escalationLevel })}${t.escalations?.length ? tr('fact.notified', { who: t.escalations.flatMap((e) => e.notified).join(', ') || tr('fact.nobody') }) : ''}`
          : null,
      ),
      fact(tr('fact.recurrence'), r ? `${recurrenceLabel(r)} — ${episodes(r)}` : null),
      fact(tr('fact.shelved'), t.shelvedUntil ? `${tr('fact.until', { time: fmtFull(t.shelvedUntil) })}${t.shelvedReason ? ` — ${t.shelvedReason}` : ''}` : null),
      fact(
        tr('fact.waiting'),
        t.wait ? `${tOr('wait', t.wait.reason)}${t.wait.partNumber ? tr('fact.part', { part: t.wait.partNumber }) : ''}${t.wait.eta ? tr('fact.waitEta', { eta: t.wait.eta }) : ''}` : null,
      ),
      fact(tr('fact.resolution'), t.resolution),
      fact(tr('fact.rootCause'), t.rootCause),
      fact(tr('fact.fixCheck'), t.verifyBy ? tr('fact.fixCheckUntil', { time: fmtFull(t.verifyBy) }) : null),
      fact(tr('fact.central'), t.central ? `${t.central.id} (v${t.central.syncedVersion})` : null),
    ),
  ];
  parts.push(...knowledgeAndRecords(t));
  const p = t.previous;
  if (p) {
    parts.push(
      section(
        tr(p.id === t.id ? 'section.previousSelf' : 'section.previousClosed'),
        h(
          'dl',
          { class: 'facts previous-fix' },
          fact(tr('fact.resolved'), p.resolvedAt ? fmtFull(p.resolvedAt) : null),
          fact(tr('fact.rootCause'), p.rootCause),
          fact(tr('fact.resolution'), p.resolution),
          fact(tr('fact.ticket'), p.id === t.id ? null : p.id),
        ),
      ),
    );
  }
  parts.push(
    section(
      tr('section.causes'),
      (t.causes ?? []).length
        ? table(
            [tr('col.cause'), tr('col.asset'), tr('col.support'), tr('col.lead'), tr('col.source')],
            t.causes.map((c) => ({
              cells: [c.fault, c.asset ?? '—', tr('col.supportOf', { support: c.support, of: c.of }), tr('col.leadBefore', { seconds: c.leadSeconds }), tOr('cause', c.source)],
              cls: `cause-${c.source}`,
            })),
          )
        : h('p', { class: 'muted' }, tr('section.noCauses')),
      (t.causes ?? []).length > 0 && h('p', { class: 'muted small' }, tr('section.mostLikely', { cause: causeLabel(/** @type {import('./model.js').Cause} */ (t.causes[0])) })),
    ),
  );
  if ((t.warnings ?? []).length) {
    // the newest first: what the ticket's causes foretold, and whether it came
    parts.push(
      section(
        tr('section.warnings', { count: t.warnings.length }),
        table(
          [tr('col.at'), tr('col.cause'), tr('col.expectedBy'), tr('col.outcome')],
          [...t.warnings].reverse().slice(0, 10).map((w) => ({
            cells: [
              fmtFull(w.at),
              warningLabel(w),
              fmtFull(w.expectedBy),
              w.outcome === 'confirmed' ? tr('warning.confirmedAfter', { seconds: w.actualLeadSeconds ?? 0 }) : tOr('warningOutcome', w.outcome),
            ],
            cls: `warning-${w.outcome}`,
          })),
        ),
      ),
    );
  }
  if ((t.members ?? []).length) {
    const first = t.firstOut;
    parts.push(
      section(
        t.members.length < memberCount(t)
          ? tr('section.membersSome', { count: memberCount(t), shown: t.members.length })
          : tr('section.members', { count: t.members.length }),
        first && h('p', { class: 'first-out' }, tr('section.firstOut'), h('strong', {}, `${first.asset ?? '—'} ${first.fault}`), tr('flood.at', { time: fmtFull(first.at) })),
        table(
          [tr('col.asset'), tr('col.fault'), tr('col.at')],
          t.members.map((m) => ({
            cells: [m.asset ?? '—', m.fault, fmtFull(m.at)],
            cls: first && m.at === first.at && m.fault === first.fault && m.asset === first.asset ? 'first' : null,
          })),
        ),
      ),
    );
  }
  parts.push(
    section(
      tr('section.evidence', { count: (t.evidence ?? []).length }),
      (t.evidence ?? []).length
        ? table(
            [tr('col.time'), tr('col.tag'), tr('col.value'), tr('col.message')],
            [...t.evidence].reverse().map((e) => ({
              cells: [fmtFull(e.ts), e.tag, fmtValue(e.value, e.unit), [e.message ?? '', e.severity ? tr('section.severity', { severity: e.severity }) : ''].join('')],
            })),
          )
        : h('p', { class: 'muted' }, tr('section.noEvidence')),
    ),
  );
  parts.push(
    section(
      tr('section.similar'),
      (t.similar ?? []).length
        ? table(
            [tr('col.ticket'), tr('col.fault'), tr('col.state'), tr('col.resolution'), tr('col.rootCause'), tr('col.solution'), tr('col.resolved')],
            t.similar.map((x) => ({
              cells: [
                `${x.asset ?? ''} ${x.id.slice(-8)}`,
                x.fault,
                tOr('stateName', x.state),
                x.resolution ?? '—',
                x.rootCause ?? '—',
                [x.solution ?? '—', ...(x.labels ?? []).map((l) => h('span', { class: 'label-chip' }, l))],
                fmtTime(x.resolvedAt),
              ],
            })),
          )
        : h('p', { class: 'muted' }, tr('section.noSimilar')),
    ),
  );
  const events = history.events;
  parts.push(
    section(
      history.loading && events.length === 0
        ? tr('section.historyLoading')
        : events.length < t.version
          ? tr('section.historySome', { count: t.version, shown: events.length })
          : tr('section.history', { count: events.length }),
      history.error ? h('p', { class: 'muted' }, tr('section.historyError', { error: history.error })) : null,
      h(
        'ol',
        { class: 'history', reversed: true },
        events.map((e) =>
          h(
            'li',
            { dataset: { index: String(e.index) } },
            h('time', {}, fmtFull(e.at)),
            h('span', { class: 'h-action', dataset: { action: e.action } }, tOr('action', e.action)),
            // Who they said they were, and (✓) the token or the person (name, subject in the tooltip) they were signed in as.
            h('span', { class: 'h-by' }, e.by, e.actor ? h('span', { class: 'h-actor', title: tr('section.signedInAs', { actor: e.actorName ? `${e.actorName} (${e.actor})` : e.actor }) }, ` ✓${e.actorName ?? e.actor}`) : null),
            h('span', { class: 'h-detail' }, eventDetail(e)),
          ),
        ),
      ),
    ),
  );
  return parts;
}

/**
 * The detail dialog; `show(id)` opens it, `update()` follows live changes of the shown ticket.
 * @param {HTMLDialogElement} dialog
 * @param {{
 *   book: import('./model.js').TicketBook,
 *   now: () => number,
 *   getConfig: () => import('./api.js').BoardConfig,
 *   onChanged: (ticket: BoardTicket) => void,
 *   signIn: () => void,
 * }} opts
 */
export function createDetail(dialog, { book, now, getConfig, onChanged, signIn }) {
  const head = /** @type {HTMLElement} */ (dialog.querySelector('.detail-head'));
  const actions = /** @type {HTMLElement} */ (dialog.querySelector('.detail-actions'));
  const main = /** @type {HTMLElement} */ (dialog.querySelector('.detail-body'));
  /** @type {string | null} */
  let id = null;
  /** @type {string | null} */
  let key = null;
  /** @type {BoardTicket | null} */
  let shown = null; // the ticket object on screen: rebuilt only when a newer version replaces it
  // The shown ticket's newest events (newest first), fetched when the dialog opens; live messages add theirs.
  // A client that falls behind gets a ticket's newest version only (the stream skips versions then): when
  // the newest events shown are not the ticket's last ones without a hole, the newest page is fetched again
  // (one fetch at a time, and only for a version newer than the last page's total: no loop).
  /** @type {HistoryView} */
  let history = { id: null, events: [], total: 0, loading: false, error: null };
  /** @param {string} ticketId @param {boolean} [keep] */
  const loadHistory = async (ticketId, keep = false) => {
    const kept = keep && history.id === ticketId ? history : { events: [], total: 0 };
    history = { id: ticketId, events: kept.events, total: kept.total, loading: true, error: null };
    try {
      const page = await historyNewest(ticketId, HISTORY_SHOWN);
      if (history.id !== ticketId) return;
      history = { id: ticketId, events: merge(page.items, history.events), total: page.total, loading: false, error: null };
    } catch (e) {
      if (history.id !== ticketId) return;
      history = { ...history, loading: false, error: e instanceof Error ? e.message : String(e) };
    }
    if (id === ticketId) render();
  };
  /** Whether `events` (newest first) are the ticket's newest ones, without a hole. */
  /** @param {IndexedEvent[]} events @param {number} version */
  const complete = (events, version) =>
    events.length === Math.min(HISTORY_SHOWN, version) && events[0]?.index === version - 1 && events.at(-1)?.index === version - events.length;
  /** Newest first, one per index, at most HISTORY_SHOWN. */
  /** @param {IndexedEvent[]} a @param {IndexedEvent[]} b */
  const merge = (a, b) => {
    const byIndex = new Map([...a, ...b].map((e) => [e.index, e]));
    return [...byIndex.values()].sort((x, y) => y.index - x.index).slice(0, HISTORY_SHOWN);
  };
  /** The events a ticket version brings: a stream message's `events`; an action's answer (the whole ticket) its history's tail. */
  /**
   * @param {BoardTicket} t
   * @returns {IndexedEvent[]}
   */
  const eventsOf = (t) => {
    if (t.events) return t.events;
    if (!Array.isArray(t.history)) return [];
    const from = Math.max(0, t.history.length - HISTORY_SHOWN);
    return t.history.slice(from).map((e, i) => ({ ...e, index: from + i }));
  };

  const render = () => {
    const t = id === null ? undefined : book.get(id);
    if (!t || id === null) return;
    if (history.id === id) {
      const brought = t !== shown ? eventsOf(t) : [];
      if (brought.length) history = { ...history, events: merge(brought, history.events) };
      if (!history.loading && !history.error && t.version > history.total && !complete(history.events, t.version)) loadHistory(id, true);
    }
    shown = t;
    const at = now();
    dialog.className = `detail prio-${t.priority.toLowerCase()}`;
    fill(
      head,
      h('span', { class: 'prio-chip' }, t.priority),
      h(
        'div',
        { class: 'detail-title' },
        h('h2', {}, t.asset ?? t.area ?? '—', ' ', h('span', { class: 'fault' }, t.fault)),
        ownTitle(t) && h('p', { class: 'ticket-title' }, ownTitle(t)),
        h(
          'div',
          { class: 'badges' },
          badges(t, at, fmtTime).map((b) => h('span', { class: `badge b-${b.kind}` }, b.text)),
        ),
      ),
      h('span', { class: `pill state-${t.state}`, dataset: { state: t.state } }, stateLabel(t.state)),
      h('button', { type: 'button', class: 'close', 'aria-label': tr('detail.close'), onclick: () => dialog.close() }, '×'),
    );
    const k = actionsKey(t, at);
    if (k !== key) {
      key = k;
      renderActions(actions, t, { now: at, config: getConfig(), signIn, done: (ticket) => ticket && onChanged(ticket) });
    }
    fill(main, body(t, at, history));
  };

  dialog.addEventListener('close', () => {
    id = null;
    key = null;
  });
  return {
    /** @param {string} ticketId */
    show(ticketId) {
      id = ticketId;
      key = null;
      shown = null;
      loadHistory(ticketId);
      render();
      if (!dialog.open) dialog.showModal();
    },
    /** Re-renders when the shown ticket has a new version, or always with `force` (the token changed). */
    update(force = false) {
      if (id && (force || book.get(id) !== shown)) render();
    },
    get id() {
      return id;
    },
  };
}
