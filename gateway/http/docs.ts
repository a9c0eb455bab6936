import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifySchema, RouteOptions } from 'fastify';
import type { AndonConfig } from '../../config/schema.ts';
import type { Access } from './auth.ts';
import { ERROR_SCHEMA, errorRef, HISTORY_EVENT_SCHEMA, TICKET_ITEM_SCHEMA, TICKET_SCHEMA } from './schemas.ts';

const who = (access: Access, anonymousRead: boolean) =>
  access === 'public'
    ? 'No token needed.'
    : access === 'read'
      ? `Any bearer token (operator, ingest or admin)${anonymousRead ? ', or none (gateway.auth.anonymousRead)' : ''}.`
      : `Bearer token with role ${access}${access === 'admin' ? '' : ' or admin'}.`;

/**
 * OpenAPI at /docs (UI) and /docs/json: the shared schemas, the bearer scheme,
 * and for every route its role, its `{ code, message }` errors and a tag. The
 * role note and security come from the route's own declaration
 * (`config.access`, `config.streamKey`), the one gateway/http/access.ts
 * enforces. Registered after the guard and before the routes, so it sees each
 * of them with its access.
 */
export function registerDocs(app: FastifyInstance, config: AndonConfig): void {
  const anonymousRead = config.gateway.auth.anonymousRead;
  // personal sign-in (gateway.auth.oidc): the session cookie also opens every route that needs a role
  const signIn = config.gateway.auth.oidc !== undefined;
  app.addSchema(HISTORY_EVENT_SCHEMA);
  app.addSchema(TICKET_SCHEMA);
  app.addSchema(TICKET_ITEM_SCHEMA);
  app.addSchema(ERROR_SCHEMA);

  app.addHook('onRoute', (route: RouteOptions) => {
    const schema = (route.schema ?? {}) as FastifySchema & Record<string, unknown>;
    if (route.method === 'HEAD' || schema.hide) return;
    const access = route.config?.access;
    if (access === undefined) return; // the guard refuses such a route
    const security: Record<string, string[]>[] = access === 'public' ? [] : access === 'read' && anonymousRead ? [{}, { bearer: [] }] : [{ bearer: [] }];
    if (route.config?.streamKey === true) security.push({ streamKey: [] });
    if (signIn && access !== 'public') security.push({ session: [] });
    const errors: Record<string, unknown> = { 400: errorRef, 404: errorRef, 500: errorRef, 503: errorRef };
    if (access !== 'public') Object.assign(errors, { 401: errorRef, 403: errorRef });
    if (route.method === 'POST') Object.assign(errors, { 413: errorRef, 415: errorRef });
    const response = { ...errors, ...(schema.response as object | undefined) };
    const person = signIn && access !== 'public' ? ` Or a person signed in with role ${access === 'operator' ? 'operator or admin' : access === 'read' ? 'read, operator or admin' : 'admin'} (session cookie).` : '';
    const description = [schema.description, `**Access:** ${who(access, anonymousRead)}${person}`].filter(Boolean).join('\n\n');
    const tag = route.url.startsWith('/api/v1/') ? route.url.split('/')[3] : 'health';
    route.schema = {
      ...schema,
      description,
      security,
      response,
      tags: schema.tags ?? [tag],
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
          ...(signIn
            ? {
                session: {
                  type: 'apiKey',
                  in: 'cookie',
                  name: 'andon_session',
                  description: 'Personal sign-in (GET /auth/login): the session cookie. A request that changes something also sends X-Andon-CSRF (GET /api/v1/me).',
                },
              }
            : {}),
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
