import type { Logger } from 'pino';
import { asyncScheduler, filter, retry, tap, type Subscription } from 'rxjs';
import type { Connector, ConnectorStatus, RejectReason } from '../connectors/connector.ts';
import type { Signal } from '../model/signal.ts';
import { createConnector } from '../connectors/registry.ts';
import type { AndonConfig } from '../config/schema.ts';
import { AndonError } from '../model/errors.ts';
import type { Metrics } from './metrics.ts';
import type { Runtime } from './runtime.ts';
import { timeGuard } from './signal-time.ts';
import type { TicketChange } from './tickets/engine.ts';
import { valueTypeGuard } from './value-type.ts';

const STOP_TIMEOUT_MS = 5_000;

/** A connector's stop(), bounded: a peer that hangs cannot hold a shutdown. */
const stopWithin = (c: Connector, log: Logger) =>
  Promise.race([c.stop(), new Promise<void>((resolve) => setTimeout(resolve, STOP_TIMEOUT_MS).unref())]).catch((err) => log.warn({ err, id: c.id }, 'connector stop failed'));

/**
 * Creates the connector of every configured source without connecting: config,
 * TLS and certificate files, node ids are checked here (the Connector
 * contract: config errors are thrown before connecting). A failure stops the
 * connectors already created and is thrown with the source's config path
 * (`sources[2].tls.ca`). `andon check-config` and `andon start` both run it;
 * a config reload runs it for the sources in `only` (changed or added).
 */
export async function createConnectors(
  config: AndonConfig,
  deps: { log: Logger; reject?: (source: string, reason: RejectReason) => void },
  only?: ReadonlySet<string>,
): Promise<Map<string, Connector>> {
  const connectors = new Map<string, Connector>();
  for (const [i, source] of config.sources.entries()) {
    if (only && !only.has(source.id)) continue;
    let connector: Connector | undefined;
    try {
      connector = await createConnector(source, {
        log: deps.log.child({ component: 'connector', id: source.id }),
        reject: (reason) => deps.reject?.(source.id, reason),
        dataDir: config.gateway.dataDir,
      });
    } catch (err) {
      await Promise.all([...connectors.values()].map((c) => stopWithin(c, deps.log)));
      throw atSource(err, i);
    }
    if (connector) connectors.set(source.id, connector);
  }
  return connectors;
}

/**
 * `andon check-config`: creates every source's connector as a start would,
 * connects none, stops them all again, and returns every refusal (with its path).
 */
export async function checkConnectors(config: AndonConfig, log: Logger): Promise<AndonError[]> {
  const problems: AndonError[] = [];
  for (const [i, source] of config.sources.entries()) {
    try {
      const connector = await createConnector(source, { log, reject: () => undefined, dataDir: config.gateway.dataDir });
      await connector?.stop();
    } catch (err) {
      const e = atSource(err, i);
      problems.push(e instanceof AndonError ? e : new AndonError('ANDON_CONFIG_INVALID_VALUE', `source ${source.id}: ${(e as Error).message}`, { path: `sources[${i}]`, cause: e }));
    }
  }
  return problems;
}

/** The error of source `i`'s connector with its path from the config root. */
function atSource(err: unknown, i: number): unknown {
  if (!(err instanceof AndonError)) return err;
  const path = `sources[${i}]${err.path ? `.${err.path}` : ''}`;
  return new AndonError(err.code, err.message, { path, cause: err.cause ?? err });
}

/**
 * Wires the connectors of `config.sources` (made by createConnectors) into the
 * runtime; `start()` connects them. `ready()` is true once every source has
 * been tried once (its first status after `connecting`, up or down).
 * `replace()` applies a config reload: only the sources named there restart.
 */
