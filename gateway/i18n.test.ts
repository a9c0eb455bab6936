import { describe, expect, it } from 'vitest';
import { checklistLabel, LOCALES, MESSAGES, translate } from './i18n.ts';

const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('translation tables (gateway/i18n.ts)', () => {
  it('every locale has every key of en, none empty, with the same {placeholders}', () => {
    const keys = Object.keys(MESSAGES.en).sort();
    for (const locale of LOCALES) {
      const table = MESSAGES[locale] as Record<string, string>;
      expect(Object.keys(table).sort(), locale).toEqual(keys);
      for (const k of keys) {
        expect(table[k]?.trim(), `${locale} ${k}`).not.toBe('');
        expect(placeholders(table[k] ?? ''), `${locale} ${k}`).toEqual(placeholders((MESSAGES.en as Record<string, string>)[k] ?? ''));
      }
    }
  });

  it('zh-CN translates every label: no zh-CN text is its English one, except names and abbreviations', () => {
    const same = Object.entries(MESSAGES['zh-CN']).filter(([k, v]) => v === (MESSAGES.en as Record<string, string>)[k]);
    expect(same).toEqual([]);
    // What Latin letters remain are the brand, priorities, MTTA/MTTR/P90 and placeholders.
    const latin = Object.entries(MESSAGES['zh-CN'])
      .map(([k, v]) => [k, v.replace(/\{\w+\}/g, '').replace(/\b(Andon|MTTA|MTTR|P90)\b/g, '')] as const)
      .filter(([, v]) => /[A-Za-z]/.test(v));
    expect(latin).toEqual([]);
  });

  it('fills {placeholders}; checklist labels: configured, else the locale\'s for a built-in item, else the id', () => {
    expect(translate('en', 'notify.raised', { priority: 'P0' })).toBe('Priority raised to P0');
    expect(translate('zh-CN', 'notify.raised', { priority: 'P0' })).toBe('优先级升至 P0');
    expect(checklistLabel('zh-CN', { id: 'partsRecorded' })).toBe('已记录备件');
    expect(checklistLabel('zh-CN', { id: 'partsRecorded', label: 'Parts booked' })).toBe('Parts booked');
    expect(checklistLabel('en', { id: 'lockoutRemoved' })).toBe('lockoutRemoved');
  });
});
