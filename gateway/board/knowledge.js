// @ts-check
// The knowledge base page (/board/knowledge.html): searches GET /api/v1/knowledge (resolved and closed tickets,
// their knowledge entries) by words and label; a hit links to its ticket on the board.
import { api } from './api.js';
import { fill, fmtFull, h, setDisplay } from './dom.js';
import { intlLocale, setMessages, t as tr } from './i18n.js';

const PAGE = 20;
/** @param {string} id */
const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

/**
 * One hit of GET /api/v1/knowledge.
 * @typedef {{ id: string, title: string, asset: string | null, fault: string, state: string, resolvedAt: string | null,
 *   resolution: string | null, rootCause: string | null, field: string | null, snippet: string, score: number | null,
 *   knowledge: { symptom: string | null, diagnosis: string | null, solution: string | null, labels: string[] } | null }} Hit
 */

let offset = 0;
/** @type {URLSearchParams} */
let query = new URLSearchParams();

/** @param {string | null} text @param {'error' | 'warn'} [kind] */
function notice(text, kind = 'error') {
  const el = $('notice');
  el.hidden = text === null;
  el.dataset.kind = kind;
  fill(el, text ?? '');
}

/** @param {Hit} x */
function item(x) {
  const k = x.knowledge;
  return h(
    'li',
    { class: 'kb-hit', dataset: { id: x.id } },
    h('a', { class: 'kb-hit-title', href: `/?ticket=${encodeURIComponent(x.id)}` }, x.title),
    h('span', { class: 'muted small' }, ` · ${x.state} · ${x.resolvedAt ? fmtFull(x.resolvedAt) : ''}`),
    h('p', { class: 'kb-snippet' }, x.snippet),
    k &&
      h(
        'dl',
        { class: 'facts knowledge' },
        k.symptom && [h('dt', {}, tr('fact.symptom')), h('dd', {}, k.symptom)],
        k.diagnosis && [h('dt', {}, tr('fact.diagnosis')), h('dd', {}, k.diagnosis)],
        k.solution && [h('dt', {}, tr('fact.solution')), h('dd', {}, k.solution)],
      ),
    !k && x.resolution && h('p', { class: 'muted' }, `${tr('fact.resolution')}: ${x.resolution}${x.rootCause ? ` · ${tr('fact.rootCause')}: ${x.rootCause}` : ''}`),
    k && k.labels.length > 0 && h('p', { class: 'labels' }, k.labels.map((l) => h('span', { class: 'label-chip' }, l))),
  );
}

/** Runs the search from the form (append: the next page of the same query). @param {boolean} append */
async function search(append) {
  if (!append) {
    const form = new window.FormData(/** @type {HTMLFormElement} */ ($('kb-form')));
    query = new URLSearchParams();
    for (const k of ['q', 'label']) {
      const v = String(form.get(k) ?? '').trim();
      if (v) query.set(k, v);
    }
    offset = 0;
    $('kb-csv').setAttribute('href', `/api/v1/knowledge?${new URLSearchParams([...query, ['format', 'csv']]).toString()}`);
    window.history.replaceState(null, '', `?${query.toString()}`);
  }
  try {
    const page = /** @type {{ items: Hit[], total: number }} */ (await api(`/api/v1/knowledge?${new URLSearchParams([...query, ['limit', String(PAGE)], ['offset', String(offset)]]).toString()}`));
    notice(null);
    const list = $('kb-results');
    if (!append) fill(list);
    list.append(...page.items.map(item));
    offset += page.items.length;
    fill($('kb-count'), page.total === 0 ? tr('kb.none') : tr('kb.results', { total: page.total }));
    $('kb-more').hidden = offset >= page.total;
  } catch (err) {
    notice(err instanceof Error ? err.message : String(err));
  }
}

async function start() {
  /** @type {{ gatewayId: string, timezone: string, locale: string, messages: Record<string, string>, knowledgeLabels?: string[] }} */
  const config = await api('/api/v1/board/config');
  setMessages(config.messages, config.locale);
  setDisplay({ timezone: config.timezone, locale: intlLocale() });
  fill($('gateway'), config.gatewayId);
  const select = $('kb-label');
  for (const l of config.knowledgeLabels ?? []) select.append(h('option', { value: l }, l));
  const params = new URLSearchParams(window.location.search);
  /** @type {HTMLInputElement} */ ($('kb-q')).value = params.get('q') ?? '';
  /** @type {HTMLSelectElement} */ (select).value = params.get('label') ?? '';
  $('kb-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void search(false);
  });
  $('kb-more').addEventListener('click', () => void search(true));
  await search(false);
}

start().catch((err) => notice(err instanceof Error ? err.message : String(err)));
