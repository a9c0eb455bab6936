import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startCentral, type Central } from './server.ts';

const put = (c: Central, id: string, version: number, key = `${id}:${version}`) =>
  fetch(`${c.url}/tickets/${id}`, { method: 'PUT', headers: { 'idempotency-key': key, 'content-type': 'application/json' }, body: JSON.stringify({ id, version, title: `v${version}` }) });

describe('reference central', () => {
  let central: Central;
  let dir: string;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'andon-central-'));
    central = await startCentral({ file: join(dir, 'central.json') });
  });
  afterEach(async () => {
    await central.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the newest version per id; an older one is 409 with where the newer lives', async () => {
    expect((await put(central, 'A', 2)).status).toBe(201);
    expect((await put(central, 'A', 3)).status).toBe(200);
    const old = await put(central, 'A', 1);
    expect(old.status).toBe(409);
    expect(await old.json()).toMatchObject({ id: 'C-000001', version: 3 });
    const got = await (await fetch(`${central.url}/tickets/A`)).json();
    expect(got).toMatchObject({ id: 'C-000001', version: 3, ticket: { title: 'v3' } });
    expect(((await (await fetch(`${central.url}/tickets`)).json()) as { total: number }).total).toBe(1);
  });

  it('the same idempotency key twice gets the same answer and no second effect', async () => {
    const a = await put(central, 'A', 1);
    const b = await put(central, 'A', 1);
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(await b.json()).toEqual(await a.json());
    expect(central.stats()).toMatchObject({ requests: 2, puts: 2, effective: 1, replays: 1, duplicates: 0 });
  });

  it('refuses a key that does not match the body', async () => {
    expect((await put(central, 'A', 1, 'A:2')).status).toBe(400);
    expect(central.stats().effective).toBe(0);
  });

  it('commitThenDrop stores the ticket and loses the answer', async () => {
    central.setFaults({ commitThenDrop: 1 });
    await expect(put(central, 'A', 1)).rejects.toThrow();
    expect(central.tickets().get('A')?.version).toBe(1);
    central.setFaults({});
    expect((await put(central, 'A', 1)).status).toBe(201); // the recorded answer
    expect(central.stats()).toMatchObject({ effective: 1, replays: 1, faults: { commitThenDrop: 1 } });
  });

  it('reports changes made at central since a cursor', async () => {
    await put(central, 'A', 1);
    const none = await (await fetch(`${central.url}/tickets/changes`)).json();
    expect(none).toEqual({ changes: [], cursor: '0' });
    const res = await fetch(`${central.url}/tickets/A/actions`, { method: 'POST', body: JSON.stringify({ action: 'ack', by: 'li' }) });
    expect(res.status).toBe(202);
    expect((await fetch(`${central.url}/tickets/B/actions`, { method: 'POST', body: JSON.stringify({ action: 'ack', by: 'li' }) })).status).toBe(404);
    const got = await (await fetch(`${central.url}/tickets/changes?since=0`)).json();
    expect(got).toMatchObject({ changes: [{ ticketId: 'A', action: 'ack', by: 'li', fields: {} }], cursor: '1' });
  });

  it('keeps tickets and changes in its file across a restart', async () => {
    await put(central, 'A', 4);
    central.act('A', 'ack', 'li');
    await central.stop();
    central = await startCentral({ file: join(dir, 'central.json') });
    expect(central.tickets().get('A')?.version).toBe(4);
    expect((await put(central, 'A', 4)).status).toBe(200); // same version, key forgotten: no effect
    expect(central.stats().effective).toBe(0);
    expect(((await (await fetch(`${central.url}/tickets/changes?since=0`)).json()) as { cursor: string }).cursor).toBe('1');
  });
});
