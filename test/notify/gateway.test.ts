import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/load.ts';
import { startGateway } from '../../gateway/main.ts';
import { VirtualScheduler } from '../../rules/virtual-scheduler.ts';
import { tempDir } from '../forward/kit.ts';
import { nextOf } from './kit.ts';
import { startReceiver, type Answer, type Receiver } from './receiver.ts';

const INGEST = { authorization: 'Bearer ingest-token-0123456789', 'content-type': 'application/json' };
const ADMIN = { authorization: 'Bearer admin-token-01234567890' };
const OPERATOR = { authorization: 'Bearer operator-token-0123456789', 'content-type': 'application/json' };
const OK: Answer = { status: 200, body: { errcode: 0, errmsg: 'ok' } };
const silent = pino({ level: 'silent' });

/** P1 alarms and P2 warnings of one fault (a warning then an alarm raises the ticket to P1); routing notifies `duty` (WeCom), escalation `vp` (DingTalk). */
const config = (dataDir: string, url: string, locale = 'en') =>
  parseConfig(`
gateway:
  id: notify-e2e
  timezone: Asia/Shanghai
  locale: ${locale}
  dataDir: ${dataDir}
  publicUrl: https://andon.plant-a.example
  http: { port: 0 }
  auth:
    tokens:
      - { name: mes, role: ingest, token: ingest-token-0123456789 }
      - { name: root, role: admin, token: admin-token-01234567890 }
      - { name: ops, role: operator, token: operator-token-0123456789 }
sources: [ { id: mes-http, type: http } ]
rules:
  - { id: alarms, when: { tag: "**/alarm/**", equals: true }, fault: stop, category: hardware, priority: P1 }
  - { id: warnings, when: { tag: "**/warn/**", equals: true }, fault: stop, category: hardware, priority: P2 }
routing:
  - { match: { category: hardware }, assign: maintenance-packaging, notify: [duty] }
escalation:
  - { after: respondBy, unless: acknowledged, level: 1, notify: [vp] }
notify:
  duty: { type: webhook, format: wecom, url: "${url}/cgi-bin/webhook/send?key=wecom-key-0123456789abcdef", backoff: { base: 20ms, max: 200ms } }
  vp: { type: webhook, format: dingtalk, url: "${url}/robot/send?access_token=dingtalk-token-0123456789", backoff: { base: 20ms, max: 200ms } }
`);

type Gateway = Awaited<ReturnType<typeof startGateway>>;
const signal = (gw: Gateway, tag: string) => fetch(`${gw.address}/api/v1/signals`, { method: 'POST', headers: INGEST, body: JSON.stringify({ tag, value: true }) });
const wecomContent = (r: { body: unknown }) => (r.body as { markdown: { content: string } }).markdown.content;

