import type BetterSqlite3 from 'better-sqlite3';
import { iso, type KnowledgeEntry, type TicketDoc, type TicketState } from '../../model/ticket.ts';

type Db = BetterSqlite3.Database;
type Row = Record<string, unknown>;

/** What a knowledge search asks (GET /api/v1/knowledge). */
export interface KnowledgeQuery {
  /** Words to find; each must occur (in any indexed field). Empty: every entry. */
  q?: string;
  label?: string;
  asset?: string;
  fault?: string;
  limit: number;
  offset: number;
}

/** One hit of a knowledge search. */
export interface KnowledgeHit {
  id: string;
  title: string;
  asset: string | null;
  fault: string;
  state: TicketState;
  resolvedAt: string | null;
  resolution: string | null;
  rootCause: string | null;
  knowledge: KnowledgeEntry | null;
  /** The field the snippet comes from (`solution`, `symptom`, ..., `title`), null without a query. */
  field: string | null;
  /** Up to ~80 characters around the first match (the start of the solution or resolution without a query). */
  snippet: string;
  /** Full-text relevance (higher is better; bm25), null when the query had only 1-2 character words (LIKE). */
  score: number | null;
}

/** The indexed text fields, in the index's column order, with the name the API gives them. */
const FIELDS = [
  ['title', 'title'],
  ['resolution', 'resolution'],
  ['root_cause', 'rootCause'],
  ['symptom', 'symptom'],
  ['diagnosis', 'diagnosis'],
  ['solution', 'solution'],
  ['labels', 'labels'],
] as const;
/** Where a snippet is taken from first: the entry, then the resolution, then the rest. */
const SNIPPET_ORDER = ['solution', 'symptom', 'diagnosis', 'resolution', 'root_cause', 'title', 'labels'] as const;
/** The trigram tokenizer indexes three characters: shorter words are matched with LIKE (a scan of the index's rows). */
const TRIGRAM = 3;
const MAX_TERMS = 8;

const searchable = (s: TicketState | undefined) => s === 'resolved' || s === 'closed';
const textOf = (doc: TicketDoc) => ({
  title: doc.title,
  resolution: doc.resolution,
  root_cause: doc.rootCause,
  symptom: doc.knowledge?.symptom ?? null,
  diagnosis: doc.knowledge?.diagnosis ?? null,
  solution: doc.knowledge?.solution ?? null,
  labels: doc.knowledge?.labels.join(' ') ?? null,
});

/** The words of a query: split at white space, at most MAX_TERMS, each at most 100 characters. */
export const queryTerms = (q: string | undefined): string[] =>
  [...new Set((q ?? '').trim().split(/\s+/).filter((w) => w !== ''))].slice(0, MAX_TERMS).map((w) => w.slice(0, 100));

const like = (w: string) => `%${w.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
/** An FTS5 string (a phrase): the word as it is, its quotes doubled, so no query syntax reaches FTS5. */
const phrase = (w: string) => `"${w.replace(/"/g, '""')}"`;

/** ~80 characters of `text` around `at` (the match), with … where it was cut. */
function around(text: string, at: number, len: number): string {
  const start = Math.max(0, at - 30);
  const end = Math.min(text.length, at + len + 50);
  return `${start > 0 ? '…' : ''}${text.slice(start, end)}${end < text.length ? '…' : ''}`;
}

/**
 * The knowledge index (contracts §Knowledge base): every resolved or closed
 * ticket's title, resolution and root cause, and its knowledge entry's fields
 * and labels, in an FTS5 table with the trigram tokenizer (Chinese without
 * spaces and English words alike). Written by the store's `save`, in the
 * ticket change's transaction; the store is its only writer.
 */
export class KnowledgeIndex {
  private readonly s;
  private readonly queries = new Map<string, BetterSqlite3.Statement>();

