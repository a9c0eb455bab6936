// @ts-check
// Operator actions on one ticket: acknowledge, resolve, close (with the configured checklist),
// comment, shelve / unshelve. Needs an operator token.
import { comment, signedIn, transition } from './api.js';
import { fill, fmtTime, h } from './dom.js';
import { t as tr } from './i18n.js';
import { isShelved } from './model.js';

/** @typedef {import('./model.js').BoardTicket} BoardTicket */
/** @typedef {{ value: string, seconds: number, max?: boolean }} ShelveOption */
/** @typedef {{ code?: string, message?: string }} Shown */
/** @typedef {(buttons: HTMLButtonElement[], fn: () => Promise<BoardTicket>) => () => Promise<void>} Run */

/** @type {[string, number][]} */
const DURATIONS = [
  ['15m', 900],
  ['30m', 1800],
  ['1h', 3600],
  ['2h', 7200],
  ['4h', 14400],
  ['8h', 28800],
  ['12h', 43200],
  ['1d', 86400],
  ['3d', 259200],
  ['7d', 604800],
];

/**
 * The shelving durations the gateway allows (config shelving.maxDuration), longest included.
 * @param {number} maxSeconds
 */
export function shelveOptions(maxSeconds) {
  /** @type {ShelveOption[]} */
  const opts = DURATIONS.filter(([, s]) => s <= maxSeconds).map(([d, s]) => ({ value: d, seconds: s }));
  if (!opts.some((o) => o.seconds === maxSeconds) && maxSeconds > 0)
    opts.push({ value: `${maxSeconds}s`, seconds: maxSeconds, max: true });
  return opts;
}

/** "30 min", "2 h", "1 day", "3 days", "max (90 min)" in the board's language. */
/** @param {ShelveOption} o */
const label = (o) => {
  if (o.max) return tr('act.max', { n: Math.round(o.seconds / 60) });
  const n = Number.parseInt(o.value, 10);
  if (o.value.endsWith('m')) return tr('act.minutes', { n });
  if (o.value.endsWith('h')) return tr('act.hours', { n });
  return n === 1 ? tr('act.day') : tr('act.days', { n });
};

/** States resolve is allowed from (gateway/tickets/lifecycle.ts). */
const RESOLVABLE = ['open', 'acknowledged', 'in_progress'];

/** What changes which buttons are shown: rebuilt only then, so typed text survives live updates. */
/** @param {BoardTicket} t @param {number} now */
export const actionsKey = (t, now) => `${t.id}|${t.state}|${isShelved(t, now)}|${signedIn() ? 'op' : 'ro'}`;

/**
 * The actions panel of the detail view. `done(ticket)` gets the ticket the
 * API answered with; errors ({ code, message }) are shown in the panel.
 * @param {Element} container
 * @param {BoardTicket} t
 * @param {{ now: number, config: import('./api.js').BoardConfig, done: (ticket: BoardTicket) => void, signIn: () => void }} opts
 */
export function renderActions(container, t, { now, config, done, signIn }) {
  const error = h('div', { class: 'action-error', role: 'alert', hidden: true });
  /** @param {unknown} err */
  const show = (err) => {
    const e = /** @type {Shown} */ (err);
    error.hidden = false;
    fill(error, h('strong', {}, e.code ?? 'ERROR'), ' ', e.message ?? String(err));
  };
  /** @type {Run} */
  const run = (buttons, fn) => async () => {
    error.hidden = true;
    for (const b of buttons) b.disabled = true;
    try {
      done(await fn());
    } catch (err) {
      show(err);
    } finally {
      for (const b of buttons) b.disabled = false;
    }
  };

  if (!signedIn()) {
    fill(
      container,
      h(
        'div',
        { class: 'readonly-note' },
        tr('act.readOnly'),
        h('button', { type: 'button', class: 'link', onclick: signIn }, tr('act.enterToken')),
        tr('act.readOnlyTail'),
      ),
    );
    return;
  }

  /** @type {HTMLElement[]} */
  const parts = [];
  if (t.state === 'open') {
    const ack = h('button', { type: 'button', class: 'btn primary', dataset: { action: 'ack' } }, tr('act.ack'));
    ack.addEventListener(
      'click',
      run([ack], () => transition(t.id, { action: 'ack' })),
    );
    parts.push(h('div', { class: 'action-row' }, ack));
  }

  if (RESOLVABLE.includes(t.state)) parts.push(resolveForm(t, config.knowledgeLabels ?? [], run, show));
  if (t.state === 'resolved') parts.push(closeForm(t, config.closeChecklist ?? [], run, show));

  if (!['open', 'acknowledged', 'in_progress', 'waiting'].includes(t.state)) {
    // resolved, closed, merged: nothing to shelve
  } else if (isShelved(t, now)) {
    const un = h('button', { type: 'button', class: 'btn', dataset: { action: 'unshelve' } }, tr('act.unshelve'));
    un.addEventListener(
      'click',
      run([un], () => transition(t.id, { action: 'unshelve' })),
    );
    parts.push(
      h(
        'div',
        { class: 'action-row' },
        h('span', { class: 'shelved-note' }, `${tr('act.shelvedUntil', { time: fmtTime(t.shelvedUntil) })}${t.shelvedReason ? ` — ${t.shelvedReason}` : ''}`),
        un,
      ),
    );
  } else {
    const options = shelveOptions(config.shelvingMaxSeconds);
    const reason = h('input', {
      type: 'text',
      name: 'reason',
      maxlength: 200,
      required: true,
      placeholder: tr('act.shelveReason'),
      list: 'shelve-reasons',
      'aria-label': tr('act.shelveReasonAria'),
    });
    const duration = h(
      'select',
      { name: 'duration', 'aria-label': tr('act.shelveDurationAria') },
      options.map((o) => h('option', { value: o.value }, label(o))),
    );
    const btn = h('button', { type: 'submit', class: 'btn', dataset: { action: 'shelve' } }, tr('act.shelve'));
    const form = h('form', { class: 'action-row shelve-form' }, reason, duration, btn);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      if (!reason.value.trim()) return show({ code: 'REASON_REQUIRED', message: tr('act.shelveNeedsReason') });
      run([btn], () => transition(t.id, { action: 'shelve', reason: reason.value.trim(), duration: duration.value }))();
    });
    if (options.length === 0) btn.disabled = true;
    parts.push(form);
  }

  const text = h('textarea', { name: 'comment', rows: 2, maxlength: 4000, placeholder: tr('act.comment'), 'aria-label': tr('act.comment') });
  const add = h('button', { type: 'submit', class: 'btn', dataset: { action: 'comment' } }, tr('act.addComment'));
  const cform = h('form', { class: 'action-row comment-form' }, text, add);
  cform.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!text.value.trim()) return;
    run([add], async () => {
      const res = await comment(t.id, text.value.trim());
      text.value = '';
      return res;
    })();
  });
  parts.push(cform);

  fill(
    container,
    parts,
    error,
    h(
      'datalist',
      { id: 'shelve-reasons' },
      ['reason.maintenance', 'reason.nuisance', 'reason.instrument', 'reason.upset'].map((k) => h('option', { value: tr(k) })),
    ),
  );
}

