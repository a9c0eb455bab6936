/**
 * `--cpu-prof` for the benches: the node flags that make a child write a V8
 * CPU profile when it exits, and a summary of the profile: self time per
 * function (name + url:line), the top `n` printed as a table. Self time of a
 * frame = its sample count × the mean sample interval; frames of one function
 * (the same name, url and line, any call path) are summed.
 */
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { SourceMap, type SourceMapPayload } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');

/** Node flags for a child that writes its profile into `dir` (made if missing) when it exits. */
export function cpuProfArgs(dir: string | undefined): string[] {
  if (!dir) return [];
  mkdirSync(dir, { recursive: true });
  return ['--cpu-prof', '--cpu-prof-dir', dir];
}

/**
 * tsx compiles every .ts file to one line of code (whitespace minified), so a
 * profile's line numbers say nothing. Its cache (`<tmpdir>/tsx-<uid>/`) holds
 * each compiled file as `{ code, map }`: the newest entry of a source file is
 * the one that ran (the cache is keyed by content), and its map gives the line.
 */
let tsxMaps: Map<string, SourceMap> | undefined;
function tsxSourceMap(file: string): SourceMap | undefined {
  if (!tsxMaps) {
    tsxMaps = new Map();
    const dir = join(tmpdir(), `tsx-${process.getuid?.() ?? 0}`);
    let entries: { f: string; t: number }[] = [];
    try {
      entries = readdirSync(dir).map((n) => ({ f: join(dir, n), t: statSync(join(dir, n)).mtimeMs }));
    } catch {
      return undefined;
    }
    const newest = new Map<string, { f: string; t: number }>();
    for (const e of entries) {
      let text: string;
      try {
        text = readFileSync(e.f, 'utf8');
      } catch {
        continue;
      }
      const src = /"sources":\["([^"]+)"\]/.exec(text.slice(-2000))?.[1];
      if (!src) continue;
      const seen = newest.get(src);
      if (!seen || seen.t < e.t) newest.set(src, e);
    }
    for (const [src, e] of newest) {
      try {
        const { map } = JSON.parse(readFileSync(e.f, 'utf8')) as { map?: SourceMapPayload };
        if (map) tsxMaps.set(src, new SourceMap(map));
      } catch {
        /* not a cache entry */
      }
    }
  }
  return tsxMaps.get(file);
}

