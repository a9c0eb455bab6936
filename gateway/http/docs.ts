import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifySchema, RouteOptions } from 'fastify';
import type { AndonConfig } from '../../config/schema.ts';
import type { Role } from './auth.ts';
import { ERROR_SCHEMA, errorRef, HISTORY_EVENT_SCHEMA, TICKET_ITEM_SCHEMA, TICKET_SCHEMA } from './schemas.ts';

/** Who may call a route: nobody needs a token (`public`), or a bearer token of a role (admin may do everything). */
export type Access = Role | 'public';

/**
 * The API's routes and who may call them (contracts §HTTP API). This table is what is
 * enforced: gateway/http/access.ts checks every request against it before
 * the body is read, and refuses to build an app with a route missing here.
 * It is also the OpenAPI's (/docs) account of roles; access.test.ts calls
 * every route as every kind of caller.
 */
export const ACCESS: Record<string, { access: Access; summary: string }> = {
  'GET /healthz': { access: 'public', summary: 'Liveness: the process answers' },
  'GET /readyz': { access: 'public', summary: 'Readiness: store open and sources started' },
  'GET /metrics': { access: 'public', summary: 'Prometheus metrics (contracts §Metrics)' },
  'GET /api/v1/board/config': { access: 'public', summary: 'What the alarm board needs before it has a token' },
  'GET /api/v1/tickets': { access: 'read', summary: 'List tickets' },
  'GET /api/v1/tickets/:id': { access: 'read', summary: 'One ticket' },
  'GET /api/v1/tickets/:id/history': { access: 'read', summary: "A page of a ticket's history" },
  'POST /api/v1/tickets/:id/transitions': { access: 'operator', summary: 'A lifecycle action' },
  'POST /api/v1/tickets/:id/comments': { access: 'operator', summary: 'Comment on a ticket' },
  'GET /api/v1/events': { access: 'read', summary: 'Ticket changes, live (server-sent events)' },
  'POST /api/v1/events/key': { access: 'read', summary: 'A short-lived, single-use key for opening the event stream from a browser' },
  'GET /api/v1/reports/top-faults': { access: 'read', summary: 'The faults raised most in a period' },
  'GET /api/v1/reports/response': { access: 'read', summary: 'MTTA and MTTR per priority' },
  'POST /api/v1/signals': { access: 'ingest', summary: 'Signals over HTTP (one or an array), answered after their tickets are committed' },
  'POST /api/v1/alertmanager': { access: 'ingest', summary: 'Alertmanager webhook receiver (payload version 4)' },
  'POST /api/v1/sync': { access: 'admin', summary: 'Changes made at central' },
  'GET /api/v1/outbox': { access: 'admin', summary: 'What waits for central, and what central refused (parked)' },
  'POST /api/v1/outbox/:ticketId/retry': { access: 'admin', summary: "Un-park a ticket's outbox rows" },
  'POST /api/v1/admin/reload': { access: 'admin', summary: 'Read the config file again and apply it without a restart (as SIGHUP does)' },
  'GET /api/v1/notifications': { access: 'admin', summary: 'Queued and parked notifications' },
  'POST /api/v1/notifications/:id/retry': { access: 'admin', summary: 'Retry a parked notification' },
};

const who = (access: Access, anonymousRead: boolean) =>
  access === 'public'
    ? 'No token needed.'
    : access === 'read'
      ? `Any bearer token (operator, ingest or admin)${anonymousRead ? ', or none (gateway.auth.anonymousRead)' : ''}.`
      : `Bearer token with role ${access}${access === 'admin' ? '' : ' or admin'}.`;

/**
 * OpenAPI at /docs (UI) and /docs/json: the shared schemas, the bearer scheme,
 * and for every route its role, its `{ code, message }` errors and a tag.
 * Registered before the routes so it sees each of them.
 */
export function registerDocs(app: FastifyInstance, config: AndonConfig): void {
  const anonymousRead = config.gateway.auth.anonymousRead;
  app.addSchema(HISTORY_EVENT_SCHEMA);
  app.addSchema(TICKET_SCHEMA);
  app.addSchema(TICKET_ITEM_SCHEMA);
  app.addSchema(ERROR_SCHEMA);

  app.addHook('onRoute', (route: RouteOptions) => {
    const schema = (route.schema ?? {}) as FastifySchema & Record<string, unknown>;
    if (route.method === 'HEAD' || schema.hide) return;
    const entry = ACCESS[`${String(route.method)} ${route.url}`];
    if (entry === undefined) return; // not in the table: docs.test.ts names it
    const { access } = entry;
    const security: Record<string, string[]>[] = access === 'public' ? [] : access === 'read' && anonymousRead ? [{}, { bearer: [] }] : [{ bearer: [] }];
    if (route.url === '/api/v1/events') security.push({ streamKey: [] });
    const errors: Record<string, unknown> = { 400: errorRef, 404: errorRef, 500: errorRef, 503: errorRef };
    if (access !== 'public') Object.assign(errors, { 401: errorRef, 403: errorRef });
    if (route.method === 'POST') Object.assign(errors, { 413: errorRef, 415: errorRef });
    const response = { ...errors, ...(schema.response as object | undefined) };
    const description = [schema.description, `**Access:** ${who(access, anonymousRead)}`].filter(Boolean).join('\n\n');
    const tag = route.url.startsWith('/api/v1/') ? route.url.split('/')[3] : 'health';
    route.schema = {
      summary: entry.summary,
      ...schema,
      description,
      security,
      response,
      tags: (schema.tags as string[] | undefined) ?? [tag],
    } as FastifySchema;
  });

  app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Andon gateway API',
        version: '1',
        description:
          'Tickets from plant signals (contracts §HTTP API). Errors are `{ code, message }` with a stable ANDON_* code. ' +
          'Writes need a bearer token: operator (transitions, comments), ingest (signals), admin (everything).',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'A token from gateway.auth.tokens (role operator, ingest or admin).' },
          streamKey: {
            type: 'apiKey',
            in: 'query',
            name: 'key',
            description: 'A stream key from POST /api/v1/events/key as ?key= (GET /api/v1/events only: EventSource cannot send headers). Single use, valid 60 s.',
          },
        },
      },
    },
    // Shared schemas keep their names (components.schemas.Ticket, .Error).
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });
  app.register(swaggerUi, { routePrefix: '/docs' });
}
