import { closeSync, copyFileSync, existsSync, mkdtempSync, openSync, readSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ticketDoc, T0 } from '../../test/ticket-fixture.ts';
import type { TicketDoc } from '../../model/ticket.ts';
import { VirtualScheduler } from '../../rules/virtual-scheduler.ts';
import { PRUNE_BATCH, startRetention } from './retention.ts';
import { warmWal } from './files.ts';
import { TicketStore } from './store.ts';

/**
 * What the store does about its files: a damaged database, a data directory it
 * cannot make, a -wal left by a crash or deleted under it, and retention.
 */

let dir: string;
let file: string;
const opened: TicketStore[] = [];
const open = async (path = file, log?: ReturnType<typeof logger>['log']) => {
  const store = await TicketStore.open(path, log ? { log } : {});
  opened.push(store);
  return store;
};

/** A pino logger whose lines are kept as objects. */
function logger() {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { log, lines };
}

const iso = (ms: number) => new Date(ms).toISOString();
const save = (store: TicketStore, doc: TicketDoc, action = 'opened') => store.transaction((tx) => tx.save(doc, { at: doc.updatedAt, action, by: 'andon' }));
const refusal = async (p: Promise<unknown>) => p.then(() => undefined, (err: unknown) => err as { code?: string; message: string; stack?: string });

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'andon-safety-'));
  file = join(dir, 'andon.sqlite');
});
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a damaged or unreachable store is refused at open with a code and the path', () => {
  it('a file whose pages are overwritten fails quick_check: ANDON_STORE_CORRUPT naming the file and the way back', async () => {
    const store = await open();
    for (let i = 0; i < 300; i++) save(store, ticketDoc({ id: `T${i}`, key: `a${i}/f`, title: 'x'.repeat(200) }));
    await store.close();
    // Scribble over a page in the middle of the file (a bad sector, a torn copy).
    const pageSize = 4096;
    const pages = statSync(file).size / pageSize;
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.alloc(pageSize, 0x5a), 0, pageSize, Math.floor(pages / 2) * pageSize);
    closeSync(fd);
    const err = await refusal(TicketStore.open(file));
    expect(err).toMatchObject({ code: 'ANDON_STORE_CORRUPT' });
    expect(err?.message).toContain(file);
    expect(err?.message).toContain('andon backup');
  });

  it('a file that is not a database at all: ANDON_STORE_CORRUPT', async () => {
    writeFileSync(file, 'this is not sqlite'.repeat(300));
    const err = await refusal(TicketStore.open(file));
    expect(err).toMatchObject({ code: 'ANDON_STORE_CORRUPT' });
    expect(err?.message).toContain(file);
  });

  it('a data directory that cannot be created: ANDON_STORE_UNAVAILABLE with the directory, not a raw ENOTDIR/EACCES', async () => {
    writeFileSync(join(dir, 'plain-file'), '');
    const err = await refusal(TicketStore.open(join(dir, 'plain-file', 'data', 'andon.sqlite')));
    expect(err).toMatchObject({ code: 'ANDON_STORE_UNAVAILABLE' });
    expect(err?.message).toContain(join(dir, 'plain-file', 'data'));
  });

  it('a -wal without its database is refused (its changes belong to a file that is gone)', async () => {
    writeFileSync(`${file}-wal`, Buffer.alloc(4096, 1));
    const err = await refusal(TicketStore.open(file));
    expect(err).toMatchObject({ code: 'ANDON_STORE_CORRUPT' });
    expect(err?.message).toContain(`${file}-wal`);
  });
});

