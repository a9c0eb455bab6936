import { defer, map, type MonoTypeOperatorFunction } from 'rxjs';
import { EpisodeLog } from './episodes.ts';
import { recurrencePattern } from './time-pattern.ts';
import type { TicketCommand } from './types.ts';

export interface RecurrenceOptions {
  /** `count` episodes of one key `within` the window make it recurring. */
  count: number;
  within: number;
  /** Raises closer than this are one episode (the chatter window). */
  episodeGap: number;
  /** The gateway's timezone, for "daily around 16:00". */
  timezone: string;
  /** Raises from before this run (the store's history), oldest first. */
  history?: { key: string; asset: string | null; fault: string; at: number }[];
}

/**
 * Recurrence: `count` episodes of a key within the window — across the
 * ticket's occurrences and earlier tickets with the same key — flag the
 * detection `recurring` and attach the pattern of their times (daily at
 * HH:MM, weekly on a day, or irregular).
 *
 *   count: 3   key k  --R(day1 16:00)--R(day2 16:02)--R(day3 15:58)--
 *              out    --.--------------.--------------R{daily 16:00}-
 */
export function recurrence(opts: RecurrenceOptions): MonoTypeOperatorFunction<TicketCommand> {
  return (commands) =>
    defer(() => {
      const log = new EpisodeLog(opts.episodeGap, opts.within);
      for (const h of opts.history ?? []) log.add(h.key, h.asset, h.fault, h.at);
      return commands.pipe(
        map((cmd) => {
          if (cmd.type !== 'detect') return cmd;
          log.add(cmd.key, cmd.asset, cmd.fault, cmd.at);
          const episodes = log.of(cmd.key, cmd.at, opts.within);
          if (episodes.length < opts.count) return cmd;
          return { ...cmd, flags: [...cmd.flags, 'recurring'], recurrence: recurrencePattern(episodes, opts.timezone) };
        }),
      );
    });
}
