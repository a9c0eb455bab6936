import type { Logger } from 'pino';
import type { Observable } from 'rxjs';
import type { Signal } from '../model/signal.ts';

/** Where a connector stands with its peer. */
export type ConnectorStatus = 'connecting' | 'up' | 'degraded' | 'down';

/** Why an incoming payload was refused (a closed set: it becomes a metric label). */
export type RejectReason = 'malformed' | 'wrong-type' | 'unknown-alias' | 'too-large' | 'unmapped' | 'sequence' | 'read-error' | 'expression';

/** What the gateway gives every connector. */
export interface ConnectorDeps {
  /** A child logger with `{ component: 'connector', id }` already bound. */
  log: Logger;
  /** Counts a refused payload (also logged by the connector, rate-limited). */
  reject: (reason: RejectReason) => void;
  /** Where the connector keeps files of its own (OPC UA PKI, MQTT session state). */
  dataDir: string;
}

/** A write to the plant (actions: the andon light). Fields per protocol, from config `actions[].write`. */
export interface WriteRequest {
  nodeId?: string | undefined;
  table?: 'holding' | 'coil' | undefined;
  address?: number | undefined;
  topic?: string | undefined;
  value: number | boolean | string;
}

/**
 * The one contract between the gateway and a protocol. The gateway knows
 * connectors only through this interface and the registry.
 *
 * `signals$` is consumed synchronously: when `next(signal)` returns, the ticket
 * changes that signal caused are committed. A connector that must not lose
 * data (MQTT QoS 1) acknowledges its peer only after `next` returns. A
 * connector that acknowledges nothing on the strength of a commit says
 * `commitsTogether`: then what it emits in one go is committed together, just
 * after (see below).
 */
export interface Connector {
  readonly id: string;
  readonly signals$: Observable<Signal>;
  readonly status$: Observable<ConnectorStatus>;
  /** Starts connecting; resolves once the first attempt has been made (connected or not). Never rejects for a peer that is down: it retries with backoff. */
  start(): Promise<void>;
  /** Disconnects and completes `signals$` and `status$`, in bounded time. */
  stop(): Promise<void>;
  /** Writes to the plant; rejects with an AndonError when the peer refuses or is down. */
  write?(req: WriteRequest): Promise<void>;
  /** Acknowledges a native alarm condition at the peer (OPC UA A&C) when its ticket is acknowledged. */
  acknowledge?(asset: string, conditionName: string, comment: string): Promise<void>;
  /** The assets whose native alarm conditions this connector acknowledges (with `acknowledge`). */
  readonly alarmAssets?: readonly string[];
  /**
   * True when no acknowledgement to the peer waits for a commit (a Modbus poll, OPC UA, whose client
   * acknowledges publish responses by itself): the signals it emits in one synchronous run (a poll's
   * block, a publish response's values) then go through the rules together and commit in one
   * transaction, one fsync, in a microtask right after that run. One commit per signal held an alarm
   * flood to the disk's fsync rate (~4-5k raises/s, bench/flood/inprocess.ts with batches of 1).
   */
  readonly commitsTogether?: boolean;
  /**
   * For a connector whose acknowledgements wait for the commit (MQTT QoS 1) but which can hold them back
   * (corked): the gateway then queues its signals as for `commitsTogether` and hands it `commit`, which
   * commits what is queued at once and throws when the store cannot. The connector calls it before any
   * acknowledgement leaves, and drops the acknowledgements (the peer redelivers) when it throws.
   */
  commitWith?(commit: () => void): void;
}

/**
 * Creates a source's connector without connecting: it reads and checks what it
 * needs from the config (files, node ids) and throws an AndonError (with a
 * `path` relative to the source entry, such as `tls.ca`) for what cannot work.
 * It opens no socket and starts no timer until `start()`: `andon check-config`
 * creates every connector and stops it again, and `andon start` creates them
 * all before it listens.
 */
export type ConnectorFactory<C> = (config: C, deps: ConnectorDeps) => Connector;
