import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import knexFactory from 'knex';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ticketDoc, T0 } from '../../test/ticket-fixture.ts';
import type { Member, TicketDoc } from '../../model/ticket.ts';
import { migrationsUntil } from './migrations.ts';
import { TicketStore } from './store.ts';

let dir: string;
let file: string;
const opened: TicketStore[] = [];
const open = async () => {
  const store = await TicketStore.open(file);
  opened.push(store);
  return store;
};
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'andon-members-'));
  file = join(dir, 'andon.sqlite');
});
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
  rmSync(dir, { recursive: true, force: true });
});

const iso = (ms: number) => new Date(ms).toISOString();
const member = (i: number): Member => ({ asset: `press-${i}`, fault: 'alarm-stop', at: iso(T0 + i * 1000) });
const flood = (over: Partial<TicketDoc> = {}) => ticketDoc({ id: 'FLOOD', key: 'pressing/alarm-flood', fault: 'alarm-flood', flags: ['flood'], ...over });

/** Saves `doc` as the next version after `previous` (null: new), as the engine does. */
const save = (store: TicketStore, doc: TicketDoc, previous: TicketDoc | null) =>
  store.transaction((tx) => tx.save(doc, { at: doc.updatedAt, action: previous ? 'occurrence' : 'opened', by: 'andon' }, previous));

/** The stored doc text and member rows, read by a second connection (what is on disk). */
function onDisk(id: string) {
  const db = new Database(file, { readonly: true });
  try {
    const row = db.prepare('SELECT doc, member_count AS n FROM tickets WHERE id = ?').get(id) as { doc: string; n: number };
    const rows = db.prepare('SELECT COUNT(*) AS n FROM ticket_members WHERE ticket_id = ?').get(id) as { n: number };
    return { bytes: Buffer.byteLength(row.doc), memberCount: row.n, memberRows: rows.n, doc: JSON.parse(row.doc) as TicketDoc };
  } finally {
    db.close();
  }
}

describe('flood members in rows of their own', () => {
  it('recording one more member writes one row: the stored doc does not grow with the members', async () => {
    const store = await open();
    let previous: TicketDoc | null = null;
    let doc = flood({ members: [member(0)] });
    save(store, doc, previous);
    const first = onDisk('FLOOD');
    for (let v = 2; v <= 500; v++) {
      previous = doc;
      doc = { ...doc, version: v, occurrences: v, members: [...doc.members, member(v - 1)] };
      save(store, doc, previous);
    }
    const last = onDisk('FLOOD');
    expect(last).toMatchObject({ memberCount: 500, memberRows: 500 });
    // the doc keeps an empty list where the members go; its size is the same with 1 member or 500
    expect(last.doc.members).toEqual([]);
    expect(Math.abs(last.bytes - first.bytes)).toBeLessThan(16);
    // readers get every member, in order, with the doc's fields in their usual order
    const t = store.get('FLOOD');
    expect(t?.members).toHaveLength(500);
    expect(t?.members[0]).toEqual(member(0));
    expect(t?.members[499]).toEqual(member(499));
    save(store, ticketDoc({ id: 'PLAIN', key: 'k/plain' }), null);
    expect(Object.keys(t ?? {})).toEqual(Object.keys(store.get('PLAIN') ?? {}));
    expect(store.list().items.find((x) => x.id === 'FLOOD')?.members).toHaveLength(500);
    expect(store.liveTickets().find((x) => x.id === 'FLOOD')?.members).toHaveLength(500);
  });

  it('a change that rolls back leaves neither its member rows nor its doc behind, in the store or in its cache', async () => {
    const store = await open();
    const v1 = flood({ members: [member(0)] });
    save(store, v1, null);
    const v2 = { ...v1, version: 2, occurrences: 2, members: [...v1.members, member(1)] };
    expect(() =>
      store.transaction((tx) => {
        tx.save(v2, { at: v2.updatedAt, action: 'occurrence', by: 'andon' }, v1);
        throw new Error('the rest of the change failed');
      }),
    ).toThrow('the rest of the change failed');
    expect(store.transaction((tx) => tx.liveByKey(v1.key))).toMatchObject({ version: 1, members: [member(0)] });
    expect(onDisk('FLOOD')).toMatchObject({ memberCount: 1, memberRows: 1 });
  });

  it('a store written before members had rows migrates: members become rows, in order, and the docs keep the rest', async () => {
    // An installation on the schema before 0007: members inside the doc.
    const knex = knexFactory({ client: 'better-sqlite3', connection: { filename: file }, useNullAsDefault: true });
    await knex.migrate.latest({ migrationSource: migrationsUntil('0006_zzz') });
    const old = flood({ members: [member(0), member(1), member(2)], firstOut: member(0), occurrences: 3 });
    const plain = ticketDoc({ id: 'PLAIN', key: 'sealer-01/alarm-stop' });
    for (const d of [old, plain]) {
      await knex('tickets').insert({
        id: d.id,
        key: d.key,
        state: d.state,
        version: 1,
        priority: d.priority,
        area: d.area,
        asset: d.asset,
        fault: d.fault,
        opened_at: T0,
        updated_at: T0,
        doc: JSON.stringify(d),
      });
      await knex('ticket_events').insert({ ticket_id: d.id, version: 1, at: T0, action: 'opened', by: 'andon', data: null });
    }
    await knex.destroy();

    const store = await open();
    expect(store.get('FLOOD')).toMatchObject({ members: old.members, firstOut: member(0), occurrences: 3 });
    expect(store.get('PLAIN')).toMatchObject({ members: [], title: plain.title });
    expect(onDisk('FLOOD')).toMatchObject({ memberCount: 3, memberRows: 3, doc: { members: [] } });
    // and it goes on from there: the next member is the 4th row
    const v1 = store.transaction((tx) => tx.liveByKey(old.key)) as TicketDoc;
    save(store, { ...v1, version: 2, members: [...v1.members, member(3)] }, v1);
    expect(store.get('FLOOD')?.members).toEqual([...old.members, member(3)]);
  });
});

