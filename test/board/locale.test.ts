import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AndonConfig } from '../../config/schema.ts';
import { MESSAGES, type Locale } from '../../gateway/i18n.ts';
import { startGateway } from '../../gateway/main.ts';
import { peer } from '../peers.ts';
import { INGEST_TOKEN, OPERATOR_TOKEN, plantConfig, seedSealerHistory } from './plant.ts';

/**
 * The board in the plant's language, zone and words, in a real headless
 * Chromium whose own zone (America/New_York) and language (en-US) are not the
 * plant's: labels follow gateway.locale, times gateway.timezone, the row and
 * the detail show the rule's configured title, and an operator resolves and
 * closes a ticket from its detail dialog with the close checklist the gateway
 * serves (lifecycle.closeChecklist, one item the board cannot know).
 */
const CHROMIUM = '/usr/bin/chromium';
const hasChromium = peer('chromium', [CHROMIUM, '--version'], 'apt-get install -y chromium');
const OUT = join(import.meta.dirname, '..', 'output');
const WAIT = { timeout: 10_000 };
/** A fixed instant: 16:00:00 in Asia/Shanghai, 03:00:00 in New York (the browser's zone). */
const INSTANT = '2026-01-20T08:00:00.000Z';

interface Case {
  locale: Locale;
  title: string;
  evidenceTime: string;
  checklist: string[];
  resolvedAction: string;
  closedAction: string;
}
const CASES: Case[] = [
  {
    locale: 'zh-CN',
    title: '灌装机 filler-02 停机报警（alarm-stop）',
    evidenceTime: '1月20日 16:00:00',
    checklist: ['已通知客户', '已记录备件', '已查阅知识库', '挂牌上锁已解除'],
    resolvedAction: '解决',
    closedAction: '关闭',
  },
  {
    locale: 'en',
    title: '灌装机 filler-02 停机报警（alarm-stop）',
    evidenceTime: 'Jan 20, 16:00:00',
    checklist: ['Customer informed', 'Parts recorded', 'Knowledge base checked', '挂牌上锁已解除'],
    resolvedAction: 'resolved',
    closedAction: 'closed',
  },
];

/** The plant of board.test.ts in Shanghai, in `locale`, with a configured title and one more close checklist item. */
function localConfig(dir: string, locale: Locale, checklist: boolean): AndonConfig {
  const c = plantConfig(dir);
  return {
    ...c,
    gateway: { ...c.gateway, timezone: 'Asia/Shanghai', locale },
    rules: c.rules.map((r) => (r.id === 'alarms' ? { ...r, title: '灌装机 {asset} 停机报警（{fault}）' } : r)),
    ...(checklist ? { lifecycle: { ...c.lifecycle, closeChecklist: [...c.lifecycle.closeChecklist, { id: 'lockoutRemoved', label: '挂牌上锁已解除' }] } } : {}),
  };
}

/**
 * The English labels a screen in another locale must not show: each text of the
 * en table cut at its {placeholders}, the pieces that are words (3 letters or more).
 */
function englishLabels(): string[] {
  const pieces = Object.entries(MESSAGES.en)
    .filter(([k]) => !k.startsWith('notify.') && !k.startsWith('csv.'))
    .flatMap(([, v]) => v.split(/\{\w+\}/))
    .map((p) => p.replace(/^[\s·:—(),.…●×~±?]+|[\s·:—(),.…●×~±?]+$/g, ''))
    .filter((p) => /[A-Za-z]{3,}/.test(p));
  return [...new Set(pieces)];
}
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Plant data the board shows as it comes (rule ids, faults, categories, groups, areas, assets): not labels, so not translated. */
const plantData = (c: AndonConfig): string[] => [
  ...c.rules.flatMap((r) => [r.id, r.fault, r.category]),
  ...c.routing.map((r) => r.assign),
  ...Object.entries(c.assets).flatMap(([name, a]) => [name, a.area, a.line ?? '']),
].filter(Boolean);

