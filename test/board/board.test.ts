import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway } from '../../gateway/main.ts';
import { peer } from '../peers.ts';
import { INGEST_TOKEN, OPERATOR_TOKEN, plantConfig, seedSealerHistory } from './plant.ts';

/**
 * The alarm board in a real headless Chromium against a real gateway: rows
 * arrive live, an operator acknowledges and shelves, hostile plant text stays
 * text, and the board resumes after the gateway restarts. Screenshots of the
 * wall screen (1920×1080) and a laptop (1366×768) go to test/output/.
 */
const CHROMIUM = '/usr/bin/chromium';
const hasChromium = peer('chromium', [CHROMIUM, '--version'], 'apt-get install -y chromium');
const OUT = join(import.meta.dirname, '..', 'output');
const WAIT = { timeout: 10_000 };

describe.skipIf(!hasChromium)('alarm board (headless Chromium)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'andon-board-'));
  const config = plantConfig(dir);
  let gw: Awaited<ReturnType<typeof startGateway>>;
  let browser: Browser;

  beforeAll(async () => {
    mkdirSync(OUT, { recursive: true });
    await seedSealerHistory(config, join(dir, 'andon.sqlite'), Date.now());
    gw = await startGateway(config, { port: 0, logger: pino({ level: 'silent' }) });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await gw?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const post = async (signals: object | object[]) => {
    const res = await fetch(`${gw.address}/api/v1/signals`, {
      method: 'POST',
      headers: { authorization: `Bearer ${INGEST_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(signals),
    });
    expect(res.status).toBe(202);
  };
  const openBoard = async (width: number, height: number): Promise<Page> => {
    const page = await browser.newPage({ viewport: { width, height } });
    page.on('pageerror', (err) => console.error('board page error:', err));
    await page.goto(`${gw.address}/`);
    await page.locator('#conn[data-state="live"]').waitFor(WAIT);
    return page;
  };
  /** andon_events_clients_cut_total (event stream clients cut off for falling behind). */
  const sseCuts = async () => {
    const text = await (await fetch(`${gw.address}/metrics`)).text();
    return Number(/^andon_events_clients_cut_total (\d+)/m.exec(text)?.[1] ?? NaN);
  };
  const row = (page: Page, text: string, list = '#rows') => page.locator(`${list} .row`, { hasText: text });
  const signIn = async (page: Page, token: string, opener = '#operator') => {
    await page.click(opener);
    await page.fill('#token-input', token);
    await page.click('#signin-save');
    await page.locator('#signin').waitFor({ state: 'hidden', ...WAIT });
  };

  it('a posted signal appears live; an operator acknowledges it, a wrong role is refused with its code, then it is shelved', async () => {
    const page = await openBoard(1920, 1080);
    // The seeded history: the sealer's recurring stop with its discovered cause.
    const sealer = row(page, 'sealer-01');
    await sealer.waitFor(WAIT);
    await expect(sealer.locator('.badge').allTextContents()).resolves.toEqual(expect.arrayContaining(['↻ daily ~16:00', 'ESC 1', 'SLA missed']));
    await expect(sealer.locator('.b-cause').textContent()).resolves.toContain('feeder-3 voltage-sag 1m before (3/3)');

    await page.evaluate(() => Object.assign(globalThis, { boardNotReloaded: true }));
    await post({ tag: 'filling/filler-02/alarm/LOW_AIR', value: true, message: 'low air pressure at valve block', severity: 900 });
    const filler = row(page, 'filler-02');
    await filler.waitFor(WAIT);
    expect(await page.evaluate(() => (globalThis as { boardNotReloaded?: boolean }).boardNotReloaded)).toBe(true);
    expect(await filler.locator('.cell.prio').textContent()).toBe('P0');
    expect(await filler.getAttribute('data-state')).toBe('open');
    expect(await page.locator('#counts [data-priority="P0"] .count-n').textContent()).toBe('1');
    // Priority first: the P0 row is the first row.
    expect(await page.locator('#rows .row').first().textContent()).toContain('filler-02');
    expect(await filler.locator('.cell.sla .label').textContent()).toBe('respond in');

    // The rest of the afternoon: a flood on the palletizing line (more than 10 alarms in 10 min), a chattering labeler, a clogged filter.
    const pallet = [
      'conveyor-01/alarm/MOTOR_TRIP',
      'conveyor-02/alarm/JAM',
      'conveyor-03/alarm/JAM',
      'wrapper-01/alarm/FILM_BREAK',
      'stacker-01/alarm/DOOR',
      'conveyor-04/alarm/JAM',
      'turntable-01/alarm/OVERLOAD',
      'conveyor-05/alarm/PHOTOEYE',
      'labeler-05/alarm/NO_LABEL',
      'lift-01/alarm/LIMIT',
      'conveyor-06/alarm/JAM',
      'robot-01/alarm/ESTOP',
    ];
    await post(pallet.map((t) => ({ tag: `palletizing/${t}`, value: true })));
    await post(
      [true, false, true, false, true, false, true, false, true].map((value) => ({ tag: 'packaging/labeler-02/alarm/JAM', value, message: 'label web jam' })),
    );
    await post({ tag: 'utilities/compressor-1/filter-dp', value: 262 });
    const flood = page.locator('#floods .flood');
    await flood.waitFor(WAIT);
    expect(await flood.textContent()).toMatch(/ALARM FLOOD · palletizing.*\d+ alarms.*first out: conveyor-01 alarm-stop/);
    await row(page, 'labeler-02').locator('.b-chattering').waitFor(WAIT);
    await row(page, 'compressor-1').waitFor(WAIT);

    // Read-only until a token is entered.
    await filler.click();
    await page.locator('#detail .readonly-note').waitFor(WAIT);
    // A valid token with the wrong role: the API's { code, message } is shown.
    await signIn(page, INGEST_TOKEN, '#detail .readonly-note button');
    await page.click('#detail [data-action="ack"]');
    await page.locator('#detail .action-error', { hasText: 'ANDON_AUTH_FORBIDDEN' }).waitFor(WAIT);
    expect(await filler.getAttribute('data-state')).toBe('open');

    await page.click('#detail .close');
    await signIn(page, OPERATOR_TOKEN);
    expect(
      await page.evaluate(() => (globalThis as unknown as { localStorage: { getItem(k: string): string | null } }).localStorage.getItem('andon.operatorToken')),
    ).toBe(OPERATOR_TOKEN);
    await filler.click();
    await page.click('#detail [data-action="ack"]');
    await page.locator('#detail .pill[data-state="acknowledged"]').waitFor(WAIT);
    await page.locator('#rows .row[data-state="acknowledged"]', { hasText: 'filler-02' }).waitFor(WAIT);
    expect(await filler.locator('.cell.sla .label').textContent()).toBe('resolve in');

    await page.fill('#detail textarea[name="comment"]', 'air supply valve checked, compressor 1 filter clogged');
    await page.click('#detail [data-action="comment"]');
    const commented = page.locator('#detail .history li', { hasText: 'air supply valve checked' });
    await commented.waitFor(WAIT);
    // Who was signed in: the operator token's name, next to the free-text by.
    expect(await commented.locator('.h-actor').textContent()).toContain('wang');
    expect(gw.store.liveByKey('filler-02/alarm-stop')?.history.at(-1)).toMatchObject({ action: 'comment', by: 'wang', actor: 'wang' });

    await page.fill('#detail input[name="reason"]', 'maintenance in progress');
    const durations = await page
      .locator('#detail select[name="duration"] option')
      .evaluateAll((os) => os.map((o) => (o as unknown as { value: string }).value));
    expect(durations).toEqual(['15m', '30m', '1h', '2h', '4h', '8h']); // bounded by shelving.maxDuration
    await page.selectOption('#detail select[name="duration"]', '2h');
    await page.click('#detail [data-action="shelve"]');
    await page.locator('#detail [data-action="unshelve"]').waitFor(WAIT);
    await page.click('#detail .close');
    await row(page, 'filler-02', '#shelved-rows').waitFor(WAIT);
    expect(await row(page, 'filler-02').count()).toBe(0);
    const shelved = gw.store.liveByKey('filler-02/alarm-stop');
    expect(shelved?.state).toBe('acknowledged');
    expect(Date.parse(shelved?.shelvedUntil ?? '')).toBeGreaterThan(Date.now() + 110 * 60_000);

    // A new line stop for the screenshots: the wall screen leads with it.
    await post({ tag: 'filling/capper-03/alarm/TORQUE', value: true, message: 'capping head torque out of range' });
    await row(page, 'capper-03').waitFor(WAIT);
    await page.screenshot({ path: join(OUT, 'board-1920x1080.png'), animations: 'disabled' });
    await sealer.click();
    await page.locator('#detail .detail-section').first().waitFor(WAIT);
    await page.screenshot({ path: join(OUT, 'board-detail-1920x1080.png'), animations: 'disabled' });
    await page.click('#detail .close');
    await page.setViewportSize({ width: 1366, height: 768 });
    await page.screenshot({ path: join(OUT, 'board-1366x768.png'), animations: 'disabled' });
    await page.close();
  }, 90_000);

  it('hostile ticket text from plant messages is shown as text and never runs', async () => {
    const page = await openBoard(1366, 768);
    const asset = '<img src=x onerror="window.pwned=1">';
    const message = '<script>window.pwned=2</script><b>bold?</b>';
    await post({ tag: 'lab/mixer-9/alarm/E1', value: true, asset, message });
    const hostile = row(page, 'onerror');
    await hostile.waitFor(WAIT);
    expect(await hostile.locator('.asset').textContent()).toBe(asset);
    expect(await hostile.locator('.msg').textContent()).toBe(message);

    const ticket = gw.store.list({ asset }).items[0];
    const comment = '<img src=y onerror="window.pwned=3"><a href="javascript:window.pwned=4">x</a>';
    const res = await fetch(`${gw.address}/api/v1/tickets/${ticket?.id}/comments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${OPERATOR_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ text: comment }),
    });
    expect(res.status).toBe(200);
    await hostile.click();
    await page.locator('#detail .history li', { hasText: 'window.pwned=3' }).waitFor(WAIT);
    expect(await page.locator('#detail .detail-title h2').textContent()).toContain(asset);
    expect(await page.locator('#detail .detail-table td', { hasText: '<script>' }).count()).toBe(1);
    expect(await page.evaluate(() => (globalThis as { pwned?: number }).pwned)).toBeUndefined();
    expect(await page.locator('img, a:not(.nav-tags), b, script:not([src])').count()).toBe(0);
    await page.close();
  }, 60_000);

  it('a link from a notification (/?ticket=<id>) opens that ticket\'s detail', async () => {
    await post({ tag: 'lab/press-7/alarm/E9', value: true, message: 'deep link target' });
    const ticket = gw.store.list({ asset: 'press-7' }).items[0];
    expect(ticket).toBeDefined();
    const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
    await page.goto(`${gw.address}/?ticket=${ticket?.id}`);
    await page.locator('#detail[open] .detail-title h2', { hasText: 'press-7' }).waitFor(WAIT);
    await page.close();
  }, 60_000);

  it('after the gateway restarts, the board reconnects and resumes from its last event id without a reload', async () => {
    const page = await openBoard(1366, 768);
    const streams: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/api/v1/events')) streams.push(r.url());
    });
    await post({ tag: 'utilities/chiller-1/alarm/HIGH_TEMP', value: true });
    await row(page, 'chiller-1').waitFor(WAIT);
    await page.evaluate(() => Object.assign(globalThis, { boardNotReloaded: true }));

    const port = Number(new URL(gw.address).port);
    await gw.stop();
    await page.locator('#conn[data-state="reconnecting"]').waitFor(WAIT);
    gw = await startGateway(config, { port, logger: pino({ level: 'silent' }) });
    await post({ tag: 'utilities/chiller-2/alarm/HIGH_TEMP', value: true });
    await row(page, 'chiller-2').waitFor({ timeout: 30_000 });
    await page.locator('#conn[data-state="live"]').waitFor(WAIT);
    expect(streams.some((u) => /[?&]lastEventId=\d+/.test(u))).toBe(true);
    expect(await page.evaluate(() => (globalThis as { boardNotReloaded?: boolean }).boardNotReloaded)).toBe(true);
    await page.close();
  }, 60_000);

  it('a gateway that shows tickets only with a token asks for one, then streams with a single-use key: the token is in no URL', async () => {
    const privateDir = mkdtempSync(join(tmpdir(), 'andon-board-private-'));
    const gw2 = await startGateway(plantConfig(privateDir, false), { port: 0, logger: pino({ level: 'silent' }) });
    const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
    const urls: string[] = [];
    page.on('request', (r) => urls.push(r.url()));
    try {
      await page.goto(`${gw2.address}/`);
      await page.locator('#signin[open]').waitFor(WAIT);
      expect(await page.locator('#notice').textContent()).toContain('token');
      await page.fill('#token-input', OPERATOR_TOKEN);
      await page.click('#signin-save');
      await page.locator('#conn[data-state="live"]').waitFor(WAIT);
      const res = await fetch(`${gw2.address}/api/v1/signals`, {
        method: 'POST',
        headers: { authorization: `Bearer ${INGEST_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ tag: 'packaging/sealer-01/alarm/E21', value: true }),
      });
      expect(res.status).toBe(202);
      await row(page, 'sealer-01').waitFor(WAIT);
      const streams = urls.filter((u) => u.includes('/api/v1/events?'));
      expect(streams.length).toBeGreaterThan(0);
      for (const u of streams) expect(u).toMatch(/[?&]key=[A-Za-z0-9_-]{32}(&|$)/);
      expect(urls.filter((u) => u.includes(OPERATOR_TOKEN) || u.includes('token='))).toEqual([]);
    } finally {
      await page.close();
      await gw2.stop();
      rmSync(privateDir, { recursive: true, force: true });
    }
  }, 60_000);

  it('sorts by priority then the SLA deadline that applies now, and formats countdowns, recurrence patterns and readings', async () => {
    const page = await openBoard(800, 600);
    // A string, not a function: vitest would rewrite a function's import() for Node.
    const out = (await page.evaluate(`(async () => {
      const m = await import('/board/model.js');
      const now = Date.parse('2026-01-20T08:00:00Z');
      const at = (min) => new Date(now + min * 60000).toISOString();
      const t = (id, priority, state, respondMin, resolveMin, version = 1) => ({
        id, version, priority, state, respondBy: at(respondMin), resolveBy: at(resolveMin), openedAt: at(-5),
        acknowledgedAt: state === 'open' ? null : at(-1), breaches: [], flags: [],
      });
      const book = new m.TicketBook();
      for (const x of [t('a', 'P1', 'acknowledged', -20, 60), t('b', 'P1', 'open', 10, 480), t('c', 'P0', 'open', 14, 240), t('d', 'P1', 'open', 20, 480), t('e', 'P2', 'closed', 1, 2)]) book.upsert(x);
      const stale = book.upsert(t('b', 'P1', 'closed', 10, 480, 0));
      return {
        order: book.view(now).active.map((x) => x.id),
        stale,
        countdowns: [m.countdown(-65000), m.countdown(3723000), m.countdown(3 * 86400000 + 4 * 3600000)],
        labels: [
          m.recurrenceLabel({ count: 5, pattern: 'daily', at: '16:00', day: null }),
          m.recurrenceLabel({ count: 4, pattern: 'weekly', at: '06:30', day: 'Mon' }),
          m.recurrenceLabel({ count: 3, pattern: 'irregular', at: null, day: null }),
        ],
        values: [m.fmtValue(221.39999389648438), m.fmtValue(207), m.fmtValue(true), m.fmtValue('E21'), m.fmtValue(0.000123456789), m.fmtValue(196.39999389648438, 'V')],
        detail: m.latestDetail({ evidence: [{ tag: 'utilities/feeder-3/voltage', value: 196.4, unit: 'V' }] }),
      };
    })()`)) as { order: string[]; stale: boolean; countdowns: string[]; labels: string[]; values: string[]; detail: string };
    expect(out.order).toEqual(['c', 'b', 'd', 'a']);
    expect(out.stale).toBe(false);
    expect(out.countdowns).toEqual(['+1:05', '1:02:03', '3d 04h']);
    expect(out.labels).toEqual(['daily ~16:00', 'weekly Mon ~06:30', 'irregular ×3']);
    expect(out.values).toEqual(['221.4', '207', 'true', '"E21"', '0.0001234568', '196.4 V']);
    expect(out.detail).toBe('utilities/feeder-3/voltage = 196.4 V');
    await page.close();
  }, 30_000);

  it('stays connected through a 10k-raise alarm flood: no reconnect, no cut-off, the flood banner counts its members', async () => {
    const page = await openBoard(1366, 768);
    // Every connection state the board shows from now on, and a flag a page reload would clear.
    // A string, not a function: the test's TypeScript has no DOM types.
    await page.evaluate(`(() => {
      const seen = [];
      const conn = document.getElementById('conn');
      new MutationObserver(() => seen.push(conn.dataset.state ?? '')).observe(conn, { attributes: true, attributeFilter: ['data-state'] });
      Object.assign(globalThis, { connSeen: seen, notReloaded: true });
    })()`);
    const cutBefore = await sseCuts();
    expect(cutBefore).toBeGreaterThanOrEqual(0); // the metric is there (NaN would pass toBe(NaN) below)
    // 500 machines of one hall raise and clear 20 times: 10,000 raises, 500 signals per request.
    const cells = Array.from({ length: 500 }, (_, i) => `cell-${String(i).padStart(3, '0')}`);
    for (let round = 0; round < 20; round++) {
      await post(cells.map((c) => ({ tag: `assembly/${c}/alarm/FAULT`, value: true, message: 'gripper fault' })));
      await post(cells.map((c) => ({ tag: `assembly/${c}/alarm/FAULT`, value: false })));
    }
    const flood = page.locator('#floods .flood', { hasText: 'assembly' });
    await flood.waitFor(WAIT);
    await expect.poll(() => flood.textContent(), WAIT).toMatch(/500 alarms/);
    // The banner says 500 after the first round already: the flood's row must show its last version (every raise counted).
    const stored = gw.store.list({ area: 'assembly', fault: 'alarm-flood', history: false }).items[0];
    expect(stored?.occurrences).toBeGreaterThanOrEqual(10_000);
    await row(page, 'alarm-flood').filter({ hasText: 'assembly' }).locator('.occ', { hasText: `×${stored?.occurrences}` }).waitFor(WAIT);
    expect(await page.evaluate(() => (globalThis as { connSeen?: string[] }).connSeen)).toEqual([]);
    expect(await page.evaluate(() => (globalThis as { notReloaded?: boolean }).notReloaded)).toBe(true);
    expect(await sseCuts()).toBe(cutBefore);
    const list = (await (await fetch(`${gw.address}/api/v1/tickets?area=assembly&state=open`, { headers: { authorization: `Bearer ${OPERATOR_TOKEN}` } })).json()) as { items: { fault: string; occurrences: number }[] };
    expect(list.items.find((t) => t.fault === 'alarm-flood')?.occurrences).toBeGreaterThanOrEqual(10_000);
    // the detail fetches the flood ticket's newest history, not the board's stream
    await flood.click();
    await page.locator('#detail h3', { hasText: /^History \(\d+/ }).waitFor(WAIT);
    // Another burst with the detail open: the stream skips versions of a client behind, the detail fills the holes
    // (it fetches the newest page again) and ends with the ticket's newest 100 events, none missing.
    await post(cells.map((c) => ({ tag: `assembly/${c}/alarm/FAULT`, value: true, message: 'gripper fault again' })));
    const last = gw.store.list({ area: 'assembly', fault: 'alarm-flood', history: false }).items[0]!.version;
    const newest100 = Array.from({ length: Math.min(100, last) }, (_, i) => String(last - 1 - i));
    await expect
      .poll(() => page.locator('#detail .history li').evaluateAll((lis) => lis.map((li) => (li as unknown as { dataset: { index: string } }).dataset.index)), WAIT)
      .toEqual(newest100);
    await page.click('#detail .close');
    expect(await sseCuts()).toBe(cutBefore);
    await page.close();
  }, 120_000);

  it('a fault back after its fix: the resolved ticket returns as a new open ticket, highlighted, with what was done last time', async () => {
    const page = await openBoard(1366, 768);
    await post({ tag: 'filling/capper-07/alarm/TORQUE', value: true, message: 'cap torque out of range' });
    const capper = row(page, 'capper-07');
    await capper.waitFor(WAIT);
    const id = gw.store.list({ asset: 'capper-07', history: false }).items[0]!.id;
    const act = (body: object) =>
      fetch(`${gw.address}/api/v1/tickets/${id}/transitions`, { method: 'POST', headers: { authorization: `Bearer ${OPERATOR_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await act({ action: 'resolve', by: 'wang', resolution: 'reset torque head clutch', rootCause: 'clutch slipping' })).status).toBe(200);
    await post({ tag: 'filling/capper-07/alarm/TORQUE', value: false });
    await capper.waitFor({ state: 'detached', ...WAIT }); // resolved: off the board

    await post({ tag: 'filling/capper-07/alarm/TORQUE', value: true, message: 'cap torque out of range' });
    const back = page.locator('#rows .row.fresh', { hasText: 'capper-07' });
    await back.waitFor(WAIT);
    expect(await back.getAttribute('data-state')).toBe('open');
    await back.locator('.b-recurred').waitFor(WAIT);
    expect(await back.locator('.b-recurred').getAttribute('title')).toBe('last fix: reset torque head clutch (root cause: clutch slipping)');
    await back.click();
    const last = page.locator('#detail .detail-section', { hasText: 'Came back after its fix' });
    await last.waitFor(WAIT);
    expect(await last.textContent()).toContain('reset torque head clutch');
    expect(await last.textContent()).toContain('clutch slipping');
    await page.click('#detail .close');
    await page.close();
  }, 60_000);
});
