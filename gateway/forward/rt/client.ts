import type { Logger } from 'pino';
import { ForwardError } from '../sink.ts';

/** A JSON REST 2 call to RT; every failure is a ForwardError, never a raw error. */
export interface RtClient {
  get<T>(path: string, query: Record<string, string>, signal: AbortSignal): Promise<T>;
  send<T>(method: 'POST' | 'PUT', path: string, body: unknown, signal: AbortSignal, query?: Record<string, string>): Promise<T>;
}

export interface RtClientOptions {
  /** RT's base URL (without /REST/2.0). */
  url: string;
  token: string;
  /** Per request, in ms. */
  timeout: number;
  fetch: typeof fetch;
  log?: Logger | undefined;
}

/** What RT answered with a 4xx/5xx, as the sink's error kinds (contracts §Central API, sink.ts). */
export function classify(status: number, what: string, message: string, retryAfter: string | null): ForwardError {
  const text = `${what}: RT answered ${status}${message ? ` (${message})` : ''}`;
  if (status === 429) return new ForwardError('retry', text, retryAfterMs(retryAfter), status);
  if (status === 408 || status >= 500) return new ForwardError('retry', text, undefined, status);
  if (status === 401) return new ForwardError('poison', `${text}: the token is not valid for this RT`, undefined, status);
  return new ForwardError('poison', text, undefined, status);
}

// Seconds only: an HTTP-date would need the wall clock, and RT itself sends no Retry-After.
const retryAfterMs = (h: string | null): number | undefined => {
  const s = h === null || h.trim() === '' ? NaN : Number(h);
  return Number.isFinite(s) && s >= 0 ? s * 1000 : undefined;
};

const causeOf = (err: unknown): string => {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
};

export function createRtClient(opts: RtClientOptions): RtClient {
  const base = `${opts.url.replace(/\/+$/, '')}/REST/2.0/`;

  async function request<T>(method: string, path: string, query: Record<string, string> | undefined, body: unknown, signal: AbortSignal): Promise<T> {
    const url = new URL(path, base);
    for (const [k, v] of Object.entries(query ?? {})) url.searchParams.set(k, v);
    const what = `RT ${method} /${path}`;
    const timeout = AbortSignal.timeout(opts.timeout);
    const started = performance.now();
    let res: Response;
    let text: string;
    try {
      res = await opts.fetch(url, {
        method,
        headers: {
          Authorization: `token ${opts.token}`,
          Accept: 'application/json',
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.any([signal, timeout]),
        // A redirect means a wrong URL (RT sends browsers to its login page); never follow it.
        redirect: 'manual',
      });
      text = await res.text();
    } catch (err) {
      const why = timeout.aborted ? `no answer within ${opts.timeout} ms` : signal.aborted ? 'aborted' : `connection failed (${causeOf(err)})`;
      opts.log?.debug({ method, path, ms: Math.round(performance.now() - started), why }, 'RT request failed');
      throw new ForwardError('retry', `${what}: ${why}`);
    }
    opts.log?.debug({ method, path, status: res.status, ms: Math.round(performance.now() - started) }, 'RT request');
    let json: unknown;
    try {
      json = text === '' ? null : JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (res.status >= 200 && res.status < 300) {
      if (json === undefined) throw new ForwardError('poison', `${what}: RT answered ${res.status} with a body that is not JSON (is forward.url RT's base URL?)`, undefined, res.status);
      return json as T;
    }
    if (res.status >= 300 && res.status < 400) {
      throw new ForwardError('poison', `${what}: RT redirected to ${res.headers.get('location') ?? '?'} (is forward.url RT's base URL?)`, undefined, res.status);
    }
    const message = (json as { message?: unknown } | null | undefined)?.message;
    const detail = (typeof message === 'string' ? message : text).trim().slice(0, 300);
    throw classify(res.status, what, detail, res.headers.get('retry-after'));
  }

  return {
    get: (path, query, signal) => request('GET', path, query, undefined, signal),
    send: (method, path, body, signal, query) => request(method, path, query, body, signal),
  };
}
