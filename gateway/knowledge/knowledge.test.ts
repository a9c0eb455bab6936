import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import knexFactory from 'knex';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bearer, testApp, TOKENS } from '../http/fixture.ts';
import { migrationsUntil } from '../store/migrations.ts';
import { TicketStore } from '../store/store.ts';
import { ticketDoc } from '../../test/ticket-fixture.ts';

/**
 * The knowledge base (contracts §Knowledge base) through the real API, runtime and SQLite file: resolved
 * tickets are found by Chinese text without spaces and by English words, with FTS5 (3+ characters) and the
 * LIKE fallback (1-2 characters); labels are checked; similar cases prefer a shared label.
 */
const op = bearer(TOKENS.operator);
const KNOWLEDGE = `
knowledge:
  labels: [voltage-interference, mechanical-wear]
lifecycle:
  closeChecklist: []
`;

type App = Awaited<ReturnType<typeof testApp>>;

async function raise(t: App, tag: string) {
  t.signal(tag, true);
  t.signal(tag, false);
  return t.store.list({ history: false }).items.find((x) => x.state === 'open' && x.evidence[0]?.tag === tag)!;
}

async function resolve(t: App, id: string, body: Record<string, unknown>) {
  return t.app.inject({ method: 'POST', url: `/api/v1/tickets/${id}/transitions`, headers: op, payload: { action: 'resolve', by: 'wang', ...body } });
}

const close = async (t: App, id: string) =>
  expect((await t.app.inject({ method: 'POST', url: `/api/v1/tickets/${id}/transitions`, headers: op, payload: { action: 'close', by: 'wang' } })).statusCode).toBe(200);

const search = async (t: App, query: string) => {
  const res = await t.app.inject({ method: 'GET', url: `/api/v1/knowledge?${query}` });
  expect(res.statusCode).toBe(200);
  return res.json<{ total: number; items: { id: string; snippet: string; field: string | null; score: number | null; knowledge: unknown }[] }>();
};

describe('the knowledge base', () => {
  let t: App;
  let seal: string;
  let heat: string;
  beforeEach(async () => {
    t = await testApp({ extra: KNOWLEDGE });
    seal = (await raise(t, 'packaging/sealer-01/alarm')).id;
    const r = await resolve(t, seal, {
      resolution: '加装稳压电源',
      rootCause: '3号馈线电压暂降',
      knowledge: { symptom: '封口机每天16:00停机，E21', diagnosis: 'Voltage sag on feeder 3 one minute before every stop', solution: '加装稳压电源 (installed a voltage stabilizer)', labels: ['voltage-interference'] },
    });
    expect(r.statusCode).toBe(200);
    t.clock.advanceTo(t.clock.now() + 60_000);
    heat = (await raise(t, 'packaging/oven-02/alarm')).id;
    // no structured entry: its title, resolution and root cause are searchable all the same
    expect((await resolve(t, heat, { resolution: 'Replaced the heater band', rootCause: 'worn heater band' })).statusCode).toBe(200);
    t.clock.advanceTo(t.clock.now() + 60_000);
    await raise(t, 'packaging/labeler-03/alarm'); // open: not in the knowledge base
  });
  afterEach(() => t.close());

  it('finds Chinese text without spaces: 稳压 (two characters, the fallback) and 稳压电源 (FTS5)', async () => {
    const two = await search(t, `q=${encodeURIComponent('稳压')}`);
    expect(two.total).toBe(1);
    expect(two.items[0]).toMatchObject({ id: seal, field: 'solution', score: null });
    expect(two.items[0]!.snippet).toContain('稳压');
    const four = await search(t, `q=${encodeURIComponent('稳压电源')}`);
    expect(four.items.map((i) => i.id)).toEqual([seal]);
    expect(four.items[0]!.score).toBeGreaterThan(0);
    // one character, and a word from the root cause
    expect((await search(t, `q=${encodeURIComponent('压')}`)).items.map((i) => i.id)).toEqual([seal]);
    expect((await search(t, `q=${encodeURIComponent('馈线')}`)).items.map((i) => i.id)).toEqual([seal]);
  });

  it('finds English words in any case, in entries and in plain resolutions, every word required', async () => {
    expect((await search(t, 'q=STABILIZER')).items.map((i) => i.id)).toEqual([seal]);
    expect((await search(t, 'q=heater')).items.map((i) => i.id)).toEqual([heat]);
    expect((await search(t, 'q=heater%20band')).items.map((i) => i.id)).toEqual([heat]);
    expect((await search(t, 'q=heater%20stabilizer')).total).toBe(0);
    // query syntax is text, not FTS5 operators
    expect((await search(t, `q=${encodeURIComponent('"band" OR NEAR(')}`)).total).toBe(0);
    // the open ticket is not in it
    expect((await search(t, 'q=labeler')).total).toBe(0);
  });

  it('filters by label, asset and fault, pages, and answers CSV', async () => {
    expect((await search(t, 'label=voltage-interference')).items.map((i) => i.id)).toEqual([seal]);
    expect((await search(t, 'asset=oven-02')).items.map((i) => i.id)).toEqual([heat]);
    expect((await search(t, 'fault=alarm-stop')).total).toBe(2);
    const page = await search(t, 'limit=1&offset=1');
    expect(page).toMatchObject({ total: 2 });
    expect(page.items).toHaveLength(1);
    // entries with a structured entry come first when nothing ranks them
    expect((await search(t, 'limit=1')).items[0]!.id).toBe(seal);
    const csv = await t.app.inject({ method: 'GET', url: `/api/v1/knowledge?format=csv&q=${encodeURIComponent('稳压')}` });
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(csv.headers['x-total-count']).toBe('1');
    expect(csv.body).toContain('加装稳压电源 (installed a voltage stabilizer)');
    expect(csv.body).toContain('voltage-interference');
  });

  it('keeps the index with the ticket: a reopen takes the ticket out, a new resolve puts it back', async () => {
    const res = await t.app.inject({ method: 'POST', url: `/api/v1/tickets/${heat}/transitions`, headers: op, payload: { action: 'reopen', by: 'wang' } });
    expect(res.statusCode).toBe(200);
    expect((await search(t, 'q=heater')).total).toBe(0);
    await resolve(t, heat, { resolution: 'new heater band and a thermal fuse', rootCause: 'worn heater band' });
    expect((await search(t, 'q=fuse')).items.map((i) => i.id)).toEqual([heat]);
    expect((await search(t, 'q=Replaced')).total).toBe(0);
  });

  it('refuses a label not configured, with a code, and counts it', async () => {
    const id = (await raise(t, 'packaging/filler-04/alarm')).id;
    const res = await resolve(t, id, { resolution: 'x', rootCause: 'y', knowledge: { solution: 'z', labels: ['ghosts'] } });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ code: 'ANDON_KNOWLEDGE_UNKNOWN_LABEL', path: 'knowledge.labels' });
    const empty = await resolve(t, id, { resolution: 'x', rootCause: 'y', knowledge: {} });
    expect(empty.json()).toMatchObject({ code: 'ANDON_TICKET_FIELD_REQUIRED', path: 'knowledge' });
    expect(t.store.doc(id)?.state).toBe('open');
    const metrics = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toContain('andon_http_errors_total{code="ANDON_KNOWLEDGE_UNKNOWN_LABEL"} 1');
  });
});

