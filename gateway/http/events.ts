import type { FastifyPluginAsync } from 'fastify';
import type { Observable } from 'rxjs';
import { AndonError } from '../../model/errors.ts';
import type { TicketStore } from '../store/store.ts';
import type { TicketChange } from '../tickets/engine.ts';
import { SseClient } from './sse-client.ts';
import { MAX_MESSAGE_BYTES, STREAM_MEMBERS, ticketMessage } from './stream-ticket.ts';
import type { StreamKeys } from './stream-keys.ts';

/** Tuning of GET /api/v1/events; the defaults are the contract's. */
export interface EventStreamOptions {
  /** `: ping` comment interval (15 s). */
  pingMs?: number;
  /** Bytes a client may have waiting (queued or unsent) before it is cut off (1 MiB). */
  maxBufferBytes?: number;
  /** Most tickets a resume replays; more changed since Last-Event-ID is one `reset` (5,000). */
  maxBacklog?: number;
}

interface Opts extends EventStreamOptions {
  store: TicketStore;
  changes$: Observable<TicketChange>;
  /** Keys for opening the stream without a header (`?key=`, checked in gateway/http/access.ts). */
  streamKeys: StreamKeys;
  /** Called when a client is cut off for being too slow (a metric). */
  onSlowClient?: () => void;
}

const RETRY = 'retry: 3000\n';
/** A resumed ticket brings its newest events, at most this many (the whole history: GET /api/v1/tickets/{id}/history). */
const RESUME_EVENTS = 20;

/**
 * `GET /api/v1/events`: server-sent events, one `ticket` message per committed
 * change (id = the change's ticket_events.seq, data = the ticket after it).
 * `Last-Event-ID` (or `?lastEventId=`) first replays each ticket changed since
 * then once, as it is now, then goes live with no gap and no duplicate; more
 * than `maxBacklog` tickets is one `reset`. Role read; a browser (EventSource sends no
 * headers) first gets a single-use key with `POST /api/v1/events/key` and opens `?key=`.
 */
export const eventRoutes: FastifyPluginAsync<Opts> = async (app, opts) => {
  const { store, streamKeys } = opts;
  const pingMs = opts.pingMs ?? 15_000;
  const maxBufferBytes = opts.maxBufferBytes ?? 1_048_576;
  const maxBacklog = opts.maxBacklog ?? 5_000;
  const clients = new Set<SseClient>();

  // The ticket as of a change: the doc after it and the change's history event (one event per version).
  const changes = opts.changes$.subscribe((c) => {
    if (clients.size === 0) return;
    const text = ticketMessage(c.seq, c.ticket, [{ ...c.event, index: c.ticket.version - 1 }]);
    for (const client of clients) client.live({ seq: c.seq, ticketId: c.ticket.id, text });
  });
  const ping = setInterval(() => {
    for (const client of clients) client.write(': ping\n\n');
  }, pingMs);
  ping.unref();

  app.addHook('preClose', async () => {
    clearInterval(ping);
    changes.unsubscribe();
    for (const client of clients) client.end();
    clients.clear();
  });

  app.post(
    '/events/key',
    {
      config: { access: 'read' },
      schema: {
        summary: 'A short-lived, single-use key for opening the event stream from a browser',
        description:
          'EventSource cannot send an Authorization header, and a token in a URL stays in access logs: this answers a key for ' +
          '`GET /api/v1/events?key=` instead. It carries the caller\'s token (name and role), works once and only for 60 s.',
        response: {
          200: {
            type: 'object',
            additionalProperties: false,
            required: ['key', 'expiresAt'],
            properties: { key: { type: 'string' }, expiresAt: { type: 'string', format: 'date-time' } },
          },
        },
      },
    },
    async (req) => {
      const { key, expiresAt } = streamKeys.issue(req.who);
      return { key, expiresAt: new Date(expiresAt).toISOString() };
    },
  );

  app.get<{ Querystring: { key?: string; lastEventId?: string }; Headers: { 'last-event-id'?: string } }>(
    '/events',
    {
      config: { access: 'read', streamKey: true },
      schema: {
        summary: 'Ticket changes, live (server-sent events)',
        description:
          'text/event-stream. `retry: 3000`, then per committed ticket change `id: <seq>`, `event: ticket`, `data: <ticket>`: the Ticket JSON ' +
          `without \`history\`, with its newest ${STREAM_MEMBERS} \`members\` and \`membersTotal\`, plus \`events\`: the history events this message brings, ` +
          'each with its `index` in the history (live: the change\'s one event). ' +
          `No message is larger than ${MAX_MESSAGE_BYTES / 1024} KiB: what does not fit is trimmed and the message has \`truncated: true\`; ` +
          'GET /api/v1/tickets/{id} and /api/v1/tickets/{id}/history have everything. ' +
          `Resume with the \`Last-Event-ID\` header or \`?lastEventId=\`: each ticket changed since then once (as it is now, with its newest ${RESUME_EVENTS} events), then live. ` +
          `More than ${maxBacklog} changed tickets: one \`event: reset\` (data {}): reload GET /api/v1/tickets. \`: ping\` every ${pingMs / 1000} s. ` +
          'EventSource cannot send headers: `?key=` takes a key from POST /api/v1/events/key (single use, 60 s).',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            key: { type: 'string', maxLength: 64, description: 'A stream key from POST /api/v1/events/key (for EventSource, which cannot send headers).' },
            lastEventId: { type: 'string', pattern: '^[0-9]{1,15}$', description: 'Resume after this event id.' },
          },
        },
        headers: { type: 'object', properties: { 'last-event-id': { type: 'string', pattern: '^[0-9]{1,15}$' } } },
        response: {
          200: { description: 'The event stream.', content: { 'text/event-stream': { schema: { type: 'string' } } } },
        },
      },
    },
    async (req, reply) => {
      const resume = req.headers['last-event-id'] ?? req.query.lastEventId;
      const after = resume === undefined ? null : Number(resume);
      if (after !== null && !Number.isSafeInteger(after)) throw new AndonError('ANDON_REQUEST_INVALID', 'Last-Event-ID must be an event id (an integer)');

      // From here to `clients.add` nothing awaits: no change can commit in between, so the
      // backlog (committed up to now) and the live feed (from now on) meet without a gap.
      const backlog = after === null ? [] : store.changes.since(after, maxBacklog);
      const last = store.changes.last();
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      const tooMany = backlog.length > maxBacklog;
      const client = new SseClient(res, maxBufferBytes, after === null || tooMany ? last : after, (reason) => {
        clients.delete(client);
        if (reason !== 'slow') return;
        req.log.warn({ component: 'events', remote: req.ip }, 'event stream client too slow: cut off (it resumes with Last-Event-ID)');
        opts.onSlowClient?.();
      });
      clients.add(client);
      // Without a resume point the client gets the current id, so even a plain EventSource resumes right.
      if (after === null) client.write(`${RETRY}id: ${last}\n\n`);
      else if (tooMany) client.write(`${RETRY}\nid: ${last}\nevent: reset\ndata: {}\n\n`);
      else {
        client.write(`${RETRY}\n`);
        await client.replay(
          backlog.map((b) => ({ seq: b.seq, ticketId: b.id })),
          (id, seq) => {
            const t = store.doc(id);
            return t ? ticketMessage(seq, t, store.historyPage(id, { before: t.version, limit: RESUME_EVENTS }).reverse()) : null;
          },
        );
      }
    },
  );
};
