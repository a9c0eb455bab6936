import type { Logger } from 'pino';
import { Subject, type Observable, type SchedulerLike, type Subscription } from 'rxjs';
import type { NotifyChannelConfig } from '../../config/schema.ts';
import type { Locale } from '../i18n.ts';
import { fullJitter } from '../forward/central-health.ts';
import { Batch, settledWithin, Wakeup } from '../forward/pump.ts';
import type { NotificationKind, NotificationSettlement, QueuedNotification } from '../store/notifications.ts';
import type { TicketStore } from '../store/store.ts';
import type { TicketChange } from '../tickets/engine.ts';
import { errorText, redact } from '../redact.ts';
import { isShelved, type Ticket } from '../../model/ticket.ts';
import { FORMATS } from './formats/index.ts';
import { notificationsFor } from '../tickets/triggers.ts';
import { createWebhook, NotifyError, type Webhook } from './webhook.ts';

/** What became of one notification attempt (the `outcome` label of andon_notifications_total). */
export const NOTIFY_OUTCOMES = ['sent', 'retry', 'parked', 'dropped', 'aborted'] as const;
export type NotifyOutcome = (typeof NOTIFY_OUTCOMES)[number];

/** One attempt and its outcome, published once the outcome is on disk. */
export interface NotifyDelivery {
  id: number;
  channel: string;
  ticketId: string;
  kind: NotificationKind;
  outcome: NotifyOutcome;
  /** Why it was retried, parked or dropped. */
  error?: string;
  /** For `parked`: ANDON_NOTIFY_REFUSED or ANDON_NOTIFY_EXPIRED. */
  code?: string;
  attempts?: number;
  nextAttemptAt?: number;
}

export interface NotifierDeps {
  store: TicketStore;
  /** `config.notify`: one line (queue order, concurrency, backoff) per channel. */
  channels: Record<string, NotifyChannelConfig>;
  /** Committed ticket changes: those that queue notifications wake the notifier. */
  changes$: Observable<TicketChange>;
  /** Time for backoff and timers (virtual in tests). */
  scheduler: SchedulerLike;
  random?: () => number;
  fetch?: typeof fetch;
  /** `gateway.publicUrl`: messages link to the board when set. */
  publicUrl?: string | undefined;
  timezone: string;
  /** `gateway.locale`: the language of message texts (default en). */
  locale?: Locale;
  /** Wall-clock bound for `stop()` when a receiver ignores the abort. */
  stopTimeoutMs?: number;
  /** With nothing to wait for, look at the queue this often anyway. */
  idleCheckMs?: number;
  log?: Logger;
}

const MAX_RETRY_AFTER = 3_600_000;

interface Line {
  channel: string;
  config: NotifyChannelConfig;
  webhook: Webhook;
  /** Rows in flight or waiting for their outcome to be written: never sent twice at once. */
  busy: Map<number, Promise<void>>;
}

/**
 * Delivers queued notifications (gateway/store/notifications.ts) to their
 * webhooks. Each channel is a line in id order: up to `concurrency` messages in
 * flight, and a message backing off holds the ones behind it (order kept; with
 * the default concurrency 1, strictly). A refused message (4xx, a robot's
 * errcode) is parked and steps out of the line. Outcomes are written in batched
 * transactions; a row is deleted only after the receiver's 2xx, so delivery is
 * at least once (a crash between the 2xx and the delete sends it again).
 *
 * An alert (opened, raised) that someone acted on before it could go (the
 * ticket was shelved, or its state changed: acknowledged, resolved, ...) is
 * dropped; an escalation notice is always delivered.
 */