describe('similar cases and labels', () => {
  let t: App;
  afterEach(() => t.close());

  it('a new ticket lists first the cases that share a label with its rule or its probable cause\'s rule', async () => {
    t = await testApp({
      extra: `
knowledge: { labels: [voltage-interference] }
lifecycle: { closeChecklist: [] }
`,
    });
    // the rules of the fixture carry no labels; this config gives the alarm rule one
    t.runtime.reconfigure(
      { ...t.config, rules: t.config.rules.map((r) => (r.id === 'alarms' ? { ...r, labels: ['voltage-interference'] } : r)) },
      { rebuildRules: true },
    );
    const a = (await raise(t, 'packaging/sealer-01/alarm')).id;
    await resolve(t, a, { resolution: 'voltage stabilizer', rootCause: 'sag', knowledge: { solution: '加装稳压电源', labels: ['voltage-interference'] } });
    await close(t, a);
    t.clock.advanceTo(t.clock.now() + 3_600_000);
    // newer, same asset and fault, no label: before labels it would have come first
    const b = (await raise(t, 'packaging/sealer-01/alarm')).id;
    expect(b).not.toBe(a);
    await resolve(t, b, { resolution: 'cleaned the jaw', rootCause: 'dirt' });
    await close(t, b);
    t.clock.advanceTo(t.clock.now() + 3_600_000);
    const c = await raise(t, 'packaging/sealer-01/alarm');
    expect(c.similar.map((s) => s.id)).toEqual([a, b]);
    expect(c.similar[0]).toMatchObject({ solution: '加装稳压电源', labels: ['voltage-interference'] });
  });
});

describe('upgrading a store made before the knowledge base', () => {
  it('indexes the resolved and closed tickets of a file migrated up to 0010', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'andon-kb-upgrade-'));
    const file = join(dir, 'andon.sqlite');
    try {
      const knex = knexFactory({ client: 'better-sqlite3', connection: { filename: file }, useNullAsDefault: true });
      await knex.migrate.latest({ migrationSource: migrationsUntil('0010_audit') });
      const rows = [
        ticketDoc({ id: 'OLD1', key: 'sealer-01/alarm-stop', state: 'closed', resolution: '加装稳压电源', rootCause: 'sag', resolvedAt: '2026-01-20T10:00:00.000Z' }),
        ticketDoc({ id: 'OLD2', key: 'oven-02/alarm-stop', asset: 'oven-02', state: 'open' }),
      ];
      for (const d of rows) {
        // a doc as an older gateway wrote it: no knowledge, no records
        const { knowledge: _k, records: _r, ...old } = d;
        await knex('tickets').insert({ id: d.id, key: d.key, state: d.state, version: 1, priority: d.priority, area: d.area, asset: d.asset, fault: d.fault, opened_at: 0, updated_at: 0, doc: JSON.stringify(old) });
      }
      await knex.destroy();
      const store = await TicketStore.open(file);
      try {
        expect(store.knowledge.search({ q: '稳压', limit: 10, offset: 0 }).items.map((i) => i.id)).toEqual(['OLD1']);
        expect(store.knowledge.search({ q: '稳压电源', limit: 10, offset: 0 }).items.map((i) => i.id)).toEqual(['OLD1']);
        expect(store.knowledge.search({ limit: 10, offset: 0 }).total).toBe(1);
        expect(store.doc('OLD1')).toMatchObject({ knowledge: null, records: [] });
      } finally {
        await store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
