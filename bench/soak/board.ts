/**
 * Alarm board clients: real HTTP readers of GET /api/v1/events that keep
 * nothing but counters (test/sse.ts keeps every event, too much for an hour).
 * A client that is cut off reconnects with Last-Event-ID, as EventSource does.
 * The probe client also hands each event's data to `onData` (signal→ticket).
 */
import { get, type ClientRequest, type IncomingMessage } from 'node:http';

export class BoardClient {
  events = 0;
  bytes = 0;
  /** Streams that ended while we still wanted them (cut off by the gateway, or the gateway gone). */
  cuts = 0;
  /** Event ids that were not above the one before (must stay 0). */
  outOfOrder = 0;
  /** `event: reset` (too far behind to resume: reload). */
  resets = 0;
  failedConnects = 0;
  connected = false;
  lastId: number | null = null;
  private req: ClientRequest | null = null;
  private stopped = false;
  private buf = '';
  private event = 'message';
  private data: string[] = [];
  private id: number | null = null;

  constructor(
    private readonly url: string,
    private readonly token: string,
    private readonly onData?: (data: string, at: number) => void,
  ) {}

  start(): void {
    if (this.stopped) return;
    const headers: Record<string, string> = { accept: 'text/event-stream', authorization: `Bearer ${this.token}` };
    if (this.lastId !== null) headers['last-event-id'] = String(this.lastId);
    this.req = get(this.url, { headers }, (res) => this.read(res));
    this.req.on('error', () => this.retry(false));
  }

  stop(): void {
    this.stopped = true;
    this.req?.destroy();
  }

  private retry(wasConnected: boolean): void {
    this.connected = false;
    this.req = null;
    if (this.stopped) return;
    if (wasConnected) this.cuts++;
    else this.failedConnects++;
    setTimeout(() => this.start(), 1000).unref();
  }

  private read(res: IncomingMessage): void {
    if (res.statusCode !== 200) {
      res.resume();
      res.on('end', () => this.retry(false));
      return;
    }
    this.connected = true;
    this.buf = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => this.feed(chunk));
    res.on('error', () => undefined);
    res.on('close', () => this.retry(true));
  }

  private feed(chunk: string): void {
    this.bytes += chunk.length;
    this.buf += chunk;
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      if (line === '') this.dispatch();
      else if (line.startsWith('data:')) this.data.push(line.slice(line[5] === ' ' ? 6 : 5));
      else if (line.startsWith('event:')) this.event = line.slice(6).trim();
      else if (line.startsWith('id:')) this.id = Number(line.slice(3).trim());
    }
  }

  private dispatch(): void {
    if (this.id !== null) {
      if (this.event === 'ticket' && this.lastId !== null && this.id <= this.lastId) this.outOfOrder++;
      this.lastId = this.id;
      this.id = null;
    }
    if (this.data.length > 0) {
      if (this.event === 'reset') this.resets++;
      else {
        this.events++;
        this.onData?.(this.data.join('\n'), performance.timeOrigin + performance.now());
      }
    }
    this.event = 'message';
    this.data = [];
  }
}

/** `n` clients on `url`; the first is the probe. */
export function startBoard(url: string, token: string, n: number, onData: (data: string, at: number) => void): BoardClient[] {
  const clients = Array.from({ length: n }, (_, i) => new BoardClient(url, token, i === 0 ? onData : undefined));
  for (const c of clients) c.start();
  return clients;
}

export function boardSummary(clients: BoardClient[]): {
  connected: number;
  events: [number, number];
  mib: number;
  cuts: number;
  outOfOrder: number;
  resets: number;
  failedConnects: number;
} {
  const ev = clients.map((c) => c.events);
  const sum = (f: (c: BoardClient) => number) => clients.reduce((s, c) => s + f(c), 0);
  return {
    connected: clients.filter((c) => c.connected).length,
    events: [Math.min(...ev), Math.max(...ev)],
    mib: sum((c) => c.bytes) / 1048576,
    cuts: sum((c) => c.cuts),
    outOfOrder: sum((c) => c.outOfOrder),
    resets: sum((c) => c.resets),
    failedConnects: sum((c) => c.failedConnects),
  };
}
