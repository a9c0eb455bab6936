// @ts-check
// The board's texts: the table of gateway.locale (gateway/i18n.ts), sent by GET /api/v1/board/config.
// Plant data (assets, faults, tags, messages, titles) is never translated.

/** @type {Record<string, string>} */
let messages = {};
let locale = 'en';

/**
 * Takes the gateway's locale and its table (no DOM: the model's labels and the tests under Node use this).
 * @param {Record<string, string> | null | undefined} next
 * @param {string | null | undefined} nextLocale
 */
export function useMessages(next, nextLocale) {
  messages = next ?? {};
  locale = nextLocale ?? 'en';
}

/**
 * Takes the gateway's locale and its table; translates the static page (`data-i18n`, `data-i18n-<attr>`).
 * @param {Record<string, string> | null | undefined} next
 * @param {string | null | undefined} nextLocale
 */
export function setMessages(next, nextLocale) {
  useMessages(next, nextLocale);
  document.documentElement.lang = locale;
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(/** @type {HTMLElement} */ (el).dataset.i18n ?? '');
  for (const attr of ['aria-label', 'placeholder', 'title']) {
    const data = `i18n${attr.replace(/(^|-)(\w)/g, (_, _d, c) => c.toUpperCase())}`; // aria-label -> i18nAriaLabel
    for (const el of document.querySelectorAll(`[data-i18n-${attr}]`)) el.setAttribute(attr, t(/** @type {HTMLElement} */ (el).dataset[data] ?? ''));
  }
}

/**
 * The text of `key` with `{name}` filled from params; the key itself when the table lacks it.
 * @param {string} key
 * @param {Record<string, string | number>} [params]
 */
export function t(key, params = {}) {
  const text = messages[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m));
}

/**
 * The text of `prefix.value` when the table has it, else the value as it is (data the table does not know).
 * @param {string} prefix
 * @param {unknown} value
 */
export const tOr = (prefix, value) => messages[`${prefix}.${value}`] ?? String(value);

/** The Intl locale of the board's dates. */
export const intlLocale = () => (locale === 'en' ? 'en-US' : locale);
