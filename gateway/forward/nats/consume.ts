import type { Logger } from 'pino';
import type { NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import { errorText } from '../../redact.ts';
import { ForwardError } from '../sink.ts';

export interface TicketMeta {
  /** `<ticket id>:<version>`: the idempotency key. */
  msgId: string;
  subject: string;
  seq: number;
  redelivered: boolean;
}

export interface TicketConsumerOptions {
  /** The ticket stream (ANDON_TICKETS). */
  stream: string;
  /** The durable consumer's name: the cluster keeps what it has acked. */
  durable: string;
  /** Only these subjects (`andon.tickets.plant-a-line-1.>`); default the whole stream. */
  filter?: string;
  /**
   * Takes one ticket version (the PUT body). Resolves: done (acked). Throws a ForwardError: `retry` is
   * tried again (same message, backoff, nothing after it meanwhile: order per ticket holds); `poison` is logged
   * and terminated; `conflict` (a newer version is there) is acked.
   */
  handle: (ticket: Record<string, unknown>, meta: TicketMeta) => Promise<void> | void;
  backoff?: { base: number; max: number };
  log?: Logger;
  /** Each message's outcome (tests, benches). */
  onOutcome?: (o: { msgId: string; outcome: 'ok' | 'conflict' | 'poison' | 'retry' }) => void;
}

/**
 * A durable JetStream consumer of ticket versions for central IT (the reference central's consumer mode,
 * `andon bridge rt --nats`): one version at a time, in stream order, each acked only after `handle` is
 * done, so a consumer killed before its ack gets the version again (`Nats-Msg-Id` is the idempotency key).
 * A receiver that cannot take a version now (RT down) holds the stream: the version is tried again with
 * backoff and nothing after it goes meanwhile, so the receiver is fed at its own pace and in order.
 */
export function consumeTickets(nc: NatsConnection, opts: TicketConsumerOptions) {
  const log = opts.log?.child({ component: 'consumer', stream: opts.stream, durable: opts.durable });
  const backoff = opts.backoff ?? { base: 500, max: 30_000 };
  let messages: ConsumerMessages | undefined;
  let stopped = false;
  let wake: (() => void) | undefined;
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(t);
        resolve();
      };
    });

  async function one(m: JsMsg): Promise<void> {
    const meta: TicketMeta = { msgId: m.headers?.get('Nats-Msg-Id') ?? '', subject: m.subject, seq: m.seq, redelivered: m.redelivered };
    let ticket: Record<string, unknown>;
    try {
      ticket = m.json<Record<string, unknown>>();
      if (ticket === null || typeof ticket !== 'object') throw new Error('not a JSON object');
    } catch (err) {
      log?.warn({ code: 'ANDON_FORWARD_POISON', seq: m.seq, subject: m.subject, err: errorText(err) }, 'a message is no ticket version: terminated');
      opts.onOutcome?.({ msgId: meta.msgId, outcome: 'poison' });
      return m.term();
    }
    for (let attempt = 0; !stopped; attempt++) {
      try {
        await opts.handle(ticket, meta);
        opts.onOutcome?.({ msgId: meta.msgId, outcome: 'ok' });
        return m.ack();
      } catch (err) {
        const kind = err instanceof ForwardError ? err.kind : 'retry';
        if (kind === 'conflict') {
          opts.onOutcome?.({ msgId: meta.msgId, outcome: 'conflict' });
          return m.ack();
        }
        if (kind === 'poison') {
          log?.warn({ code: 'ANDON_FORWARD_POISON', msgId: meta.msgId, err: errorText(err) }, 'the receiver refused a ticket version: terminated (not delivered again)');
          opts.onOutcome?.({ msgId: meta.msgId, outcome: 'poison' });
          return m.term();
        }
        opts.onOutcome?.({ msgId: meta.msgId, outcome: 'retry' });
        const wait = Math.min(backoff.max, backoff.base * 2 ** Math.min(attempt, 20));
        log?.warn({ code: 'ANDON_FORWARD_RETRY', msgId: meta.msgId, attempt: attempt + 1, waitMs: wait, err: errorText(err) }, 'the receiver did not take a ticket version; trying again');
        m.working(); // the ack wait starts again: the version is ours while we retry
        await pause(wait);
      }
    }
    m.nak(); // stopping: someone else (or the next start) takes it
  }

  const done = (async () => {
    const jsm = await jetstreamManager(nc);
    await jsm.consumers.add(opts.stream, {
      durable_name: opts.durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: 60_000_000_000,
      max_ack_pending: 1_000,
      ...(opts.filter ? { filter_subject: opts.filter } : {}),
    });
    const consumer = await jetstream(nc).consumers.get(opts.stream, opts.durable);
    messages = await consumer.consume({ max_messages: 100 });
    if (stopped) await messages.close();
    for await (const m of messages) {
      if (stopped) {
        m.nak();
        continue;
      }
      await one(m);
    }
  })();

  return {
    /** Resolves when the consumer stops; rejects if it could not start (no stream, refused). */
    done,
    async stop(): Promise<void> {
      stopped = true;
      wake?.();
      await messages?.close();
      await done.catch(() => undefined);
    },
  };
}
