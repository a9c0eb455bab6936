import type { Logger } from 'pino';
import { connect } from '@nats-io/transport-node';
import type { ForwardConfig } from '../../../config/schema.ts';
import type { ForwardedTicket, Sink } from '../sink.ts';
import { consumeTickets } from './consume.ts';
import { connectionOptions, NATS_DEFAULTS } from './connection.ts';

export interface BridgeOptions {
  /** forward: { type: nats } of a fleet gateway's config: where the stream is. */
  nats: ForwardConfig;
  /** The receiving sink (rt: Request Tracker; http: a central of contracts §Central API). */
  sink: Sink;
  /** The durable consumer's name (one per receiver). */
  durable: string;
  /** Only these subjects (a NATS filter: `*` is one whole token), e.g. `andon.tickets.plant-a-line-1.>`. */
  filter?: string;
  log?: Logger;
  onOutcome?: (o: { msgId: string; outcome: 'ok' | 'conflict' | 'poison' | 'retry' }) => void;
}

/**
 * `andon bridge rt --nats`: the stream's ticket versions into one receiver, through the same sink a
 * gateway would use to deliver there directly (so the RT sink's create-once and no-duplicate hold:
 * it finds the RT ticket by AndonId and skips a version RT already has). One version at a time, in
 * stream order, at the receiver's pace; acked after the receiver took it. Many gateways, one RT.
 */
export async function startBridge(o: BridgeOptions) {
  const nc = await connect({ ...connectionOptions(o.nats, `andon bridge ${o.durable}`), waitOnFirstConnect: true });
  const abort = new AbortController();
  const consumer = consumeTickets(nc, {
    stream: o.nats.stream ?? NATS_DEFAULTS.stream,
    durable: o.durable,
    ...(o.filter ? { filter: o.filter } : {}),
    ...(o.log ? { log: o.log } : {}),
    ...(o.onOutcome ? { onOutcome: o.onOutcome } : {}),
    handle: async (ticket) => void (await o.sink.put(ticket as unknown as ForwardedTicket, abort.signal)),
  });
  return {
    done: consumer.done,
    async stop(): Promise<void> {
      abort.abort();
      await consumer.stop();
      await o.sink.close?.();
      await nc.drain().catch(() => nc.close());
    },
  };
}
