import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { NotifyChannelConfig } from '../../config/schema.ts';
import { startReceiver, type Answer, type Receiver } from '../../test/notify/receiver.ts';
import { createWebhook, NotifyError } from './webhook.ts';

const NOW = Date.parse('2026-01-20T08:00:00Z');
const channel = (url: string, over: Partial<NotifyChannelConfig> = {}): NotifyChannelConfig => ({
  type: 'webhook',
  format: 'json',
  url,
  headers: {},
  timeout: 2_000,
  concurrency: 1,
  backoff: { base: 1_000, max: 300_000 },
  maxAge: 86_400_000,
  ...over,
});

/** What `send` ends with against a receiver that answers `answer`: 'ok' or the NotifyError's kind, status and retry hold. */
async function outcome(answer: Answer, over: Partial<NotifyChannelConfig> = {}) {
  receiver = await startReceiver({ answer: () => answer });
  try {
    await createWebhook(channel(`${receiver.url}/hook`, over), { now: () => NOW }).send({ hello: 1 }, new AbortController().signal);
    return 'ok';
  } catch (err) {
    if (!(err instanceof NotifyError)) throw err;
    return { kind: err.kind, status: err.status, retryAfterMs: err.retryAfterMs, message: err.message };
  }
}

let receiver: Receiver | undefined;
afterEach(async () => {
  await receiver?.stop();
  receiver = undefined;
});

describe('webhook: what a receiver\'s answer means', () => {
  it('posts JSON with the channel\'s headers, and an Idempotency-Key for json receivers', async () => {
    receiver = await startReceiver({ answer: () => ({ status: 204 }) });
    await createWebhook(channel(`${receiver.url}/hook?key=abc`, { headers: { authorization: 'Bearer hook-token' } }), { now: () => NOW }).send({ a: 1 }, new AbortController().signal, 'T1:3:wall');
    const [r] = receiver.requests;
    expect(r).toMatchObject({ method: 'POST', path: '/hook', body: { a: 1 }, status: 204 });
    expect(r?.query.get('key')).toBe('abc');
    expect(r?.headers).toMatchObject({ 'content-type': 'application/json; charset=utf-8', authorization: 'Bearer hook-token', 'idempotency-key': 'T1:3:wall' });
  });

  it('2xx is delivered; 5xx, 408 and 429 are retried (Retry-After in seconds honoured); other 4xx are refused', async () => {
    expect(await outcome({ status: 200, body: 'ok' }, { format: 'slack' })).toBe('ok');
    expect(await outcome({ status: 202 }, { format: 'teams' })).toBe('ok');
    expect(await outcome({ status: 503, body: { message: 'maintenance' } })).toMatchObject({ kind: 'retry', status: 503, message: 'answered 503: {"message":"maintenance"}' });
    expect(await outcome({ status: 408 })).toMatchObject({ kind: 'retry', status: 408 });
    expect(await outcome({ status: 429, headers: { 'retry-after': '7' } })).toMatchObject({ kind: 'retry', status: 429, retryAfterMs: 7_000 });
    expect(await outcome({ status: 404, body: 'no_service' }, { format: 'slack' })).toMatchObject({ kind: 'refused', status: 404, message: 'answered 404: no_service' });
    expect(await outcome({ status: 400, body: 'invalid_payload' })).toMatchObject({ kind: 'refused', status: 400 });
  });

  it('a WeCom or DingTalk robot\'s 200 with an errcode: rate limits are retried a minute later, a bad key is refused', async () => {
    expect(await outcome({ status: 200, body: { errcode: 0, errmsg: 'ok' } }, { format: 'wecom' })).toBe('ok');
    expect(await outcome({ status: 200, body: { errcode: 45009, errmsg: 'api freq out of limit' } }, { format: 'wecom' })).toMatchObject({ kind: 'retry', retryAfterMs: 60_000 });
    expect(await outcome({ status: 200, body: { errcode: 93000, errmsg: 'invalid webhook url' } }, { format: 'wecom' })).toMatchObject({
      kind: 'refused',
      message: 'robot answered errcode 93000: invalid webhook url',
    });
    expect(await outcome({ status: 200, body: { errcode: 130101, errmsg: 'send too fast' } }, { format: 'dingtalk' })).toMatchObject({ kind: 'retry' });
    expect(await outcome({ status: 200, body: { errcode: 310000, errmsg: 'keywords not in content' } }, { format: 'dingtalk' })).toMatchObject({ kind: 'refused' });
    // A json receiver's body is its own business.
    expect(await outcome({ status: 200, body: { errcode: 93000 } }, { format: 'json' })).toBe('ok');
  });

  it('Teams\' old connector answers 200 with an error text: read as the status it names', async () => {
    expect(await outcome({ status: 200, body: 'Webhook message delivery failed with error: Microsoft Teams endpoint returned HTTP error 429' }, { format: 'teams' })).toMatchObject({
      kind: 'retry',
      status: 429,
    });
    expect(await outcome({ status: 200, body: '1' }, { format: 'teams' })).toBe('ok');
  });

  it('no answer within the timeout, a reset connection and a refused connection are retried, and say which', async () => {
    expect(await outcome('hold', { timeout: 100 })).toMatchObject({ kind: 'retry', message: 'no answer: no answer within 100 ms' });
    expect(await outcome('destroy')).toMatchObject({ kind: 'retry' });
    const closed = await startReceiver();
    await closed.stop();
    const err = await createWebhook(channel(`${closed.url}/hook`), { now: () => NOW })
      .send({}, new AbortController().signal)
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'retry', message: 'no answer: ECONNREFUSED' });
  });

  it('DingTalk signing: timestamp and sign = base64(HMAC-SHA256(secret, "<timestamp>\\n<secret>")) on the URL', async () => {
    receiver = await startReceiver();
    await createWebhook(channel(`${receiver.url}/robot/send?access_token=tok`, { format: 'dingtalk', secret: 'SEC123' }), { now: () => NOW }).send({}, new AbortController().signal);
    const q = receiver.requests[0]?.query;
    expect(q?.get('access_token')).toBe('tok');
    expect(q?.get('timestamp')).toBe(String(NOW));
    expect(q?.get('sign')).toBe(createHmac('sha256', 'SEC123').update(`${NOW}\nSEC123`).digest('base64'));
  });

  it('an abort while a request is in flight is not a failure: the abort itself is thrown', async () => {
    receiver = await startReceiver({ answer: () => 'hold' });
    const ac = new AbortController();
    const sent = createWebhook(channel(`${receiver.url}/hook`), { now: () => NOW }).send({}, ac.signal);
    await receiver.until(() => receiver!.requests.length === 1);
    ac.abort();
    await expect(sent).rejects.not.toBeInstanceOf(NotifyError);
  });
});
