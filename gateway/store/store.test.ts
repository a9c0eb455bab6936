import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isAndonError } from '../../model/errors.ts';
import type { HistoryEvent, TicketDoc } from '../../model/ticket.ts';
import { TicketStore, whileBusy } from './store.ts';
import { ticketDoc } from '../../test/ticket-fixture.ts';

const T0 = Date.parse('2026-01-20T07:18:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

let dir: string;
let file: string;
const opened: TicketStore[] = [];
const open = async (path = file) => {
  const store = await TicketStore.open(path);
  opened.push(store);
  return store;
};

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'andon-store-'));
  file = join(dir, 'tickets.db');
});
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The fixture's complete §4 ticket, as T1 opened at T0 (no line, nobody to notify); override any field. */
const ticket = (over: Partial<TicketDoc> = {}): TicketDoc =>
  ticketDoc({ id: 'T1', line: null, notify: [], evidence: [{ tag: 'packaging/sealer-01/alarm/E21', value: true, ts: iso(T0) }], ...over }, T0);

const event = (action: string, atMs: number, extra: Record<string, unknown> = {}): HistoryEvent => ({ at: iso(atMs), action, by: 'andon', ...extra });

/** The error code `fn` throws, or undefined when it does not throw. */
function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return isAndonError(err) ? err.code : String(err);
  }
  return undefined;
}

