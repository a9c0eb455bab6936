import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer, connect } from 'node:net';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { exited, startAndon } from '../test/spawn-andon.ts';

/**
 * `andon start` unwinds: whatever fails at start (a connector's config, the
 * port, the store) stops what had started, prints `CODE: message` without a
 * stack and exits 1, leaving no port and no process. `check-config` runs the
 * same connector creation without connecting.
 */
const root = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'andon-start-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the real binary; a start that does not exit within 20 s fails the test (spawnSync's timeout). */
function andon(args: string[], as: { uid?: number; gid?: number } = {}) {
  const r = spawnSync(process.execPath, ['bin/andon.js', ...args], { cwd: root, encoding: 'utf8', env: { ...process.env, ANDON_LOG_LEVEL: 'silent' }, timeout: 20_000, ...as });
  if (r.error) throw r.error;
  return { status: r.status, stderr: r.stderr };
}

let n = 0;
function configFile(body: string, port = 0, dataDir = join(dir, `data-${n}`)): string {
  const file = join(dir, `config-${n++}.yaml`);
  writeFileSync(file, `gateway: { id: start-test, dataDir: ${dataDir}, http: { host: 127.0.0.1, port: ${port} } }\n${body}`);
  return file;
}

const missingCa = join(dir, 'no-such-ca.crt');
const mqttWithMissingCa = `sources:
  - id: mes
    type: mqtt
    url: mqtts://127.0.0.1:1
    tls: { ca: ${missingCa} }
    subscriptions: [ { topic: mes/+/alarms, format: json, tag: "packaging/{1}/alarm/{code}", value: $.active } ]
`;

async function freePort(): Promise<number> {
  const srv = createServer().listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as { port: number }).port;
  srv.close();
  await once(srv, 'close');
  return port;
}

/** Whether anything accepts connections on the port. */
const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

describe('andon check-config creates the connectors without connecting', () => {
  it('a missing MQTT tls.ca fails with its path and code', () => {
    const file = configFile(mqttWithMissingCa);
    const r = andon(['check-config', file]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${file}: sources[0].tls.ca: ANDON_MQTT_TLS_FILE: `);
    expect(r.stderr).toContain(missingCa);
  });

  it('a Modbus coil action without an address, an OPC UA one without nodeId and a write to an http source each fail with their path', () => {
    const file = configFile(`sources:
  - { id: meter, type: modbus, host: 127.0.0.1, port: 1, registers: [ { tag: u/m/v, table: holding, address: 0, type: uint16 } ] }
  - { id: plc, type: opcua, endpoint: "opc.tcp://127.0.0.1:1", tags: [ { tag: p/s/run, nodeId: "ns=1;s=Run" } ] }
  - { id: mes-http, type: http }
actions:
  - { on: { priority: P0 }, write: { source: meter, table: coil, value: true } }
  - { on: { priority: P0 }, write: { source: plc, value: true } }
  - { on: { priority: P0 }, write: { source: mes-http, topic: andon/light, value: true } }
`);
    const r = andon(['check-config', file]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${file}: actions[0].write.address: ANDON_CONFIG_MISSING: `);
    expect(r.stderr).toContain(`${file}: actions[1].write.nodeId: ANDON_CONFIG_MISSING: `);
    expect(r.stderr).toContain(`${file}: actions[2].write.source: ANDON_CONFIG_INVALID_VALUE: `);
  });
});

