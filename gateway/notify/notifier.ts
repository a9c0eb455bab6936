import type { Logger } from 'pino';
import { Subject, type Observable, type SchedulerLike, type Subscription } from 'rxjs';
import type { NotifyChannelConfig } from '../../config/schema.ts';
import type { Locale } from '../i18n.ts';
import { createDeliveryWorker, type Lane, type Verdict } from '../delivery/worker.ts';
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

type Rec = { s: NotificationSettlement | null; d: NotifyDelivery };

/**
 * Delivers queued notifications (gateway/store/notifications.ts) to their
 * webhooks: the notification policy of the delivery worker
 * (gateway/delivery/worker.ts), which owns wake-up, concurrency, backoff,
 * Retry-After, batched outcome writes and stop. Each channel is a lane in id
 * order: up to `concurrency` messages in flight, and a message backing off
 * holds the ones behind it (order kept; with the default concurrency 1,
 * strictly). A refused message (4xx, a robot's errcode) is parked and steps
 * out of the line. A row is deleted only after the receiver's 2xx, so delivery
 * is at least once (a crash between the 2xx and the delete sends it again).
 *
 * An alert (opened, raised) that someone acted on before it could go (the
 * ticket was shelved, or its state changed: acknowledged, resolved, ...) is
 * dropped; an escalation notice is always delivered.
 */
