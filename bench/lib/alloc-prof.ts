/**
 * Where the garbage comes from: runs a bench script in this process under V8's sampling heap
 * profiler with the objects that GCs collected included (the inspector's
 * `HeapProfiler.startSampling` with `includeObjectsCollectedByMajorGC/MinorGC`; `node --heap-prof`
 * keeps only what is still alive at the end), and prints the bytes allocated per function (self),
 * the top `n`. Every allocation of `samplingInterval` bytes on average is sampled, so the total is
 * the allocation volume of the run: what the scavenger and the major GCs have to go through.
 *
 *   node --import tsx bench/lib/alloc-prof.ts <script.ts> [args…]       (ALLOC_TOP=30, ALLOC_INTERVAL=4096)
 *   node --import tsx bench/lib/alloc-prof.ts bench/flood/inprocess.ts 5000 3
 *
 * Functions are named as in the profile: for TypeScript run through tsx every line is 1 (tsx
 * compiles each file to one line); a script that imports `dist/` gets the compiled lines.
 */
import { Session } from 'node:inspector/promises';
import { relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

interface SamplingNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: SamplingNode[];
}

const [script, ...rest] = process.argv.slice(2);
if (!script) throw new Error('usage: alloc-prof.ts <script> [args…]');
const top = Number(process.env.ALLOC_TOP ?? 30);
const samplingInterval = Number(process.env.ALLOC_INTERVAL ?? 4096);

const session = new Session();
session.connect();
await session.post('HeapProfiler.enable');
await session.post('HeapProfiler.startSampling', { samplingInterval, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
process.argv = [process.argv[0] as string, resolve(script), ...rest];
await import(pathToFileURL(resolve(script)).href);
const { profile } = (await session.post('HeapProfiler.stopSampling')) as { profile: { head: SamplingNode } };
session.disconnect();

const bytes = new Map<string, number>();
let total = 0;
const walk = (n: SamplingNode) => {
  const f = n.callFrame;
  const url = f.url.startsWith('file://') ? relative(process.cwd(), new URL(f.url).pathname) : f.url.startsWith('/') ? relative(process.cwd(), f.url) : f.url;
  const name = `${f.functionName || '(anonymous)'} ${url}:${f.lineNumber + 1}`;
  bytes.set(name, (bytes.get(name) ?? 0) + n.selfSize);
  total += n.selfSize;
  for (const c of n.children) walk(c);
};
walk(profile.head);
console.log(`\nallocated while ${relative(process.cwd(), resolve(script))} ran: ${(total / 1048576).toFixed(1)} MiB (sampled every ${samplingInterval} bytes); top ${top} functions by bytes allocated:`);
for (const [name, b] of [...bytes].sort((a, b) => b[1] - a[1]).slice(0, top))
  console.log(`  ${(b / 1048576).toFixed(1).padStart(8)} MiB  ${((b / total) * 100).toFixed(1).padStart(4)} %  ${name}`);
process.exit(0);
