import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import type { Registry } from 'prom-client';
import type { AndonConfig } from '../../config/schema.ts';
import { AndonError, isAndonError } from '../errors.ts';
import { createSyncApplier, type SyncApplier } from '../forward/sync.ts';
import type { Metrics } from '../metrics.ts';
import type { Runtime } from '../runtime.ts';
import type { TicketStore } from '../store/store.ts';
import { alertmanagerRoutes } from './alertmanager.ts';
import { authorizer } from './auth.ts';
import { boardRoutes } from './board.ts';
import { registerDocs } from './docs.ts';
import { reportRoutes } from './reports.ts';
import { errorRef } from './schemas.ts';
import { eventRoutes, type EventStreamOptions } from './events.ts';
import { notificationRoutes } from './notifications.ts';
import { outboxRoutes } from './outbox.ts';
import { signalRoutes } from './signals.ts';
import { syncRoutes } from './sync.ts';
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
  logger?: boolean | object;
  /** Applies changes from central (POST /api/v1/sync); made here from runtime and store when absent. */
  applier?: SyncApplier;
  /** The forwarder, when forwarding runs: woken after an un-park. */
  forwarder?: { wake(): void };
  /** The notifier, when notifications run: woken after a retry. */
  notifier?: { wake(): void };
  /** Tuning of GET /api/v1/events (ping, per-client buffer, resume limit); defaults are the contract's. */
  events?: EventStreamOptions;
}

/** Builds the HTTP API (design §7) without listening; `main` listens, tests use `inject`. */
export function buildApp(deps: AppDeps): FastifyInstance {
  // Every error answer is { code, message } from the catalogue, and counted (andon_http_errors_total{code}).
  const fail = (reply: FastifyReply, status: number, code: string, message: string, path?: string) => {
    deps.metrics.httpErrors.inc({ code });
    return reply.status(status).send({ code, message, ...(path ? { path } : {}) });
  };
  const app = Fastify({
    logger: deps.logger ?? false,
    bodyLimit: deps.config.gateway.http.bodyLimit,
    // URLs the router refuses before any route (a path parameter over 100 characters, broken percent-encoding).
    frameworkErrors: (err, _req, reply) => fail(reply, 400, 'ANDON_REQUEST_INVALID', err.message),
  });
  const auth = authorizer(deps.config.gateway.auth);
  app.setValidatorCompiler(validatorCompiler);
  app.setErrorHandler((err, req, reply) => {
    if (isAndonError(err)) return fail(reply, err.status, err.code, err.message, err.path);
    const e = err as { validation?: unknown; statusCode?: number; code?: string; message: string };
    if (e.validation) return fail(reply, 400, 'ANDON_REQUEST_INVALID', e.message);
    if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return fail(reply, 413, 'ANDON_REQUEST_TOO_LARGE', e.message);
    if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return fail(reply, 415, 'ANDON_REQUEST_MEDIA_TYPE', e.message);
    if (e.statusCode && e.statusCode < 500) return fail(reply, e.statusCode, 'ANDON_REQUEST_INVALID', e.message);
    req.log.error({ err }, 'request failed');
    return fail(reply, 500, 'ANDON_INTERNAL', 'internal error; see the gateway log');
  });
  app.setNotFoundHandler((req, reply) => fail(reply, 404, 'ANDON_ROUTE_NOT_FOUND', `no route ${req.method} ${req.url}`));

  registerDocs(app, deps.config);
  // In a plugin, so that they load after the OpenAPI plugin and appear at /docs.
  app.register(async (root) => {
    const status = { 200: { type: 'object', properties: { status: { type: 'string' } } } };
    root.get('/healthz', { schema: { response: status } }, async () => ({ status: 'ok' }));
    root.get('/readyz', { schema: { response: { ...status, 503: errorRef } } }, async (_req, reply) => {
      if (!deps.ready()) return reply.status(503).send({ code: 'ANDON_STORE_UNAVAILABLE', message: 'not ready yet' });
      return { status: 'ready' };
    });
    const text = { 200: { description: 'Prometheus text format.', content: { 'text/plain': { schema: { type: 'string' } } } } };
    root.get('/metrics', { schema: { response: text } }, async (_req, reply) => reply.type(deps.registry.contentType).send(await deps.registry.metrics()));
  });

  app.register(ticketRoutes, { prefix: '/api/v1', store: deps.store, runtime: deps.runtime, auth, now: deps.now });
  app.register(reportRoutes, { prefix: '/api/v1', store: deps.store, auth, now: deps.now });
  app.register(eventRoutes, { prefix: '/api/v1', store: deps.store, changes$: deps.runtime.engine.changes$, auth, onSlowClient: () => deps.metrics.sseCut.inc(), ...deps.events });
  app.register(signalRoutes, { prefix: '/api/v1', config: deps.config, runtime: deps.runtime, metrics: deps.metrics, auth, now: deps.now });
  app.register(alertmanagerRoutes, { prefix: '/api/v1', config: deps.config, runtime: deps.runtime, metrics: deps.metrics, auth, now: deps.now });
  const applier =
    deps.applier ?? createSyncApplier({ runtime: deps.runtime, store: deps.store, now: deps.now, onResult: (r) => deps.metrics.syncChanges.inc({ outcome: r.outcome }) });
  app.register(syncRoutes, { prefix: '/api/v1', applier, auth, now: deps.now });
  app.register(outboxRoutes, { prefix: '/api/v1', store: deps.store, auth, now: deps.now, wake: () => deps.forwarder?.wake() });
  app.register(notificationRoutes, { prefix: '/api/v1', store: deps.store, auth, now: deps.now, channels: Object.keys(deps.config.notify), wake: () => deps.notifier?.wake() });
  app.register(boardRoutes, { config: deps.config });
  return app;
}

export { AndonError };
