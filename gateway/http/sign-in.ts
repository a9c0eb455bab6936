import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { OidcConfig } from '../../config/oidc.ts';
import { AndonError, isAndonError } from '../../model/errors.ts';
import type { AuditLog } from '../audit/audit.ts';
import type { SessionStore } from '../store/sessions.ts';
import type { Who } from './auth.ts';
import type { Oidc, PendingSignIn } from './oidc.ts';
import { errorRef } from './schemas.ts';

/**
 * Personal sign-in routes (contracts §Personal sign-in): GET /auth/login sends the browser to the
 * identity provider, GET /auth/callback finishes the sign-in and sets the session cookie, POST
 * /auth/logout ends the session, GET /api/v1/me says who the caller is. The guard (access.ts) reads the
 * cookie through `sessionWho` and checks the CSRF header.
 */

/** The session cookie: HttpOnly, SameSite=Strict, Secure unless gateway.auth.oidc.cookieSecure is off. */
export const SESSION_COOKIE = 'andon_session';
/** The sign-in in progress in this browser (10 minutes): binds the callback to the browser that started it. */
const LOGIN_COOKIE = 'andon_login';
/** The header a request with the session cookie that changes something must carry (the session's csrf value). */
export const CSRF_HEADER = 'x-andon-csrf';
/** How long a started sign-in waits for its callback, and how many may wait at once (the oldest is dropped). */
const PENDING_MS = 600_000;
const MAX_PENDING = 1_000;
/** Cookie values this gateway makes: 32 random bytes, base64url. Anything else is ignored unread. */
const COOKIE_VALUE = /^[A-Za-z0-9_-]{43}$/;

/** The value of cookie `name` in a Cookie header, when it looks like one of ours. */
export function cookieOf(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) {
      const v = part.slice(i + 1).trim();
      return COOKIE_VALUE.test(v) ? v : undefined;
    }
  }
  return undefined;
}

const cookie = (name: string, value: string, o: { path: string; maxAge: number; sameSite: 'Strict' | 'Lax'; secure: boolean }) =>
  `${name}=${value}; Path=${o.path}; Max-Age=${o.maxAge}; HttpOnly; SameSite=${o.sameSite}${o.secure ? '; Secure' : ''}`;

const random = () => randomBytes(32).toString('base64url');

const same = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** The person of a request's session cookie (undefined without one, or for an ended or expired one). */
export function sessionWho(sessions: SessionStore, now: () => number) {
  return (cookieHeader: string | undefined): Who | undefined => {
    const id = cookieOf(cookieHeader, SESSION_COOKIE);
    const s = id === undefined ? undefined : sessions.get(id, now());
    if (!s) return undefined;
    return { name: s.subject, displayName: s.name, role: s.role as Who['role'], session: { csrf: s.csrf, expiresAt: s.expiresAt } };
  };
}

/** Whether the request carries its session's CSRF value (timing-safe). */
export const csrfOk = (req: FastifyRequest, who: Who) => {
  const h = req.headers[CSRF_HEADER];
  return typeof h === 'string' && who.session !== undefined && same(h, who.session.csrf);
};

export type SignInOutcome = 'ok' | 'refused' | 'failed' | 'unavailable';

interface Opts {
  /** gateway.auth.oidc; undefined: the routes answer ANDON_AUTH_OIDC_NOT_CONFIGURED and /api/v1/me names tokens only. */
  oidc?: { config: OidcConfig; client: Oidc };
  publicUrl: string | undefined;
  sessions: SessionStore;
  now: () => number;
  audit: AuditLog;
  /** andon_sign_ins_total{outcome}. */
  onSignIn?: (outcome: SignInOutcome) => void;
}

