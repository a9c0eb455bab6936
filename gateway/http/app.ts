import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { AndonConfig } from '../../config/schema.ts';
import { AndonError, isAndonError } from '../errors.ts';
import { createSyncApplier, type SyncApplier } from '../forward/sync.ts';
import type { Metrics } from '../metrics.ts';
import type { Runtime } from '../runtime.ts';
import type { TicketStore } from '../store/store.ts';
import { authorizer } from './auth.ts';
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
}

/** Builds the HTTP API (design §7) without listening; `main` listens, tests use `inject`. */
export function buildApp(deps: AppDeps): FastifyInstance {
  const app = Fastify({ logger: deps.logger ?? false, bodyLimit: deps.config.gateway.http.bodyLimit });
  const auth = authorizer(deps.config.gateway.auth);
  app.setValidatorCompiler(validatorCompiler);

  app.setErrorHandler((err, req, reply) => {
    if (isAndonError(err)) return reply.status(err.status).send({ code: err.code, message: err.message, ...(err.path ? { path: err.path } : {}) });
    const e = err as { validation?: unknown; statusCode?: number; code?: string; message: string };
    if (e.validation) return reply.status(400).send({ code: 'ANDON_REQUEST_INVALID', message: e.message });
    if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return reply.status(413).send({ code: 'ANDON_REQUEST_TOO_LARGE', message: e.message });
    if (e.statusCode && e.statusCode < 500) return reply.status(e.statusCode).send({ code: 'ANDON_REQUEST_INVALID', message: e.message });
    req.log.error({ err }, 'request failed');
    return reply.status(500).send({ code: 'ANDON_INTERNAL', message: 'internal error; see the gateway log' });
  });
  app.setNotFoundHandler((req, reply) => reply.status(404).send({ code: 'ANDON_ROUTE_NOT_FOUND', message: `no route ${req.method} ${req.url}` }));

  app.get('/healthz', { schema: { response: { 200: { type: 'object', properties: { status: { type: 'string' } } } } } }, async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    if (!deps.ready()) return reply.status(503).send({ code: 'ANDON_STORE_UNAVAILABLE', message: 'not ready yet' });
    return { status: 'ready' };
  });
  app.get('/metrics', async (_req, reply) => reply.type(deps.registry.contentType).send(await deps.registry.metrics()));

  app.register(ticketRoutes, { prefix: '/api/v1', store: deps.store, runtime: deps.runtime, auth, now: deps.now });
  app.register(signalRoutes, { prefix: '/api/v1', config: deps.config, runtime: deps.runtime, metrics: deps.metrics, auth, now: deps.now });
  const applier =
    deps.applier ?? createSyncApplier({ runtime: deps.runtime, store: deps.store, now: deps.now, onResult: (r) => deps.metrics.syncChanges.inc({ outcome: r.outcome }) });
  app.register(syncRoutes, { prefix: '/api/v1', applier, auth, now: deps.now });
  app.register(outboxRoutes, { prefix: '/api/v1', store: deps.store, auth, now: deps.now, wake: () => deps.forwarder?.wake() });
  return app;
}

export { AndonError };
