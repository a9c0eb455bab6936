import type { Logger } from 'pino';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { ForwardConfig } from '../../../config/schema.ts';
import type { Ticket } from '../../../model/ticket.ts';
import { errorText } from '../../redact.ts';
import { asForwarded, ForwardError, type CentralRef, type ForwardedTicket, type Sink, type SinkState } from '../sink.ts';
import { connectionOptions, covers, NATS_DEFAULTS } from './connection.ts';
import { followChanges, type ChangesFollower } from './changes.ts';

export interface NatsSinkDeps {
  /** This gateway's id: the subject token after the prefix. */
  gatewayId: string;
  log?: Logger;
  /** Backoff max of the forwarder: a de-duplication window shorter than it is warned about. */
  longestRetryMs?: number;
}

const NS_PER_MS = 1_000_000;

/**
 * The `nats` sink (gateway/forward/nats/README.md): each ticket version is published with
 * JetStream acknowledgement to `<prefix>.<gateway id>.<ticket id>`, header `Nats-Msg-Id:
 * <ticket id>:<version>` (the stream drops a second copy within its de-duplication window), payload
 * the HTTP contract's PUT body. It is a policy on the shared delivery worker like the other sinks: a
 * version is delivered on the stream's ack; a failure is a ForwardError the forwarder backs off on.
 *
 * The connection is made in the background: the gateway starts whatever the state of NATS. While the
 * cluster is unreachable, refuses the credentials, or the stream is missing or does not take the
 * gateway's subjects, `put` fails at once with that problem (`retry`), the versions wait in the outbox and
 * the state is down (andon_forward_up 0); the problem is looked at again every `checkInterval`.
 */
