import { map, type OperatorFunction } from 'rxjs';
import { compilePattern } from '../config/pattern.ts';
import type { AndonConfig } from '../config/schema.ts';
import type { Reading, Signal } from './types.ts';

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
export function assetResolver(assets: AndonConfig['assets']): { bySignal(s: Signal): AssetInfo; byName(name: string): AssetInfo } {
  const compiled = Object.entries(assets).map(([name, a]) => ({ name, a, match: a.tags.map(compilePattern) }));
  const info = (name: string, fallbackArea: string | null): AssetInfo => {
    const a = assets[name];
    return { asset: name, area: a?.area ?? fallbackArea, line: a?.line ?? null, criticality: a?.criticality ?? null };
  };
  const cache = new Map<string, AssetInfo>();
  const byTag = (tag: string): AssetInfo => {
    let hit = cache.get(tag);
    if (!hit) {
      const found = compiled.find((c) => c.match.some((m) => m(tag)));
      const parts = tag.split('/');
      hit = found ? info(found.name, null) : info(parts.length > 2 ? (parts[1] as string) : (parts[0] as string), parts.length > 2 ? (parts[0] as string) : null);
      if (cache.size < 200_000) cache.set(tag, hit);
    }
    return hit;
  };
  return {
    bySignal: (s) => (s.asset ? info(s.asset, byTag(s.tag).area) : byTag(s.tag)),
    byName: (name) => info(name, null),
  };
}

/** Signal -> Reading: every reading knows its asset and area. */
export function resolveAssets(resolver: ReturnType<typeof assetResolver>): OperatorFunction<Signal, Reading> {
  return map((s) => {
    const a = resolver.bySignal(s);
    return { ...s, asset: a.asset, area: a.area };
  });
}
