import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, testApp, TOKENS } from './fixture.ts';

let t: Awaited<ReturnType<typeof testApp>>;
beforeAll(async () => {
  t = await testApp({ anonymousRead: false });
});
afterAll(async () => t?.close());

describe('GET /api/v1/tags', () => {
  it('answers the tags pushed over HTTP, filtered by pattern, with times as ISO', async () => {
    const post = await t.app.inject({
      method: 'POST',
      url: '/api/v1/signals',
      headers: bearer(TOKENS.ingest),
      payload: [
        { tag: 'packaging/sealer-01/alarm', value: true, ts: '2026-03-02T07:59:00.000Z' },
        { tag: 'packaging/sealer-01/temperature', value: 71.5, unit: '°C' },
      ],
    });
    expect(post.statusCode).toBeLessThan(300);
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/tags?pattern=packaging/sealer-01/*', headers: bearer(TOKENS.operator) });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      items: [
        {
          tag: 'packaging/sealer-01/alarm',
          value: true,
          quality: 'good',
          unit: null,
          ts: '2026-03-02T07:59:00.000Z',
          arrivedAt: '2026-03-02T08:00:00.000Z',
          source: 'mes-http',
          asset: 'sealer-01',
          area: 'packaging',
          rules: ['alarms'],
        },
        expect.objectContaining({ tag: 'packaging/sealer-01/temperature', value: 71.5, unit: '°C', rules: ['temps'] }),
      ],
      total: 2,
      next: null,
      tracked: 2,
      maxTags: 100_000,
      overflow: 0,
    });
  });

  it('refuses a malformed pattern with ANDON_REQUEST_INVALID and needs the read role', async () => {
    const bad = await t.app.inject({ method: 'GET', url: '/api/v1/tags?pattern=a//b', headers: bearer(TOKENS.operator) });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'ANDON_REQUEST_INVALID', path: 'pattern' });
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/tags?limit=5000', headers: bearer(TOKENS.operator) })).statusCode).toBe(400);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/tags' })).statusCode).toBe(401);
  });
});
