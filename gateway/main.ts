import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { Registry } from 'prom-client';
import { asyncScheduler, type SchedulerLike } from 'rxjs';
import type { AndonConfig } from '../config/schema.ts';
import { startForwarding } from './forward/index.ts';
import { createSyncApplier } from './forward/sync.ts';
import { buildApp } from './http/app.ts';
import { startNotifications } from './notify/index.ts';
import { areasOf, createMetrics } from './metrics.ts';
import { LOG_REDACT } from './redact.ts';
import { createRuntime, describeCommand } from './runtime.ts';
import { AndonError } from './errors.ts';
import { createConnectors, wireSources } from './sources.ts';
import { startRetention } from './store/retention.ts';
import { startActions } from './actions.ts';
import { TicketStore } from './store/store.ts';

export interface StartOptions {
  /** Override the config's http port (0 picks a free one). */
  port?: number;
  logger?: Logger;
  /** Time for rules, escalation, forwarding and notifications (tests pass a VirtualScheduler); default the wall clock. */
  scheduler?: SchedulerLike;
}

/**
 * Live mode: the same runtime as replay on the wall clock, the HTTP API, and
 * the connectors. Returns a handle whose `stop()` drains and closes everything
 * in bounded time. A step that fails stops what had started and throws: no
 * port, timer or connection is left behind.
 */
export async function startGateway(config: AndonConfig, opts: StartOptions = {}) {
  const log = opts.logger ?? pino({ name: 'andon', level: process.env.ANDON_LOG_LEVEL ?? 'info', redact: LOG_REDACT });
  const store = await TicketStore.open(join(config.gateway.dataDir, 'andon.sqlite'), { log });
  // What has started so far; a later step that fails stops it all again, last first, and the start throws.
  const undo: (() => unknown)[] = [() => store.close()];
  try {
    return await startOnStore(config, opts, log, store, undo);
  } catch (err) {
    for (const step of undo.reverse()) {
      await Promise.resolve()
        .then(step)
        .catch((e: unknown) => log.warn({ component: 'main', err: e }, 'stopping after a failed start failed'));
    }
    throw err;
  }
}

/** The start after the store is open; pushes on `undo` how to stop each thing it starts. */
async function startOnStore(config: AndonConfig, opts: StartOptions, log: Logger, store: TicketStore, undo: (() => unknown)[]) {
  const registry = new Registry();
  const scheduler = opts.scheduler ?? asyncScheduler;
  const metrics = createMetrics(registry, store, {
    defaults: true,
    now: () => scheduler.now(),
    areas: areasOf(config),
  });
  const runtime = createRuntime({
    config,
    store,
    scheduler,
    expectedSources: config.sources.map((s) => s.id),
    onFailure: (cmd, err) => log.error({ component: 'engine', err, command: cmd.type }, 'a timer\'s ticket change could not be committed'),
    onDropped: (cmd, err, code) => {
      metrics.commandsFailed.inc({ code });
      log.error({ component: 'engine', err, code, command: describeCommand(cmd) }, 'a ticket command failed and was dropped');
    },
    onRefused: (cmd, err) => {
      metrics.refused.inc({ code: err.code });
      log.warn({ component: 'engine', code: err.code, command: cmd.type }, err.message);
    },
  });
  undo.push(() => runtime.stop());
  metrics.watchHeld(() => runtime.held());
  const changes = runtime.engine.changes$.subscribe((c) => metrics.onChange(c));
  undo.push(() => changes.unsubscribe());
  const now = () => scheduler.now();
  const applier = createSyncApplier({ runtime, store, now, log, onResult: (r) => metrics.syncChanges.inc({ outcome: r.outcome }) });
  // Before listening: a connector config that cannot work (a TLS file, a node id) stops the start.
  const connectors = await createConnectors(config, { log, reject: (source, reason) => metrics.rejected.inc({ source, reason }) });
  const sources = wireSources(config, connectors, runtime, metrics, log);
  undo.push(() => sources.stop());
  // Before listening: a forward config that cannot work (ANDON_FORWARD_SINK_UNAVAILABLE) stops the start.
  const forwarding = config.forward ? await startForwarding(config.forward, { store, runtime, scheduler, metrics, applier, log }) : undefined;
  if (forwarding) undo.push(() => forwarding.stop());
  // Queued notifications (also those of a previous run) go out from here on; HTTP is not needed for that.
  const notifying = Object.keys(config.notify).length > 0 ? startNotifications(config, { store, engine: runtime.engine, scheduler, metrics, log }) : undefined;
  if (notifying) undo.push(() => notifying.stop());
  const retention = config.store.retention ? startRetention(store, config.store.retention, scheduler, log) : undefined;
  if (retention) undo.push(() => retention.stop());
  // /readyz answers from the start (not ready) while the sources make their first attempt.
  const started: { sources?: ReturnType<typeof wireSources> } = {};
  const app = buildApp({
    config,
    store,
    runtime,
    registry,
    metrics,
    now,
    // Not ready while ticket changes are held (the store is failing): signals are refused meanwhile.
    ready: () => runtime.held() === 0 && (started.sources?.ready() ?? false),
    logger: log,
    applier,
    ...(forwarding ? { forwarder: forwarding.forwarder } : {}),
    ...(notifying ? { notifier: notifying.notifier } : {}),
  });
  undo.push(() => app.close());
  const address = await listen(app, config.gateway.http.host, opts.port ?? config.gateway.http.port);
  log.info({ component: 'http', address }, 'andon listening');
  await sources.start();
  started.sources = sources;
  const actions = startActions(config.actions, runtime, store.liveTickets(), sources.connectors, log);

  let stopping: Promise<void> | undefined;
  return {
    address,
    store,
    runtime,
    app,
    sources,
    actions,
    forwarding,
    notifying,
    stop(): Promise<void> {
      stopping ??= (async () => {
        // Stop taking input first (connectors, then HTTP), then close the store.
        actions.stop();
        await sources.stop();
        await app.close();
        // Requests to central and messages in flight are aborted (each bounded); their rows stay for the next start.
        await Promise.all([forwarding?.stop(), notifying?.stop()]);
        changes.unsubscribe();
        retention?.stop();
        runtime.stop();
        await store.close();
        log.info({ component: 'main' }, 'andon stopped');
      })();
      return stopping;
    },
  };
}

/** app.listen, with a port that cannot be had (in use, not permitted) as ANDON_HTTP_LISTEN. */
async function listen(app: ReturnType<typeof buildApp>, host: string, port: number): Promise<string> {
  try {
    return await app.listen({ host, port });
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw new AndonError('ANDON_HTTP_LISTEN', `cannot listen on ${host}:${port}: ${(err as Error).message}${code && !(err as Error).message.includes(code) ? ` (${code})` : ''}`, {
      path: 'gateway.http.port',
      cause: err,
    });
  }
}
