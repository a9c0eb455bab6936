import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/load.ts';
import { buildApp } from '../../gateway/http/app.ts';
import { createMetrics } from '../../gateway/metrics.ts';
import { startCentral, type Central } from '../../sim/central/server.ts';
import { gateway, next, tempDir, when, type Gw } from './kit.ts';

const root = join(import.meta.dirname, '..', '..');
const ADMIN = { authorization: 'Bearer admin-token-0123456789ab' };
const OPERATOR = { authorization: 'Bearer operator-token-0123456789' };
const CONFIG = (dataDir: string) => `
gateway:
  id: outbox-test
  dataDir: ${dataDir}
  auth:
    tokens:
      - { name: root, role: admin, token: admin-token-0123456789ab }
      - { name: wang, role: operator, token: operator-token-0123456789 }
rules:
  - { id: alarms, when: { tag: "**/alarm/**", equals: true }, fault: alarm-stop, priority: P2 }
`;

/** `andon outbox ...` as a user runs it. */
const andon = (args: string[]) => {
  const r = spawnSync(process.execPath, ['bin/andon.js', 'outbox', ...args], { cwd: root, encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, out: r.stdout.trim().split('\n'), err: r.stderr.trim() };
};

describe('the outbox for admins', () => {
  let tmp: ReturnType<typeof tempDir>;
  let central: Central;
  let g: Gw;
  let bad: string;
  beforeEach(async () => {
    tmp = tempDir('outbox');
    central = await startCentral();
    g = await gateway(tmp.file, central.url);
    // One ticket central refuses (parked), two that wait (central down).
    g.alarm('refused', true);
    bad = g.ticket('refused').id;
    central.setFaults({ poison: [bad] });
    g.forwarder.start();
    await next(g.forwarder.deliveries$, (d) => d.outcome === 'poison');
    await central.pause();
    g.alarm('waiting-1', true);
    g.alarm('waiting-1', false);
    g.alarm('waiting-2', true);
    await g.quiet();
  });
  afterEach(async () => {
    await g.close();
    await central.stop();
    tmp.remove();
  });

  it('GET /api/v1/outbox shows what waits and what is parked; POST retry un-parks and sends it again', async () => {
    const registry = new Registry();
    const metrics = createMetrics(registry, g.store, { now: () => g.clock.now() });
    const api = buildApp({ config: parseConfig(CONFIG(tmp.dir)), store: g.store, runtime: g.runtime, registry, metrics, now: () => g.clock.now(), ready: () => true, forwarder: g.forwarder });
    g.advance(90_000);
    expect((await api.inject({ method: 'GET', url: '/api/v1/outbox', headers: OPERATOR })).statusCode).toBe(403);
    const pending = (await api.inject({ method: 'GET', url: '/api/v1/outbox', headers: ADMIN })).json();
    expect(pending).toMatchObject({ pending: { versions: 3, tickets: 2, oldestSeconds: 90 }, parked: { versions: 1, tickets: 1 } });
    expect(pending.items.map((i: { versions: number; fromVersion: number; toVersion: number }) => [i.versions, i.fromVersion, i.toVersion])).toEqual([
      [2, 1, 2],
      [1, 1, 1],
    ]);
    const parked = (await api.inject({ method: 'GET', url: '/api/v1/outbox?parked=true', headers: ADMIN })).json();
    expect(parked.items).toEqual([expect.objectContaining({ ticketId: bad, versions: 1, parkedAt: expect.any(String), lastError: expect.stringContaining('422') })]);

    const text = await registry.metrics();
    expect(text).toMatch(/^andon_outbox_pending 3$/m);
    expect(text).toMatch(/^andon_outbox_oldest_seconds 90$/m);
    expect(text).toMatch(/^andon_outbox_parked 1$/m);
    expect(text).toMatch(/^andon_forward_requests_total\{outcome="aborted"\} 0$/m);

    await central.resume();
    central.setFaults({});
    const notParked = await api.inject({ method: 'POST', url: `/api/v1/outbox/${g.ticket('waiting-2').id}/retry`, headers: ADMIN });
    expect(notParked.json()).toMatchObject({ code: 'ANDON_FORWARD_NOT_PARKED' });
    expect(notParked.statusCode).toBe(404);
    const delivered = next(g.forwarder.deliveries$, (d) => d.ticketId === bad && d.outcome === 'ok');
    const res = await api.inject({ method: 'POST', url: `/api/v1/outbox/${bad}/retry`, headers: ADMIN });
    expect(res.json()).toEqual({ ticketId: bad, unparked: 1 });
    await delivered;
    expect(central.tickets().get(bad)?.version).toBe(1);
    await api.close();
  });

  it('andon outbox lists counts, oldest age and tickets; andon outbox retry un-parks one or all', async () => {
    await central.resume();
    await g.close(); // the CLI works on the store file, gateway running or not
    const config = join(tmp.dir, 'config.yaml');
    writeFileSync(config, CONFIG(tmp.dir));

    const list = andon(['--config', config]);
    expect(list.status).toBe(0);
    expect(list.out[0]).toMatch(/^pending: 3 versions of 2 tickets, oldest \d+(s|m|\.\d+h)$/);
    expect(list.out[1]).toBe('parked: 1 version of 1 ticket');
    expect(list.out.slice(2)).toHaveLength(2);
    expect(list.out[2]).toMatch(/^\w+ {2}v1-v2 +attempts \d/);

    const parked = andon(['--config', config, '--parked']);
    expect(parked.out[2]).toMatch(new RegExp(`^${bad} {2}v1 +attempts 0 +parked 2026-03-02T06:00:00.000Z  central answered 422`));

    expect(andon(['retry', 'nope', '--config', config])).toMatchObject({ status: 1, err: 'ANDON_FORWARD_NOT_PARKED: ticket nope has no parked outbox rows' });
    expect(andon(['retry', '--config', config]).status).toBe(2);
    expect(andon(['retry', bad, '--config', config])).toMatchObject({ status: 0, out: [`un-parked 1 version of ticket ${bad}`] });
    expect(andon(['retry', '--all', '--config', config])).toMatchObject({ status: 0, out: ['un-parked 0 versions'] });
    expect(andon(['--config', config]).out.slice(0, 2)).toEqual([expect.stringMatching(/^pending: 4 versions of 3 tickets/), 'parked: 0 versions of 0 tickets']);

    // And a gateway started on that store sends it (on the wall clock now, as the CLI's un-park was).
    g = await gateway(tmp.file, central.url, { start: Date.now() + 1_000 });
    central.setFaults({});
    g.forwarder.start();
    await when(central.events, 'write', () => central.tickets().has(bad) && central.tickets().size === 3);
  });
});
