import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { loadConfig } from '../../config/load.ts';
import type { AndonConfig } from '../../config/schema.ts';
import { replay } from '../../gateway/replay.ts';
import type { Ticket } from '../../model/ticket.ts';
import { runProcess } from './process.ts';
import type { StormKind } from './storm.ts';
import { CONFIG_FILE, DEFAULT_INPUT, generate, generatorHash, metaFile, RECORDS } from './generate.ts';

/**
 * The replay benchmark: the whole pipeline (parse, rules, ticket engine,
 * store) over 1,000,000 signals, `--runs` times in this process, next to a
 * bare baseline that only reads and JSON.parses the same file the same way
 * (the floor any replay pays). Then one run with a SQLite file store.
 *
 *   npm run bench:replay [-- --runs 3] [--skip-db] [--regenerate] [--cpu-prof]
 *   npm run bench:replay -- --process [--signals 1000000] [--kinds flood,calm] [--runs 3] [--cpu-prof]   (process.ts)
 */

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    'skip-db': { type: 'boolean', default: false },
    regenerate: { type: 'boolean', default: false },
    process: { type: 'boolean', default: false },
    signals: { type: 'string', default: '1000000' },
    kinds: { type: 'string', default: 'flood,calm' },
    'cpu-prof': { type: 'boolean', default: false },
  },
});
const RUNS = Number(args.runs);
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error(`--runs needs a whole number of runs (got "${args.runs}")`);
const input = DEFAULT_INPUT;
if (args.process) {
  const kinds = args.kinds.split(',') as StormKind[];
  for (const k of kinds) if (k !== 'flood' && k !== 'calm') throw new Error(`--kinds takes flood and/or calm (got "${k}")`);
  const cpu = cpus();
  console.log(
    `andon replay benchmark, whole processes — node ${process.version}, ${cpu.length} × ${cpu[0]?.model.trim() ?? 'cpu'}, load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}\n`,
  );
  await runProcess({ runs: RUNS, signals: Number(args.signals), kinds, cpuProf: args['cpu-prof'], regenerate: args.regenerate });
  process.exit(0);
}

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const gc = () => (globalThis as { gc?: () => void }).gc?.();

async function ensureInput(): Promise<string> {
  const meta = existsSync(metaFile(input)) ? (JSON.parse(readFileSync(metaFile(input), 'utf8')) as { generator?: string; records?: number }) : undefined;
  const fresh = existsSync(input) && existsSync(CONFIG_FILE) && meta?.generator === generatorHash() && meta.records === RECORDS;
  if (fresh && !args.regenerate) return `reused ${input}`;
  const r = await generate();
  return `generated ${input} (${fmt(r.records)} records, ${r.from} .. ${r.to}) in ${r.seconds.toFixed(2)} s`;
}

interface Measured {
  seconds: number;
  signals: number;
  rate: number;
}

/** The floor: read the file line by line (readline, as replay does) and JSON.parse every line. */
async function baseline(): Promise<Measured> {
  const started = performance.now();
  let signals = 0;
  for await (const line of createInterface({ input: createReadStream(input), crlfDelay: Infinity })) {
    if (line === '') continue;
    const o = JSON.parse(line) as { tag?: unknown };
    if (typeof o.tag === 'string') signals++;
  }
  const seconds = (performance.now() - started) / 1000;
  return { seconds, signals, rate: signals / seconds };
}

interface AndonRun extends Measured {
  tickets: number;
  merged: number;
  changes: number;
  rejected: number;
  fingerprint: string;
  list: Ticket[];
}

/** The whole pipeline through `replay()`, store open and close included. */
async function andon(config: AndonConfig, db?: string): Promise<AndonRun> {
  const started = performance.now();
  const { tickets, summary } = await replay({ config, input, ...(db ? { db } : {}) });
  const seconds = (performance.now() - started) / 1000;
  return {
    seconds,
    signals: summary.signals,
    rate: summary.signals / seconds,
    tickets: summary.tickets,
    merged: summary.merged,
    changes: tickets.reduce((n, t) => n + t.version, 0),
    rejected: summary.rejected,
    fingerprint: createHash('sha256').update(JSON.stringify(tickets)).digest('hex').slice(0, 12),
    list: tickets,
  };
}