  constructor(private readonly db: Db) {
    this.s = {
      docN: db.prepare('SELECT n FROM knowledge_docs WHERE ticket_id = ?').pluck(),
      insertDoc: db.prepare('INSERT INTO knowledge_docs (ticket_id, asset, fault, resolved_at, has_entry) VALUES (?, ?, ?, ?, ?)'),
      updateDoc: db.prepare('UPDATE knowledge_docs SET asset = ?, fault = ?, resolved_at = ?, has_entry = ? WHERE n = ?'),
      deleteDoc: db.prepare('DELETE FROM knowledge_docs WHERE n = ?'),
      insertText: db.prepare(
        'INSERT INTO knowledge_fts (rowid, title, resolution, root_cause, symptom, diagnosis, solution, labels) VALUES (@n, @title, @resolution, @root_cause, @symptom, @diagnosis, @solution, @labels)',
      ),
      deleteText: db.prepare('DELETE FROM knowledge_fts WHERE rowid = ?'),
      deleteLabels: db.prepare('DELETE FROM knowledge_labels WHERE ticket_id = ?'),
      insertLabel: db.prepare('INSERT OR IGNORE INTO knowledge_labels (label, ticket_id) VALUES (?, ?)'),
      byLabels: db.prepare(
        `SELECT t.doc, t.id, t.member_count, COUNT(*) AS shared FROM knowledge_labels l JOIN tickets t ON t.id = l.ticket_id
          WHERE l.label IN (SELECT value FROM json_each(?)) AND t.state IN ('resolved', 'closed')
          GROUP BY t.id ORDER BY shared DESC, t.updated_at DESC LIMIT ?`,
      ),
    };
  }

  /**
   * Keeps the index in step with a ticket change (called by the store's save, in its transaction): a resolved
   * or closed ticket is (re)indexed when its texts changed, one that left those states (reopened) is removed.
   */
  onSave(doc: TicketDoc, previous: TicketDoc | null | undefined): void {
    // a new ticket (previous null) was never indexed; previous undefined: not known, so look
    const was = previous ? searchable(previous.state) : previous === null ? false : undefined;
    if (!searchable(doc.state)) {
      if (was !== false) this.remove(doc.id);
      return;
    }
    if (was === true && previous && previous.title === doc.title && previous.resolution === doc.resolution && previous.rootCause === doc.rootCause && previous.knowledge === doc.knowledge) return;
    const resolvedAt = doc.resolvedAt === null ? null : Date.parse(doc.resolvedAt);
    const hasEntry = doc.knowledge ? 1 : 0;
    let n = this.s.docN.get(doc.id) as number | undefined;
    if (n === undefined) n = Number(this.s.insertDoc.run(doc.id, doc.asset, doc.fault, resolvedAt, hasEntry).lastInsertRowid);
    else {
      this.s.updateDoc.run(doc.asset, doc.fault, resolvedAt, hasEntry, n);
      this.s.deleteText.run(n);
    }
    this.s.insertText.run({ n, ...textOf(doc) });
    this.s.deleteLabels.run(doc.id);
    for (const label of doc.knowledge?.labels ?? []) this.s.insertLabel.run(label, doc.id);
  }

  private remove(id: string): void {
    const n = this.s.docN.get(id) as number | undefined;
    if (n === undefined) return;
    this.s.deleteText.run(n);
    this.s.deleteDoc.run(n);
    this.s.deleteLabels.run(id);
  }

  /** Resolved or closed tickets whose entry shares one of `labels`, most shared labels first, then newest (rows of `tickets`). */
  byLabels(labels: readonly string[], limit: number): Row[] {
    return this.s.byLabels.all(JSON.stringify(labels), limit) as Row[];
  }

