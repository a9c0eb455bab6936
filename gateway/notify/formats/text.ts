import { textsOf, type NotificationMessage } from '../message.ts';

/** The last line of every human-readable message; "Andon" in it (every locale) also satisfies a DingTalk robot's keyword check. */
export const footer = (m: NotificationMessage): string => textsOf(m)('notify.footer', { gateway: m.ticket.gateway, id: m.ticket.id });

/** The board link's text, in the message's locale. */
export const openOnBoard = (m: NotificationMessage): string => textsOf(m)('notify.openBoard');

/** Cuts `s` to at most `max` UTF-8 bytes on a character boundary (WeCom counts bytes). */
export function cutBytes(s: string, max: number): string {
  if (Buffer.byteLength(s) <= max) return s;
  let out = '';
  let n = 0;
  for (const ch of s) {
    const b = Buffer.byteLength(ch);
    if (n + b > max - 3) break;
    out += ch;
    n += b;
  }
  return `${out}…`;
}
