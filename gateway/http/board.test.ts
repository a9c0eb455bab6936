import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/load.ts';
import { VirtualScheduler } from '../../rules/virtual-scheduler.ts';
import { createMetrics } from '../metrics.ts';
import { createRuntime } from '../runtime.ts';
import { TicketStore } from '../store/store.ts';
import { MESSAGES } from '../i18n.ts';
import { buildApp } from './app.ts';

const config = (anonymousRead: boolean, extra = '', locale = 'en') =>
  parseConfig(`
gateway:
  id: board-gw
  timezone: Asia/Shanghai
  locale: ${locale}
  auth: { anonymousRead: ${anonymousRead}, tokens: [ { name: wang, role: operator, token: operator-token-0123456789 } ] }
shelving: { maxDuration: 4h }
${extra}`);

describe('board routes', () => {
  let store: TicketStore;
  let app: ReturnType<typeof buildApp>;
  const open = async (anonymousRead = true, extra = '', locale = 'en') => {
    const c = config(anonymousRead, extra, locale);
    store = await TicketStore.open(':memory:');
    const registry = new Registry();
    const scheduler = new VirtualScheduler(Date.parse('2026-03-01T08:00:00Z'));
    const runtime = createRuntime({ config: c, store, scheduler });
    app = buildApp({ config: c, store, runtime, registry, metrics: createMetrics(registry, store), now: () => scheduler.now(), ready: () => true });
    return app;
  };
  afterEach(async () => {
    await app.close();
    await store.close();
  });

  it('GET / serves the board page with a policy that allows only its own scripts and this gateway', async () => {
    const res = await (await open()).inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.body).toContain('<script type="module" src="/board/board.js">');
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    // No external resources: the plant network has no internet.
    expect(res.body).not.toMatch(/(src|href)="(https?:)?\/\//);
  });

  it('every path that answers HTML carries the policy and may not be framed (the board page is also /board/index.html)', async () => {
    await open();
    for (const url of ['/', '/board/index.html', '/docs', '/docs/']) {
      const res = await app.inject({ method: 'GET', url });
      if (res.statusCode >= 300 && res.statusCode < 400) continue; // a redirect to the page itself, checked on its own
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type'], url).toMatch(/^text\/html/);
      const csp = String(res.headers['content-security-policy']);
      expect(csp, url).toContain("frame-ancestors 'none'");
      expect(csp, url).toContain("script-src 'self'");
      expect(csp, url).not.toContain('unsafe-inline');
      expect(res.headers['x-frame-options'], url).toBe('DENY');
      expect(res.headers['x-content-type-options'], url).toBe('nosniff');
    }
  });

  it('serves the board files under /board/ and nothing outside its folder', async () => {
    await open();
    for (const [file, type] of [
      ['board.js', /javascript/],
      ['board.css', /text\/css/],
      ['rows.css', /text\/css/],
      ['detail.css', /text\/css/],
      ['model.js', /javascript/],
      ['favicon.svg', /svg/],
    ] as const) {
      const res = await app.inject({ method: 'GET', url: `/board/${file}` });
      expect(res.statusCode, file).toBe(200);
      expect(res.headers['content-type']).toMatch(type);
      expect(res.body).not.toMatch(/https?:\/\/(?!www\.w3\.org)/); // no CDN
    }
    // the folder's tests and tsconfig are no board files
    for (const url of ['/board/../http/board.ts', '/board/%2e%2e/http/board.ts', '/board/..%2fhttp/board.ts', '/board/', '/board/nope.js', '/board/model.test.ts', '/board/tsconfig.json']) {
      const res = await app.inject({ method: 'GET', url });
      expect([403, 404], url).toContain(res.statusCode);
      expect(res.json().code, url).toMatch(/^ANDON_/);
      expect(res.body).not.toContain('FastifyPluginAsync');
    }
  });

  it('GET /api/v1/board/config tells the board the shelving limit, the gateway and whether it may read without a token', async () => {
    for (const anonymousRead of [true, false]) {
      await open(anonymousRead);
      const res = await app.inject({ method: 'GET', url: '/api/v1/board/config' });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({
        gatewayId: 'board-gw',
        timezone: 'Asia/Shanghai',
        locale: 'en',
        anonymousRead,
        shelvingMaxSeconds: 14_400,
        closeChecklist: [
          { id: 'customerInformed', label: 'Customer informed' },
          { id: 'partsRecorded', label: 'Parts recorded' },
          { id: 'knowledgeBaseChecked', label: 'Knowledge base checked' },
        ],
        messages: MESSAGES.en,
        signIn: false,
        knowledgeLabels: [],
      });
      if (!anonymousRead) expect((await app.inject({ method: 'GET', url: '/api/v1/tickets' })).statusCode).toBe(401);
      await app.close();
      await store.close();
    }
    await open(); // for afterEach
  });

  it('GET /api/v1/board/config gives the locale\'s texts and the configured close checklist, labelled in that locale unless the config labels it', async () => {
    await app.close();
    await store.close();
    await open(true, 'lifecycle:\n  closeChecklist: [ { id: customerInformed }, { id: lockoutRemoved, label: "挂牌上锁已解除" }, { id: areaCleaned } ]', 'zh-CN');
    const body = (await app.inject({ method: 'GET', url: '/api/v1/board/config' })).json();
    expect(body.locale).toBe('zh-CN');
    expect(body.messages).toEqual(MESSAGES['zh-CN']);
    expect(body.messages['head.what']).toBe('设备 · 故障');
    expect(body.closeChecklist).toEqual([
      { id: 'customerInformed', label: '已通知客户' },
      { id: 'lockoutRemoved', label: '挂牌上锁已解除' },
      { id: 'areaCleaned', label: 'areaCleaned' },
    ]);
  });
});
