/**
 * Secrets out of text that leaves the process: logs, stored errors (outbox and
 * notification `lastError`) and API answers. One function, `redact`, used
 * wherever such text is made; the pino options below apply it to log fields.
 *
 * What counts as a secret:
 * - in a URL (`scheme://...` anywhere in the text): the user info (`user:password@`),
 *   every query value (robot keys: WeCom `key`, DingTalk `access_token`/`sign`,
 *   Teams Workflows `sig`), every path segment of 16 characters or more
 *   (Slack `/services/T…/B…/<secret>`, Teams connector GUIDs) and the fragment;
 * - outside a URL (a path echoed by a receiver, `?key=...`): the value of a
 *   query parameter whose name looks secret (key, token, sign, secret, password, ...);
 * - a bearer or basic credential (`Bearer abc...`).
 */

const MASK = '***';
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]+/gi;
const SECRET_PARAM = /([?&;]|^|\s)([\w.-]*(?:key|token|sign|sig|secret|pass|pwd|auth|credential|session)[\w.-]*=)[^&#\s"'<>]+/gi;
const CREDENTIAL = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/g;

/** One URL with its secrets replaced (see the module comment); `***` when it cannot be parsed. */
function redactUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return MASK;
  }
  // Opaque URLs (mailto:, urn:) have no host and no segments worth keeping.
  if (u.host === '' && !url.includes('://')) return MASK;
  const segments = u.pathname.split('/');
  const long = segments.some((seg) => seg.length >= 16);
  // Nothing to hide: the URL as written (new URL would add a trailing / and normalise it).
  if (!long && u.username === '' && u.password === '' && u.search === '' && u.hash === '') return url;
  const path = segments.map((seg) => (seg.length >= 16 ? MASK : seg)).join('/');
  const query = [...u.searchParams.keys()].map((k) => `${encodeURIComponent(k)}=${MASK}`).join('&');
  return `${u.protocol}//${u.host}${path}${query ? `?${query}` : ''}`;
}

/** `text` with every secret it shows replaced by `***`. Idempotent; text without secrets comes back unchanged. */
export function redact(text: string): string {
  if (!text) return text;
  return text.replace(URL_IN_TEXT, redactUrl).replace(SECRET_PARAM, `$1$2${MASK}`).replace(CREDENTIAL, `$1 ${MASK}`);
}

/** The message of a caught error (or the thrown value), redacted: what the forwarder and notifier store and log. */
export const errorText = (err: unknown): string => redact(err instanceof Error ? err.message : String(err));

/** Strings anywhere inside a log value, redacted (an `err` is an object with message, stack and causes by then). */
function redactValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redact(value);
  if (depth > 4 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactValue(v, depth + 1)]));
}

/**
 * pino's `redact` option for every Andon logger: the fields that carry URLs
 * (`url` of a channel, a source or central) or error texts (`err`, `error`, `why`, the message)
 * go through `redact`, also when a child logger or a connector logs them.
 * Applied after pino's serializers, so an `err` is already a plain object.
 */
export const LOG_REDACT = {
  paths: ['url', '*.url', 'err', 'error', 'why', 'msg'],
  censor: (value: unknown) => redactValue(value),
};