const me = {
  200: {
    type: 'object',
    additionalProperties: false,
    required: ['actor', 'actorName', 'role', 'method', 'signIn'],
    properties: {
      actor: { type: ['string', 'null'], description: "The token's name or the person's subject; null without credentials (anonymous read)." },
      actorName: { type: ['string', 'null'], description: "The signed-in person's display name; null for a token." },
      role: { type: ['string', 'null'], enum: ['read', 'operator', 'ingest', 'admin', null] },
      method: { type: ['string', 'null'], enum: ['token', 'oidc', null], description: 'How the caller authenticated.' },
      csrf: { type: 'string', description: 'With a session: the value to send as X-Andon-CSRF with every request that changes something.' },
      expiresAt: { type: 'string', format: 'date-time', description: 'With a session: when it ends.' },
      signIn: { type: 'boolean', description: 'Whether personal sign-in is configured (GET /auth/login).' },
    },
  },
  401: errorRef,
} as const;

export const signInRoutes: FastifyPluginAsync<Opts> = async (app, { oidc, publicUrl, sessions, now, audit, onSignIn }) => {
  const pending = new Map<string, { sign: PendingSignIn; until: number }>();
  const secure = oidc?.config.cookieSecure ?? true;
  const loginCookie = (value: string, maxAge: number) => cookie(LOGIN_COOKIE, value, { path: '/auth', maxAge, sameSite: 'Lax', secure });
  const sessionCookie = (value: string, maxAge: number) => cookie(SESSION_COOKIE, value, { path: '/', maxAge, sameSite: 'Strict', secure });
  const redirectUri = (req: FastifyRequest) =>
    oidc?.config.redirectUrl ?? (publicUrl ? `${publicUrl.replace(/\/+$/, '')}/auth/callback` : `${req.protocol}://${req.host}/auth/callback`);
  /** A browser's sign-in that went wrong lands on the board, which shows why (`?signin=<code>`). */
  const back = (reply: FastifyReply, code?: string) =>
    reply.header('cache-control', 'no-store').redirect(code ? `/?signin=${encodeURIComponent(code)}` : '/', 303);
  const configured = () => {
    if (!oidc) throw new AndonError('ANDON_AUTH_OIDC_NOT_CONFIGURED', 'personal sign-in is not configured (gateway.auth.oidc): use a bearer token');
    return oidc;
  };

  app.get(
    '/auth/login',
    { config: { access: 'public' }, schema: { summary: 'Start a personal sign-in: redirects to the identity provider', hide: true } },
    async (req, reply) => {
      const { client } = configured();
      try {
        const { url, pending: sign } = await client.start(redirectUri(req));
        const id = random();
        pending.set(id, { sign, until: now() + PENDING_MS });
        for (const [k, p] of pending) if (pending.size > MAX_PENDING || p.until <= now()) pending.delete(k);
        return await reply
          .header('set-cookie', loginCookie(id, PENDING_MS / 1000))
          .header('cache-control', 'no-store')
          .redirect(url.href, 303);
      } catch (err) {
        if (!isAndonError(err)) throw err;
        onSignIn?.('unavailable');
        req.log.warn({ component: 'oidc', code: err.code, origin: req.ip }, `sign-in cannot start: ${err.message}`);
        audit.refused({ action: 'auth.sign-in', actor: null, origin: req.ip, code: err.code, details: { method: 'oidc', message: err.message } });
        return back(reply, err.code);
      }
    },
  );

  app.get(
    '/auth/callback',
    { config: { access: 'public' }, schema: { summary: 'Where the identity provider sends the browser back', hide: true } },
    async (req, reply) => {
      const { client, config } = configured();
      const id = cookieOf(req.headers.cookie, LOGIN_COOKIE);
      const started = id === undefined ? undefined : pending.get(id);
      if (id !== undefined) pending.delete(id);
      // the sign-in in progress ends here, whatever comes of it (Fastify appends further set-cookie headers)
      reply.header('set-cookie', loginCookie('', 0));
      const refuse = (err: AndonError, who: { actor: string | null; details?: Record<string, unknown> } = { actor: null }) => {
        onSignIn?.(err.code === 'ANDON_AUTH_OIDC_UNAVAILABLE' ? 'unavailable' : err.code === 'ANDON_AUTH_NO_ROLE' ? 'refused' : 'failed');
        req.log.warn({ component: 'oidc', code: err.code, actor: who.actor, origin: req.ip }, `sign-in refused: ${err.message}`);
        audit.refused({
          action: 'auth.sign-in',
          actor: who.actor,
          origin: req.ip,
          code: err.code,
          details: { method: 'oidc', message: err.message, ...who.details },
        });
        return back(reply, err.code);
      };
      if (!started || started.until <= now()) {
        return refuse(new AndonError('ANDON_AUTH_SIGN_IN_FAILED', 'no sign-in was started in this browser, or it took longer than 10 minutes: sign in again'));
      }
      const query = req.url.includes('?') ? req.url.slice(req.url.indexOf('?')) : '';
      let person;
      try {
        person = await client.finish(started.sign, query);
      } catch (err) {
        if (!isAndonError(err)) throw err;
        return refuse(err);
      }
      if (person.role === undefined) {
        const err = new AndonError(
          'ANDON_AUTH_NO_ROLE',
          `${person.name} (${person.subject}) has no role here: no value of claim ${config.roleClaim} is in gateway.auth.oidc.roleMap`,
        );
        return refuse(err, { actor: person.subject, details: { name: person.name, [config.roleClaim]: person.groups } });
      }
      const at = now();
      const session = random();
      sessions.create(
        session,
        { subject: person.subject, name: person.name, role: person.role, csrf: random(), createdAt: at, expiresAt: at + config.sessionTtl },
        at,
      );
      onSignIn?.('ok');
      req.log.info({ component: 'oidc', actor: person.subject, role: person.role, origin: req.ip }, `${person.name} signed in`);
      audit.signIn({ actor: person.subject, origin: req.ip }, 'oidc', { name: person.name, role: person.role });
      reply.header('set-cookie', sessionCookie(session, Math.floor(config.sessionTtl / 1000)));
      return back(reply);
    },
  );

  app.post(
    '/auth/logout',
    {
      config: { access: 'public' },
      schema: {
        summary: 'Sign out: ends the session of the cookie at once (needs X-Andon-CSRF) and clears the cookie',
        response: {
          200: {
            type: 'object',
            additionalProperties: false,
            required: ['signedOut'],
            properties: { signedOut: { type: 'boolean', description: 'Whether a session ended (false: there was none).' } },
          },
          403: errorRef,
        },
      },
    },
    async (req, reply) => {
      const id = cookieOf(req.headers.cookie, SESSION_COOKIE);
      const s = id === undefined ? undefined : sessions.get(id, now());
      const signedOut = s !== undefined && id !== undefined;
      if (signedOut) {
        const who: Who = { name: s.subject, role: s.role as Who['role'], session: { csrf: s.csrf, expiresAt: s.expiresAt } };
        if (!csrfOk(req, who)) throw new AndonError('ANDON_AUTH_CSRF', `signing out needs the session's ${CSRF_HEADER} header (GET /api/v1/me)`);
        sessions.delete(id);
        audit.record({ action: 'auth.sign-out', outcome: 'ok', actor: s.subject, origin: req.ip, details: { method: 'oidc', name: s.name } });
      }
      return reply.header('set-cookie', sessionCookie('', 0)).send({ signedOut });
    },
  );

  app.get(
    '/api/v1/me',
    { config: { access: 'read' }, schema: { summary: 'Who the caller is (token or signed-in person), and the CSRF value of a session', response: me } },
    async (req) => {
      const w = req.who;
      return {
        actor: w?.name ?? null,
        actorName: w?.displayName ?? null,
        role: w?.role ?? null,
        method: w ? (w.session ? 'oidc' : 'token') : null,
        ...(w?.session ? { csrf: w.session.csrf, expiresAt: new Date(w.session.expiresAt).toISOString() } : {}),
        signIn: oidc !== undefined,
      };
    },
  );
};
