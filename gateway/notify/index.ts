import type { Logger } from 'pino';
import type { SchedulerLike } from 'rxjs';
import type { AndonConfig } from '../../config/schema.ts';
import type { Metrics } from '../metrics.ts';
import type { TicketStore } from '../store/store.ts';
import type { TicketEngine } from '../tickets/engine.ts';
import { createNotifier, NOTIFY_OUTCOMES } from './notifier.ts';

export interface NotificationsDeps {
  store: TicketStore;
  engine: Pick<TicketEngine, 'changes$'>;
  scheduler: SchedulerLike;
  metrics: Pick<Metrics, 'notifications'>;
  log: Logger;
  fetch?: typeof fetch;
  random?: () => number;
}

/** The notifier as `startGateway` runs it when `notify:` has channels; counts outcomes per channel. */
export function startNotifications(config: Pick<AndonConfig, 'notify' | 'gateway'>, deps: NotificationsDeps) {
  const notifier = createNotifier({
    store: deps.store,
    channels: config.notify,
    changes$: deps.engine.changes$,
    scheduler: deps.scheduler,
    publicUrl: config.gateway.publicUrl,
    timezone: config.gateway.timezone,
    locale: config.gateway.locale,
    log: deps.log,
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
    ...(deps.random ? { random: deps.random } : {}),
  });
  // Every channel and outcome shows from the start (0); channel label values are config ids only.
  for (const channel of Object.keys(config.notify)) for (const outcome of NOTIFY_OUTCOMES) deps.metrics.notifications.inc({ channel, outcome }, 0);
  const counted = notifier.deliveries$.subscribe((d) => deps.metrics.notifications.inc({ channel: d.channel, outcome: d.outcome }));
  notifier.start();
  return {
    notifier,
    /** Stops in bounded time; messages in flight are aborted and go after the next start. */
    async stop(): Promise<void> {
      await notifier.stop();
      counted.unsubscribe();
    },
  };
}
