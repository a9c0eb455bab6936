import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startCentral, type Central } from './server.ts';

const put = (c: Central, id: string, version: number, key = `${id}:${version}`) =>
  fetch(`${c.url}/tickets/${id}`, { method: 'PUT', headers: { 'idempotency-key': key, 'content-type': 'application/json' }, body: JSON.stringify({ id, version, title: `v${version}` }) });

/** A PUT of version `version` carrying the events `from`..`from + n - 1` (action `e<index>`) as a history delta. */
const putDelta = (c: Central, id: string, version: number, from: number, n: number, extra: Record<string, unknown> = {}) =>
  fetch(`${c.url}/tickets/${id}`, {
    method: 'PUT',
    headers: { 'idempotency-key': `${id}:${version}`, 'content-type': 'application/json' },
    body: JSON.stringify({ id, version, historyFrom: from, history: Array.from({ length: n }, (_, i) => ({ at: 'x', action: `e${from + i}`, by: 'andon', index: from + i })), ...extra }),
  });
const actions = (c: Central, id: string) => (c.tickets().get(id)?.ticket.history as { action: string }[]).map((e) => e.action);

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

  it('appends a history delta by index; events it holds already are ignored, each counted', async () => {
    expect((await putDelta(central, 'A', 2, 0, 2)).status).toBe(201);
    expect((await putDelta(central, 'A', 4, 1, 3)).status).toBe(200); // index 1 again, then 2 and 3
    expect(actions(central, 'A')).toEqual(['e0', 'e1', 'e2', 'e3']);
    expect(central.tickets().get('A')?.ticket).not.toHaveProperty('historyFrom');
    expect(central.stats()).toMatchObject({ effective: 2, repeatedEvents: 1, gaps: 0 });
    const got = (await (await fetch(`${central.url}/tickets/A`)).json()) as { ticket: { history: object[] } };
    expect(got.ticket.history[3]).toEqual({ at: 'x', action: 'e3', by: 'andon', index: 3 });
  });

  it('a delta past the events it holds is a gap: 409 CENTRAL_HISTORY_GAP with what it holds, nothing stored, and the resend under the same key is taken', async () => {
    await putDelta(central, 'A', 2, 0, 2);
    const gap = await putDelta(central, 'A', 5, 3, 2);
    expect(gap.status).toBe(409);
    expect(await gap.json()).toMatchObject({ code: 'CENTRAL_HISTORY_GAP', id: 'C-000001', version: 2, historyLength: 2 });
    expect(central.tickets().get('A')?.version).toBe(2);
    const unknown = await putDelta(central, 'B', 3, 2, 1); // a ticket central never had (or lost)
    expect([unknown.status, await unknown.json()]).toEqual([409, expect.objectContaining({ code: 'CENTRAL_HISTORY_GAP', version: 0, historyLength: 0 })]);

    expect((await putDelta(central, 'A', 5, 2, 3)).status).toBe(200); // same Idempotency-Key, from where central is
    expect(actions(central, 'A')).toEqual(['e0', 'e1', 'e2', 'e3', 'e4']);
    expect(central.stats()).toMatchObject({ gaps: 2, effective: 2, replays: 0 });
  });

  it('refuses events whose index does not follow historyFrom (422), and takes a body without historyFrom as the whole history', async () => {
    const bad = await fetch(`${central.url}/tickets/A`, {
      method: 'PUT',
      headers: { 'idempotency-key': 'A:1' },
      body: JSON.stringify({ id: 'A', version: 1, historyFrom: 0, history: [{ at: 'x', action: 'opened', by: 'andon', index: 1 }] }),
    });
    expect([bad.status, ((await bad.json()) as { code: string }).code]).toEqual([422, 'CENTRAL_BAD_HISTORY']);
    const whole = await fetch(`${central.url}/tickets/A`, {
      method: 'PUT',
      headers: { 'idempotency-key': 'A:2' },
      body: JSON.stringify({ id: 'A', version: 2, history: [{ at: 'x', action: 'opened', by: 'andon' }, { at: 'y', action: 'ack', by: 'li' }] }),
    });
    expect(whole.status).toBe(201);
    expect(actions(central, 'A')).toEqual(['opened', 'ack']);
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
