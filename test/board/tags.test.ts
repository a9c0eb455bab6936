import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway } from '../../gateway/main.ts';
import { peer } from '../peers.ts';
import { INGEST_TOKEN, plantConfig } from './plant.ts';

/**
 * The board's Tags page in a real headless Chromium against a real gateway fed
 * over HTTP: tags appear with value, quality, source, asset and rules; the
 * search narrows by text or tag pattern; a new value shows without a reload.
 */
const CHROMIUM = '/usr/bin/chromium';
const hasChromium = peer('chromium', [CHROMIUM, '--version'], 'apt-get install -y chromium');
const OUT = join(import.meta.dirname, '..', 'output');
const WAIT = { timeout: 10_000 };

describe.skipIf(!hasChromium)('Tags page (headless Chromium)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'andon-board-tags-'));
  let gw: Awaited<ReturnType<typeof startGateway>>;
  let browser: Browser;
  let page: Page;

  const post = async (signals: object | object[]) => {
    const res = await fetch(`${gw.address}/api/v1/signals`, {
      method: 'POST',
      headers: { authorization: `Bearer ${INGEST_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(signals),
    });
    expect(res.status).toBe(202);
  };
  const row = (tag: string) => page.locator(`#tag-rows tr[data-tag="${tag}"]`);

  beforeAll(async () => {
    mkdirSync(OUT, { recursive: true });
    gw = await startGateway(plantConfig(dir), { port: 0, logger: pino({ level: 'silent' }) });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    await post([
      { tag: 'utilities/feeder-3/voltage', value: 229.8, unit: 'V' },
      { tag: 'packaging/sealer-01/alarm/E21', value: false },
      { tag: 'filling/filler-02/filter-dp', value: 120, quality: 'uncertain' },
      ...Array.from({ length: 30 }, (_, i) => ({ tag: `plant/meter-${i}/energy`, value: i })),
    ]);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await gw?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists the tags with value, quality, source, asset and the rules they feed', async () => {
    page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
    page.on('pageerror', (err) => console.error('tags page error:', err));
    await page.goto(`${gw.address}/tags`);
    await page.locator('#conn[data-state="live"]').waitFor(WAIT);
    const voltage = row('utilities/feeder-3/voltage');
    await voltage.waitFor(WAIT);
    expect(await voltage.locator('td').allInnerTexts()).toEqual([
      'utilities/feeder-3/voltage',
      '229.8 V',
      'good',
      expect.stringMatching(/^\d\d:\d\d:\d\d$/),
      expect.stringMatching(/^\d\d:\d\d:\d\d$/),
      'mes-http',
      'feeder-3 · utilities',
      'voltage-sag',
    ]);
    expect(await row('filling/filler-02/filter-dp').getAttribute('data-quality')).toBe('uncertain');
    expect(await row('packaging/sealer-01/alarm/E21').locator('td.rules').innerText()).toBe('alarms');
    expect(await page.locator('#summary').innerText()).toContain('33 of 33 matching');
    await page.screenshot({ path: join(OUT, 'tags-1366x768.png') });
  });

  it('narrows by text and by tag pattern', async () => {
    await page.locator('#search').fill('FEEDER');
    await page.locator('#tag-rows tr').first().waitFor(WAIT);
    await expect.poll(() => page.locator('#tag-rows tr').count(), WAIT).toBe(1);
    await page.locator('#search').fill('plant/*/energy');
    await expect.poll(() => page.locator('#tag-rows tr').count(), WAIT).toBe(30);
    expect(await page.locator('#summary').innerText()).toContain('30 of 30 matching');
    await page.locator('#search').fill('nothing-like-this');
    await page.locator('#tags-empty').waitFor({ state: 'visible', ...WAIT });
  });

  it('shows a new value live, marked as changed', async () => {
    await page.locator('#search').fill('utilities/**');
    await row('utilities/feeder-3/voltage').waitFor(WAIT);
    await post({ tag: 'utilities/feeder-3/voltage', value: 196.4, unit: 'V' });
    const changed = page.locator('#tag-rows tr.changed[data-tag="utilities/feeder-3/voltage"] td.value');
    await changed.waitFor(WAIT);
    expect(await changed.innerText()).toBe('196.4 V');
  });
});
