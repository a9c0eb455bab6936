import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

/** A ticket as central keeps it: the newest version the gateway put, under central's own id. */
export interface StoredTicket {
  centralId: string;
  version: number;
  ticket: Record<string, unknown>;
  updatedAt: number;
}

/** A PUT's body taken apart: the ticket without its history, and the events from index `from` (null: none sent). */
export interface TicketPut {
  ticket: Record<string, unknown>;
  from: number;
  events: Record<string, unknown>[] | null;
}

/** A change made at central (docs/contracts.md, Central API), as `GET /tickets/changes` reports it. */
export interface ChangeRecord {
  seq: number;
  ticketId: string;
  action: string;
  by: string;
  at: number;
  fields: Record<string, unknown>;
}

/** An answer central gave to a PUT; the same Idempotency-Key gets it again. */
export interface Answer {
  status: number;
  body: Record<string, unknown>;
}

export interface CentralStats {
  /** Every HTTP request that reached central, whatever became of it. */
  requests: number;
  byRoute: Record<string, number>;
  /** PUTs that got as far as the store (not refused by a fault or a check). */
  puts: number;
  /** PUTs that changed what central holds: a version newer than the stored one. */
  effective: number;
  /** PUTs answered from the idempotency record (a key seen before). */
  replays: number;
  /** PUTs of the version central already holds, under a key it no longer remembers: 200, no effect. */
  same: number;
  /** PUTs whose history delta started after what central holds: 409 CENTRAL_HISTORY_GAP. */
  gaps: number;
  /** PUTs of an older version than central holds: 409. */
  conflicts: number;
  /** History events received again (an index central already holds): ignored. */
  repeatedEvents: number;
  /** (id, version) pairs with more than one effective write: must stay 0. */
  duplicates: number;
  /** PUTs whose version is lower than one put before for the same ticket (order per ticket): must stay 0. */
  regressions: number;
  /** Most PUTs for one ticket in flight at once (order per ticket: must stay 1). */
  maxInFlightPerTicket: number;
  /** Most PUTs in flight at once. */
  maxInFlight: number;
  faults: Record<string, number>;
}

const newStats = (): CentralStats => ({
  requests: 0,
  byRoute: {},
  puts: 0,
  effective: 0,
  replays: 0,
  same: 0,
  conflicts: 0,
  gaps: 0,
  repeatedEvents: 0,
  duplicates: 0,
  regressions: 0,
  maxInFlightPerTicket: 0,
  maxInFlight: 0,
  faults: {},
});

/**
 * Central's memory: tickets (newest version per id), idempotency answers,
 * the changes made at central, and the counters tests assert on. Optionally
 * kept in a JSON file (tickets and changes; idempotency then rests on the
 * version comparison, which gives the same answer without the key record).
 */
export class CentralState {
  readonly tickets = new Map<string, StoredTicket>();
  readonly changes: ChangeRecord[] = [];
  stats = newStats();
  private readonly answers = new Map<string, Answer>();
  private readonly effects = new Map<string, number>();
  private readonly highest = new Map<string, number>();
  private readonly active = new Map<string, number>();
  private inFlight = 0;
  private nextId = 1;

  constructor(
    private readonly baseUrl: () => string,
    private readonly file?: string,
  ) {
    if (file && existsSync(file)) {
      const saved = JSON.parse(readFileSync(file, 'utf8')) as { tickets: StoredTicket[]; changes: ChangeRecord[]; nextId: number };
      for (const t of saved.tickets) this.tickets.set(String(t.ticket.id), t);
      this.changes.push(...saved.changes);
      this.nextId = saved.nextId;
    }
  }

  fault(kind: string): void {
    this.stats.faults[kind] = (this.stats.faults[kind] ?? 0) + 1;
  }

