import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConfigFile } from '../config/load.ts';
import { startGateway } from '../gateway/main.ts';
import { TicketStore } from '../gateway/store/store.ts';
import { VirtualScheduler } from '../rules/virtual-scheduler.ts';

/**
 * The audit trail of a whole gateway (issue 16, item 3): config reloads over HTTP and by SIGHUP with the
 * file's sha before and after, a schedules change applied by reload (GET /api/v1/oncall answers from the
 * new one at once), and the rows still held by the folding written at stop. Real peers: the config file,
 * the SQLite file, HTTP on 127.0.0.1 port 0; virtual time.
 */
const dir = mkdtempSync(join(tmpdir(), 'andon-audit-gw-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ADMIN = 'admin-token-audit-0123456789';
const OPERATOR = 'operator-token-audit-01234567';
const file = join(dir, 'plant.yaml');
const dataDir = join(dir, 'data');
const T0 = Date.parse('2026-03-02T08:00:00.000Z'); // 16:00 in Shanghai

const SCHEDULES = `
notify:
  wang-phone: { type: webhook, url: "http://127.0.0.1:9/wang" }
  li-phone: { type: webhook, url: "http://127.0.0.1:9/li" }
schedules:
  people:
    wang: { notify: wang-phone }
    li: { notify: li-phone }
  groups:
    maintenance:
      rotationStart: "2026-03-02"
      shifts: [ { id: day, start: "08:00", end: "20:00", onCall: [ONCALL] } ]
`;

const plantYaml = (extra = '', port = 0) => `gateway:
  id: audit-test
  timezone: Asia/Shanghai
  dataDir: ${dataDir}
  http: { host: 127.0.0.1, port: ${port} }
  auth:
    tokens:
      - { name: boss, role: admin, token: ${ADMIN} }
      - { name: wang, role: operator, token: ${OPERATOR} }
sources: [ { id: mes-http, type: http } ]
rules:
  - { id: alarms, when: { tag: "line/*/alarm", equals: true }, fault: stop, priority: P1 }
routing:
  - { match: {}, assign: maintenance }
${extra}`;
const sha = () => createHash('sha256').update(readFileSync(file)).digest('hex');

describe('the audit trail of a running gateway', () => {
  const clock = new VirtualScheduler(T0);
  let gw: Awaited<ReturnType<typeof startGateway>>;
  const get = async (path: string, token = ADMIN) => (await fetch(`${gw.address}${path}`, { headers: { authorization: `Bearer ${token}` } })).json() as Promise<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const reload = async () => {
    const r = await fetch(`${gw.address}/api/v1/admin/reload`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}` } });
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };
  const reloads = () => gw.store.audit.list({ limit: 100, offset: 0, action: 'config.reload' }).items.reverse();

  beforeAll(async () => {
    writeFileSync(file, plantYaml(SCHEDULES.replace('ONCALL', 'wang')));
    const { config, sha } = readConfigFile(file);
    gw = await startGateway(config, { configFile: file, configSha: sha, scheduler: clock, logger: pino({ level: 'silent' }) });
  });
  afterAll(() => gw?.stop());

  it('a reload over HTTP is recorded with who asked, from where, the old and the new sha and what changed', async () => {
    expect((await get('/api/v1/oncall')).groups[0].onCall.id).toBe('wang');
    const oldSha = sha();
    writeFileSync(file, plantYaml(SCHEDULES.replace('ONCALL', 'li')));
    const r = await reload();
    expect(r).toMatchObject({ status: 200, body: { outcome: 'applied', changed: ['schedules'] } });
    // the new schedule answers at once
    expect((await get('/api/v1/oncall')).groups[0].onCall.id).toBe('li');
    expect(reloads()).toEqual([
      {
        seq: expect.any(Number),
        at: T0,
        actor: 'boss',
        action: 'config.reload',
        outcome: 'applied',
        target: file,
        origin: '127.0.0.1',
        code: null,
        details: { trigger: 'http', oldSha, newSha: sha(), changed: ['schedules'], restarted: [], removed: [] },
      },
    ]);
  });

  it('a refused reload is recorded with its code, and the sha in use stays the old one', async () => {
    const inUse = sha();
    writeFileSync(file, plantYaml(SCHEDULES.replace('ONCALL', 'nobody-we-know')));
    expect((await reload()).status).toBe(422);
    writeFileSync(file, plantYaml(SCHEDULES.replace('ONCALL', 'li'), 9999));
    expect((await reload()).status).toBe(409);
    const [invalid, restart] = reloads().slice(1);
    expect(invalid).toMatchObject({ actor: 'boss', outcome: 'invalid', code: 'ANDON_RELOAD_INVALID', details: { trigger: 'http', oldSha: inUse, problems: 1 } });
    expect(restart).toMatchObject({ outcome: 'restart_required', code: 'ANDON_RELOAD_RESTART_REQUIRED', details: { oldSha: inUse, newSha: sha(), keys: ['gateway.http.port'] } });
    expect(invalid?.details?.newSha).not.toBe(inUse);
  });

  it('a reload by SIGHUP has no actor; its origin is the signal', async () => {
    writeFileSync(file, plantYaml(SCHEDULES.replace('ONCALL', 'li')));
    expect(await gw.reload('signal')).toMatchObject({ outcome: 'unchanged' });
    expect(reloads().at(-1)).toMatchObject({ actor: null, origin: 'signal', outcome: 'unchanged', details: { trigger: 'signal', newSha: sha(), changed: [] } });
  });

  it('a ticket routed by the reloaded schedule names its assignee, and the audit is kept after a stop', async () => {
    const res = await fetch(`${gw.address}/api/v1/signals`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ tag: 'line/press-1/alarm', value: true }),
    });
    expect(res.status).toBe(202);
    expect(gw.store.liveByKey('press-1/stop')).toMatchObject({ assignedGroup: 'maintenance', assignee: 'li' });
    for (let i = 0; i < 3; i++) await get('/api/v1/tickets', OPERATOR);
    await gw.stop();
    const store = await TicketStore.open(join(dataDir, 'andon.sqlite'));
    try {
      const uses = store.audit.list({ limit: 100, offset: 0, actor: 'wang', action: 'auth.sign-in' }).items;
      // the first use at once, the two after it folded into one row written at stop
      expect(uses.map((u) => u.details)).toEqual([{ method: 'token', repeated: 1 }, { method: 'token' }]);
      expect(store.audit.list({ limit: 100, offset: 0, action: 'config.reload' }).total).toBe(4);
    } finally {
      await store.close();
    }
  });
});
