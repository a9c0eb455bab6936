import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { connectAsync } from 'mqtt';
import { pino } from 'pino';
import { filter, firstValueFrom, timeout } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConfigFile } from '../config/load.ts';
import { startAedes, type AedesBroker } from '../connectors/mqtt/fixtures/brokers.ts';
import { startGateway } from '../gateway/main.ts';
import { startCentral, type Central } from '../sim/central/server.ts';
import { when } from './forward/kit.ts';
import { VirtualScheduler } from '../rules/virtual-scheduler.ts';
import { exited } from './spawn-andon.ts';

/**
 * Config reload without a restart (issue 13, item 6): POST /api/v1/admin/reload
 * and SIGHUP read the file again, refuse it whole when it is broken or needs a
 * restart, and otherwise swap it in while tickets, timers and the unchanged
 * sources' connections go on. Real peers: the SQLite file, HTTP on 127.0.0.1,
 * an MQTT broker (aedes), and the `andon` binary for SIGHUP.
 */
const dir = mkdtempSync(join(tmpdir(), 'andon-reload-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ADMIN = 'admin-token-reload-0123456789';
const OPERATOR = 'operator-token-reload-012345';
const INGEST_OLD = 'ingest-token-old-0123456789';
const INGEST_NEW = 'ingest-token-new-0123456789';

/** A log that tests can read: every pino line, parsed. */
function memoryLog() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: pino({ level: 'info' }, stream) };
}

interface Knobs {
  ingest?: string;
  assign?: string;
  port?: number;
  dataDir?: string;
  rules?: string;
  escalation?: string;
  extra?: string;
}

/** The plant's config file, with the knobs a test turns. */
function plantYaml(k: Knobs = {}): string {
  return `gateway:
  id: reload-test
  dataDir: ${k.dataDir ?? join(dir, 'data-http')}
  http: { host: 127.0.0.1, port: ${k.port ?? 0} }
  auth:
    tokens:
      - { name: boss, role: admin, token: ${ADMIN} }
      - { name: wang, role: operator, token: ${OPERATOR} }
      - { name: mes, role: ingest, token: ${k.ingest ?? INGEST_OLD} }
sources:
  - { id: mes-http, type: http }
correlation:
  flood: { count: 10000, within: 10m }
rules:
${k.rules ?? '  - { id: alarms, when: { tag: "line/*/alarm/**", equals: true }, fault: stop, priority: P1 }'}
routing:
  - { match: { area: line }, assign: ${k.assign ?? 'maintenance'} }
${k.escalation ?? ''}
${k.extra ?? ''}`;
}

const write = (file: string, text: string) => writeFileSync(file, text);
const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

