/**
 * The benchmark plant: 20 areas × 50 assets × 10 tags (10,000 tags), the
 * sources that carry them, and the config (docs/config.md) that watches them.
 * `generate.ts` drives these tags; `plantConfigYaml()` is bench/replay/config.yaml.
 */

/** A threshold the config watches; the generator pushes values across it. */
export interface Limit {
  rule: string;
  fault: string;
  category: string;
  priority: 'P0' | 'P1' | 'P2' | 'P3';
  /** Trip level (`above` or `below`) and the deadband edge (`clearBelow` / `clearAbove`). */
  trip: number;
  clear: number;
  /** On-delay in ms (the rule's `for`). */
  forMs: number;
}

export interface AnalogMeasure {
  kind: 'analog';
  name: string;
  mean: number;
  sd: number;
  /** Normal reporting period (ms); jittered ±20 %. */
  period: number;
  high?: Limit;
  low?: Limit;
  /** Watched by an `unchangedFor` rule. */
  stuckRule?: boolean;
  /** Carried by a power meter instead of the area PLC. */
  meter?: boolean;
}

export interface BooleanMeasure {
  kind: 'boolean';
  name: string;
  /** Heartbeat period (ms); changes are also reported the moment they happen. */
  period: number;
  rule: string;
  fault: string;
  category: string;
  priority: 'P0' | 'P1' | 'P2' | 'P3';
}

export type Measure = AnalogMeasure | BooleanMeasure;

const s = 1000;
const m = 60 * s;

export const MEASURES: Measure[] = [
  {
    kind: 'analog',
    name: 'temperature',
    mean: 55,
    sd: 1.2,
    period: 2 * m,
    high: { rule: 'overtemp', fault: 'overtemp', category: 'process', priority: 'P2', trip: 80, clear: 75, forMs: 2 * m },
    stuckRule: true,
  },
  {
    kind: 'analog',
    name: 'voltage',
    mean: 230,
    sd: 1.5,
    period: 1 * m,
    meter: true,
    high: { rule: 'overvoltage', fault: 'overvoltage', category: 'power-quality', priority: 'P2', trip: 253, clear: 248, forMs: 30 * s },
    low: { rule: 'voltage-sag', fault: 'voltage-sag', category: 'power-quality', priority: 'P2', trip: 207, clear: 215, forMs: 0 },
  },
  {
    kind: 'analog',
    name: 'pressure',
    mean: 6,
    sd: 0.08,
    period: 2 * m,
    high: { rule: 'overpressure', fault: 'overpressure', category: 'process', priority: 'P2', trip: 8.5, clear: 8, forMs: 1 * m },
    low: { rule: 'low-pressure', fault: 'low-pressure', category: 'process', priority: 'P2', trip: 4, clear: 4.5, forMs: 1 * m },
    stuckRule: true,
  },
  {
    kind: 'analog',
    name: 'current',
    mean: 22,
    sd: 0.8,
    period: 3 * m,
    high: { rule: 'overcurrent', fault: 'overcurrent', category: 'electrical', priority: 'P2', trip: 40, clear: 36, forMs: 1 * m },
  },
  {
    kind: 'analog',
    name: 'vibration',
    mean: 2.5,
    sd: 0.15,
    period: 5 * m,
    high: { rule: 'vibration', fault: 'high-vibration', category: 'mechanical', priority: 'P3', trip: 7.1, clear: 6, forMs: 5 * m },
  },
  {
    kind: 'analog',
    name: 'speed',
    mean: 1450,
    sd: 4,
    period: 5 * m,
    low: { rule: 'underspeed', fault: 'underspeed', category: 'mechanical', priority: 'P2', trip: 1200, clear: 1350, forMs: 2 * m },
  },
  {
    kind: 'analog',
    name: 'flow',
    mean: 12,
    sd: 0.3,
    period: 10 * m,
    low: { rule: 'low-flow', fault: 'low-flow', category: 'process', priority: 'P2', trip: 5, clear: 8, forMs: 2 * m },
  },
  {
    kind: 'analog',
    name: 'humidity',
    mean: 45,
    sd: 1.5,
    period: 10 * m,
    high: { rule: 'humidity', fault: 'high-humidity', category: 'environment', priority: 'P3', trip: 80, clear: 75, forMs: 5 * m },
  },
  { kind: 'boolean', name: 'alarm/fault', period: 10 * m, rule: 'machine-fault', fault: 'machine-fault', category: 'hardware', priority: 'P1' },
  { kind: 'boolean', name: 'alarm/estop', period: 15 * m, rule: 'estop', fault: 'emergency-stop', category: 'safety', priority: 'P1' },
];

