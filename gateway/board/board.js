// @ts-check
// The live alarm board: initial list, then the event stream; renders in batches, ticks each second.
import { ApiError, api, loadTickets, session, signOut, signedIn, streamKey, token, whoAmI } from './api.js';
import { createDetail } from './detail.js';
import { clock, fill, fmtClock, h, setDisplay } from './dom.js';
import { intlLocale, setMessages, t as tr, tOr } from './i18n.js';
import { openLive } from './live.js';
import { BOARD_STATES, TicketBook, isShelved } from './model.js';
import { renderCounts, renderFloods, renderRows } from './rows.js';

/**
 * An element of index.html, which has every id the board uses.
 * @param {string} id
 */
const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
/** @param {string} id */
const dialog$ = (id) => /** @type {HTMLDialogElement} */ ($(id));
/** @param {string} id */
const input$ = (id) => /** @type {HTMLInputElement} */ ($(id));
const book = new TicketBook();
const FRESH_MS = 15_000;

/** @type {import('./api.js').BoardConfig} */
let config = { gatewayId: '', timezone: 'UTC', locale: 'en', anonymousRead: true, shelvingMaxSeconds: 8 * 3600, closeChecklist: [], messages: {}, signIn: false };
/** @type {((at: number) => void)[]} */
let tickers = [];
/** @type {ReturnType<typeof setTimeout> | null} */
let renderTimer = null;
let loaded = false;
/** @type {Promise<void> | null} */
let reloading = null;
const touched = new Set(); // ids changed live while a reload was in flight
const freshUntil = new Map(); // id -> time until which its row is highlighted as new
let conn = 'connecting';
/** @type {number | null} */
let lostSince = null;

/**
 * A message above the list (connection lost, API error, too many tickets).
 * @param {string | null} text
 * @param {string} [kind]
 */
function notice(text, kind = 'warn') {
  const el = $('notice');
  el.hidden = !text;
  el.dataset.kind = kind;
  fill(el, text ?? '');
}
/** @param {unknown} err */
const describe = (err) => (err instanceof ApiError ? `${err.code}: ${err.message}` : String(/** @type {{ message?: unknown } | null | undefined} */ (err)?.message ?? err));

function render() {
  renderTimer = null;
  const now = clock.now();
  for (const [id, until] of freshUntil) if (until < now) freshUntil.delete(id);
  const fresh = new Set(freshUntil.keys());
  const { active, shelved } = book.view(now);
  /** @param {string} id */
  const onOpen = (id) => detail.show(id);
  tickers = [...renderRows($('rows'), active, now, { onOpen, fresh }), ...renderRows($('shelved-rows'), shelved, now, { onOpen, compact: true })];
  renderFloods($('floods'), active, { onOpen });
  renderCounts($('counts'), active, shelved.length);
  $('empty').hidden = !loaded || active.length > 0;
  $('shelved-section').hidden = shelved.length === 0;
  fill($('shelved-count'), `(${shelved.length})`);
  const unack = active.filter((t) => t.state === 'open').length;
  document.title = `${unack ? `(${unack}) ` : ''}Andon · ${config.gatewayId}`;
  detail.update();
}
const schedule = () => {
  renderTimer ??= setTimeout(render, 40);
};

/**
 * One ticket version, from the stream or an action's answer.
 * @param {import('./model.js').BoardTicket} t
 */
function onTicket(t) {
  if (reloading) touched.add(t.id);
  const before = book.get(t.id);
  if (!book.upsert(t)) return;
  // new, or back to open (its fault came back after a fix): highlighted as a new ticket is
  if (loaded && t.state === 'open' && (!before || before.state !== 'open')) freshUntil.set(t.id, clock.now() + FRESH_MS);
  schedule();
}

/** The whole list again (start, `reset`, a stream that could not resume). */
function reload() {
  reloading ??= (async () => {
    touched.clear();
    try {
      const { items, truncated } = await loadTickets(BOARD_STATES);
      book.replace(items, (id) => touched.has(id));
      loaded = true;
      if (truncated) notice(tr('notice.truncated'), 'warn');
      else if (conn === 'live') notice(null);
    } catch (err) {
      notice(tr('notice.cannotLoad', { error: describe(err) }), 'error');
      if (err instanceof ApiError && err.code === 'ANDON_AUTH_REQUIRED') {
        // a session that ended (expired, signed out elsewhere): the board is no longer signed in
        if (session.get()) {
          session.set(null);
          setOperatorButton();
        }
        openSignIn();
      }
    } finally {
      reloading = null;
      schedule();
    }
  })();
  return reloading;
}

/** @param {string} state */
const connText = (state) => tr(`conn.${state === 'live' || state === 'reconnecting' ? state : 'connecting'}`);

/** @param {string} state */
function setConn(state) {
  conn = state;
  const el = $('conn');
  el.dataset.state = state;
  fill(/** @type {Element} */ (el.querySelector('.conn-text')), connText(state));
  if (state === 'live') {
    lostSince = null;
    document.body.classList.remove('stale');
    if ($('notice').dataset.kind === 'conn') notice(null);
  } else lostSince ??= clock.now();
}

function tick() {
  const now = clock.now();
  fill($('clock'), fmtClock(now));
  for (const t of tickers) t(now);
  if (lostSince != null && now - lostSince > 10_000) {
    document.body.classList.add('stale');
    notice(tr('notice.lost', { time: fmtClock(lostSince) }), 'conn');
  }
  // A shelf that ran out, or a highlight that ended: the gateway's unshelve event follows, but do not wait for it.
  const view = [...book.byId.values()];
  if (view.some((t) => t.shelvedUntil && !isShelved(t, now) && Date.parse(t.shelvedUntil) > now - 1500) || [...freshUntil.values()].some((u) => u < now))
    schedule();
}

