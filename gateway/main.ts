import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { Registry } from 'prom-client';
import { asyncScheduler, type SchedulerLike } from 'rxjs';
import { ConfigError, readConfigFile, type ConfigProblem } from '../config/load.ts';
import type { AndonConfig } from '../config/schema.ts';
import type { Connector, RejectReason } from '../connectors/connector.ts';
import { createSink, startForwarding } from './forward/index.ts';
import type { Sink } from './forward/sink.ts';
import { createSyncApplier } from './forward/sync.ts';
import { buildApp } from './http/app.ts';
import { startNotifications } from './notify/index.ts';
import { areasOf, createMetrics, groupsOf, type ReloadOutcome } from './metrics.ts';
import { invalid, planReload, ReloadError, restartRequired, type ReloadResult } from './reload.ts';
import { LOG_REDACT } from './redact.ts';
import { createRuntime, describeCommand } from './runtime.ts';
import { createTagView } from './tags.ts';
import { AndonError, isAndonError } from '../model/errors.ts';
import { createConnectors, wireSources } from './sources.ts';
import { startAuditRetention, startRetention } from './store/retention.ts';
import { AuditLog, type AuditWho } from './audit/audit.ts';
import { startActions } from './actions.ts';
import { TicketStore } from './store/store.ts';

export interface StartOptions {
  /** Override the config's http port (0 picks a free one). */
  port?: number;
  logger?: Logger;
  /** Time for rules, escalation, forwarding and notifications (tests pass a VirtualScheduler); default the wall clock. */
  scheduler?: SchedulerLike;
  /** The file `config` was read from: `reload()` (SIGHUP, POST /api/v1/admin/reload) reads it again. Without it there is no reload. */
  configFile?: string;
  /** sha256 of the file as `config` was read from it (`readConfigFile`); read from the file when absent. */
  configSha?: string;
  /** Environment for `${VAR}` in the file on reload; default process.env. */
  env?: NodeJS.ProcessEnv;
}

/**
 * Live mode: the same runtime as replay on the wall clock, the HTTP API, and
 * the connectors. Returns a handle whose `stop()` drains and closes everything
 * in bounded time. A step that fails stops what had started and throws: no
 * port, timer or connection is left behind.
 */