/** Area name and its two machine kinds (asset names are unique plant-wide). */
export const AREAS: [string, string, string][] = [
  ['packaging', 'sealer', 'wrapper'],
  ['filling', 'filler', 'capper'],
  ['mixing', 'mixer', 'dosing-pump'],
  ['baking', 'oven', 'proofer'],
  ['cooling', 'spiral-cooler', 'chiller'],
  ['freezing', 'freezer', 'ice-bank'],
  ['utilities', 'air-compressor', 'boiler'],
  ['palletizing', 'palletizer', 'stretch-wrapper'],
  ['labeling', 'labeler', 'printer'],
  ['bottling', 'blow-molder', 'rinser'],
  ['cip', 'cip-skid', 'cip-tank'],
  ['extrusion', 'extruder', 'die-heater'],
  ['cutting', 'slicer', 'guillotine'],
  ['weighing', 'checkweigher', 'multihead'],
  ['sorting', 'sorter', 'metal-detector'],
  ['warehouse', 'conveyor', 'shuttle'],
  ['wastewater', 'aerator', 'sludge-pump'],
  ['sterilizing', 'retort', 'autoclave'],
  ['cartoning', 'cartoner', 'case-packer'],
  ['depalletizing', 'depalletizer', 'unscrambler'],
];

export const ASSETS_PER_AREA = 50;

export interface Asset {
  name: string;
  area: string;
  areaIndex: number;
  line: string;
  lineStopping: boolean;
}

export interface Tag {
  tag: string;
  source: string;
  asset: Asset;
  measure: Measure;
}

/** Area PLCs publish to the UNS broker; voltage comes from two Modbus power meters. */
export const meterOf = (areaIndex: number) => (areaIndex < AREAS.length / 2 ? 'power-meter-a' : 'power-meter-b');
export const plcOf = (area: string) => `${area}-plc`;

export function plant(): { assets: Asset[]; tags: Tag[] } {
  const assets: Asset[] = [];
  AREAS.forEach(([area, k1, k2], areaIndex) => {
    for (let i = 0; i < ASSETS_PER_AREA; i++) {
      const kind = i % 2 === 0 ? k1 : k2;
      const nn = String(Math.floor(i / 2) + 1).padStart(2, '0');
      assets.push({ name: `${kind}-${nn}`, area, areaIndex, line: `line-${(i % 5) + 1}`, lineStopping: i % 10 === 0 });
    }
  });
  const tags = assets.flatMap((asset) =>
    MEASURES.map((measure) => ({
      tag: `${asset.area}/${asset.name}/${measure.name}`,
      source: measure.kind === 'analog' && measure.meter ? meterOf(asset.areaIndex) : plcOf(asset.area),
      asset,
      measure,
    })),
  );
  return { assets, tags };
}

const dur = (ms: number) => (ms > 0 && ms % m === 0 ? `${ms / m}m` : `${ms / s}s`);