export function wireSources(config: AndonConfig, connectors: Map<string, Connector>, runtime: Runtime, metrics: Metrics, log: Logger) {
  let current = config;
  /** The subscriptions of each wired source (none for an http source). */
  const wired = new Map<string, Subscription[]>();
  const tried = new Set<string>();
  const status = new Map<string, ConnectorStatus>();
  // Protocol sources cannot be answered: a signal with a bad ts (gateway/signal-time.ts) takes the arrival time.
  const checkTime = timeGuard({
    maxSkew: config.gateway.maxClockSkew,
    now: () => asyncScheduler.now(),
    onReplaced: (source) => metrics.timeReplaced.inc({ source }),
    log: log.child({ component: 'signal-time' }),
  });
  // A value no rule on its tag can use (a string for `above: 80`): counted (reason type) and logged once a minute per tag.
  // Made again from the new rules at a reload.
  const typeGuard = (c: AndonConfig) =>
    valueTypeGuard({
      rules: c.rules,
      now: () => asyncScheduler.now(),
      onMismatch: (source) => metrics.rejected.inc({ source, reason: 'type' }),
      log: log.child({ component: 'signal-type' }),
    });
  let checkType = typeGuard(config);
  /**
   * For a connector that `commitsTogether` or takes a `commitWith` (Connector): its signals are queued, and
   * go in with one `pushMany` (one transaction, one fsync) when the connector calls the commit (MQTT,
   * before its corked PUBACKs leave) or else in a microtask right after the synchronous run that emitted
   * them (a poll's block, a publish response). An alarm flood then costs one commit per run, not one per
   * raise. A failure there is logged: the changes the rules made are held and go in first once the
   * store takes them (runtime); the connector's own commit throws it instead.
   */
  const together = (sourceId: string, clog: Logger, connector: Connector) => {
    let queued: Signal[] = [];
    /** Commits what is queued; throws the store's error (the connector's `commit`). */
    const commit = () => {
      if (queued.length === 0) return;
      const list = queued;
      queued = [];
      runtime.pushMany(list);
      for (const s of list) {
        metrics.accepted(sourceId);
        checkType(s);
      }
    };
    const flush = () => {
      try {
        commit();
      } catch (err) {
        clog.error({ err }, 'signals of one read not committed: the store refused them (changes already made are held and go in first once it takes them again)');
      }
    };
    connector.commitWith?.(commit);
    return (s: Signal) => {
      // the connector's own commit usually comes first; this one is for what it emits without an acknowledgement
      if (queued.push(checkTime(s)) === 1) queueMicrotask(flush);
    };
  };
  const wire = (source: AndonConfig['sources'][number]) => {
    if (source.type === 'http') {
      tried.add(source.id);
      metrics.sourceUp.set({ source: source.id }, 1);
      wired.set(source.id, []);
      return;
    }
    const connector = connectors.get(source.id);
    if (!connector) return;
    const clog = log.child({ component: 'connector', id: source.id });
    metrics.sourceUp.set({ source: source.id }, 0);
    wired.set(source.id, [
      connector.commitsTogether || connector.commitWith
        ? connector.signals$.subscribe(together(source.id, clog, connector))
        : // The push runs inside the pipe, not in subscribe(next): if it throws, the error reaches the
          // connector synchronously, so it does not acknowledge (MQTT QoS 1) what was not committed.
          connector.signals$
            .pipe(
              tap((s) => {
                const signal = checkTime(s);
                runtime.push(signal);
                metrics.accepted(source.id);
                checkType(signal);
              }),
              // A failed push (the store) closes this subscription, so the connector does not acknowledge;
              // subscribe again at once, or the source would have no subscriber and take nothing until a restart.
              tap({ error: (err) => clog.error({ err }, 'signals not committed; the connector redelivers after reconnecting') }),
              retry(),
            )
            .subscribe(),
      connector.status$.subscribe((st) => {
        status.set(source.id, st);
        if (st !== 'connecting') tried.add(source.id);
        metrics.sourceUp.set({ source: source.id }, st === 'up' || st === 'degraded' ? 1 : 0);
        clog.info({ status: st }, `source ${st}`);
      }),
    ]);
  };
  for (const source of config.sources) wire(source);
  // Acknowledging a ticket acknowledges the native alarm conditions behind it (OPC UA A&C), at the connector
  // that says it has the asset's alarms (Connector.alarmAssets): the gateway knows no protocol.
  const alarmSourcesOf = () => new Map([...connectors].flatMap(([id, c]) => (c.acknowledge ? (c.alarmAssets ?? []).map((a) => [a, id] as const) : [])));
  let alarmSources = alarmSourcesOf();
  const acks = runtime.engine.changes$.pipe(filter((c) => c.event.action === 'ack')).subscribe((c: TicketChange) => {
    const sourceId = c.ticket.asset ? alarmSources.get(c.ticket.asset) : undefined;
    const connector = sourceId ? connectors.get(sourceId) : undefined;
    if (!connector?.acknowledge || !c.ticket.asset) return;
    const conditions = new Set(c.ticket.evidence.map((e) => /\/alarm\/([^/]+)$/.exec(e.tag)?.[1]).filter((x): x is string => !!x));
    for (const condition of conditions) {
      connector.acknowledge(c.ticket.asset, condition, `acknowledged in Andon by ${c.event.by}`).catch((err) => log.warn({ err, id: sourceId, condition }, 'condition acknowledge failed'));
    }
  });
  /** Stops a source's connector (bounded), then its subscriptions: what it delivers until then still goes in. */
  const unwire = async (id: string) => {
    const connector = connectors.get(id);
    if (connector) await stopWithin(connector, log);
    for (const sub of wired.get(id) ?? []) sub.unsubscribe();
    wired.delete(id);
    connectors.delete(id);
  };
  return {
    connectors,
    status,
    ready: () => current.sources.every((s) => tried.has(s.id)),
    /** Connects every connector; resolves once each has made its first attempt. */
    async start(): Promise<void> {
      await Promise.all([...connectors.values()].map((c) => c.start()));
    },
    /**
     * A config reload: the connectors of `stop` (sources changed or removed) stop, then those of `fresh`
     * (made by createConnectors for the sources changed or added) are wired and started. The other
     * sources keep their connections. A changed source counts as tried already (readiness does not drop).
     */
    async replace(next: AndonConfig, fresh: Map<string, Connector>, stop: string[]): Promise<void> {
      current = next;

      if (next.rules !== config.rules) checkType = typeGuard(next);
      const ids = new Set(next.sources.map((s) => s.id));
      await Promise.all(stop.map((id) => unwire(id)));
      for (const id of stop) {
        if (ids.has(id)) continue;
        tried.delete(id);
        status.delete(id);
        metrics.sourceUp.remove({ source: id });
      }
      for (const [id, c] of fresh) connectors.set(id, c);
      alarmSources = alarmSourcesOf();
      for (const source of next.sources) if (!wired.has(source.id)) wire(source);
      await Promise.all([...fresh.values()].map((c) => c.start()));
    },
    async stop(): Promise<void> {
      await Promise.all([...connectors.values()].map((c) => stopWithin(c, log)));
      for (const subs of wired.values()) for (const sub of subs) sub.unsubscribe();
      acks.unsubscribe();
    },
  };
}
