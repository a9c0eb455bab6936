/**
 * Building blocks for generated plant situations: a seeded random source,
 * plant vocabulary (other names than the shared scenarios use), a timeline
 * of replay records, and the expected.json builders (test/scenarios/README.md).
 */

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
export class Rng {
  private a: number;
  constructor(seed: number) {
    this.a = (seed ^ 0x9e3779b9) >>> 0;
    for (let i = 0; i < 4; i++) this.next();
  }
  next(): number {
    this.a = (this.a + 0x6d2b79f5) >>> 0;
    let t = this.a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  float(lo: number, hi: number): number {
    return lo + this.next() * (hi - lo);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)] as T;
  }
  shuffle<T>(xs: readonly T[]): T[] {
    const a = [...xs];
    for (let i = a.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [a[i], a[j]] = [a[j] as T, a[i] as T];
    }
    return a;
  }
  /** Standard normal (Box-Muller). */
  gauss(): number {
    const u = Math.max(this.next(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
}

export const round = (v: number, decimals = 2) => Math.round(v * 10 ** decimals) / 10 ** decimals;

// ---------------------------------------------------------------- vocabulary

export const TIMEZONES = [
  'America/Chicago',
  'Europe/Berlin',
  'Asia/Kolkata',
  'UTC',
  'Pacific/Auckland',
  'Australia/Adelaide',
  'America/St_Johns',
  'Asia/Kathmandu',
  'America/Sao_Paulo',
  'Europe/London',
] as const;

const PROCESS_AREAS = [
  'extrusion',
  'moulding',
  'brewhouse',
  'cellar',
  'press-shop',
  'paintshop',
  'assembly',
  'kitting',
  'dairy',
  'cheese-room',
  'spinning',
  'weaving',
  'finishing',
  'bakehouse',
  'tablet-press',
  'coating',
  'canning',
  'kiln-hall',
  'sawmill',
  'foundry',
];
const SERVICE_AREAS = ['energy', 'site-services', 'powerhouse', 'boilerhouse', 'substation', 'compressed-air', 'cooling', 'wastewater'];
const MACHINES = [
  'extruder',
  'press',
  'granulator',
  'robot',
  'cnc',
  'lathe',
  'kiln',
  'dryer',
  'centrifuge',
  'separator',
  'homogenizer',
  'pasteurizer',
  'winder',
  'slitter',
  'laminator',
  'stamper',
  'wrapper',
  'cartoner',
  'depalletizer',
  'blender',
  'mill',
  'tumbler',
  'loom',
  'welder',
];
const PEOPLE = ['anna', 'ravi', 'joao', 'mele', 'tom', 'priya', 'kurt', 'ngaio', 'bruna', 'dev', 'sita', 'liam'];

/** Names the shared scenarios use; a variant never reuses them. */
export const SCENARIO_NAMES = [
  'sealer-01',
  'palletizer-01',
  'feeder-3',
  'feeder-1',
  'compressor-02',
  'tank-04',
  'tank-09',
  'oven-01',
  'oven-02',
  'proofer-01',
  'mixer-01',
  'mixer-02',
  'mixer-07',
  'conveyor-02',
  'conveyor-03',
  'filler-01',
  'boiler-01',
  'plc-01',
  'capper-01',
  'labeler-01',
  'packaging',
  'utilities',
  'baking',
  'filling',
  'mixing',
  'power-meter',
  'packaging-plc',
  'plc',
];

/** Distinct names; suffix numbers so two picks of one kind differ. */
export class Names {
  private used = new Set<string>(SCENARIO_NAMES);
  constructor(private readonly rng: Rng) {}
  private unique(make: () => string): string {
    for (;;) {
      const n = make();
      if (!this.used.has(n)) {
        this.used.add(n);
        return n;
      }
    }
  }
  processArea = () => this.unique(() => this.rng.pick(PROCESS_AREAS));
  serviceArea = () => this.unique(() => this.rng.pick(SERVICE_AREAS));
  machine = (kind = this.rng.pick(MACHINES)) =>
    this.unique(() => {
      const n = this.rng.int(1, 40);
      return `${kind}-${this.rng.chance(0.5) ? String(n).padStart(2, '0') : n}`;
    });
  id = (prefix: string) => this.unique(() => `${prefix}-${this.rng.int(1, 99)}`);
  code = (prefix = this.rng.pick(['E', 'F', 'A', 'AL', 'X', 'ERR'])) => this.unique(() => `${prefix}${this.rng.int(1, 999)}`);
  person = () => this.unique(() => this.rng.pick(PEOPLE));
}

/** A utility quantity that sags or drops: feeder voltage, header pressure, loop flow. */
export interface Utility {
  kind: string;
  measure: string;
  nominal: number;
  sigma: number;
  below: number;
  clearAbove: number;
  fault: string;
  category: string;
  /** How deep a sag goes (value during it). */
  sagLow: number;
  sagHigh: number;
}

export function utility(rng: Rng): Utility {
  const kinds = [
    {
      kind: 'feeder',
      measure: rng.pick(['voltage', 'u-l1', 'v-rms']),
      nominal: rng.pick([120, 230, 400, 690]),
      fault: rng.pick(['voltage-sag', 'undervoltage', 'dip']),
      category: 'power-quality',
    },
    {
      kind: rng.pick(['air-header', 'receiver']),
      measure: rng.pick(['pressure', 'p-bar']),
      nominal: rng.pick([6.5, 7.2, 8.0]),
      fault: rng.pick(['pressure-drop', 'low-air']),
      category: 'supply',
    },
    {
      kind: rng.pick(['chw-loop', 'cooling-loop']),
      measure: rng.pick(['flow', 'flow-m3h']),
      nominal: rng.pick([42, 85, 160]),
      fault: rng.pick(['low-flow', 'flow-drop']),
      category: 'supply',
    },
    {
      kind: rng.pick(['steam-header', 'boiler']),
      measure: rng.pick(['steam-pressure', 'p-steam']),
      nominal: rng.pick([10, 12.5, 16]),
      fault: rng.pick(['steam-drop', 'low-steam']),
      category: 'supply',
    },
  ];
  const k = rng.pick(kinds);
  const dec = k.nominal < 20 ? 2 : 1;
  const below = round(k.nominal * rng.float(0.82, 0.93), dec);
  const deadband = round(k.nominal * rng.float(0.005, 0.04), dec);
  const clearAbove = round(below + Math.max(deadband, 10 ** -dec), dec);
  // background noise stays at least six sigma above the deadband
  const sigma = round(Math.max((k.nominal - clearAbove) / rng.float(8, 14), 10 ** -dec), dec + 1);
  const sagHigh = below - k.nominal * rng.float(0.01, 0.04);
  const sagLow = sagHigh - k.nominal * rng.float(0.02, 0.1);
  return { ...k, sigma, below, clearAbove, sagLow, sagHigh };
}

// ---------------------------------------------------------------- records

type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

/** Replay records (contracts §Replay), written in any order and sorted by time at the end. */
export class Timeline {
  private recs: { t: number; seq: number; o: Record<string, Json> }[] = [];
  private seq = 0;

  signal(t: number, tag: string, value: Json, source: string, extra: Record<string, Json> = {}): void {
    this.recs.push({ t, seq: this.seq++, o: { t: new Date(t).toISOString(), tag, value, source, ...extra } });
  }
  action(t: number, action: string, key: string, by: string, fields: Record<string, Json> = {}): void {
    this.recs.push({ t, seq: this.seq++, o: { t: new Date(t).toISOString(), action, key, by, ...fields } });
  }
  get end(): number {
    return Math.max(...this.recs.map((r) => r.t));
  }
  /** Sorted JSONL, with `garbage` broken lines sprinkled in (they must be rejected, never crash). */
  lines(rng: Rng, garbage: number): string[] {
    const out = [...this.recs].sort((a, b) => a.t - b.t || a.seq - b.seq).map((r) => JSON.stringify(r.o));
    const someTime = new Date(this.recs[0]?.t ?? 0).toISOString();
    const broken = [
      'not json at all',
      '{"t":"last tuesday","tag":"x/y/z","value":1}',
      '{"tag":"x/y/z","value":2}',
      `{"t":"${someTime}","value":3}`,
      `{"t":"${someTime}","tag":"x/y/z","value":{"raw":7}}`,
      `{"t":"${someTime}","tag":"x/y/z","value":1,"quality":"so-so"}`,
      '[1,2,3]',
      `{"t":"${someTime}","action":"teleport","key":"x/y"}`,
      '{"t":"2026-01-01T00:00:00Z","tag":"a/b/c","value":1',
    ];
    for (let i = 0; i < garbage; i++) out.splice(rng.int(0, out.length), 0, rng.pick(broken));
    return out;
  }
}

/** Periodic readings of one tag, `every` ms apart with jitter, skipping `skip` intervals. */
export function telemetry(
  tl: Timeline,
  rng: Rng,
  o: {
    tag: string;
    source: string;
    from: number;
    to: number;
    every: number;
    jitter?: number;
    value: (t: number) => number;
    decimals?: number;
    skip?: [number, number][];
  },
): void {
  const jitter = o.jitter ?? 0.1;
  for (let t = o.from + rng.int(0, o.every); t < o.to; t += Math.max(1000, Math.round(o.every * (1 + rng.float(-jitter, jitter))))) {
    if (o.skip?.some(([a, b]) => t >= a && t <= b)) continue;
    tl.signal(t, o.tag, round(o.value(t), o.decimals ?? 2), o.source);
  }
}

/** A slowly wandering value: nominal, a daily swing, a random walk pulled back, and noise. */
export function wander(rng: Rng, nominal: number, sigma: number): (t: number) => number {
  const phase = rng.float(0, 2 * Math.PI);
  let walk = 0;
  return (t) => {
    walk = 0.9 * walk + 0.3 * sigma * rng.gauss();
    const clippedNoise = Math.max(-2.5, Math.min(2.5, rng.gauss())) * sigma;
    return nominal + 0.8 * sigma * Math.sin((t / 86_400_000) * 2 * Math.PI + phase) + Math.max(-sigma, Math.min(sigma, walk)) + clippedNoise;
  };
}

// ---------------------------------------------------------------- expected.json

export type Check = Json;
export interface TicketSpec {
  where: Record<string, Json>;
  count: number;
  expect?: Record<string, Check>;
}
export interface Expected {
  description: string;
  tickets: TicketSpec[];
  total: number;
}

export const contains = (...xs: string[]) => ({ contains: xs });
export const lacks = (...xs: string[]) => ({ lacks: xs });
export const near = (at: string, minutes: number) => ({ near: at, minutes });

/** YAML flow value for a plain string: quoted when it could read as something else. */
export const q = (s: string) => JSON.stringify(s);
