// Operator actions on one ticket: acknowledge, comment, shelve / unshelve. Needs an operator token.
import { comment, token, transition } from './api.js';
import { fill, fmtTime, h } from './dom.js';
import { isShelved } from './model.js';

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

/** The shelving durations the gateway allows (config shelving.maxDuration), longest included. */
export function shelveOptions(maxSeconds) {
  const opts = DURATIONS.filter(([, s]) => s <= maxSeconds).map(([d, s]) => ({ value: d, seconds: s }));
  if (!opts.some((o) => o.seconds === maxSeconds) && maxSeconds > 0)
    opts.push({ value: `${maxSeconds}s`, seconds: maxSeconds, label: `max (${Math.round(maxSeconds / 60)}m)` });
  return opts;
}

const label = (o) =>
  o.label ??
  o.value
    .replace('m', ' min')
    .replace('h', ' h')
    .replace('d', ' days')
    .replace(/^1 days$/, '1 day');

/** What changes which buttons are shown: rebuilt only then, so typed text survives live updates. */
export const actionsKey = (t, now) => `${t.id}|${t.state}|${isShelved(t, now)}|${token.get() ? 'op' : 'ro'}`;

/**
 * The actions panel of the detail view. `done(ticket)` gets the ticket the
 * API answered with; errors ({ code, message }) are shown in the panel.
 */
export function renderActions(container, t, { now, config, done, signIn }) {
  const error = h('div', { class: 'action-error', role: 'alert', hidden: true });
  const show = (err) => {
    error.hidden = false;
    fill(error, h('strong', {}, err.code ?? 'ERROR'), ' ', err.message ?? String(err));
  };
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

  if (!token.get()) {
    fill(
      container,
      h(
        'div',
        { class: 'readonly-note' },
        'Read-only. ',
        h('button', { type: 'button', class: 'link', onclick: signIn }, 'Enter an operator token'),
        ' to acknowledge, comment or shelve.',
      ),
    );
    return;
  }

  const parts = [];
  if (t.state === 'open') {
    const ack = h('button', { type: 'button', class: 'btn primary', dataset: { action: 'ack' } }, 'Acknowledge');
    ack.addEventListener(
      'click',
      run([ack], () => transition(t.id, { action: 'ack' })),
    );
    parts.push(h('div', { class: 'action-row' }, ack));
  }

  if (isShelved(t, now)) {
    const un = h('button', { type: 'button', class: 'btn', dataset: { action: 'unshelve' } }, 'Unshelve');
    un.addEventListener(
      'click',
      run([un], () => transition(t.id, { action: 'unshelve' })),
    );
    parts.push(
      h(
        'div',
        { class: 'action-row' },
        h('span', { class: 'shelved-note' }, `Shelved until ${fmtTime(t.shelvedUntil)}${t.shelvedReason ? ` — ${t.shelvedReason}` : ''}`),
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
      placeholder: 'reason (e.g. maintenance in progress)',
      list: 'shelve-reasons',
      'aria-label': 'shelve reason',
    });
    const duration = h(
      'select',
      { name: 'duration', 'aria-label': 'shelve duration' },
      options.map((o) => h('option', { value: o.value }, label(o))),
    );
    const btn = h('button', { type: 'submit', class: 'btn', dataset: { action: 'shelve' } }, 'Shelve');
    const form = h('form', { class: 'action-row shelve-form' }, reason, duration, btn);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      if (!reason.value.trim()) return show({ code: 'REASON_REQUIRED', message: 'shelving needs a reason' });
      run([btn], () => transition(t.id, { action: 'shelve', reason: reason.value.trim(), duration: duration.value }))();
    });
    if (options.length === 0) btn.disabled = true;
    parts.push(form);
  }

  const text = h('textarea', { name: 'comment', rows: 2, maxlength: 4000, placeholder: 'comment', 'aria-label': 'comment' });
  const add = h('button', { type: 'submit', class: 'btn', dataset: { action: 'comment' } }, 'Add comment');
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
      ['maintenance in progress', 'known nuisance alarm', 'instrument fault, work order raised', 'process upset, handled'].map((r) =>
        h('option', { value: r }),
      ),
    ),
  );
}
