// @ts-check
// The board's list: one row per ticket, flood banners, priority counts. Text only through dom.js.
import { fill, fmtTime, fmtTimeSec, h } from './dom.js';
import { t as tr } from './i18n.js';
import { PRIORITIES, age, badges, countdown, counts, floods, latestDetail, ownTitle, pendingWarning, sla, stateLabel, warningLabel } from './model.js';

/**
 * Renders the rows and returns the tickers: what must change each second
 * (age, SLA countdown, breach colour) without rebuilding the list.
 * @param {Element} container
 * @param {import('./model.js').BoardTicket[]} tickets
 * @param {number} now
 * @param {{ onOpen: (id: string) => void, compact?: boolean, fresh?: Set<string> }} opts
 * @returns {((at: number) => void)[]}
 */
export function renderRows(container, tickets, now, { onOpen, compact = false, fresh = new Set() }) {
  /** @type {((at: number) => void)[]} */
  const tickers = [];
  const rows = tickets.map((t) => {
    const ageVal = h('span', { class: 'val' });
    const slaVal = h('span', { class: 'val' });
    const slaLabel = h('span', { class: 'label' });
    const slaCell = h('div', { class: 'cell sla' }, slaLabel, slaVal);
    // An early warning: a banner on the row counting down to its expectedBy (gone with the version that settles it).
    const warning = pendingWarning(t, now);
    const warnLeft = h('span', { class: 'warn-left' });
    const banner = warning && h('div', { class: 'warn-banner', role: 'status', dataset: { warning: warning.id } }, h('span', { class: 'warn-text' }, warningLabel(warning)), h('span', { class: 'warn-in' }, tr('warning.in')), warnLeft);
    /** @param {number} at */
    const tick = (at) => {
      ageVal.textContent = age(at - Date.parse(t.openedAt));
      const s = sla(t, at);
      slaLabel.textContent = tr(`sla.${s.kind}${s.left < 0 ? 'Overdue' : 'In'}`);
      slaVal.textContent = countdown(s.left);
      slaCell.classList.toggle('breached', s.breached);
      slaCell.classList.toggle('soon', !s.breached && s.left < 5 * 60_000);
      if (warning) {
        const left = Date.parse(warning.expectedBy) - at;
        warnLeft.textContent = left > 0 ? countdown(left) : tr('warning.due');
      }
    };
    tick(now);
    tickers.push(tick);
    const where = [t.area, t.line].filter(Boolean).join(' · ');
    const row = h(
      'div',
      {
        class: `row prio-${t.priority.toLowerCase()} state-${t.state}${t.state === 'open' ? ' unack' : ''}${compact ? ' compact' : ''}${fresh.has(t.id) ? ' fresh' : ''}`,
        role: 'row',
        tabindex: 0,
        dataset: { id: t.id, state: t.state },
        onclick: () => onOpen(t.id),
        /** @param {KeyboardEvent} e */
        onkeydown: (e) => {
          if (e.key !== 'Enter' && e.key !== ' ') return;
          e.preventDefault();
          onOpen(t.id);
        },
      },
      h('div', { class: 'cell prio', role: 'cell' }, t.priority),
      h(
        'div',
        { class: 'cell what', role: 'cell' },
        h('div', { class: 'line1' }, h('span', { class: 'asset' }, t.asset ?? t.area ?? '—'), h('span', { class: 'fault' }, t.fault)),
        h(
          'div',
          { class: 'line2' },
          where && h('span', { class: 'where' }, where),
          ownTitle(t) && h('span', { class: 'title' }, ownTitle(t)),
          h('span', { class: 'msg' }, latestDetail(t)),
        ),
        h(
          'div',
          { class: 'badges' },
          badges(t, now, fmtTime).map((b) => h('span', { class: `badge b-${b.kind}`, title: b.title || null }, b.text)),
        ),
        banner,
      ),
      h(
        'div',
        { class: 'cell state', role: 'cell' },
        h('span', { class: 'pill' }, stateLabel(t.state)),
        h('span', { class: 'occ', title: tr('row.occurrences') }, `×${t.occurrences}`),
      ),
      h('div', { class: 'cell age', role: 'cell' }, h('span', { class: 'label' }, tr('row.age')), ageVal),
      slaCell,
    );
    return row;
  });
  fill(container, rows);
  return tickers;
}

/**
 * One banner per area in flood, naming the first-out alarm (where to start looking).
 * @param {HTMLElement} container
 * @param {import('./model.js').BoardTicket[]} active
 * @param {{ onOpen: (id: string) => void }} opts
 */
export function renderFloods(container, active, { onOpen }) {
  const list = floods(active);
  container.hidden = list.length === 0;
  fill(
    container,
    list.map((f) =>
      h(
        'button',
        { class: 'flood', type: 'button', dataset: { id: f.ticket.id }, onclick: () => onOpen(f.ticket.id) },
        h('span', { class: 'flood-title' }, tr('flood.title', { area: f.area })),
        h('span', { class: 'flood-count' }, tr('flood.count', { count: f.members, time: fmtTimeSec(f.ticket.firstSeen) })),
        f.firstOut &&
          h(
            'span',
            { class: 'flood-first' },
            tr('flood.firstOut'),
            h('strong', {}, `${f.firstOut.asset ?? '—'} ${f.firstOut.fault}`),
            tr('flood.at', { time: fmtTimeSec(f.firstOut.at) }),
          ),
      ),
    ),
  );
}

/**
 * The header's count per priority; a priority with unacknowledged tickets is lit.
 * @param {Element} container
 * @param {import('./model.js').BoardTicket[]} active
 * @param {number} shelvedCount
 */
export function renderCounts(container, active, shelvedCount) {
  const c = counts(active);
  fill(
    container,
    PRIORITIES.map((p) => {
      const n = c[p] ?? { total: 0, unack: 0 };
      return h(
        'span',
        {
          class: `count prio-${p.toLowerCase()}${n.total ? '' : ' zero'}${n.unack ? ' lit' : ''}`,
          title: tr('counts.title', { total: n.total, priority: p, unack: n.unack }),
          dataset: { priority: p },
        },
        h('span', { class: 'count-p' }, p),
        h('span', { class: 'count-n' }, String(n.total)),
      );
    }),
    shelvedCount > 0 &&
      h(
        'span',
        { class: 'count shelved', title: tr('counts.shelvedTitle') },
        h('span', { class: 'count-p' }, tr('counts.shelved')),
        h('span', { class: 'count-n' }, String(shelvedCount)),
      ),
  );
}
