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
          const times = (raises.get(cmd.key) ?? []).filter((t) => cmd.at - t < opts.within);
          times.push(cmd.at);
          raises.set(cmd.key, times);
          return times.length >= opts.count ? { ...cmd, flags: [...cmd.flags, 'chattering'] } : cmd;
        }),
      );
    });
}
