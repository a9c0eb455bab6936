import { defer, map, type MonoTypeOperatorFunction } from 'rxjs';
import type { TicketCommand } from './types.ts';

/**
 * Chatter (ISA-18.2): `count` raises of one key within `within` flag the
 * ticket `chattering`. It stays one ticket; every raise is an occurrence.
 *
 *   count: 3, within: 60s   raises  --R-R-R-----
 *                           flags   --.-.-c-----   (c = chattering)
 */
export function chatter(opts: { count: number; within: number }): MonoTypeOperatorFunction<TicketCommand> {
  return (commands) =>
    defer(() => {
      const raises = new Map<string, number[]>();
      return commands.pipe(
        map((cmd) => {
          if (cmd.type !== 'detect') return cmd;
          let times = raises.get(cmd.key);
          if (times === undefined) raises.set(cmd.key, (times = []));
          // The key's raises within the window, kept in place, in any order (a clock may go back).
          let kept = 0;
          for (const t of times) if (cmd.at - t < opts.within) times[kept++] = t;
          times.length = kept;
          times.push(cmd.at);
          // Only whether `count` of them fall within a window matters, and every window takes the latest
          // times first (t > at - within): the `count` latest answer it as all of them would. So the list
          // never holds more than `count`, however many raises a key gets (a flood: hundreds a minute,
          // each copied whole on every raise before).
          if (times.length > opts.count) {
            let oldest = 0;
            for (let i = 1; i < times.length; i++) if ((times[i] as number) < (times[oldest] as number)) oldest = i;
            times.splice(oldest, 1);
          }
          return times.length >= opts.count ? { ...cmd, flags: [...cmd.flags, 'chattering'] } : cmd;
        }),
      );
    });
}