describe.skipIf(!hasChromium)('the board in the plant\'s locale and timezone (headless Chromium)', () => {
  let browser: Browser;
  const dirs: string[] = [];

  beforeAll(async () => {
    mkdirSync(OUT, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it.each(CASES)('$locale: labels, plant time, the configured title, resolve and close with the served checklist', async (c) => {
    const dir = mkdtempSync(join(tmpdir(), `andon-board-${c.locale}-`));
    dirs.push(dir);
    // The seeded history closed its first ticket with the default checklist.
    await seedSealerHistory(localConfig(dir, c.locale, false), join(dir, 'andon.sqlite'), Date.now());
    const gw = await startGateway(localConfig(dir, c.locale, true), { port: 0, logger: pino({ level: 'silent' }) });
    const context = await browser.newContext({ viewport: { width: 1920, height: 1080 }, timezoneId: 'America/New_York', locale: 'en-US' });
    const page: Page = await context.newPage();
    page.on('pageerror', (err) => console.error('board page error:', err));
    try {
      await page.goto(`${gw.address}/`);
      await page.locator('#conn[data-state="live"]').waitFor(WAIT);
      const post = await fetch(`${gw.address}/api/v1/signals`, {
        method: 'POST',
        headers: { authorization: `Bearer ${INGEST_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ tag: 'filling/filler-02/alarm/LOW_AIR', value: true, message: '阀岛气压低', ts: INSTANT }),
      });
      expect(post.status).toBe(202);
      const row = page.locator('#rows .row', { hasText: 'filler-02' });
      await row.waitFor(WAIT);

      // The configured title, on the row.
      expect(await row.locator('.line2 .title').textContent()).toBe(c.title);
      // Labels in the gateway's language.
      const t = MESSAGES[c.locale];
      expect(await page.locator('.list-head span').allTextContents()).toEqual([t['head.priority'], t['head.what'], t['head.state'], t['head.age'], t['head.sla']]);
      expect(await page.locator('#conn .conn-text').textContent()).toBe(t['conn.live']);
      expect(await row.locator('.cell.sla .label').textContent()).toBe(t['sla.respondIn']);
      expect(await page.evaluate('document.documentElement.lang')).toBe(c.locale);

      await page.click('#operator');
      await page.fill('#token-input', OPERATOR_TOKEN);
      await page.click('#signin-save');
      await page.locator('#signin').waitFor({ state: 'hidden', ...WAIT });
      await row.click();
      const detail = page.locator('#detail[open]');
      await detail.locator('.detail-section').first().waitFor(WAIT);
      expect(await detail.locator('.ticket-title').textContent()).toBe(c.title);
      // The signal's own time, a fixed UTC instant, in the plant's zone (the browser is in New York).
      const evidence = detail.locator('.detail-section', { hasText: '阀岛气压低' }).locator('tbody tr').first();
      expect(await evidence.locator('td').first().textContent()).toBe(c.evidenceTime);

      if (c.locale !== 'en') {
        // No English label anywhere on the screen, the detail open (its history loaded) and the sealer's row with its badges.
        await detail.locator('.history li').first().waitFor(WAIT);
        let text = (await page.evaluate('document.body.innerText')) as string;
        for (const word of plantData(localConfig(dir, c.locale, true))) text = text.replace(new RegExp(`(^|[^A-Za-z0-9_-])${escape(word)}(?![A-Za-z0-9_-])`, 'g'), '$1');
        const english = englishLabels().filter((label) => new RegExp(`(^|[^A-Za-z])${escape(label)}($|[^A-Za-z])`).test(text));
        expect(english).toEqual([]);
        // A string, not a function: the test's TypeScript has no DOM types.
        const attrs = (await page.evaluate(
          `[...document.querySelectorAll('[placeholder], [aria-label], [title]')].flatMap((el) => ['placeholder', 'aria-label', 'title'].map((a) => el.getAttribute(a) ?? ''))`,
        )) as string[];
        expect(englishLabels().filter((label) => attrs.some((a) => a.includes(label)))).toEqual([]);
        await page.screenshot({ path: join(OUT, `board-detail-${c.locale}-1920x1080.png`), animations: 'disabled' });
      }

      // Resolve from the dialog: both fields are required before anything is sent.
      await detail.locator('[data-action="resolve"]').click();
      await detail.locator('.action-error').waitFor(WAIT);
      expect(gw.store.liveByKey('filler-02/alarm-stop')?.state).toBe('open');
      await detail.locator('textarea[name="resolution"]').fill('更换阀岛密封圈, "B" 侧');
      await detail.locator('input[name="rootCause"]').fill('密封圈老化');
      await detail.locator('[data-action="resolve"]').click();
      await detail.locator('.pill[data-state="resolved"]').waitFor(WAIT);
      await row.waitFor({ state: 'detached', ...WAIT }); // a resolved ticket leaves the board
      const id = gw.store.list({ asset: 'filler-02' }).items[0]?.id ?? '';
      expect(gw.store.get(id)).toMatchObject({ state: 'resolved', resolution: '更换阀岛密封圈, "B" 侧', rootCause: '密封圈老化' });

      // Close with the checklist the gateway serves: disabled until every item is ticked.
      const checks = detail.locator('.close-form label.check');
      expect((await checks.allTextContents()).map((s) => s.trim())).toEqual(c.checklist);
      const close = detail.locator('[data-action="close"]');
      expect(await close.isDisabled()).toBe(true);
      const boxes = detail.locator('.close-form input[type="checkbox"]');
      for (let i = 0; i < c.checklist.length - 1; i++) await boxes.nth(i).check();
      expect(await close.isDisabled()).toBe(true);
      await boxes.nth(c.checklist.length - 1).check();
      expect(await close.isDisabled()).toBe(false);
      await close.click();
      await detail.locator('.pill[data-state="closed"]').waitFor(WAIT);
      expect(gw.store.get(id)).toMatchObject({
        state: 'closed',
        checklist: { customerInformed: true, partsRecorded: true, knowledgeBaseChecked: true, lockoutRemoved: true },
      });
      // The history names both moves in the board's language.
      await detail.locator('.history li .h-action[data-action="close"]').waitFor(WAIT);
      expect(await detail.locator('.history li .h-action[data-action="resolve"]').textContent()).toBe(c.resolvedAction);
      expect(await detail.locator('.history li .h-action[data-action="close"]').textContent()).toBe(c.closedAction);
      expect(await detail.locator('.pill').textContent()).toBe(t['state.closed']);
    } finally {
      await context.close();
      await gw.stop();
    }
  }, 90_000);
});
