import { firstValueFrom, filter, timeout, toArray, take, type Observable } from 'rxjs';
import { parseConfig } from '../../config/load.ts';
import type { AndonConfig } from '../../config/schema.ts';
import { createNotifier, type NotifierDeps, type NotifyDelivery } from '../../gateway/notify/notifier.ts';
import { createRuntime } from '../../gateway/runtime.ts';
import { TicketStore } from '../../gateway/store/store.ts';
import { VirtualScheduler } from '../../rules/virtual-scheduler.ts';
import { seeded } from '../forward/kit.ts';

export const T0 = Date.parse('2026-03-02T06:00:00Z');

/**
 * One P1 rule (`<area>/<asset>/alarm/<code>`) and one P2 rule (`.../warn/...`), both notifying `sup`;
 * an escalation to `vp` 10 minutes after opening unless resolved. `extra` is appended (more channels).
 */
export const notifyConfig = (url: string, channel = '', extra = ''): AndonConfig =>
  parseConfig(`
gateway: { id: notify-test, timezone: Asia/Shanghai, publicUrl: "https://andon.example" }
rules:
  - { id: alarms, when: { tag: "**/alarm/**", equals: true }, fault: alarm-stop, priority: P1, notify: [sup] }
  - { id: warnings, when: { tag: "**/warn/**", equals: true }, fault: warning, priority: P2, notify: [sup] }
escalation:
  - { after: 10m, unless: resolved, level: 1, notify: [vp] }
notify:
  sup: { type: webhook, format: wecom, url: "${url}/sup", backoff: { base: 1s, max: 10s }${channel} }
  vp: { type: webhook, format: json, url: "${url}/vp", backoff: { base: 1s, max: 10s } }
${extra}`);

/** A gateway core on virtual time (store file, runtime, notifier) with helpers to drive it. */
export async function notifyCore(file: string, config: AndonConfig, opts: Partial<NotifierDeps> & { start?: number } = {}) {
  const store = await TicketStore.open(file);
  const clock = new VirtualScheduler(opts.start ?? T0);
  const runtime = createRuntime({ config, store, scheduler: clock });
  const notifier = createNotifier({
    store,
    channels: config.notify,
    changes$: runtime.engine.changes$,
    scheduler: clock,
    random: seeded(11),
    publicUrl: config.gateway.publicUrl,
    timezone: config.gateway.timezone,
    ...opts,
  });
  return {
    store,
    runtime,
    notifier,
    clock,
    /** Raises the P1 alarm (or with `kind` "warn" the P2 warning) of `asset`, in its own area. */
    raise: (asset: string, kind: 'alarm' | 'warn' = 'alarm') => runtime.push({ source: 'plc', tag: `area-${asset}/${asset}/${kind}/E1`, value: true, quality: 'good', ts: clock.now() }),
    ticket: (asset: string, fault = 'alarm-stop') => {
      const t = store.liveByKey(`${asset}/${fault}`);
      if (!t) throw new Error(`no ticket for ${asset}`);
      return t;
    },
    act: (asset: string, action: string, fields: Record<string, unknown> = {}) =>
      runtime.act({ type: 'transition', at: clock.now(), key: `${asset}/alarm-stop`, action, by: 'wang', fields }),
    advance: (ms: number) => clock.advanceTo(clock.now() + ms),
    /** The next `n` outcomes that pass `test`. */
    outcomes: (n: number, test: (d: NotifyDelivery) => boolean = () => true, ms = 5_000): Promise<NotifyDelivery[]> =>
      firstValueFrom(notifier.deliveries$.pipe(filter(test), take(n), toArray(), timeout(ms))),
    close: async () => {
      await notifier.stop();
      runtime.stop();
      await store.close();
    },
  };
}

/** The next value of `source` that passes `test`, or a rejection after `ms`. */
export const nextOf = <T>(source: Observable<T>, test: (v: T) => boolean, ms = 5_000): Promise<T> => firstValueFrom(source.pipe(filter(test), timeout(ms)));
