import { describe, expect, it } from 'vitest';
import { startWebhookReceiver, summarize, type Received } from './webhook.ts';

describe("the demo's webhook receiver", () => {
  it('answers like WeCom and hands each message over with a one-line summary', async () => {
    const got: Received[] = [];
    const rx = await startWebhookReceiver({ port: 0, onMessage: (m) => got.push(m) });
    try {
      const body = { msgtype: 'markdown', markdown: { content: '## <font color="warning">[P1] New ticket: sealer-01: alarm-stop</font>\n> seal jaw fault' } };
      const res = await fetch(`${rx.url}/hook/duty-supervisor`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ errcode: 0, errmsg: 'ok' });
      expect(got).toEqual([{ channel: 'duty-supervisor', body, summary: '[P1] New ticket: sealer-01: alarm-stop' }]);
      expect((await fetch(`${rx.url}/elsewhere`, { method: 'POST' })).status).toBe(404);
    } finally {
      await rx.stop();
    }
  });

  it('summarizes JSON, DingTalk, Slack and unknown bodies', () => {
    expect(summarize({ notification: { headline: '[P2] Escalated to level 2: feeder-3: voltage-sag' } })).toBe(
      '[P2] Escalated to level 2: feeder-3: voltage-sag',
    );
    expect(summarize({ msgtype: 'markdown', markdown: { title: 't', text: '### sealer-01 stopped\nmore' } })).toBe('sealer-01 stopped');
    expect(summarize({ text: 'plain *text*' })).toBe('plain text');
    expect(summarize({ odd: 1 })).toBe('{"odd":1}');
  });
});
