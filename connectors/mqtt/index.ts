import { connect, type IClientSubscribeOptions, type MqttClient } from 'mqtt';
import { asyncScheduler, filter, firstValueFrom, Observable, ReplaySubject, type Subscriber } from 'rxjs';
import { backoff } from '../../model/backoff.ts';
import { AndonError } from '../../model/errors.ts';
import type { Signal } from '../../model/signal.ts';
import type { Connector, ConnectorDeps, ConnectorStatus, WriteRequest } from '../connector.ts';
import type { MqttSourceConfig } from './config.ts';
import { compileJsonMapping, type JsonMapper } from './json.ts';
import { clientOptions } from './options.ts';
import { splitReads } from './reads.ts';
import { createRefuse } from './rejects.ts';
import { encodeRebirthRequest } from './sparkplug-payload.ts';
import { createSparkplugHost } from './sparkplug.ts';
import { compileTopicFilter, type TopicFilter } from './topic.ts';

export { mqttSourceSchema, type MqttSourceConfig } from './config.ts';

const STOP_TIMEOUT_MS = 2_000;
const WRITE_TIMEOUT_MS = 10_000;
const ERROR_LOG_EVERY_MS = 60_000;
/**
 * Messages handled in one event-loop turn before the next is taken in a later
 * turn. mqtt.js works through a whole socket read (up to 32 × 64 KiB) before
 * Node reads again, and takes no next packet before `done`: deferring `done`
 * now and then keeps HTTP, /metrics and the rules' timers answering during a
 * burst (bench/ingest, 200k messages: event-loop lag max 1.0–1.4 s without it, 0.24–0.32 s with 500 per turn, same msg/s).
 */
const MESSAGES_PER_TURN = 500;

/** PUBACKs held in one corked write at most (see `corked` in createMqttConnector). */
const CORKED_MAX = 64;

/**
 * An MQTT source (JSON and Sparkplug B subscriptions), see README.md.
 *
 * No loss: a QoS 1 message is acknowledged to the broker only after every
 * subscriber's `next()` returned for all its signals (mqtt.js `handleMessage`:
 * its callback sends the PUBACK). When a message cannot be handed over (no
 * subscriber, a subscriber's stream failed during `next`, the mapping code
 * threw), it is left unacknowledged, later messages of that connection are
 * not taken either, and the connection is dropped: after the reconnect delay
 * the broker redelivers from the persistent session, in order (at least once:
 * subscribers that already had it see it again). A failure is seen only when
 * it closes the subscriber (an error thrown inside its pipeline); RxJS reports
 * a throw from a plain `subscribe(next)` handler asynchronously, out of reach.
 * Payloads that can never succeed (bad JSON, wrong types, unknown aliases, too
 * large) are refused, counted, and acknowledged.
 */