describe('the -wal file', () => {
  it('after an unclean stop, opening logs that a -wal is being recovered, and the changes in it are there', async () => {
    // A writer that never closes (as after kill -9): its -wal holds the commit.
    const writer = await open();
    save(writer, ticketDoc({ id: 'CRASH', key: 'k/crash' }));
    const crashed = join(dir, 'crashed.sqlite');
    copyFileSync(file, crashed);
    copyFileSync(`${file}-wal`, `${crashed}-wal`);
    const { log, lines } = logger();
    const reopened = await open(crashed, log);
    expect(reopened.get('CRASH')?.id).toBe('CRASH');
    expect(lines.find((l) => String(l.msg).includes('did not stop cleanly'))).toMatchObject({ level: 40, file: `${crashed}-wal` });
    expect(lines.filter((l) => l.code === 'ANDON_STORE_CORRUPT')).toEqual([]);
  });

  it('damaged after an unclean stop: says how many committed transactions SQLite drops, and keeps a copy of the -wal', async () => {
    const writer = await open();
    for (let i = 0; i < 20; i++) save(writer, ticketDoc({ id: `W${i}`, key: `k/${i}` }));
    const crashed = join(dir, 'crashed.sqlite');
    copyFileSync(file, crashed);
    copyFileSync(`${file}-wal`, `${crashed}-wal`);
    // A bad sector inside the page of a frame a third of the way in: every commit after it fails its checksum chain.
    const size = statSync(`${crashed}-wal`).size;
    const fd = openSync(`${crashed}-wal`, 'r+');
    const header = Buffer.alloc(32);
    readSync(fd, header, 0, 32, 0);
    const frameSize = 24 + header.readUInt32BE(8);
    const frame = Math.floor((size - 32) / frameSize / 3);
    writeSync(fd, Buffer.alloc(512, 0xa5), 0, 512, 32 + frame * frameSize + 24 + 1024);
    closeSync(fd);
    const { log, lines } = logger();
    const reopened = await open(crashed, log);
    const line = lines.find((l) => l.code === 'ANDON_STORE_CORRUPT');
    expect(line).toMatchObject({ level: 50, file: `${crashed}-wal`, lostCommits: expect.any(Number) });
    expect(line?.lostCommits).toBeGreaterThan(1);
    expect(existsSync(String(line?.kept))).toBe(true);
    // What the log says is lost is what is missing.
    expect(20 - reopened.list().total).toBe(line?.lostCommits);
  });

  it('a clean close checkpoints and removes the -wal, so the next open logs nothing about it', async () => {
    const store = await open();
    save(store, ticketDoc());
    await store.close();
    expect(existsSync(`${file}-wal`)).toBe(false);
    const { log, lines } = logger();
    await open(file, log);
    expect(lines.filter((l) => String(l.msg).includes('-wal'))).toEqual([]);
  });

  it("warmWal: the gateway's store starts with a -wal of a checkpoint's size, which commits then write over instead of growing", async () => {
    const cold = await open();
    save(cold, ticketDoc({ id: 'COLD', key: 'k/cold' }));
    // without it, a new store's -wal holds just what was committed
    expect(statSync(`${file}-wal`).size).toBeLessThan(1_000_000);
    await cold.close();
    const store = await TicketStore.open(file, { warmWal: true });
    opened.push(store);
    const want = 1000 * 4096; // wal_autocheckpoint pages x page_size, SQLite's defaults
    const warmed = statSync(`${file}-wal`).size;
    expect(warmed).toBeGreaterThanOrEqual(want);
    for (let i = 0; i < 20; i++) save(store, ticketDoc({ id: `T${i}`, key: `k/${i}` }));
    expect(statSync(`${file}-wal`).size).toBe(warmed);
    // nothing of it is left in the schema, and the tickets are all there
    await store.close();
    const db = new Database(file, { readonly: true });
    try {
      expect(db.prepare("SELECT name FROM sqlite_master WHERE name LIKE 'andon_wal%'").all()).toEqual([]);
      expect((db.prepare('SELECT count(*) AS n FROM tickets').get() as { n: number }).n).toBe(21);
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      db.close();
    }
  });

  it('warmWal drops the table a crash left between its two steps, and leaves a -wal already of its working size alone', async () => {
    // killed after the blob's commit, before its drop: the -wal holds the blob (no checkpoint ran)
    const raw = new Database(file);
    raw.pragma('journal_mode = WAL');
    raw.pragma('wal_autocheckpoint = 0');
    raw.exec('CREATE TABLE andon_wal_warm (b BLOB)');
    raw.prepare('INSERT INTO andon_wal_warm VALUES (zeroblob(?))').run(1000 * 4096);
    const crashed = join(dir, 'crashed.sqlite');
    copyFileSync(file, crashed);
    copyFileSync(`${file}-wal`, `${crashed}-wal`);
    raw.close();
    const store = await TicketStore.open(crashed, { warmWal: true });
    opened.push(store);
    const again = (store as unknown as { db: Database.Database }).db;
    expect(again.prepare("SELECT name FROM sqlite_master WHERE name = 'andon_wal_warm'").all()).toEqual([]);
    const size = statSync(`${crashed}-wal`).size;
    expect(size).toBeGreaterThanOrEqual(1000 * 4096);
    expect(warmWal(again, crashed)).toBe(false);
    expect(statSync(`${crashed}-wal`).size).toBe(size);
  });

  it('deleted while running: seen, logged, and every commit from then on is in andon.sqlite itself (a crash loses nothing after that)', async () => {
    const { log, lines } = logger();
    const store = await open(file, log);
    save(store, ticketDoc({ id: 'BEFORE', key: 'k/before' }));
    rmSync(`${file}-wal`);
    expect(store.checkFiles()).toEqual({ walLost: true });
    expect(lines.find((l) => l.code === 'ANDON_STORE_UNAVAILABLE')).toMatchObject({ level: 50, file: `${file}-wal` });
    save(store, ticketDoc({ id: 'AFTER', key: 'k/after' }));
    // What a kill -9 now leaves: andon.sqlite alone (the deleted -wal is gone with the process).
    const crashed = join(dir, 'crashed.sqlite');
    copyFileSync(file, crashed);
    const db = new Database(crashed, { readonly: true });
    const ids = (db.prepare('SELECT id FROM tickets ORDER BY id').all() as { id: string }[]).map((r) => r.id);
    db.close();
    expect(ids).toEqual(['AFTER', 'BEFORE']);
  });
});

