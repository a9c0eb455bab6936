import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/**
 * The `fetch` the sinks and webhooks use by default: the subset they need (method, headers as a
 * record, a string body, an abort signal; the answer's status, headers and text), over node:http with
 * keep-alive agents. Node 20's global fetch (undici) spent ~4× the CPU per request of node:http on
 * this machine (PUT of a 1 KiB ticket to a loopback server, client and server in one process:
 * ~700 µs against ~190 µs, `bench/drain`): a drain of 100k versions is that many requests, and its
 * garbage was most of what the drain promoted to the old generation.
 *
 * Behaves as fetch where the callers can tell: a connection error rejects with
 * `TypeError('fetch failed', { cause })` (cause.code ECONNREFUSED, ECONNRESET, …), a URL with credentials is
 * refused, an abort rejects with the signal's reason, and redirects are followed as fetch does (at most 20; 303, and 301/302
 * after a POST, become a GET without body; `authorization` is dropped when the origin changes).
 * Tests and embedders still pass their own `fetch` in the deps.
 */
const agents = {
  'http:': new HttpAgent({ keepAlive: true, scheduling: 'lifo' }),
  'https:': new HttpsAgent({ keepAlive: true, scheduling: 'lifo' }),
};

const MAX_REDIRECTS = 20;
/** An answer larger than this is cut off as a failed request (a hostile or broken receiver must not fill the heap). */
export const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

/** An abort rejects with the signal's reason, as fetch does (an Error unless the caller gave something else). */
const reasonOf = (signal: AbortSignal) => signal.reason as Error;

type Init = { method?: string; headers?: Record<string, string>; body?: string; signal?: AbortSignal };

export const nodeFetch = ((input: string | URL, init: RequestInit = {}): Promise<Response> => {
  const i = init as Init;
  if (i.headers !== undefined && (typeof i.headers !== 'object' || Array.isArray(i.headers) || i.headers instanceof Headers))
    return Promise.reject(new TypeError('nodeFetch: headers must be a plain record'));
  if (i.body !== undefined && i.body !== null && typeof i.body !== 'string') return Promise.reject(new TypeError('nodeFetch: body must be a string'));
  const url = new URL(String(input));
  // fetch refuses credentials in the URL (node:http would send them as Basic auth); its message names the URL,
  // which the callers redact (gateway/redact.ts)
  if (url.username !== '' || url.password !== '') return Promise.reject(new TypeError(`Request cannot be constructed from a URL that includes credentials: ${url.href}`));
  return send(url, i.method ?? 'GET', { ...i.headers }, i.body ?? undefined, i.signal, 0);
}) as typeof fetch;

function send(url: URL, method: string, headers: Record<string, string>, body: string | undefined, signal: AbortSignal | undefined, hops: number): Promise<Response> {
  if (signal?.aborted) return Promise.reject(reasonOf(signal));
  const secure = url.protocol === 'https:';
  if (!secure && url.protocol !== 'http:') return Promise.reject(new TypeError('fetch failed', { cause: new Error(`unsupported protocol ${url.protocol}`) }));
  const h: Record<string, string | number> = { ...headers };
  if (body !== undefined) h['content-length'] = Buffer.byteLength(body);
  return new Promise<Response>((resolve, reject) => {
    const req = (secure ? httpsRequest : httpRequest)(url, { method, headers: h, agent: agents[url.protocol as 'http:' | 'https:'] });
    const onAbort = () => req.destroy(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
    signal?.addEventListener('abort', onAbort, { once: true });
    const done = () => signal?.removeEventListener('abort', onAbort);
    req.on('error', (err) => {
      done();
      reject(signal?.aborted ? reasonOf(signal) : new TypeError('fetch failed', { cause: err }));
    });
    req.on('response', (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_ANSWER_BYTES) {
          done();
          reject(new TypeError('fetch failed', { cause: new Error(`answer larger than ${MAX_ANSWER_BYTES} bytes`) }));
          req.destroy();
          return;
        }
        chunks.push(c);
      });
      res.on('error', (err) => {
        done();
        reject(signal?.aborted ? reasonOf(signal) : new TypeError('fetch failed', { cause: err }));
      });
      res.on('end', () => {
        done();
        const status = res.statusCode ?? 0;
        const location = res.headers.location;
        if (status >= 300 && status < 400 && status !== 304 && location !== undefined) {
          if (hops >= MAX_REDIRECTS) return reject(new TypeError('fetch failed', { cause: new Error('redirect count exceeded') }));
          const next = new URL(location, url);
          const toGet = status === 303 ? method !== 'HEAD' : (status === 301 || status === 302) && method === 'POST';
          const nextHeaders = { ...headers };
          for (const k of Object.keys(nextHeaders)) {
            if ((next.origin !== url.origin && /^authorization$/i.test(k)) || (toGet && /^content-/i.test(k))) delete nextHeaders[k];
          }
          resolve(send(next, toGet ? 'GET' : method, nextHeaders, toGet ? undefined : body, signal, hops + 1));
          return;
        }
        const out = new Headers();
        for (const [k, v] of Object.entries(res.headers)) {
          if (v === undefined) continue;
          if (Array.isArray(v)) for (const x of v) out.append(k, x);
          else out.set(k, v);
        }
        const noBody = status === 204 || status === 304 || method === 'HEAD';
        resolve(new Response(noBody ? null : Buffer.concat(chunks), { status, statusText: res.statusMessage ?? '', headers: out }));
      });
    });
    req.end(body);
  });
}