export function createNotifier(deps: NotifierDeps) {
  const { store, scheduler } = deps;
  const log = deps.log?.child({ component: 'notify' });
  const deliveries$ = new Subject<NotifyDelivery>();
  const channels = new Map<string, { config: NotifyChannelConfig; webhook: Webhook }>(
    Object.entries(deps.channels).map(([channel, config]) => [channel, { config, webhook: createWebhook(config, { now: () => scheduler.now(), ...(deps.fetch ? { fetch: deps.fetch } : {}) }) }]),
  );
  // No circuit: the head of a channel backing off already holds the line behind it.
  const lanes: Lane[] = [...channels].map(([channel, { config }]) => ({ id: channel, concurrency: config.concurrency, backoff: config.backoff, fields: { channel } }));
  const maxAge = (lane: Lane) => (channels.get(lane.id) as { config: NotifyChannelConfig }).config.maxAge;
  let sub: Subscription | undefined;

  const worker = createDeliveryWorker<QueuedNotification, number, Rec>(
    {
      lanes,
      key: (row) => row.id,
      take,
      deliver,
      failed,
      aborted: (row, err, lane) => ({ s: null, d: { ...about(row, lane), outcome: 'aborted', error: errorText(err) } }),
      write: (records) => store.notifications.settle(records.flatMap((r) => (r.s ? [r.s] : []))),
      settled: ({ d }) => deliveries$.next(d),
    },
    {
      scheduler,
      ...(deps.random ? { random: deps.random } : {}),
      ...(deps.idleCheckMs !== undefined ? { idleCheckMs: deps.idleCheckMs } : {}),
      stopTimeoutMs: deps.stopTimeoutMs ?? 3_000,
      log,
      messages: { readFailed: 'cannot read the notification queue', writeFailed: 'cannot record notification outcomes' },
    },
  );

  /** The channel's next rows in queue order; a row backing off holds the ones behind it (order per channel). */
  function take(lane: Lane, now: number, room: number, busy: ReadonlyMap<number, unknown>): { jobs: QueuedNotification[]; wakeAt: number } {
    const jobs: QueuedNotification[] = [];
    for (const row of store.notifications.line(lane.id, room, busy.keys())) {
      if (row.nextAttemptAt > now) return { jobs, wakeAt: row.nextAttemptAt };
      jobs.push(row);
    }
    return { jobs, wakeAt: Infinity };
  }

  const about = (row: QueuedNotification, lane: Lane) => ({ id: row.id, channel: lane.id, ticketId: row.ticketId, kind: row.kind });

  /** Why an alert need not go any more; null when it must (escalation notices always must). */
  function dropReason(row: QueuedNotification, ticket: Ticket, now: number): string | null {
    if (row.kind === 'escalated') return null;
    if (isShelved(ticket, now)) return 'the ticket was shelved before the alert could go';
    if (ticket.state !== row.state) return `the ticket is ${ticket.state} since the alert was queued`;
    return null;
  }

  /** Parks `row` as expired: not delivered within the channel's maxAge. */
  function expired(row: QueuedNotification, lane: Lane, why: string, at: number): Verdict<Rec> {
    log?.warn({ code: 'ANDON_NOTIFY_EXPIRED', channel: lane.id, notification: row.id, ticket: row.ticketId }, why);
    return { kind: 'park', record: { s: { kind: 'park', id: row.id, at, code: 'ANDON_NOTIFY_EXPIRED', error: why }, d: { ...about(row, lane), outcome: 'parked', code: 'ANDON_NOTIFY_EXPIRED', error: why } } };
  }

  async function deliver(row: QueuedNotification, signal: AbortSignal, lane: Lane): Promise<Verdict<Rec>> {
    const d = about(row, lane);
    const ticket = store.get(row.ticketId);
    const dropped = ticket ? dropReason(row, ticket, scheduler.now()) : 'the ticket is gone';
    if (!ticket || dropped) {
      log?.info({ channel: lane.id, notification: row.id, ticket: row.ticketId, kind: row.kind, why: dropped }, 'notification dropped');
      return { kind: 'done', record: { s: { kind: 'done', id: row.id }, d: { ...d, outcome: 'dropped', error: dropped ?? '' } } };
    }
    const { config, webhook } = channels.get(lane.id) as { config: NotifyChannelConfig; webhook: Webhook };
    const age = scheduler.now() - (row.retriedAt ?? row.createdAt);
    // Older than the channel's maxAge before it could go (the gateway was down that long): a page that late is
    // noise, so it is parked, visible and retryable, not sent.
    if (age >= config.maxAge) return expired(row, lane, `not sent: ${Math.round(age / 1000)} s old, over maxAge ${config.maxAge} ms`, scheduler.now());
    const body = FORMATS[config.format]({ id: row.id, channel: lane.id, kind: row.kind, event: row.event, ticket, publicUrl: deps.publicUrl ?? null, timezone: deps.timezone, locale: deps.locale ?? 'en' });
    await webhook.send(body, signal, `${row.ticketId}:${row.version}:${lane.id}`);
    return { kind: 'done', answered: true, record: { s: { kind: 'done', id: row.id }, d: { ...d, outcome: 'sent' } } };
  }

  /** What the receiver's answer (or its silence) means for the message. */
  function failed(row: QueuedNotification, err: unknown, now: number, lane: Lane): Verdict<Rec> {
    const d = about(row, lane);
    // A receiver may echo the URL (and its key) in its answer; undici's errors carry it too.
    const error = errorText(err);
    if (err instanceof NotifyError && err.kind === 'refused') {
      log?.warn({ code: 'ANDON_NOTIFY_REFUSED', channel: lane.id, notification: row.id, ticket: row.ticketId, status: err.status, err: error }, 'the receiver refused a notification; it is parked');
      return { kind: 'park', answered: true, record: { s: { kind: 'park', id: row.id, at: now, code: 'ANDON_NOTIFY_REFUSED', error }, d: { ...d, outcome: 'parked', code: 'ANDON_NOTIFY_REFUSED', error } } };
    }
    if (!(err instanceof NotifyError)) log?.error({ err, channel: lane.id, notification: row.id }, 'a notification failed unexpectedly; retrying');
    const attempts = row.attempts + 1;
    if (now - (row.retriedAt ?? row.createdAt) >= maxAge(lane)) return expired(row, lane, `still failing after ${attempts} attempts over maxAge ${maxAge(lane)} ms: ${error}`, now);
    return {
      kind: 'retry',
      attempts,
      // Honoured (the worker caps it at an hour); a robot's rate-limit errcode comes as a minute.
      retryAfterMs: err instanceof NotifyError ? err.retryAfterMs : undefined,
      record: (nextAttemptAt) => {
        log?.debug({ code: 'ANDON_NOTIFY_RETRY', channel: lane.id, notification: row.id, attempts, nextAttemptAt, err: error }, 'notification failed; backing off');
        return { s: { kind: 'retry', id: row.id, attempts, nextAttemptAt, error }, d: { ...d, outcome: 'retry', error, attempts, nextAttemptAt } };
      },
    };
  }

  let stopping: Promise<void> | undefined;
  return {
    /** Every attempt's outcome, once it is on disk. */
    deliveries$: deliveries$.asObservable(),
    start(): void {
      if (sub) return;
      const parked = store.notifications.parkUnknownChannels([...channels.keys()], scheduler.now());
      if (parked > 0) log?.warn({ code: 'ANDON_NOTIFY_UNKNOWN_CHANNEL', n: parked }, 'queued notifications for channels no longer configured are parked');
      for (const [channel, { config }] of channels) log?.info({ channel, format: config.format, url: redact(config.url) }, 'notification channel');
      sub = deps.changes$.subscribe((c) => {
        if (notificationsFor(c.previous, c.ticket, c.event).length > 0) worker.kick();
      });
      worker.start();
    },
    /** Looks at the queue now (after a retry through the admin API). */
    wake(): void {
      worker.wake();
    },
    /** Messages in flight (or settling) right now. */
    inFlight: (): number => worker.inFlight(),
    /** Stops in bounded time: aborts requests in flight (their rows stay and go after the next start). */
    stop(): Promise<void> {
      stopping ??= (async () => {
        sub?.unsubscribe();
        await worker.stop();
        deliveries$.complete();
      })();
      return stopping;
    },
  };
}

export type Notifier = ReturnType<typeof createNotifier>;
