// @ts-check
// The gateway's HTTP API as the board uses it: bearer token from localStorage, errors as { code, message }.
import { clock } from './dom.js';

const KEY = 'andon.operatorToken';

/**
 * GET /api/v1/board/config: what the board needs before it has a token (gateway/http/board.ts).
 * @typedef {{
 *   gatewayId: string,
 *   timezone: string,
 *   locale: string,
 *   anonymousRead: boolean,
 *   shelvingMaxSeconds: number,
 *   closeChecklist: { id: string, label: string }[],
 *   messages: Record<string, string>,
 *   signIn?: boolean,
 *   knowledgeLabels?: string[],
 * }} BoardConfig
 */

/**
 * GET /api/v1/me of a person signed in with OpenID Connect (the session cookie): their subject, name,
 * role, and the CSRF value every request that changes something sends as X-Andon-CSRF.
 * @typedef {{ actor: string, actorName: string, role: string, method: 'oidc', csrf: string, expiresAt: string }} Person
 */

/** @type {Person | null} */
let person = null;

/** The signed-in person (personal sign-in): kept in memory only; the session itself is an HttpOnly cookie. */
export const session = {
  get: () => person,
  /** @param {Person | null} p */
  set: (p) => {
    person = p;
  },
};

/** Whether the board may act: with a pasted token or as a signed-in person. */
export const signedIn = () => Boolean(token.get()) || person !== null;

/** The operator token, kept in this browser only (localStorage). */
export const token = {
  get: () => {
    try {
      return localStorage.getItem(KEY) ?? '';
    } catch {
      return '';
    }
  },
  /** @param {string} v */
  set: (v) => localStorage.setItem(KEY, v.trim()),
  clear: () => localStorage.removeItem(KEY),
};

/** An answer of the API that is not 2xx, or no answer at all (code ANDON_BOARD_OFFLINE). */
export class ApiError extends Error {
  /**
   * @param {string} code
   * @param {string} message
   * @param {number} status
   */
  constructor(code, message, status) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

/**
 * fetch + JSON + the token; throws ApiError with the gateway's { code, message }.
 * @param {string} path
 * @param {{ method?: string, body?: unknown }} [init]
 * @returns {Promise<any>} the answer's JSON (null for an empty body)
 */
export async function api(path, { method = 'GET', body } = {}) {
  /** @type {Record<string, string>} */
  const headers = { accept: 'application/json' };
  const t = token.get();
  if (t) headers.authorization = `Bearer ${t}`;
  // the session cookie goes by itself (same origin); a change carries the session's CSRF value
  else if (person && method !== 'GET') headers['x-andon-csrf'] = person.csrf;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
  } catch (err) {
    throw new ApiError('ANDON_BOARD_OFFLINE', `the gateway cannot be reached (${err instanceof Error ? err.message : String(err)})`, 0);
  }
  clock.observe(res.headers.get('date'));
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: reported below with the status
  }
  if (!res.ok) throw new ApiError(json?.code ?? `HTTP_${res.status}`, json?.message ?? (text.slice(0, 200) || res.statusText), res.status);
  return json;
}

/**
 * The live tickets of every board state (each state its own page of up to 1000).
 * @param {string[]} states
 * @returns {Promise<{ items: import('./model.js').BoardTicket[], truncated: boolean }>}
 */
export async function loadTickets(states) {
  /** @type {{ items: import('./model.js').BoardTicket[], total: number }[]} */
  const pages = await Promise.all(states.map((s) => api(`/api/v1/tickets?state=${encodeURIComponent(s)}&limit=1000`)));
  return { items: pages.flatMap((p) => p.items), truncated: pages.some((p) => p.total > p.items.length) };
}

/** The newest events of a ticket's history (newest first), and how many there are in all. */
/** @param {string} id @param {number} limit */
export const historyNewest = (id, limit) => api(`/api/v1/tickets/${encodeURIComponent(id)}/history?before=${Number.MAX_SAFE_INTEGER}&limit=${limit}`);

/** POST a lifecycle action (ack, shelve, unshelve, ...): the ticket after the change. */
/** @param {string} id @param {Record<string, unknown>} body */
export const transition = (id, body) => api(`/api/v1/tickets/${encodeURIComponent(id)}/transitions`, { method: 'POST', body });

/** A single-use key for opening the event stream (valid 60 s): EventSource cannot send the token as a header. */
/** @returns {Promise<string>} */
export const streamKey = async () => (await api('/api/v1/events/key', { method: 'POST' })).key;

/**
 * Who this browser is signed in as: the person of the session cookie, or null (none, ended, or a token is used instead).
 * @returns {Promise<Person | null>}
 */
export async function whoAmI() {
  try {
    const me = await api('/api/v1/me');
    return me?.method === 'oidc' ? me : null;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return null;
    throw err;
  }
}

/** Ends the session (POST /auth/logout with its CSRF value). */
export const signOut = () => api('/auth/logout', { method: 'POST' });

/** POST a comment: the ticket after the change. */
/** @param {string} id @param {string} text */
export const comment = (id, text) => api(`/api/v1/tickets/${encodeURIComponent(id)}/comments`, { method: 'POST', body: { text } });
