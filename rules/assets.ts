import { map, type OperatorFunction } from 'rxjs';
import { compilePattern } from '../config/pattern.ts';
import type { AndonConfig } from '../config/schema.ts';
import type { Reading, Signal } from './types.ts';

/** Tags (and assets) remembered at most: made-up tags cannot grow the caches without end. */
const MAX_CACHED = 200_000;

/**
 * A tag's entry in the asset index: its asset, and a slot where the threshold detector of the same
 * pipeline keeps the tag's rules and states (`conditions`, through `rowOf`), so a reading costs one
 * lookup by tag, not one per stage (a lookup in a Map of 64k tags is ~500 ns inside a replay).
 */
export interface TagRow {
  readonly tag: string;
  readonly info: AssetInfo;
  conditions: unknown;
}

/** Where a later stage of the same pipeline finds the row of the reading it was just handed. */
export interface TagRows {
  /**
   * The row of `tag` when the index keeps one (undefined past its bound, for good): the row of the tag
   * looked up last without a second lookup, any other from the index. So a kept tag's states are
   * always in its row, whatever ran between the lookup and the stage that asks.
   */
  rowOf(tag: string): TagRow | undefined;
  /** Takes the rows' `conditions` slots for one subscription; false while another holds them. */
  claim(): boolean;
  /** Gives the slots back, emptied (a later subscription starts without this one's states). */
  release(): void;
}

export interface AssetInfo {
  asset: string;
  area: string | null;
  line: string | null;
  criticality: string | null;
}

/**
 * Finds the asset of a tag: the signal's own `asset`, else the first asset in
 * config whose tag patterns match, else the UNS guess `<area>/<asset>/...`.
 */
export function assetResolver(assets: AndonConfig['assets']): { bySignal(s: Signal): AssetInfo; byName(name: string): AssetInfo } & TagRows {
  const byPrefix = prefixIndex(Object.entries(assets).flatMap(([name, a]) => a.tags.map((p) => ({ name, pattern: p }))));
  const info = (name: string, fallbackArea: string | null): AssetInfo => {
    const a = assets[name];
    return { asset: name, area: a?.area ?? fallbackArea, line: a?.line ?? null, criticality: a?.criticality ?? null };
  };
  // One AssetInfo per asset (and fallback area), shared by its tags: the per-tag cache holds a reference,
  // not an object of its own (100k tags: 115 -> ~65 bytes of heap per tag for this cache).
  // Bounded like the per-tag cache: a stream of made-up tags (a bad client, a mapping gone wrong) must not grow it
  // without end; past the bound an asset's info is made per tag again, as before the sharing.
  const shared = new Map<string | null, Map<string, AssetInfo>>(); // fallback area (few) -> asset name -> info
  let sharedSize = 0;
  const sharedInfo = (name: string, fallbackArea: string | null): AssetInfo => {
    let byName = shared.get(fallbackArea);
    let hit = byName?.get(name);
    if (hit) return hit;
    hit = Object.freeze(info(name, fallbackArea));
    if (sharedSize >= MAX_CACHED) return hit;
    if (!byName) shared.set(fallbackArea, (byName = new Map<string, AssetInfo>()));
    byName.set(name, hit);
    sharedSize++;
    return hit;
  };
  const cache = new Map<string, TagRow>();
  // rows by Signal.tagSlot, where the producer numbers its tags (below MAX_CACHED, as the cache)
  const slots: (TagRow | undefined)[] = [];
  // the row of the last lookup, when it is kept in the cache
  let lastTag: string | undefined;
  let lastRow: TagRow | undefined;
  let claimed = false;
  const byTag = (tag: string, given: number | undefined): AssetInfo => {
    // a whole number below the bound, else none (a fraction or a negative would turn the array into a dictionary)
    const slot = given !== undefined && given >= 0 && given < MAX_CACHED && (given | 0) === given ? given : undefined;
    let row = slot !== undefined ? slots[slot] : undefined;
    // a slot is a hint: the row it holds must be this tag's (the same string, from a producer that numbers its tags)
    if (row !== undefined && row.tag === tag) {
      lastTag = tag;
      lastRow = row;
      return row.info;
    }
    row = cache.get(tag);
    if (row && slot !== undefined) slots[slot] = row;
    if (!row) {
      const found = byPrefix(tag);
      let hit: AssetInfo;
      if (found) hit = sharedInfo(found, null);
      else {
        const parts = tag.split('/');
        hit = sharedInfo(parts.length > 2 ? (parts[1] as string) : (parts[0] as string), parts.length > 2 ? (parts[0] as string) : null);
      }
      row = { tag, info: hit, conditions: undefined };
      if (cache.size < MAX_CACHED) {
        cache.set(tag, row);
        if (slot !== undefined) slots[slot] = row;
      } else {
        lastTag = undefined;
        lastRow = undefined;
        return hit;
      }
    }
    lastTag = tag;
    lastRow = row;
    return row.info;
  };
  return {
    bySignal: (s) => (s.asset ? info(s.asset, byTag(s.tag, s.tagSlot).area) : byTag(s.tag, s.tagSlot)),
    byName: (name) => info(name, null),
    rowOf: (tag) => (tag === lastTag ? lastRow : cache.get(tag)),
    claim: () => {
      if (claimed) return false;
      claimed = true;
      return true;
    },
    release: () => {
      for (const row of cache.values()) row.conditions = undefined;
      claimed = false;
    },
  };
}