/**
 * Resolve: what was done and the root cause, both required (POST transitions { action: resolve, resolution, rootCause }),
 * and optionally the knowledge entry (symptom, diagnosis, solution, labels of knowledge.labels).
 * @param {BoardTicket} t
 * @param {string[]} labels
 * @param {Run} run
 * @param {(err: Shown) => void} show
 */
function resolveForm(t, labels, run, show) {
  const resolution = h('textarea', { name: 'resolution', rows: 2, maxlength: 4000, placeholder: tr('act.resolution'), 'aria-label': tr('act.resolution') });
  const rootCause = h('input', { type: 'text', name: 'rootCause', maxlength: 4000, placeholder: tr('act.rootCause'), 'aria-label': tr('act.rootCause') });
  /** @param {string} name */
  const entryField = (name) => h('input', { type: 'text', name, maxlength: 4000, placeholder: tr(`fact.${name}`), 'aria-label': tr(`fact.${name}`) });
  const entry = { symptom: entryField('symptom'), diagnosis: entryField('diagnosis'), solution: entryField('solution') };
  const picks = labels.map((l) => h('label', { class: 'label-pick' }, h('input', { type: 'checkbox', name: 'label', value: l }), l));
  const btn = h('button', { type: 'submit', class: 'btn', dataset: { action: 'resolve' } }, tr('act.resolve'));
  const knowledge = h('details', { class: 'knowledge-entry' }, h('summary', {}, tr('section.knowledge')), entry.symptom, entry.diagnosis, entry.solution, picks);
  const form = h('form', { class: 'action-row resolve-form' }, resolution, rootCause, btn, knowledge);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!resolution.value.trim() || !rootCause.value.trim()) return show({ code: 'ANDON_TICKET_FIELD_REQUIRED', message: tr('act.resolveNeeds') });
    /** @type {Record<string, unknown>} */
    const given = Object.fromEntries(Object.entries(entry).flatMap(([k, el]) => (el.value.trim() ? [[k, el.value.trim()]] : [])));
    const chosen = [...form.querySelectorAll('input[name="label"]:checked')].map((el) => /** @type {HTMLInputElement} */ (el).value);
    if (chosen.length > 0) given.labels = chosen;
    const body = { action: 'resolve', resolution: resolution.value.trim(), rootCause: rootCause.value.trim(), ...(Object.keys(given).length > 0 ? { knowledge: given } : {}) };
    run([btn], () => transition(t.id, body))();
  });
  return form;
}

/**
 * Close: one checkbox per item of the gateway's close checklist (config lifecycle.closeChecklist,
 * from the board config); the button stays disabled until every item is ticked.
 * @param {BoardTicket} t
 * @param {{ id: string, label: string }[]} items
 * @param {Run} run
 * @param {(err: Shown) => void} show
 */
function closeForm(t, items, run, show) {
  const boxes = items.map((item) => h('input', { type: 'checkbox', name: item.id, dataset: { item: item.id } }));
  const btn = h('button', { type: 'submit', class: 'btn primary', dataset: { action: 'close' }, disabled: items.length > 0 }, tr('act.close'));
  const sync = () => {
    btn.disabled = !boxes.every((b) => b.checked);
  };
  for (const b of boxes) b.addEventListener('change', sync);
  const form = h(
    'form',
    { class: 'action-row close-form' },
    items.length > 0 && h('span', { class: 'checklist-head' }, tr('act.checklist')),
    h(
      'div',
      { class: 'checklist' },
      items.map((item, i) => h('label', { class: 'check' }, boxes[i], ' ', item.label)),
    ),
    btn,
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!boxes.every((b) => b.checked)) return show({ code: 'ANDON_TICKET_FIELD_REQUIRED', message: tr('act.closeNeeds') });
    const checklist = Object.fromEntries(items.map((item) => [item.id, true]));
    run([btn], () => transition(t.id, { action: 'close', checklist }))().finally(sync);
  });
  return form;
}
