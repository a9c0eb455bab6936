import type { Logger } from 'pino';
import type { ConnectorStatus } from '../connector.ts';
import { backoffBase, backoffDelay } from './backoff.ts';
import { ModbusError, type Transport } from './client.ts';
import type { Poller } from './poll.ts';

export interface DeviceDeps {
  log: Logger;
  poller: Poller;
  /** Opens a connection; `onClose` fires when the device drops it. */
  open: (onClose: () => void) => Promise<Transport>;
  status: (status: ConnectorStatus) => void;
  pollInterval: number;
  random: () => number;
}

const STOP_WAIT_MS = 2_000;

/**
 * One device's lifecycle: connect, poll at a fixed rate, and on any transport
 * failure (refused, dropped, timed out) go down, close, and reconnect with
 * exponential backoff and jitter. Nothing here is shared between sources: a
 * dead device only ever delays its own loop.
 *
 *   connecting ──poll ok──> up ⇄ degraded (some reads refused)
 *        │                  │
 *        └──fail──> down <──┘ fail ──backoff, reconnect, poll ok──> up
 */
export function createDevice(deps: DeviceDeps) {
  const { log, poller } = deps;
  let status: ConnectorStatus = 'connecting';
  let stopped = false;
  let transport: Transport | undefined;
  let loop: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  let downAt: number | undefined;

  const setStatus = (next: ConnectorStatus) => {
    if (next === status) return;
    status = next;
    deps.status(next);
  };

  /** Waits `ms`, or less when woken (stop, or the device dropped the connection). */
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      if (stopped) return resolve();
      const done = () => {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      wake = done;
    });

  const closeTransport = async () => {
    const t = transport;
    transport = undefined;
    if (t) await t.close();
  };

  const failed = (err: unknown, failures: number, retryInMs: number) => {
    const code = err instanceof ModbusError ? err.code : 'ANDON_MODBUS_UNREACHABLE';
    if (status !== 'down') {
      downAt = performance.now();
      poller.allBad();
      setStatus('down');
      log.warn({ err, code, attempt: failures, retryInMs: Math.round(retryInMs) }, 'device down; reconnecting with backoff');
    } else {
      log.debug({ code, attempt: failures, retryInMs: Math.round(retryInMs), reason: err instanceof Error ? err.message : String(err) }, 'reconnect failed');
    }
  };

  const polled = (failedTags: number) => {
    if (downAt !== undefined) {
      log.info({ downMs: Math.round(performance.now() - downAt) }, 'device back up');
      downAt = undefined;
    }
    setStatus(failedTags > 0 ? 'degraded' : 'up');
  };

  async function run(firstAttemptDone: () => void): Promise<void> {
    let failures = 0;
    while (!stopped) {
      let failure: unknown;
      try {
        const connection = await deps.open(() => wake?.());
        transport = connection;
        while (!stopped) {
          const started = performance.now();
          const outcome = await poller.poll(connection);
          if (stopped) break;
          failures = 0;
          polled(outcome.failedTags);
          firstAttemptDone();
          // Fixed rate: the next poll starts one interval after this one started (at once if this one overran).
          await pause(started + deps.pollInterval - performance.now());
        }
      } catch (err) {
        failure = err;
      }
      await closeTransport();
      if (stopped) break;
      failures++;
      const delay = backoffDelay(failures, backoffBase(deps.pollInterval), undefined, deps.random);
      failed(failure, failures, delay);
      firstAttemptDone();
      await pause(delay);
    }
  }

  return {
    get status(): ConnectorStatus {
      return status;
    },

    /** Resolves after the first attempt (a poll done, or the first failure); never rejects. */
    start(): Promise<void> {
      if (loop || stopped) return Promise.resolve();
      return new Promise<void>((resolve) => {
        loop = run(resolve).catch((err: unknown) => {
          // run() catches per attempt; reaching here is a bug, not a device problem.
          log.error({ err, code: 'ANDON_INTERNAL' }, 'modbus poll loop crashed');
          setStatus('down');
          resolve();
        });
      });
    },

    /** Stops polling and drops the connection; bounded even when a request hangs. */
    async stop(): Promise<void> {
      stopped = true;
      wake?.();
      await closeTransport();
      if (loop) await Promise.race([loop, new Promise<void>((resolve) => setTimeout(resolve, STOP_WAIT_MS).unref())]);
    },

    /** Runs a write on the live connection; refuses when the device is down or the source stopped. */
    async withConnection<T>(what: string, op: (t: Transport) => Promise<T>): Promise<T> {
      if (stopped || !transport || status === 'down') throw new ModbusError('ANDON_MODBUS_DOWN', `${what}: source is ${stopped ? 'stopped' : 'down'}`);
      return op(transport);
    },
  };
}

export type Device = ReturnType<typeof createDevice>;