  /**
   * Searches the index: every word of `q` must occur. Words of three characters or more go to FTS5 (ranked by
   * bm25); shorter ones (稳压 is two) are matched with LIKE, since the trigram index cannot hold them. Without a
   * word that FTS5 can rank, the newest resolve comes first; entries with a structured entry come before others
   * of the same rank.
   */
  search(query: KnowledgeQuery): { items: KnowledgeHit[]; total: number } {
    const terms = queryTerms(query.q);
    const long = terms.filter((w) => [...w].length >= TRIGRAM);
    const short = terms.filter((w) => [...w].length < TRIGRAM);
    const where: string[] = [];
    const args: unknown[] = [];
    if (long.length > 0) {
      where.push('knowledge_fts MATCH ?');
      args.push(long.map(phrase).join(' AND '));
    }
    for (const w of short) {
      where.push(`(${FIELDS.map(([col]) => `f.${col} LIKE ? ESCAPE '\\'`).join(' OR ')})`);
      args.push(...FIELDS.map(() => like(w)));
    }
    if (query.asset !== undefined) {
      where.push('d.asset = ?');
      args.push(query.asset);
    }
    if (query.fault !== undefined) {
      where.push('d.fault = ?');
      args.push(query.fault);
    }
    if (query.label !== undefined) {
      where.push('EXISTS (SELECT 1 FROM knowledge_labels l WHERE l.ticket_id = d.ticket_id AND l.label = ?)');
      args.push(query.label);
    }
    const from = 'FROM knowledge_fts f JOIN knowledge_docs d ON d.n = f.rowid JOIN tickets t ON t.id = d.ticket_id';
    const clause = where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '';
    const total = (this.prepared(`SELECT COUNT(*) AS n ${from}${clause}`).get(...args) as { n: number }).n;
    const rank = long.length > 0 ? 'bm25(knowledge_fts)' : 'NULL';
    const order = long.length > 0 ? 'ORDER BY score, d.has_entry DESC, d.resolved_at DESC, d.n DESC' : 'ORDER BY d.has_entry DESC, d.resolved_at DESC, d.n DESC';
    const rows = this.prepared(
      `SELECT d.ticket_id AS id, d.asset, d.fault, t.state, d.resolved_at AS resolvedAt, json_extract(t.doc, '$.knowledge') AS knowledge,
              f.title, f.resolution, f.root_cause, f.symptom, f.diagnosis, f.solution, f.labels, ${rank} AS score
         ${from}${clause} ${order} LIMIT ? OFFSET ?`,
    ).all(...args, query.limit, query.offset) as Row[];
    return { items: rows.map((r) => this.hit(r, terms)), total };
  }

  private hit(r: Row, terms: string[]): KnowledgeHit {
    let field: string | null = null;
    let snippet = '';
    for (const col of SNIPPET_ORDER) {
      const text = r[col];
      if (typeof text !== 'string' || text === '') continue;
      if (terms.length === 0) {
        field = FIELDS.find(([c]) => c === col)?.[1] ?? col;
        snippet = around(text, 0, 0);
        break;
      }
      const lower = text.toLowerCase();
      const at = terms.map((w) => lower.indexOf(w.toLowerCase())).find((i) => i >= 0);
      if (at === undefined) continue;
      field = FIELDS.find(([c]) => c === col)?.[1] ?? col;
      snippet = around(text, at, terms.find((w) => lower.indexOf(w.toLowerCase()) === at)?.length ?? 0);
      break;
    }
    return {
      id: r.id as string,
      title: r.title as string,
      asset: r.asset as string | null,
      fault: r.fault as string,
      state: r.state as TicketState,
      resolvedAt: typeof r.resolvedAt === 'number' ? iso(r.resolvedAt) : null,
      resolution: r.resolution as string | null,
      rootCause: r.root_cause as string | null,
      knowledge: typeof r.knowledge === 'string' ? (JSON.parse(r.knowledge) as KnowledgeEntry) : null,
      field,
      snippet,
      score: typeof r.score === 'number' ? -r.score : null,
    };
  }

  /** The search statements, prepared once per shape (a closed set of clauses; values are bound). */
  private prepared(sql: string): BetterSqlite3.Statement {
    let stmt = this.queries.get(sql);
    if (!stmt) {
      if (this.queries.size >= 128) this.queries.clear();
      this.queries.set(sql, (stmt = this.db.prepare(sql)));
    }
    return stmt;
  }
}
