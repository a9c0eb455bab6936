import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { consumeTickets } from '../../gateway/forward/nats/consume.ts';
import { ForwardError } from '../../gateway/forward/sink.ts';
import type { CentralState, ChangeRecord } from './state.ts';

/** Stores one version as central's PUT would; a string says why the body is no ticket (the message is terminated). */
export type TakeVersion = (body: Record<string, unknown>, key: string) => string | undefined;

/** Where the reference central reads ticket versions from in JetStream consumer mode. */
export interface CentralNatsOptions {
  servers: string[];
  user?: string;
  password?: string;
  /** default ANDON_TICKETS */
  stream?: string;
  /** The durable consumer's name, default `central`. */
  durable?: string;
  /** Subject the changes of gateway `g` go to: default `andon.changes.<g>`. */
  changesPrefix?: string;
}

/**
 * The reference central fed from the stream: each version is stored as its `PUT /tickets/:id` would be,
 * with `Nats-Msg-Id` as the idempotency key (so a redelivery has no second effect), and acked after.
 * A person's change at central is published to `andon.changes.<gateway>` (sync back over NATS).
 */
export async function startNatsIntake(state: CentralState, opts: CentralNatsOptions, take: TakeVersion) {
  const nc: NatsConnection = await connect({ servers: opts.servers, ...(opts.user ? { user: opts.user, pass: opts.password } : {}), maxReconnectAttempts: -1, reconnectTimeWait: 250, name: 'andon sim/central' });
  const gatewayOf = new Map<string, string>();
  const consumer = consumeTickets(nc, {
    stream: opts.stream ?? 'ANDON_TICKETS',
    durable: opts.durable ?? 'central',
    backoff: { base: 100, max: 2_000 },
    handle(body, meta) {
      const id = body.id;
      const version = body.version;
      if (typeof id !== 'string' || typeof version !== 'number' || !Number.isInteger(version) || version < 1) throw new ForwardError('poison', 'the message must be a ticket with an id and an integer version');
      if (typeof body.gateway === 'string') gatewayOf.set(id, body.gateway);
      // A conflict (a newer version is held) or a gap (history central lacks: the gateway's next delta has it) is acked.
      const problem = take(body, meta.msgId || `${id}:${version}`);
      if (problem !== undefined) throw new ForwardError('poison', problem);
    },
  });
  consumer.done.catch(() => undefined);
  const js = jetstream(nc);
  return {
    done: consumer.done,
    /** Publishes a person's change to the ticket's gateway (its `gateway` field). */
    async publish(change: ChangeRecord): Promise<void> {
      const gw = gatewayOf.get(change.ticketId) ?? (state.tickets.get(change.ticketId)?.ticket.gateway as string | undefined);
      if (!gw) return;
      const { seq, ...c } = change;
      await js.publish(`${opts.changesPrefix ?? 'andon.changes'}.${gw}`, JSON.stringify(c), { msgID: `central-change-${seq}` });
    },
    async stop(): Promise<void> {
      await consumer.stop();
      await nc.drain().catch(() => nc.close());
    },
  };
}