describe('POST /api/v1/admin/reload on an in-process gateway', () => {
  const file = join(dir, 'plant.yaml');
  const clock = new VirtualScheduler(Date.now());
  const log = memoryLog();
  let gw: Awaited<ReturnType<typeof startGateway>>;

  beforeAll(async () => {
    write(file, plantYaml());
    const { config, sha } = readConfigFile(file);
    gw = await startGateway(config, { configFile: file, configSha: sha, logger: log.logger, scheduler: clock });
  });
  afterAll(() => gw?.stop());

  const post = (path: string, token: string, body?: unknown) =>
    fetch(`${gw.address}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const reload = async () => {
    const r = await post('/api/v1/admin/reload', ADMIN);
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };
  const signal = (token: string, tag: string, value: unknown = true) => post('/api/v1/signals', token, { tag, value });
  const ticket = (key: string) => gw.store.liveByKey(key);
  const metrics = async () => (await fetch(`${gw.address}/metrics`)).text();

  it('starts with the file\'s sha in andon_config_info and every reload outcome at 0', async () => {
    const m = await metrics();
    expect(m).toContain(`andon_config_info{sha="${sha(file)}"} 1`);
    for (const outcome of ['applied', 'unchanged', 'invalid', 'restart_required', 'failed']) expect(m).toMatch(new RegExp(`^andon_config_reloads_total\\{outcome="${outcome}"\\} 0$`, 'm'));
  });

  it('needs the admin role', async () => {
    expect((await post('/api/v1/admin/reload', OPERATOR)).status).toBe(403);
    expect((await fetch(`${gw.address}/api/v1/admin/reload`, { method: 'POST' })).status).toBe(401);
  });

  it('applies a routing change and a token rotation: the old ingest token stops working, the new one works', async () => {
    expect((await signal(INGEST_OLD, 'line/m-1/alarm/E1')).status).toBe(202);
    expect(ticket('m-1/stop')?.assignedGroup).toBe('maintenance');

    write(file, plantYaml({ ingest: INGEST_NEW, assign: 'electrical' }));
    const r = await reload();
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ outcome: 'applied', sha: sha(file), restarted: [], removed: [] });
    expect(r.body.changed).toEqual(['gateway.auth.tokens', 'routing']);

    const old = await signal(INGEST_OLD, 'line/m-2/alarm/E1');
    expect(old.status).toBe(401);
    expect(((await old.json()) as { code: string }).code).toBe('ANDON_AUTH_REQUIRED');
    expect((await signal(INGEST_NEW, 'line/m-2/alarm/E1')).status).toBe(202);
    expect(ticket('m-2/stop')?.assignedGroup).toBe('electrical');
    // The ticket opened before keeps its assignment (routing applies to new tickets).
    expect(ticket('m-1/stop')?.assignedGroup).toBe('maintenance');

    const m = await metrics();
    expect(m).toMatch(/^andon_config_reloads_total\{outcome="applied"\} 1$/m);
    expect(m).toContain(`andon_config_info{sha="${sha(file)}"} 1`);
    expect(m.match(/^andon_config_info\{/gm)).toHaveLength(1);
    expect(log.lines.some((l) => l.component === 'reload' && String(l.msg).startsWith('config reloaded') && l.trigger === 'http')).toBe(true);
  });

  it('refuses a broken file with every problem listed; the running config stays and the gateway logs it', async () => {
    const before = sha(file);
    write(file, plantYaml({ ingest: INGEST_OLD, assign: 'nobody', extra: 'shelving: { maxDuration: soon }\nbogus: 1\n' }));
    const r = await reload();
    expect(r.status).toBe(422);
    expect(r.body.code).toBe('ANDON_RELOAD_INVALID');
    const problems = r.body.problems as { path: string; code: string; message: string }[];
    expect(problems.map((p) => [p.path, p.code])).toEqual(
      expect.arrayContaining([
        ['bogus', 'ANDON_CONFIG_UNKNOWN_KEY'],
        ['shelving.maxDuration', 'ANDON_CONFIG_INVALID_DURATION'],
      ]),
    );
    // The check-config format, one problem a line.
    expect(r.body.message).toContain('bogus: ANDON_CONFIG_UNKNOWN_KEY: unknown key "bogus"');
    expect(r.body.message).toMatch(/^shelving\.maxDuration: ANDON_CONFIG_INVALID_DURATION: /m);

    // Nothing of it is applied: the new token still works, the old one does not, routing is the last good one.
    expect((await signal(INGEST_OLD, 'line/m-3/alarm/E1')).status).toBe(401);
    expect((await signal(INGEST_NEW, 'line/m-3/alarm/E1')).status).toBe(202);
    expect(ticket('m-3/stop')?.assignedGroup).toBe('electrical');
    const m = await metrics();
    expect(m).toMatch(/^andon_config_reloads_total\{outcome="invalid"\} 1$/m);
    expect(m).toContain(`andon_config_info{sha="${before}"} 1`);
    const line = log.lines.find((l) => l.component === 'reload' && l.code === 'ANDON_RELOAD_INVALID');
    expect(line).toMatchObject({ level: 50 });
    expect((line?.problems as unknown[]).length).toBe(problems.length);
    expect((await fetch(`${gw.address}/healthz`)).status).toBe(200);
  });

  it('refuses a file that changes a key only a restart applies, and applies nothing of the rest', async () => {
    write(file, plantYaml({ ingest: INGEST_NEW, assign: 'nobody', port: 1, dataDir: join(dir, 'elsewhere') }));
    const r = await reload();
    expect(r.status).toBe(409);
    expect(r.body).toMatchObject({ code: 'ANDON_RELOAD_RESTART_REQUIRED', keys: ['gateway.dataDir', 'gateway.http.port'] });
    expect(r.body.message).toContain('only a restart applies');
    expect((await signal(INGEST_NEW, 'line/m-4/alarm/E1')).status).toBe(202);
    expect(ticket('m-4/stop')?.assignedGroup).toBe('electrical');
    expect(await metrics()).toMatch(/^andon_config_reloads_total\{outcome="restart_required"\} 1$/m);
    expect(log.lines.some((l) => l.component === 'reload' && l.code === 'ANDON_RELOAD_RESTART_REQUIRED' && l.level === 40)).toBe(true);
  });

  it('keeps tickets and a running SLA timer across a reload that rebuilds the rules and re-plans escalation', async () => {
    write(file, plantYaml({ ingest: INGEST_NEW, assign: 'electrical' }));
    expect((await reload()).body.outcome).toBe('unchanged');
    const opened = clock.now();
    expect((await signal(INGEST_NEW, 'line/m-5/alarm/E1')).status).toBe(202);
    const t = ticket('m-5/stop');
    expect(t?.state).toBe('open');
    const live = gw.store.liveTickets().map((x) => x.id).sort();

    // New rules (a second rule; the pipeline is rebuilt) and an escalation level 10 min after opening.
    write(
      file,
      plantYaml({
        ingest: INGEST_NEW,
        assign: 'electrical',
        rules: '  - { id: alarms, when: { tag: "line/*/alarm/**", equals: true }, fault: stop, priority: P1 }\n  - { id: hot, when: { tag: "line/*/temp", above: 80 }, fault: overtemp, priority: P2 }',
        escalation: 'escalation:\n  - { level: 1, after: 10m, unless: acknowledged }',
      }),
    );
    const r = await reload();
    expect(r.body).toMatchObject({ outcome: 'applied' });
    expect(r.body.changed).toEqual(['rules', 'escalation']);
    expect(gw.store.liveTickets().map((x) => x.id).sort()).toEqual(live);
    expect(ticket('m-5/stop')?.id).toBe(t?.id);

    // The new level fires for the ticket opened before the reload, and the SLA (respond within 30 min, P1) still runs.
    clock.advanceTo(opened + 10 * 60_000);
    expect(ticket('m-5/stop')?.escalationLevel).toBe(1);
    expect(ticket('m-5/stop')?.breaches).toEqual([]);
    clock.advanceTo(opened + 30 * 60_000);
    expect(ticket('m-5/stop')?.breaches).toEqual(['respond']);
    // The new rule works; the old one too, and a detection of a ticket opened before the reload folds into it.
    expect((await signal(INGEST_NEW, 'line/m-5/temp', 95)).status).toBe(202);
    expect(ticket('m-5/overtemp')?.priority).toBe('P2');
    expect((await signal(INGEST_NEW, 'line/m-5/alarm/E1', false)).status).toBe(202);
    expect((await signal(INGEST_NEW, 'line/m-5/alarm/E1')).status).toBe(202);
    expect(gw.store.liveTickets().filter((x) => x.key === 'm-5/stop')).toHaveLength(1);
  });

  it('signals that arrive while reloads swap the rules are each taken once: no ticket lost, none doubled', async () => {
    const base = gw.store.liveTickets().length;
    const n = 200;
    const sends = Array.from({ length: n }, (_, i) => signal(INGEST_NEW, `line/burst-${i}/alarm/E9`));
    const reloads: Promise<unknown>[] = [];
    for (let i = 0; i < 4; i++) {
      // Each reload changes the rules (a title), so each rebuilds the pipeline while the burst goes in.
      write(file, plantYaml({ ingest: INGEST_NEW, assign: 'electrical', rules: `  - { id: alarms, when: { tag: "line/*/alarm/**", equals: true }, fault: stop, priority: P1, title: "stop ${i}" }` }));
      reloads.push(reload());
      await new Promise((resolve) => setImmediate(resolve));
    }
    const answers = await Promise.all(sends);
    expect(answers.every((a) => a.status === 202)).toBe(true);
    await Promise.all(reloads);
    const burst = gw.store.liveTickets().filter((x) => x.key.startsWith('burst-'));
    expect(burst).toHaveLength(n);
    expect(burst.every((x) => x.occurrences === 1)).toBe(true);
    expect(gw.store.liveTickets().length).toBe(base + n);
  });
});

describe('reload with MQTT sources (aedes)', () => {
  const file = join(dir, 'mqtt.yaml');
  let broker: AedesBroker;
  let gw: Awaited<ReturnType<typeof startGateway>>;
  const connects: string[] = [];
  const disconnects: string[] = [];

  const yaml = (topicB: string) => `gateway:
  id: reload-mqtt
  dataDir: ${join(dir, 'data-mqtt')}
  http: { host: 127.0.0.1, port: 0 }
  auth: { tokens: [ { name: boss, role: admin, token: ${ADMIN} } ] }
sources:
  - id: mes-a
    type: mqtt
    url: ${broker.url}
    subscriptions: [ { topic: "a/+/alarms", format: json, tag: "line/{1}/alarm/{code}", value: "$.active", asset: "{1}" } ]
  - id: mes-b
    type: mqtt
    url: ${broker.url}
    subscriptions: [ { topic: "${topicB}", format: json, tag: "line/{1}/alarm/{code}", value: "$.active", asset: "{1}" } ]
rules:
  - { id: alarms, when: { tag: "line/*/alarm/**", equals: true }, fault: stop, priority: P2 }
`;

  beforeAll(async () => {
    broker = await startAedes();
    broker.broker.on('client', (c) => connects.push(c.id));
    broker.broker.on('clientDisconnect', (c) => disconnects.push(c.id));
    write(file, yaml('b/+/alarms'));
    const { config, sha } = readConfigFile(file);
    gw = await startGateway(config, { configFile: file, configSha: sha, logger: pino({ level: 'silent' }) });
    for (const c of gw.sources.connectors.values()) await firstValueFrom(c.status$.pipe(filter((st) => st === 'up'), timeout(15_000)));
  }, 30_000);
  afterAll(async () => {
    await gw?.stop();
    await broker?.close();
  });

  const ticketOf = (key: string) => firstValueFrom(gw.runtime.engine.changes$.pipe(filter((c) => c.ticket.key === key), timeout(15_000)));
  async function publish(topic: string, body: unknown) {
    const client = await connectAsync(broker.url);
    await client.publishAsync(topic, JSON.stringify(body), { qos: 1 });
    await client.endAsync();
  }

  it('restarts only the source whose config changed; the other keeps its connection', async () => {
    expect(connects.filter((id) => id === 'andon-mes-a')).toHaveLength(1);
    expect(connects.filter((id) => id === 'andon-mes-b')).toHaveLength(1);
    const connectorA = gw.sources.connectors.get('mes-a');
    const connectorB = gw.sources.connectors.get('mes-b');

    write(file, yaml('b2/+/alarms'));
    const r = await gw.reload('http');
    expect(r).toMatchObject({ outcome: 'applied', changed: ['sources'], restarted: ['mes-b'], removed: [] });
    // The new mes-b has made its first attempt when the reload returns.
    expect(gw.sources.connectors.get('mes-a')).toBe(connectorA);
    expect(gw.sources.connectors.get('mes-b')).not.toBe(connectorB);
    await firstValueFrom(gw.sources.connectors.get('mes-b')!.status$.pipe(filter((st) => st === 'up'), timeout(15_000)));
    expect(disconnects).toEqual(['andon-mes-b']);
    expect(connects.filter((id) => id === 'andon-mes-a')).toHaveLength(1);
    expect(connects.filter((id) => id === 'andon-mes-b')).toHaveLength(2);

    // Both take signals: mes-a as before, mes-b on its new topic.
    const a = ticketOf('filler-1/stop');
    await publish('a/filler-1/alarms', { code: 'E1', active: true });
    expect((await a).ticket.evidence[0]?.tag).toBe('line/filler-1/alarm/E1');
    const b = ticketOf('capper-2/stop');
    await publish('b2/capper-2/alarms', { code: 'E2', active: true });
    expect((await b).ticket.evidence[0]?.tag).toBe('line/capper-2/alarm/E2');
    expect(await (await fetch(`${gw.address}/metrics`)).text()).toMatch(/andon_source_up\{source="mes-b"} 1/);
  });

  it('refuses a changed source whose connector cannot be made (a missing TLS file), with its path; both sources keep running', async () => {
    const [a, b] = [gw.sources.connectors.get('mes-a'), gw.sources.connectors.get('mes-b')];
    const missing = join(dir, 'no-such-ca.crt');
    write(file, yaml('b2/+/alarms').replace(/(- id: mes-b\n\s+type: mqtt\n)/, `$1    tls: { ca: ${missing} }\n`));
    const err = (await gw.reload('http').catch((e: unknown) => e)) as { code: string; problems: { path: string; code: string }[] };
    expect(err.code).toBe('ANDON_RELOAD_INVALID');
    expect(err.problems).toEqual([expect.objectContaining({ path: 'sources[1].tls.ca', code: 'ANDON_MQTT_TLS_FILE' })]);
    expect(gw.sources.connectors.get('mes-a')).toBe(a);
    expect(gw.sources.connectors.get('mes-b')).toBe(b);
    expect(disconnects.filter((id) => id.startsWith('andon-'))).toEqual(['andon-mes-b']);
    const t = ticketOf('capper-3/stop');
    await publish('b2/capper-3/alarms', { code: 'E3', active: true });
    await t;
  });
});

describe('reload of forward', () => {
  const file = join(dir, 'forward.yaml');
  let central: Central;
  let gw: Awaited<ReturnType<typeof startGateway>>;
  const yaml = (forward: string) => `${plantYaml({ dataDir: join(dir, 'data-forward'), ingest: INGEST_NEW })}\n${forward}\n`;
  const signal = (tag: string) =>
    fetch(`${gw.address}/api/v1/signals`, { method: 'POST', headers: { authorization: `Bearer ${INGEST_NEW}`, 'content-type': 'application/json' }, body: JSON.stringify({ tag, value: true }) });

  beforeAll(async () => {
    central = await startCentral({ token: 'central-token-0123' });
    write(file, yaml(''));
    const { config, sha } = readConfigFile(file);
    gw = await startGateway(config, { configFile: file, configSha: sha, logger: pino({ level: 'silent' }) });
  });
  afterAll(async () => {
    await gw?.stop();
    await central?.stop();
  });

  it('forward added by a reload sends what waited in the outbox and what comes after; removed, it stops', async () => {
    expect((await signal('line/f-1/alarm/E1')).status).toBe(202);
    expect(gw.forwarding).toBeUndefined();
    write(file, yaml(`forward: { type: http, url: "${central.url}", token: central-token-0123, syncInterval: 0s }`));
    expect(await gw.reload('http')).toMatchObject({ outcome: 'applied', changed: ['forward'] });
    const before = gw.store.liveByKey('f-1/stop')!;
    await when(central.events, 'write', () => central.tickets().get(before.id)?.version === 1);
    expect((await signal('line/f-2/alarm/E1')).status).toBe(202);
    const after = gw.store.liveByKey('f-2/stop')!;
    await when(central.events, 'write', () => central.tickets().get(after.id)?.version === 1);

    write(file, yaml(''));
    expect(await gw.reload('http')).toMatchObject({ outcome: 'applied', changed: ['forward'] });
    expect(gw.forwarding).toBeUndefined();
    const pending = gw.store.outboxPending();
    expect((await signal('line/f-3/alarm/E1')).status).toBe(202);
    // Its row waits in the outbox for a forward to come back.
    expect(gw.store.outboxPending()).toBe(pending + 1);
  });
});

describe('SIGHUP on `andon start`', () => {
  const file = join(dir, 'hup.yaml');
  let child: ChildProcess;
  let url = '';
  const out: Record<string, unknown>[] = [];
  const waiters: { test: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }[] = [];

  /** The next log line (pino JSON on stdout) that passes `test`, within 15 s. */
  const logLine = (test: (l: Record<string, unknown>) => boolean) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no such log line in 15 s; saw ${JSON.stringify(out.slice(-5))}`)), 15_000);
      waiters.push({ test, resolve: (l) => (clearTimeout(timer), resolve(l)) });
    });

  beforeAll(async () => {
    write(file, plantYaml({ dataDir: join(dir, 'data-hup') }));
    child = spawn(process.execPath, ['bin/andon.js', 'start', '--config', file], {
      cwd: join(import.meta.dirname, '..'),
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ANDON_LOG_LEVEL: 'info' },
    });
    let buf = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buf += chunk;
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (!line.startsWith('{')) continue;
        const l = JSON.parse(line) as Record<string, unknown>;
        out.push(l);
        for (const w of [...waiters]) {
          if (!w.test(l)) continue;
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(l);
        }
      }
    });
    let err = '';
    url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`andon did not start in 20 s: ${err}`)), 20_000);
      child.stderr!.setEncoding('utf8').on('data', (c: string) => {
        err += c;
        const m = /running at (http:\/\/[\d.]+:\d+)/.exec(err);
        if (!m) return;
        clearTimeout(timer);
        resolve(m[1] as string);
      });
      child.once('exit', (code) => (clearTimeout(timer), reject(new Error(`andon exited with ${code}: ${err}`))));
    });
  }, 30_000);
  afterAll(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    await exited(child);
  });

  const signalAs = (token: string) =>
    fetch(`${url}/api/v1/signals`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ tag: 'line/m-9/alarm/E1', value: true }) });

  it('reloads the file and logs it; a broken file is logged and refused, and the gateway keeps running', async () => {
    expect((await signalAs(INGEST_OLD)).status).toBe(202);
    write(file, plantYaml({ dataDir: join(dir, 'data-hup'), ingest: INGEST_NEW }));
    const applied = logLine((l) => l.component === 'reload' && String(l.msg).startsWith('config reloaded'));
    child.kill('SIGHUP');
    expect(await applied).toMatchObject({ trigger: 'signal', sha: sha(file), changed: ['gateway.auth.tokens'] });
    expect((await signalAs(INGEST_OLD)).status).toBe(401);
    expect((await signalAs(INGEST_NEW)).status).toBe(202);

    write(file, plantYaml({ dataDir: join(dir, 'data-hup'), ingest: 'short' }));
    const refused = logLine((l) => l.component === 'reload' && l.code === 'ANDON_RELOAD_INVALID');
    child.kill('SIGHUP');
    const line = await refused;
    expect(line.level).toBe(50);
    expect(line.problems).toEqual([expect.objectContaining({ path: 'gateway.auth.tokens[2].token', code: 'ANDON_CONFIG_WEAK_TOKEN' })]);
    expect(child.exitCode).toBeNull();
    expect((await signalAs(INGEST_NEW)).status).toBe(202);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/^andon_config_reloads_total\{outcome="applied"\} 1$/m);
    expect(metrics).toMatch(/^andon_config_reloads_total\{outcome="invalid"\} 1$/m);

    // SIGTERM still stops it cleanly.
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
  });
});
