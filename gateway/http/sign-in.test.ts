import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT, signInAtProvider, startProvider } from '../../test/oidc/provider.ts';
import { bearer, testApp, TOKENS } from './fixture.ts';

/**
 * Personal sign-in against a real OpenID provider (oidc-provider on 127.0.0.1) and the real gateway
 * API on 127.0.0.1 with a SQLite file: the code flow with PKCE, the session cookie, roles from the
 * `groups` claim, CSRF, sign-out, expiry, refusals and the audit trail. In virtual time for the gateway.
 */
const ACCOUNTS = {
  wang: { name: 'Wang Fang', groups: ['andon-operators', 'staff'] },
  li: { name: 'Li Lei', groups: ['andon-viewers'] },
  zhao: { name: 'Zhao Min', groups: ['andon-admins', 'andon-operators'] },
  visitor: { name: 'A Visitor', groups: ['staff'] },
};

const oidcYaml = (issuer: string, more = '') => `
    oidc:
      issuer: ${issuer}
      clientId: ${CLIENT.id}
      clientSecret: ${CLIENT.secret}
      scopes: [openid, profile, groups]
      roleMap: { read: [andon-viewers], operator: [andon-operators], admin: [andon-admins] }
      sessionTtl: 8h
      cookieSecure: false
${more}`;

