import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { transition } from '../../gateway/tickets/lifecycle.ts';
import { ForwardError, type CentralRef, type Sink } from '../../gateway/forward/sink.ts';
import type { HistoryEvent, Ticket } from '../../model/ticket.ts';
import { ticketDoc, ticketOf } from '../ticket-fixture.ts';

/** The RT test peer: scripts, env file, a REST helper acting as a person in RT, and Andon tickets. */

const run = promisify(execFile);
export const HERE = dirname(fileURLToPath(import.meta.url));
export const RT_DIR = process.env.RT_DIR ?? '/var/tmp/andon-rt';
export const ENV_FILE = process.env.RT_ENV_FILE ?? join(RT_DIR, 'rt.env');
export const SETUP = join(HERE, 'setup-rt.sh');

export interface RtEnv {
  RT_URL: string;
  RT_TOKEN: string;
  RT_OPERATOR_TOKEN: string;
  RT_QUEUE: string;
}

const readEnv = (): Partial<RtEnv> => {
  try {
    return Object.fromEntries(
      readFileSync(ENV_FILE, 'utf8')
        .split('\n')
        .filter((l) => l.includes('='))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
  } catch {
    return {};
  }
};

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

/** Starts RT (or reuses the one start-rt.sh already runs) and says whether this call started it. */
export async function startRt(port?: number): Promise<{ env: RtEnv; port: number; started: boolean }> {
  const start = async (p: number) => {
    const { stdout } = await run('bash', [join(HERE, 'start-rt.sh'), String(p)], { timeout: 90_000 });
    return { env: readEnv() as RtEnv, port: p, started: !stdout.includes('already running') };
  };
  if (port !== undefined) return start(port);
  // The port of the last run first (start-rt.sh reuses a server running there), else any free one.
  const previous = readEnv().RT_URL;
  if (previous !== undefined) {
    const reused = await start(Number(new URL(previous).port)).catch(() => null);
    if (reused !== null) return reused;
  }
  return start(await freePort());
}

export const stopRt = () => run('bash', [join(HERE, 'stop-rt.sh')], { timeout: 30_000 });

/** REST 2 as the RT operator (a person), for arranging and checking what RT holds. */
export function operator(env: RtEnv) {
  const call = async <T>(method: string, path: string, body?: unknown, query: Record<string, string> = {}): Promise<T> => {
    const url = new URL(`${env.RT_URL}/REST/2.0/${path}`);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    const res = await fetch(url, {
      method,
      headers: { Authorization: `token ${env.RT_OPERATOR_TOKEN}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return JSON.parse(text) as T;
  };
  const cf = (t: { CustomFields: { name: string; values: string[] }[] }, name: string) => t.CustomFields.find((c) => c.name === name)?.values[0];
  return {
    call,
    /** RT tickets carrying this Andon id. */
    async byAndonId(id: string) {
      const page = await call<{ items: { id: string }[] }>('GET', 'tickets', undefined, { query: `'CF.{AndonId}' = '${id}'`, fields: 'id' });
      return page.items.map((i) => Number(i.id));
    },
    async ticket(rtId: number) {
      const t = await call<{ Status: string; Priority: string; Due: string; Subject: string; Owner: { id: string }; CustomFields: { name: string; values: string[] }[] }>('GET', `ticket/${rtId}`);
      return { ...t, cf: (name: string) => cf(t, name) };
    },
    /** Subjects and creators of the ticket's comments, oldest first. */
    async comments(rtId: number) {
      const page = await call<{ items: { Data: string; Creator: { id: string } }[] }>(
        'POST',
        'transactions',
        [
          { field: 'ObjectType', value: 'RT::Ticket' },
          { field: 'ObjectId', value: rtId },
          { field: 'Type', value: 'Comment' },
        ],
        { orderby: 'id', order: 'ASC', per_page: '100', fields: 'Data,Creator' },
      );
      return page.items.map((i) => i.Data.trim());
    },
    /** The text of the ticket's last transaction of `type` (its last comment, or its create). */
    async commentText(rtId: number, type: 'Comment' | 'Create' = 'Comment') {
      const txns = await call<{ items: { id: string }[] }>(
        'POST',
        'transactions',
        [
          { field: 'ObjectType', value: 'RT::Ticket' },
          { field: 'ObjectId', value: rtId },
          { field: 'Type', value: type },
        ],
        { orderby: 'id', order: 'DESC', per_page: '1', fields: 'id' },
      );
      const id = Number(txns.items[0]?.id);
      const parts = await call<{ items: { Content?: string }[] }>('POST', 'attachments', [{ field: 'TransactionId', value: id }], { fields: 'Content' });
      return parts.items.map((p) => p.Content ?? '').join('\n');
    },
  };
}

let seq = 0;
const OPENED = '2026-01-20T07:18:00.000Z';

/** A fresh Andon ticket (contracts §Ticket JSON) with an id no earlier run used: the shared fixture, as a P2 with no channels. */
export function andonTicket(overrides: Partial<Ticket> = {}): Ticket {
  const id = `01RT${process.pid.toString(36).toUpperCase()}${(seq++).toString(36).toUpperCase()}${Math.random().toString(36).slice(2, 10).toUpperCase()}`;
  const doc = ticketDoc({
    id,
    priority: 'P2',
    openedAt: OPENED,
    updatedAt: OPENED,
    respondBy: '2026-01-20T11:18:00.000Z',
    resolveBy: '2026-01-23T07:18:00.000Z',
    firstSeen: OPENED,
    lastSeen: OPENED,
    notify: [],
    evidence: [{ tag: 'packaging/sealer-01/alarm/E21', value: true, ts: OPENED, message: 'seal jaw fault' }],
  });
  return { ...ticketOf(doc), ...overrides };
}

/** The next version after a lifecycle action, as the store would write it. */
export function after(t: Ticket, action: string, by: string, fields: Record<string, unknown> = {}, at = Date.parse(t.updatedAt) + 60_000): Ticket {
  const { history, ...doc } = t;
  const { ticket, event } = transition(doc, action, by, at, fields);
  return { ...ticket, version: t.version + 1, updatedAt: event.at, history: [...history, event] };
}

/** The next version with field changes and a system event (occurrence, escalated, ...). */
export function changed(t: Ticket, patch: Partial<Ticket>, event: { action: string; by?: string; [k: string]: unknown }): Ticket {
  const at = new Date(Date.parse(t.updatedAt) + 60_000).toISOString();
  return { ...t, ...patch, version: t.version + 1, updatedAt: at, history: [...t.history, { by: 'andon', ...event, at }] };
}

/**
 * The forwarder's side of RT puts, shared by every sink of a test file as the store is shared by the
 * gateway's restarts: `wrap(sink).put(ticket)` sends what the forwarder would, the ticket with the
 * events after those RT acknowledged (`historyFrom`, the store's `central.syncedVersion`), and
 * `history` is the store's whole history (`RtSinkDeps.history`: the newest version's).
 */
export function forwarding() {
  /** Events RT acknowledged per Andon id (by the last ok or conflict answer). */
  const acked = new Map<string, number>();
  const newest = new Map<string, Ticket>();
  const history = (id: string): HistoryEvent[] => newest.get(id)?.history ?? [];
  return {
    acked,
    history,
    wrap(sink: Sink) {
      return {
        ...sink,
        async put(t: Ticket, signal: AbortSignal): Promise<CentralRef> {
          if ((newest.get(t.id)?.version ?? 0) < t.version) newest.set(t.id, t);
          const from = Math.min(acked.get(t.id) ?? 0, t.history.length);
          try {
            const ref = await sink.put({ ...t, history: t.history.slice(from).map((e, i) => ({ ...e, index: from + i })), historyFrom: from }, signal);
            acked.set(t.id, t.history.length);
            return ref;
          } catch (err) {
            if (err instanceof ForwardError && err.kind === 'conflict') acked.set(t.id, t.history.length);
            throw err;
          }
        },
      };
    },
  };
}
