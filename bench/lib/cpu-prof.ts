/**
 * `--cpu-prof` for the benches: the node flags that make a child write a V8
 * CPU profile when it exits, and a summary of the profile: self time per
 * function (name + url:line), the top `n` printed as a table. Self time of a
 * frame = its sample count × the mean sample interval; frames of one function
 * (the same name, url and line, any call path) are summed.
 */
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');

/** Node flags for a child that writes its profile into `dir` (made if missing) when it exits. */
export function cpuProfArgs(dir: string | undefined): string[] {
  if (!dir) return [];
  mkdirSync(dir, { recursive: true });
  return ['--cpu-prof', '--cpu-prof-dir', dir];
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
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
    const { functionName, url, lineNumber } = x.callFrame;
    const where = url ? `${url.startsWith('file://') ? relative(ROOT, url.slice(7)) : url}:${lineNumber + 1}` : '';
    const key = `${functionName || '(anonymous)'}${where ? ` ${where}` : ''}`;
    byFrame.set(key, (byFrame.get(key) ?? 0) + us);
    total += us;
  }
  const frames = [...byFrame.entries()]
    .map(([frame, us]) => ({ frame, selfMs: us / 1000, share: total ? us / total : 0 }))
    .sort((a, b) => b.selfMs - a.selfMs);
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
  console.log(`\nCPU profile${label ? ` of ${label}` : ''}: ${relative(process.cwd(), file)} (${(totalMs / 1000).toFixed(2)} s sampled); top ${n} frames by self time:`);
  const rows = frames.slice(0, n);
  const w = Math.max(...rows.map((r) => r.selfMs.toFixed(0).length), 7);
  console.log(`  ${'self ms'.padStart(w)}  share  frame`);
  for (const r of rows) console.log(`  ${r.selfMs.toFixed(0).padStart(w)}  ${(r.share * 100).toFixed(1).padStart(4)} %  ${r.frame}`);
}

/** Prints the top frames of every profile written into `dir` since `since` (one per profiled process). */
export function printProfiles(dir: string | undefined, since: number, n = 15, label = ''): void {
  if (!dir) return;
  const files = profilesSince(dir, since);
  if (files.length === 0) console.log(`\nno CPU profile in ${dir} (did the process exit cleanly?)`);
  for (const f of files) printTopFrames(f, n, label);
}

/** CLI: `node --import tsx bench/lib/cpu-prof.ts <file.cpuprofile> [n]`. */
if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const [file, n] = process.argv.slice(2);
  if (!file) throw new Error('usage: cpu-prof.ts <file.cpuprofile> [n]');
  printTopFrames(file, Number(n ?? 15));
}
