import { createHmac } from 'node:crypto';
import type { NotifyChannelConfig } from '../../config/schema.ts';
import { nodeFetch } from '../delivery/node-fetch.ts';
import { retryAfterMs, timedFetch, Unanswered } from '../delivery/timed-fetch.ts';

/**
 * Why a message did not go, which decides what the notifier does:
 * - `retry`: timeout, connection error, 408, 429, 5xx, a robot's rate-limit or busy errcode → back off, try again;
 * - `refused`: any other 4xx, or a robot's other errcode (bad key, bad payload) → park with this message.
 */
export class NotifyError extends Error {
  constructor(
    readonly kind: 'retry' | 'refused',
    message: string,
    readonly retryAfterMs?: number,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'NotifyError';
  }
}

export interface WebhookDeps {
  fetch?: typeof fetch;
  /** Wall clock: DingTalk signatures and Retry-After dates. */
  now: () => number;
}

/** Robot errcodes that mean "not now": WeCom -1 (busy) and 45009 (over 20 messages a minute), DingTalk 130101 (too fast). */
const ROBOT_BUSY = new Set([-1, 45009, 130101]);
/** Robots count messages per minute: after a rate-limit errcode, wait that long. */
const ROBOT_HOLD_MS = 60_000;

/** The request URL: DingTalk robots secured by signing (加签) need `timestamp` and `sign` on every request. */
function signedUrl(config: NotifyChannelConfig, now: number): string {
  if (config.format !== 'dingtalk' || config.secret === undefined) return config.url;
  const sign = createHmac('sha256', config.secret).update(`${now}\n${config.secret}`).digest('base64');
  const u = new URL(config.url);
  u.searchParams.set('timestamp', String(now));
  u.searchParams.set('sign', sign);
  return u.toString();
}

/** What a 2xx answer really says: WeCom and DingTalk robots answer 200 with an errcode; Teams' old connector answers 200 with an error text. */
function answerProblem(config: NotifyChannelConfig, text: string): NotifyError | undefined {
  if (config.format === 'wecom' || config.format === 'dingtalk') {
    let b: unknown;
    try {
      b = JSON.parse(text);
    } catch {
      return undefined; // not a robot's JSON (a proxy, a test receiver): the 2xx stands
    }
    const { errcode, errmsg } = (b !== null && typeof b === 'object' ? b : {}) as { errcode?: unknown; errmsg?: unknown };
    if (typeof errcode !== 'number' || errcode === 0) return undefined;
    const msg = `robot answered errcode ${errcode}${typeof errmsg === 'string' ? `: ${errmsg.slice(0, 300)}` : ''}`;
    return ROBOT_BUSY.has(errcode) ? new NotifyError('retry', msg, ROBOT_HOLD_MS, 200) : new NotifyError('refused', msg, undefined, 200);
  }
  if (config.format === 'teams') {
    const m = /returned HTTP error (\d{3})/i.exec(text);
    if (m) return classify(Number(m[1]), `Teams answered: ${text.slice(0, 300)}`, undefined);
  }
  return undefined;
}

function classify(status: number, msg: string, retryAfter: number | undefined): NotifyError {
  if (status === 429 || status === 408 || status >= 500) return new NotifyError('retry', msg, retryAfter, status);
  return new NotifyError('refused', msg, undefined, status);
}

/**
 * Posts messages to one channel's webhook (POST, JSON, the channel's headers
 * and timeout). Resolves on a 2xx that the receiver means as success; throws
 * NotifyError otherwise. Its message may quote the receiver (or the transport, which may name the
 * URL and its key): the notifier redacts it (gateway/redact.ts) before it is stored or logged.
 */
export function createWebhook(config: NotifyChannelConfig, deps: WebhookDeps) {
  const doFetch = deps.fetch ?? nodeFetch;
  return {
    async send(body: unknown, signal: AbortSignal, idempotencyKey?: string): Promise<void> {
      const headers: Record<string, string> = { ...config.headers, 'content-type': 'application/json; charset=utf-8' };
      if (idempotencyKey !== undefined && config.format === 'json') headers['idempotency-key'] = idempotencyKey;
      let res: Response;
      let text: string;
      try {
        ({ res, text } = await timedFetch(doFetch, signedUrl(config, deps.now()), { method: 'POST', headers, body: JSON.stringify(body) }, config.timeout, signal));
      } catch (err) {
        if (err instanceof Unanswered) throw new NotifyError('retry', `no answer: ${err.message}`);
        throw err;
      }
      if (res.status >= 200 && res.status < 300) {
        const problem = answerProblem(config, text);
        if (problem) throw problem;
        return;
      }
      throw classify(res.status, `answered ${res.status}${text ? `: ${text.replace(/\s+/g, ' ').slice(0, 300)}` : ''}`, retryAfterMs(res.headers.get('retry-after'), deps.now()));
    },
  };
}

export type Webhook = ReturnType<typeof createWebhook>;
