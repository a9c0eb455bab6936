import type { Logger } from 'pino';
import { asyncScheduler, filter, tap, type Subscription } from 'rxjs';
import type { Connector, ConnectorStatus } from '../connectors/connector.ts';
import { createConnector } from '../connectors/registry.ts';
import type { AndonConfig } from '../config/schema.ts';
import type { Metrics } from './metrics.ts';
import type { Runtime } from './runtime.ts';
import { timeGuard } from './signal-time.ts';
import type { TicketChange } from './tickets/engine.ts';

const STOP_TIMEOUT_MS = 5_000;

/**
 * Starts a connector per configured source and feeds its signals into the
 * runtime. `ready()` is true once every source has been tried once (its first
 * status after `connecting`, up or down).
 */
export async function startSources(config: AndonConfig, runtime: Runtime, metrics: Metrics, log: Logger) {
  const connectors = new Map<string, Connector>();
  const subs: Subscription[] = [];
  const tried = new Set<string>();
  const status = new Map<string, ConnectorStatus>();
  // Protocol sources cannot be answered: a signal with a bad ts (gateway/signal-time.ts) takes the arrival time.
  const checkTime = timeGuard({
    maxSkew: config.gateway.maxClockSkew,
    now: () => asyncScheduler.now(),
    onReplaced: (source) => metrics.timeReplaced.inc({ source }),
    log: log.child({ component: 'signal-time' }),
  });
  for (const source of config.sources) {
    if (source.type === 'http') {
      tried.add(source.id);
      metrics.sourceUp.set({ source: source.id }, 1);
      continue;
    }
    const clog = log.child({ component: 'connector', id: source.id });
    const connector = await createConnector(source, {
      log: clog,
      reject: (reason) => metrics.rejected.inc({ source: source.id, reason }),
      dataDir: config.gateway.dataDir,
    });
    if (!connector) continue;
    connectors.set(source.id, connector);
    metrics.sourceUp.set({ source: source.id }, 0);
    subs.push(
      // The push runs inside the pipe, not in subscribe(next): if it throws, the error reaches the
      // connector synchronously, so it does not acknowledge (MQTT QoS 1) what was not committed.
      connector.signals$
        .pipe(
          tap((s) => {
            runtime.push(checkTime(s));
            metrics.signals.inc({ source: source.id });
          }),
        )
        .subscribe({ error: (err) => clog.error({ err }, 'signal stream failed; the connector redelivers after reconnecting') }),
      connector.status$.subscribe((st) => {
        status.set(source.id, st);
        if (st !== 'connecting') tried.add(source.id);
        metrics.sourceUp.set({ source: source.id }, st === 'up' || st === 'degraded' ? 1 : 0);
        clog.info({ status: st }, `source ${st}`);
      }),
    );
  }
  // Acknowledging a ticket acknowledges the native alarm conditions behind it (OPC UA A&C).
  const alarmSources = new Map(config.sources.flatMap((s) => (s.type === 'opcua' ? s.alarms.map((a) => [a.asset, s.id] as const) : [])));
  subs.push(
    runtime.engine.changes$.pipe(filter((c) => c.event.action === 'ack')).subscribe((c: TicketChange) => {
      const sourceId = c.ticket.asset ? alarmSources.get(c.ticket.asset) : undefined;
      const connector = sourceId ? connectors.get(sourceId) : undefined;
      if (!connector?.acknowledge || !c.ticket.asset) return;
      const conditions = new Set(c.ticket.evidence.map((e) => /\/alarm\/([^/]+)$/.exec(e.tag)?.[1]).filter((x): x is string => !!x));
      for (const condition of conditions) {
        connector.acknowledge(c.ticket.asset, condition, `acknowledged in Andon by ${c.event.by}`).catch((err) => log.warn({ err, id: sourceId, condition }, 'condition acknowledge failed'));
      }
    }),
  );
  await Promise.all([...connectors.values()].map((c) => c.start()));
  return {
    connectors,
    status,
    ready: () => config.sources.every((s) => tried.has(s.id)),
    async stop(): Promise<void> {
      await Promise.all(
        [...connectors.values()].map((c) =>
          Promise.race([c.stop(), new Promise<void>((resolve) => setTimeout(resolve, STOP_TIMEOUT_MS).unref())]).catch((err) => log.warn({ err, id: c.id }, 'connector stop failed')),
        ),
      );
      for (const s of subs) s.unsubscribe();
    },
  };
}
