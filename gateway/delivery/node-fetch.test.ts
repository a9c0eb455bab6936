import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_ANSWER_BYTES, nodeFetch } from './node-fetch.ts';
import { timedFetch, Unanswered } from './timed-fetch.ts';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
  socket: unknown;
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

/** A real server on 127.0.0.1:0 that records each request and answers with `answer`. */
async function serve(answer: (req: Seen, res: ServerResponse) => void): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      const s = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, socket: req.socket };
      seen.push(s);
      answer(s, res);
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

describe('nodeFetch', () => {
  it('sends the method, headers and body, and answers status, headers and text over one kept-alive connection', async () => {
    const { url, seen } = await serve((_, res) => {
      res.writeHead(429, { 'retry-after': '7', 'content-type': 'application/json' });
      res.end('{"message":"slow down"}');
    });
    for (let i = 0; i < 2; i++) {
      const res = await nodeFetch(`${url}/tickets/T%201`, { method: 'PUT', headers: { authorization: 'Bearer x', 'idempotency-key': 'T 1:3' }, body: '{"a":"é"}' });
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('7');
      expect(await res.json()).toEqual({ message: 'slow down' });
    }
    expect(seen.map((s) => [s.method, s.url, s.headers.authorization, s.headers['idempotency-key'], s.headers['content-length'], s.body])).toEqual([
      ['PUT', '/tickets/T%201', 'Bearer x', 'T 1:3', '10', '{"a":"é"}'],
      ['PUT', '/tickets/T%201', 'Bearer x', 'T 1:3', '10', '{"a":"é"}'],
    ]);
    expect(seen[0]!.socket).toBe(seen[1]!.socket);
  });

  it('answers 204 without a body', async () => {
    const { url } = await serve((_, res) => res.writeHead(204).end());
    const res = await nodeFetch(url, { method: 'POST', body: '{}' });
    expect([res.status, await res.text()]).toEqual([204, '']);
  });

  it('rejects a refused connection as fetch does, which timedFetch reports as unanswered with its code', async () => {
    const { url } = await serve(() => undefined);
    const port = new URL(url).port;
    for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
    const err = await nodeFetch(url).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TypeError);
    expect((err as { cause?: { code?: string } }).cause?.code).toBe('ECONNREFUSED');
    const un = await timedFetch(nodeFetch, `http://127.0.0.1:${port}/x`, { method: 'GET' }, 1000, new AbortController().signal).catch((e: unknown) => e);
    expect(un).toBeInstanceOf(Unanswered);
    expect((un as Error).message).toBe('ECONNREFUSED');
  });

  it('stops a request that gets no answer: a timeout is unanswered, an abort rejects with its reason', async () => {
    const { url, seen } = await serve(() => undefined); // never answers
    const un = await timedFetch(nodeFetch, url, { method: 'PUT', body: 'x' }, 50, new AbortController().signal).catch((e: unknown) => e);
    expect(un).toBeInstanceOf(Unanswered);
    expect((un as Error).message).toBe('no answer within 50 ms');
    const ac = new AbortController();
    const pending = nodeFetch(url, { signal: ac.signal }).catch((e: unknown) => e);
    await expect.poll(() => seen.length).toBe(2);
    const reason = new Error('stopping');
    ac.abort(reason);
    expect(await pending).toBe(reason);
    ac.abort();
    expect(await nodeFetch(url, { signal: ac.signal }).catch((e: unknown) => e)).toBe(reason);
  });

  it('follows redirects as fetch does: 307 keeps method and body, 303 becomes a GET, another origin gets no authorization', async () => {
    const other = await serve((_, res) => res.end('other'));
    const { url, seen } = await serve((s, res) => {
      if (s.url === '/a') res.writeHead(307, { location: '/b' }).end();
      else if (s.url === '/b') res.writeHead(303, { location: `${other.url}/c` }).end();
      else res.end('never');
    });
    const res = await nodeFetch(`${url}/a`, { method: 'PUT', headers: { Authorization: 'Bearer x', 'content-type': 'application/json' }, body: '{"v":1}' });
    expect([res.status, await res.text()]).toEqual([200, 'other']);
    expect(seen.map((s) => [s.url, s.method, s.body, s.headers.authorization])).toEqual([
      ['/a', 'PUT', '{"v":1}', 'Bearer x'],
      ['/b', 'PUT', '{"v":1}', 'Bearer x'],
    ]);
    expect(other.seen.map((s) => [s.url, s.method, s.body, s.headers.authorization, s.headers['content-type']])).toEqual([['/c', 'GET', '', undefined, undefined]]);
  });

  it('cuts off an answer larger than MAX_ANSWER_BYTES as a failed request, which timedFetch reports as unanswered', async () => {
    const chunk = Buffer.alloc(1024 * 1024, 'x');
    const { url } = await serve((_, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const write = (left: number): void => {
        if (left <= 0 || res.destroyed) return void res.end();
        if (res.write(chunk)) write(left - chunk.length);
        else res.once('drain', () => write(left - chunk.length));
      };
      write(MAX_ANSWER_BYTES + 2 * chunk.length);
    });
    const un = await timedFetch(nodeFetch, url, { method: 'GET' }, 10_000, new AbortController().signal).catch((e: unknown) => e);
    expect(un).toBeInstanceOf(Unanswered);
    expect((un as Error).message).toMatch(/answer larger than/);
  });

  it('refuses what it does not implement instead of sending something else', async () => {
    await expect(nodeFetch('http://127.0.0.1:1/', { headers: new Headers({ a: 'b' }) })).rejects.toThrow(/plain record/);
    await expect(nodeFetch('http://127.0.0.1:1/', { method: 'POST', body: new Uint8Array(1) })).rejects.toThrow(/string/);
    await expect(nodeFetch('ftp://127.0.0.1/')).rejects.toThrow(TypeError);
    // as fetch: credentials in the URL are refused, not sent as Basic auth
    await expect(nodeFetch('http://andon:secret@127.0.0.1:1/')).rejects.toThrow(/includes credentials/);
  });
});
