import { summarize, type NotificationMessage } from '../message.ts';
import { cutBytes, footer, openOnBoard } from './text.ts';

/** DingTalk takes larger messages, but a notification is meant to be read on a phone. */
const MAX_BYTES = 8000;

/**
 * format `dingtalk`: a DingTalk (钉钉) custom robot, `msgtype: markdown` with a title.
 *   POST https://oapi.dingtalk.com/robot/send?access_token=<token>[&timestamp=..&sign=..]
 *   { "msgtype": "markdown", "markdown": { "title": "Andon [P1] New ticket: ...", "text": "#### [P1] New ticket: ...\n\n..." } }
 * The title is what the chat list and the phone's notification show. DingTalk markdown
 * needs a blank line between lines. "Andon" is in the title and the footer, so a robot
 * secured by the keyword "Andon" takes the messages.
 */
export function dingtalkMessage(m: NotificationMessage) {
  const s = summarize(m);
  const lines = [
    `#### ${s.headline}`,
    ...(s.detail ? [`> ${s.detail}`] : []),
    ...s.facts.map(([k, v]) => `- **${k}:** ${v}`),
    ...(s.link ? [`[${openOnBoard(m)}](${s.link})`] : []),
    `###### ${footer(m)}`,
  ];
  return { msgtype: 'markdown', markdown: { title: `Andon ${s.headline}`, text: cutBytes(lines.join('\n\n'), MAX_BYTES) } };
}