describe('notifications through startGateway and a real webhook receiver', () => {
  let tmp: ReturnType<typeof tempDir>;
  let receiver: Receiver;
  let gw: Gateway | undefined;
  beforeEach(async () => {
    tmp = tempDir('notify-e2e');
    receiver = await startReceiver();
  });
  afterEach(async () => {
    await gw?.stop();
    gw = undefined;
    await receiver.stop();
    tmp.remove();
  });

  it('gateway.locale zh-CN: the WeCom message comes in Chinese, plant names as they are', async () => {
    gw = await startGateway(config(tmp.dir, receiver.url, 'zh-CN'), { logger: silent });
    const sent = nextOf(gw.notifying!.notifier.deliveries$, (d) => d.outcome === 'sent');
    expect((await signal(gw, 'packaging/sealer-01/alarm/E21')).status).toBe(202);
    await sent;
    const content = wecomContent(receiver.requests[0]!);
    const t = gw.store.liveByKey('sealer-01/stop');
    expect(content).toContain('### <font color="warning">[P1] 新工单: sealer-01: stop</font>');
    expect(content).toContain('**状态:** 未确认');
    expect(content).toMatch(/\*\*响应期限:\*\* \d{4}-\d\d-\d\d \d\d:\d\d GMT\+8/);
    expect(content).toContain(`[在看板上打开](https://andon.plant-a.example/?ticket=${t?.id})`);
    expect(content).not.toMatch(/New ticket|Respond by|Open on the board/);
  });

  it('a P1 ticket: the WeCom receiver gets the robot message with the board link, and the metrics count it', async () => {
    gw = await startGateway(config(tmp.dir, receiver.url), { logger: silent });
    const sent = nextOf(gw.notifying!.notifier.deliveries$, (d) => d.outcome === 'sent');
    expect((await signal(gw, 'packaging/sealer-01/alarm/E21')).status).toBe(202);
    await sent;
    const [r] = receiver.requests;
    const t = gw.store.liveByKey('sealer-01/stop');
    expect(r?.path).toBe('/cgi-bin/webhook/send');
    expect(r?.query.get('key')).toBe('wecom-key-0123456789abcdef');
    expect(r?.body).toMatchObject({ msgtype: 'markdown' });
    expect(wecomContent(r!)).toContain('### <font color="warning">[P1] New ticket: sealer-01: stop</font>');
    expect(wecomContent(r!)).toContain(`[Open on the board](https://andon.plant-a.example/?ticket=${t?.id})`);
    expect(receiver.delivered()).toHaveLength(1);
    const metrics = await (await fetch(`${gw.address}/metrics`)).text();
    expect(metrics).toMatch(/^andon_notifications_total\{channel="duty",outcome="sent"\} 1$/m);
    expect(metrics).toMatch(/^andon_notifications_total\{channel="vp",outcome="sent"\} 0$/m);
    expect(metrics).toMatch(/^andon_notifications_pending 0$/m);
  });

  it('an escalation in virtual time: nobody acknowledges the P1 within 30 min, the DingTalk receiver is told', async () => {
    const clock = new VirtualScheduler(Date.parse('2026-01-20T08:00:00Z'));
    gw = await startGateway(config(tmp.dir, receiver.url), { logger: silent, scheduler: clock });
    await signal(gw, 'packaging/sealer-01/alarm/E21');
    await receiver.until(() => receiver.delivered().length === 1);
    clock.advanceTo(clock.now() + 29 * 60_000);
    expect(gw.store.liveByKey('sealer-01/stop')?.escalationLevel).toBe(0);
    clock.advanceTo(clock.now() + 60_000);
    await receiver.until(() => receiver.delivered().length === 2);
    const r = receiver.requests[1];
    expect(r?.path).toBe('/robot/send');
    expect(r?.query.get('access_token')).toBe('dingtalk-token-0123456789');
    expect(r?.body).toMatchObject({ msgtype: 'markdown', markdown: { title: 'Andon [P1] Escalated to level 1: sealer-01: stop' } });
    expect((r?.body as { markdown: { text: string } }).markdown.text).toContain('- **Respond by:** 2026-01-20 16:30 GMT+8 (missed)');
  });

  it('a receiver answering 500 twice then 200: the message is delivered once, after retries', async () => {
    receiver.answer = (_r, n) => (n < 2 ? { status: 500 } : OK);
    gw = await startGateway(config(tmp.dir, receiver.url), { logger: silent });
    const sent = nextOf(gw.notifying!.notifier.deliveries$, (d) => d.outcome === 'sent');
    await signal(gw, 'packaging/sealer-01/alarm/E21');
    await sent;
    expect(receiver.requests.map((r) => r.status)).toEqual([500, 500, 200]);
    expect(receiver.delivered()).toHaveLength(1);
    expect(gw.store.notifications.pending()).toBe(0);
  });

  it('the receiver is down during the event; the gateway is stopped and started again on the same SQLite file; the message arrives', async () => {
    const port = receiver.port;
    await receiver.stop();
    gw = await startGateway(config(tmp.dir, `http://127.0.0.1:${port}`), { logger: silent });
    const failed = nextOf(gw.notifying!.notifier.deliveries$, (d) => d.outcome === 'retry');
    await signal(gw, 'packaging/sealer-01/alarm/E21');
    expect((await failed).error).toBe('no answer: ECONNREFUSED');
    await gw.stop();
    gw = undefined;

    receiver = await startReceiver({ port });
    gw = await startGateway(config(tmp.dir, receiver.url), { logger: silent });
    await receiver.until(() => receiver.delivered().length === 1);
    expect(wecomContent(receiver.requests[0]!)).toContain('[P1] New ticket: sealer-01: stop');
  });

  it('a receiver refusing (4xx): the message is parked, listed for admins, and goes when an admin retries it', async () => {
    receiver.answer = (_r, n) => (n === 0 ? { status: 200, body: { errcode: 93000, errmsg: 'invalid webhook url' } } : OK);
    gw = await startGateway(config(tmp.dir, receiver.url), { logger: silent });
    const parked = nextOf(gw.notifying!.notifier.deliveries$, (d) => d.outcome === 'parked');
    await signal(gw, 'packaging/sealer-01/alarm/E21');
    await parked;

    expect((await fetch(`${gw.address}/api/v1/notifications?state=parked`, { headers: OPERATOR })).status).toBe(403);
    const list = (await (await fetch(`${gw.address}/api/v1/notifications?state=parked`, { headers: ADMIN })).json()) as { items: { id: number; code: string; lastError: string; channel: string }[]; total: number };
    expect(list.total).toBe(1);
    expect(list.items[0]).toMatchObject({ channel: 'duty', code: 'ANDON_NOTIFY_REFUSED', lastError: 'robot answered errcode 93000: invalid webhook url' });
    const pending = (await (await fetch(`${gw.address}/api/v1/notifications`, { headers: ADMIN })).json()) as { total: number };
    expect(pending.total).toBe(0);

    const missing = await fetch(`${gw.address}/api/v1/notifications/999/retry`, { method: 'POST', headers: ADMIN });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ code: 'ANDON_NOTIFY_NOT_PARKED' });
    const sent = nextOf(gw.notifying!.notifier.deliveries$, (d) => d.outcome === 'sent');
    const retry = await fetch(`${gw.address}/api/v1/notifications/${list.items[0]?.id}/retry`, { method: 'POST', headers: ADMIN });
    expect(retry.status).toBe(200);
    expect(await retry.json()).toMatchObject({ id: list.items[0]?.id, parkedAt: null, attempts: 0 });
    await sent;
    expect(receiver.requests).toHaveLength(2); // the refused one and the retried one
    const metrics = await (await fetch(`${gw.address}/metrics`)).text();
    expect(metrics).toMatch(/^andon_notifications_total\{channel="duty",outcome="parked"\} 1$/m);
    expect(metrics).toMatch(/^andon_notifications_total\{channel="duty",outcome="sent"\} 1$/m);
  });

  it('a shelved ticket raised to P1 notifies nobody; the same raise on a ticket that is not shelved does', async () => {
    gw = await startGateway(config(tmp.dir, receiver.url), { logger: silent });
    await signal(gw, 'packaging/sealer-01/warn/W1');
    await signal(gw, 'packaging/sealer-02/warn/W1');
    const shelved = gw.store.liveByKey('sealer-01/stop');
    const shelve = await fetch(`${gw.address}/api/v1/tickets/${shelved?.id}/transitions`, {
      method: 'POST',
      headers: OPERATOR,
      body: JSON.stringify({ action: 'shelve', by: 'wang', reason: 'known, seal jaw being replaced', duration: '2h' }),
    });
    expect(shelve.status, await shelve.clone().text()).toBe(200);
    const sent = nextOf(gw.notifying!.notifier.deliveries$, (d) => d.outcome === 'sent');
    await signal(gw, 'packaging/sealer-01/alarm/E21');
    await signal(gw, 'packaging/sealer-02/alarm/E21');
    expect(gw.store.liveByKey('sealer-01/stop')?.priority).toBe('P1');
    await sent;
    expect(wecomContent(receiver.requests[0]!)).toContain('[P1] Priority raised to P1: sealer-02: stop');
    // Queued in the same transaction as the raise: had sealer-01's raise queued anything, it would be there now.
    expect(gw.store.notifications.list({ parked: false }).total + gw.store.notifications.list({ parked: true }).total).toBe(0);
    expect(receiver.requests).toHaveLength(1);
  });
});