  /** Marks a PUT for `id` in flight; call the returned function when it is answered (or dropped). */
  begin(id: string, version: number): () => void {
    if (version < (this.highest.get(id) ?? 0)) this.stats.regressions++;
    this.highest.set(id, Math.max(version, this.highest.get(id) ?? 0));
    const n = (this.active.get(id) ?? 0) + 1;
    this.active.set(id, n);
    this.inFlight++;
    this.stats.maxInFlightPerTicket = Math.max(this.stats.maxInFlightPerTicket, n);
    this.stats.maxInFlight = Math.max(this.stats.maxInFlight, this.inFlight);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.inFlight--;
      const left = (this.active.get(id) ?? 1) - 1;
      if (left === 0) this.active.delete(id);
      else this.active.set(id, left);
    };
  }

  /**
   * Applies a PUT; `effective` says whether it changed what central holds. The stored ticket keeps
   * the whole history: the events of a delta are appended by index (an index held already is
   * ignored); a delta starting past the events held is a gap (409 CENTRAL_HISTORY_GAP with what
   * central holds), stored nowhere and not kept as the key's answer, so the resend with the same
   * key is taken.
   */
  put(id: string, version: number, key: string, body: TicketPut, now: number): Answer & { effective: boolean } {
    this.stats.puts++;
    const seen = this.answers.get(key);
    if (seen) {
      this.stats.replays++;
      return { ...seen, effective: false };
    }
    const stored = this.tickets.get(id);
    let answer: Answer;
    let effective = false;
    if (stored && stored.version > version) {
      this.stats.conflicts++;
      answer = { status: 409, body: { code: 'CENTRAL_HOLDS_NEWER', message: `central holds version ${stored.version} of ${id}`, ...this.ref(stored) } };
    } else if (stored && stored.version === version) {
      this.stats.same++;
      answer = { status: 200, body: this.ref(stored) };
    } else if (body.from > this.historyLength(stored)) {
      this.stats.gaps++;
      // `version` here is the events held (one per version), from where the gateway sends again (docs/contracts.md).
      const held = this.historyLength(stored);
      answer = {
        status: 409,
        body: {
          code: 'CENTRAL_HISTORY_GAP',
          message: `central holds ${held} history events of ${id}, the PUT starts at ${body.from}: send again from historyFrom ${held} or lower`,
          ...(stored ? this.ref(stored) : { id: '', url: null }),
          version: held,
          historyLength: held,
        },
      };
    } else {
      const history = [...((stored?.ticket.history as unknown[] | undefined) ?? [])];
      if (body.events !== null) {
        for (const [i, e] of body.events.entries()) {
          if (body.from + i < history.length) this.stats.repeatedEvents++;
          else history.push(e);
        }
      }
      const ticket = { ...body.ticket, history };
      const next: StoredTicket = { centralId: stored?.centralId ?? `C-${String(this.nextId++).padStart(6, '0')}`, version, ticket, updatedAt: now };
      this.tickets.set(id, next);
      effective = true;
      this.stats.effective++;
      const k = `${id}:${version}`;
      const n = (this.effects.get(k) ?? 0) + 1;
      this.effects.set(k, n);
      if (n === 2) this.stats.duplicates++;
      answer = { status: stored ? 200 : 201, body: this.ref(next) };
    }
    // A gap is not an effect: the same key comes again with the history from where central is.
    if ((answer.body as { code?: string }).code !== 'CENTRAL_HISTORY_GAP') this.answers.set(key, answer);
    return { ...answer, effective };
  }

  /** How many history events central holds of the ticket. */
  historyLength(t: StoredTicket | undefined): number {
    return Array.isArray(t?.ticket.history) ? t.ticket.history.length : 0;
  }

  /** A person's action at central (resolve, assign...): reported to the gateway as a change. */
  act(ticketId: string, action: string, by: string, fields: Record<string, unknown>, at: number): ChangeRecord {
    const change: ChangeRecord = { seq: (this.changes.at(-1)?.seq ?? 0) + 1, ticketId, action, by, at, fields };
    this.changes.push(change);
    return change;
  }

  /** Changes after cursor `since`; without one, none and the cursor of "now" (Sink.changes contract). */
  changesSince(since: string | undefined, limit: number): { changes: Omit<ChangeRecord, 'seq'>[]; cursor: string } {
    const last = this.changes.at(-1)?.seq ?? 0;
    if (since === undefined || since === '') return { changes: [], cursor: String(last) };
    const after = Number(since);
    const page = this.changes.filter((c) => c.seq > after).slice(0, limit);
    return { changes: page.map(({ seq: _seq, ...c }) => c), cursor: String(page.at(-1)?.seq ?? Math.max(after, 0)) };
  }

  ref(t: StoredTicket): { id: string; url: string; version: number } {
    return { id: t.centralId, url: `${this.baseUrl()}/tickets/${encodeURIComponent(String(t.ticket.id))}`, version: t.version };
  }

  /** Writes tickets and changes to the file (atomically), when there is one. */
  save(): void {
    if (!this.file) return;
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify({ tickets: [...this.tickets.values()], changes: this.changes, nextId: this.nextId }));
    renameSync(tmp, this.file);
  }
}
