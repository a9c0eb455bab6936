import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VirtualScheduler } from '../../rules/virtual-scheduler.ts';
import { TicketStore } from '../store/store.ts';
import { AuditLog, REFUSED_EVERY, type AuditDeps } from './audit.ts';

const T0 = Date.parse('2026-03-02T08:00:00.000Z');
const wang = { actor: 'wang', origin: '10.0.0.7' };

describe('the audit log (folding in virtual time, a SQLite file)', () => {
  let dir: string;
  let file: string;
  let store: TicketStore;
  let clock: VirtualScheduler;
  const counted = { written: [] as string[], failed: 0 };
  const warnings: object[] = [];
  const auditLog = (over: Partial<AuditDeps> = {}) =>
    new AuditLog({
      store,
      now: () => clock.now(),
      onWritten: (a) => counted.written.push(a),
      onFailed: () => counted.failed++,
      log: { warn: (fields) => warnings.push(fields) },
      ...over,
    });
  const rows = () => store.audit.list({ limit: 1000, offset: 0 }).items.reverse();
  /** Events a set of rows stands for: each row one, plus the ones it folded. */
  const events = () => rows().reduce((n, r) => n + 1 + (typeof r.details?.repeated === 'number' ? r.details.repeated : 0), 0);

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'andon-audit-log-'));
    file = join(dir, 'andon.sqlite');
    store = await TicketStore.open(file);
    clock = new VirtualScheduler(T0);
    counted.written = [];
    counted.failed = 0;
    warnings.length = 0;
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes a record at once, with the gateway time', () => {
    auditLog().record({ ...wang, action: 'ticket.shelve', outcome: 'ok', target: '01T', details: { reason: 'calibration' } });
    expect(rows()).toEqual([{ seq: expect.any(Number), at: T0, actor: 'wang', action: 'ticket.shelve', outcome: 'ok', target: '01T', origin: '10.0.0.7', code: null, details: { reason: 'calibration' } }]);
    expect(counted.written).toEqual(['ticket.shelve']);
  });

  it('a token used all day from one address is a row an hour, each counting the uses it stands for', () => {
    const audit = auditLog();
    // a board polling every 10 s for 2.5 hours: 900 uses
    for (let i = 0; i < 900; i++) {
      clock.advanceTo(T0 + i * 10_000);
      audit.signIn(wang, 'token');
    }
    expect(rows().map((r) => [new Date(r.at).toISOString(), r.details])).toEqual([
      ['2026-03-02T08:00:00.000Z', { method: 'token' }],
      ['2026-03-02T09:00:00.000Z', { method: 'token', repeated: 359 }],
      ['2026-03-02T10:00:00.000Z', { method: 'token', repeated: 359 }],
    ]);
    audit.flush();
    expect(rows()).toHaveLength(4);
    expect(rows()[3]).toMatchObject({ at: T0 + 899 * 10_000, action: 'auth.sign-in', actor: 'wang', details: { method: 'token', repeated: 178 } });
    expect(events()).toBe(900);
  });

  it('token uses from another address, or of another token, are rows of their own', () => {
    const audit = auditLog();
    audit.signIn(wang, 'token');
    audit.signIn({ actor: 'wang', origin: '10.0.0.8' }, 'token');
    audit.signIn({ actor: 'mes', origin: '10.0.0.7' }, 'token');
    audit.signIn(wang, 'token');
    expect(rows().map((r) => `${r.actor}@${r.origin}`)).toEqual(['wang@10.0.0.7', 'wang@10.0.0.8', 'mes@10.0.0.7']);
  });

  it('a sign-in of another method (OIDC) is a row each time', () => {
    const audit = auditLog();
    audit.signIn({ actor: 'li.na', origin: '10.0.0.9' }, 'oidc', { subject: 'a1b2', name: 'Li Na' });
    audit.signIn({ actor: 'li.na', origin: '10.0.0.9' }, 'oidc', { subject: 'a1b2', name: 'Li Na' });
    expect(rows().map((r) => r.details)).toEqual([
      { method: 'oidc', subject: 'a1b2', name: 'Li Na' },
      { method: 'oidc', subject: 'a1b2', name: 'Li Na' },
    ]);
  });

  it('a burst of refusals is a row a minute per kind, nothing lost', () => {
    const audit = auditLog();
    const scanner = { actor: null, origin: '10.9.9.9' };
    for (let i = 0; i < 500; i++) {
      clock.advanceTo(T0 + i * 250); // 4 a second for 125 s
      audit.refused({ ...scanner, action: 'auth.refused', code: 'ANDON_AUTH_REQUIRED', target: `GET /api/v1/route-${i % 7}` });
      if (i % 100 === 0) audit.refused({ ...wang, action: 'auth.refused', code: 'ANDON_AUTH_FORBIDDEN', target: 'POST /api/v1/admin/reload' });
    }
    audit.flush();
    const scanned = rows().filter((r) => r.origin === '10.9.9.9');
    expect(scanned.map((r) => r.at - T0)).toEqual([0, REFUSED_EVERY, 2 * REFUSED_EVERY, 499 * 250]);
    expect(scanned.every((r) => r.outcome === 'refused' && r.code === 'ANDON_AUTH_REQUIRED' && r.actor === null)).toBe(true);
    // every 25 s: at 0, folded at 25 s and 50 s, a row at 75 s (standing for those two), 100 s folded until the flush
    expect(rows().filter((r) => r.actor === 'wang').map((r) => [r.at - T0, r.details?.repeated])).toEqual([
      [0, undefined],
      [300 * 250, 2],
      [400 * 250, undefined],
    ]);
    expect(events()).toBe(505);
  });

  it('refused transitions of different tickets are different kinds', () => {
    const audit = auditLog();
    audit.refused({ ...wang, action: 'ticket.ack', target: '01A', code: 'ANDON_TICKET_ILLEGAL_TRANSITION' }, '01A');
    audit.refused({ ...wang, action: 'ticket.ack', target: '01B', code: 'ANDON_TICKET_ILLEGAL_TRANSITION' }, '01B');
    audit.refused({ ...wang, action: 'ticket.ack', target: '01A', code: 'ANDON_TICKET_ILLEGAL_TRANSITION' }, '01A');
    expect(rows().map((r) => r.target)).toEqual(['01A', '01B']);
    audit.flush();
    expect(rows().map((r) => r.target)).toEqual(['01A', '01B', '01A']);
  });

  it('holds a bounded number of kinds: the oldest is written out when more come', () => {
    const audit = auditLog({ maxFolding: 3 });
    for (const origin of ['a', 'b', 'c']) {
      audit.signIn({ actor: 'mes', origin }, 'token');
      audit.signIn({ actor: 'mes', origin }, 'token');
    }
    expect(rows()).toHaveLength(3);
    audit.signIn({ actor: 'mes', origin: 'd' }, 'token');
    // d's row, and a's folded use written out as a was forgotten
    expect(rows().map((r) => r.origin)).toEqual(['a', 'b', 'c', 'd', 'a']);
    audit.flush();
    expect(events()).toBe(7);
  });

  it('a row the store cannot write is logged and counted; the caller goes on', () => {
    const db = new Database(file);
    db.exec("CREATE TRIGGER audit_full BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END");
    db.close();
    const audit = auditLog();
    expect(() => audit.record({ ...wang, action: 'config.reload', outcome: 'applied' })).not.toThrow();
    expect(counted).toEqual({ written: [], failed: 1 });
    expect(warnings).toEqual([expect.objectContaining({ component: 'audit', action: 'config.reload', actor: 'wang' })]);
  });
});
