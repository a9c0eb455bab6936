import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { AndonConfig } from '../../config/schema.ts';
import { checklistLabel, LOCALES, MESSAGES } from '../i18n.ts';
import { fromRoot } from '../package-root.ts';

interface Opts {
  config: AndonConfig;
  /** The config in use now (a reload may change the shelving limit); default `config`. */
  current?: () => AndonConfig;
}

/** The board's files (vanilla ES modules and CSS, no build step). */
export const BOARD_DIR = fromRoot('gateway', 'board');

/**
 * The page may load only its own files and talk only to this gateway: ticket
 * text comes from plant messages, so even an escaping mistake cannot run a
 * script or reach another host (the plant network has no internet anyway).
 * No page may be framed (clickjacking an operator's acknowledge button).
 */
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * Every HTML answer, whatever its path (/, /board/index.html, /docs), gets the
 * policy above, or keeps its own (the docs UI's) with `frame-ancestors 'none'`
 * added, and may not be framed or sniffed. Registered before the routes.
 */
export function securePages(app: FastifyInstance): void {
  app.addHook('onSend', async (_req, reply, payload) => {
    if (!String(reply.getHeader('content-type') ?? '').startsWith('text/html')) return payload;
    const own = reply.getHeader('content-security-policy');
    const csp = own === undefined ? CSP : /frame-ancestors/.test(String(own)) ? String(own) : `${String(own)}; frame-ancestors 'none'`;
    reply.header('content-security-policy', csp).header('x-frame-options', 'DENY').header('x-content-type-options', 'nosniff').header('referrer-policy', 'no-referrer');
    return payload;
  });
}

const boardConfig = {
  type: 'object',
  additionalProperties: false,
  required: ['gatewayId', 'timezone', 'locale', 'anonymousRead', 'shelvingMaxSeconds', 'closeChecklist', 'messages', 'signIn'],
  properties: {
    gatewayId: { type: 'string' },
    timezone: { type: 'string', description: 'gateway.timezone: the board shows every time in it, whatever the browser\'s zone.' },
    locale: { type: 'string', enum: [...LOCALES], description: 'gateway.locale: the language of the board.' },
    anonymousRead: { type: 'boolean' },
    shelvingMaxSeconds: { type: 'integer' },
    closeChecklist: {
      type: 'array',
      description: 'lifecycle.closeChecklist: what close needs confirmed (every id true in the checklist), with the label to show.',
      items: { type: 'object', additionalProperties: false, required: ['id', 'label'], properties: { id: { type: 'string' }, label: { type: 'string' } } },
    },
    signIn: { type: 'boolean', description: 'Personal sign-in is configured (gateway.auth.oidc): the board offers GET /auth/login.' },
    knowledgeLabels: { type: 'array', items: { type: 'string' }, description: 'knowledge.labels: the labels the knowledge base page filters by.' },
    messages: {
      type: 'object',
      description: 'The board\'s texts in gateway.locale, by key (gateway/i18n.ts); `{name}` is filled in by the board.',
      additionalProperties: { type: 'string' },
    },
  },
} as const;

/**
 * The live alarm board: GET / (the page), GET /board/* (its files) and
 * GET /api/v1/board/config (what the page needs to know before it has a
 * token: whether it may read anonymously, the shelving limit, the close
 * checklist, the gateway's id, timezone and locale, and its texts in that locale). Nothing here is secret, so none of it needs a token.
 */
export const boardRoutes: FastifyPluginAsync<Opts> = async (app, { config: initial, current = () => initial }) => {
  await app.register(fastifyStatic, {
    root: BOARD_DIR,
    prefix: '/board/',
    index: false,
    list: false,
    dotfiles: 'deny',
    // What the browser loads, not the folder's tests and tsconfig (model.test.ts, tsconfig.json).
    allowedPath: (path) => /\.(js|css|html|svg)$/.test(path),
    cacheControl: false,
    // A gateway upgrade must reach the wall screen without a hard reload: revalidate every time (ETag).
    setHeaders: (res) => {
      res.setHeader('cache-control', 'no-cache');
      res.setHeader('x-content-type-options', 'nosniff');
    },
  });

  // Its security headers come from securePages, as for every HTML answer.
  app.get('/', { config: { access: 'public' }, schema: { hide: true } }, async (_req, reply) => reply.header('cache-control', 'no-cache').sendFile('index.html'));
  // The Tags page: the live tag view (its data comes from GET /api/v1/tags, role read).
  app.get('/tags', { config: { access: 'public' }, schema: { hide: true } }, async (_req, reply) => reply.header('cache-control', 'no-cache').sendFile('tags.html'));

  app.get('/api/v1/board/config', { config: { access: 'public' }, schema: { summary: 'What the alarm board needs before it has a token', response: { 200: boardConfig } } }, async () => {
    const config = current();
    return {
      gatewayId: config.gateway.id,
      timezone: config.gateway.timezone,
      locale: config.gateway.locale,
      anonymousRead: config.gateway.auth.anonymousRead,
      shelvingMaxSeconds: Math.floor(config.shelving.maxDuration / 1000),
      closeChecklist: config.lifecycle.closeChecklist.map((item) => ({ id: item.id, label: checklistLabel(config.gateway.locale, item) })),
      messages: MESSAGES[config.gateway.locale],
      signIn: config.gateway.auth.oidc !== undefined,
      knowledgeLabels: config.knowledge?.labels ?? [],
    };
  });
};
