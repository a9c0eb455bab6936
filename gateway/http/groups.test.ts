import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { createMetrics, groupsOf } from '../metrics.ts';
import { bearer, testApp, TOKENS } from './fixture.ts';

/**
 * The response board per group (GET /api/v1/reports/groups) and the andon_group_* gauges, through the real
 * API, runtime and SQLite file in virtual time: response times, time per state (longest first), what is
 * overdue now and what breached in the period.
 */
const op = bearer(TOKENS.operator);
const MIN = 60_000;
const T0 = Date.parse('2026-03-02T08:00:00.000Z');
const ROUTING = `
routing:
  - { match: { fault: alarm-stop }, assign: maintenance }
  - { match: { fault: overtemp }, assign: utilities }
lifecycle: { closeChecklist: [] }
`;
type App = Awaited<ReturnType<typeof testApp>>;

describe('the response board per group', () => {
  let t: App;
  const at = (ms: number) => t.clock.advanceTo(T0 + ms);
  const act = async (id: string, action: string, extra: object = {}) =>
    expect((await t.app.inject({ method: 'POST', url: `/api/v1/tickets/${id}/transitions`, headers: op, payload: { action, by: 'wang', ...extra } })).statusCode).toBe(200);

  beforeEach(async () => {
    t = await testApp({ extra: ROUTING, start: T0 });
    // maintenance: acknowledged after 10 min, 20 min in progress, 2 h waiting for parts, resolved
    t.signal('packaging/sealer-01/alarm', true);
    const a = t.store.list({ history: false }).items[0]!.id;
    at(10 * MIN);
    await act(a, 'ack');
    await act(a, 'start');
    at(30 * MIN);
    await act(a, 'wait', { reason: 'parts', partNumber: 'VS-2000', eta: '2026-03-03T00:00:00Z' });
    at(150 * MIN);
    await act(a, 'resume');
    await act(a, 'resolve', { resolution: 'stabilizer', rootCause: 'sag' });
    // utilities: nobody acknowledges (P2 responds within 4 h): overdue, and breached when the timer fires
    t.signal('utilities/freezer-01/temperature', 95);
    at(7 * 60 * MIN);
  });
  afterEach(() => t.close());

  it('gives response times, overdue and breached tickets, and the states where tickets wait longest first', async () => {
    const res = await t.app.inject({ method: 'GET', url: `/api/v1/reports/groups?from=2026-03-01T00:00:00Z&to=2026-03-03T00:00:00Z` });
    expect(res.statusCode).toBe(200);
    const { groups } = res.json<{ groups: { group: string; opened: number; mtta: { count: number; meanSeconds: number; p90Seconds: number }; mttr: { meanSeconds: number }; overdueNow: number; breached: number; states: { state: string; totalSeconds: number }[] }[] }>();
    expect(groups.map((g) => g.group)).toEqual(['maintenance', 'utilities']);
    const [m, u] = groups;
    expect(m).toMatchObject({ opened: 1, mtta: { count: 1, meanSeconds: 600, p90Seconds: 600 }, mttr: { meanSeconds: 150 * 60 }, overdueNow: 0, breached: 0 });
    // waiting (2 h) is the top waiting stage, after the resolved ticket's 4.5 h since its resolve
    expect(m!.states.map((s) => [s.state, s.totalSeconds])).toEqual([
      ['resolved', 270 * 60],
      ['waiting', 120 * 60],
      ['in_progress', 20 * 60],
      ['open', 10 * 60],
      ['acknowledged', 0],
    ]);
    expect(u).toMatchObject({ opened: 1, mtta: { count: 0 }, overdueNow: 1, breached: 1 });
    expect(u!.states).toEqual([{ state: 'open', tickets: 1, totalSeconds: 270 * 60, meanSeconds: 270 * 60 }]);

    const csv = await t.app.inject({ method: 'GET', url: `/api/v1/reports/groups?from=2026-03-01T00:00:00Z&to=2026-03-03T00:00:00Z&format=csv` });
    expect(csv.headers['content-disposition']).toBe('attachment; filename="groups_2026-03-01_2026-03-03.csv"');
    expect(csv.body.split('\r\n')[1]).toBe('maintenance,1,1,600,600,1,9000,9000,0,0,resolved,16200');
    expect(csv.body.split('\r\n')[2]).toBe('utilities,1,0,,,0,,,1,1,open,16200');
    const bad = await t.app.inject({ method: 'GET', url: '/api/v1/reports/groups?from=yesterday' });
    expect(bad.json()).toMatchObject({ code: 'ANDON_REQUEST_INVALID', path: 'from' });
  });

  it('gauges open and overdue tickets per configured group; a group config does not know is ""', async () => {
    t.signal('packaging/sealer-02/alarm', true);
    const c = t.store.list({ history: false }).items.find((x) => x.asset === 'sealer-02')!.id;
    await act(c, 'assign', { assignee: 'li', group: 'night-shift' });
    const registry = new Registry();
    createMetrics(registry, t.store, { now: () => t.clock.now(), groups: () => groupsOf(t.config) });
    const body = await registry.metrics();
    expect(body).toContain('andon_group_open_tickets{group="maintenance"} 0');
    expect(body).toContain('andon_group_open_tickets{group="utilities"} 1');
    expect(body).toContain('andon_group_overdue_tickets{group="utilities"} 1');
    expect(body).toContain('andon_group_open_tickets{group=""} 1');
    expect(body).toContain('andon_group_overdue_tickets{group=""} 0');
    expect(body).not.toContain('night-shift');
  });
});
