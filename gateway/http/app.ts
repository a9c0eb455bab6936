import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import type { Registry } from 'prom-client';
import type { AndonConfig } from '../../config/schema.ts';
import { AndonError, isAndonError } from '../../model/errors.ts';
import { createSyncApplier, type SyncApplier } from '../forward/sync.ts';
import type { Metrics } from '../metrics.ts';
import type { Runtime } from '../runtime.ts';
import type { TicketStore } from '../store/store.ts';
import { guard } from './access.ts';
import type { ReloadResult } from '../reload.ts';
import { adminRoutes } from './admin.ts';
import { AuditLog, type AuditWho } from '../audit/audit.ts';
import { auditRoutes } from './audit.ts';
import { alertmanagerRoutes } from './alertmanager.ts';
import { boardRoutes, securePages } from './board.ts';
import { registerDocs } from './docs.ts';
import { reportRoutes } from './reports.ts';
import { warningReportRoutes } from './warnings.ts';
import { knowledgeRoutes } from './knowledge.ts';
import { recordRoutes } from './records.ts';
import { errorRef } from './schemas.ts';
import { eventRoutes, type EventStreamOptions } from './events.ts';
import { notificationRoutes } from './notifications.ts';
import { oncallRoutes } from './oncall.ts';
import { outboxRoutes } from './outbox.ts';
import { createOidc, type Oidc } from './oidc.ts';
import { sessionWho, signInRoutes } from './sign-in.ts';
import { signalRoutes } from './signals.ts';
import { createStreamKeys } from './stream-keys.ts';
import { syncRoutes } from './sync.ts';
import { createTagView } from '../tags.ts';
import { tagRoutes } from './tags.ts';
import { ticketRoutes } from './tickets.ts';
import { validatorCompiler } from './validation.ts';

export interface AppDeps {
  config: AndonConfig;
  store: TicketStore;
  runtime: Runtime;
  registry: Registry;
  metrics: Metrics;
  /** Wall clock for request times (the live scheduler's now). */
  now: () => number;
  ready: () => boolean;
  /** The gateway's logger: server errors (5xx) are logged with their request id; requests themselves are not. */
  logger?: FastifyBaseLogger;
  /** Applies changes from central (POST /api/v1/sync); made here from runtime and store when absent. */
  applier?: SyncApplier;
  /** The forwarder, when forwarding runs: woken after an un-park. */
  forwarder?: { wake(): void };
  /** The notifier, when notifications run: woken after a retry. */
  notifier?: { wake(): void };
  /** The config in use now, after reloads (tokens, http sources, assets, notify channels, shelving); default `config`. */
  current?: () => AndonConfig;
  /** Reloads the config file (POST /api/v1/admin/reload) for `who`; without it the route answers ANDON_RELOAD_UNAVAILABLE. */
  reload?: (who: AuditWho) => Promise<ReloadResult>;
  /** The audit trail (gateway/audit); made here on the store when absent. Flushed when the app closes. */
  audit?: AuditLog;
  /** Tuning of GET /api/v1/events (ping, per-client buffer, resume limit); defaults are the contract's. */
  events?: EventStreamOptions;
  /** The OpenID Connect client of gateway.auth.oidc; made here when absent. Discovered when the app is ready (not awaited). */
  oidc?: Oidc;
}

