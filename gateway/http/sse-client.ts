import type { ServerResponse } from 'node:http';

/** One SSE message on its way to a client: the ticket it is about and its text. */
export interface SseMessage {
  seq: number;
  ticketId: string;
  text: string;
}

/**
 * One open event stream. Live messages are written as they come while the socket takes them; when it
 * pushes back (a slow client, or a burst such as an alarm flood), they wait, **one per ticket**: a newer
 * change of a ticket replaces its waiting message (ids stay increasing, and a client that resumes with
 * Last-Event-ID still gets every ticket as it is now). While the client is catching up (`replay`) they
 * wait the same way. Whatever waits (here or in the socket's buffer) is bounded by `maxBufferBytes`: a
 * client that falls further behind is cut off and resumes with Last-Event-ID.
 */
export class SseClient {
  /** Waiting messages by ticket, oldest seq first (a replaced one moves to the end: its seq is the newest). */
  private waiting = new Map<string, SseMessage>();
  private waitingBytes = 0;
  /** Sending the backlog of a resume: live messages wait until it is done. */
  private replaying = false;
  private drainArmed = false;
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
    if (!this.replaying && this.waiting.size === 0 && !this.res.writableNeedDrain) {
      this.send(m);
      return;
    }
    const old = this.waiting.get(m.ticketId);
    if (old) {
      this.waiting.delete(m.ticketId);
      this.waitingBytes -= old.text.length;
    }
    this.waiting.set(m.ticketId, m);
    this.waitingBytes += m.text.length;
    if (this.waitingBytes > this.maxBufferBytes) return this.drop('slow');
    if (!this.replaying) this.armDrain();
  }

  /** A comment or field block that is not a ticket (retry, ping, reset). */
  write(text: string): void {
    if (this.closed) return;
    this.res.write(text);
    if (this.res.writableLength > this.maxBufferBytes) this.drop('slow');
  }

  private send(m: SseMessage): void {
    this.lastSeq = m.seq;
    this.write(m.text);
  }

  /** Writes what waits, oldest first, as long as the socket takes it; then waits for its drain. */
  private flush(): void {
    for (const [id, m] of this.waiting) {
      if (this.closed) return;
      if (this.res.writableNeedDrain) return this.armDrain();
      this.waiting.delete(id);
      this.waitingBytes -= m.text.length;
      if (m.seq > this.lastSeq) this.send(m);
    }
  }

  private armDrain(): void {
    if (this.drainArmed || this.closed) return;
    this.drainArmed = true;
    this.res.once('drain', () => {
      this.drainArmed = false;
      this.flush();
    });
  }

  /**
   * Sends the backlog (tickets changed since Last-Event-ID, oldest first), honouring the socket's
   * backpressure, while live changes wait; then sends what waits and goes live. A backlog ticket
   * that changed again meanwhile is skipped: its newer version waits.
   */
  async replay(backlog: { seq: number; ticketId: string }[], render: (ticketId: string, seq: number) => string | null): Promise<void> {
    this.replaying = true;
    for (const b of backlog) {
      if (this.closed) return;
      if (this.waiting.has(b.ticketId)) continue;
      const text = render(b.ticketId, b.seq);
      if (text === null) continue;
      this.lastSeq = b.seq;
      if (!this.res.write(text)) await this.drained();
    }
    this.replaying = false;
    if (this.closed) return;
    this.flush();
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
    this.waiting.clear();
    this.waitingBytes = 0;
    if (reason === 'slow') this.res.destroy();
    this.onCut(reason);
  }
}
