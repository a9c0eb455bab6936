import { EventEmitter } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the receiver got. */
export interface Received {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: unknown;
  /** The status it was answered with (null: held or the connection destroyed). */
  status: number | null;
}

/** How to answer a request: a status (and body, headers), `hold` (never answer) or `destroy` (reset the connection). */
export type Answer = { status: number; body?: unknown; headers?: Record<string, string> } | 'hold' | 'destroy';

/**
 * A real webhook receiver on 127.0.0.1 (port 0, or a given port to come back
 * on the same address): records every request and answers as `answer` says
 * (default 200 `{"errcode":0,"errmsg":"ok"}`, as a WeCom robot does). Tests wait
 * on its `request` events, never on time.
 */
export interface Receiver {
  url: string;
  port: number;
  requests: Received[];
  /** Requests answered 2xx. */
  delivered(): Received[];
  answer: (r: Received, n: number) => Answer;
  events: EventEmitter;
  /** Resolves when `check()` holds, looking again on every request; rejects after `ms`. */
  until(check: () => boolean, ms?: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startReceiver(opts: { port?: number; answer?: Receiver['answer'] } = {}): Promise<Receiver> {
  const events = new EventEmitter();
  const held = new Set<ServerResponse>();
  const r: Receiver = {
    url: '',
    port: 0,
    requests: [],
    delivered: () => r.requests.filter((x) => x.status !== null && x.status >= 200 && x.status < 300),
    answer: opts.answer ?? (() => ({ status: 200, body: { errcode: 0, errmsg: 'ok' } })),
    events,
    until: (check, ms = 10_000) =>
      new Promise<void>((resolve, reject) => {
        const look = () => {
          if (!check()) return;
          done();
          resolve();
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`receiver: condition not met within ${ms} ms (${r.requests.length} requests so far)`));
        }, ms);
        const done = () => {
          clearTimeout(timer);
          events.off('request', look);
        };
        events.on('request', look);
        look();
      }),
    stop: async () => {
      for (const res of held) res.destroy();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON: keep the text
      }
      const u = new URL(req.url ?? '/', 'http://x');
      const rec: Received = { method: req.method ?? '', path: u.pathname, query: u.searchParams, headers: req.headers, body, status: null };
      const a = r.answer(rec, r.requests.length);
      r.requests.push(rec);
      if (a === 'hold') {
        held.add(res);
      } else if (a === 'destroy') {
        req.socket.destroy();
      } else {
        rec.status = a.status;
        res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers });
        res.end(a.body === undefined ? '' : typeof a.body === 'string' ? a.body : JSON.stringify(a.body));
      }
      events.emit('request', rec);
    });
  });
  server.keepAliveTimeout = 500;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  r.port = (server.address() as AddressInfo).port;
  r.url = `http://127.0.0.1:${r.port}`;
  return r;
}
