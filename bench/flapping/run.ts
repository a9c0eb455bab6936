/**
 * `npm run bench:flapping`: what one flapping alarm costs the rule operators that keep a window of
 * raises, chatter (per ticket key) and the alarm-flood detector (per area), as the window fills.
 *
 * One alarm tag raised every millisecond (a contact bouncing, a PLC bit toggling) puts thousands of
 * raises in each window: 60k in chatter's 60 s, 10k in the flood detector's 10 s. An operator that
 * walks its window on every raise costs O(n) per raise and O(n²) per burst; one that keeps counts
 * costs the same per raise at 10k as at 100k. The peer is an rxjs `map` over the same commands in the
 * same run (the floor: delivering a command through one operator), and the ratio is per raise.
 *
 *   npm run bench:flapping                      # 10k and 100k raises, median of 5 each
 *   npm run bench:flapping -- --raises 20000,200000 --runs 3
 */
import { parseArgs } from 'node:util';
import { asyncScheduler, from, map, type MonoTypeOperatorFunction } from 'rxjs';
import { chatter } from '../../rules/chatter.ts';
import { flood } from '../../rules/flood.ts';
import type { DetectCommand, TicketCommand } from '../../rules/types.ts';
import { alarmRaise } from './commands.ts';

const { values: args } = parseArgs({
  options: { raises: { type: 'string', default: '10000,100000' }, runs: { type: 'string', default: '5' } },
});
const sizes = (args.raises as string).split(',').map(Number);
const runs = Number(args.runs);

/** `n` raises of one alarm, 1 ms apart. */
const raises = (n: number): DetectCommand[] => Array.from({ length: n }, (_, i) => alarmRaise('press-07', 'contact-bounce', 1_800_000_000_000 + i));

const operators: [string, () => MonoTypeOperatorFunction<TicketCommand>][] = [
  ['rxjs map (peer)', () => map((c) => c)],
  ['chatter (count 5, within 60 s)', () => chatter({ count: 5, within: 60_000 })],
  ['flood (more than 50 tags within 10 s)', () => flood({ count: 50, within: 10_000, routeOf: () => ({ assignedGroup: null, notify: [] }) }, asyncScheduler)],
];

/** Nanoseconds per raise through `op`: the median of `runs` passes over fresh operator state. */
function perRaise(op: () => MonoTypeOperatorFunction<TicketCommand>, commands: DetectCommand[]): number {
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    let out = 0;
    const t0 = process.hrtime.bigint();
    const sub = from(commands as TicketCommand[])
      .pipe(op())
      .subscribe(() => out++);
    const ns = Number(process.hrtime.bigint() - t0);
    sub.unsubscribe();
    if (out !== commands.length) throw new Error(`expected ${commands.length} commands out, got ${out}`);
    times.push(ns / commands.length);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] as number;
}

console.log(`flapping-alarm bench — node ${process.version}, one alarm raised every 1 ms, median of ${runs}`);
const rows: string[][] = [];
for (const n of sizes) {
  const commands = raises(n);
  const floor = perRaise(operators[0]![1], commands);
  for (const [name, op] of operators) {
    const ns = name.endsWith('(peer)') ? floor : perRaise(op, commands);
    rows.push([n.toLocaleString('en-US'), name, (ns / 1000).toFixed(2), (ns / floor).toFixed(1) + '×']);
  }
}
const head = ['raises', 'operator', 'µs per raise', 'per raise / peer'];
const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
const line = (r: string[]) => `| ${r.map((c, i) => (i >= 2 ? c.padStart(width[i] as number) : c.padEnd(width[i] as number))).join(' | ')} |`;
console.log(line(head));
console.log(`|${width.map((w, i) => (i >= 2 ? '-'.repeat(w + 1) + ':' : '-'.repeat(w + 2))).join('|')}|`);
for (const r of rows) console.log(line(r));
