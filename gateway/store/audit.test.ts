import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import knexFactory from 'knex';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VirtualScheduler } from '../../rules/virtual-scheduler.ts';
import type { AuditEntry } from './audit.ts';
import { migrationsUntil } from './migrations.ts';
import { PRUNE_BATCH, startAuditRetention } from './retention.ts';
import { TicketStore } from './store.ts';

const T0 = Date.parse('2026-03-02T08:00:00.000Z');
const DAY = 86_400_000;

const entry = (at: number, over: Partial<AuditEntry> = {}): AuditEntry => ({
  at,
  actor: 'wang',
  action: 'ticket.shelve',
  outcome: 'ok',
  target: '01TICKET',
  origin: '127.0.0.1',
  code: null,
  details: { reason: 'sensor replaced' },
  ...over,
});

describe('the audit table (a SQLite file)', () => {
  let dir: string;
  let file: string;
  let store: TicketStore;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'andon-audit-store-'));
    file = join(dir, 'andon.sqlite');
    store = await TicketStore.open(file);
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('appends rows and reads them back newest first, with their details', () => {
    const a = store.audit.append(entry(T0));
    const b = store.audit.append(entry(T0 + 1000, { actor: null, action: 'auth.refused', outcome: 'refused', code: 'ANDON_AUTH_REQUIRED', target: 'GET /api/v1/tickets', details: null }));
    expect(b).toBeGreaterThan(a);
    expect(store.audit.list({ limit: 10, offset: 0 })).toEqual({
      total: 2,
      items: [
        { seq: b, at: T0 + 1000, actor: null, action: 'auth.refused', outcome: 'refused', target: 'GET /api/v1/tickets', origin: '127.0.0.1', code: 'ANDON_AUTH_REQUIRED', details: null },
        { seq: a, ...entry(T0) },
      ],
    });
  });

  it('filters by actor, action (one or a prefix), outcome and time, and pages', () => {
    store.audit.append(entry(T0, { actor: 'wang', action: 'ticket.shelve' }));
    store.audit.append(entry(T0 + 1, { actor: 'li', action: 'ticket.unshelve' }));
    store.audit.append(entry(T0 + 2, { actor: 'wang', action: 'ticket.ack', outcome: 'refused', code: 'ANDON_TICKET_ILLEGAL_TRANSITION' }));
    store.audit.append(entry(T0 + 3, { actor: 'root', action: 'config.reload', outcome: 'applied' }));
    store.audit.append(entry(T0 + 4, { actor: 'wang', action: 'ticketing.other' }));
    const actions = (f: Parameters<typeof store.audit.list>[0]) => store.audit.list(f).items.map((r) => r.action);
    expect(actions({ limit: 10, offset: 0, actor: 'wang' })).toEqual(['ticketing.other', 'ticket.ack', 'ticket.shelve']);
    expect(actions({ limit: 10, offset: 0, action: 'ticket.*' })).toEqual(['ticket.ack', 'ticket.unshelve', 'ticket.shelve']);
    expect(actions({ limit: 10, offset: 0, action: 'config.reload' })).toEqual(['config.reload']);
    expect(actions({ limit: 10, offset: 0, outcome: 'refused' })).toEqual(['ticket.ack']);
    expect(actions({ limit: 10, offset: 0, from: T0 + 1, to: T0 + 3 })).toEqual(['ticket.ack', 'ticket.unshelve']);
    expect(store.audit.list({ limit: 2, offset: 2 })).toMatchObject({ total: 5, items: [{ action: 'ticket.ack' }, { action: 'ticket.unshelve' }] });
  });

  it('is append-only in the schema: a row cannot be changed, nor deleted above the retention horizon', () => {
    store.audit.append(entry(T0));
    const db = new Database(file);
    try {
      expect(() => db.prepare("UPDATE audit SET actor = 'someone-else'").run()).toThrow(/append-only/);
      expect(() => db.prepare('DELETE FROM audit').run()).toThrow(/append-only/);
      expect(() => db.prepare('UPDATE audit_horizon SET before = -1').run()).toThrow(/only moves forward/);
      expect(db.prepare('SELECT actor FROM audit').all()).toEqual([{ actor: 'wang' }]);
    } finally {
      db.close();
    }
  });

  it('retention prunes the oldest rows, in batches, and moves the horizon so they cannot come back into question', () => {
    for (let i = 0; i < 7; i++) store.audit.append(entry(T0 - (100 - i) * DAY));
    store.audit.append(entry(T0 - DAY, { action: 'config.reload' }));
    expect(store.audit.prune(T0 - 30 * DAY, 4)).toBe(4);
    expect(store.audit.prune(T0 - 30 * DAY, 4)).toBe(3);
    expect(store.audit.prune(T0 - 30 * DAY, 4)).toBe(0);
    expect(store.audit.list({ limit: 10, offset: 0 }).items.map((r) => r.action)).toEqual(['config.reload']);
    // a shorter cutoff later does not move the horizon back: the newer row stays protected
    expect(store.audit.prune(T0 - 60 * DAY, 4)).toBe(0);
    const db = new Database(file);
    try {
      expect(() => db.prepare('DELETE FROM audit').run()).toThrow(/append-only/);
    } finally {
      db.close();
    }
  });

  it('store.auditRetention prunes at start in batches of 500, then every hour', () => {
    const insert = new Database(file);
    const add = insert.prepare("INSERT INTO audit (at, actor, action, outcome) VALUES (?, 'mes', 'auth.sign-in', 'ok')");
    insert.transaction(() => {
      for (let i = 0; i < PRUNE_BATCH + 20; i++) add.run(T0 - 40 * DAY + i);
      add.run(T0 - 29.5 * DAY);
    })();
    insert.close();
    const scheduler = new VirtualScheduler(T0);
    const lines: Record<string, unknown>[] = [];
    const log = pino({ level: 'info' }, new Writable({ write: (c: Buffer, _e, done) => (lines.push(JSON.parse(c.toString()) as Record<string, unknown>), done()) }));
    const pruned: number[] = [];
    const retention = startAuditRetention(store, 30 * DAY, scheduler, log, (n) => pruned.push(n));
    scheduler.advanceTo(T0);
    expect(pruned).toEqual([PRUNE_BATCH, 20]);
    expect(lines.find((l) => l.pruned === PRUNE_BATCH + 20)).toMatchObject({ component: 'store', msg: 'retention: audit rows pruned' });
    expect(store.audit.list({ limit: 1, offset: 0 }).total).toBe(1);
    // 29.5 days old at T0: due half a day later, pruned by the first hourly run after that
    scheduler.advanceTo(T0 + 12 * 3_600_000 - 1);
    expect(store.audit.list({ limit: 1, offset: 0 }).total).toBe(1);
    scheduler.advanceTo(T0 + 13 * 3_600_000);
    expect(store.audit.list({ limit: 1, offset: 0 }).total).toBe(0);
    retention.stop();
  });
});

describe('upgrading a store made before the audit trail', () => {
  it('adds the audit table to a file migrated up to 0008', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'andon-audit-upgrade-'));
    const file = join(dir, 'andon.sqlite');
    try {
      const knex = knexFactory({ client: 'better-sqlite3', connection: { filename: file }, useNullAsDefault: true });
      await knex.migrate.latest({ migrationSource: migrationsUntil('0008_recurrence') });
      expect(await knex.schema.hasTable('audit')).toBe(false);
      await knex.destroy();
      const store = await TicketStore.open(file);
      store.audit.append(entry(T0));
      expect(store.audit.list({ limit: 10, offset: 0 }).total).toBe(1);
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
