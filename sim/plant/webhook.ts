import { createServer, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';

/** One notification the receiver got. */
export interface Received {
  channel: string;
  body: unknown;
  /** One line for the demo's console: the message's first line of text. */
  summary: string;
}

/** The first line of text a webhook body carries (WeCom/DingTalk markdown or text, Slack/Teams text, or JSON). */
export function summarize(body: unknown): string {
  const b = (body ?? {}) as Record<string, unknown>;
  const pick = (o: unknown, k: string) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined);
  const candidates = [
    pick(b.notification, 'headline'),
    pick(b.markdown, 'content'),
    pick(b.markdown, 'text'),
    pick(b.text, 'content'),
    b.text,
    b.summary,
    b.title,
  ];
  const text = candidates.find((x) => typeof x === 'string' && x !== '') as string | undefined;
  const line = (text ?? JSON.stringify(body)).split('\n').find((l) => l.trim() !== '') ?? '';
  return line
    .replace(/<[^>]*>/g, '')
    .replace(/[#*>`]/g, '')
    .trim()
    .slice(0, 160);
}

const readBody = async (req: IncomingMessage): Promise<string> => {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > 1_048_576) throw new Error('body too large');
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
};

/**
 * Stands in for WeCom / DingTalk / Slack: an HTTP server on 127.0.0.1 that
 * takes `POST /hook/<channel>`, answers like WeCom (`{"errcode":0}`) and
 * hands each message to `onMessage` (the demo prints it).
 */
export async function startWebhookReceiver(opts: { port: number; onMessage: (m: Received) => void }) {
  const received: Received[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const channel = /^\/hook\/([^/?]+)/.exec(req.url ?? '')?.[1];
    if (req.method !== 'POST' || !channel) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"errcode":404,"errmsg":"POST /hook/<channel>"}');
      return;
    }
    readBody(req)
      .then((text) => {
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // not JSON: keep the text
        }
        const m = { channel: decodeURIComponent(channel), body, summary: summarize(body) };
        received.push(m);
        opts.onMessage(m);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"errcode":0,"errmsg":"ok"}');
      })
      .catch(() => res.writeHead(413).end());
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(opts.port, '127.0.0.1', () => resolve()));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    received,
    async stop(): Promise<void> {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export type WebhookReceiver = Awaited<ReturnType<typeof startWebhookReceiver>>;
