import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCentral, type Central } from '../../sim/central/server.ts';
import { describeKills, runKills } from './kill-harness.ts';
import { tempDir } from './kit.ts';

/**
 * Store-and-forward across SIGKILL (harness in kill-harness.ts; bench/kill runs
 * the same with 500 kills): central must end with every ticket the store
 * committed, each at its newest version, and no (ticket, version) may have
 * taken effect twice.
 */
const KILLS = 50;

describe('forwarding across SIGKILL', () => {
  let central: Central;
  let tmp: ReturnType<typeof tempDir>;
  beforeAll(async () => {
    tmp = tempDir('forward-kill');
    // A little latency at central, so kills land while requests are in flight.
    central = await startCentral({ faults: { slowMs: 5 } });
  });
  afterAll(async () => {
    await central.stop();
    tmp.remove();
  });

  it(`central ends with every committed ticket at its newest version and no duplicate effect, over ${KILLS} kills under load`, { timeout: 300_000 }, async () => {
    const r = await runKills({ kills: KILLS, dir: tmp.dir, central });
    console.info(`forward kill test: ${describeKills(r)}`);
    expect(r.kills).toBe(KILLS);
    expect(r.answered).toBeGreaterThan(KILLS * 5);
    expect(r.tickets).toBeGreaterThan(40);
    expect(r.lost).toEqual([]);
    expect(r.atCentral).toBe(r.tickets);
    expect(r.central.duplicates).toBe(0);
    expect(r.central.regressions).toBe(0);
    expect(r.pendingAfter).toBe(0);
  });
});
