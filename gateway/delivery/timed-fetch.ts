/** No answer: the request timed out or the connection failed (refused, reset, unknown host). Retrying may help. */
export class Unanswered extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Unanswered';
  }
}

/**
 * One HTTP request bounded by `timeoutMs` and by `signal`; resolves with the
 * answer and its body text (any status). A timeout or connection error throws
 * `Unanswered` (its message says which); an abort through `signal` throws as it
 * is, so a caller that is stopping can tell it from a failure. Used by the
 * central sink and the notification webhooks.
 */
export async function timedFetch(doFetch: typeof fetch, url: string, init: RequestInit, timeoutMs: number, signal: AbortSignal): Promise<{ res: Response; text: string }> {
  // One controller per request, its timer cleared and its listener removed when done: AbortSignal.any and
  // AbortSignal.timeout would keep every request's signal alive on the long-lived one for the whole timeout.
  const ac = new AbortController();
  const onAbort = () => ac.abort(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  if (signal.aborted) onAbort();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    ac.abort();
  }, timeoutMs);
  try {
    const res = await doFetch(url, { ...init, signal: ac.signal });
    return { res, text: await res.text() };
  } catch (err) {
    if (signal.aborted) throw err;
    const e = err as Error & { cause?: { code?: string; message?: string } };
    throw new Unanswered(timedOut ? `no answer within ${timeoutMs} ms` : (e.cause?.code ?? e.cause?.message ?? e.message));
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
  }
}

/** Retry-After in ms: delay-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now: number): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const s = header.trim();
  if (/^\d+$/.test(s)) return Number(s) * 1000;
  const at = Date.parse(s);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
