import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.ts';
import type { Signal } from './types.ts';
import { compilePattern } from '../config/pattern.ts';
import { assetResolver } from './assets.ts';
import { ruleIndex } from './match.ts';

const config = parseConfig(`
gateway: { id: test }
assets:
  sealer-01: { area: packaging, line: line-1, criticality: line-stopping, tags: ["packaging/sealer-01/**"] }
  feeder-3: { area: utilities, tags: ["mcc/feeder-3/**"] }
rules:
  - { id: hot, when: { tag: "**/temperature", above: 80 }, fault: overtemp, priority: P2 }
  - { id: sealer, when: { tag: "packaging/sealer-01/*", above: 1 }, fault: sealer, priority: P2 }
  - { id: any-feeder, when: { tag: "mcc/**", equals: true }, fault: feeder, priority: P2 }
`);
const sig = (tag: string, asset?: string) => ({ source: 'plc', tag, value: 1, quality: 'good', ts: 0, ...(asset ? { asset } : {}) }) as Signal;

describe('assetResolver', () => {
  const r = assetResolver(config.assets);

  it('resolves configured assets by their tag patterns, others by the UNS guess <area>/<asset>/…', () => {
    expect(r.bySignal(sig('packaging/sealer-01/temperature'))).toEqual({ asset: 'sealer-01', area: 'packaging', line: 'line-1', criticality: 'line-stopping' });
    expect(r.bySignal(sig('mcc/feeder-3/voltage'))).toEqual({ asset: 'feeder-3', area: 'utilities', line: null, criticality: null });
    expect(r.bySignal(sig('filling/pump-7/pressure'))).toEqual({ asset: 'pump-7', area: 'filling', line: null, criticality: null });
    expect(r.bySignal(sig('pump-9/pressure'))).toEqual({ asset: 'pump-9', area: null, line: null, criticality: null });
    // a signal's own asset wins; its area is the configured one, else the tag's
    expect(r.bySignal(sig('filling/x/pressure', 'sealer-01'))).toEqual({ asset: 'sealer-01', area: 'packaging', line: 'line-1', criticality: 'line-stopping' });
    expect(r.bySignal(sig('filling/x/pressure', 'other'))).toEqual({ asset: 'other', area: 'filling', line: null, criticality: null });
  });

  it('the tags of one asset share one frozen AssetInfo (a reference per tag, not an object each)', () => {
    const a = r.bySignal(sig('packaging/sealer-01/temperature'));
    expect(r.bySignal(sig('packaging/sealer-01/speed'))).toBe(a);
    expect(Object.isFrozen(a)).toBe(true);
    const pump = r.bySignal(sig('filling/pump-7/pressure'));
    expect(r.bySignal(sig('filling/pump-7/flow'))).toBe(pump);
    // the same name under another area is another asset
    const other = r.bySignal(sig('mixing/pump-7/flow'));
    expect(other).not.toBe(pump);
    expect(other.area).toBe('mixing');
  });

  it("a signal's tagSlot finds its tag's row by number; a slot that holds another tag's row is not trusted", () => {
    const fresh = assetResolver(config.assets);
    const slotted = (tag: string, slot: number, asset?: string) => ({ ...sig(tag, asset), tagSlot: slot });
    expect(fresh.bySignal(slotted('packaging/sealer-01/temperature', 0))).toMatchObject({ asset: 'sealer-01' });
    expect(fresh.bySignal(slotted('filling/pump-7/pressure', 1))).toMatchObject({ asset: 'pump-7', area: 'filling' });
    // the same tag by its slot: the same row (its conditions' slot included)
    const row = fresh.rowOf('packaging/sealer-01/temperature');
    expect(fresh.bySignal(slotted('packaging/sealer-01/temperature', 0))).toMatchObject({ asset: 'sealer-01' });
    expect(fresh.rowOf('packaging/sealer-01/temperature')).toBe(row);
    // a producer that gives slot 0 to another tag: resolved by name, never as the slot's tag
    expect(fresh.bySignal(slotted('mcc/feeder-3/voltage', 0))).toMatchObject({ asset: 'feeder-3', area: 'utilities' });
    expect(fresh.bySignal(slotted('packaging/sealer-01/temperature', 0))).toMatchObject({ asset: 'sealer-01' });
    expect(fresh.rowOf('packaging/sealer-01/temperature')).toBe(row);
    // a signal's own asset still wins over its tag's
    expect(fresh.bySignal(slotted('filling/pump-7/pressure', 1, 'sealer-01'))).toMatchObject({ asset: 'sealer-01', area: 'packaging' });
    // slots out of range, negative or fractional are ignored
    expect(fresh.bySignal(slotted('mcc/feeder-3/current', 10_000_000))).toMatchObject({ asset: 'feeder-3' });
    expect(fresh.bySignal(slotted('mcc/feeder-3/current', -1))).toMatchObject({ asset: 'feeder-3' });
    expect(fresh.bySignal(slotted('filling/pump-7/level', 1.5))).toMatchObject({ asset: 'pump-7' });
    expect(fresh.bySignal(slotted('packaging/sealer-01/temperature', 0))).toMatchObject({ asset: 'sealer-01' });
  });
});