describe('batches (group commit)', () => {
  it('the changes of a batch commit together: another connection sees none of them before the batch ends, then all', async () => {
    const store = await open();
    const seen: number[] = [];
    const count = () => {
      const db = new Database(file, { readonly: true });
      try {
        return (db.prepare('SELECT COUNT(*) AS n FROM tickets').get() as { n: number }).n;
      } finally {
        db.close();
      }
    };
    store.batch(() => {
      for (let i = 0; i < 3; i++) {
        save(store, ticketDoc({ id: `B${i}`, key: `k/${i}` }), null);
        seen.push(count());
      }
    });
    expect(seen).toEqual([0, 0, 0]);
    expect(count()).toBe(3);
  });

  it('a change refused inside a batch rolls back alone; the others commit', async () => {
    const store = await open();
    store.batch(() => {
      save(store, ticketDoc({ id: 'A', key: 'k/a' }), null);
      expect(() =>
        store.transaction((tx) => {
          tx.save(ticketDoc({ id: 'B', key: 'k/b' }), { at: iso(T0), action: 'opened', by: 'andon' }, null);
          throw new Error('refused');
        }),
      ).toThrow('refused');
      save(store, ticketDoc({ id: 'C', key: 'k/c' }), null);
    });
    expect(store.list().items.map((t) => t.id)).toEqual(['A', 'C']);
  });

  /** A member joining `doc` (the batch's version `seq`) as TicketEngine.joinFlood does: the store first, then the doc in place. */
  const join = (store: TicketStore, doc: TicketDoc, seq: number, i: number, n: number) => {
    const m = member(i);
    const joined = store.joinVersion(doc, { at: iso(T0 + i * 1000), action: 'occurrence', by: 'andon', member: m, members: n }, seq, m);
    if (joined) {
      doc.occurrences++;
      doc.updatedAt = iso(T0 + i * 1000);
      doc.members.push(m);
    }
    return joined;
  };

  it('members joining one version: their rows go in together, the doc and event once, at the commit; a savepoint after them that rolls back keeps them', async () => {
    const store = await open();
    const v1 = flood({ members: [member(0)], occurrences: 1 });
    save(store, v1, null);
    // not in a batch, or inside a savepoint: no join (the caller takes the general path)
    expect(store.joinVersion(v1, { at: iso(T0), action: 'occurrence', by: 'andon' }, 1, member(9))).toBe(false);
    store.batch(() => {
      const v2 = { ...v1, version: 2, occurrences: 2, members: [...v1.members, member(1)] };
      const seq = store.transaction((tx) => tx.save(v2, { at: iso(T0 + 1000), action: 'occurrence', by: 'andon' }, v1));
      expect(store.transaction(() => store.joinVersion(v2, { at: iso(T0), action: 'occurrence', by: 'andon' }, seq, member(9)))).toBe(false);
      expect(join(store, v2, seq, 2, 2)).toBe(true);
      expect(join(store, v2, seq, 4, 3)).toBe(true);
      // nothing is on disk before the commit
      expect(onDisk('FLOOD')).toMatchObject({ memberRows: 1, doc: { version: 1 } });
      // another change, refused after its write: it rolls back alone, the members joined before it stay
      expect(() =>
        store.transaction((tx) => {
          tx.save(ticketDoc({ id: 'OTHER', key: 'k/other' }), { at: iso(T0), action: 'opened', by: 'andon' }, null);
          throw new Error('refused');
        }),
      ).toThrow('refused');
      expect(join(store, v2, seq, 5, 4)).toBe(true);
    });
    const disk = onDisk('FLOOD');
    expect(disk.doc).toMatchObject({ version: 2, occurrences: 5, members: [] });
    expect(disk).toMatchObject({ memberCount: 5, memberRows: 5 });
    expect(store.doc('FLOOD')?.members.map((m) => m.asset)).toEqual(['press-0', 'press-1', 'press-2', 'press-4', 'press-5']);
    expect(store.history('FLOOD').at(-1)).toMatchObject({ action: 'occurrence', members: 4, member: { asset: 'press-5' } });
    expect(store.list().items.map((t) => t.id)).toEqual(['FLOOD']);
    // a reopened store reads the same
    await store.close();
    opened.splice(opened.indexOf(store), 1);
    const again = await open();
    expect(again.doc('FLOOD')).toMatchObject({ version: 2, occurrences: 5 });
    expect(again.doc('FLOOD')?.members).toHaveLength(5);
  });

  it('a newer version after members joined, in the same batch: the row gets it, with every member and the right count', async () => {
    const store = await open();
    const v1 = flood({ members: [member(0)], occurrences: 1 });
    save(store, v1, null);
    store.batch(() => {
      const v2 = { ...v1, version: 2, occurrences: 2, members: [...v1.members, member(1)] };
      const seq = store.transaction((tx) => tx.save(v2, { at: iso(T0 + 1000), action: 'occurrence', by: 'andon' }, v1));
      join(store, v2, seq, 2, 2);
      join(store, v2, seq, 3, 3);
      // someone acknowledges it in the same batch: a new version on top of the joined one
      const v3 = { ...v2, version: 3, state: 'acknowledged' as const, members: [...v2.members, member(4)], updatedAt: iso(T0 + 4000) };
      store.transaction((tx) => tx.save(v3, { at: iso(T0 + 4000), action: 'ack', by: 'wang' }, v2));
    });
    expect(onDisk('FLOOD')).toMatchObject({ memberCount: 5, memberRows: 5, doc: { version: 3, state: 'acknowledged', occurrences: 4 } });
    expect(store.history('FLOOD').map((e) => e.action)).toEqual(['opened', 'occurrence', 'ack']);
    expect(store.history('FLOOD')[1]).toMatchObject({ members: 3, member: { asset: 'press-3' } });
  });

  it('a batch that fails leaves none of its joined members behind, and the next batch writes its own', async () => {
    const store = await open();
    const v1 = flood({ members: [member(0)], occurrences: 1 });
    save(store, v1, null);
    expect(() =>
      store.batch(() => {
        const v2 = { ...v1, version: 2, occurrences: 2, members: [...v1.members, member(1)] };
        const seq = store.transaction((tx) => tx.save(v2, { at: iso(T0 + 1000), action: 'occurrence', by: 'andon' }, v1));
        join(store, v2, seq, 2, 2);
        throw new Error('the batch failed');
      }),
    ).toThrow('the batch failed');
    expect(onDisk('FLOOD')).toMatchObject({ memberCount: 1, memberRows: 1, doc: { version: 1 } });
    const current = store.transaction((tx) => tx.liveByKey(v1.key)) as TicketDoc;
    expect(current).toMatchObject({ version: 1, members: [member(0)] });
    store.batch(() => {
      const v2 = { ...current, version: 2, occurrences: 2, members: [...current.members, member(7)] };
      const seq = store.transaction((tx) => tx.save(v2, { at: iso(T0 + 7000), action: 'occurrence', by: 'andon' }, current));
      join(store, v2, seq, 8, 2);
    });
    expect(store.doc('FLOOD')?.members.map((m) => m.asset)).toEqual(['press-0', 'press-7', 'press-8']);
  });

  it('the columns stay right whichever UPDATE writes a version: the doc alone when state and priority stay, all of them when one changes', async () => {
    const store = await open();
    const columns = () => {
      const db = new Database(file, { readonly: true });
      try {
        return db.prepare('SELECT state, priority, version, updated_at AS updatedAt FROM tickets WHERE id = ?').get('FLOOD');
      } finally {
        db.close();
      }
    };
    const v1 = flood({ members: [member(0)], occurrences: 1, priority: 'P2' });
    save(store, v1, null);
    // a repeat: same state and priority (the narrow UPDATE), a newer version and updated_at
    const v2 = { ...v1, version: 2, occurrences: 2, updatedAt: iso(T0 + 1000) };
    save(store, v2, v1);
    expect(columns()).toEqual({ state: 'open', priority: 'P2', version: 2, updatedAt: T0 + 1000 });
    // a version that acknowledges it: the state column follows
    const v3 = { ...v2, version: 3, state: 'acknowledged' as const, updatedAt: iso(T0 + 2000) };
    store.transaction((tx) => tx.save(v3, { at: iso(T0 + 2000), action: 'ack', by: 'wang' }, v2));
    expect(columns()).toMatchObject({ state: 'acknowledged', version: 3 });
    // in a batch: a version that raises the priority, members joining it: the row has P1 and the last member's time
    store.batch(() => {
      const v4 = { ...v3, version: 4, priority: 'P1' as const, occurrences: 3, members: [...v3.members, member(1)], updatedAt: iso(T0 + 3000) };
      const seq = store.transaction((tx) => tx.save(v4, { at: iso(T0 + 3000), action: 'occurrence', by: 'andon' }, v3));
      join(store, v4, seq, 4, 2);
      join(store, v4, seq, 5, 3);
    });
    expect(columns()).toEqual({ state: 'acknowledged', priority: 'P1', version: 4, updatedAt: T0 + 5000 });
    expect(onDisk('FLOOD').doc).toMatchObject({ priority: 'P1', occurrences: 5 });
    expect(store.list({ priority: 'P1' }).items.map((t) => t.id)).toEqual(['FLOOD']);
  });

  it("a batch's first transaction that fails (it runs without a savepoint) undoes its writes alone: the batch goes on and commits the next", async () => {
    const store = await open();
    const other = ticketDoc({ id: 'OTHER', key: 'press-9/alarm-stop' });
    store.batch(() => {
      expect(() =>
        store.transaction((tx) => {
          tx.save(flood({ members: [member(0)] }), { at: iso(T0), action: 'opened', by: 'andon' }, null);
          throw new Error('refused after a write');
        }),
      ).toThrow('refused after a write');
      // what the failed one wrote is gone, from the file and from the cache
      expect(store.transaction((tx) => tx.liveByKey(flood().key))).toBeUndefined();
      store.transaction((tx) => tx.save(other, { at: iso(T0), action: 'opened', by: 'andon' }, null));
    });
    expect(store.doc('FLOOD')).toBeUndefined();
    expect(onDisk('OTHER').doc).toMatchObject({ id: 'OTHER', version: 1 });
    // a batch whose only transaction fails leaves no transaction open
    store.batch(() => {
      expect(() =>
        store.transaction(() => {
          throw new Error('refused');
        }),
      ).toThrow('refused');
    });
    expect(store.inTransaction).toBe(false);
    const db = new Database(file);
    try {
      db.exec('BEGIN IMMEDIATE; ROLLBACK');
    } finally {
      db.close();
    }
  });

  it('a batch that writes nothing begins no transaction', async () => {
    const store = await open();
    const before = store.transaction(() => 'x');
    expect(before).toBe('x');
    store.batch(() => undefined);
    // a second connection can take the write lock at once: nothing was left open
    const db = new Database(file);
    try {
      db.exec('BEGIN IMMEDIATE; ROLLBACK');
    } finally {
      db.close();
    }
    expect(store.inTransaction).toBe(false);
  });
});
