// @ts-check
// The Tags page: the live tag view (GET /api/v1/tags), searched by text or tag pattern, polled while visible.
// One page of at most LIMIT rows per poll: the payload stays bounded whatever the plant's tag count.
import { ApiError, api } from './api.js';
import { clock, fill, fmtClock, fmtTimeSec, h, setDisplay } from './dom.js';
import { intlLocale, setMessages, t, tOr } from './i18n.js';

/**
 * A row of GET /api/v1/tags (contracts §Live tag view).
 * @typedef {{ tag: string, value: number | boolean | string | null, quality: string, unit: string | null, ts: string, arrivedAt: string,
 *   source: string, asset: string, area: string | null, rules: string[] }} TagRow
 */

const LIMIT = 200;
const POLL_MS = 2_000;

/** @param {string} id */
const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
const search = /** @type {HTMLInputElement} */ ($('search'));
/** Last value shown per tag: a row whose value changed since the previous poll is marked. */
let shown = new Map();
/** @type {ReturnType<typeof setTimeout> | null} */
let timer = null;
let generation = 0;

/** @param {string | null} text */
function notice(text) {
  const el = $('notice');
  el.hidden = !text;
  el.dataset.kind = 'warn';
  fill(el, text ?? '');
}

/** @param {string} state */
function setConn(state) {
  const el = $('conn');
  el.dataset.state = state;
  fill(/** @type {HTMLElement} */ (el.querySelector('.conn-text')), t(`conn.${state}`));
}

/** The query for the search box: text with `*` is a tag pattern, anything else text to look for. */
function query() {
  const text = search.value.trim();
  const p = new URLSearchParams({ limit: String(LIMIT) });
  if (text.includes('*')) p.set('pattern', text);
  else if (text) p.set('q', text);
  return `/api/v1/tags?${p}`;
}

/** @param {TagRow} r */
const valueText = (r) => (r.value === null ? '—' : `${String(r.value)}${r.unit ? ` ${r.unit}` : ''}`);

/** @param {{ items: TagRow[], total: number, tracked: number, maxTags: number, overflow: number }} page */
function render(page) {
  const next = new Map();
  const rows = page.items.map((r) => {
    const v = valueText(r);
    const changed = shown.has(r.tag) && shown.get(r.tag) !== v;
    next.set(r.tag, v);
    return h(
      'tr',
      { class: changed ? 'changed' : null, dataset: { tag: r.tag, quality: r.quality } },
      h('td', { class: 'tag' }, r.tag),
      h('td', { class: 'value' }, v),
      h('td', { class: 'quality' }, tOr('tags.q', r.quality)),
      h('td', { class: 'ts' }, fmtTimeSec(r.ts)),
      h('td', { class: 'arrived' }, fmtTimeSec(r.arrivedAt)),
      h('td', { class: 'source' }, r.source),
      h('td', { class: 'asset' }, r.area ? `${r.asset} · ${r.area}` : r.asset),
      h('td', { class: 'rules' }, r.rules.join(', ') || '—'),
    );
  });
  shown = next;
  fill($('tag-rows'), rows);
  $('tags-empty').hidden = page.items.length > 0;
  const summary = t('tags.summary', { shown: page.items.length, total: page.total, tracked: page.tracked });
  fill($('summary'), page.overflow > 0 ? `${summary} · ${t('tags.overflow', { n: page.overflow, max: page.maxTags })}` : summary);
}

/** One poll; the next is scheduled when it ends (never two in flight). A new search starts a new generation. */
async function poll() {
  timer = null;
  const mine = generation;
  try {
    const page = await api(query());
    if (mine !== generation) return;
    render(page);
    setConn('live');
    notice(null);
  } catch (err) {
    if (mine !== generation) return;
    setConn('reconnecting');
    notice(err instanceof ApiError ? `${err.code}: ${err.message}` : String(err));
  }
  if (mine === generation && !document.hidden) timer = setTimeout(poll, POLL_MS);
}

function restart() {
  generation++;
  if (timer) clearTimeout(timer);
  timer = null;
  shown = new Map();
  void poll();
}

async function main() {
  try {
    const config = await api('/api/v1/board/config');
    setMessages(config.messages, config.locale);
    setDisplay({ timezone: config.timezone, locale: intlLocale() });
    fill($('gateway'), config.gatewayId);
    document.title = `Andon · ${t('nav.tags')} · ${config.gatewayId}`;
  } catch {
    // the tags still load; texts stay English
  }
  /** @type {ReturnType<typeof setTimeout> | null} */
  let typing = null;
  search.addEventListener('input', () => {
    if (typing) clearTimeout(typing);
    typing = setTimeout(restart, 250);
  });
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && !timer) restart();
  });
  setInterval(() => fill($('clock'), fmtClock(clock.now())), 1000);
  restart();
}

void main();
