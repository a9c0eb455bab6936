import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cpuProfArgs, printProfiles } from '../lib/cpu-prof.ts';

/**
 * bench/startup: `andon start --config <file> --port 0` from spawn to the
 * first `GET /readyz` 200, and the resident memory right then, for the
 * compiled gateway (`node bin/andon.js`, dist/) and for the TypeScript
 * sources through tsx as bin/andon.js ran them before issue 14
 * (bench/startup/tsx-entry.js). Runs alternate between the two; one warm-up
 * run of each is not counted (it also fills tsx's cache; `--cold` turns that
 * cache off for the tsx runs: every file is compiled at every start).
 *
 *   node --import tsx bench/startup/run.ts [--runs 5] [--cold] [--cpu-prof]     (npm run bench:startup)
 *
 * --cpu-prof: every run writes a CPU profile (bench/startup/out/prof/<variant>; the
 * figures then include the profiler's cost) and the last run of each is summed up.
 *
 * dist/ must be as new as the sources (`npm run build`): bin/andon.js would
 * otherwise run them through tsx itself, and the bench refuses.
 */
const { values: args } = parseArgs({
  options: { runs: { type: 'string', default: '5' }, cold: { type: 'boolean', default: false }, 'cpu-prof': { type: 'boolean', default: false } },
});
const RUNS = Number(args.runs);
const ROOT = join(import.meta.dirname, '..', '..');
const prof = (variant: string) => (args['cpu-prof'] ? join(import.meta.dirname, 'out', 'prof', variant) : undefined);

interface Run {
  readyMs: number;
  /** VmRSS of the gateway process when /readyz first answered 200. */
  rssMiB: number;
  /** The same plus its child processes (tsx's esbuild service). */
  treeMiB: number;
}

const rssKiB = (pid: number): number => Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
function tree(pid: number): number[] {
  let kids: number[] = [];
  try {
    for (const t of readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)) kids = [...kids, ...tree(Number(t))];
  } catch {
    /* gone */
  }
  return [pid, ...kids];
}

async function once(variant: 'dist' | 'tsx'): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'andon-startup-'));
  const config = join(dir, 'andon.yaml');
  writeFileSync(config, `gateway: { id: startup-bench, dataDir: ${JSON.stringify(join(dir, 'data'))}, http: { host: 127.0.0.1 } }\n`);
  const entry = variant === 'dist' ? join(ROOT, 'bin/andon.js') : join(ROOT, 'bench/startup/tsx-entry.js');
  const env: NodeJS.ProcessEnv = { ...process.env, ANDON_LOG_LEVEL: 'warn' };
  delete env.NODE_OPTIONS;
  delete env.VITEST;
  if (args.cold && variant === 'tsx') env.TSX_DISABLE_CACHE = '1';
  const t0 = performance.now();
  const child = spawn(process.execPath, [...cpuProfArgs(prof(variant)), entry, 'start', '--config', config, '--port', '0'], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
    env,
  });
  try {
    let err = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr.setEncoding('utf8').on('data', (c: string) => {
        err += c;
        if (/dist\/ is/.test(err)) reject(new Error(`bin/andon.js did not run dist/: ${err.trim()} (npm run build first)`));
        const m = /running at (http:\/\/[\d.]+:\d+)/.exec(err);
        if (m) resolve(m[1] as string);
      });
      child.once('exit', (code) => reject(new Error(`andon exited with ${code}: ${err}`)));
    });
    for (;;) {
      const ok = await fetch(`${url}/readyz`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    const readyMs = performance.now() - t0;
    const pid = child.pid as number;
    const rssMiB = rssKiB(pid) / 1024;
    const treeMiB = tree(pid).reduce((s, p) => s + rssKiB(p), 0) / 1024;
    return { readyMs, rssMiB, treeMiB };
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

const cpu = cpus();
console.log(
  `andon startup benchmark — node ${process.version}, ${cpu.length} × ${cpu[0]?.model.trim() ?? 'cpu'}, load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}, ${RUNS} runs each${args.cold ? ', tsx cache off' : ''}`,
);
const results: Record<'tsx' | 'dist', Run[]> = { tsx: [], dist: [] };
await once('tsx');
await once('dist');
let lastRound = 0;
for (let i = 0; i < RUNS; i++) {
  lastRound = Date.now();
  for (const v of ['tsx', 'dist'] as const) {
    const r = await once(v);
    results[v].push(r);
    console.log(`  ${v.padEnd(4)} run ${i + 1}: ready ${r.readyMs.toFixed(0)} ms, RSS ${r.rssMiB.toFixed(1)} MiB (with children ${r.treeMiB.toFixed(1)} MiB)`);
  }
}
console.log('\nmedians            spawn → /readyz 200   RSS at ready   RSS with children');
for (const v of ['tsx', 'dist'] as const) {
  const rs = results[v];
  const label = v === 'tsx' ? 'tsx (before)' : 'dist (after)';
  console.log(
    `  ${label.padEnd(16)} ${`${median(rs.map((r) => r.readyMs)).toFixed(0)} ms`.padStart(19)}   ${`${median(rs.map((r) => r.rssMiB)).toFixed(1)} MiB`.padStart(12)}   ${`${median(rs.map((r) => r.treeMiB)).toFixed(1)} MiB`.padStart(17)}`,
  );
}
for (const v of ['tsx', 'dist'] as const) printProfiles(prof(v), lastRound, 15, `andon start (${v})`);
