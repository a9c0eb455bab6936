/**
 * Where the garbage of a running gateway comes from, or what of it outlives the young generation:
 * a preload for a child process (`andon start` in a bench) that runs V8's sampling heap profiler for a
 * window and writes the bytes allocated per function. `alloc-prof.ts` does the same around a script in
 * its own process; this one goes into the process a bench starts:
 *
 *   BENCH_NODE_FLAGS="--import $PWD/bench/lib/alloc-preload.mjs" npm run bench:ingest -- --rss --seconds 60
 *
 * Environment: ALLOC_START (ms after start, default 20000), ALLOC_DUR (ms, default 20000),
 * ALLOC_MINOR=0 to leave out what the scavenger collected (then the profile is what was promoted to
 * the old generation, or is still alive: the major GCs' work), ALLOC_OUT (file, default
 * alloc-<pid>.txt in the working directory; `<file>.heapprofile` next to it, for Chrome DevTools).
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { setTimeout } from 'node:timers';

const start = Number(process.env.ALLOC_START ?? 20_000);
const duration = Number(process.env.ALLOC_DUR ?? 20_000);
const minor = process.env.ALLOC_MINOR !== '0';
const out = process.env.ALLOC_OUT ?? `alloc-${process.pid}.txt`;

const session = new Session();
session.connect();
const post = (method, params = {}) => new Promise((resolve, reject) => session.post(method, params, (err, v) => (err ? reject(err) : resolve(v))));
const short = (url) => url.replace(/^.*node_modules\//, 'node_modules/').replace(`file://${process.cwd()}/`, '');

setTimeout(async () => {
  await post('HeapProfiler.enable');
  await post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: minor });
  setTimeout(async () => {
    const { profile } = await post('HeapProfiler.stopSampling');
    const bytes = new Map();
    let total = 0;
    const walk = (n) => {
      const f = n.callFrame;
      const name = `${f.functionName || '(anonymous)'} ${short(f.url)}:${f.lineNumber + 1}`;
      bytes.set(name, (bytes.get(name) ?? 0) + n.selfSize);
      total += n.selfSize;
      for (const c of n.children) walk(c);
    };
    walk(profile.head);
    const what = minor ? 'allocated' : 'promoted to the old generation (or alive)';
    const lines = [`${(total / 1048576).toFixed(1)} MiB ${what} in ${duration} ms, from ${start} ms after start; by function (self):`];
    for (const [name, b] of [...bytes].sort((a, b) => b[1] - a[1]).slice(0, 40))
      lines.push(`${(b / 1048576).toFixed(2).padStart(8)} MiB ${((100 * b) / total).toFixed(1).padStart(5)} %  ${name}`);
    writeFileSync(out, lines.join('\n') + '\n');
    writeFileSync(`${out}.heapprofile`, JSON.stringify(profile));
  }, duration).unref();
}, start).unref();