function tally<T>(items: T[], keys: (t: T) => string[]): string {
  const n = new Map<string, number>();
  for (const it of items) for (const k of keys(it)) n.set(k, (n.get(k) ?? 0) + 1);
  return [...n.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
}

const wall = performance.now();
const cpu = cpus();
console.log(
  `andon replay benchmark — node ${process.version}, ${cpu.length} × ${cpu[0]?.model.trim() ?? 'cpu'}, load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
console.log(`input: ${await ensureInput()}`);
const config = loadConfig(CONFIG_FILE);
console.log(`config: ${CONFIG_FILE} (${config.sources.length} sources, ${Object.keys(config.assets).length} assets, ${config.rules.length} rules)\n`);

const runs: AndonRun[] = [];
const floors: Measured[] = [];
for (let i = 1; i <= RUNS; i++) {
  gc();
  const b = await baseline();
  floors.push(b);
  gc();
  const a = await andon(config);
  runs.push(a);
  console.log(
    `run ${i}: andon ${fmt(a.rate)} signals/s (${a.seconds.toFixed(2)} s), ${fmt(a.tickets)} tickets (${a.merged} merged), ${fmt(a.changes)} ticket changes` +
      ` | baseline ${fmt(b.rate)} signals/s (${b.seconds.toFixed(2)} s)`,
  );
  if (i === 1) {
    console.log(`  tickets by fault: ${tally(a.list, (t) => [t.fault])}`);
    console.log(`  by priority: ${tally(a.list, (t) => [t.priority])}; flags: ${tally(a.list, (t) => t.flags)}`);
    console.log(`  changes by action: ${tally(a.list, (t) => t.history.map((h) => h.action))}`);
    if (a.rejected > 0) console.log(`  rejected lines: ${a.rejected}`);
  }
  a.list = [];
}
const same = runs.every((r) => r.fingerprint === runs[0]?.fingerprint);
if (!same) console.log(`WARNING: runs produced different tickets (${runs.map((r) => r.fingerprint).join(' ')})`);

let file: (AndonRun & { bytes: number }) | undefined;
if (!args['skip-db']) {
  const dir = mkdtempSync(join(tmpdir(), 'andon-bench-'));
  try {
    gc();
    const db = join(dir, 'store.sqlite');
    const r = await andon(config, db);
    const bytes = ['', '-wal', '-shm'].reduce((n, ext) => n + (existsSync(db + ext) ? statSync(db + ext).size : 0), 0);
    file = { ...r, list: [], bytes };
    console.log(
      `file store: andon ${fmt(r.rate)} signals/s (${r.seconds.toFixed(2)} s), ${fmt(r.tickets)} tickets, ${fmt(r.changes)} changes, ${fmt(bytes / 1048576, 1)} MB on disk`,
    );
    if (r.fingerprint !== runs[0]?.fingerprint) console.log('WARNING: the file store produced different tickets than the in-memory store');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const andonRate = median(runs.map((r) => r.rate));
const floorRate = median(floors.map((r) => r.rate));
const first = runs[0] as AndonRun;
const rows: [string, string, string, string, string][] = [
  ['', 'signals/s', 'seconds', 'tickets', 'ticket changes'],
  [`andon replay, in-memory store (median of ${RUNS})`, fmt(andonRate), fmt(median(runs.map((r) => r.seconds)), 2), fmt(first.tickets), fmt(first.changes)],
  [`baseline: readline + JSON.parse (median of ${RUNS})`, fmt(floorRate), fmt(median(floors.map((r) => r.seconds)), 2), '—', '—'],
  ['andon / baseline', `${fmt(andonRate / floorRate, 3)}×`, `baseline is ${fmt(floorRate / andonRate, 1)}× faster`, '', ''],
];
if (file) rows.push(['andon replay, SQLite file (WAL, synchronous=FULL), 1 run', fmt(file.rate), fmt(file.seconds, 2), fmt(file.tickets), fmt(file.changes)]);
const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
console.log('');
for (const [i, r] of rows.entries()) {
  console.log(`| ${r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join(' | ')} |`);
  if (i === 0) console.log(`|${widths.map((w, c) => (c === 0 ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|')}|`);
}
console.log(
  `\n${fmt(first.signals)} signals a run; tickets identical across runs: ${same ? 'yes' : 'NO'}; peak RSS ${fmt(process.resourceUsage().maxRSS / 1024)} MB; wall ${fmt((performance.now() - wall) / 1000, 1)} s`,
);