function setOperatorButton() {
  const b = $('operator');
  const signed = signedIn();
  const person = session.get();
  b.dataset.signed = String(signed);
  fill(b, person ? h('span', {}, tr('operator.person', { name: person.actorName })) : signed ? h('span', {}, tr('operator.signedIn')) : tr('operator.readOnly'));
}

function openSignIn() {
  const d = dialog$('signin');
  const person = session.get();
  input$('token-input').value = token.get();
  $('signin-error').hidden = true;
  $('signout').hidden = !signedIn();
  // personal sign-in (gateway.auth.oidc): a link to the provider, or who is signed in
  $('signin-oidc').hidden = !config.signIn || person !== null;
  fill($('signin-title'), tr(config.signIn ? 'signin.titleAccount' : 'signin.title'));
  $('signin-person').hidden = person === null;
  fill($('signin-person'), person ? tr('signin.as', { name: person.actorName, role: tOr('role', person.role) }) : '');
  if (!d.open) d.showModal();
}

/** Signs the person out (the session ends at the gateway), or forgets the pasted token. */
async function signOutNow() {
  if (!session.get()) return saveToken('');
  try {
    await signOut();
  } catch (e) {
    const err = $('signin-error');
    err.hidden = false;
    fill(err, describe(e));
    return;
  }
  session.set(null);
  afterSignInChange();
}

/** The board after the credentials changed: button, stream, actions, list. */
function afterSignInChange() {
  dialog$('signin').close();
  setOperatorButton();
  live?.restart();
  detail.update(true);
  reload();
}

/** `/?signin=<code>`: the gateway sent the browser back from a sign-in that did not complete; say why. */
function signInOutcome() {
  const params = new URLSearchParams(window.location.search);
  const code = params.get('signin');
  if (!code) return;
  params.delete('signin');
  const rest = params.toString();
  window.history.replaceState(null, '', `${window.location.pathname}${rest ? `?${rest}` : ''}`);
  notice(tOr('signin.failed', code) === code ? tr('signin.failedCode', { code }) : tOr('signin.failed', code), 'error');
}

/** @param {string} value */
async function saveToken(value) {
  const err = $('signin-error');
  if (value) token.set(value);
  else token.clear();
  try {
    if (value) await api('/api/v1/tickets?limit=1'); // an unknown token is refused here
  } catch (e) {
    token.clear();
    err.hidden = false;
    fill(err, describe(e));
    setOperatorButton();
    return;
  }
  afterSignInChange();
}

const detail = createDetail(dialog$('detail'), {
  book,
  now: () => clock.now(),
  getConfig: () => config,
  onChanged: onTicket,
  signIn: () => openSignIn(),
});

/** @type {ReturnType<typeof openLive> | null} */
let live = null;

async function start() {
  // The operator button and the connection state keep the page's text until the config brings the locale's.
  $('operator').addEventListener('click', openSignIn);
  // the knowledge base page (a button: the board's own markup has no links, only plant text could add one)
  $('kb-link').addEventListener('click', () => window.location.assign('/board/knowledge.html'));
  $('signin-form').addEventListener('submit', (e) => {
    e.preventDefault();
    saveToken(input$('token-input').value.trim());
  });
  $('signout').addEventListener('click', () => signOutNow());
  $('signin-cancel').addEventListener('click', () => dialog$('signin').close());
  // personal sign-in: the gateway sends the browser on to the identity provider
  $('signin-oidc').addEventListener('click', () => window.location.assign('/auth/login'));
  setInterval(tick, 1000);
  tick();

  for (;;) {
    try {
      config = await api('/api/v1/board/config');
      break;
    } catch (err) {
      notice(`Gateway not reachable — ${describe(err)}. Retrying…`, 'error');
      await new Promise((r) => setTimeout(r, 5000));
    }
  }
  notice(null);
  // A person signed in before (the session cookie) is signed in still, until the session ends.
  if (config.signIn && !token.get()) session.set(await whoAmI().catch(() => null));
  // The plant's language and zone, whatever the browser's.
  setMessages(config.messages, config.locale);
  setDisplay({ timezone: config.timezone, locale: intlLocale() });
  setOperatorButton();
  fill(/** @type {Element} */ ($('conn').querySelector('.conn-text')), connText(conn));
  tick();
  fill($('gateway'), config.gatewayId);
  if (!config.anonymousRead && !signedIn()) {
    notice(tr(config.signIn ? 'notice.signInNeeded' : 'notice.tokenNeeded'), 'warn');
    openSignIn();
  }
  signInOutcome();
  live = openLive({
    url: '/api/v1/events',
    streamKey: () => (token.get() ? streamKey() : null),
    onTicket,
    onReset: reload,
    onState: setConn,
    onOpen: ({ resumed }) => !resumed && reload(),
  });
  // The list does not wait for the stream longer than this; nor does it go stale while the stream is down.
  setTimeout(() => loaded || reload(), 2000);
  setInterval(() => conn !== 'live' && reload(), 30_000);
  openLinked();
}

/** `/?ticket=<id>` (the link in notifications) opens that ticket's detail. */
async function openLinked() {
  const id = new URLSearchParams(window.location.search).get('ticket');
  if (!id) return;
  try {
    onTicket(await api(`/api/v1/tickets/${encodeURIComponent(id)}`));
    detail.show(id);
  } catch (err) {
    notice(tr('notice.ticket', { id, error: describe(err) }), 'error');
  }
}

start();
