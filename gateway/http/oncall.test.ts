import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, testApp, TOKENS } from './fixture.ts';

const SCHEDULES = `
notify:
  wang-phone: { type: webhook, url: "http://127.0.0.1:9/wang" }
  li-phone: { type: webhook, url: "http://127.0.0.1:9/li" }
  zhao-phone: { type: webhook, url: "http://127.0.0.1:9/zhao" }
schedules:
  people:
    wang: { name: Wang Wei, notify: wang-phone }
    li: { name: Li Na, notify: li-phone }
    zhao: { notify: zhao-phone }
  groups:
    maintenance:
      rotationStart: "2026-03-02"
      shifts:
        - { id: day, start: "06:00", end: "18:00", onCall: [wang, li], supervisor: [zhao] }
        - { id: night, start: "18:00", end: "06:00", onCall: [li, wang] }
      overrides: [ { date: "2026-03-03", shift: day, onCall: zhao } ]
    office:
      rotationStart: "2026-03-02"
      shifts: [ { id: office, start: "08:00", end: "16:00", days: [Mon, Tue, Wed, Thu, Fri], onCall: [li] } ]
`;

describe('GET /api/v1/oncall (a real server on 127.0.0.1)', () => {
  let t: Awaited<ReturnType<typeof testApp>>;
  let base: string;
  const get = async (query: string, token: string = TOKENS.operator) => {
    const res = await fetch(`${base}/api/v1/oncall${query}`, { headers: bearer(token) });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- answers are compared with toEqual
    return { status: res.status, body: (await res.json()) as any };
  };

  beforeAll(async () => {
    // 2026-03-02 08:00 UTC is 16:00 in Shanghai: the day shift, its first rotation day
    t = await testApp({ anonymousRead: false, gateway: '  timezone: Asia/Shanghai', extra: SCHEDULES });
    base = await t.app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(() => t.close());

  it('answers who of every scheduled group is on duty now, by the gateway clock', async () => {
    const { status, body } = await get('');
    expect(status).toBe(200);
    expect(body).toEqual({
      at: '2026-03-02T08:00:00.000Z',
      timezone: 'Asia/Shanghai',
      groups: [
        {
          group: 'maintenance',
          shift: { id: 'day', from: '2026-03-01T22:00:00.000Z', to: '2026-03-02T10:00:00.000Z' },
          onCall: { id: 'wang', name: 'Wang Wei', notify: 'wang-phone', override: false },
          supervisor: { id: 'zhao', name: 'zhao', notify: 'zhao-phone', override: false },
        },
        // 16:00 local: the office just closed
        { group: 'office', shift: null, onCall: null, supervisor: null },
      ],
    });
  });

  it('?at= asks about another moment: after the shift change, and on an override day', async () => {
    const night = await get('?at=2026-03-02T10:00:00Z&group=maintenance');
    expect(night.body.groups).toEqual([
      { group: 'maintenance', shift: { id: 'night', from: '2026-03-02T10:00:00.000Z', to: '2026-03-02T22:00:00.000Z' }, onCall: expect.objectContaining({ id: 'li' }), supervisor: null },
    ]);
    const override = await get('?at=2026-03-03T02:00:00Z&group=maintenance');
    expect(override.body.groups[0].onCall).toEqual({ id: 'zhao', name: 'zhao', notify: 'zhao-phone', override: true });
  });

  it('refuses a moment that is not a date and a group without a schedule, with codes', async () => {
    expect(await get('?at=yesterday')).toEqual({ status: 400, body: { code: 'ANDON_REQUEST_INVALID', message: expect.stringContaining('yesterday'), path: 'at' } });
    expect(await get('?group=quality')).toEqual({ status: 404, body: { code: 'ANDON_ONCALL_UNKNOWN_GROUP', message: expect.stringContaining('quality'), path: 'group' } });
  });

  it('needs a token with anonymous reads off (role read: any token)', async () => {
    const res = await fetch(`${base}/api/v1/oncall`);
    expect(res.status).toBe(401);
    expect((await get('', TOKENS.ingest)).status).toBe(200);
  });
});