describe('TicketStore on a SQLite file', () => {
  it('writes a ticket change, its history event and its outbox row together', async () => {
    const store = await open();
    const v1 = ticket();
    store.transaction((tx) => tx.save(v1, event('opened', T0, { tag: 'packaging/sealer-01/alarm/E21', value: true })));

    expect(store.get('T1')).toEqual({ ...v1, history: [{ at: iso(T0), action: 'opened', by: 'andon', tag: 'packaging/sealer-01/alarm/E21', value: true }] });
    expect(store.outboxPending()).toBe(1);

    const v2 = ticket({ version: 2, occurrences: 2, lastSeen: iso(T0 + 60_000) });
    store.transaction((tx) => tx.save(v2, event('occurrence', T0 + 60_000)));

    expect(store.get('T1')).toMatchObject({ version: 2, occurrences: 2, lastSeen: iso(T0 + 60_000) });
    expect(store.history('T1').map((e) => e.action)).toEqual(['opened', 'occurrence']);
    expect(store.outboxPending()).toBe(2);
    // a backlog of 2 versions or more, not of 3 (the governor's "draining", read without counting every row)
    expect(store.outboxBacklog(1)).toBe(true);
    expect(store.outboxBacklog(2)).toBe(true);
    expect(store.outboxBacklog(3)).toBe(false);
  });

  it('leaves nothing behind when a transaction throws after save', async () => {
    const store = await open();
    expect(() =>
      store.transaction((tx) => {
        tx.save(ticket(), event('opened', T0));
        throw new Error('crash after save');
      }),
    ).toThrow('crash after save');
    expect(store.get('T1')).toBeUndefined();
    expect(store.history('T1')).toEqual([]);
    expect(store.outboxPending()).toBe(0);
    expect(store.list()).toEqual({ items: [], total: 0 });

    store.transaction((tx) => tx.save(ticket(), event('opened', T0)));
    expect(() =>
      store.transaction((tx) => {
        tx.save(ticket({ version: 2, occurrences: 2 }), event('occurrence', T0 + 1000));
        throw new Error('crash after update');
      }),
    ).toThrow('crash after update');
    expect(store.get('T1')).toMatchObject({ version: 1, occurrences: 1 });
    expect(store.history('T1')).toHaveLength(1);
    expect(store.outboxPending()).toBe(1);
  });

  it('refuses a second live ticket for a key, even from raw SQL', async () => {
    const store = await open();
    store.transaction((tx) => tx.save(ticket(), event('opened', T0)));

    expect(() => store.transaction((tx) => tx.save(ticket({ id: 'T2' }), event('opened', T0)))).toThrow(/UNIQUE constraint failed: tickets\.key/);

    const raw = new Database(file);
    try {
      raw.pragma('busy_timeout = 5000');
      const insert = raw.prepare(
        'INSERT INTO tickets (id, key, state, version, priority, area, asset, fault, opened_at, updated_at, doc) VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?)',
      );
      const row = (id: string, state: string) => [id, 'sealer-01/alarm-stop', state, 'P1', 'packaging', 'sealer-01', 'alarm-stop', T0, T0, JSON.stringify(ticket({ id, state: state as TicketDoc['state'] }))];

      expect(() => insert.run(...row('RAW-LIVE', 'open'))).toThrow(/UNIQUE constraint failed: tickets\.key/);
      expect(() => insert.run(...row('RAW-RESOLVED', 'resolved'))).toThrow(/UNIQUE constraint failed: tickets\.key/);
      insert.run(...row('RAW-CLOSED', 'closed'));
      insert.run(...row('RAW-MERGED', 'merged'));
      insert.run(...row('RAW-CLOSED-2', 'closed'));

      const states = raw.prepare("SELECT id, state FROM tickets WHERE key = 'sealer-01/alarm-stop' ORDER BY id").all();
      expect(states).toEqual([
        { id: 'RAW-CLOSED', state: 'closed' },
        { id: 'RAW-CLOSED-2', state: 'closed' },
        { id: 'RAW-MERGED', state: 'merged' },
        { id: 'T1', state: 'open' },
      ]);
    } finally {
      raw.close();
    }
    expect(store.liveByKey('sealer-01/alarm-stop')?.id).toBe('T1');
  });

  it('refuses to save version N+1 on a stale base (optimistic version check)', async () => {
    const store = await open();
    store.transaction((tx) => tx.save(ticket(), event('opened', T0)));
    store.transaction((tx) => tx.save(ticket({ version: 2, occurrences: 2 }), event('occurrence', T0 + 1000)));

    // a writer that read version 1 and now saves its own version 2
    const stale = ticket({ version: 2, state: 'acknowledged' });
    expect(codeOf(() => store.transaction((tx) => tx.save(stale, { at: iso(T0 + 2000), action: 'ack', by: 'wang' })))).toBe('ANDON_TICKET_CONFLICT');
    // and one that skips a version
    expect(codeOf(() => store.transaction((tx) => tx.save(ticket({ version: 4 }), event('occurrence', T0 + 3000))))).toBe('ANDON_TICKET_CONFLICT');

    expect(store.get('T1')).toMatchObject({ version: 2, state: 'open', occurrences: 2 });
    expect(store.history('T1').map((e) => e.action)).toEqual(['opened', 'occurrence']);
    expect(store.outboxPending()).toBe(2);
  });

  it('runs in WAL mode with synchronous=FULL', async () => {
    const store = await open();
    // synchronous is per connection: ask the store's own connection
    const db = (store as unknown as { db: Database.Database }).db;
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(2);

    const raw = new Database(file, { readonly: true });
    try {
      expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      raw.close();
    }
  });

  it('settles delivery outcomes and gives the connection back at synchronous=FULL, also when a settlement fails', async () => {
    const store = await open();
    const db = (store as unknown as { db: Database.Database }).db;
    store.transaction((tx) => tx.save(ticket(), event('opened', T0)));
    store.outbox.settle([{ kind: 'delivered', ticketId: 'T1', version: 1, central: null }]);
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
    expect(store.outboxPending()).toBe(0);

    store.transaction((tx) => tx.save(ticket({ version: 2, occurrences: 2 }), event('occurrence', T0 + 1000)));
    // a settlement that throws half-way (no error text): nothing of it is written, the level is restored
    const broken = { kind: 'retry', ticketId: 'T1', attempts: 1, nextAttemptAt: T0 } as unknown as Parameters<typeof store.outbox.settle>[0][number];
    expect(() => store.outbox.settle([{ kind: 'delivered', ticketId: 'T1', version: 2, central: null }, broken])).toThrow();
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
    expect(store.outboxPending()).toBe(1);
  });

  it('keeps tickets, history and outbox across a restart', async () => {
    const first = await TicketStore.open(file);
    first.transaction((tx) => {
      tx.save(ticket(), event('opened', T0));
      tx.save(ticket({ id: 'T2', key: 'filler-02/low-level', asset: 'filler-02', fault: 'low-level', openedAt: iso(T0 + 5000) }), event('opened', T0 + 5000));
    });
    first.transaction((tx) => tx.save(ticket({ version: 2, state: 'acknowledged', acknowledgedAt: iso(T0 + 9000) }), { at: iso(T0 + 9000), action: 'ack', by: 'wang' }));
    const before = { t1: first.get('T1'), t2: first.get('T2'), list: first.list(), live: first.liveTickets(), raises: first.raisesSince(0) };
    await first.close();

    const again = await open();
    expect(again.get('T1')).toEqual(before.t1);
    expect(again.get('T2')).toEqual(before.t2);
    expect(again.list()).toEqual(before.list);
    expect(again.liveTickets()).toEqual(before.live);
    expect(again.raisesSince(0)).toEqual(before.raises);
    expect(again.raisesSince(0)).toHaveLength(2);
    expect(again.outboxPending()).toBe(3);
    expect(again.get('T1')?.history.map((e) => `${e.action}:${e.by}`)).toEqual(['opened:andon', 'ack:wang']);
  });
});

