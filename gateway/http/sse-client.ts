import type { ServerResponse } from 'node:http';

/** One SSE message on its way to a client: the ticket it is about and its text. */
export interface SseMessage {
  seq: number;
  ticketId: string;
  text: string;
}

/**
 * One open event stream. Live messages are written as they come; while the
 * client is still catching up (`replay`), they wait in a queue. Whatever waits
 * (in the queue or in the socket's buffer) is bounded by `maxBufferBytes`: a
 * client that falls further behind is cut off and resumes with Last-Event-ID.
 */
export class SseClient {
  private queue: SseMessage[] | null = null;
  private queued = 0;
  private lastSeq: number;
  closed = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly maxBufferBytes: number,
    after: number,
    private readonly onCut: (reason: 'slow' | 'closed') => void,
  ) {
    this.lastSeq = after;
    res.on('close', () => this.drop('closed'));
  }

  /** A committed change, in seq order. Older than what the client has is skipped (no duplicates). */
  live(m: SseMessage): void {
    if (this.closed || m.seq <= this.lastSeq) return;
    if (this.queue) {
      this.queue.push(m);
      this.queued += m.text.length;
      if (this.queued > this.maxBufferBytes) this.drop('slow');
      return;
    }
    this.lastSeq = m.seq;
    this.write(m.text);
  }

  /** A comment or field block that is not a ticket (retry, ping, reset). */
  write(text: string): void {
    if (this.closed) return;
    this.res.write(text);
    if (this.res.writableLength > this.maxBufferBytes) this.drop('slow');
  }

  /**
   * Sends the backlog (tickets changed since Last-Event-ID, oldest first), honouring the socket's
   * backpressure, while live changes queue; then drains the queue and goes live. A backlog ticket
   * that changed again meanwhile is skipped: its newer version is in the queue.
   */
  async replay(backlog: { seq: number; ticketId: string }[], render: (ticketId: string, seq: number) => string | null): Promise<void> {
    this.queue = [];
    for (const b of backlog) {
      if (this.closed || !this.queue) return;
      if (this.queue.some((m) => m.ticketId === b.ticketId)) continue;
      const text = render(b.ticketId, b.seq);
      if (text === null) continue;
      this.lastSeq = b.seq;
      if (!this.res.write(text)) await this.drained();
    }
    const queue = this.queue;
    if (this.closed || !queue) return;
    this.queue = null;
    this.queued = 0;
    for (const m of queue) this.live(m);
  }

  private drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.res.off('drain', done);
        this.res.off('close', done);
        resolve();
      };
      this.res.on('drain', done);
      this.res.on('close', done);
    });
  }

  /** Ends the stream cleanly (the app is closing). */
  end(): void {
    if (this.closed) return;
    this.closed = true;
    this.res.end();
  }

  private drop(reason: 'slow' | 'closed'): void {
    if (this.closed) return;
    this.closed = true;
    this.queue = null;
    if (reason === 'slow') this.res.destroy();
    this.onCut(reason);
  }
}