export function createMqttConnector(config: MqttSourceConfig, deps: ConnectorDeps): Connector {
  const log = deps.log;
  const options = clientOptions(config);
  const now = () => asyncScheduler.now();
  const { refuse, flush } = createRefuse(deps.reject, log, () => performance.now());
  const routes: { filter: TopicFilter; json: JsonMapper | undefined }[] = config.subscriptions.map((sub) => ({
    filter: compileTopicFilter(sub.topic),
    json: sub.format === 'json' ? compileJsonMapping(sub, config.id, now) : undefined,
  }));
  const subscribeTo: Record<string, IClientSubscribeOptions> = Object.fromEntries(config.subscriptions.map((s) => [s.topic, { qos: s.qos }]));

  let client: MqttClient | undefined;
  let stopping: Promise<void> | undefined;
  let subscribedOnce = false;
  let subscriptionsRefused = false;
  /** Set when a message could not be handed over: nothing more is taken on this connection. */
  let refusing = false;
  let deliveryFailures = 0;
  /** Reconnect attempts since the last connect. */
  let reconnects = 0;
  /** The gateway's one backoff formula (equal jitter: never at once, never in lockstep). */
  const reconnectBackoff = { base: config.reconnectPeriod, max: config.maxReconnectPeriod, jitter: 'equal' } as const;
  let lastError = { message: '', at: -Infinity };

  const sinks = new Set<Subscriber<Signal>>();
  const signals$ = new Observable<Signal>((subscriber) => {
    if (stopping) return subscriber.complete();
    sinks.add(subscriber);
    return () => sinks.delete(subscriber);
  });
  const status$ = new ReplaySubject<ConnectorStatus>(1);
  let status: ConnectorStatus | undefined;
  const setStatus = (s: ConnectorStatus) => {
    if (s === status) return;
    status = s;
    status$.next(s);
  };

  const sparkplug = createSparkplugHost({
    source: config.id,
    now,
    log,
    requestRebirth(group, node) {
      if (!client?.connected) return;
      client.publish(`spBv1.0/${group}/NCMD/${node}`, Buffer.from(encodeRebirthRequest(now())), { qos: 0, retain: false });
    },
  });

  /** Hands signals to every subscriber; false when that cannot be confirmed for all of them. */
  function deliver(signals: Signal[]): boolean {
    if (signals.length === 0) return true;
    if (sinks.size === 0) return false;
    for (const signal of signals) {
      for (const sink of [...sinks]) {
        if (sink.closed) return false;
        sink.next(signal);
        // A subscriber whose pipeline threw is errored and closed by now.
        if (sink.closed) return false;
      }
    }
    return true;
  }

  /** Maps and delivers one message; true when it may be acknowledged (a Promise while JSONata expressions evaluate). */
  function handle(topic: string, payload: Buffer): boolean | Promise<boolean> {
    const refuseHere = (reason: Parameters<typeof refuse>[0], why: string) => refuse(reason, topic, why);
    if (payload.length > config.maxMessageBytes) {
      refuseHere('too-large', `${payload.length} bytes, more than maxMessageBytes ${config.maxMessageBytes}`);
      return true;
    }
    for (const route of routes) {
      const captures = route.filter.match(topic);
      if (!captures) continue;
      const signals = route.json ? route.json.map(topic, captures, payload, refuseHere) : sparkplug.handle(topic, payload, refuseHere);
      // JSONata: mqtt.js takes no next packet before `done`, so this connection's messages stay in order.
      return Array.isArray(signals) ? deliver(signals) : signals.then(deliver);
    }
    refuseHere('unmapped', 'no subscription of this source matches the topic (a subscription left in the persistent session?)');
    return true;
  }

  const logError = (err: Error, message: string) => {
    const t = performance.now();
    if (err.message === lastError.message && t - lastError.at < ERROR_LOG_EVERY_MS) return;
    lastError = { message: err.message, at: t };
    log.warn({ err, code: (err as { code?: unknown }).code, url: config.url }, message);
  };

  // Messages handled in this event-loop turn; reset by a setImmediate once the turn ends.
  let inTurn = 0;
  const turnEnded = () => {
    inTurn = 0;
  };
  // PUBACKs of the packets mqtt.js handles in one go (its packet loop chains them with process.nextTick)
  // leave in one write: the socket is corked at the first and uncorked in a microtask, which runs once that
  // chain is done, in the same turn. One system call per packet was the largest cost per message (writev).
  // At most CORKED_MAX wait: a corked write is an object per PUBACK that lives until the uncork, and 500 of
  // them lived across enough scavenges to be promoted (two thirds of what the young generation promoted
  // at 50k msg/s once the reads came in slices).
  let corked: { uncork(): void; destroy(): void } | undefined;
  let corkedCount = 0;
  /**
   * The gateway's commit of the signals handed over so far (Connector.commitWith), when it queues them:
   * then the corked PUBACKs leave only after it returned, and are dropped with the connection when it
   * throws (the broker redelivers). The messages of one corked write, up to CORKED_MAX, commit together:
   * one fsync for them, not one each (an alarm flood over MQTT).
   */
  let commit: (() => void) | undefined;
  /**
   * After messages could not be handed over or committed: nothing more is taken on this connection, and
   * the next reconnect waits longer with each failure in a row. Returns that wait (ms).
   */
  const refuseForNow = (): number => {
    refusing = true;
    deliveryFailures++;
    const delay = backoff(deliveryFailures, reconnectBackoff);
    if (client) client.options.reconnectPeriod = delay;
    return delay;
  };
  /** Drops the connection after a failed commit: the PUBACKs held in it never leave, the broker redelivers. */
  const dropAcks = (stream: { destroy(): void }, err: unknown) => {
    const delay = refuseForNow();
    logError(
      new AndonError('ANDON_MQTT_DELIVERY_FAILED', `signals of the messages just taken could not be committed (${(err as Error).message}); reconnecting in ${delay} ms for redelivery`, {
        cause: err,
      }),
      'mqtt messages left unacknowledged',
    );
    stream.destroy();
  };
  const uncorkNow = () => {
    const stream = corked;
    corked = undefined;
    if (!stream) return;
    if (commit) {
      try {
        commit();
      } catch (err) {
        dropAcks(stream, err);
        return;
      }
    }
    stream.uncork();
  };
  /** Acknowledges (lets mqtt.js take the next packet) now, or in a later turn once this one has handled enough. */
  const pace = (done: () => void): void => {
    if (inTurn++ === 0) setImmediate(turnEnded);
    if (inTurn < MESSAGES_PER_TURN) return done();
    setImmediate(done);
  };

  function createClient(): MqttClient {
    const c = connect(config.url, options);
    // every connection's reads in slices (reads.ts): this one, made by connect(), and each reconnect's
    const built = c as unknown as { streamBuilder: (client: MqttClient) => MqttClient['stream'] };
    const build = built.streamBuilder;
    built.streamBuilder = (client) => splitReads(build(client));
    splitReads(c.stream);
    c.handleMessage = (packet, callback) => {
      if (corked !== undefined && ++corkedCount >= CORKED_MAX) uncorkNow();
      if (corked === undefined && !c.stream.destroyed) {
        c.stream.cork();
        corked = c.stream;
        corkedCount = 0;
        queueMicrotask(uncorkNow);
      }
      const done = (err?: Error): void => (err ? void callback(err) : pace(() => void callback()));
      if (refusing || stopping) return done(new Error('not taken: the connection is being dropped'));
      /** Acknowledges the message, or leaves it for redelivery when it could not be handed over. */
      const settle = (handed: boolean): void => {
        let ok = handed;
        // handed over outside a corked write (after a JSONata expression): committed before its PUBACK can leave
        if (ok && commit && corked === undefined && packet.qos > 0) {
          try {
            commit();
          } catch (err) {
            logError(err as Error, 'mqtt message not committed');
            ok = false;
          }
        }
        if (ok) {
          deliveryFailures = 0;
          return done();
        }
        if (packet.qos === 0) {
          // Nothing to redeliver: QoS 0 is at most once by choice of the subscription.
          logError(
            new AndonError('ANDON_MQTT_DELIVERY_FAILED', `signals of a QoS 0 message on "${packet.topic}" could not be handed over`),
            'mqtt QoS 0 message lost',
          );
          return done();
        }
        const delay = refuseForNow();
        const err = new AndonError(
          'ANDON_MQTT_DELIVERY_FAILED',
          `signals of a message on "${packet.topic}" could not be handed over; reconnecting in ${delay} ms for redelivery`,
        );
        logError(err, 'mqtt message left unacknowledged');
        done(err);
        // What was acknowledged before this message goes out before the connection is dropped.
        uncorkNow();
        c.stream.destroy();
      };
      const threw = (err: unknown): false => {
        log.error({ err, topic: packet.topic }, 'mqtt message processing threw');
        return false;
      };
      let ok: boolean | Promise<boolean>;
      try {
        ok = handle(packet.topic, typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload);
      } catch (err) {
        ok = threw(err);
      }
      if (typeof ok === 'boolean') return settle(ok);
      ok.then(settle, (err: unknown) => settle(threw(err)));
    };
    c.on('connect', (connack) => {
      refusing = false;
      reconnects = 0;
      if (deliveryFailures === 0) c.options.reconnectPeriod = config.reconnectPeriod;
      log.info({ url: config.url, clientId: options.clientId, sessionPresent: connack.sessionPresent }, 'mqtt connected');
      // The session keeps our subscriptions; subscribe anyway on the first connect (the config may have changed).
      if (subscribedOnce && connack.sessionPresent) return setStatus(subscriptionsRefused ? 'degraded' : 'up');
      // 'up' once the broker confirmed the subscriptions: from then on, nothing published is missed.
      c.subscribe(subscribeTo, (err, granted) => {
        if (err) return logError(err, 'mqtt subscribe failed');
        subscribedOnce = true;
        const refused = (granted ?? []).filter((g) => g.qos === 128).map((g) => g.topic);
        subscriptionsRefused = refused.length > 0;
        if (subscriptionsRefused) log.error({ topics: refused }, 'mqtt broker refused subscriptions (check its ACL)');
        setStatus(subscriptionsRefused ? 'degraded' : 'up');
      });
    });
    c.on('reconnect', () => {
      // Backoff: the next wait (if this attempt fails) doubles, with jitter, up to maxReconnectPeriod; after a
      // delivery failure it goes on from that failure's wait.
      reconnects++;
      c.options.reconnectPeriod = backoff(Math.max(deliveryFailures, 1) + reconnects, reconnectBackoff);
    });
    c.on('close', () => {
      if (!stopping) setStatus('down');
    });
    c.on('error', (err) => logError(err, 'mqtt connection error'));
    return c;
  }

  return {
    id: config.id,
    signals$,
    status$: status$.asObservable(),
    commitWith(fn: () => void) {
      commit = fn;
    },

    start(): Promise<void> {
      if (client || stopping) return Promise.resolve();
      setStatus('connecting');
      client = createClient();
      const tried = firstValueFrom(status$.pipe(filter((s) => s !== 'connecting')), { defaultValue: 'down' as const });
      return tried.then(() => undefined);
    },

    stop(): Promise<void> {
      stopping ??= (async () => {
        const c = client;
        if (c) {
          await new Promise<void>((resolve) => {
            const force = setTimeout(() => {
              log.warn('mqtt disconnect timed out; closing the socket');
              c.stream?.destroy();
              resolve();
            }, STOP_TIMEOUT_MS);
            c.end(false, {}, () => {
              clearTimeout(force);
              resolve();
            });
          });
        }
        flush();
        setStatus('down');
        status$.complete();
        for (const sink of [...sinks]) sink.complete();
      })();
      return stopping;
    },

    async write(req: WriteRequest): Promise<void> {
      const topic = req.topic;
      if (!topic || /[+#]/.test(topic))
        throw new AndonError('ANDON_MQTT_WRITE_INVALID', `an MQTT write needs a topic without wildcards, not ${JSON.stringify(topic)}`);
      const c = client;
      if (!c?.connected || stopping)
        throw new AndonError('ANDON_MQTT_NOT_CONNECTED', `mqtt source "${config.id}" is not connected; nothing was published to "${topic}"`);
      const payload = typeof req.value === 'string' ? req.value : JSON.stringify(req.value);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no PUBACK within ${WRITE_TIMEOUT_MS} ms`)), WRITE_TIMEOUT_MS);
      });
      try {
        await Promise.race([c.publishAsync(topic, payload, { qos: 1, retain: false }), timeout]);
      } catch (err) {
        throw new AndonError('ANDON_MQTT_WRITE_FAILED', `publish to "${topic}" failed: ${(err as Error).message}`, { cause: err });
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
