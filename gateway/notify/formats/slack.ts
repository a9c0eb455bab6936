import { oneLine, summarize, type NotificationMessage } from '../message.ts';
import { footer, openOnBoard } from './text.ts';

/** Slack mrkdwn treats &, < and > as control characters. */
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * format `slack`: a Slack incoming webhook.
 *   { "text": "<headline: the notification's fallback>", "blocks": [ header, section (title, detail), section (fields), actions (board link), context ] }
 * Limits kept: header ≤ 150 characters, ≤ 10 fields per section.
 */
export function slackMessage(m: NotificationMessage) {
  const s = summarize(m);
  const blocks: unknown[] = [
    { type: 'header', text: { type: 'plain_text', text: oneLine(s.headline, 150), emoji: true } },
    { type: 'section', text: { type: 'mrkdwn', text: `*${esc(s.title)}*${s.detail ? `\n>${esc(s.detail)}` : ''}` } },
    { type: 'section', fields: s.facts.slice(0, 10).map(([k, v]) => ({ type: 'mrkdwn', text: `*${esc(k)}*\n${esc(v)}` })) },
  ];
  if (s.link) blocks.push({ type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: openOnBoard(m) }, url: s.link }] });
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: esc(footer(m)) }] });
  return { text: esc(s.headline), blocks };
}
