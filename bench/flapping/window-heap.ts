/**
 * The heap a sustained alarm flood holds in the flood detector's window: `n` raises within its 10 s
 * (10k raises a second for 10 s by default), from 500 assets × 40 alarms of one area, every raise a
 * command of its own as the pipeline makes them. Prints the heap still held once they are in, next to
 * the heap the commands themselves take when only an array holds them (the peer).
 *
 *   node --expose-gc --import tsx bench/flapping/window-heap.ts [n=100000]
 */
import { asyncScheduler, Subject } from 'rxjs';
import { flood } from '../../rules/flood.ts';
import type { DetectCommand, TicketCommand } from '../../rules/types.ts';
import { alarmRaise } from './commands.ts';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
const n = Number(process.argv[2] ?? 100_000);
const T0 = asyncScheduler.now(); // the window's timers then fall within 10 s of now

/** The i-th raise: 500 assets × 40 alarms, spread over 10 s, its strings made per command as the rules make them. */
const raise = (i: number): DetectCommand => alarmRaise(`press-${i % 500}`, `alarm-${Math.floor(i / 500) % 40}`, T0 + Math.floor((i * 10_000) / n));

const heap = () => {
  gc();
  return process.memoryUsage().heapUsed;
};

// the peer: the same commands, held by an array (its length read after the measure keeps it alive through it)
let base = heap();
const held = Array.from({ length: n }, (_, i) => raise(i));
const commandsMiB = (heap() - base) / 1048576;
if (held.length !== n) throw new Error('unreachable');
held.length = 0;

// the flood detector's window, the commands dropped once through it
base = heap();
const input = new Subject<TicketCommand>();
let out = 0;
const sub = input.pipe(flood({ count: 50, within: 10_000, routeOf: () => ({ assignedGroup: null, notify: [] }) }, asyncScheduler)).subscribe(() => out++);
for (let i = 0; i < n; i++) input.next(raise(i));
const windowMiB = (heap() - base) / 1048576;
sub.unsubscribe();
if (out !== n) throw new Error(`expected ${n} commands out, got ${out}`);
console.log(
  `${n.toLocaleString('en-US')} raises within 10 s in a flood: the window holds ${windowMiB.toFixed(1)} MiB; the commands alone, in an array (peer): ${commandsMiB.toFixed(1)} MiB; ratio ${(windowMiB / commandsMiB).toFixed(2)}`,
);
