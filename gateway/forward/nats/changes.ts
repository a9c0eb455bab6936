import type { Logger } from 'pino';
import type { NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type ConsumerMessages } from '@nats-io/jetstream';
import { errorText } from '../../redact.ts';
import type { CentralChange } from '../sink.ts';

export interface FollowOptions {
  /** The changes stream (ANDON_CHANGES); optional at the server: without it there is no sync back. */
  stream: string;
  /** `andon.changes.<gateway id>`. */
  subject: string;
  /** The durable consumer's name (`andon-<gateway id>`): where this gateway has read up to, kept by the cluster. */
  durable: string;
  /** Commits the changes (the sync applier); throws only when the store fails. */
  apply: (changes: CentralChange[]) => void;
  checkEvery: number;
  log?: Logger;
}

export interface ChangesFollower {
  stop(): Promise<void>;
}

/** A message's change: the CentralChange JSON (contracts §Central API), one per message. */
function parse(data: Uint8Array): CentralChange | string {
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder().decode(data));
  } catch {
    return 'not JSON';
  }
  const c = v as Partial<CentralChange> | null;
  if (c === null || typeof c !== 'object' || Array.isArray(c)) return 'not a JSON object';
  if (typeof c.ticketId !== 'string' || typeof c.action !== 'string') return 'without ticketId and action (strings)';
  return { ticketId: c.ticketId, action: c.action, by: typeof c.by === 'string' ? c.by : 'central', at: c.at as number, fields: c.fields && typeof c.fields === 'object' ? c.fields : {} };
}

/**
 * Sync back over NATS (gateway/forward/nats/README.md §Sync back): a durable pull consumer on
 * `andon.changes.<gateway id>` of the changes stream; each change is applied as POST /api/v1/sync applies
 * it (refusals recorded in sync_log), and acked only after its commit. A store failure naks it (redelivered
 * later); a message that is no change is logged and terminated (never redelivered). Without the stream,
 * it looks again every `checkEvery` and forwarding goes on.
 */
export function followChanges(nc: NatsConnection, opts: FollowOptions): ChangesFollower {
  const log = opts.log?.child({ component: 'sync', stream: opts.stream });
  let stopped = false;
  let messages: ConsumerMessages | undefined;
  let timer: NodeJS.Timeout | undefined;
  let said = '';
  const once = (msg: string, level: 'info' | 'warn') => {
    if (msg !== said) log?.[level]({ code: level === 'warn' ? 'ANDON_FORWARD_RETRY' : undefined }, msg);
    said = msg;
  };

  async function run(): Promise<void> {
    const jsm = await jetstreamManager(nc, { checkAPI: false });
    try {
      await jsm.streams.info(opts.stream);
    } catch (err) {
      if (/stream not found/i.test(errorText(err))) return once(`no sync back over NATS: stream ${opts.stream} does not exist (andon nats init creates it); forwarding goes on`, 'info');
      throw err;
    }
    await jsm.consumers.add(opts.stream, { durable_name: opts.durable, filter_subject: opts.subject, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All, ack_wait: 30_000_000_000, max_ack_pending: 100 });
    const consumer = await jetstream(nc).consumers.get(opts.stream, opts.durable);
    messages = await consumer.consume({ max_messages: 50 });
    once(`following changes from central on ${opts.subject}`, 'info');
    for await (const m of messages) {
      const change = parse(m.data);
      if (typeof change === 'string') {
        log?.warn({ code: 'ANDON_FORWARD_SYNC_NOT_ALLOWED', seq: m.seq }, `a message on ${m.subject} is no change (${change}): dropped`);
        m.term(); // no reason text: nats-server 2.9 ignores "+TERM <reason>" and the message stays unacked
        continue;
      }
      try {
        opts.apply([change]);
      } catch (err) {
        log?.error({ err: errorText(err), code: 'ANDON_STORE_UNAVAILABLE', ticket: change.ticketId }, 'cannot commit a change from central; NATS delivers it again');
        m.nak(5_000);
        continue;
      }
      m.ack();
    }
  }

  function loop(): void {
    if (stopped) return;
    run()
      .catch((err: unknown) => once(`cannot follow changes on ${opts.subject}: ${errorText(err)}; trying again`, 'warn'))
      .finally(() => {
        messages = undefined;
        if (stopped) return;
        // Without the stream (no sync back wanted) looking every 30 s is enough.
        timer = setTimeout(loop, Math.max(opts.checkEvery, 30_000));
        timer.unref?.();
      });
  }
  loop();

  return {
    async stop(): Promise<void> {
      stopped = true;
      clearTimeout(timer);
      await messages?.close();
    },
  };
}
