// @ts-check
// The live feed: GET /api/v1/events (server-sent events), resumed from the last id after any break.

/**
 * Opens the stream and keeps it open. Reconnects itself (3 s, backing off to
 * 30 s) with `?lastEventId=` so the gateway replays what was missed; EventSource's
 * own retry is not used, because it would resend the first URL's query.
 * EventSource sends no Authorization header, and the token must not go into a
 * URL (proxies log URLs): with a token, each connect first gets a single-use
 * stream key (`streamKey()`, POST /api/v1/events/key) and opens `?key=`.
 *
 *   streamKey()           a fresh key, or null to open without one (anonymous read)
 *   onTicket(ticket)      a ticket's newest version
 *   onReset()             the gap is too large: reload the list
 *   onOpen({ resumed })   connected; resumed=false means nothing to resume from
 *   onState(state)        'connecting' | 'live' | 'reconnecting'
 *
 * @param {{
 *   url: string,
 *   streamKey: () => Promise<string | null> | string | null,
 *   onTicket: (ticket: import('./model.js').BoardTicket) => void,
 *   onReset: () => void,
 *   onOpen: (open: { resumed: boolean }) => void,
 *   onState: (state: 'connecting' | 'live' | 'reconnecting') => void,
 * }} opts
 */
export function openLive({ url, streamKey, onTicket, onReset, onOpen, onState }) {
  /** @type {string | null} */
  let lastId = null;
  /** @type {EventSource | null} */
  let es = null;
  /** @type {ReturnType<typeof setTimeout> | null} */
  let timer = null;
  let delay = 3000;
  let stopped = false;

  let attempt = 0; // a restart while a key is on its way supersedes that connect

  const retry = () => {
    onState('reconnecting');
    const wait = delay * (0.75 + Math.random() / 2);
    delay = Math.min(delay * 2, 30_000);
    timer = setTimeout(connect, wait);
  };

  const connect = async () => {
    timer = null;
    const mine = ++attempt;
    const q = new URLSearchParams();
    let key = null;
    try {
      key = await streamKey();
    } catch {
      if (mine === attempt && !stopped) retry(); // no key (gateway down, token refused): try again later
      return;
    }
    if (mine !== attempt || stopped) return;
    if (key) q.set('key', key);
    if (lastId != null) q.set('lastEventId', lastId);
    const qs = q.toString();
    const resumed = lastId != null;
    const source = new EventSource(qs ? `${url}?${qs}` : url);
    es = source;
    source.addEventListener('open', () => {
      delay = 3000;
      onState('live');
      onOpen({ resumed });
    });
    source.addEventListener('ticket', (e) => {
      if (e.lastEventId) lastId = e.lastEventId;
      let ticket;
      try {
        ticket = JSON.parse(e.data);
      } catch {
        return; // a torn message: the next one or the resume brings the ticket
      }
      onTicket(ticket);
    });
    source.addEventListener('reset', (e) => {
      if (e.lastEventId) lastId = e.lastEventId;
      onReset();
    });
    source.addEventListener('error', () => {
      if (stopped) return;
      es?.close();
      retry();
    });
  };

  onState('connecting');
  connect();
  return {
    /** Reconnects now (after the token changed): resumes from the last id. */
    restart() {
      if (stopped) return;
      es?.close();
      if (timer) clearTimeout(timer);
      delay = 3000;
      onState('connecting');
      connect();
    },
    close() {
      stopped = true;
      es?.close();
      if (timer) clearTimeout(timer);
    },
  };
}
