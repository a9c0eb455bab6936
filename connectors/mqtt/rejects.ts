import type { Logger } from 'pino';
import type { ErrorCode } from '../../model/errors.ts';
import type { RejectReason } from '../connector.ts';

/** The error code a refusal is logged with, where one names it. */
const CODES: Partial<Record<RejectReason, ErrorCode>> = { expression: 'ANDON_MQTT_EXPRESSION_FAILED' };

/** Refuses one payload (or one item of it): counted every time, logged at most once per reason per window. */
export type Refuse = (reason: RejectReason, topic: string, why: string) => void;

export const REJECT_LOG_WINDOW_MS = 10_000;

/**
 * Counts every refusal through `deps.reject` and warns at most once per reason
 * per 10 s window; the next warning (or `flush`, on stop) says how many were
 * refused in between. `now` is a monotonic clock in ms.
 */
export function createRefuse(reject: (reason: RejectReason) => void, log: Logger, now: () => number): { refuse: Refuse; flush: () => void } {
  const windows = new Map<RejectReason, { since: number; suppressed: number }>();
  const refuse: Refuse = (reason, topic, why) => {
    reject(reason);
    const t = now();
    const w = windows.get(reason);
    if (w && t - w.since < REJECT_LOG_WINDOW_MS) {
      w.suppressed++;
      return;
    }
    const suppressed = w?.suppressed ?? 0;
    windows.set(reason, { since: t, suppressed: 0 });
    const more = suppressed > 0 ? `; ${suppressed} more refused for this reason since the last warning` : '';
    log.warn({ reason, code: CODES[reason], topic, why, suppressed }, `mqtt payload refused (${reason})${more}`);
  };
  const flush = () => {
    for (const [reason, w] of windows) {
      if (w.suppressed > 0) log.warn({ reason, suppressed: w.suppressed }, `mqtt payloads refused (${reason}): ${w.suppressed} since the last warning`);
    }
    windows.clear();
  };
  return { refuse, flush };
}
