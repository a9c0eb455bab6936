import { createHash } from 'node:crypto';
import type BetterSqlite3 from 'better-sqlite3';

type Db = BetterSqlite3.Database;

/** A person's sign-in session (personal sign-in, gateway/http/sign-in.ts). Times in epoch ms. */
export interface Session {
  /** The provider's subject (`sub`): the person's stable id, recorded as `actor`. */
  subject: string;
  /** The display name (`actorName` in history). */
  name: string;
  role: string;
  /** The value the X-Andon-CSRF header must carry with a request that changes something. */
  csrf: string;
  createdAt: number;
  expiresAt: number;
}

/** Sessions kept at most: beyond it, the oldest are ended (a flood of sign-ins cannot grow the table without end). */
export const MAX_SESSIONS = 10_000;

/** The stored key of a cookie value: its sha256 (a copy of the database holds no usable cookie). */
const keyOf = (id: string) => createHash('sha256').update(id).digest('hex');

type Row = { subject: string; name: string; role: string; csrf: string; created_at: number; expires_at: number };

/**
 * The sessions table (migration 0012_sessions): created at sign-in, read on every request with the
 * cookie, deleted at sign-out and when expired. A session is found by the sha256 of its cookie value.
 */
export class SessionStore {
  private readonly insert: BetterSqlite3.Statement;
  private readonly find: BetterSqlite3.Statement;
  private readonly remove: BetterSqlite3.Statement;
  private readonly expire: BetterSqlite3.Statement;
  private readonly count: BetterSqlite3.Statement;
  private readonly trim: BetterSqlite3.Statement;

  constructor(db: Db) {
    this.insert = db.prepare('INSERT INTO sessions (id_hash, subject, name, role, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
    this.find = db.prepare('SELECT subject, name, role, csrf, created_at, expires_at FROM sessions WHERE id_hash = ?');
    this.remove = db.prepare('DELETE FROM sessions WHERE id_hash = ?');
    this.expire = db.prepare('DELETE FROM sessions WHERE expires_at <= ?');
    this.count = db.prepare('SELECT COUNT(*) AS n FROM sessions');
    this.trim = db.prepare('DELETE FROM sessions WHERE id_hash IN (SELECT id_hash FROM sessions INDEXED BY sessions_expires_at ORDER BY expires_at LIMIT ?)');
  }

  /** Stores a new session under cookie value `id`; expired sessions go first, and the oldest beyond MAX_SESSIONS. */
  create(id: string, s: Session, now: number): void {
    this.expire.run(now);
    const over = (this.count.get() as { n: number }).n - MAX_SESSIONS + 1;
    if (over > 0) this.trim.run(over);
    this.insert.run(keyOf(id), s.subject, s.name, s.role, s.csrf, s.createdAt, s.expiresAt);
  }

  /** The session of cookie value `id`, undefined when there is none or it expired (then it is deleted). */
  get(id: string, now: number): Session | undefined {
    const key = keyOf(id);
    const r = this.find.get(key) as Row | undefined;
    if (!r) return undefined;
    if (r.expires_at <= now) {
      this.remove.run(key);
      return undefined;
    }
    return { subject: r.subject, name: r.name, role: r.role, csrf: r.csrf, createdAt: r.created_at, expiresAt: r.expires_at };
  }

  /** Ends the session of cookie value `id` (sign-out); whether there was one. */
  delete(id: string): boolean {
    return this.remove.run(keyOf(id)).changes > 0;
  }
}
