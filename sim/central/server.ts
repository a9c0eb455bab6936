import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import type { CentralNatsOptions } from './nats.ts';
import { CentralState, type CentralStats, type ChangeRecord, type StoredTicket, type TicketPut } from './state.ts';

/**
 * Faults central can be told to produce, at runtime. Probabilities are 0..1 per request.
 * - `status5xx`: answer 503 without storing;
 * - `timeoutMs`: hold every request that long, then drop the connection without an answer;
 * - `slowMs`: hold every request that long, then handle it normally;
 * - `dropConnection`: drop the connection without storing or answering;
 * - `commitThenDrop`: store the PUT, then drop the connection: the answer is lost;
 * - `status429`: answer 429 with `Retry-After: retryAfterS`;
 * - `poison`: PUTs of these ticket ids are answered 422.
 */
export interface CentralFaults {
  status5xx?: number;
  timeoutMs?: number;
  slowMs?: number;
  dropConnection?: number;
  commitThenDrop?: number;
  status429?: { p: number; retryAfterS: number };
  poison?: string[];
}

export interface CentralOptions {
  port?: number;
  host?: string;
  /** Bearer token every request must carry (none: no check). */
  token?: string;
  faults?: CentralFaults;
  /** Keep tickets and changes in this JSON file across restarts. */
  file?: string;
  /** Random source for the fault dice (tests pass a seeded one). */
  random?: () => number;
  /** JetStream consumer mode: also (or only) take ticket versions from the stream (sim/central/nats.ts). */
  nats?: CentralNatsOptions;
}

export interface CentralEvents {
  /** Every request, when it arrives. */
  request: [{ method: string; route: string; id?: string }];
  /** Every effective write (a version newer than the stored one). */
  write: [{ id: string; version: number; ticket: Record<string, unknown> }];
}

const MAX_BODY = 8 * 1024 * 1024;

/**
 * The history part of a PUT body: `historyFrom` (index of the first event of `history`) and the events,
 * whose `index` must count up from it. Without `historyFrom` the body's `history` is the whole history
 * (the contract before deltas; its events get their index); without `history`, no events. A string says what is wrong.
 */
export function historyOf(body: Record<string, unknown>): TicketPut | string {
  const { history, historyFrom, ...ticket } = body;
  const from = historyFrom ?? 0;
  if (typeof from !== 'number' || !Number.isInteger(from) || from < 0) return 'historyFrom must be an integer >= 0';
  if (history === undefined) return { ticket, from, events: null };
  if (!Array.isArray(history)) return 'history must be an array of events';
  const events: Record<string, unknown>[] = [];
  for (const [i, e] of history.entries()) {
    if (e === null || typeof e !== 'object' || Array.isArray(e)) return `history[${i}] is not an event`;
    const { index, ...event } = e as Record<string, unknown>;
    if (historyFrom !== undefined && index !== from + i) return `history[${i}].index must be ${from + i} (historyFrom + its place), not ${JSON.stringify(index)}`;
    events.push({ ...event, index: from + i });
  }
  return { ticket, from, events };
}

/**
 * A reference central ticket system (docs/contracts.md, Central API) for tests, the demo and the
 * benches: `PUT /tickets/:id` with idempotency keys, `GET /tickets[/:id]`,
 * `GET /tickets/changes?since=`, `POST /tickets/:id/actions` (a person's
 * change at central), `GET /stats`, and faults switched at runtime.
 */
