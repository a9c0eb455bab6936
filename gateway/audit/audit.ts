import type { AuditEntry } from '../store/audit.ts';

/**
 * The audit trail (contracts §Audit trail): who did what, when and from where, appended to the store's
 * `audit` table. One API for every writer: the HTTP guard (token use, 401/403), the routes (shelving,
 * admin retries, refused transitions), the config reload, and sign-in methods yet to come (OIDC calls
 * `signIn` with its method).
 *
 * Noisy kinds are folded so the table grows with what people do, not with request rates: the uses of a
 * token from one address are written once an hour, refusals of the same kind once a minute. A row
 * then carries `details.repeated`: how many more of the same it stands for. So every event is
 * counted: events = rows + the sum of `repeated`.
 */

/** What is audited (the `action` column). A ticket action is `ticket.<lifecycle action>`. */
export type AuditAction = 'config.reload' | 'outbox.retry' | 'notification.retry' | 'auth.sign-in' | 'auth.sign-out' | 'auth.refused' | `ticket.${string}`;

/** Who and from where: the authenticated name (null for nobody) and the client's address (`signal` for SIGHUP). */
export interface AuditWho {
  actor: string | null;
  origin: string | null;
}

export interface AuditRecord extends AuditWho {
  action: AuditAction;
  outcome: string;
  target?: string | null;
  code?: string | null;
  details?: Record<string, unknown> | null;
}

export interface AuditDeps {
  store: { audit: { append(e: AuditEntry): number } };
  /** The gateway clock. */
  now: () => number;
  log?: { warn(fields: object, message: string): void } | undefined;
  /** A row was written (andon_audit_records_total{action}). */
  onWritten?: (action: string) => void;
  /** A row could not be written (andon_audit_write_errors_total): logged, and the action it records goes on. */
  onFailed?: () => void;
  /** Kinds folded at once (default 10,000); beyond it the oldest is written out and forgotten. */
  maxFolding?: number;
}

/** Token uses from one address: a row an hour. */
export const TOKEN_USE_EVERY = 3_600_000;
/** Refusals of one kind (action, who, address, code): a row a minute. */
export const REFUSED_EVERY = 60_000;
/** Kinds being folded at once; the oldest is written out and forgotten beyond this. */
const MAX_FOLDING = 10_000;

interface Folding {
  until: number;
  /** Events folded since the last row, and the newest of them. */
  folded: number;
  last: AuditEntry | null;
}

export class AuditLog {
  private readonly folding = new Map<string, Folding>();

  constructor(private readonly deps: AuditDeps) {}

  /** Writes one row now. Never throws: a store failure is logged and counted, the audited action stands. */
  record(r: AuditRecord): void {
    this.write(this.entry(r, this.deps.now()));
  }

  /**
   * Someone signed in: a bearer token used (`method: 'token'`, folded to a row an hour per token and
   * address), or a sign-in of another method (each one a row).
   */
  signIn(who: AuditWho, method: string, details: Record<string, unknown> = {}): void {
    const r: AuditRecord = { ...who, action: 'auth.sign-in', outcome: 'ok', details: { method, ...details } };
    if (method === 'token') this.fold(`sign-in|${who.actor}|${who.origin}`, r, TOKEN_USE_EVERY);
    else this.record(r);
  }

  /**
   * A refused request or action (401/403, a refused transition or retry): a row a minute per kind. `key`
   * names the kind beyond action, actor, address and code (a ticket id; not a route, so a scan of many
   * routes is one kind).
   */
  refused(r: Omit<AuditRecord, 'outcome'> & { code: string }, key = ''): void {
    this.fold(`${r.action}|${r.actor}|${r.origin}|${r.code}|${key}`, { ...r, outcome: 'refused' }, REFUSED_EVERY);
  }

  /** Writes what is folded (at stop): a row per kind, the newest event standing for the others. */
  flush(): void {
    for (const f of this.folding.values()) this.writeFolded(f);
    this.folding.clear();
  }

  private fold(key: string, r: AuditRecord, every: number): void {
    const at = this.deps.now();
    const f = this.folding.get(key);
    const e = this.entry(r, at);
    if (f && at < f.until) {
      f.folded++;
      f.last = e;
      return;
    }
    if (f && f.folded > 0) e.details = { ...e.details, repeated: f.folded };
    this.write(e);
    this.folding.delete(key);
    this.folding.set(key, { until: at + every, folded: 0, last: null });
    if (this.folding.size > (this.deps.maxFolding ?? MAX_FOLDING)) {
      const [oldest, o] = this.folding.entries().next().value as [string, Folding];
      this.writeFolded(o);
      this.folding.delete(oldest);
    }
  }

  private writeFolded(f: Folding): void {
    if (f.folded === 0 || f.last === null) return;
    const e = f.last;
    if (f.folded > 1) e.details = { ...e.details, repeated: f.folded - 1 };
    f.folded = 0;
    f.last = null;
    this.write(e);
  }

  private entry(r: AuditRecord, at: number): AuditEntry {
    return { at, actor: r.actor, action: r.action, outcome: r.outcome, target: r.target ?? null, origin: r.origin, code: r.code ?? null, details: r.details ?? null };
  }

  private write(e: AuditEntry): void {
    try {
      this.deps.store.audit.append(e);
      this.deps.onWritten?.(e.action);
    } catch (err) {
      this.deps.onFailed?.();
      this.deps.log?.warn({ component: 'audit', err, action: e.action, actor: e.actor }, 'an audit row could not be written');
    }
  }
}