describe('TicketStore reading docs of older versions', () => {
  it('gives a stored doc without the fields added later their defaults, and keeps what it has', async () => {
    const first = await TicketStore.open(file);
    first.transaction((tx) => {
      tx.save(ticket(), event('opened', T0));
      tx.save(ticket({ id: 'T2', key: 'filler-02/low-level', asset: 'filler-02', fault: 'low-level', warnings: [], records: [], shelvedReason: 'kept' }), event('opened', T0));
    });
    await first.close();
    // as an older version wrote them: without warnings, shelving, previous fix, reopening, verification, knowledge and records
    const raw = new Database(file);
    try {
      raw.prepare("UPDATE tickets SET doc = json_remove(doc, '$.warnings', '$.shelvedUntil', '$.shelvedReason', '$.previous', '$.reopenedAt', '$.verifyBy', '$.knowledge', '$.records') WHERE id = 'T1'").run();
      raw.prepare("UPDATE tickets SET doc = json_remove(doc, '$.warnings') WHERE id = 'T2'").run();
    } finally {
      raw.close();
    }
    const store = await open();
    const t1 = store.get('T1');
    expect(t1).toMatchObject({ warnings: [], shelvedUntil: null, shelvedReason: null, previous: null, reopenedAt: null, verifyBy: null, knowledge: null, records: [] });
    expect(store.get('T2')).toMatchObject({ warnings: [], shelvedReason: 'kept', records: [] });
    // each doc its own lists, not one shared default
    store.liveTickets()[0]?.warnings.push({} as never);
    expect(store.liveTickets()[1]?.warnings).toEqual([]);
  });
});

describe('TicketStore with concurrent writers', () => {
  const children: ChildProcess[] = [];
  afterEach(() => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill();
  });

  /** Forks fixtures/writer.ts: its own process, its own TicketStore on `file`. */
  function writer(id: string, count: number, keys: string[]) {
    const child = fork(join(import.meta.dirname, 'fixtures', 'writer.ts'), [file, id, String(count), keys.join(',')], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    children.push(child);
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    const failed = (what: string) => exited.then(([code, signal]) => Promise.reject(new Error(`writer ${id} exited (${code ?? signal}) before ${what}:\n${stderr}`)));
    const ready = Promise.race([once(child, 'message').then(([m]) => expect(m).toBe('ready')), failed('ready')]);
    let sent: Record<string, number> | undefined;
    child.on('message', (m) => {
      if (typeof m === 'object' && m !== null && 'done' in m) sent = (m as { done: Record<string, number> }).done;
    });
    const finished = exited.then(([code, signal]) => {
      if (code !== 0 || !sent) throw new Error(`writer ${id} exited (${code ?? signal}) without finishing:\n${stderr}`);
      return sent;
    });
    return { child, ready, finished };
  }

  it('keeps exactly one live ticket per key and loses no occurrence', async () => {
    const keys = ['sealer-01/alarm-stop', 'filler-02/low-level', 'conveyor-03/motor-trip'];
    const writers = ['w1', 'w2', 'w3'].map((id) => writer(id, 120, keys));
    // every writer opens (and migrates) the fresh file at the same time, then all start together
    await Promise.all(writers.map((w) => w.ready));
    for (const w of writers) w.child.send('go');
    const sent = await Promise.all(writers.map((w) => w.finished));

    const store = await open();
    for (const key of keys) {
      const total = sent.reduce((n, s) => n + (s[key] ?? 0), 0);
      expect(total).toBe(360);
      const tickets = store.list().items.filter((t) => t.key === key);
      expect(tickets, key).toHaveLength(1);
      const [t] = tickets;
      expect(t).toMatchObject({ state: 'open', occurrences: total, version: total });
      expect(t?.history.filter((e) => e.action === 'opened')).toHaveLength(1);
      expect(t?.history.filter((e) => e.action === 'occurrence')).toHaveLength(total - 1);
    }
    expect(store.list().total).toBe(keys.length);
    expect(store.outboxPending()).toBe(3 * 360);
  });
});

describe('whileBusy (opening a file another process opens at the same moment)', () => {
  const busy = () => Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
  it('runs it again while SQLite says SQLITE_BUSY at once, and returns what it returns', async () => {
    let calls = 0;
    const result = await whileBusy(() => {
      if (++calls < 3) throw busy();
      return 'wal';
    }, 5000);
    expect(result).toBe('wal');
    expect(calls).toBe(3);
  });

  it('throws any other error at once, and SQLITE_BUSY once the time is up', async () => {
    let calls = 0;
    await expect(
      whileBusy(() => {
        calls++;
        throw Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR' });
      }, 5000),
    ).rejects.toThrow('disk I/O error');
    expect(calls).toBe(1);
    await expect(
      whileBusy(() => {
        throw busy();
      }, 30),
    ).rejects.toThrow('database is locked');
  });
});
