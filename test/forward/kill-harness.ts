import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TicketStore } from '../../gateway/store/store.ts';
import type { Central } from '../../sim/central/server.ts';
import { exited, startAndon as start } from '../spawn-andon.ts';
import { seeded } from './kit.ts';

/**
 * Store-and-forward across SIGKILL, shared by test/forward/kill.test.ts (50
 * kills) and bench/kill (500): `andon start` (a child process, as a plant runs
 * it) takes signals without pause and is killed at random moments, again and
 * again, while it forwards to the reference central. Then a last life drains
 * the outbox and stops politely, and the store is compared with central.
 */
const INGEST = 'ingest-token-for-forward-kill';
const ADMIN = 'admin-token-for-forward-kill';

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

/** Posts alarms (raise or clear, 80 assets) one after the other until the gateway stops answering. */
async function load(url: string, stats: { answered: number }, random: () => number): Promise<void> {
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

/** Polls until `check` stops throwing, or throws its last error after `ms`. */
async function until(check: () => Promise<void>, ms: number): Promise<void> {
  const end = performance.now() + ms;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (performance.now() > end) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

export interface KillResult {
  kills: number;
  killingSeconds: number;
  answered: number;
  tickets: number;
  versions: number;
  /** Tickets whose newest committed version is not what central holds. */
  lost: string[];
  atCentral: number;
  pendingAfter: number;
  central: ReturnType<Central['stats']>;
  putsBeforeDrain: number;
}

export async function runKills(opts: { kills: number; dir: string; central: Central; seed?: number; onKill?: (n: number) => void }): Promise<KillResult> {
  const random = seeded(opts.seed ?? 2026);
  const config = writeConfig(opts.dir, opts.central.url);
  const stats = { answered: 0 };
  const t0 = performance.now();
  let kills = 0;
  while (kills < opts.kills) {
    const { child, url } = await start(config);
    const loops = [load(url, stats, random), load(url, stats, random)];
    const life = 50 + Math.floor(random() * 350);
    await new Promise<void>((r) => setTimeout(r, life)); // the kill's random moment, not a wait for a result
    child.kill('SIGKILL');
    kills++;
    opts.onKill?.(kills);
    await exited(child);
    await Promise.all(loops);
  }
  const killingSeconds = (performance.now() - t0) / 1000;
  const putsBeforeDrain = opts.central.stats().puts;

  // The last life drains the outbox, then stops politely.
  const { child, url } = await start(config);
  await until(async () => {
    const res = await fetch(`${url}/api/v1/outbox`, { headers: { authorization: `Bearer ${ADMIN}` } });
    const body = (await res.json()) as { pending: { versions: number } };
    if (body.pending.versions !== 0) throw new Error(`${body.pending.versions} versions pending after the kills`);
  }, 60_000);
  child.kill('SIGTERM');
  await exited(child);

  const store = await TicketStore.open(join(opts.dir, 'andon.sqlite'));
  try {
    const tickets = store.list({ limit: 1_000_000 }).items;
    const atCentral = opts.central.tickets();
    return {
      kills,
      killingSeconds,
      answered: stats.answered,
      tickets: tickets.length,
      versions: tickets.reduce((n, t) => n + t.version, 0),
      lost: tickets.filter((t) => atCentral.get(t.id)?.version !== t.version).map((t) => t.id),
      atCentral: atCentral.size,
      pendingAfter: store.outboxPending(),
      central: opts.central.stats(),
      putsBeforeDrain,
    };
  } finally {
    await store.close();
  }
}

export const describeKills = (r: KillResult) =>
  `${r.kills} SIGKILLs in ${r.killingSeconds.toFixed(1)} s; ${r.answered} signals answered; ` +
  `${r.tickets} tickets, ${r.versions} versions committed; central: ${r.central.puts} PUTs (${r.putsBeforeDrain} before the final drain), ` +
  `${r.central.effective} effective writes, ${r.central.replays} idempotent replays, ${r.central.same} same-version no-ops, ${r.central.conflicts} conflicts; ` +
  `lost ${r.lost.length}, duplicates ${r.central.duplicates}, regressions ${r.central.regressions}`;