/** bench/replay/config.yaml: sources, one asset per machine mapped by tag pattern, one rule per limit. */
export function plantConfigYaml(assets: Asset[]): string {
  const out: string[] = [
    '# Generated by bench/replay/generate.ts: the benchmark plant (20 areas, 1000 assets, 10,000 tags).',
    '# Edit plant.ts and regenerate rather than editing this file.',
    'gateway:',
    '  id: bench-plant',
    '  timezone: Europe/Berlin',
    'sources:',
    ...AREAS.map(
      ([area]) => `  - { id: ${plcOf(area)}, type: mqtt, url: 'mqtt://127.0.0.1:1883', subscriptions: [{ topic: 'plant/${area}/#', format: json }] }`,
    ),
    '  - { id: power-meter-a, type: modbus, host: 127.0.0.1, port: 5020, unitId: 1, pollInterval: 1m }',
    '  - { id: power-meter-b, type: modbus, host: 127.0.0.1, port: 5021, unitId: 1, pollInterval: 1m }',
    'assets:',
    ...assets.map(
      (a) => `  ${a.name}: { area: ${a.area}, line: ${a.line}, ${a.lineStopping ? 'criticality: line-stopping, ' : ''}tags: ['${a.area}/${a.name}/**'] }`,
    ),
    'rules:',
  ];
  for (const me of MEASURES) {
    if (me.kind === 'boolean') {
      out.push(`  - { id: ${me.rule}, when: { tag: '**/${me.name}', equals: true }, fault: ${me.fault}, category: ${me.category}, priority: ${me.priority} }`);
      continue;
    }
    const limit = (l: Limit, dir: 'above' | 'below') =>
      `  - { id: ${l.rule}, when: { tag: '**/${me.name}', ${dir}: ${l.trip}, for: ${dur(l.forMs)}, ${dir === 'above' ? 'clearBelow' : 'clearAbove'}: ${l.clear} }, ` +
      `fault: ${l.fault}, category: ${l.category}, priority: ${l.priority} }`;
    if (me.high) out.push(limit(me.high, 'above'));
    if (me.low) out.push(limit(me.low, 'below'));
    if (me.stuckRule) {
      out.push(`  - { id: stuck-${me.name}, when: { tag: '**/${me.name}', unchangedFor: 30m }, fault: sensor-stuck, category: instrumentation, priority: P3 }`);
    }
  }
  out.push(
    `  - { id: comms, when: { source: '*', silentFor: 2m }, fault: comms-lost, category: network, priority: P1 }`,
    'correlation:',
    '  chatter: { count: 5, within: 60s }',
    '  flood: { count: 10, within: 10m, per: area }',
    '  recurrence: { count: 3, within: 14d }',
    '  causes:',
    '    - { effect: machine-fault, cause: voltage-sag, within: 2m }',
    '  discoverCauses: { within: 5m, minSupport: 3 }',
    'priorities:',
    '  P0: { respondWithin: 15m, resolveWithin: 4h }',
    '  P1: { respondWithin: 30m, resolveWithin: 8h }',
    '  P2: { respondWithin: 4h, resolveWithin: 3d }',
    '  P3: { respondWithin: 1d, resolveWithin: 14d }',
    '  raiseFor: { criticality: { line-stopping: P0 } }',
    'routing:',
    '  - { match: { category: power-quality }, assign: electrical, notify: [duty-electrician] }',
    '  - { match: { category: electrical }, assign: electrical }',
    '  - { match: { category: network }, assign: automation }',
    '  - { match: { category: instrumentation }, assign: automation }',
    ...AREAS.map(([area]) => `  - { match: { area: ${area} }, assign: maintenance-${area} }`),
    '  - { match: {}, assign: maintenance-general }',
    'escalation:',
    '  - { after: respondBy, unless: acknowledged, level: 1, notify: [duty-supervisor] }',
    '  - { after: 4h, unless: resolved, level: 2, notify: [production-manager] }',
    'notify:',
    `  duty-supervisor: { type: webhook, format: wecom, url: 'http://127.0.0.1:9000/hook/supervisor' }`,
    `  duty-electrician: { type: webhook, format: json, url: 'http://127.0.0.1:9000/hook/electrician' }`,
    `  production-manager: { type: webhook, format: json, url: 'http://127.0.0.1:9000/hook/manager' }`,
  );
  return out.join('\n') + '\n';
}