/**
 * First match in config order among many patterns, without trying them all:
 * patterns are bucketed by their literal leading segments (up to two), so a
 * tag only meets the patterns that can match it.
 */
function prefixIndex(entries: { name: string; pattern: string }[]): (tag: string) => string | undefined {
  type Candidate = { order: number; name: string; match: (t: string) => boolean };
  // byDepth[d]: the patterns whose first d segments are literal (d = 0, 1, 2), by those d segments
  const byDepth = [new Map<string, Candidate[]>(), new Map<string, Candidate[]>(), new Map<string, Candidate[]>()] as const;
  entries.forEach(({ name, pattern }, order) => {
    const segs = pattern.split('/');
    const literal = segs.findIndex((x) => x.includes('*'));
    const depth = Math.min(2, literal === -1 ? segs.length : literal) as 0 | 1 | 2;
    const key = segs.slice(0, depth).join('/');
    let list = byDepth[depth].get(key);
    if (!list) byDepth[depth].set(key, (list = []));
    list.push({ order, name, match: compilePattern(pattern) });
  });
  // A tag's first one and two segments, found with indexOf (no split and join per lookup: every new tag looks up)
  return (tag) => {
    const one = tag.indexOf('/');
    const two = one === -1 ? -1 : tag.indexOf('/', one + 1);
    const keys = [''];
    keys.push(one === -1 ? tag : tag.slice(0, one));
    if (one !== -1) keys.push(two === -1 ? tag : tag.slice(0, two));
    let best: Candidate | undefined;
    for (let depth = 0; depth < keys.length; depth++) {
      for (const c of byDepth[depth as 0 | 1 | 2].get(keys[depth] as string) ?? []) {
        if (best && c.order > best.order) break; // buckets are in config order
        if (c.match(tag)) {
          best = c;
          break;
        }
      }
    }
    return best?.name;
  };
}

/** Signal -> Reading: every reading knows its asset and area. */
export function resolveAssets(resolver: ReturnType<typeof assetResolver>): OperatorFunction<Signal, Reading> {
  return map((s): Reading => {
    const a = resolver.bySignal(s);
    const r: Reading = { source: s.source, tag: s.tag, value: s.value, quality: s.quality, ts: s.ts, asset: a.asset, area: a.area };
    if (s.severity !== undefined) r.severity = s.severity;
    if (s.message !== undefined) r.message = s.message;
    if (s.unit !== undefined) r.unit = s.unit;
    return r;
  });
}
