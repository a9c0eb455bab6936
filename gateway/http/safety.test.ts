import { connect, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { bearer, testApp, TOKENS } from './fixture.ts';

/**
 * What the HTTP server does before anyone is authenticated, with real sockets
 * on 127.0.0.1: slow, stalled and idle connections are closed, connections
 * are capped, and a refused request's body is never read. Timeouts are short
 * through config, so nothing here waits long; each wait is on an event.
 */
let t: Awaited<ReturnType<typeof testApp>> | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await t?.close();
  t = undefined;
});

async function listen(http: string) {
  t = await testApp({ http });
  const port = Number(new URL(await t.app.listen({ host: '127.0.0.1', port: 0 })).port);
  return port;
}

/** A raw client: what it was sent back, and a promise of its socket's close. */
function client(port: number) {
  const socket = connect({ host: '127.0.0.1', port });
  sockets.push(socket);
  let received = '';
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => (received += d));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  const connected = new Promise<void>((resolve) => socket.on('connect', () => resolve()));
  return { socket, closed, connected, received: () => received };
}

/** Resolves when `p` does, rejects after `ms` naming `what`. */
const within = <T>(p: Promise<T>, ms: number, what: string) =>
  Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`not within ${ms} ms: ${what}`)), ms).unref())]);

const head = (path: string, headers: Record<string, string | number>) =>
  `POST ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}\r\n`;

describe('HTTP before auth', () => {
  it('a request that sends its headers and part of its body, then stalls, is closed after gateway.http.requestTimeout', async () => {
    const port = await listen('requestTimeout: 200ms');
    const c = client(port);
    c.socket.write(head('/api/v1/signals', { ...bearer(TOKENS.ingest), 'content-length': 400_000 }));
    c.socket.write(`[${'{"tag":"a/b/alarm","value":true},'.repeat(100)}`);
    await within(c.closed, 5_000, 'the stalled connection closed');
    expect(c.received()).toMatch(/^HTTP\/1.1 408/);
  });

  it('a request that trickles in a byte at a time is closed too (the timeout counts from its first byte, not the last)', async () => {
    const port = await listen('requestTimeout: 300ms');
    const c = client(port);
    c.socket.write(head('/api/v1/signals', { ...bearer(TOKENS.ingest), 'content-length': 100_000 }));
    const drip = setInterval(() => c.socket.writable && c.socket.write(' '), 20);
    try {
      await within(c.closed, 5_000, 'the trickling connection closed');
    } finally {
      clearInterval(drip);
    }
  });

  it('an idle keep-alive connection is closed after gateway.http.keepAliveTimeout', async () => {
    const port = await listen('keepAliveTimeout: 100ms');
    const c = client(port);
    c.socket.write('GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n');
    await within(c.closed, 5_000, 'the idle connection closed');
    expect(c.received()).toMatch(/^HTTP\/1.1 200/);
  });

  it('connections beyond gateway.http.maxConnections are closed as they arrive; the others are served', async () => {
    const port = await listen('maxConnections: 2');
    const a = client(port);
    const b = client(port);
    await Promise.all([a.connected, b.connected]);
    // Both are the server's: each gets an answer (and keeps its connection).
    for (const c of [a, b]) c.socket.write('GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n');
    await within(
      new Promise<void>((resolve) => {
        const check = () => (a.received().includes('"ok"') && b.received().includes('"ok"') ? resolve() : setTimeout(check, 5));
        check();
      }),
      5_000,
      'two answers',
    );
    const third = client(port);
    await within(third.closed, 5_000, 'the third connection closed');
    expect(third.received()).toBe('');
    a.socket.destroy();
    await a.closed;
    // A slot is free again.
    const fourth = client(port);
    fourth.socket.write('GET /healthz HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n');
    await within(fourth.closed, 5_000, 'the fourth answered');
    expect(fourth.received()).toMatch(/^HTTP\/1.1 200/);
  });

  it.each([
    { who: 'no token', auth: {}, status: 401, code: 'ANDON_AUTH_REQUIRED' },
    { who: 'an unknown token', auth: bearer('not-a-token-0123456789'), status: 401, code: 'ANDON_AUTH_REQUIRED' },
    { who: 'the wrong role', auth: bearer(TOKENS.operator), status: 403, code: 'ANDON_AUTH_FORBIDDEN' },
  ])('a POST with $who is answered $status before its body is read, and its connection closed', async ({ auth, status, code }) => {
    const port = await listen('requestTimeout: 30s');
    for (const length of [400_000, 50_000_000]) {
      // Under and far over the body limit: either way the body never arrives, and the answer is about the token.
      const c = client(port);
      c.socket.write(head('/api/v1/signals', { ...auth, 'content-length': length }));
      c.socket.write('[{"tag":"a/b/alarm",');
      await within(c.closed, 5_000, `the ${status} answer and close`);
      const [status_, body] = [c.received().slice(9, 12), c.received().slice(c.received().indexOf('\r\n\r\n') + 4)];
      expect(Number(status_)).toBe(status);
      expect(c.received().toLowerCase()).toContain('connection: close');
      expect(JSON.parse(body)).toMatchObject({ code });
    }
  });
});

describe('server errors in the gateway log', () => {
  it('a 500 is logged through the gateway logger with its request id, which the answer names; requests themselves are not logged', async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    });
    t = await testApp({ logger: pino({ level: 'info' }, sink) });
    expect((await t.app.inject({ url: '/api/v1/tickets' })).statusCode).toBe(200);
    expect(lines).toEqual([]); // no line per request

    await t.store.close(); // a real fault: the database is gone under the API
    const res = await t.app.inject({ url: '/api/v1/tickets' });
    expect(res.statusCode).toBe(500);
    const answer = res.json() as { code: string; message: string; requestId: string };
    expect(answer).toEqual({ code: 'ANDON_INTERNAL', message: 'internal error; see the gateway log', requestId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 50,
      reqId: answer.requestId,
      component: 'http',
      code: 'ANDON_INTERNAL',
      method: 'GET',
      url: '/api/v1/tickets',
      err: { message: expect.stringMatching(/database|open/i) },
    });
  });
});
