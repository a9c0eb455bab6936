import type { ForwardConfig } from '../../config/schema.ts';
import type { Ticket } from '../../model/ticket.ts';
import { asForwarded, ForwardError, type CentralChange, type CentralRef, type ForwardedTicket, type Sink } from './sink.ts';
import { nodeFetch } from '../delivery/node-fetch.ts';
import { retryAfterMs, timedFetch, Unanswered } from '../delivery/timed-fetch.ts';

export interface HttpSinkDeps {
  fetch?: typeof fetch;
  /** Wall clock, for a Retry-After given as an HTTP date. */
  now?: () => number;
}


/** Central's `{ id, url, version }` out of an answer body; undefined when it has none. */
const refOf = (b: unknown): CentralRef | undefined => {
  const r = b as Partial<CentralRef> | null;
  if (r === null || typeof r !== 'object' || typeof r.id !== 'string' || typeof r.version !== 'number') return undefined;
  return { id: r.id, url: typeof r.url === 'string' ? r.url : null, version: r.version };
};

/**
 * The `http` sink: central ticket contract of contracts §Central API.
 *   PUT {url}/tickets/{id}  Authorization: Bearer, Idempotency-Key: {id}:{version}, body: the ticket
 *   200/201 → CentralRef; 409 → conflict; 408, 429, 5xx, timeout, connection error → retry; other 4xx → poison
 *   GET {url}/tickets/changes?since=<cursor> → { changes, cursor }
 * 408 (request timeout) is retried although §6 says "4xx other: poison": it is a timeout, not a refusal.
 */
export function createHttpSink(config: Pick<ForwardConfig, 'token' | 'timeout'> & { url: string }, deps: HttpSinkDeps = {}): Sink {
  const base = config.url.replace(/\/+$/, '');
  const doFetch = deps.fetch ?? nodeFetch;
  const now = deps.now ?? (() => new Date().getTime());
  const auth: Record<string, string> = config.token ? { authorization: `Bearer ${config.token}` } : {};

  /** One request with the sink's timeout; connection errors and timeouts become retryable ForwardErrors. */
  async function request(path: string, init: RequestInit, signal: AbortSignal): Promise<{ res: Response; body: unknown }> {
    let res: Response;
    let text: string;
    try {
      ({ res, text } = await timedFetch(doFetch, `${base}${path}`, init, config.timeout, signal));
    } catch (err) {
      // Stopping: timedFetch rethrows the abort itself (the forwarder counts it as aborted, not failed).
      if (err instanceof Unanswered) throw new ForwardError('retry', `central ${init.method ?? 'GET'} ${path}: ${err.message}`);
      throw err;
    }
    let body: unknown = null;
    try {
      body = text === '' ? null : JSON.parse(text);
    } catch {
      body = { message: text.slice(0, 200) };
    }
    return { res, body };
  }

  function failure(res: Response, body: unknown, what: string): ForwardError {
    const msg = `central answered ${res.status} to ${what}${(body as { message?: unknown })?.message ? `: ${String((body as { message: unknown }).message).slice(0, 300)}` : ''}`;
    const after = retryAfterMs(res.headers.get('retry-after'), now());
    // Central holds less history than our delta starts from (it lost some): send again, at once, from what it has.
    if (res.status === 409 && (body as { code?: unknown } | null)?.code === 'CENTRAL_HISTORY_GAP') return new ForwardError('retry', msg, 0, 409, refOf(body));
    if (res.status === 409) return new ForwardError('conflict', msg, undefined, 409, refOf(body));
    if (res.status === 429 || res.status === 408 || res.status >= 500) return new ForwardError('retry', msg, after, res.status);
    return new ForwardError('poison', msg, undefined, res.status);
  }

  return {
    async put(whole: ForwardedTicket | Ticket, signal: AbortSignal): Promise<CentralRef> {
      const ticket = asForwarded(whole);
      const path = `/tickets/${encodeURIComponent(ticket.id)}`;
      const { res, body } = await request(
        path,
        {
          method: 'PUT',
          headers: { ...auth, 'content-type': 'application/json', 'idempotency-key': `${ticket.id}:${ticket.version}` },
          body: JSON.stringify(ticket),
        },
        signal,
      );
      const what = `PUT ${ticket.id} v${ticket.version}`;
      if (res.status !== 200 && res.status !== 201) throw failure(res, body, what);
      // Central took it but says nothing usable: the same answer would come again, so retrying cannot help.
      const ref = refOf(body);
      if (!ref) throw new ForwardError('poison', `central answered ${res.status} to ${what} without { id, url, version }`, undefined, res.status);
      return ref;
    },

    async changes(cursor: string | null, signal: AbortSignal): Promise<{ changes: CentralChange[]; cursor: string }> {
      const path = `/tickets/changes${cursor === null ? '' : `?since=${encodeURIComponent(cursor)}`}`;
      const { res, body } = await request(path, { method: 'GET', headers: auth }, signal);
      if (res.status !== 200) throw failure(res, body, `GET ${path}`);
      const b = body as { changes?: unknown; cursor?: unknown } | null;
      if (!b || !Array.isArray(b.changes) || typeof b.cursor !== 'string') throw new ForwardError('poison', `central answered GET ${path} without { changes, cursor }`, undefined, res.status);
      return { changes: b.changes as CentralChange[], cursor: b.cursor };
    },
  };
}
