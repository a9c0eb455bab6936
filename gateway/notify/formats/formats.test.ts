import { describe, expect, it } from 'vitest';
import { event, T0, ticketDoc, ticketOf } from '../../../test/ticket-fixture.ts';
import { summarize, type NotificationMessage } from '../message.ts';
import { dingtalkMessage } from './dingtalk.ts';
import { FORMATS } from './index.ts';
import { jsonMessage } from './json.ts';
import { slackMessage } from './slack.ts';
import { teamsMessage } from './teams.ts';
import { wecomMessage } from './wecom.ts';

const ticket = ticketOf(ticketDoc());
const opened: NotificationMessage = {
  id: 7,
  channel: 'duty-supervisor',
  kind: 'opened',
  event: event('opened', T0, { tag: 'packaging/sealer-01/alarm/E21', value: true }),
  ticket,
  publicUrl: 'https://andon.plant-a.example/',
  timezone: 'Asia/Shanghai',
};
const LINK = 'https://andon.plant-a.example/?ticket=01JH7SEALER01';

describe('message formats: the exact body each receiver expects', () => {
  it('wecom: a robot markdown message with the headline in warning colour, the facts and the board link', () => {
    expect(wecomMessage(opened)).toEqual({
      msgtype: 'markdown',
      markdown: {
        content: [
          '### <font color="warning">[P1] New ticket: sealer-01: alarm-stop</font>',
          '> seal jaw fault',
          '**Priority:** P1',
          '**Asset:** sealer-01',
          '**Fault:** alarm-stop',
          '**Area:** packaging',
          '**State:** open',
          '**Respond by:** 2026-01-20 16:31 GMT+8',
          '**Escalation level:** 0',
          '**Assigned to:** maintenance-packaging',
          '**Occurrences:** 1',
          `[Open on the board](${LINK})`,
          '<font color="comment">Andon plant-a-line-1 · ticket 01JH7SEALER01</font>',
        ].join('\n'),
      },
    });
  });

  it('wecom: plant text cannot open font tags, and the content stays within the robot\'s 4096 bytes', () => {
    const long = ticketOf(ticketDoc({ title: '<font color="info">x</font>', evidence: [{ tag: 'a/b/alarm/E1', value: true, ts: opened.ticket.openedAt, message: '温度过高'.repeat(2000) }] }));
    const content = (wecomMessage({ ...opened, ticket: long }) as { markdown: { content: string } }).markdown.content;
    expect(content).not.toContain('<font color="info">');
    expect(Buffer.byteLength(content)).toBeLessThanOrEqual(4096);
  });

  it('dingtalk: markdown with a title (what the phone shows), lines a blank line apart, "Andon" for a keyword robot', () => {
    expect(dingtalkMessage({ ...opened, kind: 'escalated', event: event('escalated', T0 + 1_800_000, { level: 1, notified: ['duty-supervisor'] }) })).toEqual({
      msgtype: 'markdown',
      markdown: {
        title: 'Andon [P1] Escalated to level 1: sealer-01: alarm-stop',
        text: [
          '#### [P1] Escalated to level 1: sealer-01: alarm-stop',
          '> seal jaw fault',
          '- **Priority:** P1',
          '- **Asset:** sealer-01',
          '- **Fault:** alarm-stop',
          '- **Area:** packaging',
          '- **State:** open',
          '- **Respond by:** 2026-01-20 16:31 GMT+8',
          '- **Escalation level:** 0',
          '- **Assigned to:** maintenance-packaging',
          '- **Occurrences:** 1',
          `[Open on the board](${LINK})`,
          '###### Andon plant-a-line-1 · ticket 01JH7SEALER01',
        ].join('\n\n'),
      },
    });
  });

  it('slack: fallback text plus blocks (header, section, fields, link button, context); mrkdwn control characters escaped', () => {
    const t = ticketOf(ticketDoc({ title: 'sealer-01: seal <jaw> & knife', priority: 'P0' }));
    expect(slackMessage({ ...opened, ticket: t })).toEqual({
      text: '[P0] New ticket: sealer-01: seal &lt;jaw&gt; &amp; knife',
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: '[P0] New ticket: sealer-01: seal <jaw> & knife', emoji: true } },
        { type: 'section', text: { type: 'mrkdwn', text: '*sealer-01: seal &lt;jaw&gt; &amp; knife*\n>seal jaw fault' } },
        {
          type: 'section',
          fields: [
            { type: 'mrkdwn', text: '*Priority*\nP0' },
            { type: 'mrkdwn', text: '*Asset*\nsealer-01' },
            { type: 'mrkdwn', text: '*Fault*\nalarm-stop' },
            { type: 'mrkdwn', text: '*Area*\npackaging' },
            { type: 'mrkdwn', text: '*State*\nopen' },
            { type: 'mrkdwn', text: '*Respond by*\n2026-01-20 16:31 GMT+8' },
            { type: 'mrkdwn', text: '*Escalation level*\n0' },
            { type: 'mrkdwn', text: '*Assigned to*\nmaintenance-packaging' },
            { type: 'mrkdwn', text: '*Occurrences*\n1' },
          ],
        },
        { type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open on the board' }, url: LINK }] },
        { type: 'context', elements: [{ type: 'mrkdwn', text: 'Andon plant-a-line-1 · ticket 01JH7SEALER01' }] },
      ],
    });
  });

  it('teams: a message with one Adaptive Card attachment (headline, detail, FactSet, footer, Action.OpenUrl)', () => {
    const acked = ticketOf(ticketDoc({ state: 'acknowledged', breaches: ['respond'], escalationLevel: 1 }));
    const body = teamsMessage({ ...opened, kind: 'raised', ticket: acked });
    expect(body).toEqual({
      type: 'message',
      attachments: [
        {
          contentType: 'application/vnd.microsoft.card.adaptive',
          contentUrl: null,
          content: {
            $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
            type: 'AdaptiveCard',
            version: '1.4',
            msteams: { width: 'Full' },
            body: [
              { type: 'TextBlock', text: '[P1] Priority raised to P1: sealer-01: alarm-stop', weight: 'Bolder', size: 'Medium', wrap: true, color: 'Attention' },
              { type: 'TextBlock', text: 'seal jaw fault', wrap: true },
              {
                type: 'FactSet',
                facts: [
                  { title: 'Priority', value: 'P1' },
                  { title: 'Asset', value: 'sealer-01' },
                  { title: 'Fault', value: 'alarm-stop' },
                  { title: 'Area', value: 'packaging' },
                  { title: 'State', value: 'acknowledged' },
                  { title: 'Resolve by', value: '2026-01-21 00:01 GMT+8' },
                  { title: 'Escalation level', value: '1' },
                  { title: 'Assigned to', value: 'maintenance-packaging' },
                  { title: 'Occurrences', value: '1' },
                ],
              },
              { type: 'TextBlock', text: 'Andon plant-a-line-1 · ticket 01JH7SEALER01', isSubtle: true, size: 'Small', wrap: true },
            ],
            actions: [{ type: 'Action.OpenUrl', title: 'Open on the board', url: LINK }],
          },
        },
      ],
    });
  });

  it('a reading is shown with its unit: the newest evidence, as the connector rounded it', () => {
    const sag = ticketOf(
      ticketDoc({
        evidence: [
          { tag: 'packaging/sealer-01/alarm/E21', value: true, ts: opened.ticket.openedAt },
          { tag: 'utilities/feeder-3/voltage', value: 196.4, unit: 'V', ts: opened.ticket.openedAt },
        ],
      }),
    );
    const m = { ...opened, ticket: sag };
    expect(summarize(m).facts.slice(0, 4)).toEqual([
      ['Priority', 'P1'],
      ['Asset', 'sealer-01'],
      ['Fault', 'alarm-stop'],
      ['Reading', 'utilities/feeder-3/voltage = 196.4 V'],
    ]);
    expect((wecomMessage(m) as { markdown: { content: string } }).markdown.content).toContain('**Reading:** utilities/feeder-3/voltage = 196.4 V');
    expect(JSON.stringify(teamsMessage(m))).toContain('"title":"Reading","value":"utilities/feeder-3/voltage = 196.4 V"');
    // A number without a unit is shown bare; a text reading with a unit keeps it; an alarm's true is no reading.
    const withValue = (value: unknown, unit?: string) =>
      summarize({ ...opened, ticket: ticketOf(ticketDoc({ evidence: [{ tag: 'line-1/x', value, ts: opened.ticket.openedAt, ...(unit ? { unit } : {}) }] })) }).facts.find(([k]) => k === 'Reading')?.[1];
    expect(withValue(81)).toBe('line-1/x = 81');
    expect(withValue('HIGH', 'bar')).toBe('line-1/x = "HIGH" bar');
    expect(withValue(true)).toBeUndefined();
  });

  it('gateway.locale zh-CN: headline, fact labels, state, link and footer in Chinese; plant text and times as in en', () => {
    const zh: NotificationMessage = { ...opened, locale: 'zh-CN' };
    expect((wecomMessage(zh) as { markdown: { content: string } }).markdown.content).toBe(
      [
        '### <font color="warning">[P1] 新工单: sealer-01: alarm-stop</font>',
        '> seal jaw fault',
        '**优先级:** P1',
        '**设备:** sealer-01',
        '**故障:** alarm-stop',
        '**区域:** packaging',
        '**状态:** 未确认',
        '**响应期限:** 2026-01-20 16:31 GMT+8',
        '**升级级别:** 0',
        '**指派给:** maintenance-packaging',
        '**发生次数:** 1',
        `[在看板上打开](${LINK})`,
        '<font color="comment">Andon plant-a-line-1 · 工单 01JH7SEALER01</font>',
      ].join('\n'),
    );
    const esc = dingtalkMessage({ ...zh, kind: 'escalated', event: event('escalated', T0 + 1_800_000, { level: 2 }) });
    expect(esc.markdown.title).toBe('Andon [P1] 升级至第 2 级: sealer-01: alarm-stop');
    const slack = JSON.stringify(slackMessage(zh));
    const teams = JSON.stringify(teamsMessage(zh));
    for (const body of [slack, teams]) {
      expect(body).toContain('在看板上打开');
      expect(body).not.toMatch(/Open on the board|Respond by|Occurrences/);
    }
  });

  it('json: the notification, the Ticket JSON as it is now, and the event that caused it', () => {
    expect(jsonMessage(opened)).toEqual({
      notification: { id: 7, channel: 'duty-supervisor', kind: 'opened', headline: '[P1] New ticket: sealer-01: alarm-stop', link: LINK },
      ticket,
      event: opened.event,
    });
  });

  it('without gateway.publicUrl no format carries a link; a missed deadline says so', () => {
    const m = { ...opened, publicUrl: null, ticket: ticketOf(ticketDoc({ breaches: ['respond'] })) };
    for (const f of Object.values(FORMATS)) expect(JSON.stringify(f(m))).not.toContain('andon.plant-a.example');
    expect(JSON.stringify(slackMessage(m))).not.toContain('"actions"');
    expect(JSON.stringify(teamsMessage(m))).not.toContain('Action.OpenUrl');
    expect((wecomMessage(m) as { markdown: { content: string } }).markdown.content).toContain('**Respond by:** 2026-01-20 16:31 GMT+8 (missed)');
  });
});