export async function startGateway(config: AndonConfig, opts: StartOptions = {}) {
  const log = opts.logger ?? pino({ name: 'andon', level: process.env.ANDON_LOG_LEVEL ?? 'info', redact: LOG_REDACT });
  const store = await TicketStore.open(join(config.gateway.dataDir, 'andon.sqlite'), { log, warmWal: true });
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
  /** The config in use: replaced as a whole by a reload (`reload` below). */
  let current = config;
  const metrics = createMetrics(registry, store, {
    defaults: true,
    now: () => scheduler.now(),
    areas: areasOf(config),
    groups: () => groupsOf(current),
  });
  const tags = createTagView(config);
  metrics.watchTags(tags);
  const runtime = createRuntime({
    config,
    store,
    scheduler,
    tags,
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
  const connectorDeps = { log, reject: (source: string, reason: RejectReason) => metrics.rejected.inc({ source, reason }) };
  // Before listening: a connector config that cannot work (a TLS file, a node id) stops the start.
  const connectors = await createConnectors(config, connectorDeps);
  const sources = wireSources(config, connectors, runtime, metrics, log);
  undo.push(() => sources.stop());
  const forwardDeps = { store, runtime, scheduler, metrics, applier, log, gatewayId: config.gateway.id };
  // Before listening: a forward config that cannot work (ANDON_FORWARD_SINK_UNAVAILABLE) stops the start.
  let forwarding = config.forward ? await startForwarding(config.forward, forwardDeps) : undefined;
  undo.push(() => forwarding?.stop());
  // Queued notifications (also those of a previous run) go out from here on; HTTP is not needed for that.
  const notifications = (c: AndonConfig) => (Object.keys(c.notify).length > 0 ? startNotifications(c, { store, engine: runtime.engine, scheduler, metrics, log }) : undefined);
  let notifying = notifications(config);
  undo.push(() => notifying?.stop());
  const retaining = (c: AndonConfig) => {
    const tickets = c.store.retention ? startRetention(store, c.store.retention, scheduler, log) : undefined;
    const audit = c.store.auditRetention ? startAuditRetention(store, c.store.auditRetention, scheduler, log) : undefined;
    return { stop: () => [tickets, audit].forEach((r) => r?.stop()) };
  };
  let retention = retaining(config);
  undo.push(() => retention.stop());
  // Who did what, when and from where (the HTTP side, reloads); flushed when the HTTP app closes.
  const audit = new AuditLog({ store, now, log, onWritten: (action) => metrics.auditRecords.inc({ action }), onFailed: () => metrics.auditErrors.inc() });
  const sha = opts.configSha ?? (opts.configFile ? sha256Of(opts.configFile) : undefined);
  if (sha) metrics.configSha(sha);
  const reloads = opts.configFile ? reloader(opts.configFile, sha ?? '', opts.env ?? process.env) : undefined;
  // /readyz answers from the start (not ready) while the sources make their first attempt.
  const started: { sources?: ReturnType<typeof wireSources> } = {};
  const app = buildApp({
    config,
    current: () => current,
    store,
    runtime,
    registry,
    metrics,
    now,
    // Not ready while ticket changes are held (the store is failing): signals are refused meanwhile.
    ready: () => runtime.held() === 0 && (started.sources?.ready() ?? false),
    logger: log,
    applier,
    // Whichever forwarder and notifier run now (a reload may replace them).
    forwarder: { wake: () => forwarding?.forwarder.wake() },
    notifier: { wake: () => notifying?.notifier.wake() },
    ...(reloads ? { reload: (who: AuditWho) => reloads.reload('http', who) } : {}),
    audit,
  });
  undo.push(() => app.close());
  const address = await listen(app, config.gateway.http.host, opts.port ?? config.gateway.http.port);
  log.info({ component: 'http', address }, 'andon listening');
  await sources.start();
  started.sources = sources;
  // The stored live tickets (20k docs to parse) only when an action may hold on to one of them.
  const liveFor = (list: AndonConfig['actions']) => (list.length > 0 ? store.liveTickets() : []);
  let actions = startActions(config.actions, runtime, liveFor(config.actions), sources.connectors, log);

  /**
   * Reads the file again and applies it: refused as a whole (ReloadError, nothing applied) when it has
   * problems or changes a key that needs a restart. What can fail is made first (the connectors of
   * changed and new sources, a new forward sink); then, in one synchronous step, the config in use, the
   * runtime (engine, rules, escalation) and the HTTP side (tokens, sources, channels) switch; then the
   * parts that run on their own are restarted where their config changed. One reload at a time.
   */
  function reloader(file: string, firstSha: string, env: NodeJS.ProcessEnv) {
    const rlog = log.child({ component: 'reload' });
    let shaInUse = firstSha;
    let queue: Promise<unknown> = Promise.resolve();
    /** A reload's audit row: who asked, the file's sha before and after, what it did or why it was refused. */
    const audited = (who: AuditWho, trigger: string, outcome: string, details: Record<string, unknown>, code: string | null = null) =>
      audit.record({ ...who, action: 'config.reload', outcome, target: file, code, details: { trigger, oldSha: shaInUse, ...details } });
    const refuse = (outcome: ReloadOutcome, err: ReloadError, trigger: string, who: AuditWho): ReloadError => {
      metrics.reloads.inc({ outcome });
      audited(who, trigger, outcome, { newSha: fileSha(file), ...(err.problems.length > 0 ? { problems: err.problems.length } : {}), ...(err.keys.length > 0 ? { keys: err.keys } : {}) }, err.code);
      const fields = { trigger, code: err.code, file, ...(err.problems.length > 0 ? { problems: err.problems } : {}), ...(err.keys.length > 0 ? { keys: err.keys } : {}) };
      if (outcome === 'invalid') rlog.error(fields, `config reload refused: ${err.message}`);
      else rlog.warn(fields, `config reload refused: ${err.message}`);
      return err;
    };
    const once = async (trigger: string, who: AuditWho): Promise<ReloadResult> => {
      let next: AndonConfig;
      let nextSha: string;
      try {
        ({ config: next, sha: nextSha } = readConfigFile(file, env));
      } catch (err) {
        if (err instanceof ConfigError) throw refuse('invalid', invalid(file, err.problems, err), trigger, who);
        throw err;
      }
      const plan = planReload(current, next);
      if (plan.restart.length > 0) throw refuse('restart_required', restartRequired(file, plan.restart), trigger, who);
      if (plan.changed.length === 0) {
        audited(who, trigger, 'unchanged', { newSha: nextSha, changed: [] });
        shaInUse = nextSha;
        metrics.configSha(nextSha);
        metrics.reloads.inc({ outcome: 'unchanged' });
        current = next;
        rlog.info({ trigger, file, sha: nextSha }, 'config reloaded: nothing changed');
        return { outcome: 'unchanged', sha: nextSha, changed: [], restarted: [], removed: [] };
      }
      // 1. Make what can fail; a failure stops what was made and applies nothing.
      const fresh = new Map<string, Connector>();
      const problems: ConfigProblem[] = [];
      for (const id of plan.startSources) {
        try {
          for (const [k, c] of await createConnectors(next, connectorDeps, new Set([id]))) fresh.set(k, c);
        } catch (err) {
          problems.push(problemOf(err));
        }
      }
      let sink: Sink | undefined;
      if (problems.length === 0 && plan.changed.includes('forward') && next.forward) {
        try {
          sink = await createSink(next.forward, { log, history: (id) => store.history(id), gatewayId: next.gateway.id });
        } catch (err) {
          problems.push(problemOf(err));
        }
      }
      if (problems.length > 0) {
        await Promise.all([...fresh.values()].map((c) => c.stop().catch(() => undefined)));
        throw refuse('invalid', invalid(file, problems), trigger, who);
      }
      // 2. The switch, in one synchronous step: every signal, request and timer from here on meets the new config.
      const oldSha = shaInUse;
      current = next;
      runtime.reconfigure(next, { rebuildRules: plan.rebuildRules, expectedSources: next.sources.map((s) => s.id) });
      shaInUse = nextSha;
      metrics.configSha(nextSha);
      // 3. The parts that run on their own, where their config changed.
      const removed = plan.stopSources.filter((id) => !next.sources.some((s) => s.id === id));
      const sourcesChanged = plan.stopSources.length > 0 || plan.startSources.length > 0;
      if (sourcesChanged) await sources.replace(next, fresh, plan.stopSources);
      if (sourcesChanged || plan.changed.includes('actions')) {
        actions.stop();
        actions = startActions(next.actions, runtime, liveFor(next.actions), sources.connectors, log);
      }
      if (plan.changed.includes('forward')) {
        await forwarding?.stop();
        forwarding = next.forward ? await startForwarding(next.forward, { ...forwardDeps, ...(sink ? { sink } : {}) }) : undefined;
      }
      if (plan.changed.includes('notify') || plan.changed.includes('gateway.publicUrl')) {
        await notifying?.stop();
        notifying = notifications(next);
      }
      if (plan.changed.includes('store')) {
        retention.stop();
        retention = retaining(next);
      }
      metrics.reloads.inc({ outcome: 'applied' });
      const restarted = plan.startSources;
      audit.record({ ...who, action: 'config.reload', outcome: 'applied', target: file, details: { trigger, oldSha, newSha: nextSha, changed: plan.changed, restarted, removed } });
      rlog.info({ trigger, file, sha: nextSha, changed: plan.changed, restarted, removed, rulesRebuilt: plan.rebuildRules }, `config reloaded: ${plan.changed.join(', ')} changed`);
      return { outcome: 'applied', sha: nextSha, changed: plan.changed, restarted, removed };
    };
    return {
      sha: () => shaInUse,
      /** Reloads after any reload still running; rejects with ReloadError when refused. */
      reload(trigger: 'signal' | 'http', who: AuditWho = { actor: null, origin: trigger }): Promise<ReloadResult> {
        const run = queue.then(() =>
          once(trigger, who).catch((err: unknown) => {
            if (!(err instanceof ReloadError)) {
              metrics.reloads.inc({ outcome: 'failed' });
              audited(who, trigger, 'failed', { newSha: fileSha(file), error: (err as Error).message ?? String(err) }, 'ANDON_INTERNAL');
              rlog.error({ trigger, file, err }, 'config reload failed');
            }
            throw err;
          }),
        );
        queue = run.catch(() => undefined);
        return run;
      },
      /** Resolves when no reload runs. */
      idle: () => queue,
    };
  }

  let stopping: Promise<void> | undefined;
  return {
    address,
    store,
    runtime,
    app,
    /** The audit trail (gateway/audit): what signs people in (OIDC) records there too. */
    audit,
    sources,
    get actions() {
      return actions;
    },
    get forwarding() {
      return forwarding;
    },
    get notifying() {
      return notifying;
    },
    /** The config in use (after reloads). */
    config: () => current,
    /**
     * Reads the config file again and applies it (SIGHUP, POST /api/v1/admin/reload). Rejects with
     * ReloadError (nothing applied) when refused; ANDON_RELOAD_UNAVAILABLE without a config file.
     */
    reload(trigger: 'signal' | 'http' = 'signal', who?: AuditWho): Promise<ReloadResult> {
      if (!reloads) return Promise.reject(new ReloadError('ANDON_RELOAD_UNAVAILABLE', 'this gateway was started without a config file; there is nothing to reload'));
      return reloads.reload(trigger, who);
    },
    stop(): Promise<void> {
      stopping ??= (async () => {
        // A reload under way finishes first (each of its steps is bounded).
        await reloads?.idle();
        // Stop taking input first (connectors, then HTTP), then close the store.
        actions.stop();
        await sources.stop();
        await app.close();
        // Requests to central and messages in flight are aborted (each bounded); their rows stay for the next start.
        await Promise.all([forwarding?.stop(), notifying?.stop()]);
        changes.unsubscribe();
        retention.stop();
        runtime.stop();
        await store.close();
        log.info({ component: 'main' }, 'andon stopped');
      })();
      return stopping;
    },
  };
}

/** A connector's or sink's refusal as a config problem (with its path when it has one). */
function problemOf(err: unknown): ConfigProblem {
  if (isAndonError(err)) return { path: err.path ?? '', code: err.code, message: err.message };
  return { path: '', code: 'ANDON_CONFIG_INVALID_VALUE', message: (err as Error).message ?? String(err) };
}

const sha256Of = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** The sha256 of a file for the audit trail, null when it cannot be read. */
const fileSha = (file: string): string | null => {
  try {
    return sha256Of(file);
  } catch {
    return null;
  }
};

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