describe('personal sign-in with OpenID Connect', () => {
  let provider: Awaited<ReturnType<typeof startProvider>>;
  let t: Awaited<ReturnType<typeof testApp>>;
  let base: string;
  let ticketId: string;

  beforeAll(async () => {
    provider = await startProvider(ACCOUNTS);
    t = await testApp({ anonymousRead: false, auth: oidcYaml(provider.issuer) });
    base = await t.app.listen({ host: '127.0.0.1', port: 0 });
    provider.register(`${base}/auth/callback`);
    t.signal('packaging/sealer-01/alarm', true);
    ticketId = t.store.list().items[0]!.id;
  });
  afterAll(async () => {
    await t?.close();
    provider?.closeIdle();
    await provider?.close();
  });

  /** A browser's sign-in: the gateway's redirect, the provider's forms, the callback. Returns the callback's answer. */
  const signIn = async (login: string) => {
    const start = await fetch(`${base}/auth/login`, { redirect: 'manual' });
    expect(start.status).toBe(303);
    const loginCookie = start.headers.getSetCookie()[0]!.split(';')[0]!;
    const callback = await signInAtProvider(start.headers.get('location')!, login, `${base}/auth/callback`);
    return fetch(callback, { redirect: 'manual', headers: { cookie: loginCookie } });
  };
  const sessionOf = (res: Response) => {
    const c = res.headers.getSetCookie().find((h) => h.startsWith('andon_session=') && !h.startsWith('andon_session=;'));
    return c?.split(';')[0];
  };
  const me = async (cookie: string) => (await fetch(`${base}/api/v1/me`, { headers: { cookie } })).json() as Promise<Record<string, unknown>>;
  const ack = (cookie: string, csrf?: string, id = ticketId) =>
    fetch(`${base}/api/v1/tickets/${id}/transitions`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json', ...(csrf ? { 'x-andon-csrf': csrf } : {}) },
      body: JSON.stringify({ action: 'ack' }),
    });
  const rows = (action: string) => t.store.audit.list({ action, limit: 100, offset: 0 }).items.reverse();
  const metric = async (line: RegExp) => Number(line.exec(await t.registry.metrics())?.[1] ?? NaN);

  it('an operator signs in (code flow with PKCE), gets an HttpOnly SameSite session cookie, and the acknowledgement names the person', async () => {
    const cb = await signIn('wang');
    expect(cb.status).toBe(303);
    expect(cb.headers.get('location')).toBe('/');
    const [login, set] = cb.headers.getSetCookie();
    expect(login).toBe('andon_login=; Path=/auth; Max-Age=0; HttpOnly; SameSite=Lax');
    expect(set).toMatch(/^andon_session=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=28800; HttpOnly; SameSite=Strict$/);
    const cookie = sessionOf(cb)!;

    const who = await me(cookie);
    expect(who).toMatchObject({ actor: 'wang', actorName: 'Wang Fang', role: 'operator', method: 'oidc', signIn: true });
    expect(who.csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);

    // without the CSRF header the cookie does not act; with it, the person is the actor
    const refused = await ack(cookie);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ code: 'ANDON_AUTH_CSRF' });
    const done = await ack(cookie, who.csrf as string);
    expect(done.status).toBe(200);
    const history = ((await done.json()) as { history: Record<string, unknown>[] }).history;
    expect(history.at(-1)).toEqual({ at: expect.any(String), action: 'ack', by: 'Wang Fang', actor: 'wang', actorName: 'Wang Fang' });

    const [signedIn] = rows('auth.sign-in').filter((r) => r.actor === 'wang');
    expect(signedIn).toMatchObject({ outcome: 'ok', origin: '127.0.0.1', details: { method: 'oidc', name: 'Wang Fang', role: 'operator' } });
    expect(rows('auth.refused').find((r) => r.actor === 'wang')).toMatchObject({ code: 'ANDON_AUTH_CSRF', target: 'POST /api/v1/tickets/:id/transitions' });
    // the store keeps the cookie's hash, not the cookie
    expect(JSON.stringify(t.store.audit.list({ limit: 1000, offset: 0 }))).not.toContain(cookie.split('=')[1]);
    expect(await metric(/^andon_sign_ins_total\{outcome="ok"\} (\d+)/m)).toBeGreaterThanOrEqual(1);
    expect(await metric(/^andon_oidc_up (\d+)/m)).toBe(1);
  });

  it('the authorization request has PKCE (S256), state and nonce and no secret; the sign-in in progress is a Lax cookie on /auth for 10 minutes', async () => {
    const start = await fetch(`${base}/auth/login`, { redirect: 'manual' });
    const to = new URL(start.headers.get('location')!);
    expect(to.origin).toBe(provider.issuer);
    expect(Object.fromEntries(to.searchParams)).toMatchObject({
      client_id: CLIENT.id,
      response_type: 'code',
      redirect_uri: `${base}/auth/callback`,
      scope: 'openid profile groups',
      code_challenge_method: 'S256',
      code_challenge: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      state: expect.any(String),
      nonce: expect.any(String),
    });
    expect(to.href).not.toContain(CLIENT.secret);
    expect(start.headers.getSetCookie()).toEqual([expect.stringMatching(/^andon_login=[A-Za-z0-9_-]{43}; Path=\/auth; Max-Age=600; HttpOnly; SameSite=Lax$/)]);
    expect(start.headers.get('cache-control')).toBe('no-store');
  });

  it('roles come from the groups claim: read may look but not act, admin (the highest of several) may read the audit trail', async () => {
    const reader = sessionOf(await signIn('li'))!;
    expect(await me(reader)).toMatchObject({ actor: 'li', role: 'read' });
    expect((await fetch(`${base}/api/v1/tickets`, { headers: { cookie: reader } })).status).toBe(200);
    const forbidden = await ack(reader, (await me(reader)).csrf as string);
    expect(forbidden.status).toBe(403);
    expect(await forbidden.json()).toMatchObject({ code: 'ANDON_AUTH_FORBIDDEN' });

    const admin = sessionOf(await signIn('zhao'))!;
    expect(await me(admin)).toMatchObject({ actor: 'zhao', role: 'admin' });
    expect((await fetch(`${base}/api/v1/audit`, { headers: { cookie: admin } })).status).toBe(200);
  });

  it('a person whose claims map to no role is refused: back on the board with the code, no session, a refused row with the subject', async () => {
    const cb = await signIn('visitor');
    expect(cb.status).toBe(303);
    expect(cb.headers.get('location')).toBe('/?signin=ANDON_AUTH_NO_ROLE');
    expect(sessionOf(cb)).toBeUndefined();
    expect(rows('auth.sign-in').find((r) => r.actor === 'visitor')).toMatchObject({
      outcome: 'refused',
      code: 'ANDON_AUTH_NO_ROLE',
      details: { method: 'oidc', name: 'A Visitor', groups: ['staff'] },
    });
    expect(await metric(/^andon_sign_ins_total\{outcome="refused"\} (\d+)/m)).toBe(1);
  });

  it('a callback that this browser did not start (no login cookie, or one used already) is refused', async () => {
    const start = await fetch(`${base}/auth/login`, { redirect: 'manual' });
    const loginCookie = start.headers.getSetCookie()[0]!.split(';')[0]!;
    const callback = await signInAtProvider(start.headers.get('location')!, 'wang', `${base}/auth/callback`);
    // an attacker's callback URL opened in another browser: no login cookie
    const foreign = await fetch(callback, { redirect: 'manual' });
    expect(foreign.headers.get('location')).toBe('/?signin=ANDON_AUTH_SIGN_IN_FAILED');
    expect(sessionOf(foreign)).toBeUndefined();
    const own = await fetch(callback, { redirect: 'manual', headers: { cookie: loginCookie } });
    expect(sessionOf(own)).toBeDefined();
    const replayed = await fetch(callback, { redirect: 'manual', headers: { cookie: loginCookie } });
    expect(replayed.headers.get('location')).toBe('/?signin=ANDON_AUTH_SIGN_IN_FAILED');
  });

  it("the provider's refusal (error=access_denied) ends the sign-in with ANDON_AUTH_SIGN_IN_FAILED", async () => {
    // refusals of one kind are a row a minute (gateway/audit): the one above was less than a minute ago
    t.clock.advanceTo(t.clock.now() + 60_000);
    const start = await fetch(`${base}/auth/login`, { redirect: 'manual' });
    const loginCookie = start.headers.getSetCookie()[0]!.split(';')[0]!;
    const state = new URL(start.headers.get('location')!).searchParams.get('state')!;
    const res = await fetch(`${base}/auth/callback?error=access_denied&state=${state}&iss=${encodeURIComponent(provider.issuer)}`, {
      redirect: 'manual',
      headers: { cookie: loginCookie },
    });
    expect(res.headers.get('location')).toBe('/?signin=ANDON_AUTH_SIGN_IN_FAILED');
    expect(rows('auth.sign-in').at(-1)).toMatchObject({
      outcome: 'refused',
      code: 'ANDON_AUTH_SIGN_IN_FAILED',
      details: { message: expect.stringContaining('access_denied') },
    });
  });

  it('signing out ends the session at once (the same cookie no longer works) and is audited; it needs the CSRF header', async () => {
    const cookie = sessionOf(await signIn('wang'))!;
    const { csrf } = await me(cookie);
    const noHeader = await fetch(`${base}/auth/logout`, { method: 'POST', headers: { cookie } });
    expect(noHeader.status).toBe(403);
    const out = await fetch(`${base}/auth/logout`, { method: 'POST', headers: { cookie, 'x-andon-csrf': csrf as string } });
    expect(out.status).toBe(200);
    expect(await out.json()).toEqual({ signedOut: true });
    expect(out.headers.getSetCookie()[0]).toMatch(/^andon_session=; Path=\/; Max-Age=0; HttpOnly; SameSite=Strict$/);
    const after = await fetch(`${base}/api/v1/tickets`, { headers: { cookie } });
    expect(after.status).toBe(401);
    expect(rows('auth.sign-out').at(-1)).toMatchObject({ actor: 'wang', outcome: 'ok', origin: '127.0.0.1', details: { method: 'oidc', name: 'Wang Fang' } });
  });

  it('a session ends after sessionTtl (server-side expiry, whatever the cookie says)', async () => {
    const cookie = sessionOf(await signIn('wang'))!;
    expect((await fetch(`${base}/api/v1/tickets`, { headers: { cookie } })).status).toBe(200);
    t.clock.advanceTo(t.clock.now() + 8 * 3_600_000);
    expect((await fetch(`${base}/api/v1/tickets`, { headers: { cookie } })).status).toBe(401);
  });

  it('bearer tokens work next to sign-in, and a bearer call needs no CSRF header', async () => {
    t.signal('packaging/filler-02/alarm', true);
    const id = t.store.list({ state: 'open' }).items[0]!.id;
    const res = await fetch(`${base}/api/v1/tickets/${id}/transitions`, {
      method: 'POST',
      headers: { ...bearer(TOKENS.operator), 'content-type': 'application/json' },
      body: JSON.stringify({ action: 'ack' }),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { history: Record<string, unknown>[] }).history.at(-1)).toEqual({
      at: expect.any(String),
      action: 'ack',
      by: 'wang',
      actor: 'wang',
    });
    expect(await (await fetch(`${base}/api/v1/me`, { headers: bearer(TOKENS.operator) })).json()).toEqual({
      actor: 'wang',
      actorName: null,
      role: 'operator',
      method: 'token',
      signIn: true,
    });
  });

  it('the API docs name the session cookie next to the bearer token', async () => {
    const spec = (await (await fetch(`${base}/docs/json`)).json()) as {
      components: { securitySchemes: Record<string, object> };
      paths: Record<string, Record<string, { security: object[]; description: string }>>;
    };
    expect(spec.components.securitySchemes.session).toMatchObject({ type: 'apiKey', in: 'cookie', name: 'andon_session' });
    const ack = spec.paths['/api/v1/tickets/{id}/transitions']!.post!;
    expect(ack.security).toEqual([{ bearer: [] }, { session: [] }]);
    expect(ack.description).toContain('Or a person signed in with role operator or admin (session cookie).');
    // people are never ingest: admin may do everything
    expect(spec.paths['/api/v1/signals']!.post!.description).toContain('Or a person signed in with role admin (session cookie).');
  });
});

