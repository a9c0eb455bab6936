import { describe, expect, it } from 'vitest';
import { event, T0, ticketDoc, ticketOf } from '../../test/ticket-fixture.ts';
import { summarize, warningText, type NotificationMessage } from './message.ts';
import { wecomMessage } from './formats/wecom.ts';

/** An early warning's notification: its own sentence, in the gateway's locale, with the expected time among the facts. */
const warned = (cause: object, leadSeconds: number, locale: 'en' | 'zh-CN' = 'en'): NotificationMessage => ({
  id: 9,
  channel: 'duty-supervisor',
  kind: 'warning',
  event: event('warned', T0, { warning: 'x:2', cause, leadSeconds, expectedBy: new Date(T0 + 98_000).toISOString() }),
  ticket: ticketOf(ticketDoc({ recurrence: { count: 5, pattern: 'daily', at: '16:00', day: null, spreadMinutes: 3, next: null } })),
  publicUrl: null,
  timezone: 'Asia/Shanghai',
  locale,
});
const SAG = { asset: 'feeder-3', fault: 'voltage-sag', support: 5, of: 5 };

describe('early warning messages', () => {
  it('say what is likely, within how long, and why, with how often the cause came true', () => {
    const s = summarize(warned(SAG, 65));
    expect(s.headline).toBe('[P1] Early warning: sealer-01: alarm-stop is likely within ~65 s: feeder-3 voltage-sag, 5 of 5 times');
    expect(s.facts).toContainEqual(['Expected by', '2026-01-20 16:02 GMT+8']);
    expect(warningText(warned(SAG, 900))).toBe('sealer-01: alarm-stop is likely within ~15 min: feeder-3 voltage-sag, 5 of 5 times');
    expect(warningText(warned({ pattern: 'daily', support: 5 }, 900))).toBe('sealer-01: alarm-stop is likely within ~15 min: it recurs daily around 16:00');
  });

  it('are in the gateway locale (zh-CN), plant names as they are', () => {
    expect(summarize(warned(SAG, 65, 'zh-CN')).headline).toBe('[P1] 预警: sealer-01: alarm-stop 可能在约 65 秒 内发生：feeder-3 voltage-sag，5 次中 5 次如此');
    const body = wecomMessage(warned(SAG, 65, 'zh-CN')) as { markdown: { content: string } };
    expect(body.markdown.content).toContain('预计最迟');
  });
});
