import { Observable, type MonoTypeOperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';
import type { Priority } from '../config/types.ts';
import { at } from './match.ts';
import { higherPriority, type DetectCommand, type DetectFields, type FloodMember, type TicketCommand } from './types.ts';

export interface FloodOptions {
  /** A flood is more than `count` distinct alarm tags raised within `within` in one area. */
  count: number;
  within: number;
  /** Routing for the flood ticket (assign, notify), from the same table as every ticket. */
  routeOf: (f: { area: string; line: string | null; fault: string; category: string; priority: Priority }) => { assignedGroup: string | null; notify: string[] };
  /**
   * Floods still active when the gateway stopped (live flood tickets with an active condition):
   * they go on after a restart, and end like any flood once their area stays calm for `within`
   * after the last raise (`lastAt`).
   */
  active?: { key: string; area: string; priority: Priority; lastAt: number }[];
}

/**
 * A raise in an area's window: what a flood ticket takes from it, not the command. A flood keeps every
 * raise of the last `within` (10k/s for 10 s: 100k), and the whole commands (evidence, title, lists)
 * held 58.5 MiB of heap there; these hold 28.8 (bench/flapping/window-heap.ts).
 */
export interface Raise {
  at: number;
  tag: string;
  key: string;
  asset: string | null;
  fault: string;
  priority: Priority;
  line: string | null;
  category: DetectCommand['category'];
}

/**
 * An area's raises within the window: `raises[head..]`, oldest first, and how many of them each tag
 * has. A raise costs O(1) however many the window holds: a flapping alarm at 1 kHz keeps 10k raises
 * in a 10 s window, and counting its distinct tags afresh on every raise (a Set of the whole window)
 * took 7.8 s of CPU for 100k raises.
 */
export class RaiseWindow {
  private raises: Raise[] = [];
  private head = 0;
  private readonly perTag = new Map<string, number>();

  get oldest(): Raise | undefined {
    return this.raises[this.head];
  }
  get distinctTags(): number {
    return this.perTag.size;
  }
  /** The raises in the window, oldest first (a copy). */
  all(): Raise[] {
    return this.raises.slice(this.head);
  }
  push(r: Raise): void {
    this.raises.push(r);
    this.perTag.set(r.tag, (this.perTag.get(r.tag) ?? 0) + 1);
  }
  /** Drops the raises at the front that are `within` or more before `now`. */
  prune(now: number, within: number): void {
    while (this.head < this.raises.length && now - (this.raises[this.head] as Raise).at >= within) {
      const tag = (this.raises[this.head] as Raise).tag;
      const n = (this.perTag.get(tag) ?? 1) - 1;
      if (n === 0) this.perTag.delete(tag);
      else this.perTag.set(tag, n);
      this.raises[this.head++] = undefined as unknown as Raise; // let it go
    }
    // the dropped front goes once it is half the array: amortised O(1) per raise
    if (this.head === this.raises.length) {
      this.raises = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.raises.length) {
      this.raises = this.raises.slice(this.head);
      this.head = 0;
    }
  }
}

interface Area {
  window: RaiseWindow;
  flood: { key: string; priority: Priority } | null;
  timer: Subscription | null;
  /** When `timer` fires (the oldest raise leaves the window). */
  due?: number;
}

const member = (r: Raise): FloodMember => ({ asset: r.asset, fault: r.fault, at: r.at, tag: r.tag, key: r.key });

/**
 * Alarm floods (ISA-18.2 / EEMUA 191), per area. More than `count` distinct
 * alarm tags raised within `within` open one flood ticket (`alarm-flood`,
 * members, first-out, the highest member priority); tickets its alarms opened
 * before recognition are merged into it; while it lasts, member alarms open
 * nothing of their own. It ends when the rate falls below half the threshold.
 * A chattering tag counts once. Other areas are unaffected.
 *
 *   count: 3   area A  --a--b--c--d--e------------(quiet)--
 *              out     --a--b--c--F--m-----------------E---   (F flood, m member, E end)
 */
export function flood(opts: FloodOptions, scheduler: SchedulerLike): MonoTypeOperatorFunction<TicketCommand> {
  return (commands) =>
    new Observable<TicketCommand>((out) => {
      const areas = new Map<string, Area>();
      const prune = (a: Area, now: number) => a.window.prune(now, opts.within);
      // While a flood lasts, re-check whenever the oldest raise leaves the window.
      const watch = (a: Area) => {
        const oldest = a.window.oldest;
        // the same oldest raise: the timer already set for it stands (a flood's raises do not move it)
        if (a.flood && oldest && a.timer && a.due === oldest.at + opts.within) return;
        a.timer?.unsubscribe();
        a.timer = null;
        if (!a.flood || !oldest) return;
        a.due = oldest.at + opts.within;
        a.timer = at(scheduler, a.due, () => {
          a.timer = null;
          endIfCalm(a, scheduler.now());
        });
      };
      const endIfCalm = (a: Area, now: number) => {
        prune(a, now);
        if (a.flood && a.window.distinctTags < opts.count / 2) {
          out.next({ type: 'flood-end', at: now, key: a.flood.key });
          a.flood = null;
        }
        watch(a);
      };
      // Floods from before a restart: no raises in the window yet, so the area is calm unless new ones come.
      for (const f of opts.active ?? []) {
        const a: Area = { window: new RaiseWindow(), flood: { key: f.key, priority: f.priority }, timer: null };
        areas.set(f.area, a);
        a.timer = at(scheduler, Math.max(scheduler.now(), f.lastAt + opts.within), () => {
          a.timer = null;
          endIfCalm(a, scheduler.now());
        });
      }
      const sub = commands.subscribe({
        next(cmd) {
          if (cmd.type !== 'detect' || cmd.area === null || cmd.asset === null) {
            out.next(cmd);
            return;
          }
          const now = cmd.at;
          let a = areas.get(cmd.area);
          if (!a) {
            a = { window: new RaiseWindow(), flood: null, timer: null };
            areas.set(cmd.area, a);
          }
          prune(a, now);
          const raise: Raise = {
            at: now,
            tag: cmd.evidence.tag,
            key: cmd.key,
            asset: cmd.asset,
            fault: cmd.fault,
            priority: cmd.priority,
            line: cmd.line,
            category: cmd.category,
          };
          a.window.push(raise);
          if (a.flood) {
            a.flood.priority = higherPriority(a.flood.priority, cmd.priority);
            out.next({ type: 'flood-member', at: now, key: a.flood.key, member: member(raise), priority: a.flood.priority, evidence: cmd.evidence });
            watch(a);
            return;
          }
          if (a.window.distinctTags <= opts.count) {
            out.next(cmd);
            return;
          }
          const raises = a.window.all();
          const first = raises[0] as Raise;
          const priority = raises.reduce<Priority>((p, r) => higherPriority(p, r.priority), 'P3');
          const fields: DetectFields = {
            key: `${cmd.area}/alarm-flood`,
            asset: null,
            area: cmd.area,
            line: first.line,
            fault: 'alarm-flood',
            category: first.category,
            rule: 'alarm-flood',
            priority,
            title: `${cmd.area}: alarm flood (first out ${first.asset}: ${first.fault})`,
            ...opts.routeOf({ area: cmd.area, line: first.line, fault: 'alarm-flood', category: first.category, priority }),
          };
          a.flood = { key: fields.key, priority };
          out.next({
            type: 'flood',
            at: now,
            ...fields,
            members: raises.map(member),
            firstOut: member(first),
            mergeKeys: raises.map((r) => r.key),
            since: first.at,
            evidence: cmd.evidence,
          });
          watch(a);
        },
        error: (e) => out.error(e),
        complete: () => out.complete(),
      });
      return () => {
        sub.unsubscribe();
        for (const a of areas.values()) a.timer?.unsubscribe();
      };
    });
}
