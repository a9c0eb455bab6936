import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TicketStore } from './store.ts';
import { MAX_SESSIONS } from './sessions.ts';

describe('sign-in sessions in the store', () => {
  let dir: string;
  let store: TicketStore;
  const T0 = Date.parse('2026-03-02T08:00:00.000Z');
  const session = (subject: string, expiresAt = T0 + 3_600_000) => ({
    subject,
    name: subject.toUpperCase(),
    role: 'operator',
    csrf: `csrf-${subject}`,
    createdAt: T0,
    expiresAt,
  });
  const id = (n: number) => `cookie-${String(n).padStart(36, '0')}`;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'andon-sessions-'));
    store = await TicketStore.open(join(dir, 'andon.sqlite'));
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a session is found by its cookie until it expires or is deleted, and survives a restart; the cookie itself is not stored', async () => {
    store.sessions.create(id(1), session('wang'), T0);
    expect(store.sessions.get(id(1), T0 + 1000)).toEqual(session('wang'));
    expect(store.sessions.get(id(2), T0)).toBeUndefined();
    await store.close();
    store = await TicketStore.open(join(dir, 'andon.sqlite'));
    expect(store.sessions.get(id(1), T0 + 1000)?.subject).toBe('wang');
    const raw = store['db'].prepare('SELECT * FROM sessions').all();
    expect(JSON.stringify(raw)).not.toContain(id(1));
    expect(store.sessions.get(id(1), T0 + 3_600_000)).toBeUndefined();
    expect(store['db'].prepare('SELECT COUNT(*) AS n FROM sessions').get()).toEqual({ n: 0 });
    store.sessions.create(id(3), session('li'), T0);
    expect(store.sessions.delete(id(3))).toBe(true);
    expect(store.sessions.delete(id(3))).toBe(false);
    expect(store.sessions.get(id(3), T0)).toBeUndefined();
  });

  it(`the table is bounded: expired sessions go at the next sign-in, and beyond ${MAX_SESSIONS} the ones ending first`, () => {
    const db = store['db'];
    const insert = db.prepare('INSERT INTO sessions (id_hash, subject, name, role, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
    db.transaction(() => {
      for (let i = 0; i < MAX_SESSIONS; i++) insert.run(`h${i}`, `p${i}`, 'n', 'read', 'c', T0, T0 + 10_000 + i);
    })();
    store.sessions.create(id(1), session('wang', T0 + 100_000), T0);
    expect(db.prepare('SELECT COUNT(*) AS n FROM sessions').get()).toEqual({ n: MAX_SESSIONS });
    expect(db.prepare("SELECT COUNT(*) AS n FROM sessions WHERE id_hash = 'h0'").get()).toEqual({ n: 0 });
    store.sessions.create(id(2), session('li', T0 + 100_000), T0 + 50_000);
    expect(db.prepare('SELECT COUNT(*) AS n FROM sessions').get()).toEqual({ n: 2 });
  });
});
