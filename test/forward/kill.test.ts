import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { TicketStore } from '../../gateway/store/store.ts';
import { startCentral, type Central } from '../../sim/central/server.ts';
import { seeded, tempDir } from './kit.ts';

/**
 * Store-and-forward across SIGKILL: `andon start` (a child process, as a plant
 * runs it) takes signals without pause and is killed at random moments, again
 * and again, while it forwards to the reference central. Afterwards central
 * must hold every ticket the store committed, each at its newest version, and
 * no (ticket, version) may have taken effect twice.
 */
const root = join(import.meta.dirname, '..', '..');
const INGEST = 'ingest-token-for-forward-kill';
const ADMIN = 'admin-token-for-forward-kill';
const KILLS = 50;
const random = seeded(2026);

function writeConfig(dir: string, centralUrl: string): string {
  const file = join(dir, 'config.yaml');
  writeFileSync(
    file,
    `gateway:
  id: forward-kill
  dataDir: ${dir}
  http: { host: 127.0.0.1, port: 0 }
  auth: { tokens: [ { name: mes, role: ingest, token: ${INGEST} }, { name: root, role: admin, token: ${ADMIN} } ] }
sources: [ { id: mes-http, type: http } ]
rules:
  - { id: alarms, when: { tag: "**/alarm/**", equals: true }, fault: alarm-stop, priority: P2 }
forward: { type: http, url: "${centralUrl}", concurrency: 4, timeout: 2s, backoff: { base: 50ms, max: 1s }, syncInterval: 0s }
`,
  );
  return file;
}

function start(configFile: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['bin/andon.js', 'start', '--config', configFile], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ANDON_LOG_LEVEL: 'error' } });
  return new Promise((resolve, reject) => {
    let err = '';
    const timer = setTimeout(() => reject(new Error(`andon did not start in 20 s: ${err}`)), 20_000);
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      err += chunk;
      const m = /running at (http:\/\/[\d.]+:\d+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1] as string });
      }
    });
    child.once('exit', (code, sig) => {
      clearTimeout(timer);
      reject(new Error(`andon exited with ${code ?? sig}: ${err}`));
    });
  });
}

const exited = (child: ChildProcess) => new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));

/** Posts alarms (raise or clear, 80 assets) one after the other until the gateway stops answering. */
async function load(url: string, stats: { answered: number }): Promise<void> {
  for (;;) {
    const i = Math.floor(random() * 80);
    try {
      const res = await fetch(`${url}/api/v1/signals`, {
        method: 'POST',
        headers: { authorization: `Bearer ${INGEST}`, 'content-type': 'application/json' },
        body: JSON.stringify({ tag: `area-${i}/kp-${i}/alarm/E1`, value: random() < 0.6 }),
      });
      await res.arrayBuffer();
      if (res.status === 202) stats.answered++;
    } catch {
      return; // killed
    }
  }
}

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

  it(`central ends with every committed ticket at its newest version and no duplicate effect, over ${KILLS} kills under load`, { timeout: 150_000 }, async () => {
    const config = writeConfig(tmp.dir, central.url);
    const stats = { answered: 0 };
    const t0 = performance.now();
    let kills = 0;
    while (kills < KILLS) {
      const { child, url } = await start(config);
      const loops = [load(url, stats), load(url, stats)];
      const life = 50 + Math.floor(random() * 350);
      await new Promise<void>((r) => setTimeout(r, life)); // the kill's random moment, not a wait for a result
      child.kill('SIGKILL');
      kills++;
      await exited(child);
      await Promise.all(loops);
    }
    const killing = performance.now() - t0;
    const putsBefore = central.stats().puts;

    // Let the last life drain the outbox, then stop it politely.
    const { child, url } = await start(config);
    await vi.waitFor(
      async () => {
        const res = await fetch(`${url}/api/v1/outbox`, { headers: { authorization: `Bearer ${ADMIN}` } });
        const body = (await res.json()) as { pending: { versions: number } };
        if (body.pending.versions !== 0) throw new Error(`${body.pending.versions} versions pending`);
      },
      { timeout: 30_000, interval: 100 },
    );
    child.kill('SIGTERM');
    await exited(child);

    const store = await TicketStore.open(join(tmp.dir, 'andon.sqlite'));
    try {
      const tickets = store.list().items;
      const atCentral = central.tickets();
      const lost = tickets.filter((t) => atCentral.get(t.id)?.version !== t.version);
      const s = central.stats();
      const versions = tickets.reduce((n, t) => n + t.version, 0);
      console.info(
        `forward kill test: ${kills} SIGKILLs in ${(killing / 1000).toFixed(1)} s; ${stats.answered} signals answered; ` +
          `${tickets.length} tickets, ${versions} versions committed; central: ${s.puts} PUTs (${putsBefore} before the final drain), ` +
          `${s.effective} effective writes, ${s.replays} idempotent replays, ${s.same} same-version no-ops, ${s.conflicts} conflicts; ` +
          `lost ${lost.length}, duplicates ${s.duplicates}, regressions ${s.regressions}`,
      );
      expect(kills).toBe(KILLS);
      expect(stats.answered).toBeGreaterThan(KILLS * 5);
      expect(tickets.length).toBeGreaterThan(40);
      expect(lost).toEqual([]);
      expect(atCentral.size).toBe(tickets.length);
      expect(s.duplicates).toBe(0);
      expect(s.regressions).toBe(0);
      expect(store.outboxPending()).toBe(0);
    } finally {
      await store.close();
    }
  });
});