describe('personal sign-in when the provider cannot be reached', () => {
  it('the gateway starts, tokens work, and a sign-in goes back to the board with ANDON_AUTH_OIDC_UNAVAILABLE (metric, audit)', async () => {
    // a provider that was there and is gone: its port is closed
    const gone = await startProvider({});
    await gone.close();
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    });
    const t = await testApp({ anonymousRead: false, auth: oidcYaml(gone.issuer, '      timeout: 2s'), logger: pino({ level: 'info' }, sink) });
    try {
      const base = await t.app.listen({ host: '127.0.0.1', port: 0 });
      expect((await fetch(`${base}/api/v1/tickets`, { headers: bearer(TOKENS.operator) })).status).toBe(200);
      const res = await fetch(`${base}/auth/login`, { redirect: 'manual' });
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe('/?signin=ANDON_AUTH_OIDC_UNAVAILABLE');
      const text = await t.registry.metrics();
      expect(text).toMatch(/^andon_oidc_up 0$/m);
      expect(text).toMatch(/^andon_sign_ins_total\{outcome="unavailable"\} 1$/m);
      expect(t.store.audit.list({ action: 'auth.sign-in', limit: 10, offset: 0 }).items[0]).toMatchObject({
        outcome: 'refused',
        code: 'ANDON_AUTH_OIDC_UNAVAILABLE',
        actor: null,
      });
      expect(await (await fetch(`${base}/api/v1/board/config`)).json()).toMatchObject({ signIn: true });
      // the discovery at start and the sign-in's own attempt, each logged with the code
      expect(lines.filter((l) => l.component === 'oidc' && l.code === 'ANDON_AUTH_OIDC_UNAVAILABLE' && l.level === 40).length).toBeGreaterThanOrEqual(2);
      expect(JSON.stringify(lines)).not.toContain(CLIENT.secret);
    } finally {
      await t.close();
    }
  });
});

