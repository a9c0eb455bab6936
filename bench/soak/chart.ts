/**
 * The soak's chart: RSS, event-loop lag p99 and signal→ticket p99 over time,
 * three panels sharing the time axis, the central outage shaded. Drawn as SVG
 * and photographed to PNG by the Chromium the board tests use (playwright-core).
 */
import { writeFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

export interface Series {
  title: string;
  unit: string;
  /** [minutes since start, value]; NaN values leave a gap. */
  points: [number, number][];
  colour: string;
}

const W = 1200;
const PANEL = 230;
const M = { left: 80, right: 30, top: 50, gap: 45, bottom: 45 };

const niceMax = (v: number) => {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return ([1, 2, 2.5, 5, 10].find((k) => k * p >= v) ?? 10) * p;
};
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

export interface ChartOptions {
  /** The x axis' label (default "minutes since start"; x values are in whatever unit it names). */
  xLabel?: string;
  /** Vertical lines across every panel, labelled at the top of the first (e.g. "flood starts"). */
  marks?: { at: number; label: string }[];
  /** The legend of the shaded span (default "central down"). */
  shadeLabel?: string;
}

/**
 * The SVG text of the chart. `minutes` is the x axis' extent and `outage` a
 * shaded span, in the x unit (minutes unless `opts.xLabel` says otherwise).
 */
export function chartSvg(title: string, series: Series[], minutes: number, outage: [number, number] | null, opts: ChartOptions = {}): string {
  const H = M.top + series.length * (PANEL + M.gap) - M.gap + M.bottom;
  const pw = W - M.left - M.right;
  const x = (m: number) => M.left + (m / Math.max(minutes, 1e-9)) * pw;
  const parts: string[] = [
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${M.left}" y="28" font-size="18" font-weight="bold">${esc(title)}</text>`,
  ];
  const xStep = niceMax(minutes / 10);
  series.forEach((s, i) => {
    const top = M.top + i * (PANEL + M.gap);
    const finite = s.points.filter(([, v]) => Number.isFinite(v)).map(([, v]) => v);
    const max = niceMax(Math.max(0, ...finite) * 1.05);
    const y = (v: number) => top + PANEL - (v / max) * PANEL;
    if (outage) parts.push(`<rect x="${x(outage[0])}" y="${top}" width="${x(outage[1]) - x(outage[0])}" height="${PANEL}" fill="#fde2e2"/>`);
    for (let k = 0; k <= 4; k++) {
      const v = (max * k) / 4;
      parts.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`);
      parts.push(`<text x="${M.left - 8}" y="${y(v) + 4}" font-size="12" text-anchor="end">${+v.toPrecision(3)}</text>`);
    }
    for (let m = 0; m <= minutes + 1e-9; m += xStep) {
      parts.push(`<line x1="${x(m)}" x2="${x(m)}" y1="${top + PANEL}" y2="${top + PANEL + 5}" stroke="#333"/>`);
      parts.push(`<text x="${x(m)}" y="${top + PANEL + 18}" font-size="12" text-anchor="middle">${+m.toFixed(1)}</text>`);
    }
    parts.push(`<rect x="${M.left}" y="${top}" width="${pw}" height="${PANEL}" fill="none" stroke="#333"/>`);
    parts.push(
      `<text x="${M.left + 6}" y="${top - 8}" font-size="14">${esc(`${s.title} (${s.unit})`)}${outage && i === 0 ? ` — shaded: ${esc(opts.shadeLabel ?? 'central down')}` : ''}</text>`,
    );
    let d = '';
    let pen = false;
    for (const [m, v] of s.points) {
      if (!Number.isFinite(v)) {
        pen = false;
        continue;
      }
      d += `${pen ? 'L' : 'M'}${x(m).toFixed(1)},${y(v).toFixed(1)}`;
      pen = true;
    }
    parts.push(`<path d="${d}" fill="none" stroke="${s.colour}" stroke-width="2"/>`);
    for (const mark of opts.marks ?? []) {
      parts.push(`<line x1="${x(mark.at)}" x2="${x(mark.at)}" y1="${top}" y2="${top + PANEL}" stroke="#c00" stroke-width="1.5" stroke-dasharray="6,4"/>`);
      if (i === 0) parts.push(`<text x="${x(mark.at) + 4}" y="${top + 14}" font-size="12" fill="#c00">${esc(mark.label)}</text>`);
    }
  });
  parts.push(`<text x="${M.left + pw / 2}" y="${H - 10}" font-size="13" text-anchor="middle">${esc(opts.xLabel ?? 'minutes since start')}</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif">${parts.join('')}</svg>`;
}

/** Writes `svg` as a PNG (and the SVG next to it); returns the PNG path, or an error text when Chromium is missing. */
export async function writeChart(svg: string, pngPath: string, executablePath = '/usr/bin/chromium'): Promise<string> {
  writeFileSync(pngPath.replace(/\.png$/, '.svg'), svg);
  const browser = await chromium.launch({ executablePath, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  try {
    const size = /width="(\d+)" height="(\d+)"/.exec(svg);
    const page = await browser.newPage({ viewport: { width: Number(size?.[1] ?? W), height: Number(size?.[2] ?? 800) } });
    await page.setContent(`<html><body style="margin:0">${svg}</body></html>`);
    await page.locator('svg').screenshot({ path: pngPath });
    return pngPath;
  } finally {
    await browser.close();
  }
}