/** tsc's source maps beside the compiled gateway (dist/…/x.js.map from `npm run build`). */
const distMaps = new Map<string, SourceMap | undefined>();
function distSourceMap(file: string): SourceMap | undefined {
  if (!distMaps.has(file)) {
    try {
      distMaps.set(file, new SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8')) as SourceMapPayload));
    } catch {
      distMaps.set(file, undefined);
    }
  }
  return distMaps.get(file);
}

/** The source file (relative to the repo) and 1-based line of a frame: through tsx's source map for .ts files, tsc's for dist/. */
function sourceOf(url: string, line: number, column: number): { path: string; line: number } {
  const file = url.slice(7);
  if (url.startsWith('file://') && url.endsWith('.ts')) {
    const e = tsxSourceMap(file)?.findEntry(line, column) as { originalLine?: number } | undefined;
    if (e && typeof e.originalLine === 'number') return { path: relative(ROOT, file), line: e.originalLine + 1 };
  }
  if (url.startsWith('file://') && url.endsWith('.js') && file.startsWith(join(ROOT, 'dist') + '/')) {
    const e = distSourceMap(file)?.findEntry(line, column) as { originalLine?: number; originalSource?: string } | undefined;
    if (e && typeof e.originalLine === 'number' && e.originalSource)
      return {
        path: relative(ROOT, e.originalSource.startsWith('file://') ? e.originalSource.slice(7) : join(dirname(file), e.originalSource)),
        line: e.originalLine + 1,
      };
  }
  return { path: url.startsWith('file://') ? relative(ROOT, file) : url, line: line + 1 };
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface Frame {
  /** `name url:line` (1-based line, url relative to the repo). */
  frame: string;
  selfMs: number;
  share: number;
}

/** Self time per function of one .cpuprofile, highest first. */
export function selfTimes(file: string): { frames: Frame[]; totalMs: number } {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byNode = new Map<number, number>();
  // Time per node from the sample deltas (exact), or hitCount × the mean interval.
  if (p.samples && p.timeDeltas && p.samples.length === p.timeDeltas.length) {
    for (let i = 0; i < p.samples.length; i++) {
      // timeDeltas[i] is the time before sample i; attribute the time after it to it (the next delta).
      const dt = p.timeDeltas[i + 1] ?? 0;
      const id = p.samples[i] as number;
      byNode.set(id, (byNode.get(id) ?? 0) + dt);
    }
  } else {
    const hits = p.nodes.reduce((n, x) => n + (x.hitCount ?? 0), 0) || 1;
    const per = (p.endTime - p.startTime) / hits;
    for (const x of p.nodes) byNode.set(x.id, (x.hitCount ?? 0) * per);
  }
  const byFrame = new Map<string, number>();
  let total = 0;
  for (const x of p.nodes) {
    const us = byNode.get(x.id) ?? 0;
    if (us === 0) continue;
    const { functionName, url, lineNumber, columnNumber } = x.callFrame;
    const src = url ? sourceOf(url, lineNumber, columnNumber) : undefined;
    const where = src ? `${src.path}:${src.line}` : '';
    const key = `${functionName || '(anonymous)'}${where ? ` ${where}` : ''}`;
    byFrame.set(key, (byFrame.get(key) ?? 0) + us);
    total += us;
  }
  const frames = [...byFrame.entries()].map(([frame, us]) => ({ frame, selfMs: us / 1000, share: total ? us / total : 0 })).sort((a, b) => b.selfMs - a.selfMs);
  return { frames, totalMs: total / 1000 };
}

/** The newest .cpuprofile files in `dir` written since `since` (epoch ms), newest first. */
export function profilesSince(dir: string, since: number): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => n.endsWith('.cpuprofile'))
    .map((n) => ({ f: join(dir, n), t: statSync(join(dir, n)).mtimeMs }))
    .filter((x) => x.t >= since)
    .sort((a, b) => b.t - a.t)
    .map((x) => x.f);
}

/** Prints the top `n` self-time frames of a profile. */
export function printTopFrames(file: string, n = 15, label = ''): void {
  const { frames, totalMs } = selfTimes(file);
  console.log(
    `\nCPU profile${label ? ` of ${label}` : ''}: ${relative(process.cwd(), file)} (${(totalMs / 1000).toFixed(2)} s sampled); top ${n} frames by self time:`,
  );
  const rows = frames.slice(0, n);
  const w = Math.max(...rows.map((r) => r.selfMs.toFixed(0).length), 7);
  console.log(`  ${'self ms'.padStart(w)}  share  frame`);
  for (const r of rows) console.log(`  ${r.selfMs.toFixed(0).padStart(w)}  ${(r.share * 100).toFixed(1).padStart(4)} %  ${r.frame}`);
}

/** Time sampled outside `(idle)`, ms. */
const busyMs = (file: string) => {
  const { frames, totalMs } = selfTimes(file);
  return totalMs - (frames.find((f) => f.frame === '(idle)')?.selfMs ?? 0);
};

/**
 * Prints the top frames of the profiles written into `dir` since `since`: per
 * process (the pid in the file name), the busiest thread's only (tsx's loader
 * runs in a worker thread that writes a profile of its own).
 */
export function printProfiles(dir: string | undefined, since: number, n = 15, label = ''): void {
  if (!dir) return;
  const files = profilesSince(dir, since);
  if (files.length === 0) console.log(`\nno CPU profile in ${dir} (did the process exit cleanly?)`);
  const byPid = new Map<string, { f: string; busy: number }>();
  for (const f of files) {
    const pid = /\.(\d+)\.\d+\.\d+\.cpuprofile$/.exec(f)?.[1] ?? f;
    const busy = busyMs(f);
    const seen = byPid.get(pid);
    if (!seen || seen.busy < busy) byPid.set(pid, { f, busy });
  }
  for (const { f } of [...byPid.values()].reverse()) printTopFrames(f, n, label);
}

/** CLI: `node --import tsx bench/lib/cpu-prof.ts <file.cpuprofile> [n]`. */
if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const [file, n] = process.argv.slice(2);
  if (!file) throw new Error('usage: cpu-prof.ts <file.cpuprofile> [n]');
  printTopFrames(file, Number(n ?? 15));
}
