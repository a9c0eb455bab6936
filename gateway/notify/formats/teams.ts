import { summarize, type NotificationMessage } from '../message.ts';
import { footer, openOnBoard } from './text.ts';

/**
 * format `teams`: a Microsoft Teams Workflows webhook ("Post to a channel when a
 * webhook request is received"; also the older incoming webhook connector):
 * an Adaptive Card in `attachments`.
 *   { "type": "message", "attachments": [ { "contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": null,
 *       "content": { "type": "AdaptiveCard", "version": "1.4", "body": [ TextBlock, TextBlock?, FactSet, TextBlock ], "actions": [ Action.OpenUrl ]? } } ] }
 */
export function teamsMessage(m: NotificationMessage) {
  const s = summarize(m);
  const urgent = s.priority === 'P0' || s.priority === 'P1';
  const body: unknown[] = [
    { type: 'TextBlock', text: s.headline, weight: 'Bolder', size: 'Medium', wrap: true, ...(urgent ? { color: 'Attention' } : {}) },
    ...(s.detail ? [{ type: 'TextBlock', text: s.detail, wrap: true }] : []),
    { type: 'FactSet', facts: s.facts.map(([title, value]) => ({ title, value })) },
    { type: 'TextBlock', text: footer(m), isSubtle: true, size: 'Small', wrap: true },
  ];
  const content = {
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    type: 'AdaptiveCard',
    version: '1.4',
    msteams: { width: 'Full' },
    body,
    ...(s.link ? { actions: [{ type: 'Action.OpenUrl', title: openOnBoard(m), url: s.link }] } : {}),
  };
  return { type: 'message', attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null, content }] };
}
