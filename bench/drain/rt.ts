import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseConfig } from '../../config/load.ts';
import { createRuntime } from '../../gateway/runtime.ts';
import { TicketStore } from '../../gateway/store/store.ts';
import { VirtualScheduler } from '../../rules/virtual-scheduler.ts';
import { operator, startRt, stopRt } from '../../test/rt/peer.ts';
import { exited as hasExited, startAndon } from '../../test/spawn-andon.ts';

/**
 * bench/drain, Request Tracker part: `--tickets` tickets (1,000 by default) ×
 * `--versions` pending versions, written while RT was away, drained by
 * `andon start` (a child process, forward type rt) into the test RT instance
 * (test/rt/setup-rt.sh). Next to it, the peer: a bare REST 2 client creating
 * `--bare` tickets with the same custom fields and concurrency (the ceiling of
 * RT itself on this machine). Needs root (RT runs as www-data).
 *
 *   node --import tsx bench/drain/rt.ts [--tickets 1000] [--versions 3] [--concurrency 4] [--bare 300]
 */
const { values: args } = parseArgs({
  options: {
    tickets: { type: 'string', default: '1000' },
    versions: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '4' },
    bare: { type: 'string', default: '300' },
  },
});
const TICKETS = Number(args.tickets);
const VERSIONS = Number(args.versions);
const CONCURRENCY = Number(args.concurrency);
const ADMIN = 'admin-token-for-the-rt-drain-bench';
const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

const { env, started } = await startRt();
const dir = mkdtempSync(join(tmpdir(), 'andon-drain-rt-'));
const configText = `gateway:
  id: drain-rt-bench
  dataDir: ${dir}
  http: { host: 127.0.0.1, port: 0 }
  auth: { tokens: [ { name: root, role: admin, token: ${ADMIN} } ] }
sources: [ { id: mes-http, type: http } ]
rules:
  - { id: alarms, when: { tag: "**/alarm/**", equals: true }, fault: alarm-stop, priority: P2 }
forward: { type: rt, url: "${env.RT_URL}", token: "${env.RT_TOKEN}", queue: "${env.RT_QUEUE}", concurrency: ${CONCURRENCY}, timeout: 30s, syncInterval: 0s }
`;
const configFile = join(dir, 'config.yaml');
writeFileSync(configFile, configText);

// The backlog, straight through the runtime in one transaction (the versions matter here, not the fsyncs).
const runId = Date.now().toString(36);
{
  const store = await TicketStore.open(join(dir, 'andon.sqlite'));
  const runtime = createRuntime({ config: parseConfig(configText), store, scheduler: new VirtualScheduler(Date.now() - 3_600_000) });
  store.transaction(() => {
    for (let v = 0; v < VERSIONS; v++) {
      for (let i = 0; i < TICKETS; i++) runtime.push({ source: 'mes-http', tag: `area-${i}/rt-${runId}-${i}/alarm/E1`, value: v % 2 === 0, quality: 'good', ts: Date.now() });
    }
  });
  console.log(`backlog: ${fmt(store.outboxPending())} versions over ${fmt(TICKETS)} tickets`);
  runtime.stop();
  await store.close();
}

let failed = false;
try {
  const t0 = performance.now();
  const { child, url } = await startAndon(configFile);
  let pending = Infinity;
  while (pending > 0) {
    await new Promise((r) => setTimeout(r, 250));
    const body = (await (await fetch(`${url}/api/v1/outbox`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()) as { pending: { versions: number }; parked?: { versions: number } };
    pending = body.pending.versions;
    if ((performance.now() - t0) / 1000 > 900) throw new Error(`still ${pending} versions pending after 900 s`);
  }
  const drain = (performance.now() - t0) / 1000;
  child.kill('SIGTERM');
  await hasExited(child);

  // What RT holds: one ticket per Andon ticket of this run, none twice.
  const op = operator(env);
  const found = await op.call<{ total: number; count: number }>('GET', 'tickets', undefined, { query: `Queue = '${env.RT_QUEUE}' AND 'CF.{AndonKey}' LIKE 'rt-${runId}-'`, per_page: '1' });
  console.log(`andon → RT: ${fmt(TICKETS)} tickets (${fmt(TICKETS * VERSIONS)} versions) in ${fmt(drain, 1)} s (from process start): ${fmt((TICKETS * VERSIONS) / drain)} versions/s, ${fmt(TICKETS / drain, 1)} tickets/s; RT holds ${fmt(found.total)} tickets of this run`);
  if (found.total !== TICKETS) {
    failed = true;
    console.log(`MISMATCH: RT holds ${found.total}, expected ${TICKETS}`);
  }

  // The peer: a bare REST 2 client creating tickets with the same custom fields and concurrency.
  const BARE = Number(args.bare);
  let next = 0;
  let bareFailed = 0;
  const b0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < BARE) {
        const i = next++;
        const res = await fetch(`${env.RT_URL}/REST/2.0/ticket`, {
          method: 'POST',
          headers: { Authorization: `token ${env.RT_TOKEN}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ Queue: env.RT_QUEUE, Subject: `bare-${runId}-${i} alarm-stop`, Priority: 50, CustomFields: { AndonId: `bare-${runId}-${i}`, AndonKey: `bare-${i}/alarm-stop`, AndonVersion: '1' } }),
        });
        await res.arrayBuffer();
        if (res.status !== 201) bareFailed++;
      }
    }),
  );
  const bare = (performance.now() - b0) / 1000;
  console.log(`bare REST 2 client: ${fmt(BARE)} creates in ${fmt(bare, 1)} s: ${fmt(BARE / bare, 1)} tickets/s (${bareFailed} failed)`);
  console.log(`ratio andon/bare (tickets/s): ${((TICKETS / drain) / (BARE / bare)).toFixed(2)}`);
} catch (err) {
  failed = true;
  console.error(err);
} finally {
  rmSync(dir, { recursive: true, force: true });
  if (started) await stopRt();
}
process.exitCode = failed ? 1 : 0;
