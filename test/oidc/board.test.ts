import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/load.ts';
import { startGateway } from '../../gateway/main.ts';
import { peer } from '../peers.ts';
import { CLIENT, startProvider } from './provider.ts';

/**
 * Personal sign-in end to end: a real OpenID provider (oidc-provider, its login and consent forms),
 * a real gateway (startGateway, SQLite file) and the board in a real headless Chromium. A person signs
 * in at the provider, acknowledges a ticket, and the acknowledgement names them; they sign out and the
 * session ends. Machine tokens keep feeding signals throughout.
 */
const CHROMIUM = '/usr/bin/chromium';
const hasChromium = peer('chromium', [CHROMIUM, '--version'], 'apt-get install -y chromium');
const WAIT = { timeout: 15_000 };
const INGEST_TOKEN = 'oidc-board-ingest-token-0123456789';
const OUT = join(import.meta.dirname, '..', 'output');

describe.skipIf(!hasChromium)('personal sign-in on the board (headless Chromium, real OpenID provider)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'andon-oidc-board-'));
  let provider: Awaited<ReturnType<typeof startProvider>>;
  let gw: Awaited<ReturnType<typeof startGateway>>;
  let browser: Browser;

  beforeAll(async () => {
    provider = await startProvider({
      wang: { name: 'Wang Fang', groups: ['andon-operators'] },
      visitor: { name: 'A Visitor', groups: [] },
    });
    const config = parseConfig(`
gateway:
  id: plant-a-line-1
  dataDir: ${dir}
  auth:
    anonymousRead: false
    tokens: [ { name: mes, role: ingest, token: ${INGEST_TOKEN} } ]
    oidc:
      issuer: ${provider.issuer}
      clientId: ${CLIENT.id}
      clientSecret: ${CLIENT.secret}
      scopes: [openid, profile, groups]
      roleMap: { operator: [andon-operators] }
      cookieSecure: false
sources: [ { id: mes-http, type: http } ]
rules:
  - { id: alarms, when: { tag: "*/*/alarm/**", equals: true }, fault: alarm-stop, category: hardware, priority: P1 }
`);
    gw = await startGateway(config, { port: 0, logger: pino({ level: 'silent' }) });
    // The gateway started first: its callback URL is known now. Its discovery waited for the provider.
    provider.register(`${gw.address}/auth/callback`);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await gw?.stop();
    provider?.closeIdle();
    await provider?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const post = async (signal: object) => {
    const res = await fetch(`${gw.address}/api/v1/signals`, {
      method: 'POST',
      headers: { authorization: `Bearer ${INGEST_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(signal),
    });
    expect(res.status).toBe(202);
  };
  /** From the board's sign-in dialog through the provider's login (and consent) forms, back to the board. */
  const signInAtProvider = async (page: Page, login: string) => {
    await page.locator('#signin-oidc').click();
    await page.locator('input[name="login"]').waitFor(WAIT);
    await page.fill('input[name="login"]', login);
    await page.fill('input[name="password"]', 'any password');
    await page.click('button[type="submit"]');
    // the provider asks for consent once per client
    const consent = page.locator('button', { hasText: 'Continue' });
    await page.waitForURL((url) => url.href.startsWith(gw.address) || url.pathname.startsWith('/interaction/'), WAIT);
    if (!page.url().startsWith(gw.address)) {
      await consent.click();
      await page.waitForURL((url) => url.href.startsWith(gw.address), WAIT);
    }
  };

  it('a person signs in at the provider, acknowledges a ticket, the acknowledgement names them; signing out ends the session', async () => {
    const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
    const page = await context.newPage();
    page.on('pageerror', (err) => console.error('board page error:', err));
    await page.goto(`${gw.address}/`);
    // Nothing to read without a sign-in: the dialog offers the provider.
    await page.locator('#signin-oidc').waitFor(WAIT);
    await signInAtProvider(page, 'wang');

    await page.locator('#operator', { hasText: 'Wang Fang' }).waitFor(WAIT);
    const session = (await context.cookies()).find((c) => c.name === 'andon_session');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
    // HttpOnly: the page's scripts cannot read it
    expect(await page.evaluate(() => (globalThis as unknown as { document: { cookie: string } }).document.cookie)).not.toContain('andon_session');

    // The event stream runs on the cookie: a new alarm appears live.
    await page.locator('#conn[data-state="live"]').waitFor(WAIT);
    await post({ tag: 'filling/filler-02/alarm/LOW_AIR', value: true, message: 'low air pressure' });
    const filler = page.locator('#rows .row', { hasText: 'filler-02' });
    await filler.waitFor(WAIT);
    await filler.click();
    await page.click('#detail [data-action="ack"]');
    await page.locator('#detail .pill[data-state="acknowledged"]').waitFor(WAIT);
    await page.locator('#detail .history .h-actor', { hasText: '✓Wang Fang' }).waitFor(WAIT);
    mkdirSync(OUT, { recursive: true });
    await page.screenshot({ path: join(OUT, 'board-signed-in-1366x768.png') });

    // The store says the same: subject and name of the person.
    const id = await filler.getAttribute('data-id');
    const tickets = (await (await fetch(`${gw.address}/api/v1/tickets?include=history`, { headers: { authorization: `Bearer ${INGEST_TOKEN}` } })).json()) as {
      items: { id: string; history: Record<string, unknown>[] }[];
    };
    const ticket = id ? tickets.items.find((t) => t.id === id) : tickets.items[0];
    expect(ticket?.history.find((e) => e.action === 'ack')).toMatchObject({ by: 'Wang Fang', actor: 'wang', actorName: 'Wang Fang' });
    expect(gw.store.audit.list({ action: 'auth.sign-in', actor: 'wang', limit: 10, offset: 0 }).items).toMatchObject([
      { outcome: 'ok', origin: '127.0.0.1', details: { method: 'oidc', name: 'Wang Fang', role: 'operator' } },
    ]);

    // Sign out: the session ends at the gateway, the cookie is gone, the board is read-only again.
    await page.click('#detail .close');
    await page.click('#operator');
    await page.locator('#signin-person', { hasText: 'Wang Fang' }).waitFor(WAIT);
    await page.screenshot({ path: join(OUT, 'board-signed-in-dialog-1366x768.png') });
    await page.click('#signout');
    await page.locator('#operator[data-signed="false"]').waitFor(WAIT);
    expect((await context.cookies()).find((c) => c.name === 'andon_session')).toBeUndefined();
    // the old cookie value no longer opens anything
    const reused = await fetch(`${gw.address}/api/v1/tickets`, { headers: { cookie: `andon_session=${session!.value}` } });
    expect(reused.status).toBe(401);
    expect(gw.store.audit.list({ action: 'auth.sign-out', limit: 10, offset: 0 }).items).toMatchObject([
      { actor: 'wang', outcome: 'ok', details: { name: 'Wang Fang' } },
    ]);
    await context.close();
  }, 90_000);

  it('a person without a role comes back to the board with the reason, and is not signed in', async () => {
    const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
    const page = await context.newPage();
    await page.goto(`${gw.address}/`);
    await page.locator('#signin-oidc').waitFor(WAIT);
    await signInAtProvider(page, 'visitor');
    await page.locator('#notice', { hasText: 'your account has no role on this gateway' }).waitFor(WAIT);
    expect(new URL(page.url()).search).toBe('');
    expect((await context.cookies()).find((c) => c.name === 'andon_session')).toBeUndefined();
    await context.close();
  }, 90_000);
});