/** Builds the HTTP API (contracts §HTTP API) without listening; `main` listens, tests use `inject`. */
export function buildApp(deps: AppDeps): FastifyInstance {
  // Every error answer is { code, message } from the catalogue, and counted (andon_http_errors_total{code}).
  // A server error (5xx) also names its request id, which its log line carries.
  const fail = (reply: FastifyReply, status: number, code: string, message: string, path?: string) => {
    deps.metrics.httpErrors.inc({ code });
    return reply.status(status).send({ code, message, ...(path ? { path } : {}), ...(status >= 500 ? { requestId: reply.request.id } : {}) });
  };
  const http = deps.config.gateway.http;
  const current = deps.current ?? (() => deps.config);
  const app: FastifyInstance = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger } : {}),
    // One info line per request would drown the log under ingest load; errors are logged below.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: () => randomUUID(),
    bodyLimit: http.bodyLimit,
    // URLs the router refuses before any route (a path parameter over 100 characters, broken percent-encoding).
    frameworkErrors: (err, _req, reply) => {
      void fail(reply, 400, 'ANDON_REQUEST_INVALID', err.message);
    },
    // Safe before auth: a slow or stalled request is closed, idle keep-alives too (Node checks
    // request and header timeouts on an interval, hence the short one).
    requestTimeout: http.requestTimeout,
    keepAliveTimeout: http.keepAliveTimeout,
    http: {
      requestTimeout: http.requestTimeout,
      headersTimeout: Math.min(http.requestTimeout, 10_000),
      connectionsCheckingInterval: Math.max(10, Math.min(5_000, http.requestTimeout / 2)),
    },
  });
  app.server.maxConnections = http.maxConnections;
  app.setValidatorCompiler(validatorCompiler);

  app.setErrorHandler((err, req, reply) => {
    if (isAndonError(err)) {
      if (err.status >= 500) req.log.error({ component: 'http', err, code: err.code, method: req.method, url: req.url }, err.message);
      return fail(reply, err.status, err.code, err.message, err.path);
    }
    const e = err as { validation?: { keyword?: string; params?: { allowedValues?: unknown[] } }[]; statusCode?: number; code?: string; message: string };
    if (e.validation) {
      // A value outside an enum (?format=xlsx, ?state=done) names the values that are allowed.
      const allowed = e.validation[0]?.keyword === 'enum' ? e.validation[0].params?.allowedValues : undefined;
      return fail(reply, 400, 'ANDON_REQUEST_INVALID', allowed ? `${e.message}: ${allowed.join(', ')}` : e.message);
    }
    if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return fail(reply, 413, 'ANDON_REQUEST_TOO_LARGE', e.message);
    if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return fail(reply, 415, 'ANDON_REQUEST_MEDIA_TYPE', e.message);
    if (e.statusCode && e.statusCode < 500) return fail(reply, e.statusCode, 'ANDON_REQUEST_INVALID', e.message);
    req.log.error({ component: 'http', err, code: 'ANDON_INTERNAL', method: req.method, url: req.url }, 'request failed');
    return fail(reply, 500, 'ANDON_INTERNAL', 'internal error; see the gateway log');
  });
  app.setNotFoundHandler((req, reply) => fail(reply, 404, 'ANDON_ROUTE_NOT_FOUND', `no route ${req.method} ${req.url}`));

  const audit =
    deps.audit ??
    new AuditLog({ store: deps.store, now: deps.now, log: deps.logger, onWritten: (action) => deps.metrics.auditRecords.inc({ action }), onFailed: () => deps.metrics.auditErrors.inc() });
  // what is folded (token uses, repeated refusals) is written before the store closes
  app.addHook('onClose', async () => audit.flush());
  const streamKeys = createStreamKeys({ now: deps.now });
  // Personal sign-in (gateway.auth.oidc): the provider is discovered when the app is ready, without holding the start.
  const oidcConfig = deps.config.gateway.auth.oidc;
  const oidc = oidcConfig ? (deps.oidc ?? createOidc(oidcConfig, { log: deps.logger, onUp: (up) => deps.metrics.oidcUp.set(up ? 1 : 0) })) : undefined;
  if (oidc) {
    deps.metrics.oidcUp.set(0);
    app.addHook('onReady', async () => void oidc.discover());
  }
  guard(app, deps.config, streamKeys, current, audit, oidc ? sessionWho(deps.store.sessions, deps.now) : undefined);
  securePages(app);
  registerDocs(app, deps.config);
  // In a plugin, so that they load after the OpenAPI plugin and appear at /docs.
  app.register(async (root) => {
    const status = { 200: { type: 'object', properties: { status: { type: 'string' } } } };
    root.get('/healthz', { config: { access: 'public' }, schema: { summary: 'Liveness: the process answers', response: status } }, async () => ({ status: 'ok' }));
    root.get('/readyz', { config: { access: 'public' }, schema: { summary: 'Readiness: store open and sources started', response: { ...status, 503: errorRef } } }, async (_req, reply) => {
      if (!deps.ready()) return reply.status(503).send({ code: 'ANDON_STORE_UNAVAILABLE', message: 'not ready yet' });
      return { status: 'ready' };
    });
    const text = { 200: { description: 'Prometheus text format.', content: { 'text/plain': { schema: { type: 'string' } } } } };
    root.get('/metrics', { config: { access: 'public' }, schema: { summary: 'Prometheus metrics (contracts §Metrics)', response: text } }, async (_req, reply) => reply.type(deps.registry.contentType).send(await deps.registry.metrics()));
  });

  const locale = deps.config.gateway.locale;
  app.register(ticketRoutes, { prefix: '/api/v1', store: deps.store, runtime: deps.runtime, now: deps.now, locale, audit });
  app.register(reportRoutes, { prefix: '/api/v1', store: deps.store, now: deps.now, locale });
  app.register(warningReportRoutes, { prefix: '/api/v1', store: deps.store, now: deps.now, current, locale });
  app.register(knowledgeRoutes, { prefix: '/api/v1', store: deps.store, locale });
  app.register(recordRoutes, { prefix: '/api/v1', store: deps.store, runtime: deps.runtime, now: deps.now, audit });
  app.register(eventRoutes, { prefix: '/api/v1', store: deps.store, changes$: deps.runtime.engine.changes$, streamKeys, onSlowClient: () => deps.metrics.sseCut.inc(), ...deps.events });
  app.register(signalRoutes, { prefix: '/api/v1', config: deps.config, current, runtime: deps.runtime, metrics: deps.metrics, now: deps.now });
  app.register(alertmanagerRoutes, { prefix: '/api/v1', config: deps.config, current, runtime: deps.runtime, metrics: deps.metrics, now: deps.now });
  const applier =
    deps.applier ?? createSyncApplier({ runtime: deps.runtime, store: deps.store, now: deps.now, onResult: (r) => deps.metrics.syncChanges.inc({ outcome: r.outcome }) });
  app.register(syncRoutes, { prefix: '/api/v1', applier, now: deps.now });
  app.register(outboxRoutes, { prefix: '/api/v1', store: deps.store, now: deps.now, wake: () => deps.forwarder?.wake(), audit });
  app.register(notificationRoutes, { prefix: '/api/v1', store: deps.store, now: deps.now, channels: () => Object.keys(current().notify), wake: () => deps.notifier?.wake(), audit });
  app.register(auditRoutes, { prefix: '/api/v1', store: deps.store, locale });
  app.register(oncallRoutes, { prefix: '/api/v1', current, now: deps.now });
  app.register(boardRoutes, { config: deps.config, current });
  app.register(signInRoutes, {
    ...(oidc && oidcConfig ? { oidc: { config: oidcConfig, client: oidc } } : {}),
    publicUrl: deps.config.gateway.publicUrl,
    sessions: deps.store.sessions,
    now: deps.now,
    audit,
    onSignIn: (outcome) => deps.metrics.signIns.inc({ outcome }),
  });
  app.register(tagRoutes, { prefix: '/api/v1', tags: deps.runtime.tags ?? createTagView(deps.config) });
  app.register(adminRoutes, { prefix: '/api/v1', reload: deps.reload, onRefused: (code) => deps.metrics.httpErrors.inc({ code }), audit });
  return app;
}

export { AndonError };
