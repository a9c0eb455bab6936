// bench/kill: the forward kill test at bench scale (default 500 SIGKILLs of `andon start` under load).
//   npm run bench:kill                 500 kills
//   npm run bench:kill -- --kills 100  fewer
// Prints the campaign's figures and exits 1 if central lost a ticket version or got a duplicate.
import { parseArgs } from 'node:util';
import { startCentral } from '../../sim/central/server.ts';
import { describeKills, runKills } from '../../test/forward/kill-harness.ts';
import { tempDir } from '../../test/forward/kit.ts';

const { values } = parseArgs({ options: { kills: { type: 'string', default: '500' }, seed: { type: 'string', default: '2026' } } });
const kills = Number(values.kills);
const tmp = tempDir('bench-kill');
const central = await startCentral({ faults: { slowMs: 5 } });
const t0 = performance.now();
try {
  const r = await runKills({
    kills,
    dir: tmp.dir,
    central,
    seed: Number(values.seed),
    onKill: (n) => {
      if (n % 50 === 0) process.stderr.write(`bench/kill: ${n}/${kills} kills, ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
    },
  });
  console.log(describeKills(r));
  const ok = r.lost.length === 0 && r.central.duplicates === 0 && r.central.regressions === 0 && r.atCentral === r.tickets && r.pendingAfter === 0;
  console.log(ok ? 'bench/kill: OK — lost 0, duplicates 0' : `bench/kill: FAILED — lost ${r.lost.length}, duplicates ${r.central.duplicates}`);
  process.exitCode = ok ? 0 : 1;
} finally {
  await central.stop();
  tmp.remove();
}