export function createNotifier(deps: NotifierDeps) {
  const { store, scheduler } = deps;
  const random = deps.random ?? Math.random;
  const log = deps.log?.child({ component: 'notify' });
  const deliveries$ = new Subject<NotifyDelivery>();
  const lines = new Map<string, Line>(
    Object.entries(deps.channels).map(([channel, config]) => [
      channel,
      { channel, config, webhook: createWebhook(config, { now: () => scheduler.now(), ...(deps.fetch ? { fetch: deps.fetch } : {}) }), busy: new Map() },
    ]),
  );
  let sub: Subscription | undefined;
  let started = false;
  let stopping: Promise<void> | undefined;
  const abort = new AbortController();
  const wakeup = new Wakeup(scheduler, () => pump());
  const kick = () => wakeup.soon();
  type Outcome = { line: Line; s: NotificationSettlement | null; d: NotifyDelivery };
  /** Outcomes that arrive together are written in one transaction. */
  const settled = new Batch<Outcome>(flush);
  const settle = (line: Line, s: NotificationSettlement | null, d: NotifyDelivery) => settled.push({ line, s, d });

  function pump(): void {
    if (!started || stopping) return;
    const now = scheduler.now();
    let wake = now + (deps.idleCheckMs ?? 30_000);
    for (const line of lines.values()) {
      try {
        wake = Math.min(wake, pumpLine(line, now));
      } catch (err) {
        // The store failed (disk, closed): look again later rather than stop notifying for good.
        log?.error({ err, code: 'ANDON_STORE_UNAVAILABLE', channel: line.channel }, 'cannot read the notification queue');
        wake = Math.min(wake, now + line.config.backoff.base);
      }
    }
    wakeup.at(wake, now);
  }

  /** Starts what the line allows now; returns when it must be looked at again (Infinity: when an outcome comes in). */
  function pumpLine(line: Line, now: number): number {
    const room = line.config.concurrency - line.busy.size;
    if (room <= 0) return Infinity;
    for (const row of store.notifications.line(line.channel, room, line.busy.keys())) {
      // The head backs off: the rows behind it wait (order per channel).
      if (row.nextAttemptAt > now) return row.nextAttemptAt;
      line.busy.set(row.id, deliver(line, row));
    }
    return Infinity;
  }

  /** Why an alert need not go any more; null when it must (escalation notices always must). */
  function dropReason(row: QueuedNotification, ticket: Ticket, now: number): string | null {
    if (row.kind === 'escalated') return null;
    if (isShelved(ticket, now)) return 'the ticket was shelved before the alert could go';
    if (ticket.state !== row.state) return `the ticket is ${ticket.state} since the alert was queued`;
    return null;
  }

  async function deliver(line: Line, row: QueuedNotification): Promise<void> {
    const d = { id: row.id, channel: line.channel, ticketId: row.ticketId, kind: row.kind };
    try {
      const ticket = store.get(row.ticketId);
      const dropped = ticket ? dropReason(row, ticket, scheduler.now()) : 'the ticket is gone';
      if (!ticket || dropped) {
        log?.info({ channel: line.channel, notification: row.id, ticket: row.ticketId, kind: row.kind, why: dropped }, 'notification dropped');
        settle(line, { kind: 'done', id: row.id }, { ...d, outcome: 'dropped', error: dropped ?? '' });
        return;
      }
      const age = scheduler.now() - (row.retriedAt ?? row.createdAt);
      if (age >= line.config.maxAge) {
        // Older than the channel's maxAge before it could go (the gateway was down that long): a page that late is
        // noise, so it is parked, visible and retryable, not sent.
        const why = `not sent: ${Math.round(age / 1000)} s old, over maxAge ${line.config.maxAge} ms`;
        log?.warn({ code: 'ANDON_NOTIFY_EXPIRED', channel: line.channel, notification: row.id, ticket: row.ticketId }, why);
        settle(line, { kind: 'park', id: row.id, at: scheduler.now(), code: 'ANDON_NOTIFY_EXPIRED', error: why }, { ...d, outcome: 'parked', code: 'ANDON_NOTIFY_EXPIRED', error: why });
        return;
      }
      const body = FORMATS[line.config.format]({ id: row.id, channel: line.channel, kind: row.kind, event: row.event, ticket, publicUrl: deps.publicUrl ?? null, timezone: deps.timezone, locale: deps.locale ?? 'en' });
      await line.webhook.send(body, abort.signal, `${row.ticketId}:${row.version}:${line.channel}`);
      settle(line, { kind: 'done', id: row.id }, { ...d, outcome: 'sent' });
    } catch (err) {
      const now = scheduler.now();
      // A receiver may echo the URL (and its key) in its answer; undici's errors carry it too.
      const error = errorText(err);
      if (abort.signal.aborted) {
        settle(line, null, { ...d, outcome: 'aborted', error });
      } else if (err instanceof NotifyError && err.kind === 'refused') {
        log?.warn({ code: 'ANDON_NOTIFY_REFUSED', channel: line.channel, notification: row.id, ticket: row.ticketId, status: err.status, err: error }, 'the receiver refused a notification; it is parked');
        settle(line, { kind: 'park', id: row.id, at: now, code: 'ANDON_NOTIFY_REFUSED', error }, { ...d, outcome: 'parked', code: 'ANDON_NOTIFY_REFUSED', error });
      } else {
        if (!(err instanceof NotifyError)) log?.error({ err, channel: line.channel, notification: row.id }, 'a notification failed unexpectedly; retrying');
        const attempts = row.attempts + 1;
        if (now - (row.retriedAt ?? row.createdAt) >= line.config.maxAge) {
          const why = `still failing after ${attempts} attempts over maxAge ${line.config.maxAge} ms: ${error}`;
          log?.warn({ code: 'ANDON_NOTIFY_EXPIRED', channel: line.channel, notification: row.id, ticket: row.ticketId }, why);
          settle(line, { kind: 'park', id: row.id, at: now, code: 'ANDON_NOTIFY_EXPIRED', error: why }, { ...d, outcome: 'parked', code: 'ANDON_NOTIFY_EXPIRED', error: why });
          return;
        }
        // Honoured, up to an hour: a receiver that says "come back tomorrow" must not silence the channel that long.
        const after = err instanceof NotifyError && err.retryAfterMs !== undefined ? Math.min(err.retryAfterMs, MAX_RETRY_AFTER) : undefined;
        const nextAttemptAt = now + (after ?? fullJitter(attempts, line.config.backoff.base, line.config.backoff.max, random));
        log?.debug({ code: 'ANDON_NOTIFY_RETRY', channel: line.channel, notification: row.id, attempts, nextAttemptAt, err: error }, 'notification failed; backing off');
        settle(line, { kind: 'retry', id: row.id, attempts, nextAttemptAt, error }, { ...d, outcome: 'retry', error, attempts, nextAttemptAt });
      }
    }
  }

  function flush(list: Outcome[]): void {
    try {
      store.notifications.settle(list.flatMap((x) => (x.s ? [x.s] : [])));
    } catch (err) {
      // Not written: the rows stay as they were and go again (at least once).
      log?.error({ err, code: 'ANDON_STORE_UNAVAILABLE', n: list.length }, 'cannot record notification outcomes');
    }
    for (const { line, d } of list) {
      line.busy.delete(d.id);
      deliveries$.next(d);
    }
    pump();
  }

  return {
    /** Every attempt's outcome, once it is on disk. */
    deliveries$: deliveries$.asObservable(),
    start(): void {
      if (started) return;
      started = true;
      const parked = store.notifications.parkUnknownChannels([...lines.keys()], scheduler.now());
      if (parked > 0) log?.warn({ code: 'ANDON_NOTIFY_UNKNOWN_CHANNEL', n: parked }, 'queued notifications for channels no longer configured are parked');
      for (const line of lines.values()) log?.info({ channel: line.channel, format: line.config.format, url: redact(line.config.url) }, 'notification channel');
      sub = deps.changes$.subscribe((c) => {
        if (notificationsFor(c.previous, c.ticket, c.event).length > 0) kick();
      });
      kick();
    },
    /** Looks at the queue now (after a retry through the admin API). */
    wake(): void {
      kick();
    },
    /** Messages in flight (or settling) right now. */
    inFlight: (): number => [...lines.values()].reduce((n, l) => n + l.busy.size, 0),
    /** Stops in bounded time: aborts requests in flight (their rows stay and go after the next start). */
    stop(): Promise<void> {
      stopping ??= (async () => {
        sub?.unsubscribe();
        wakeup.cancel();
        abort.abort();
        await settledWithin(
          [...lines.values()].flatMap((l) => [...l.busy.values()]),
          deps.stopTimeoutMs ?? 3_000,
        );
        settled.flush();
        deliveries$.complete();
      })();
      return stopping;
    },
  };
}

export type Notifier = ReturnType<typeof createNotifier>;
