/**
 * The ingest benchmark's plant and message stream: the 1000 assets of
 * bench/replay (20 areas × 50 assets) with 10 analog measures each (10,000
 * tags), one threshold rule with a deadband per measure, and a seeded stream
 * of `{"value": x, "ts": ...}` readings on `plant/<area>/<asset>/<measure>`.
 */
import { plant, type Asset } from '../replay/plant.ts';
import { seeded as mulberry32 } from '../../gateway/seeded.ts';
export { mulberry32 };

/** One analog measure: normal value, noise, and the rule that watches it (no on-delay). */
export interface Measure {
  name: string;
  mean: number;
  sd: number;
  /** `above` trips when value > trip and clears below `clear`; `below` mirrors it. */
  dir: 'above' | 'below';
  trip: number;
  clear: number;
  /** Modbus register scale for the RSS run (value = raw × scale, uint16). */
  scale: number;
}

export const MEASURES: Measure[] = [
  { name: 'temperature', mean: 55, sd: 1.2, dir: 'above', trip: 80, clear: 75, scale: 0.01 },
  { name: 'voltage', mean: 230, sd: 1.5, dir: 'below', trip: 207, clear: 215, scale: 0.01 },
  { name: 'pressure', mean: 6, sd: 0.08, dir: 'above', trip: 8.5, clear: 8, scale: 0.001 },
  { name: 'current', mean: 22, sd: 0.8, dir: 'above', trip: 40, clear: 36, scale: 0.01 },
  { name: 'vibration', mean: 2.5, sd: 0.15, dir: 'above', trip: 7.1, clear: 6, scale: 0.001 },
  { name: 'speed', mean: 1450, sd: 4, dir: 'below', trip: 1200, clear: 1350, scale: 0.1 },
  { name: 'flow', mean: 12, sd: 0.3, dir: 'below', trip: 5, clear: 8, scale: 0.01 },
  { name: 'humidity', mean: 45, sd: 1.5, dir: 'above', trip: 80, clear: 75, scale: 0.01 },
  { name: 'level', mean: 60, sd: 2, dir: 'above', trip: 95, clear: 90, scale: 0.01 },
  { name: 'torque', mean: 35, sd: 1, dir: 'above', trip: 60, clear: 55, scale: 0.01 },
];

export interface Tag {
  tag: string;
  asset: Asset;
  measure: Measure;
}

export function tags(): { assets: Asset[]; tags: Tag[] } {
  const { assets } = plant();
  return { assets, tags: assets.flatMap((asset) => MEASURES.map((measure) => ({ tag: `${asset.area}/${asset.name}/${measure.name}`, asset, measure }))) };
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** A normal reading of a measure (±3 sd at most, far from both limits). */
export const normal = (m: Measure, rnd: () => number) => round3(m.mean + m.sd * (rnd() * 6 - 3));

export interface Stream {
  topics: string[];
  payloads: Buffer[];
  /** Rule raises and clears the stream contains (the rule applied while generating). */
  raises: number;
  clears: number;
  bytes: number;
}

/**
 * `messages` readings, round by round over all tags in one shuffled order
 * (so consecutive messages hit different areas). `excursions` tags cross
 * their limit for 3 readings, half of them then hover inside the deadband
 * for 2 readings (no clear yet), then return (clear). As many other tags
 * hover inside the deadband without ever tripping (nothing happens).
 * Excursions are spread evenly over the areas (5 per area by default: under
 * the default flood threshold of 10 per area), so each is one ticket.
 */
export function stream(opts: { messages: number; excursions: number; seed?: number }): Stream {
  const rnd = mulberry32(opts.seed ?? 20260302);
  const all = tags().tags;
  const order = all.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  const rounds = Math.ceil(opts.messages / all.length);
  if (rounds < 8 && opts.excursions > 0) throw new Error(`excursions need at least 8 readings per tag (${opts.messages} messages over ${all.length} tags)`);
  // episode[tag index] = { start round, kind }
  const episodes = new Map<number, { start: number; kind: 'cross' | 'cross-hover' | 'hover' }>();
  const pick = (k: number) => (k * all.length) / (opts.excursions * 2) + Math.floor(rnd() * 10);
  for (let k = 0; k < opts.excursions * 2; k++) {
    const tagIndex = Math.floor(pick(k)) % all.length;
    const kind = k % 2 === 1 ? 'hover' : k % 4 === 0 ? 'cross' : 'cross-hover';
    const start = 1 + Math.floor(rnd() * Math.max(1, Math.min(rounds, 20) - 7));
    episodes.set(tagIndex, { start, kind });
  }
  const value = (tagIndex: number, round: number): number => {
    const t = all[tagIndex] as Tag;
    const m = t.measure;
    const e = episodes.get(tagIndex);
    const sign = m.dir === 'above' ? 1 : -1;
    const band = Math.abs(m.trip - m.clear);
    if (e) {
      const k = round - e.start;
      if (e.kind !== 'hover' && k >= 0 && k < 3) return round3(m.trip + sign * band * (0.2 + rnd()));
      const hoverFrom = e.kind === 'hover' ? 0 : 3;
      if (e.kind !== 'cross' && k >= hoverFrom && k < hoverFrom + 2) return round3(m.clear + sign * band * (0.1 + 0.8 * rnd()));
    }
    return normal(m, rnd);
  };
  const BASE = Date.UTC(2026, 2, 2, 6, 0, 0);
  const active = new Uint8Array(all.length);
  let raises = 0;
  let clears = 0;
  const topics: string[] = [];
  const payloads: Buffer[] = [];
  let bytes = 0;
  for (let i = 0; i < opts.messages; i++) {
    const round = Math.floor(i / all.length);
    const pos = i % all.length;
    const tagIndex = order[pos] as number;
    const t = all[tagIndex] as Tag;
    const topic = `plant/${t.tag}`;
    const v = value(tagIndex, round);
    // The rule, as Andon and the Node-RED flow apply it: the expected raises and clears.
    const m = t.measure;
    if (!active[tagIndex] && (m.dir === 'above' ? v > m.trip : v < m.trip)) {
      active[tagIndex] = 1;
      raises++;
    } else if (active[tagIndex] && (m.dir === 'above' ? v < m.clear : v > m.clear)) {
      active[tagIndex] = 0;
      clears++;
    }
    const payload = Buffer.from(`{"value":${v},"ts":${BASE + round * 1000 + Math.floor((pos * 1000) / all.length)}}`);
    topics.push(topic);
    payloads.push(payload);
    bytes += topic.length + payload.length;
  }
  return { topics, payloads, raises, clears, bytes };
}
