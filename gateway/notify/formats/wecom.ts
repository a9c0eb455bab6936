import { summarize, type NotificationMessage } from '../message.ts';
import { cutBytes, footer, openOnBoard } from './text.ts';

/** WeCom robots take at most 4096 bytes of markdown content. */
const MAX_BYTES = 4096;

/** Plant text must not open or close WeCom's <font> tags. */
const safe = (s: string) => s.replace(/</g, '＜').replace(/>/g, '＞');

/**
 * format `wecom`: a WeCom (企业微信) group robot, `msgtype: markdown`.
 *   POST https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=<key>
 *   { "msgtype": "markdown", "markdown": { "content": "### <font color=\"warning\">[P1] New ticket: ...</font>\n..." } }
 * The robot answers HTTP 200 with `{ errcode, errmsg }`; gateway/notify/webhook.ts reads the errcode.
 */
export function wecomMessage(m: NotificationMessage) {
  const s = summarize(m);
  const color = s.priority === 'P0' || s.priority === 'P1' ? 'warning' : 'comment';
  const lines = [
    `### <font color="${color}">${safe(s.headline)}</font>`,
    ...(s.detail ? [`> ${safe(s.detail)}`] : []),
    ...s.facts.map(([k, v]) => `**${k}:** ${safe(v)}`),
    ...(s.link ? [`[${openOnBoard(m)}](${s.link})`] : []),
    `<font color="comment">${safe(footer(m))}</font>`,
  ];
  return { msgtype: 'markdown', markdown: { content: cutBytes(lines.join('\n'), MAX_BYTES) } };
}