export async function startCentral(opts: CentralOptions = {}) {
  const host = opts.host ?? '127.0.0.1';
  const random = opts.random ?? Math.random;
  let faults: CentralFaults = { ...opts.faults };
  let url = '';
  const state = new CentralState(() => url, opts.file);
  const events = new EventEmitter<CentralEvents>();
  const sockets = new Set<Socket>();
  let saveTimer: NodeJS.Timeout | undefined;
  const scheduleSave = () => {
    if (!opts.file || saveTimer) return;
    saveTimer = setTimeout(() => {
      saveTimer = undefined;
      state.save();
    }, 200);
  };

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers }).end(text);
  };
  const drop = (req: IncomingMessage): void => void req.socket.destroy();
  const dice = (p: number | undefined) => p !== undefined && p > 0 && random() < p;

  async function readBody(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req as AsyncIterable<Buffer>) {
      size += c.length;
      if (size > MAX_BODY) throw Object.assign(new Error('body too large'), { status: 413 });
      chunks.push(c);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  async function put(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    const text = await readBody(req);
    const key = req.headers['idempotency-key'];
    let ticket: Record<string, unknown>;
    try {
      ticket = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return send(res, 400, { code: 'CENTRAL_BAD_JSON', message: 'the body is not JSON' });
    }
    const version = ticket.version;
    if (ticket.id !== id || typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
      return send(res, 422, { code: 'CENTRAL_BAD_TICKET', message: 'the body must be the ticket with this id and an integer version' });
    }
    if (key !== `${id}:${version}`) return send(res, 400, { code: 'CENTRAL_BAD_KEY', message: `Idempotency-Key must be "${id}:${version}"` });
    const delta = historyOf(ticket);
    if (typeof delta === 'string') return send(res, 422, { code: 'CENTRAL_BAD_HISTORY', message: delta });
    const done = state.begin(id, version);
    try {
      if (faults.timeoutMs) {
        state.fault('timeout');
        await delay(faults.timeoutMs);
        return drop(req);
      }
      if (faults.slowMs) await delay(faults.slowMs);
      if (req.socket.destroyed) return;
      if (dice(faults.dropConnection)) return (state.fault('drop'), drop(req));
      if (dice(faults.status5xx)) return (state.fault('5xx'), send(res, 503, { code: 'CENTRAL_UNAVAILABLE', message: 'injected 503' }));
      if (faults.status429 && dice(faults.status429.p)) {
        state.fault('429');
        return send(res, 429, { code: 'CENTRAL_RATE_LIMITED', message: 'injected 429' }, { 'retry-after': String(faults.status429.retryAfterS) });
      }
      if (faults.poison?.includes(id)) return (state.fault('poison'), send(res, 422, { code: 'CENTRAL_REFUSED', message: `ticket ${id} is refused (injected poison)` }));
      const answer = state.put(id, version, key, delta, Date.now());
      if (answer.effective) {
        scheduleSave();
        events.emit('write', { id, version, ticket: state.tickets.get(id)?.ticket ?? ticket });
      }
      if (dice(faults.commitThenDrop)) return (state.fault('commitThenDrop'), drop(req));
      send(res, answer.status, answer.body);
    } finally {
      done();
    }
  }

  const view = (t: StoredTicket) => ({ ...state.ref(t), ticket: t.ticket });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const u = new URL(req.url ?? '/', 'http://central');
    const parts = u.pathname.split('/').filter((p) => p !== '').map(decodeURIComponent);
    const method = req.method ?? 'GET';
    const route = parts[0] === 'tickets' ? (parts.length === 1 ? 'tickets' : parts[1] === 'changes' ? 'changes' : parts[2] === 'actions' ? 'actions' : 'ticket') : (parts[0] ?? '');
    state.stats.requests++;
    state.stats.byRoute[`${method} ${route}`] = (state.stats.byRoute[`${method} ${route}`] ?? 0) + 1;
    events.emit('request', { method, route, ...(parts[1] && route !== 'changes' ? { id: parts[1] } : {}) });
    if (opts.token && req.headers.authorization !== `Bearer ${opts.token}`) return send(res, 401, { code: 'CENTRAL_AUTH', message: 'bearer token required' });
    if (method === 'GET' && route === 'stats') return send(res, 200, state.stats);
    if (route === 'changes' && method === 'GET') {
      const limit = Math.min(Number(u.searchParams.get('limit') ?? 100) || 100, 1000);
      return send(res, 200, state.changesSince(u.searchParams.get('since') ?? undefined, limit));
    }
    if (route === 'tickets' && method === 'GET') {
      const items = [...state.tickets.values()].map(view);
      return send(res, 200, { items, total: items.length });
    }
    const id = parts[1] ?? '';
    if (route === 'ticket' && parts.length === 2 && method === 'PUT') return put(req, res, id);
    if (route === 'ticket' && parts.length === 2 && method === 'GET') {
      const t = state.tickets.get(id);
      return t ? send(res, 200, view(t)) : send(res, 404, { code: 'CENTRAL_NOT_FOUND', message: `no ticket ${id}` });
    }
    if (route === 'actions' && method === 'POST') {
      if (!state.tickets.has(id)) return send(res, 404, { code: 'CENTRAL_NOT_FOUND', message: `no ticket ${id}` });
      const body = JSON.parse((await readBody(req)) || '{}') as { action?: unknown; by?: unknown; fields?: Record<string, unknown> };
      if (typeof body.action !== 'string' || typeof body.by !== 'string') return send(res, 422, { code: 'CENTRAL_BAD_ACTION', message: 'needs action and by' });
      const change = state.act(id, body.action, body.by, body.fields ?? {}, Date.now());
      void intake?.publish(change).catch(() => undefined);
      scheduleSave();
      return send(res, 202, change);
    }
    send(res, 404, { code: 'CENTRAL_NO_ROUTE', message: `no route ${method} ${u.pathname}` });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: { status?: number; message?: string }) => {
      if (!res.headersSent && !req.socket.destroyed) send(res, err.status ?? 500, { code: 'CENTRAL_ERROR', message: err.message ?? 'error' });
    });
  });
  server.keepAliveTimeout = 30_000;
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  const close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      if (!server.listening) return resolve();
      server.close(() => resolve());
    });

  await listen(opts.port ?? 0);
  // Loaded only in consumer mode: the HTTP central never needs the NATS client.
  const intake = opts.nats
    ? await (await import('./nats.ts')).startNatsIntake(state, opts.nats, (body, key) => {
        const delta = historyOf(body);
        if (typeof delta === 'string') return delta;
        const id = body.id as string;
        const version = body.version as number;
        if (state.put(id, version, key, delta, Date.now()).effective) {
          scheduleSave();
          events.emit('write', { id, version, ticket: state.tickets.get(id)?.ticket ?? body });
        }
        return undefined;
      })
    : undefined;
  const port = (server.address() as AddressInfo).port;
  url = `http://${host}:${port}`;

  return {
    url,
    port,
    events,
    setFaults(f: CentralFaults): void {
      faults = { ...f };
    },
    stats(): CentralStats {
      return structuredClone(state.stats);
    },
    /** The stored ticket (newest version) per Andon id. */
    tickets(): Map<string, StoredTicket> {
      return state.tickets;
    },
    /** A person's change at central, as `POST /tickets/:id/actions` records it. */
    act(ticketId: string, action: string, by: string, fields: Record<string, unknown> = {}): ChangeRecord {
      const change = state.act(ticketId, action, by, fields, Date.now());
      void intake?.publish(change).catch(() => undefined);
      return change;
    },
    /** Central goes away: the port refuses connections until `resume()`. */
    pause: close,
    resume: () => listen(port),
    async stop(): Promise<void> {
      clearTimeout(saveTimer);
      await intake?.stop();
      await close();
      state.save();
    },
  };
}

export type Central = Awaited<ReturnType<typeof startCentral>>;
