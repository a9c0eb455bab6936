import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../test/forward/kit.ts';
import { notifyConfig, notifyCore } from '../../test/notify/kit.ts';
import { startReceiver, type Answer, type Receiver } from '../../test/notify/receiver.ts';

const OK: Answer = { status: 200, body: { errcode: 0, errmsg: 'ok' } };
const bodyOf = (r: { body: unknown }) => r.body as { msgtype?: string; markdown?: { content: string }; notification?: { kind: string }; ticket?: { asset: string } };
const assetIn = (r: { body: unknown }) => /New ticket: (\S+):/.exec(bodyOf(r).markdown?.content ?? '')?.[1];

describe('notifier: the queue, a real receiver, virtual time', () => {
  let tmp: ReturnType<typeof tempDir>;
  let receiver: Receiver;
  let core: Awaited<ReturnType<typeof notifyCore>> | undefined;
  beforeEach(async () => {
    tmp = tempDir('notify');
    receiver = await startReceiver();
  });
  afterEach(async () => {
    await core?.close();
    core = undefined;
    await receiver.stop();
    tmp.remove();
  });

  it('a P1 ticket reaches its channel as a WeCom robot message, and its queue row goes after the 2xx', async () => {
    core = await notifyCore(tmp.file, notifyConfig(receiver.url));
    core.notifier.start();
    const sent = core.outcomes(1);
    core.raise('sealer-01');
    expect(core.store.notifications.pending()).toBe(1); // committed with the ticket, before any request
    expect((await sent)[0]).toMatchObject({ channel: 'sup', kind: 'opened', outcome: 'sent', ticketId: core.ticket('sealer-01').id });
    expect(receiver.requests).toHaveLength(1);
    expect(receiver.requests[0]?.path).toBe('/sup');
    expect(bodyOf(receiver.requests[0]!)).toMatchObject({ msgtype: 'markdown' });
    expect(bodyOf(receiver.requests[0]!).markdown?.content).toContain('[P1] New ticket: sealer-01: alarm-stop');
    expect(core.store.notifications.pending()).toBe(0);
  });

  it('a P2 ticket notifies nobody', async () => {
    core = await notifyCore(tmp.file, notifyConfig(receiver.url));
    core.notifier.start();
    core.raise('sealer-01', 'warn');
    expect(core.store.notifications.pending()).toBe(0);
  });

  it('order per channel: a message backing off holds the ones behind it; all go in order once the receiver answers', async () => {
    receiver.answer = (_r, n) => (n === 0 ? { status: 503 } : OK);
    core = await notifyCore(tmp.file, notifyConfig(receiver.url));
    core.notifier.start();
    const retried = core.outcomes(1, (d) => d.outcome === 'retry');
    core.raise('a1');
    core.raise('a2');
    core.raise('a3');
    const [retry] = await retried;
    expect(receiver.requests.map(assetIn)).toEqual(['a1']);
    expect(retry).toMatchObject({ attempts: 1, error: 'answered 503' });
    expect(retry?.nextAttemptAt).toBeGreaterThan(core.clock.now());
    expect(retry?.nextAttemptAt).toBeLessThanOrEqual(core.clock.now() + 1_000);
    const sent = core.outcomes(3, (d) => d.outcome === 'sent');
    core.advance(1_000);
    await sent;
    expect(receiver.requests.map(assetIn)).toEqual(['a1', 'a1', 'a2', 'a3']);
    expect(receiver.delivered().map(assetIn)).toEqual(['a1', 'a2', 'a3']);
  });

  it('a 429 holds the channel for its Retry-After (capped at an hour), then the message goes once', async () => {
    receiver.answer = (_r, n) => (n === 0 ? { status: 429, headers: { 'retry-after': '120' } } : OK);
    core = await notifyCore(tmp.file, notifyConfig(receiver.url));
    core.notifier.start();
    const retried = core.outcomes(1);
    core.raise('sealer-01');
    expect((await retried)[0]).toMatchObject({ outcome: 'retry', nextAttemptAt: core.clock.now() + 120_000 });
    expect(core.store.notifications.list({ parked: false }).items[0]).toMatchObject({ attempts: 1, nextAttemptAt: core.clock.now() + 120_000, lastError: 'answered 429' });
    const sent = core.outcomes(1);
    core.advance(119_999);
    expect(receiver.requests).toHaveLength(1);
    core.advance(1);
    expect((await sent)[0]?.outcome).toBe('sent');
    expect(receiver.delivered()).toHaveLength(1);
  });

  it('a refused message (4xx) is parked with its reason and steps out of the line; the next one goes; a retry un-parks it', async () => {
    receiver.answer = (_r, n) => (n === 0 ? { status: 400, body: { errcode: 40008, errmsg: 'invalid message type' } } : OK);
    core = await notifyCore(tmp.file, notifyConfig(receiver.url));
    core.notifier.start();
    const outcomes = core.outcomes(2);
    core.raise('a1');
    core.raise('a2');
    expect((await outcomes).map((d) => d.outcome)).toEqual(['parked', 'sent']);
    const parked = core.store.notifications.list({ parked: true });
    expect(parked.total).toBe(1);
    expect(parked.items[0]).toMatchObject({ channel: 'sup', kind: 'opened', code: 'ANDON_NOTIFY_REFUSED', ticketId: core.ticket('a1').id });
    expect(parked.items[0]?.lastError).toContain('answered 400');
    expect(core.store.notifications.pending()).toBe(0);

    expect(core.store.notifications.retry(parked.items[0]!.id, core.clock.now())).toBe(true);
    const again = core.outcomes(1);
    core.notifier.wake();
    expect((await again)[0]).toMatchObject({ outcome: 'sent', ticketId: core.ticket('a1').id });
    expect(core.store.notifications.list({ parked: true }).total).toBe(0);
  });

  it('a failing channel does not hold another channel back', async () => {
    receiver.answer = (r) => (r.path === '/sup' ? { status: 502 } : OK);
    core = await notifyCore(tmp.file, notifyConfig(receiver.url));
    core.notifier.start();
    const vp = core.outcomes(1, (d) => d.channel === 'vp');
    core.raise('sealer-01');
    core.advance(600_000); // the escalation to vp
    expect((await vp)[0]).toMatchObject({ kind: 'escalated', outcome: 'sent' });
    expect(core.store.notifications.pendingByChannel()).toEqual(new Map([['sup', 1]]));
  });

  it('an alert acknowledged before it could go is dropped; an escalation notice still goes although the ticket is acknowledged', async () => {
    let up = false;
    receiver.answer = () => (up ? OK : { status: 503 });
    core = await notifyCore(tmp.file, notifyConfig(receiver.url));
    core.notifier.start();
    const failed = core.outcomes(1);
    core.raise('sealer-01');
    await failed;
    core.act('sealer-01', 'ack');
    const dropped = core.outcomes(1, (d) => d.channel === 'sup');
    const escalationFailed = core.outcomes(1, (d) => d.channel === 'vp');
    core.advance(600_000); // sup's alert is due again; level 1 (unless resolved) fires at 10 min
    expect((await dropped)[0]).toMatchObject({ kind: 'opened', outcome: 'dropped', error: 'the ticket is acknowledged since the alert was queued' });
    expect((await escalationFailed)[0]).toMatchObject({ kind: 'escalated', outcome: 'retry' });
    up = true;
    const sent = core.outcomes(1);
    core.advance(60_000);
    expect((await sent)[0]).toMatchObject({ channel: 'vp', kind: 'escalated', outcome: 'sent' });
    const delivered = receiver.delivered().map(bodyOf);
    expect(delivered).toHaveLength(1);
    expect(delivered[0]).toMatchObject({ notification: { kind: 'escalated' }, ticket: { asset: 'sealer-01', state: 'acknowledged', escalationLevel: 1 } });
    expect(core.store.notifications.pending()).toBe(0);
  });

  it('an alert whose ticket was shelved before it could go is dropped', async () => {
    let up = false;
    receiver.answer = () => (up ? OK : { status: 503 });
    core = await notifyCore(tmp.file, notifyConfig(receiver.url));
    core.notifier.start();
    const failed = core.outcomes(1);
    core.raise('sealer-01');
    await failed;
    core.act('sealer-01', 'shelve', { reason: 'seal jaw being replaced', duration: '1h' });
    expect(core.ticket('sealer-01').state).toBe('open');
    up = true;
    const dropped = core.outcomes(1);
    core.advance(10_000);
    expect((await dropped)[0]).toMatchObject({ outcome: 'dropped', error: 'the ticket was shelved before the alert could go' });
    expect(receiver.delivered()).toHaveLength(0);
  });

  it('a message still failing after the channel\'s maxAge is parked as ANDON_NOTIFY_EXPIRED', async () => {
    receiver.answer = () => ({ status: 500 });
    core = await notifyCore(tmp.file, notifyConfig(receiver.url, ', maxAge: 30s'));
    core.notifier.start();
    const parked = core.outcomes(1, (d) => d.outcome === 'parked');
    core.raise('sealer-01');
    for (let i = 0; i < 8; i++) {
      const next = core.outcomes(1);
      core.advance(10_000);
      if ((await next)[0]?.outcome === 'parked') break;
    }
    expect((await parked)[0]).toMatchObject({ code: 'ANDON_NOTIFY_EXPIRED' });
    expect(core.store.notifications.list({ parked: true }).items[0]?.lastError).toMatch(/^still failing after \d+ attempts over maxAge 30000 ms: answered 500/);
  });

  it('a message already older than maxAge when it could first go is parked unsent; an admin retry gives it a fresh maxAge', async () => {
    core = await notifyCore(tmp.file, notifyConfig(receiver.url, ', maxAge: 30s'));
    core.raise('sealer-01'); // the notifier is not running (the gateway is down)
    core.advance(60_000);
    const parked = core.outcomes(1);
    core.notifier.start();
    expect((await parked)[0]).toMatchObject({ outcome: 'parked', code: 'ANDON_NOTIFY_EXPIRED', error: 'not sent: 60 s old, over maxAge 30000 ms' });
    expect(receiver.requests).toHaveLength(0);
    const [row] = core.store.notifications.list({ parked: true }).items;
    core.store.notifications.retry(row!.id, core.clock.now());
    expect(core.store.notifications.get(row!.id)).toMatchObject({ parkedAt: null, retriedAt: core.clock.now() });
    const sent = core.outcomes(1);
    core.notifier.wake();
    expect((await sent)[0]?.outcome).toBe('sent');
  });

  it('at most `concurrency` messages of a channel are in flight', async () => {
    receiver.answer = () => 'hold';
    core = await notifyCore(tmp.file, notifyConfig(receiver.url, ', concurrency: 2'));
    core.notifier.start();
    for (const a of ['a1', 'a2', 'a3', 'a4', 'a5']) core.raise(a);
    await receiver.until(() => receiver.requests.length === 2);
    expect(core.notifier.inFlight()).toBe(2);
    expect(receiver.requests.map(assetIn)).toEqual(['a1', 'a2']);
  });

  it('stop aborts a message in flight in bounded time; its row stays and goes after the next start', async () => {
    receiver.answer = () => 'hold';
    core = await notifyCore(tmp.file, notifyConfig(receiver.url));
    core.notifier.start();
    core.raise('sealer-01');
    await receiver.until(() => receiver.requests.length === 1);
    const t0 = performance.now();
    await core.close();
    core = undefined;
    expect(performance.now() - t0).toBeLessThan(2_000);

    receiver.answer = () => OK;
    core = await notifyCore(tmp.file, notifyConfig(receiver.url));
    expect(core.store.notifications.pending()).toBe(1);
    const sent = core.outcomes(1);
    core.notifier.start();
    expect((await sent)[0]?.outcome).toBe('sent');
    expect(receiver.delivered()).toHaveLength(1);
  });

  it('rows queued for a channel that is no longer configured are parked at start (ANDON_NOTIFY_UNKNOWN_CHANNEL)', async () => {
    receiver.answer = () => 'hold';
    core = await notifyCore(tmp.file, notifyConfig(receiver.url));
    core.raise('sealer-01'); // not started: the row waits
    await core.close();
    const config = notifyConfig(receiver.url);
    const { sup: _removed, ...rest } = config.notify;
    core = await notifyCore(tmp.file, { ...config, notify: rest });
    core.notifier.start();
    expect(core.store.notifications.list({ parked: true }).items).toMatchObject([{ channel: 'sup', code: 'ANDON_NOTIFY_UNKNOWN_CHANNEL', lastError: 'channel sup is not under notify: in the config' }]);
  });
});