export function createNatsSink(config: ForwardConfig, deps: NatsSinkDeps): Sink {
  const stream = config.stream ?? NATS_DEFAULTS.stream;
  const prefix = `${config.subjectPrefix ?? NATS_DEFAULTS.subjectPrefix}.${deps.gatewayId}`;
  const checkEvery = config.checkInterval ?? NATS_DEFAULTS.checkInterval;
  const log = deps.log?.child({ component: 'forward', sink: 'nats' });
  const listeners = new Set<(s: SinkState) => void>();
  let state: SinkState = { up: false, problem: `not connected to NATS yet (${(config.servers ?? []).join(', ')})` };
  let nc: NatsConnection | undefined;
  let js: JetStreamClient | undefined;
  let jsm: JetStreamManager | undefined;
  let timer: NodeJS.Timeout | undefined;
  let checking: Promise<void> | undefined;
  let follower: ChangesFollower | undefined;
  let closed = false;

  function set(next: SinkState): void {
    if (next.up === state.up && next.problem === state.problem) return;
    state = next;
    if (next.up) log?.info({ stream, subjects: `${prefix}.>` }, 'NATS JetStream takes ticket versions');
    else log?.warn({ code: 'ANDON_FORWARD_DOWN', problem: next.problem }, `cannot forward to NATS: ${next.problem ?? ''}; ticket versions wait in the outbox`);
    for (const l of listeners) l(state);
  }

  function later(): void {
    if (closed || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      void check();
    }, checkEvery);
    timer.unref?.();
  }

  /** Connects if need be, then checks the stream; sets the state; looks again later while down. */
  function check(): Promise<void> {
    checking ??= (async () => {
      try {
        if (!nc) {
          try {
            nc = await connect(connectionOptions(config, `andon ${deps.gatewayId}`));
          } catch (err) {
            set({ up: false, problem: `cannot connect to NATS (${(config.servers ?? []).join(', ')}): ${errorText(err)}` });
            return;
          }
          if (closed) return void (await nc.close());
          watch(nc);
          js = jetstream(nc, { timeout: config.timeout });
          jsm = await jetstreamManager(nc, { timeout: config.timeout, checkAPI: false });
        }
        set(await streamProblem());
        follower ??= changesFollower();
      } catch (err) {
        set({ up: false, problem: `cannot check stream ${stream}: ${errorText(err)}` });
      } finally {
        checking = undefined;
        if (!state.up) later();
      }
    })();
    return checking;
  }

  function changesFollower(): ChangesFollower | undefined {
    if (!nc || !sinkApply) return undefined;
    return followChanges(nc, {
      stream: config.changesStream ?? NATS_DEFAULTS.changesStream,
      subject: `${NATS_DEFAULTS.changesPrefix}.${deps.gatewayId}`,
      durable: `andon-${deps.gatewayId}`,
      apply: sinkApply,
      checkEvery,
      ...(log ? { log } : {}),
    });
  }

  /** Whether the stream exists and takes `<prefix>.<gateway id>.>`; a short de-duplication window is a warning only. */
  async function streamProblem(): Promise<SinkState> {
    let info;
    try {
      info = await (jsm as JetStreamManager).streams.info(stream);
    } catch (err) {
      if (/stream not found/i.test(errorText(err))) return { up: false, problem: `stream ${stream} does not exist (run andon nats init)` };
      throw err;
    }
    const subjects = info.config.subjects ?? [];
    if (!subjects.some((s) => covers(s, `${prefix}.>`))) return { up: false, problem: `stream ${stream} does not take ${prefix}.> (its subjects: ${subjects.join(', ') || 'none'}; run andon nats init)` };
    const windowMs = (info.config.duplicate_window ?? 0) / NS_PER_MS;
    if (deps.longestRetryMs !== undefined && windowMs < deps.longestRetryMs) {
      log?.warn({ code: 'ANDON_FORWARD_DOWN', stream, duplicateWindowMs: windowMs, longestRetryMs: deps.longestRetryMs }, `stream ${stream} de-duplicates over ${windowMs} ms only, less than the longest retry: a version re-sent after that may be stored twice (andon nats init sets 2h)`);
    }
    return { up: true };
  }

  /** The client reconnects by itself; its status moves the state. */
  function watch(conn: NatsConnection): void {
    void (async () => {
      for await (const s of conn.status()) {
        if (s.type === 'disconnect') set({ up: false, problem: `lost the connection to NATS ${s.server}; reconnecting` });
        else if (s.type === 'reconnect') void check();
        else if (s.type === 'error') set({ up: false, problem: `NATS: ${errorText(s.error)}` });
      }
    })().catch(() => undefined);
    void conn.closed().then((err) => {
      if (nc !== conn) return;
      nc = js = jsm = undefined;
      void follower?.stop();
      follower = undefined;
      if (closed) return;
      set({ up: false, problem: `the NATS connection closed${err ? `: ${errorText(err)}` : ''}` });
      later();
    });
  }

  let sinkApply: Parameters<NonNullable<Sink['follow']>>[0] | undefined;
  void check();

  return {
    async put(whole: ForwardedTicket | Ticket): Promise<CentralRef> {
      const ticket = asForwarded(whole);
      if (!state.up || !nc || !js) throw new ForwardError('retry', state.problem ?? 'NATS is not usable now');
      const subject = `${prefix}.${ticket.id}`;
      const payload = new TextEncoder().encode(JSON.stringify(ticket));
      const max = nc.info?.max_payload;
      if (max !== undefined && payload.length > max) {
        throw new ForwardError('poison', `ticket ${ticket.id} v${ticket.version} is ${payload.length} bytes as JSON, more than the NATS server's max_payload of ${max} bytes`);
      }
      try {
        const ack = await js.publish(subject, payload, { msgID: `${ticket.id}:${ticket.version}`, expect: { streamName: stream }, timeout: config.timeout });
        // A duplicate ack (the stream had this version already: a resend after a kill) is delivered too.
        void ack;
        return { id: ticket.id, url: null, version: ticket.version };
      } catch (err) {
        const text = errorText(err);
        // No stream answers for the subject (deleted, or its subjects changed): the state says so until a check finds it again.
        if (/no responders|stream not found|expected stream/i.test(text)) {
          set({ up: false, problem: `stream ${stream} does not take ${subject}: ${text} (run andon nats init)` });
          later();
        }
        if (/maximum payload|max_payload|message size exceeds/i.test(text)) throw new ForwardError('poison', `NATS refused ticket ${ticket.id} v${ticket.version}: ${text}`);
        throw new ForwardError('retry', `NATS publish ${subject} v${ticket.version}: ${text}`);
      }
    },

    state: () => state,
    onState(listener: (s: SinkState) => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    follow(apply): void {
      sinkApply = apply;
      if (state.up) follower ??= changesFollower();
    },

    async close(): Promise<void> {
      closed = true;
      clearTimeout(timer);
      await checking;
      await follower?.stop();
      const conn = nc;
      nc = undefined;
      await conn?.drain().catch(() => conn.close());
    },
  };
}