describe('retention', () => {
  const DAY = 86_400_000;
  const closedTicket = (id: string, closedAt: number): TicketDoc =>
    ticketDoc({ id, key: `${id}/f`, version: 1, state: 'closed', closedAt: iso(closedAt), updatedAt: iso(closedAt) });

  it('prunes closed tickets older than the cutoff with their history, outbox and notification rows, in batches, and keeps the rest', async () => {
    const store = await open();
    for (let i = 0; i < 7; i++) save(store, closedTicket(`OLD${i}`, T0 - 100 * DAY));
    save(store, closedTicket('RECENT', T0 - DAY));
    save(store, ticketDoc({ id: 'OPEN', key: 'open/f', openedAt: iso(T0 - 200 * DAY), updatedAt: iso(T0 - 200 * DAY) }));
    const at = T0 - 100 * DAY;
    store.transaction((tx) => tx.enqueueNotifications([{ ticketId: 'OLD0', channel: 'duty', kind: 'opened', version: 1, state: 'closed', event: { at: iso(at), action: 'opened', by: 'andon' }, at }]));
    store.transaction((tx) =>
      tx.recordWarning({ id: 'OLD1:2', ticketId: 'OLD1', cause: 'a/x', effect: 'OLD1/f', at, expectedBy: at + 90_000, leadSeconds: 60, outcome: 'missed', settledAt: at + 90_000, actualLeadSeconds: null }),
    );
    // Central has seen the old ones (the forwarder removes delivered rows); OLD6 is still waiting.
    const db = new Database(file);
    db.prepare("DELETE FROM outbox WHERE ticket_id != 'OLD6'").run();
    db.close();
    expect(store.retention.prune(T0 - 30 * DAY, 4)).toBe(4);
    expect(store.retention.prune(T0 - 30 * DAY, 4)).toBe(2);
    expect(store.retention.prune(T0 - 30 * DAY, 4)).toBe(0);
    expect(store.list().items.map((t) => t.id).sort()).toEqual(['OLD6', 'OPEN', 'RECENT']);
    expect(store.history('OLD0')).toEqual([]);
    const check = new Database(file, { readonly: true });
    expect(check.prepare("SELECT count(*) AS n FROM notifications WHERE ticket_id LIKE 'OLD%'").get()).toEqual({ n: 0 });
    expect(check.prepare("SELECT count(*) AS n FROM warnings WHERE ticket_id LIKE 'OLD%'").get()).toEqual({ n: 0 });
    check.close();
  });

  it('keeps closed tickets that carry a knowledge entry, and takes the pruned ones out of the knowledge index', async () => {
    const store = await open();
    const entry = { symptom: null, diagnosis: null, solution: '加装稳压电源', labels: ['voltage-interference'] };
    save(store, { ...closedTicket('KB', T0 - 100 * DAY), resolution: 'stabilizer', knowledge: entry });
    save(store, { ...closedTicket('PLAIN', T0 - 100 * DAY), resolution: 'stabilizer' });
    expect(store.knowledge.search({ q: 'stabilizer', limit: 10, offset: 0 }).total).toBe(2);
    const db = new Database(file);
    db.prepare('DELETE FROM outbox').run();
    db.close();
    expect(store.retention.prune(T0 - 30 * DAY)).toBe(1);
    expect(store.list().items.map((t) => t.id)).toEqual(['KB']);
    expect(store.knowledge.search({ q: 'stabilizer', limit: 10, offset: 0 }).items.map((i) => i.id)).toEqual(['KB']);
  });

  it('store.retention runs at start, in batches of 500 between which others get the store, and again every hour', async () => {
    const store = await open();
    const db = new Database(file);
    const closed = (from: number, count: number, at: number) => {
      for (let i = from; i < from + count; i++) save(store, closedTicket(`C${String(i).padStart(5, '0')}`, at));
    };
    closed(0, PRUNE_BATCH + 20, T0 - 40 * DAY);
    db.prepare('DELETE FROM outbox').run();
    const scheduler = new VirtualScheduler(T0);
    const { log, lines } = logger();
    const pruned: number[] = [];
    const retention = startRetention(store, 30 * DAY, scheduler, log, (n) => pruned.push(n));
    scheduler.advanceTo(T0);
    expect(pruned).toEqual([PRUNE_BATCH, 20]);
    expect(store.list().total).toBe(0);
    expect(lines.find((l) => l.pruned === PRUNE_BATCH + 20)).toMatchObject({ level: 30, component: 'store' });
    // Closed 29.5 days before T0: due half a day later, pruned at the first hourly run after that.
    closed(PRUNE_BATCH + 20, 3, T0 - 29.5 * DAY);
    db.prepare('DELETE FROM outbox').run();
    db.close();
    scheduler.advanceTo(T0 + 12 * 3_600_000 - 1);
    expect(store.list().total).toBe(3);
    scheduler.advanceTo(T0 + 13 * 3_600_000);
    expect(store.list().total).toBe(0);
    retention.stop();
  });
});
