import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.ts';
import type { Signal } from '../model/signal.ts';
import { createTagView } from './tags.ts';

const config = (maxTags = 100_000, rules = '') =>
  parseConfig(`
gateway: { id: t, tagView: { maxTags: ${maxTags} } }
sources: [ { id: plc, type: http }, { id: mes, type: http } ]
assets:
  sealer-01: { area: packaging, tags: ["packaging/sealer-01/**"] }
rules:
  - { id: alarms, when: { tag: "packaging/*/alarm/**", equals: true }, fault: alarm-stop, priority: P1 }
  - { id: hot, when: { tag: "**/temperature", above: 80 }, fault: overtemp, priority: P2 }
  - { id: mes-hot, when: { tag: "**/temperature", source: mes, above: 90 }, fault: very-hot, priority: P1 }
  - { id: plc-silent, when: { source: plc, silentFor: 1m }, fault: comms-lost, priority: P2 }
${rules}`);

const sig = (tag: string, value: Signal['value'], extra: Partial<Signal> = {}): Signal => ({ source: 'plc', tag, value, quality: 'good', ts: 1000, ...extra });

describe('live tag view', () => {
  it('keeps the last value, quality, times, source and asset per tag, with the rules it feeds', () => {
    const view = createTagView(config());
    view.record(sig('packaging/sealer-01/temperature', 70, { ts: 1000, unit: '°C' }), 1005);
    view.record(sig('packaging/sealer-01/temperature', 82, { ts: 2000, quality: 'uncertain', unit: '°C' }), 2003);
    view.record(sig('packaging/labeler-02/alarm/L7', true, { source: 'mes', asset: 'labeler-02' }), 1500);
    const { items, total, next } = view.query({ limit: 10 });
    expect(total).toBe(2);
    expect(next).toBeNull();
    expect(items).toEqual([
      { tag: 'packaging/labeler-02/alarm/L7', value: true, quality: 'good', unit: null, ts: 1000, arrived: 1500, source: 'mes', asset: 'labeler-02', area: 'packaging', rules: ['alarms'] },
      { tag: 'packaging/sealer-01/temperature', value: 82, quality: 'uncertain', unit: '°C', ts: 2000, arrived: 2003, source: 'plc', asset: 'sealer-01', area: 'packaging', rules: ['hot', 'plc-silent'] },
    ]);
  });

  it('a source-narrowed rule follows the source the tag last came from', () => {
    const view = createTagView(config());
    view.record(sig('a/b/temperature', 1), 1);
    expect(view.query({ limit: 1 }).items[0]?.rules).toEqual(['hot', 'plc-silent']);
    view.record(sig('a/b/temperature', 1, { source: 'mes' }), 2);
    expect(view.query({ limit: 1 }).items[0]?.rules).toEqual(['hot', 'mes-hot']);
  });

  it('filters by tag pattern and by text, and pages in tag order', () => {
    const view = createTagView(config());
    for (let i = 0; i < 25; i++) view.record(sig(`line/m${String(i).padStart(2, '0')}/${i % 2 ? 'speed' : 'temperature'}`, i), i);
    expect(view.query({ pattern: 'line/*/speed', limit: 100 }).total).toBe(12);
    expect(view.query({ q: 'M1', limit: 100 }).items.map((r) => r.tag)).toEqual([...Array(10).keys()].map((i) => `line/m1${i}/${i % 2 ? 'speed' : 'temperature'}`));
    const first = view.query({ pattern: 'line/**', limit: 10 });
    expect(first).toMatchObject({ total: 25, next: 'line/m09/speed' });
    const second = view.query({ pattern: 'line/**', limit: 10, after: first.next as string });
    expect(second.items[0]?.tag).toBe('line/m10/temperature');
    const last = view.query({ pattern: 'line/**', limit: 10, after: second.next as string });
    expect(last.items).toHaveLength(5);
    expect(last.next).toBeNull();
  });

  it('is bounded: beyond maxTags new tags are counted, tracked tags keep updating', () => {
    const view = createTagView(config(3));
    for (let i = 0; i < 10; i++) view.record(sig(`t/${i}`, i), i);
    view.record(sig('t/0', 'again'), 99);
    expect(view.size).toBe(3);
    expect(view.overflow).toBe(7);
    expect(view.query({ limit: 10 }).items.map((r) => [r.tag, r.value])).toEqual([
      ['t/0', 'again'],
      ['t/1', 1],
      ['t/2', 2],
    ]);
  });

  it('a new config re-derives rules and assets, and a lower cap forgets the oldest tags', () => {
    const view = createTagView(config());
    view.record(sig('x/y/pressure', 1), 1);
    view.record(sig('x/y/temperature', 1), 2);
    expect(view.query({ pattern: 'x/y/pressure', limit: 1 }).items[0]?.rules).toEqual(['plc-silent']);
    view.setConfig(config(1, '  - { id: pressure, when: { tag: "**/pressure", above: 9 }, fault: overpressure, priority: P2 }'));
    expect(view.size).toBe(1);
    expect(view.query({ limit: 5 }).items.map((r) => [r.tag, r.rules])).toEqual([['x/y/temperature', ['hot', 'plc-silent']]]);
  });
});
