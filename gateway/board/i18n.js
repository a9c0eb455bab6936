// The board's texts: the table of gateway.locale (gateway/i18n.ts), sent by GET /api/v1/board/config.
// Plant data (assets, faults, tags, messages, titles) is never translated.

let messages = {};
let locale = 'en';

/** Takes the gateway's locale and its table; translates the static page (`data-i18n`, `data-i18n-<attr>`). */
export function setMessages(next, nextLocale) {
  messages = next ?? {};
  locale = nextLocale ?? 'en';
  document.documentElement.lang = locale;
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const attr of ['aria-label', 'placeholder', 'title']) {
    const data = `i18n${attr.replace(/(^|-)(\w)/g, (_, _d, c) => c.toUpperCase())}`; // aria-label -> i18nAriaLabel
    for (const el of document.querySelectorAll(`[data-i18n-${attr}]`)) el.setAttribute(attr, t(el.dataset[data]));
  }
}

/** The text of `key` with `{name}` filled from params; the key itself when the table lacks it. */
export function t(key, params = {}) {
  const text = messages[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (m, k) => (k in params ? String(params[k]) : m));
}

/** The text of `prefix.value` when the table has it, else the value as it is (data the table does not know). */
export const tOr = (prefix, value) => messages[`${prefix}.${value}`] ?? String(value);

/** The Intl locale of the board's dates. */
export const intlLocale = () => (locale === 'en' ? 'en-US' : locale);