describe('the session cookie is Secure unless cookieSecure is off', () => {
  it('cookieSecure defaults to true', async () => {
    const t = await testApp({ anonymousRead: false, auth: oidcYaml('http://127.0.0.1:1').replace('      cookieSecure: false\n', '') });
    try {
      expect(t.config.gateway.auth.oidc?.cookieSecure).toBe(true);
      const out = await t.app.inject({ method: 'POST', url: '/auth/logout' });
      expect(out.json()).toEqual({ signedOut: false });
      expect(out.headers['set-cookie']).toBe('andon_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict; Secure');
    } finally {
      await t.close();
    }
  });
});

describe('without gateway.auth.oidc', () => {
  it('tokens work as before, the sign-in routes say it is not configured, and a session cookie is not honoured', async () => {
    const t = await testApp({ anonymousRead: false });
    try {
      const login = await t.app.inject({ method: 'GET', url: '/auth/login' });
      expect(login.statusCode).toBe(404);
      expect(login.json()).toMatchObject({ code: 'ANDON_AUTH_OIDC_NOT_CONFIGURED' });
      expect((await t.app.inject({ method: 'GET', url: '/api/v1/tickets', headers: bearer(TOKENS.operator) })).statusCode).toBe(200);
      const cookie = `andon_session=${'a'.repeat(43)}`;
      expect((await t.app.inject({ method: 'GET', url: '/api/v1/tickets', headers: { cookie } })).statusCode).toBe(401);
      expect((await t.app.inject({ method: 'GET', url: '/api/v1/board/config' })).json()).toMatchObject({ signIn: false });
    } finally {
      await t.close();
    }
  });
});
