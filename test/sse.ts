import { get, type IncomingMessage } from 'node:http';

/** One server-sent event as a browser's EventSource would dispatch it (plus comments, for pings). */
export interface SseEvent {
  id: string | null;
  event: string;
  data: string;
}

/**
 * A real HTTP client reading a text/event-stream (tests only). `next()` waits
 * for the next dispatched event with a timeout; `pause()`/`resume()` make it a
 * slow reader; `ended` resolves when the server ends or cuts the stream.
 */
export class SseReader {
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  retry: number | null = null;
  /** The id an EventSource would resume from (set by any block with an id, even without data). */
  lastEventId: string | null = null;
  private read = 0;
  private buf = '';
  private block: { id: string | null; event: string; data: string[] } = { id: null, event: 'message', data: [] };
  private waiters: (() => void)[] = [];
  readonly ended: Promise<void>;
  private constructor(readonly res: IncomingMessage) {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => this.feed(chunk));
    this.ended = new Promise((resolve) => {
      res.on('close', () => {
        resolve();
        this.wake();
      });
      res.on('error', () => undefined);
    });
  }

  /** Opens `url` (status must be 200) with optional headers. */
  static open(url: string, headers: Record<string, string> = {}): Promise<SseReader> {
    return new Promise((resolve, reject) => {
      const req = get(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
        if (res.statusCode !== 200) {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => reject(new Error(`HTTP ${res.statusCode}: ${body}`)));
          return;
        }
        resolve(new SseReader(res));
      });
      req.on('error', reject);
    });
  }

  /** The next event not yet taken by `next()`; rejects after `timeoutMs`, or if the stream ends first. */
  async next(timeoutMs = 5000): Promise<SseEvent> {
    await this.until(() => this.events.length > this.read, timeoutMs, 'an event');
    return this.events[this.read++]!;
  }

  /** Waits until `cond` holds (checked on every chunk read). */
  async until(cond: () => boolean, timeoutMs = 5000, what = 'a condition'): Promise<void> {
    let closed = false;
    void this.ended.then(() => (closed = true));
    const deadline = setTimeout(() => this.wake(), timeoutMs);
    const started = performance.now();
    try {
      while (!cond()) {
        if (closed) throw new Error(`stream ended while waiting for ${what}`);
        if (performance.now() - started >= timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
        await new Promise<void>((r) => this.waiters.push(r));
      }
    } finally {
      clearTimeout(deadline);
    }
  }

  pause(): void {
    this.res.pause();
  }
  resume(): void {
    this.res.resume();
  }
  close(): void {
    this.res.destroy();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private feed(chunk: string): void {
    this.buf += chunk;
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl).replace(/\r$/, '');
      this.buf = this.buf.slice(nl + 1);
      this.line(line);
    }
    this.wake();
  }

  private line(line: string): void {
    if (line === '') {
      const b = this.block;
      if (b.id !== null) this.lastEventId = b.id;
      if (b.data.length > 0) this.events.push({ id: b.id ?? this.lastEventId, event: b.event, data: b.data.join('\n') });
      this.block = { id: null, event: 'message', data: [] };
      return;
    }
    if (line.startsWith(':')) {
      this.comments.push(line.slice(1).trim());
      return;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') this.block.id = value;
    else if (field === 'event') this.block.event = value;
    else if (field === 'data') this.block.data.push(value);
    else if (field === 'retry') this.retry = Number(value);
  }
}