describe('store.retention', () => {
  it('is a duration of at least 1h', () => {
    const ok = andon(['check-config', configFile('store: { retention: 90d }\n')]);
    expect(ok.status, ok.stderr).toBe(0);
    const file = configFile('store: { retention: 10m }\n');
    const r = andon(['check-config', file]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${file}: store.retention: ANDON_CONFIG_INVALID_VALUE: retention must be at least 1h`);
  });
});

describe('andon start unwinds a failed start', () => {
  it('a missing TLS file: exit 1 with the code and no stack, and no port is left listening', async () => {
    const port = await freePort();
    const r = andon(['start', '--config', configFile(mqttWithMissingCa, port)]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^ANDON_MQTT_TLS_FILE: .*no-such-ca\.crt/m);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(await listening(port)).toBe(false);
  });

  it('a port in use: ANDON_HTTP_LISTEN, and the process exits (store, timers and forwarding stopped)', async () => {
    const taken = createServer().listen(0, '127.0.0.1');
    await once(taken, 'listening');
    try {
      const port = (taken.address() as { port: number }).port;
      const r = andon(['start', '--config', configFile('sources: [ { id: mes-http, type: http } ]\nforward: { type: http, url: "http://127.0.0.1:1" }\n', port)]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`^ANDON_HTTP_LISTEN: cannot listen on 127.0.0.1:${port}`, 'm'));
      expect(r.stderr).not.toMatch(/^\s+at /m);
    } finally {
      taken.close();
    }
  });

  it('a data directory that cannot be created: ANDON_STORE_UNAVAILABLE with the path, no raw stack', () => {
    writeFileSync(join(dir, 'a-file'), '');
    const r = andon(['start', '--config', configFile('', 0, join(dir, 'a-file', 'data'))]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^ANDON_STORE_UNAVAILABLE: cannot create the data directory .*a-file\/data/m);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  it('a -shm it cannot write: ANDON_STORE_UNAVAILABLE naming it, at start (not a silent exit, nor a SIGBUS later)', () => {
    const dataDir = join(dir, 'read-only-shm');
    mkdirSync(dataDir);
    writeFileSync(join(dataDir, 'andon.sqlite-shm'), '');
    chmodSync(join(dataDir, 'andon.sqlite-shm'), 0o444);
    // root writes anything: run the gateway as nobody then, owning its directory but not the -shm.
    const nobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    if (nobody.uid !== undefined) chownSync(dataDir, nobody.uid, nobody.gid);
    const file = configFile('', 0, dataDir);
    chmodSync(dir, 0o755); // mkdtemp makes it 0700: nobody must read the config
    const r = andon(['start', '--config', file], nobody);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^ANDON_STORE_UNAVAILABLE: the store's shared-memory index .*read-only-shm\/andon\.sqlite-shm is not writable/m);
  });

  it('a damaged store: ANDON_STORE_CORRUPT naming the file', () => {
    const dataDir = join(dir, 'corrupt');
    const file = configFile('', 0, dataDir);
    spawnSync('mkdir', ['-p', dataDir]);
    writeFileSync(join(dataDir, 'andon.sqlite'), 'not a database '.repeat(500));
    const r = andon(['start', '--config', file]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^ANDON_STORE_CORRUPT: the ticket store .*corrupt\/andon\.sqlite is damaged/m);
  });
});

describe('andon backup', () => {
  const TOKEN = 'ingest-token-for-backup-test';
  const post = (url: string, i: number) =>
    fetch(`${url}/api/v1/signals`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      // one area per asset, so the burst is not an alarm flood
      body: JSON.stringify({ tag: `line-${i}/press-${i}/alarm/J1`, value: true }),
    }).then((r) => r.status);

  it('copies the store of a running gateway while it writes: the copy is sound and each ticket has its history and outbox rows', async () => {
    const dataDir = join(dir, 'live');
    const file = join(dir, 'backup-config.yaml');
    writeFileSync(file, `gateway: { id: backup-test, dataDir: ${dataDir}, http: { host: 127.0.0.1, port: 0 }, auth: { tokens: [ { name: mes, role: ingest, token: ${TOKEN} } ] } }
sources: [ { id: mes-http, type: http } ]
rules:
  - { id: alarms, when: { tag: "**/alarm/**", equals: true }, fault: alarm-stop, priority: P2 }
`);
    const { child, url } = await startAndon(file);
    try {
      for (let i = 0; i < 100; i++) expect(await post(url, i)).toBe(202);
      // The gateway keeps writing while the backup runs.
      let writing = true;
      let i = 100;
      const writer = (async () => {
        while (writing) expect(await post(url, i++)).toBe(202);
      })();
      const target = join(dir, 'backup.sqlite');
      const backup = spawn(process.execPath, ['bin/andon.js', 'backup', target, '--config', file], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      backup.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const [code] = (await once(backup, 'exit')) as [number | null];
      writing = false;
      await writer;
      expect(code, stderr).toBe(0);
      expect(stderr).toMatch(/backed up .*andon\.sqlite to .*backup\.sqlite \(\d+ tickets, \d+ bytes\)/);
      const copy = new Database(target, { readonly: true });
      try {
        expect(copy.pragma('integrity_check')).toEqual([{ integrity_check: 'ok' }]);
        const tickets = (copy.prepare('SELECT count(*) AS n FROM tickets').get() as { n: number }).n;
        expect(tickets).toBeGreaterThanOrEqual(100);
        expect(tickets).toBeLessThanOrEqual(i);
        // One snapshot: every ticket's versions have their events and outbox rows, nothing from later.
        expect(copy.prepare('SELECT count(*) AS n FROM ticket_events').get()).toEqual({ n: tickets });
        expect(copy.prepare('SELECT count(*) AS n FROM outbox').get()).toEqual({ n: tickets });
        expect(copy.pragma('journal_mode', { simple: true })).toBe('delete');
      } finally {
        copy.close();
      }
      // Never overwrites.
      const again = andon(['backup', target, '--config', file]);
      expect(again.status).toBe(1);
      expect(again.stderr).toMatch(/^ANDON_STORE_BACKUP_FAILED: .*exists/m);
    } finally {
      child.kill('SIGTERM');
      await exited(child);
    }
  });

  it('needs --config or --db: a usage error otherwise', () => {
    const r = andon(['backup', join(dir, 'x.sqlite')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^ANDON_CLI_USAGE: backup needs --config <file.yaml> or --db/m);
  });
});

describe('andon start tunes its heap', () => {
  it("keeps the young generation at V8's first 1 MiB (set before the gateway's modules load)", async () => {
    const file = join(dir, 'heap.yaml');
    writeFileSync(file, `gateway: { id: heap-test, dataDir: ${join(dir, 'heap-data')}, http: { host: 127.0.0.1, port: 0 } }\nsources: [ { id: mes-http, type: http } ]\n`);
    const { child, url } = await startAndon(file);
    try {
      const text = await (await fetch(`${url}/metrics`)).text();
      const young = Number(/^nodejs_heap_space_size_total_bytes\{space="new"\} (\d+)$/m.exec(text)?.[1]);
      // two semi-spaces of 1 MiB; 16 MiB when the flag comes after the modules
      expect(young).toBeGreaterThan(0);
      expect(young).toBeLessThanOrEqual(2 * 1_048_576);
    } finally {
      child.kill('SIGTERM');
      await exited(child);
    }
  });
});
