import type { NotificationMessage } from '../message.ts';

/** The last line of every human-readable message; "Andon" in it also satisfies a DingTalk robot's keyword check. */
export const footer = (m: NotificationMessage): string => `Andon ${m.ticket.gateway} · ticket ${m.ticket.id}`;

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
