import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway } from '../../gateway/main.ts';
import type { Ticket } from '../../model/ticket.ts';
import { peer } from '../peers.ts';
import { INGEST_TOKEN, OPERATOR_TOKEN, plantConfig } from './plant.ts';

/**
 * The knowledge base and records on the board, in a real headless Chromium against a real gateway: the
 * detail dialog shows a resolved ticket's knowledge entry and its records, and the search page finds the
 * case by two Chinese characters and by an English word.
 */
const CHROMIUM = '/usr/bin/chromium';
const hasChromium = peer('chromium', [CHROMIUM, '--version'], 'apt-get install -y chromium');
const WAIT = { timeout: 10_000 };

describe.skipIf(!hasChromium)('knowledge base and records on the board (headless Chromium)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'andon-board-kb-'));
  const base = plantConfig(dir);
  const config = { ...base, knowledge: { labels: ['voltage-interference', 'mechanical-wear'], freeLabels: false } };
  let gw: Awaited<ReturnType<typeof startGateway>>;
  let browser: Browser;
  let id = '';

  const call = async (path: string, body: object, token = OPERATOR_TOKEN) => {
    const res = await fetch(`${gw.address}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(res.status, await res.clone().text()).toBeLessThan(300);
    return res.status === 202 ? null : ((await res.json()) as Ticket);
  };

  beforeAll(async () => {
    gw = await startGateway(config, { port: 0, logger: pino({ level: 'silent' }) });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    await call('/api/v1/signals', { tag: 'packaging/sealer-01/alarm/E21', value: true, message: 'seal jaw fault' }, INGEST_TOKEN);
    id = gw.store.list({ asset: 'sealer-01' }).items[0]!.id;
    const act = (body: object) => call(`/api/v1/tickets/${id}/transitions`, { by: 'wang', ...body });
    await act({ action: 'ack' });
    await act({ action: 'start' });
    await act({ action: 'wait', reason: 'parts', partNumber: 'VS-2000', eta: '2026-03-03T08:00:00Z', supplier: 'Delixi' });
    await call(`/api/v1/tickets/${id}/records/R1/items`, { by: 'li', items: [{ materialNumber: 'CB-16A', quantity: 2 }] });
    await act({ action: 'resume' });
    await act({
      action: 'resolve',
      resolution: '加装稳压电源',
      rootCause: '3号馈线电压暂降',
      knowledge: { symptom: '封口机 16:00 左右停机 E21', diagnosis: 'sag on feeder 3 a minute before each stop', solution: '加装稳压电源 (voltage stabilizer)', labels: ['voltage-interference'] },
    });
    await call(`/api/v1/tickets/${id}/records`, { by: 'wang', type: 'acceptance', fields: { acceptedBy: 'Zhang (customer)', result: 'passed', note: '24 h without alarms' } });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await gw?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the detail dialog shows the knowledge entry and the records', async () => {
    const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
    page.on('pageerror', (err) => console.error('board page error:', err));
    await page.goto(`${gw.address}/?ticket=${id}`);
    const knowledge = page.locator('#detail[open] .detail-section:has(h3:text-is("Knowledge entry"))');
    await knowledge.waitFor(WAIT);
    await expect(knowledge.locator('dd').allTextContents()).resolves.toEqual(['封口机 16:00 左右停机 E21', 'sag on feeder 3 a minute before each stop', '加装稳压电源 (voltage stabilizer)']);
    await expect(knowledge.locator('.label-chip').allTextContents()).resolves.toEqual(['voltage-interference']);
    const records = page.locator('#detail[open] table.records tbody tr');
    await expect(records.count()).resolves.toBe(2);
    await expect(records.nth(0).textContent()).resolves.toMatch(/R1.*parts request.*VS-2000 ×1, CB-16A ×2/);
    await expect(records.nth(1).getAttribute('class')).resolves.toBe('record-passed');
    await expect(records.nth(1).textContent()).resolves.toContain('Zhang (customer)');
    await page.close();
  }, 60_000);

  it('the search page finds the case by 稳压 and by an English word, filters by label, and links to the ticket', async () => {
    const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
    page.on('pageerror', (err) => console.error('knowledge page error:', err));
    await page.goto(`${gw.address}/`);
    await page.click('#kb-link');
    await page.locator('#kb-label option[value="voltage-interference"]').waitFor({ state: 'attached', ...WAIT });
    await page.fill('#kb-q', '稳压');
    await page.click('#kb-form button[type="submit"]');
    const hit = page.locator('#kb-results .kb-hit');
    await page.locator('#kb-count', { hasText: '1 cases' }).waitFor(WAIT);
    await expect(hit.first().getAttribute('data-id')).resolves.toBe(id);
    await expect(hit.first().locator('.kb-snippet').textContent()).resolves.toContain('稳压');
    await page.fill('#kb-q', 'stabilizer');
    await page.selectOption('#kb-label', 'mechanical-wear');
    await page.click('#kb-form button[type="submit"]');
    await page.locator('#kb-count', { hasText: 'No case found.' }).waitFor(WAIT);
    await page.selectOption('#kb-label', 'voltage-interference');
    await page.click('#kb-form button[type="submit"]');
    await page.locator('#kb-count', { hasText: '1 cases' }).waitFor(WAIT);
    await expect(page.locator('#kb-csv').getAttribute('href')).resolves.toBe('/api/v1/knowledge?q=stabilizer&label=voltage-interference&format=csv');
    await hit.first().locator('a').click();
    await page.locator('#detail[open] .detail-section:has(h3:text-is("Knowledge entry"))').waitFor(WAIT);
    await page.close();
  }, 60_000);

  it('an operator resolves with a knowledge entry from the detail dialog', async () => {
    await call('/api/v1/signals', { tag: 'packaging/labeler-02/alarm/L7', value: true, message: 'label jam' }, INGEST_TOKEN);
    const other = gw.store.list({ asset: 'labeler-02' }).items[0]!.id;
    const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
    page.on('pageerror', (err) => console.error('board page error:', err));
    await page.goto(`${gw.address}/`);
    await page.click('#operator');
    await page.fill('#token-input', OPERATOR_TOKEN);
    await page.click('#signin-save');
    await page.locator('#signin').waitFor({ state: 'hidden', ...WAIT });
    await page.goto(`${gw.address}/?ticket=${other}`);
    await page.locator('#detail[open]').waitFor(WAIT);
    const form = page.locator('#detail .resolve-form');
    await form.waitFor(WAIT);
    await form.locator('textarea[name="resolution"]').fill('replaced the peel plate');
    await form.locator('input[name="rootCause"]').fill('worn peel plate');
    await form.locator('summary').click();
    await form.locator('input[name="solution"]').fill('更换剥离板 (new peel plate)');
    await form.locator('input[name="label"][value="mechanical-wear"]').check();
    await form.locator('button[data-action="resolve"]').click();
    await page.locator('#detail[open] .detail-section:has(h3:text-is("Knowledge entry")) .label-chip', { hasText: 'mechanical-wear' }).waitFor(WAIT);
    expect(gw.store.doc(other)?.knowledge).toEqual({ symptom: null, diagnosis: null, solution: '更换剥离板 (new peel plate)', labels: ['mechanical-wear'] });
    await page.close();
  }, 60_000);
});
