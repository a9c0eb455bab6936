// @ts-check
// DOM building without innerHTML: every string becomes a text node, so ticket text
// (which comes from plant messages) can never become markup.

/** What h() and fill() take as children: nodes, text (numbers too), nothing (null, undefined, false) and lists of these. */
/** @typedef {Node | string | number | boolean | null | undefined | ChildList} Child */
/** @typedef {Array<Child>} ChildList */

/**
 * h('div', { class: 'row', onclick: fn, dataset: { id } }, 'text', child, [more]) -> Element.
 * Attributes are set with setAttribute (never `on*` strings): functions become listeners.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, any> | null} [attrs]
 * @param {Child[]} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v == null || v === false) continue;
    if (typeof v === 'function' && k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on')) throw new Error(`attribute ${k} must be a function`);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

/** @param {Element} el @param {Child[]} children */
function append(el, children) {
  for (const c of children) {
    if (c == null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/**
 * Replaces an element's children.
 * @template {Element} E
 * @param {E} el
 * @param {Child[]} children
 */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** Wall-clock time with the offset of the gateway's clock (from its Date header), in ms. */
export const clock = {
  offset: 0,
  // the browser's clock is the board's only clock; corrected by `offset`
  now: () => Date.now() + clock.offset,
  /**
   * Takes the gateway's Date header; corrects only a real skew (the header has 1 s resolution).
   * @param {string | null | undefined} dateHeader
   */
  observe(dateHeader) {
    const server = Date.parse(dateHeader ?? '');
    if (Number.isNaN(server)) return;
    const skew = server - Date.now();
    clock.offset = Math.abs(skew) > 2000 ? skew : 0;
  },
};

// Times are the plant's (gateway.timezone, from the board config), never the browser's zone.
/** @type {{ time: Intl.DateTimeFormat, sec: Intl.DateTimeFormat, date: Intl.DateTimeFormat, day: Intl.DateTimeFormat }} */
let fmts;
/**
 * Makes the formatters for the gateway's timezone and the board's locale; called once the config is known.
 * @param {{ timezone?: string, locale?: string }} [display]
 */
export function setDisplay({ timezone = 'UTC', locale = 'en-US' } = {}) {
  /** @type {Intl.DateTimeFormatOptions} */
  const opts = { timeZone: timezone, hourCycle: 'h23' };
  fmts = {
    time: new Intl.DateTimeFormat(locale, { ...opts, hour: '2-digit', minute: '2-digit' }),
    sec: new Intl.DateTimeFormat(locale, { ...opts, hour: '2-digit', minute: '2-digit', second: '2-digit' }),
    date: new Intl.DateTimeFormat(locale, { ...opts, month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' }),
    day: new Intl.DateTimeFormat('en-CA', { timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit' }),
  };
}
setDisplay();

/** The same calendar day as now, in the gateway's timezone. */
/** @param {Date} d */
const today = (d) => fmts.day.format(new Date(clock.now())) === fmts.day.format(d);

/**
 * "16:02" today, "Jan 20, 16:02:10" otherwise (the plant's local time).
 * @param {string | null | undefined} iso
 */
export function fmtTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return today(d) ? fmts.time.format(d) : fmts.date.format(d);
}

/**
 * With seconds ("16:02:10"), and the date when not today: where the order of seconds matters (first-out).
 * @param {string | null | undefined} iso
 */
export function fmtTimeSec(iso) {
  const d = new Date(iso ?? '');
  if (Number.isNaN(d.getTime())) return '—';
  return today(d) ? fmts.sec.format(d) : fmts.date.format(d);
}

/**
 * Always with the date and seconds (detail view).
 * @param {string | null | undefined} iso
 */
export function fmtFull(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : fmts.date.format(d);
}

/** @param {number} ms */
export const fmtClock = (ms) => fmts.sec.format(new Date(ms));
