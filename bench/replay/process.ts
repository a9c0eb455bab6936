/**
 * `npm run bench:replay -- --process`: `andon replay` as a whole process
 * (`node bin/andon.js replay --config … --input … --out <file>`: startup,
 * config, read, parse, pipeline, store, writing the tickets) against a bare
 * `node bench/replay/bare.mjs` that only reads the same file line by line and
 * JSON.parses every line. Two inputs from storm.ts: a plant in an alarm flood
 * all day, and a calm one. Wall time from spawn to exit, signals/s, and the
 * ratio, per run and the median; peak RSS from /proc/<pid>/status (VmHWM).
 *
 * Each run also times two more `andon replay` processes, to show what the
 * ratio is made of: the same input with a config **without rules** (`rules:
 * []`: start, config, read, parse, assets and the runtime, nothing to detect,
 * no ticket), and an **empty input** (the start and the end alone).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fmt, median, printTable } from '../ingest/proc.ts';
import { cpuProfArgs, printProfiles } from '../lib/cpu-prof.ts';
import { storm, type StormKind } from './storm.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const OUT = join(import.meta.dirname, 'out');

interface Exit {
  seconds: number;
  hwm: number;
  stdout: string;
  stderr: string;
}

/** Runs a node child to its end: wall seconds, peak RSS (VmHWM, polled every 50 ms), its output. */
function run(args: string[]): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let hwm = 0;
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const poll = setInterval(() => {
      try {
        const kb = Number(/^VmHWM:\s+(\d+)/m.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0);
        if (kb > 0) hwm = kb / 1024;
      } catch {
        /* exited */
      }
    }, 50);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearInterval(poll);
      const seconds = (performance.now() - started) / 1000;
      if (code !== 0) reject(new Error(`${args.join(' ')} exited with ${code}: ${stderr.slice(-2000)}`));
      else resolve({ seconds, hwm, stdout, stderr });
    });
  });
}

export async function runProcess(opts: { runs: number; signals: number; kinds: StormKind[]; cpuProf: boolean; regenerate: boolean }): Promise<void> {
  const prof = opts.cpuProf ? join(OUT, 'prof') : undefined;
  const since = Date.now();
  const rows: string[][] = [
    [
      '',
      'andon replay signals/s',
      'bare signals/s',
      'ratio, median of the runs (target ≥ 0.5×)',
      'runs (ratio)',
      'without rules: ratio (runs)',
      'empty input: s',
      'andon peak RSS MiB',
      'tickets (merged)',
    ],
  ];
  for (const kind of opts.kinds) {
    const f = await storm(kind, opts.signals, opts.regenerate);
    const meta = JSON.parse(readFileSync(f.meta, 'utf8')) as { alarms: number; trues: number; over: number };
    console.log(
      `${kind}: ${f.generated ? `generated in ${fmt(f.seconds, 1)} s` : 'reused'} ${f.input} (${fmt(opts.signals)} signals; ${fmt(meta.alarms)} alarm records, ${fmt(meta.trues)} true; ${fmt(meta.over)} telemetry readings over the limit)`,
    );
    const out = join(OUT, `storm-${kind}-tickets.json`);
    const scratch = join(OUT, 'scratch-tickets.json');
    const andon: { rate: number; seconds: number; hwm: number; summary: string }[] = [];
    const bare: { rate: number; seconds: number }[] = [];
    const floor: { seconds: number; empty: number }[] = [];
    for (let i = 1; i <= opts.runs; i++) {
      const b = await run([join(import.meta.dirname, 'bare.mjs'), f.input]);
      if (Number(b.stdout) !== opts.signals) throw new Error(`bare counted ${b.stdout.trim()} signals, not ${opts.signals}`);
      bare.push({ rate: opts.signals / b.seconds, seconds: b.seconds });
      rmSync(out, { force: true });
      const a = await run([...cpuProfArgs(prof), 'bin/andon.js', 'replay', '--config', f.config, '--input', f.input, '--out', out]);
      const summary = /replay: .*/.exec(a.stderr)?.[0] ?? a.stderr.trim().split('\n').pop() ?? '';
      andon.push({ rate: opts.signals / a.seconds, seconds: a.seconds, hwm: a.hwm, summary });
      // not profiled: the profiles are the replay's; their tickets (none) go to a scratch file, not the replay's
      const none = await run(['bin/andon.js', 'replay', '--config', f.noRules, '--input', f.input, '--out', scratch]);
      const empty = await run(['bin/andon.js', 'replay', '--config', f.config, '--input', f.empty, '--out', scratch]);
      rmSync(scratch, { force: true });
      floor.push({ seconds: none.seconds, empty: empty.seconds });
      console.log(
        `  run ${i}: andon replay ${fmt(opts.signals / a.seconds)} signals/s (${fmt(a.seconds, 2)} s, peak RSS ${fmt(a.hwm)} MiB) | bare ${fmt(opts.signals / b.seconds)} signals/s (${fmt(b.seconds, 2)} s) | ratio ${fmt(b.seconds / a.seconds, 3)}× | without rules ${fmt(none.seconds, 2)} s (${fmt(b.seconds / none.seconds, 3)}×), empty input ${fmt(empty.seconds, 2)} s | ${summary}`,
      );
    }
    // each run's ratios pair its processes with the bare run just before them (the same minute of a shared machine)
    const ratios = andon.map((r, i) => r.rate / (bare[i] as { rate: number }).rate);
    const floorRatios = floor.map((r, i) => (bare[i] as { seconds: number }).seconds / r.seconds);
    const ar = median(andon.map((r) => r.rate));
    const br = median(bare.map((r) => r.rate));
    const tickets = /(\d[\d,]*) tickets \((\d+) merged\)/.exec(andon[0]?.summary ?? '');
    rows.push([
      `${kind} (${fmt(opts.signals)} signals, median of ${opts.runs})`,
      fmt(ar),
      fmt(br),
      `${fmt(median(ratios), 3)}×`,
      ratios.map((x) => fmt(x, 3)).join(' / '),
      `${fmt(median(floorRatios), 3)}× (${floorRatios.map((x) => fmt(x, 3)).join(' / ')})`,
      fmt(median(floor.map((r) => r.empty)), 2),
      fmt(median(andon.map((r) => r.hwm))),
      tickets ? `${tickets[1]} (${tickets[2]})` : '?',
    ]);
  }
  console.log('');
  printTable(rows);
  mkdirSync(OUT, { recursive: true });
  printProfiles(prof, since, 15, 'andon replay');
}
