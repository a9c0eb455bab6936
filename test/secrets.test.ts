import { Writable } from 'node:stream';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.ts';
import { startGateway } from '../gateway/main.ts';
import { next, tempDir } from './forward/kit.ts';
import { startReceiver, type Receiver } from './notify/receiver.ts';

/**
 * Secrets in forward and notify URLs (a robot key in the query, user:password
 * from a config made in code) never reach the log, the stored lastError or the
 * admin API, even when the receiver echoes the request line in its refusal and
 * the transport names the URL in its error. Real gateway, real HTTP peer on port 0.
 */

const INGEST = { authorization: 'Bearer ingest-token-0123456789', 'content-type': 'application/json' };
const ADMIN = { authorization: 'Bearer admin-token-01234567890' };
const SECRETS = ['FWD-SECRET-1', 'FWD-PASS-2', 'NOTIFY-KEY-3'];

const config = (dataDir: string, centralUrl: string, hookUrl: string) =>
  parseConfig(`
gateway:
  id: secrets
  dataDir: ${dataDir}
  http: { port: 0 }
  auth:
    tokens:
      - { name: mes, role: ingest, token: ingest-token-0123456789 }
      - { name: root, role: admin, token: admin-token-01234567890 }
sources: [ { id: mes-http, type: http } ]
rules:
  - { id: alarms, when: { tag: "**/alarm/**", equals: true }, fault: stop, priority: P1 }
routing:
  - { match: {}, assign: maintenance, notify: [hook] }
notify:
  hook: { type: webhook, format: wecom, url: "${hookUrl}" }
forward: { type: http, url: "${centralUrl}", syncInterval: 0s }
`);

/** Every log object the gateway writes, at debug level, with no redaction of its own: the sources must be clean. */
function logCapture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: pino({ level: 'debug' }, stream) };
}

const noSecretIn = (what: string, text: string) => {
  for (const s of SECRETS) expect(text, `${what} shows ${s}`).not.toContain(s);
};

describe('secrets in forward and notify URLs stay out of logs, stored errors and API answers', () => {
  let tmp: ReturnType<typeof tempDir>;
  let peer: Receiver;
  let gw: Awaited<ReturnType<typeof startGateway>> | undefined;
  beforeEach(async () => {
    tmp = tempDir('secrets');
    // Central and the robot both refuse, echoing the request line with its query (as many servers do).
    peer = await startReceiver({ answer: (r) => ({ status: r.path.startsWith('/central') ? 400 : 404, body: { message: `no route ${r.method} ${r.path}?${r.query}`, errmsg: `no route ${r.path}?${r.query}` } }) });
  });
  afterEach(async () => {
    await gw?.stop();
    gw = undefined;
    await peer.stop();
    tmp.remove();
  });

  const stored = () => {
    const db = new Database(tmp.file, { readonly: true });
    try {
      return JSON.stringify([db.prepare('SELECT last_error FROM outbox').all(), db.prepare('SELECT last_error FROM notifications').all(), db.prepare('SELECT * FROM meta').all()]);
    } finally {
      db.close();
    }
  };

  it('a key in the query: the refusals that echo it are parked, logged and listed without it', async () => {
    const { lines, logger } = logCapture();
    gw = await startGateway(config(tmp.dir, `${peer.url}/central?token=FWD-SECRET-1`, `${peer.url}/cgi-bin/webhook/send?key=NOTIFY-KEY-3`), { logger });
    const forwarded = next(gw.forwarding!.forwarder.deliveries$, (d) => d.outcome === 'poison');
    const notified = next(gw.notifying!.notifier.deliveries$, (d) => d.outcome === 'parked');
    const res = await fetch(`${gw.address}/api/v1/signals`, { method: 'POST', headers: INGEST, body: JSON.stringify({ tag: 'packaging/sealer-01/alarm/E21', value: true }) });
    expect(res.status).toBe(202);
    const [f, n] = await Promise.all([forwarded, notified]);
    // The peer did get the secrets (they are the robots' only way), and its answer echoed them.
    expect(peer.requests.map((r) => r.query.toString()).join(' ')).toContain('NOTIFY-KEY-3');
    expect(f.error).toMatch(/^central answered 400 to PUT .+: no route PUT \/central\?token=\*\*\*/);
    expect(n.error).toMatch(/^answered 404: .*\?key=\*\*\*/);

    const outbox = await (await fetch(`${gw.address}/api/v1/outbox?parked=true`, { headers: ADMIN })).text();
    const notifications = await (await fetch(`${gw.address}/api/v1/notifications?state=parked`, { headers: ADMIN })).text();
    expect(JSON.parse(outbox).items[0].lastError).toContain('token=***');
    expect(JSON.parse(notifications).items[0].lastError).toContain('key=***');
    noSecretIn('GET /api/v1/outbox', outbox);
    noSecretIn('GET /api/v1/notifications', notifications);
    await gw.stop();
    noSecretIn('the store', stored());
    noSecretIn('the log', JSON.stringify(lines));
    expect(lines.find((l) => l.msg === 'forwarding tickets to central')?.url).toBe(`${peer.url}/central?token=***`);
    expect(lines.find((l) => l.msg === 'notification channel')?.url).toBe(`${peer.url}/cgi-bin/webhook/send?key=***`);
  });

  it('user:password in a forward URL built in code (check-config refuses it): the transport names the URL, nobody else does', async () => {
    const { lines, logger } = logCapture();
    const c = config(tmp.dir, `${peer.url}/central`, `${peer.url}/hook`);
    c.forward!.url = peer.url.replace('http://', 'http://andon:FWD-PASS-2@');
    gw = await startGateway(c, { logger });
    const retried = next(gw.forwarding!.forwarder.deliveries$, (d) => d.outcome === 'retry');
    await fetch(`${gw.address}/api/v1/signals`, { method: 'POST', headers: INGEST, body: JSON.stringify({ tag: 'packaging/sealer-01/alarm/E21', value: true }) });
    const d = await retried;
    expect(d.error).toContain('includes credentials');
    const outbox = await (await fetch(`${gw.address}/api/v1/outbox`, { headers: ADMIN })).text();
    expect(JSON.parse(outbox).items[0].lastError).toContain('includes credentials');
    noSecretIn('GET /api/v1/outbox', outbox);
    await gw.stop();
    noSecretIn('the store', stored());
    noSecretIn('the log', JSON.stringify(lines));
  });
});
