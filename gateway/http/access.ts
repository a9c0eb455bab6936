import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import type { AndonConfig } from '../../config/schema.ts';
import { AndonError, isAndonError } from '../../model/errors.ts';
import type { AuditLog } from '../audit/audit.ts';
import { authorizer, bearerToken, type Access, type Who } from './auth.ts';
import { csrfOk, CSRF_HEADER } from './sign-in.ts';
import type { StreamKeys } from './stream-keys.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who the request's credentials name; null without credentials (anonymous read, public routes). */
    who: Who | null;
  }
  interface FastifyContextConfig {
    /**
     * Who may call the route, declared in its own options (`config: { access: 'operator' }`):
     * the `onRequest` hook below enforces it and the OpenAPI (gateway/http/docs.ts) documents it.
     * A route without it stops the app from being built.
     */
    access?: Access;
    /** The route also takes a single-use stream key as `?key=` in place of the Authorization header (GET /api/v1/events). */
    streamKey?: boolean;
  }
}

/**
 * Files served by plugins that take no route options (the board's files from
 * @fastify/static, the API docs UI from @fastify/swagger-ui): anyone may fetch
 * them. Every other route declares its access itself.
 */
const PUBLIC_FILES = /^\/(board\/.*|docs(\/.*)?)$/;

/** Methods that change nothing: a session cookie is enough for them, without the CSRF header. */
const SAFE_METHODS = new Set(['GET', 'HEAD']);

/** Whether a request has a body that is still on the wire (it is never read when refused here). */
const hasBody = (req: FastifyRequest) => req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;

/**
 * Role checks, once for every route, before anything of the request body is
 * read: each route declares its access in its options (`config.access`; a
 * route without one stops the build when it is added), and an `onRequest` hook
 * enforces it. A refused request with a body gets `Connection: close`, so its
 * body is not read either. A route with `config.streamKey` (GET /api/v1/events)
 * also takes a stream key (`?key=`) in place of the header. Registered before
 * the routes. With an audit log, a token's use is a sign-in there (a row per token and address an hour)
 * and every refusal (401, 403) is recorded with who and from where. With `session` (personal sign-in),
 * a request without an Authorization header may come with a session cookie instead; one that changes
 * something (not GET or HEAD) must then carry the session's X-Andon-CSRF header.
 */
export function guard(app: FastifyInstance, config: AndonConfig, streamKeys: StreamKeys, current: () => AndonConfig = () => config, audit?: AuditLog, session?: (cookieHeader: string | undefined) => Who | undefined): void {
  // Tokens are read from the config in use at each request: a reload rotates them (anonymousRead needs a restart).
  let seen = current();
  let auth = authorizer(seen.gateway.auth);
  const authNow = () => {
    const c = current();
    if (c !== seen) {
      seen = c;
      auth = authorizer({ ...c.gateway.auth, anonymousRead: config.gateway.auth.anonymousRead });
    }
    return auth;
  };
  app.decorateRequest('who', null);

  app.addHook('onRoute', (route: RouteOptions) => {
    const access = route.config?.access ?? (PUBLIC_FILES.test(route.url) ? 'public' : undefined);
    if (access === undefined) {
      throw new Error(
        `route ${[route.method].flat().join(',')} ${route.url} declares no access: add config: { access: 'public' | 'read' | 'operator' | 'ingest' | 'admin' } to its options`,
      );
    }
    route.config = { ...route.config, access };
  });

  app.addHook('onRequest', async (req, reply) => {
    const access = req.routeOptions.config.access;
    // No access: no route matched (the 404 answer), which reads nothing.
    if (access === undefined || access === 'public') return;
    try {
      const token = bearerToken(req.headers.authorization);
      const auth = authNow();
      if (token !== undefined) {
        req.who = auth.identify(token);
        audit?.signIn({ actor: req.who.name, origin: req.ip }, 'token');
      } else if (req.headers.authorization !== undefined) throw new AndonError('ANDON_AUTH_REQUIRED', 'the Authorization header must be "Bearer <token>"');
      else if (session !== undefined && req.headers.cookie !== undefined && (req.who = session(req.headers.cookie) ?? null) !== null) {
        if (!SAFE_METHODS.has(req.method) && !csrfOk(req, req.who)) throw new AndonError('ANDON_AUTH_CSRF', `a request with the session cookie that changes something needs the session's ${CSRF_HEADER} header (GET /api/v1/me)`);
      } else if (req.routeOptions.config.streamKey === true) req.who = redeem(streamKeys, (req.query as { key?: unknown }).key);
      auth.allow(req.who, access);
    } catch (err) {
      if (hasBody(req)) reply.header('connection', 'close');
      // the route's pattern, never the URL (a stream key rides in its query)
      const route = `${req.method} ${req.routeOptions.url ?? ''}`;
      if (isAndonError(err)) audit?.refused({ action: 'auth.refused', actor: req.who?.name ?? null, origin: req.ip, code: err.code, target: route, details: { message: err.message } });
      throw err;
    }
  });
}

/** The holder of a stream key, null without one; ANDON_AUTH_REQUIRED for one that is unknown, used or expired. */
function redeem(keys: StreamKeys, key: unknown): Who | null {
  if (key === undefined) return null;
  const found = typeof key === 'string' ? keys.redeem(key) : undefined;
  if (!found) throw new AndonError('ANDON_AUTH_REQUIRED', 'unknown, used or expired stream key: get a new one (POST /api/v1/events/key)');
  return found.who;
}
