import type { AndonConfig } from '../config/schema.ts';
import { compilePattern, type TagMatcher } from '../config/pattern.ts';
import type { Signal } from '../model/signal.ts';
import { assetResolver } from '../rules/assets.ts';

/**
 * The live tag view (`GET /api/v1/tags`, the board's Tags page): per tag the
 * last value, quality, source time, arrival time, source and asset, and the
 * rules it feeds.
 *
 * Recorded on the hot ingest path (`runtime.pushMany`), so a signal costs one
 * Map lookup and field writes into its tag's record: nothing is allocated for
 * a tag already seen. What is derived from the config (asset by pattern, the
 * rules) is worked out when a record is read, once per tag and config.
 * Bounded: at most `maxTags` tags are tracked; signals of further tags are
 * only counted (`overflow`), tracked tags keep updating.
 */
export interface TagView {
  /** Records `s`, arrived at `arrived` (epoch ms). */
  record(s: Signal, arrived: number): void;
  /** Matching tags in tag order, a page after the tag `after`; `total` counts every match. */
  query(q: TagQuery): TagPage;
  /** Takes a new config (assets, rules: derived fields are worked out again) and cap (tags beyond it are forgotten, oldest first). */
  setConfig(config: AndonConfig): void;
  readonly size: number;
  /** Signals of tags not tracked because the view was full. */
  readonly overflow: number;
  readonly maxTags: number;
}

export interface TagQuery {
  /** A tag pattern (config syntax: `packaging/*\/alarm/**`). */
  pattern?: string | undefined;
  /** Case-insensitive text the tag, asset or source contains. */
  q?: string | undefined;
  /** Tags after this one (the previous page's `next`). */
  after?: string | undefined;
  limit: number;
}

export interface TagRow {
  tag: string;
  value: Signal['value'];
  quality: Signal['quality'];
  unit: string | null;
  /** Source timestamp, epoch ms. */
  ts: number;
  /** When the gateway took the last signal, epoch ms. */
  arrived: number;
  source: string;
  asset: string;
  area: string | null;
  /** Ids of the rules whose `when` this tag's signals meet (tag pattern, source). */
  rules: string[];
}

export interface TagPage {
  items: TagRow[];
  /** Tags matching the query. */
  total: number;
  /** The last tag of this page when more follow. */
  next: string | null;
}

interface Rec {
  value: Signal['value'];
  quality: Signal['quality'];
  unit: string | undefined;
  ts: number;
  arrived: number;
  source: string;
  /** The signal's own asset, when it names one. */
  asset: string | undefined;
  /** Derived for config generation `gen` (-1: not yet). */
  gen: number;
  rules: string[];
}

interface RuleMatch {
  id: string;
  tag: TagMatcher | undefined;
  source: TagMatcher | undefined;
}

export function createTagView(config: AndonConfig): TagView {
  let maxTags = config.gateway.tagView.maxTags;
  const records = new Map<string, Rec>();
  let overflow = 0;
  let gen = 0;
  let rules: RuleMatch[] | undefined;
  /** One array per distinct list of rule ids: most tags share theirs, so a tag holds a reference, not a copy. */
  let lists = new Map<string, string[]>();
  let current = config;

  const rulesOf = (tag: string, source: string): string[] => {
    rules ??= current.rules.map((r) => ({
      id: r.id,
      tag: r.when.tag === undefined ? undefined : compilePattern(r.when.tag),
      source: r.when.source === undefined ? undefined : compilePattern(r.when.source),
    }));
    const ids = rules.filter((r) => (r.tag === undefined || r.tag(tag)) && (r.source === undefined || r.source(source))).map((r) => r.id);
    const key = ids.join('\n');
    let shared = lists.get(key);
    if (!shared) lists.set(key, (shared = ids));
    return shared;
  };

  /** A page's rows; the asset resolver lives for one query (its per-tag cache would double the view's memory). */
  const rows = (tags: string[]): TagRow[] => {
    const resolver = assetResolver(current.assets);
    return tags.map((tag) => {
      const r = records.get(tag) as Rec;
      if (r.gen !== gen) {
        r.rules = rulesOf(tag, r.source);
        r.gen = gen;
      }
      const a = resolver.bySignal({ tag, asset: r.asset } as Signal);
      return { tag, value: r.value, quality: r.quality, unit: r.unit ?? null, ts: r.ts, arrived: r.arrived, source: r.source, asset: a.asset, area: a.area, rules: r.rules };
    });
  };

  return {
    record(s, arrived) {
      const r = records.get(s.tag);
      if (r !== undefined) {
        r.value = s.value;
        r.quality = s.quality;
        r.unit = s.unit;
        r.ts = s.ts;
        r.arrived = arrived;
        if (r.source !== s.source) {
          r.source = s.source;
          r.gen = -1; // silentFor and source-narrowed rules depend on it
        }
        r.asset = s.asset;
        return;
      }
      if (records.size >= maxTags) {
        overflow++;
        return;
      }
      records.set(s.tag, { value: s.value, quality: s.quality, unit: s.unit, ts: s.ts, arrived, source: s.source, asset: s.asset, gen: -1, rules: NO_RULES });
    },

    query({ pattern, q, after, limit }) {
      const match = pattern ? compilePattern(pattern) : undefined;
      const text = q?.trim().toLowerCase() || undefined;
      const keys: string[] = [];
      for (const [tag, r] of records) {
        if (match && !match(tag)) continue;
        if (text && !tag.toLowerCase().includes(text) && !r.source.toLowerCase().includes(text) && !(r.asset ?? '').toLowerCase().includes(text)) continue;
        keys.push(tag);
      }
      keys.sort();
      let start = 0;
      if (after !== undefined) {
        // first tag greater than `after` (binary search: the keys are sorted)
        let lo = 0;
        let hi = keys.length;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if ((keys[mid] as string) <= after) lo = mid + 1;
          else hi = mid;
        }
        start = lo;
      }
      const page = keys.slice(start, start + limit);
      const items = rows(page);
      return { items, total: keys.length, next: start + limit < keys.length ? (page[page.length - 1] ?? null) : null };
    },

    setConfig(next) {
      current = next;
      rules = undefined;
      lists = new Map();
      gen++;
      maxTags = next.gateway.tagView.maxTags;
      if (records.size <= maxTags) return;
      for (const tag of records.keys()) {
        if (records.size <= maxTags) break;
        records.delete(tag);
      }
    },

    get size() {
      return records.size;
    },
    get overflow() {
      return overflow;
    },
    get maxTags() {
      return maxTags;
    },
  };
}

const NO_RULES: string[] = [];