describe('assetResolver against the first match in config order', () => {
  // Patterns literal to depth 0, 1, 2 and deeper, in an order where later ones would also match:
  // the index must give the first in config order, as trying every pattern in turn does.
  const patterns: Record<string, string[]> = {
    deep: ['a/b/c/**'],
    oneStar: ['a/*/c'],
    twoLit: ['a/b/**'],
    rootStar: ['**/pv-1'],
    first: ['x/**', 'a/E*'],
    anyA: ['a/**'],
    lone: ['*'],
  };
  const names = Object.keys(patterns);
  const cfg = Object.fromEntries(names.map((n) => [n, { area: null, line: null, criticality: null, tags: patterns[n] as string[] }]));
  const r = assetResolver(cfg as never);
  const naive = (tag: string) => names.find((n) => (patterns[n] as string[]).some((p) => compilePattern(p)(tag)));
  const SEGMENTS = ['a', 'b', 'c', 'x', 'E1', 'pv-1', ''];
  const tags: string[] = [];
  const grow = (prefix: string[], n: number) => {
    if (prefix.length > 0) tags.push(prefix.join('/'));
    if (n > 0) for (const seg of SEGMENTS) grow([...prefix, seg], n - 1);
  };
  grow([], 4);

  it('resolves every tag of up to 4 segments (empty ones included) to the first matching asset', () => {
    const wrong = tags.filter((t) => {
      const want = naive(t);
      return want !== undefined && r.bySignal(sig(t)).asset !== want;
    });
    expect(wrong).toEqual([]);
    // every pattern wins for some tag: the comparison is not vacuous
    expect(new Set(tags.map(naive).filter(Boolean))).toEqual(new Set(names));
  });
});

describe('ruleIndex', () => {
  const rules = ruleIndex(config.rules, 'tag');
  const ids = (tag: string) => rules(tag).map((x) => x.id);

  it('lists the rules whose tag pattern matches, in config order', () => {
    expect(ids('packaging/sealer-01/temperature')).toEqual(['hot', 'sealer']);
    expect(ids('packaging/sealer-01/speed')).toEqual(['sealer']);
    expect(ids('filling/pump-7/temperature')).toEqual(['hot']);
    expect(ids('mcc/feeder-3/voltage')).toEqual(['any-feeder']);
    expect(ids('filling/pump-7/flow')).toEqual([]);
  });

  it('tags that meet the same rules share one list', () => {
    expect(rules('filling/pump-7/temperature')).toBe(rules('mixing/mixer-2/temperature'));
    expect(rules('packaging/sealer-01/speed')).toBe(rules('packaging/sealer-01/state'));
    expect(rules('filling/pump-7/flow')).toBe(rules('mixing/mixer-2/flow'));
    expect(rules('filling/pump-7/temperature')).not.toBe(rules('packaging/sealer-01/temperature'));
  });
});
