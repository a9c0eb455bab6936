/**
 * bench/flood/inprocess.ts: the flood bench's plant without HTTP, to find where a flood's time goes.
 *
 * The same config as `run.ts` (500 assets in one area, a limit per telemetry tag, an alarm rule, the
 * flood rule: more than 50 distinct alarm tags within 10 s), through `createRuntime` on a SQLite file
 * (WAL, synchronous=FULL) with the metrics following every change, as `andon start` does. Per round
 * (a fresh store each): `n` quiet telemetry signals, then `n` alarm raises (the area floods), then
 * `n` more raises on other tags (the flood, warm), all in `runtime.pushMany` batches of 50 (one
 * commit each, as one HTTP request of 50). Prints signals/s per phase.
 *
 *   node --import tsx bench/flood/inprocess.ts [n=5000] [rounds=3]
 *   node --cpu-prof --cpu-prof-dir /tmp/prof --import tsx bench/flood/inprocess.ts 20000 2
 *   node --import tsx bench/lib/cpu-prof.ts /tmp/prof/<file>.cpuprofile 40
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { asyncScheduler } from 'rxjs';
import { parseConfig } from '../../config/load.ts';
import { createMetrics } from '../../gateway/metrics.ts';
import { createRuntime } from '../../gateway/runtime.ts';
import { TicketStore } from '../../gateway/store/store.ts';
import { plant, type Sig } from './plant.ts';

const BATCH = 50;
const { yaml, quietSignal, alarmSignal } = plant(500, { count: 50, within: '10s' });
const config = parseConfig(['gateway: { id: flood-inprocess, timezone: UTC }', 'sources: [ { id: mes-http, type: http } ]', ...yaml].join('\n'));

const N = Number(process.argv[2] ?? 5000);
const ROUNDS = Number(process.argv[3] ?? 3);

for (let round = 1; round <= ROUNDS; round++) {
  const dir = mkdtempSync(join(tmpdir(), 'andon-flood-inprocess-'));
  const store = await TicketStore.open(join(dir, 'andon.sqlite'), { warmWal: true });
  const runtime = createRuntime({ config, store, scheduler: asyncScheduler });
  const metrics = createMetrics(new Registry(), store, {});
  runtime.engine.changes$.subscribe((c) => metrics.onChange(c));
  /** signals/s of `N` signals made by `make`, in batches of BATCH. */
  const phase = (make: (i: number) => Sig): number => {
    const t0 = performance.now();
    for (let i = 0; i < N; i += BATCH) {
      const ts = Date.now();
      const list = [];
      for (let j = i; j < Math.min(N, i + BATCH); j++) list.push({ source: 'mes-http', ...make(j), quality: 'good' as const, ts });
      runtime.pushMany(list);
    }
    return N / ((performance.now() - t0) / 1000);
  };
  const q = phase(quietSignal);
  const f = phase((i) => alarmSignal(i, 'a'));
  const warm = phase((i) => alarmSignal(i, 'b'));
  const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
  console.log(`round ${round}: quiet ${fmt(q)}/s, flood ${fmt(f)}/s (${(f / q).toFixed(2)}×), flood again ${fmt(warm)}/s (${(warm / q).toFixed(2)}×)`);
  runtime.stop();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
