/**
 * Seeded plant situations like the shared scenarios (test/scenarios/), with
 * other tags, assets, areas, times of day, timezones, thresholds, delays,
 * windows and counts, so a gateway tuned to the scenarios' numbers fails.
 * Each returns the config (YAML text), the replay records (JSONL lines) and
 * the ground truth in expected.json format, plus the drawn parameters.
 *
 *   generate('recurring-daily', 7)   // same seed, same plant, every time
 *
 * Dump one to files (to replay it with the CLI):
 *   node --import tsx test/variants/generate.ts flood 7 /tmp/flood-7
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  contains,
  lacks,
  Names,
  near,
  q,
  Rng,
  round,
  telemetry,
  Timeline,
  TIMEZONES,
  utility,
  wander,
  type Check,
  type Expected,
  type TicketSpec,
} from './kit.ts';
import { addDays, dstChanges, dur, hhmm, localTime, zonedToUtc } from './time.ts';

export const FAMILIES = ['recurring-daily', 'recurring-weekly', 'recurring-irregular', 'base-rate', 'flood', 'noise', 'silence', 'lifecycle'] as const;
export type Family = (typeof FAMILIES)[number];

export interface Variant {
  family: Family;
  seed: number;
  /** Everything drawn from the seed that matters, for failure messages. */
  params: Record<string, unknown>;
  /** Gateway config, YAML (docs/config.md). */
  config: string;
  /** Replay records, JSONL (contracts §Replay); includes some broken lines. */
  lines: string[];
  /** Ground truth, expected.json format (test/scenarios/README.md). */
  expected: Expected;
  /** What the replay summary must report: rejected lines, refused actions. */
  summary: { rejected: number; refused: number };
}

export interface Options {
  /** Force the gateway timezone (else drawn from the seed). */
  timezone?: string;
  /** Daily stops just before or after local midnight (jitter crosses it). */
  nearMidnight?: boolean;
  /** Make the days span a DST change of the timezone (when it has one). */
  crossDst?: boolean;
  /**
   * base-rate only: the frequent alarm every 1-3 minutes over days (thousands
   * of raises of one key). Slow on purpose; not run by the test.
   */
  dense?: boolean;
  /**
   * base-rate only: a run of two weeks or so with a short recurrence window
   * (2-3 days); the frequent alarm starts only in the last days. Its base rate
   * must be taken over the counting window, not diluted over the whole run.
   */
  longRun?: boolean;
}

export function generate(family: Family, seed: number, opts: Options = {}): Variant {
  switch (family) {
    case 'recurring-daily':
      return recurring(family, seed, 'daily', false, opts);
    case 'recurring-weekly':
      return recurring(family, seed, 'weekly', false, opts);
    case 'recurring-irregular':
      return recurring(family, seed, 'irregular', false, opts);
    case 'base-rate':
      return recurring(family, seed, 'daily', true, opts);
    case 'flood':
      return flood(seed, opts);
    case 'noise':
      return noise(seed, opts);
    case 'silence':
      return silence(seed, opts);
    case 'lifecycle':
      return lifecycle(seed, opts);
  }
}

// ---------------------------------------------------------------- shared config pieces

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const PRIORITY_ORDER = ['P0', 'P1', 'P2', 'P3'] as const;
type P = (typeof PRIORITY_ORDER)[number];
const higher = (a: P, b: P): P => (PRIORITY_ORDER.indexOf(a) <= PRIORITY_ORDER.indexOf(b) ? a : b);

interface Sla {
  respond: number;
  resolve: number;
}

function slas(rng: Rng): Record<P, Sla> {
  return {
    P0: { respond: rng.pick([5, 10, 15, 20]) * MIN, resolve: rng.pick([2, 4, 6]) * HOUR },
    P1: { respond: rng.pick([20, 30, 45, 60]) * MIN, resolve: rng.pick([6, 8, 12]) * HOUR },
    P2: { respond: rng.pick([2, 4, 6]) * HOUR, resolve: rng.pick([2, 3, 5]) * DAY },
    P3: { respond: rng.pick([12, 24]) * HOUR, resolve: rng.pick([7, 14]) * DAY },
  };
}

function prioritiesYaml(s: Record<P, Sla>, raiseFor: Record<string, P>): string {
  const rows = PRIORITY_ORDER.map((p) => `  ${p}: { respondWithin: ${dur(s[p].respond)}, resolveWithin: ${dur(s[p].resolve)} }`);
  const raise = Object.entries(raiseFor)
    .map(([k, v]) => `${q(k)}: ${v}`)
    .join(', ');
  return `priorities:\n${rows.join('\n')}\n  raiseFor: { criticality: { ${raise} } }\n`;
}

/** A start date (local) in 2025..2027, or one that puts a DST change of `tz` inside [start, start + span days). */
function startDate(rng: Rng, tz: string, spanDays: number, crossDst: boolean): { year: number; month: number; day: number; dst: string | null } {
  const year = rng.int(2025, 2027);
  if (crossDst && spanDays >= 3) {
    const changes = dstChanges(tz, year, 1, 1, 365);
    if (changes.length > 0) {
      const c = rng.pick(changes);
      const s = addDays(c.year, c.month, c.day, -rng.int(1, spanDays - 2));
      return { ...s, dst: `${c.year}-${c.month}-${c.day}` };
    }
  }
  const s = addDays(year, 1, 1, rng.int(0, 330));
  return { ...s, dst: null };
}

/** Durations in config are written in several spellings: 90s, 1.5m, 2m, 120s. */
function spell(rng: Rng, ms: number): string {
  if (ms % MIN === 30_000 && ms > MIN && rng.chance(0.5)) return `${ms / MIN}m`;
  if (ms % MIN === 0 && ms < HOUR && rng.chance(0.3)) return `${ms / 1000}s`;
  if (ms % DAY === 0 && rng.chance(0.3)) return `${ms / HOUR}h`;
  return dur(ms);
}

/** Alarm value: PLCs send alarm bits as booleans or as 1/0. */
const bit = (numeric: boolean, on: boolean) => (numeric ? (on ? 1 : 0) : on);

// ---------------------------------------------------------------- 1, 2: recurring cause, base-rate guard

function recurring(family: Family, seed: number, mode: 'daily' | 'weekly' | 'irregular', baseRate: boolean, opts: Options): Variant {
  const rng = new Rng(seed * 1_000_003 + FAMILIES.indexOf(family));
  const names = new Names(rng);
  const tz = opts.timezone ?? rng.pick(TIMEZONES);
  const gatewayId = names.id(rng.pick(['plant', 'site', 'works', 'mill', 'factory']));
  const area = names.processArea();
  const svcArea = names.serviceArea();
  const util = utility(rng);
  const utilAsset = names.machine(util.kind);
  const stopAsset = names.machine();
  const otherAsset = names.machine();
  const hotAsset = names.machine(rng.pick(['compressor', 'chiller', 'blower', 'pump', 'transformer']));
  const freqAsset = baseRate ? names.machine(rng.pick(['guard-door', 'infeed', 'buffer', 'gate'])) : null;
  const alarmSeg = rng.pick(['alarm', 'alarms', 'alm', 'fault']);
  const stopCodes = [names.code(), names.code(), names.code()];
  const otherCode = names.code();
  const freqCode = names.code('DOOR');
  const stopFault = rng.pick(['alarm-stop', 'machine-stop', 'trip', 'stoppage', 'unplanned-stop']);
  const stopCategory = rng.pick(['hardware', 'mechanical', 'machine']);
  const tempName = rng.pick(['temperature', 'temp', 'motor-temp', 'bearing-temp']);
  const tempFault = rng.pick(['overtemp', 'high-temp', 'over-temperature']);
  const numericBits = rng.chance(0.3);
  const plc = names.id(rng.pick(['plc', 'line', 'cell']));
  const meter = names.id(rng.pick(['pm', 'meter', 'scada']));

  // Windows and counts: some shorter, some longer than the scenarios' (5/60s, 3/14d, 5m/3).
  const dense = baseRate && (opts.dense ?? false);
  const longRun = baseRate && !dense && (opts.longRun ?? false);
  const R = longRun ? rng.int(2, 3) : 0;
  const W = baseRate ? (dense ? rng.pick([3, 4, 5]) : rng.pick([7, 10, 15])) * MIN : rng.pick([75, 90, 120, 180, 300, 420, 600, 900]) * 1000;
  const chatter = { count: rng.int(3, 8), within: baseRate ? rng.pick([10, 20, 30, 45]) * 1000 : rng.pick([15, 20, 30, 45, 60, 90, 120, 180]) * 1000 };
  const recCount = rng.int(2, mode === 'weekly' ? 4 : baseRate && !dense ? 3 : 5);
  const minSupport = rng.int(2, Math.max(2, recCount));
  const N = longRun
    ? 6 * R + rng.int(0, 3)
    : mode === 'weekly'
      ? rng.int(Math.max(recCount, minSupport, 3), Math.max(recCount, minSupport, 3) + 1)
      : rng.int(Math.max(recCount, minSupport), Math.max(recCount, minSupport) + (baseRate ? (dense ? 2 : 0) : 5));
  const floodCfg = { count: rng.int(5, 15), within: rng.pick([5, 10, 15]) * MIN };

  // Thresholds and delays.
  const sagFor = rng.pick([0, 0, 1, 2, 5, 10]) * 1000;
  const tempAbove = rng.int(55, 120);
  const tempDb = rng.int(1, 6);
  const tempFor = rng.pick([5, 10, 20, 30, 60, 120]) * 1000;
  const stopRulePriority: P = rng.pick(['P1', 'P2'] as const);
  const utilPriority: P = rng.pick(['P2', 'P3'] as const);
  const raiseFor: Record<string, P> = { [rng.pick(['line-stopping', 'critical', 'A'])]: 'P0', [rng.pick(['important', 'B'])]: 'P1' };
  const stopCriticality = rng.pick([null, null, ...Object.keys(raiseFor), 'low']);
  const stopPriority = stopCriticality && raiseFor[stopCriticality] ? higher(stopRulePriority, raiseFor[stopCriticality] as P) : stopRulePriority;
  const sla = slas(rng);
  const acked = rng.chance(0.5);

  // When the stops happen (local wall-clock), then in UTC.
  const jitterMin = opts.nearMidnight ? rng.int(4, 8) : rng.int(1, 8);
  let nominal = opts.nearMidnight ? (1440 + rng.int(-4, 4)) % 1440 : rng.int(4 * 60 + 30, 23 * 60 + 30);
  if (mode === 'weekly') nominal = rng.int(5 * 60, 22 * 60);
  const spanDays = mode === 'weekly' ? (N - 1) * 7 + 1 : mode === 'daily' ? N : rng.int(Math.ceil(N / 2) + 1, N + 3);
  const start = startDate(rng, tz, spanDays, opts.crossDst ?? false);
  const stops: number[] = [];
  let irregularTimes: number[] = [];
  if (mode === 'irregular') {
    // Random days and times of day; two of them at least 8 h apart on the clock, none closer than 3 h.
    for (let attempt = 0; ; attempt++) {
      const cand = Array.from({ length: N }, () => {
        const d = addDays(start.year, start.month, start.day, rng.int(0, spanDays - 1));
        return zonedToUtc(tz, d.year, d.month, d.day, rng.int(4 * 60 + 30, 23 * 60 + 30) + rng.float(0, 1));
      }).sort((a, b) => a - b);
      const tods = cand.map((t) => localTime(t, tz).minutes);
      const far = tods.some((a) => tods.some((b) => Math.min(Math.abs(a - b), 1440 - Math.abs(a - b)) >= 8 * 60));
      const apart = cand.every((t, i) => i === 0 || t - (cand[i - 1] as number) >= 3 * HOUR);
      if (attempt > 2000) throw new Error(`recurring-irregular seed ${seed}: no stop times fit`);
      if (far && apart) {
        stops.push(...cand);
        irregularTimes = tods;
        break;
      }
    }
  } else {
    const offsets = Array.from({ length: N }, () => rng.float(-jitterMin, jitterMin));
    if (opts.nearMidnight && mode === 'daily') {
      // the hard case: one stop just after midnight, the next day's just before it (both on one date)
      const signed = (from: number, to: number) => ((((to - from) % 1440) + 2160) % 1440) - 720;
      const k = rng.int(0, N - 2);
      offsets[k] = signed(nominal, rng.float(0.5, 4));
      offsets[k + 1] = signed(nominal, 1440 - rng.float(0.5, 4));
    }
    for (let i = 0; i < N; i++) {
      const d = addDays(start.year, start.month, start.day, mode === 'weekly' ? 7 * i : i);
      stops.push(zonedToUtc(tz, d.year, d.month, d.day, nominal + (offsets[i] as number)));
    }
  }

  // Each stop follows a sag whose detection leads it by `lead` (well inside W).
  const baseLead = rng.float(Math.min(20_000 + sagFor, 0.4 * W), 0.6 * W);
  const leads = stops.map(() => Math.round(Math.min(0.75 * W, Math.max(5000, baseLead * rng.float(0.75, 1.25)))));
  const sags = stops.map((s, i) => {
    const raise = s - (leads[i] as number);
    const begin = raise - sagFor;
    return { begin, raise, end: begin + sagFor + rng.int(3, 60) * 1000 };
  });

  const tl = new Timeline();
  // (base-rate: a shorter run around the stops keeps the frequent alarm to a few hundred raises)
  const from = (stops[0] as number) - (baseRate && !dense ? rng.int(1, 3) : rng.int(6, 20)) * HOUR;
  const to = (stops[stops.length - 1] as number) + (baseRate && !dense ? rng.int(1, 2) : rng.int(2, 8)) * HOUR;
  const every = mode === 'weekly' || longRun ? 5 * MIN : MIN;
  const sagSkip = sags.map((s): [number, number] => [s.begin - 1500, s.end + 1500]);

  // background telemetry
  telemetry(tl, rng, {
    tag: `${svcArea}/${utilAsset}/${util.measure}`,
    source: meter,
    from,
    to,
    every,
    value: wander(rng, util.nominal, util.sigma),
    decimals: util.nominal < 20 ? 3 : 2,
    skip: sagSkip,
  });
  telemetry(tl, rng, {
    tag: `${area}/${stopAsset}/${tempName}`,
    source: plc,
    from,
    to,
    every: every * rng.float(1, 2),
    value: wander(rng, tempAbove - rng.int(15, 30), rng.float(0.3, 1.2)),
  });
  telemetry(tl, rng, {
    tag: `${area}/${stopAsset}/speed`,
    source: plc,
    from,
    to,
    every: every * rng.float(1, 3),
    value: wander(rng, rng.int(40, 400), rng.float(0.5, 3)),
    decimals: 1,
  });
  // the sags, sampled every second, and the stops
  let stopRaises = 0;
  for (const [i, s] of sags.entries()) {
    for (let t = s.begin; t <= s.end; t += 1000) tl.signal(t, `${svcArea}/${utilAsset}/${util.measure}`, round(rng.float(util.sagLow, util.sagHigh), 3), meter);
    tl.signal(s.end + 1000, `${svcArea}/${utilAsset}/${util.measure}`, round(util.nominal + rng.float(-1, 1) * util.sigma, 3), meter);
    const stop = stops[i] as number;
    // a stop raises one to three alarms within seconds: one episode, every alarm an occurrence
    const codes = rng.shuffle(stopCodes).slice(0, rng.int(1, Math.min(3, chatter.count - 1)));
    const back = stop + rng.int(2, 20) * MIN + rng.int(0, 59_000);
    let at = stop;
    codes.forEach((code, k) => {
      if (k > 0) at += rng.int(1, 6) * 1000;
      tl.signal(at, `${area}/${stopAsset}/${alarmSeg}/${code}`, bit(numericBits, true), plc, {
        severity: rng.int(500, 900),
        message: rng.pick(['jaw fault', 'drive fault', 'overload', 'emergency stop']),
      });
      tl.signal(back + k * 1000, `${area}/${stopAsset}/${alarmSeg}/${code}`, bit(numericBits, false), plc);
    });
    stopRaises += codes.length;
  }

  // Unrelated faults at random moments, never just after a sag (nor just before a stop).
  const quiet = (t: number) => sags.every((s) => Math.abs(t - s.raise) > 2 * W + 10 * MIN) && stops.every((s) => Math.abs(t - s) > 2 * W + 10 * MIN);
  const randomQuiet = (taken: number[]) => {
    for (let attempt = 0; attempt < 10_000; attempt++) {
      const t = Math.round(rng.float(from + HOUR, to - HOUR));
      if (quiet(t) && taken.every((x) => Math.abs(x - t) > 2 * HOUR)) return t;
    }
    throw new Error(`${family} seed ${seed}: no quiet moment for an unrelated fault`);
  };
  const otherRaises = rng.int(1, Math.min(2, recCount - 1));
  const otherTimes: number[] = [];
  for (let i = 0; i < otherRaises; i++) otherTimes.push(randomQuiet(otherTimes));
  for (const t of otherTimes) {
    tl.signal(t, `${area}/${otherAsset}/${alarmSeg}/${otherCode}`, bit(numericBits, true), plc, { message: 'jam' });
    tl.signal(t + rng.int(1, 6) * MIN, `${area}/${otherAsset}/${alarmSeg}/${otherCode}`, bit(numericBits, false), plc);
  }
  const withHot = rng.chance(0.7);
  const hotTemp = wander(rng, tempAbove - rng.int(15, 30), rng.float(0.3, 1.2));
  const hotTag = `${svcArea}/${hotAsset}/${tempName}`;
  let hotSkip: [number, number][] = [];
  if (withHot) {
    const t0 = randomQuiet(otherTimes);
    const hot = tempFor + rng.int(60, 900) * 1000;
    hotSkip = [[t0 - 1000, t0 + hot + 60_000]];
    for (let t = t0; t < t0 + hot; t += 10_000) tl.signal(t, hotTag, round(tempAbove + rng.float(1, 8), 2), plc);
    tl.signal(t0 + hot, hotTag, round(tempAbove - tempDb - rng.float(1, 4), 2), plc);
  }
  telemetry(tl, rng, { tag: hotTag, source: plc, from, to, every: every * rng.float(1, 2), value: hotTemp, skip: hotSkip });

  // Base-rate guard: an alarm on another asset every few minutes all day, so it precedes every stop by chance.
  let freqRaises = 0;
  if (freqAsset) {
    const lo = Math.max(chatter.within * 1.5 + 20_000, 0.35 * W);
    const hi = 0.9 * W;
    const since = longRun ? (stops[stops.length - 1] as number) - (R + 1) * DAY - rng.int(2, 10) * HOUR : from;
    for (let t = since + rng.int(0, 60_000); t < to; t += Math.round(rng.float(lo, hi))) {
      tl.signal(t, `${area}/${freqAsset}/${alarmSeg}/${freqCode}`, bit(numericBits, true), plc, { message: 'guard door open' });
      tl.signal(t + rng.int(3, 15) * 1000, `${area}/${freqAsset}/${alarmSeg}/${freqCode}`, bit(numericBits, false), plc);
      freqRaises++;
    }
  }

  // Nobody acknowledges the stop in time: never, or after its respondBy.
  const stopKey = `${stopAsset}/${stopFault}`;
  const first = stops[0] as number;
  const ackAt = first + sla[stopPriority].respond + rng.int(1, 120) * MIN + rng.int(0, 59_000);
  if (acked) tl.action(ackAt, 'ack', stopKey, names.person());

  const garbage = rng.int(0, 6);
  const lines = tl.lines(rng, garbage);

  const recWithin = longRun
    ? R * DAY + 12 * HOUR
    : mode === 'weekly'
      ? (N - 1) * 7 * DAY + rng.int(2, 12) * DAY
      : Math.ceil((stops[stops.length - 1]! - first) / DAY) * DAY + rng.int(1, 10) * DAY;
  const supervisor = rng.pick(['shift-lead', 'duty-manager', 'supervisor']);
  const group = `maint-${area}`;
  const config = `gateway:
  id: ${gatewayId}
  timezone: ${tz}
${prioritiesYaml(sla, raiseFor)}assets:
  ${stopAsset}: { area: ${area}, line: line-${rng.int(1, 9)}${stopCriticality ? `, criticality: ${q(stopCriticality)}` : ''}, tags: [${q(`${area}/${stopAsset}/**`)}] }
  ${otherAsset}: { area: ${area}, tags: [${q(`${area}/${otherAsset}/**`)}] }
${freqAsset ? `  ${freqAsset}: { area: ${area}, tags: [${q(`${area}/${freqAsset}/**`)}] }\n` : ''}  ${utilAsset}: { area: ${svcArea}, tags: [${q(`${svcArea}/${utilAsset}/**`)}] }
  ${hotAsset}: { area: ${svcArea}, tags: [${q(`${svcArea}/${hotAsset}/**`)}] }
rules:
  - { id: machine-stop, when: { tag: ${q(`${area}/*/${alarmSeg}/**`)}, equals: true }, fault: ${stopFault}, category: ${stopCategory}, priority: ${stopRulePriority} }
  - { id: supply-low, when: { tag: ${q(`${svcArea}/*/${util.measure}`)}, below: ${util.below}${sagFor || rng.chance(0.5) ? `, for: ${spell(rng, sagFor)}` : ''}, clearAbove: ${util.clearAbove} }, fault: ${util.fault}, category: ${util.category}, priority: ${utilPriority} }
  - { id: hot, when: { tag: ${q(`**/${tempName}`)}, above: ${tempAbove}, for: ${spell(rng, tempFor)}, clearBelow: ${tempAbove - tempDb} }, fault: ${tempFault}, category: ${stopCategory}, priority: P2 }
correlation:
  chatter: { count: ${chatter.count}, within: ${spell(rng, chatter.within)} }
  flood: { count: ${floodCfg.count}, within: ${spell(rng, floodCfg.within)}, per: area }
  recurrence: { count: ${recCount}, within: ${spell(rng, recWithin)} }
  discoverCauses: { within: ${spell(rng, W)}, minSupport: ${minSupport} }
routing:
  - { match: { area: ${area}, category: ${stopCategory} }, assign: ${group}, notify: [${supervisor}] }
  - { match: {}, assign: maint-general }
escalation:
  - { after: respondBy, unless: acknowledged, level: 1, notify: [${supervisor}] }
${rng.chance(0.5) ? `  - { after: ${rng.pick(['12h', '24h', '36h'])}, unless: resolved, level: 2, notify: [${supervisor}] }\n` : ''}notify:
  ${supervisor}: { type: webhook, format: ${rng.pick(['json', 'slack', 'teams', 'wecom'])}, url: "http://127.0.0.1:9/hook" }
`;

  // Ground truth.
  // causes count the episodes inside the recurrence window (all of them unless longRun)
  const last = stops[stops.length - 1] as number;
  const inWindow = stops.map((t) => last - t < recWithin);
  const K = inWindow.filter(Boolean).length;
  const sortedLeads = leads.filter((_l, i) => inWindow[i]).sort((a, b) => a - b);
  const mid = sortedLeads.length >> 1;
  const medianLead = (sortedLeads.length % 2 ? sortedLeads[mid]! : (sortedLeads[mid - 1]! + sortedLeads[mid]!) / 2) / 1000;
  const pattern = mode;
  const patternChecks = (atNominal: number): Record<string, Check> => {
    if (pattern === 'irregular') return { 'recurrence.pattern': 'irregular', 'recurrence.at': null };
    const c: Record<string, Check> = { 'recurrence.pattern': pattern, 'recurrence.at': near(hhmm(atNominal), 15) };
    if (pattern === 'weekly') c['recurrence.day'] = localTime(first, tz).weekday;
    return c;
  };
  const causeCheck: Record<string, Check> = { first: { fault: util.fault, asset: utilAsset, of: K, support: K, source: 'discovered' } };
  if (freqAsset) causeCheck.none = { asset: freqAsset };
  const tickets: TicketSpec[] = [
    {
      where: { asset: stopAsset, fault: stopFault },
      count: 1,
      expect: {
        priority: stopPriority,
        occurrences: stopRaises,
        assignedGroup: group,
        flags: contains('recurring', 'sla-breached'),
        ...patternChecks(nominal),
        escalationLevel: { '>=': 1 },
        state: acked ? 'acknowledged' : 'open',
        causes: causeCheck,
        'causes[0].leadSeconds': { '>=': Math.floor(medianLead) - 2, '<=': Math.ceil(medianLead) + 2 },
      },
    },
    {
      where: { asset: utilAsset, fault: util.fault },
      count: 1,
      expect: {
        priority: utilPriority,
        occurrences: N,
        assignedGroup: 'maint-general',
        flags: contains('recurring'),
        ...patternChecks(nominal - medianLead / 60),
        ...(freqAsset ? { causes: { none: { asset: freqAsset } } } : {}),
      },
    },
    {
      where: { asset: otherAsset, fault: stopFault },
      count: 1,
      expect: { occurrences: otherRaises, flags: lacks('recurring', 'chattering'), causes: { none: { asset: utilAsset } } },
    },
    withHot
      ? { where: { asset: hotAsset, fault: tempFault }, count: 1, expect: { occurrences: 1, condition: 'cleared', causes: { none: { asset: utilAsset } } } }
      : { where: { asset: hotAsset }, count: 0 },
  ];
  if (freqAsset) tickets.push({ where: { asset: freqAsset, fault: stopFault }, count: 1, expect: { occurrences: freqRaises } });
  const expected: Expected = {
    description: `${family} seed ${seed}: ${stopAsset} stops ${mode} ${mode === 'irregular' ? 'at random times' : `around ${hhmm(nominal)} ${tz}`}, ${N}x, each ${Math.round(medianLead)} s after a ${util.fault} on ${utilAsset}${freqAsset ? `; ${freqAsset} alarms every few minutes (no cause)` : ''}`,
    tickets,
    total: 3 + (withHot ? 1 : 0) + (freqAsset ? 1 : 0),
  };
  const params = {
    tz,
    mode,
    N,
    nominal: mode === 'irregular' ? irregularTimes.map(hhmm) : hhmm(nominal),
    jitterMin,
    start: `${start.year}-${start.month}-${start.day}`,
    dst: start.dst,
    W: W / 1000,
    minSupport,
    recurrence: { count: recCount, withinDays: recWithin / DAY },
    chatter,
    sag: { below: util.below, clearAbove: util.clearAbove, for: sagFor, nominal: util.nominal },
    medianLead,
    longRun,
    episodesInWindow: K,
    stopPriority,
    acked,
    stopRaises,
    otherRaises,
    withHot,
    freqRaises,
    lines: lines.length,
  };
  return { family, seed, params, config, lines, expected, summary: { rejected: garbage, refused: 0 } };
}

// ---------------------------------------------------------------- 3: flood

function flood(seed: number, opts: Options): Variant {
  const rng = new Rng(seed * 1_000_003 + FAMILIES.indexOf('flood'));
  const names = new Names(rng);
  const tz = opts.timezone ?? rng.pick(TIMEZONES);
  const gatewayId = names.id(rng.pick(['plant', 'site', 'works', 'hall']));
  const alarmSeg = rng.pick(['alarm', 'alarms', 'alm', 'fault']);
  const fault = rng.pick(['alarm-stop', 'machine-alarm', 'trip', 'line-alarm']);
  const rulePriority: P = rng.pick(['P1', 'P2', 'P3'] as const);
  const floodCfg = { count: rng.int(3, 20), within: rng.pick([1, 2, 3, 5, 10, 15, 20]) * MIN };
  const chatter = { count: rng.int(3, 8), within: rng.pick([20, 30, 60, 120]) * 1000 };
  const critP0 = rng.pick(['line-stopping', 'critical', 'A', 'safety']);
  const critP1 = rng.pick(['important', 'B', 'quality']);
  const raiseFor: Record<string, P> = { [critP0]: 'P0', [critP1]: 'P1' };
  const numericBits = rng.chance(0.3);
  const plc = names.id(rng.pick(['plc', 'dcs', 'scada']));
  const sla = slas(rng);

  const tl = new Timeline();
  const startDay = addDays(rng.int(2025, 2027), 1, 1, rng.int(0, 360));
  const floodStart = zonedToUtc(tz, startDay.year, startDay.month, startDay.day, rng.int(0, 1439) + rng.float(0, 1));
  const nAreas = rng.chance(0.35) ? 2 : 1;
  const assetsYaml: string[] = [];
  const tickets: TicketSpec[] = [];
  const floods: Record<string, unknown>[] = [];
  let lastRaise = floodStart;
  const areaNames: string[] = [];

  for (let a = 0; a < nAreas; a++) {
    const area = names.processArea();
    areaNames.push(area);
    const machines = Array.from({ length: rng.int(3, 10) }, () => names.machine());
    const crit = new Map<string, string>();
    const firstOutAsset = rng.pick(machines);
    const foCrit = rng.pick([critP0, critP0, critP1, null, 'low']);
    if (foCrit) crit.set(firstOutAsset, foCrit);
    if (rng.chance(0.25)) crit.set(rng.pick(machines.filter((m) => m !== firstOutAsset)), rng.pick([critP0, critP1]));
    for (const m of machines)
      assetsYaml.push(
        `  ${m}: { area: ${area}, line: line-${a + 1}${crit.has(m) ? `, criticality: ${q(crit.get(m) as string)}` : ''}, tags: [${q(`${area}/${m}/**`)}] }`,
      );
    const prio = (m: string): P => {
      const c = crit.get(m);
      return c && raiseFor[c] ? higher(rulePriority, raiseFor[c] as P) : rulePriority;
    };

    // K distinct alarm tags, more than flood.count, within a fraction of flood.within.
    const K = floodCfg.count + 1 + rng.int(0, 25);
    const tags: { asset: string; tag: string }[] = [];
    const foTag = `${area}/${firstOutAsset}/${alarmSeg}/${names.code()}`;
    while (tags.length < K - 1) {
      const m = rng.pick(machines);
      tags.push({ asset: m, tag: `${area}/${m}/${alarmSeg}/${names.code()}` });
    }
    const t0 = floodStart + (a === 0 ? 0 : rng.int(-floodCfg.within / 2, floodCfg.within / 2));
    const span = rng.float(0.2, 0.85) * floodCfg.within;
    const raises: { t: number; asset: string; tag: string }[] = [{ t: t0, asset: firstOutAsset, tag: foTag }];
    for (const x of tags) raises.push({ t: t0 + 200 + Math.round(rng.float(0, span)), ...x });
    // a chattering member: one tag raised again within the flood (counts once)
    if (rng.chance(0.5)) {
      const x = rng.pick(tags);
      for (let i = 0; i < rng.int(1, 3); i++) raises.push({ t: t0 + 200 + Math.round(rng.float(0, span)), ...x });
    }
    raises.sort((x, y) => x.t - y.t);
    // a raise of a tag that is still active is no raise: emit true/false so each raise is a transition
    const byTag = new Map<string, number[]>();
    for (const r of raises) byTag.set(r.tag, [...(byTag.get(r.tag) ?? []), r.t]);
    const kept: typeof raises = [];
    for (const [tag, times] of byTag) {
      const asset = raises.find((r) => r.tag === tag)!.asset;
      times.forEach((t, i) => {
        const next = times[i + 1];
        if (i > 0 && t - (times[i - 1] as number) < 2000) return;
        kept.push({ t, asset, tag });
        tl.signal(t, tag, bit(numericBits, true), plc, { severity: rng.int(200, 900) });
        const off = next !== undefined ? t + Math.max(500, Math.round((next - t) / 2)) : t + span + rng.int(5, 40) * MIN;
        tl.signal(off, tag, bit(numericBits, false), plc);
      });
    }
    kept.sort((x, y) => x.t - y.t);
    lastRaise = Math.max(lastRaise, (kept[kept.length - 1] as { t: number }).t);
    // recognition: the raise that makes distinct tags exceed flood.count; tickets opened before it are merged
    const seen = new Set<string>();
    const before = new Set<string>();
    for (const r of kept) {
      seen.add(r.tag);
      if (seen.size > floodCfg.count) break;
      before.add(r.asset);
    }
    const priority = kept.reduce<P>((p, r) => higher(p, prio(r.asset)), 'P3');
    tickets.push({
      where: { area, fault: 'alarm-flood' },
      count: 1,
      expect: {
        priority,
        members: { lengthAtLeast: K - floodCfg.count },
        'firstOut.asset': firstOutAsset,
        'firstOut.fault': fault,
        'firstOut.at': new Date(t0).toISOString(),
        flags: contains('flood'),
        condition: 'cleared',
      },
    });
    tickets.push({ where: { area, fault, state: 'merged' }, count: before.size });
    floods.push({
      area,
      K,
      raises: kept.length,
      firstOut: firstOutAsset,
      firstOutCriticality: foCrit,
      priority,
      merged: before.size,
      spanS: Math.round(span / 1000),
    });
  }

  // Around the floods: an alarm long before in the first area, one during the flood in a quiet area, one long after.
  const area0 = areaNames[0] as string;
  const earlier = names.machine();
  const later = names.machine();
  const quietArea = names.serviceArea();
  const quiet = names.machine(rng.pick(['tank', 'boiler', 'chiller', 'compressor']));
  assetsYaml.push(`  ${earlier}: { area: ${area0}, tags: [${q(`${area0}/${earlier}/**`)}] }`);
  assetsYaml.push(`  ${later}: { area: ${area0}, tags: [${q(`${area0}/${later}/**`)}] }`);
  assetsYaml.push(`  ${quiet}: { area: ${quietArea}, tags: [${q(`${quietArea}/${quiet}/**`)}] }`);
  const tEarlier = floodStart - 2 * floodCfg.within - rng.int(10, 600) * MIN;
  const tQuiet = floodStart + Math.round(rng.float(0, 0.8) * (lastRaise - floodStart)) + 100;
  const tLater = lastRaise + 3 * floodCfg.within + rng.int(30, 300) * MIN;
  for (const [t, area, asset] of [
    [tEarlier, area0, earlier],
    [tQuiet, quietArea, quiet],
    [tLater, area0, later],
  ] as const) {
    const tag = `${area}/${asset}/${alarmSeg}/${names.code()}`;
    tl.signal(t, tag, bit(numericBits, true), plc);
    tl.signal(t + rng.int(1, 10) * MIN, tag, bit(numericBits, false), plc);
    tickets.push({ where: { asset, fault }, count: 1, expect: { occurrences: 1, flags: lacks('flood'), state: 'open' } });
  }
  // some telemetry that matches no rule
  for (const area of [...areaNames, quietArea]) {
    telemetry(tl, rng, {
      tag: `${area}/line/speed`,
      source: plc,
      from: tEarlier - HOUR,
      to: tLater + HOUR,
      every: rng.pick([30, 60, 120]) * 1000,
      value: wander(rng, rng.int(50, 600), rng.float(1, 5)),
      decimals: 1,
    });
  }

  const garbage = rng.int(0, 5);
  const lines = tl.lines(rng, garbage);
  const config = `gateway:
  id: ${gatewayId}
  timezone: ${tz}
${prioritiesYaml(sla, raiseFor)}assets:
${assetsYaml.join('\n')}
rules:
  - { id: alarms, when: { tag: ${q(`*/*/${alarmSeg}/**`)}, equals: true }, fault: ${fault}, category: ${rng.pick(['hardware', 'process'])}, priority: ${rulePriority} }
correlation:
  chatter: { count: ${chatter.count}, within: ${spell(rng, chatter.within)} }
  flood: { count: ${floodCfg.count}, within: ${spell(rng, floodCfg.within)}, per: area }
  recurrence: { count: ${rng.int(2, 5)}, within: ${rng.int(1, 30)}d }
routing:
  - { match: { fault: alarm-flood }, assign: control-room }
  - { match: {}, assign: maint-${area0} }
`;
  const expected: Expected = {
    description: `flood seed ${seed}: ${nAreas} area(s) flood (> ${floodCfg.count} distinct alarms within ${dur(floodCfg.within)}); alarms before, during (elsewhere) and after stay their own tickets`,
    tickets,
    total: nAreas + 3,
  };
  for (const t of tickets) if (t.where.fault === 'alarm-flood') (t.expect as Record<string, Check>).assignedGroup = 'control-room';
  const params = { tz, flood: floodCfg, rulePriority, raiseFor, floods, numericBits, lines: lines.length };
  return { family: 'flood', seed, params, config, lines, expected, summary: { rejected: garbage, refused: 0 } };
}

// ---------------------------------------------------------------- 4: noise

function noise(seed: number, opts: Options): Variant {
  const rng = new Rng(seed * 1_000_003 + FAMILIES.indexOf('noise'));
  const names = new Names(rng);
  const tz = opts.timezone ?? rng.pick(TIMEZONES);
  const gatewayId = names.id(rng.pick(['bakery', 'plant', 'works']));
  const proc = names.processArea();
  const svc = names.serviceArea();
  const tank = names.machine(rng.pick(['tank', 'silo', 'hopper', 'sump']));
  const plain = names.machine();
  const hover = names.machine(rng.pick(['oven', 'dryer', 'kiln', 'furnace']));
  const spiky = names.machine(rng.pick(['oven', 'dryer', 'kiln', 'furnace']));
  const flaky = names.machine(rng.pick(['oven', 'dryer', 'kiln', 'furnace']));
  const alarmSeg = rng.pick(['alarm', 'alm', 'fault']);
  const tempName = rng.pick(['temperature', 'temp', 'zone-temp', 'pv']);
  const levelFault = rng.pick(['level-alarm', 'high-level', 'level-switch']);
  const alarmFault = rng.pick(['alarm-stop', 'machine-alarm', 'trip']);
  const tempFault = rng.pick(['overtemp', 'high-temp', 'over-temperature']);
  const plc = names.id(rng.pick(['plc', 'line', 'io']));
  const sla = slas(rng);
  const numericBits = rng.chance(0.3);

  const chatterWithin = rng.pick([10, 20, 30, 45, 60, 90, 120, 300]) * 1000;
  const chatterCount = Math.min(rng.int(3, 10), 1 + Math.floor((0.8 * chatterWithin) / 2000));
  const recCount = rng.int(2, 5);
  const above = rng.int(40, 250);
  const db = rng.int(1, 8);
  const onDelay = rng.pick([3, 5, 10, 15, 30, 60, 120, 300]) * 1000;
  const margin = rng.int(8, 25);

  const tl = new Timeline();
  const d = addDays(rng.int(2025, 2027), 1, 1, rng.int(0, 360));
  const T0 = zonedToUtc(tz, d.year, d.month, d.day, rng.int(0, 1439));
  const hours = rng.int(6, 10);
  const T1 = T0 + hours * HOUR;
  // the events, each in its own slot of the run
  const slots = rng.shuffle([0, 1, 2, 3, 4]).map((i) => T0 + ((i + 0.5) * (T1 - T0)) / 6 + rng.int(-10, 10) * MIN);
  const [tChatter, tHover, tBad, tPlain] = slots as [number, number, number, number, number];

  // chatter: M raises, any `count` of them within the chatter window
  const M = chatterCount + rng.int(0, 25);
  const gapMax = Math.max(2000, Math.floor((0.8 * chatterWithin) / (chatterCount - 1)));
  const levelTag = `${svc}/${tank}/${alarmSeg}/${names.code('LSH')}`;
  let t = tChatter;
  for (let i = 0; i < M; i++) {
    const gap = Math.round(rng.float(Math.max(1500, 0.4 * gapMax), gapMax));
    tl.signal(t, levelTag, bit(numericBits, true), plc);
    tl.signal(t + Math.round(gap * rng.float(0.3, 0.7)), levelTag, bit(numericBits, false), plc);
    t += gap;
  }

  // a plain alarm, raised r times far apart (neither chattering nor recurring)
  const r = rng.int(1, recCount - 1);
  const plainTag = `${proc}/${plain}/${alarmSeg}/${names.code()}`;
  for (let i = 0, at = tPlain; i < r; i++, at += rng.int(20, 40) * MIN) {
    tl.signal(at, plainTag, bit(numericBits, true), plc, { message: 'drive fault' });
    tl.signal(at + rng.int(1, 8) * MIN, plainTag, bit(numericBits, false), plc);
  }
  // ...and a bad-quality alarm bit on the same machine, which opens nothing
  const badBit = rng.chance(0.5);
  if (badBit)
    tl.signal(tPlain - rng.int(5, 60) * MIN, `${proc}/${plain}/${alarmSeg}/${names.code()}`, bit(numericBits, true), plc, {
      quality: rng.pick(['bad', 'uncertain']),
    });

  const every = rng.pick([5, 10, 15, 30]) * 1000;
  const base = () => wander(rng, above - margin, rng.float(0.2, 0.8));

  // hover: above for longer than the on-delay, then inside the deadband (crossing `above`), then below clearBelow
  const hoverTag = `${proc}/${hover}/${tempName}`;
  const hoverUp = onDelay + rng.int(5, 300) * 1000;
  const hoverIn = rng.int(10, 60) * MIN;
  const step = Math.max(1000, Math.min(every, Math.floor(onDelay / 3)));
  for (let x = tHover; x < tHover + hoverUp; x += step) tl.signal(x, hoverTag, round(above + rng.float(0.3, 4), 2), plc);
  for (let x = tHover + hoverUp; x < tHover + hoverUp + hoverIn; x += every) tl.signal(x, hoverTag, round(above + rng.float(-0.8, 0.8) * db, 2), plc);
  const hoverEnd = tHover + hoverUp + hoverIn;
  tl.signal(hoverEnd, hoverTag, round(above - db - rng.float(0.5, 3), 2), plc);
  telemetry(tl, rng, { tag: hoverTag, source: plc, from: T0, to: T1, every, value: base(), skip: [[tHover - 1000, hoverEnd + 1000]] });

  // spikes shorter than the on-delay
  const spikeTag = `${proc}/${spiky}/${tempName}`;
  const spikes: [number, number][] = [];
  const nSpikes = rng.int(3, 8);
  const sStep = Math.max(1000, Math.floor(onDelay / 5));
  for (let i = 0; i < nSpikes; i++) {
    const at = T0 + Math.round(((i + rng.float(0.2, 0.8)) * (T1 - T0)) / nSpikes);
    const m = rng.int(1, Math.max(1, Math.floor((0.8 * onDelay) / sStep)));
    for (let k = 0; k < m; k++) tl.signal(at + k * sStep, spikeTag, round(above + rng.float(0.5, 30), 2), plc);
    tl.signal(at + m * sStep, spikeTag, round(above - margin + rng.float(-1, 1), 2), plc);
    spikes.push([at - 1000, at + m * sStep + 1000]);
  }
  telemetry(tl, rng, { tag: spikeTag, source: plc, from: T0, to: T1, every, value: base(), skip: spikes });

  // bad / uncertain readings far beyond the threshold, for much longer than the on-delay
  const flakyTag = `${proc}/${flaky}/${tempName}`;
  const badFor = onDelay * rng.int(2, 10) + rng.int(1, 20) * MIN;
  for (let x = tBad; x < tBad + badFor; x += every)
    tl.signal(x, flakyTag, round(rng.pick([above + rng.float(5, 200), 999.9, 3276.7]), 1), plc, { quality: rng.pick(['bad', 'uncertain']) });
  telemetry(tl, rng, { tag: flakyTag, source: plc, from: T0, to: T1, every, value: base(), skip: [[tBad - 1000, tBad + badFor]] });

  const garbage = rng.int(0, 5);
  const lines = tl.lines(rng, garbage);
  const config = `gateway:
  id: ${gatewayId}
  timezone: ${tz}
${prioritiesYaml(sla, {})}assets:
  ${tank}: { area: ${svc}, tags: [${q(`${svc}/${tank}/**`)}] }
  ${plain}: { area: ${proc}, tags: [${q(`${proc}/${plain}/**`)}] }
  ${hover}: { area: ${proc}, tags: [${q(`${proc}/${hover}/**`)}] }
  ${spiky}: { area: ${proc}, tags: [${q(`${proc}/${spiky}/**`)}] }
  ${flaky}: { area: ${proc}, tags: [${q(`${proc}/${flaky}/**`)}] }
rules:
  - { id: level, when: { tag: ${q(`${svc}/*/${alarmSeg}/**`)}, equals: true }, fault: ${levelFault}, category: process, priority: ${rng.pick(['P2', 'P3'])} }
  - { id: alarms, when: { tag: ${q(`${proc}/*/${alarmSeg}/**`)}, equals: true }, fault: ${alarmFault}, category: hardware, priority: ${rng.pick(['P1', 'P2'])} }
  - { id: hot, when: { tag: ${q(`**/${tempName}`)}, above: ${above}, for: ${spell(rng, onDelay)}, clearBelow: ${above - db} }, fault: ${tempFault}, category: process, priority: P2 }
correlation:
  chatter: { count: ${chatterCount}, within: ${spell(rng, chatterWithin)} }
  flood: { count: ${rng.int(5, 12)}, within: ${rng.pick(['5m', '10m'])}, per: area }
  recurrence: { count: ${recCount}, within: ${rng.int(1, 30)}d }
routing:
  - { match: {}, assign: maint-${proc} }
`;
  const expected: Expected = {
    description: `noise seed ${seed}: ${tank} chatters ${M}x (count ${chatterCount} within ${dur(chatterWithin)}); ${spiky} spikes under the ${dur(onDelay)} on-delay; ${hover} hovers in the ${db}-unit deadband; ${flaky} reads bad`,
    tickets: [
      { where: { asset: tank, fault: levelFault }, count: 1, expect: { occurrences: M, flags: { contains: ['chattering'], lacks: ['recurring'] } } },
      { where: { asset: hover, fault: tempFault }, count: 1, expect: { occurrences: 1, condition: 'cleared' } },
      { where: { asset: spiky }, count: 0 },
      { where: { asset: flaky }, count: 0 },
      { where: { asset: plain, fault: alarmFault }, count: 1, expect: { occurrences: r, flags: lacks('chattering', 'recurring') } },
    ],
    total: 3,
  };
  const params = {
    tz,
    chatter: { count: chatterCount, within: chatterWithin },
    M,
    gapMax,
    above,
    deadband: db,
    onDelay,
    nSpikes,
    hoverUp,
    hoverIn,
    badFor,
    r,
    recCount,
    badBit,
    numericBits,
    lines: lines.length,
  };
  return { family: 'noise', seed, params, config, lines, expected, summary: { rejected: garbage, refused: 0 } };
}

// ---------------------------------------------------------------- 5: silence

function silence(seed: number, opts: Options): Variant {
  const rng = new Rng(seed * 1_000_003 + FAMILIES.indexOf('silence'));
  const names = new Names(rng);
  const tz = opts.timezone ?? rng.pick(TIMEZONES);
  const gatewayId = names.id(rng.pick(['plant', 'site', 'works']));
  const proc = names.processArea();
  const svc = names.serviceArea();
  const stuckName = rng.pick(['temperature', 'temp', 'level', 'pt100']);
  const commsFault = rng.pick(['comms-lost', 'no-data', 'link-down']);
  const stuckFault = rng.pick(['sensor-stuck', 'frozen-value', 'flatline']);
  const commsPriority: P = rng.pick(['P1', 'P2'] as const);
  const stuckPriority: P = rng.pick(['P2', 'P3'] as const);
  const sla = slas(rng);

  const U = rng.pick([15, 20, 30, 45, 60, 90, 120, 180, 240]) * MIN;
  const S = rng.pick([10, 15, 20, 30, 45, 60, 120, 300, 600].filter((s) => s * 1000 >= (3 * U) / 500)) * 1000;
  const T = Math.max(Math.round(U * rng.float(2.2, 3)), 30 * S);
  const d = addDays(rng.int(2025, 2027), 1, 1, rng.int(0, 360));
  const T0 = zonedToUtc(tz, d.year, d.month, d.day, rng.int(0, 1439));
  const T1 = T0 + T;
  const tl = new Timeline();

  interface Src {
    id: string;
    tags: { tag: string; value: (t: number) => number; decimals: number }[];
    every: number;
    gaps: { at: number; length: number; done?: boolean }[];
  }
  const meterAsset = names.machine(rng.pick(['feeder', 'mcc', 'meter']));
  const silent: Src = {
    id: names.id(rng.pick(['power-meter', 'pm', 'energy-gw'])),
    tags: [
      { tag: `${svc}/${meterAsset}/power`, value: wander(rng, rng.int(50, 900), rng.float(1, 10)), decimals: 1 },
      { tag: `${svc}/${meterAsset}/current`, value: wander(rng, rng.int(20, 400), rng.float(0.5, 5)), decimals: 1 },
    ],
    every: 0,
    gaps: [],
  };
  const blipAsset = names.machine();
  const blip: Src = {
    id: names.id(rng.pick(['plc', 'line-plc', 'cell'])),
    tags: [{ tag: `${proc}/${blipAsset}/${stuckName}`, value: wander(rng, rng.int(20, 90), rng.float(0.3, 1)), decimals: 2 }],
    every: 0,
    gaps: [],
  };
  const frozenAsset = names.machine(rng.pick(['boiler', 'tank', 'reactor', 'kettle']));
  const frozenTag = `${svc}/${frozenAsset}/${stuckName}`;
  const steady: Src[] = Array.from({ length: rng.int(1, 3) }, () => {
    const a = names.machine();
    return {
      id: names.id(rng.pick(['rtu', 'io', 'gw', 'scada'])),
      tags: [{ tag: `${proc}/${a}/${stuckName}`, value: wander(rng, rng.int(20, 90), rng.float(0.3, 1)), decimals: 2 }],
      every: 0,
      gaps: [],
    };
  });
  const host = steady[0] as Src;
  host.tags.push({ tag: frozenTag, value: wander(rng, rng.int(40, 120), rng.float(0.3, 1)), decimals: 2 });
  const all = [silent, blip, ...steady];
  for (const s of all) s.every = Math.max(1000, Math.round(S * rng.float(1 / 6, 1 / 3)));

  // silences: one (or two) longer than silentFor on `silent`; a blip shorter than it on `blip`
  const longSilences = rng.chance(0.3) ? 2 : 1;
  const slot = T / longSilences;
  for (let i = 0; i < longSilences; i++) {
    const length = Math.min(Math.round(S * rng.float(1.5, 8)) + rng.int(0, 20) * MIN, Math.round(0.5 * slot));
    silent.gaps.push({ at: T0 + Math.round((i + rng.float(0.1, 0.4)) * slot), length });
  }
  blip.gaps.push({ at: T0 + Math.round(rng.float(0.2, 0.8) * T), length: Math.round(S * rng.float(0.5, 0.8)) });
  for (const s of all) {
    let t = T0 + rng.int(0, s.every);
    while (t < T1) {
      for (const x of s.tags) if (x.tag !== frozenTag) tl.signal(t, x.tag, round(x.value(t), x.decimals), s.id);
      const gap = s.gaps.find((g) => !g.done && t >= g.at);
      if (gap) gap.done = true;
      t += gap ? gap.length : Math.round(s.every * rng.float(0.9, 1.1));
    }
  }
  // the frozen sensor: live, then the same value for longer than unchangedFor, then live again
  const freezeAt = T0 + Math.round(rng.float(0.05, 0.15) * T);
  const freezeFor = Math.round(U * rng.float(1.2, 1.6));
  const frozenValue = round(rng.float(40, 120), 1);
  for (let t = T0 + rng.int(0, host.every); t < T1; t += Math.round(host.every * rng.float(0.9, 1.1))) {
    const v = t >= freezeAt && t < freezeAt + freezeFor ? frozenValue : round((host.tags[1] as Src['tags'][number]).value(t), 2);
    tl.signal(t, frozenTag, v, host.id);
  }

  const garbage = rng.int(0, 5);
  const lines = tl.lines(rng, garbage);
  const config = `gateway:
  id: ${gatewayId}
  timezone: ${tz}
${prioritiesYaml(sla, {})}assets:
  ${meterAsset}: { area: ${svc}, tags: [${q(`${svc}/${meterAsset}/**`)}] }
  ${frozenAsset}: { area: ${svc}, tags: [${q(`${svc}/${frozenAsset}/**`)}] }
rules:
  - { id: comms, when: { source: "*", silentFor: ${spell(rng, S)} }, fault: ${commsFault}, category: network, priority: ${commsPriority} }
  - { id: stuck, when: { tag: ${q(`**/${stuckName}`)}, unchangedFor: ${spell(rng, U)} }, fault: ${stuckFault}, category: instrumentation, priority: ${stuckPriority} }
correlation:
  chatter: { count: ${rng.int(3, 8)}, within: ${rng.pick(['30s', '60s', '2m'])} }
  flood: { count: ${rng.int(5, 12)}, within: 10m, per: area }
  recurrence: { count: 3, within: ${rng.int(2, 30)}d }
routing:
  - { match: { category: network }, assign: ot-network }
  - { match: {}, assign: instrumentation }
`;
  const tickets: TicketSpec[] = [
    {
      where: { asset: silent.id, fault: commsFault },
      count: 1,
      expect: { occurrences: longSilences, condition: 'cleared', priority: commsPriority, assignedGroup: 'ot-network' },
    },
    { where: { asset: blip.id, fault: commsFault }, count: 0 },
    ...steady.map((s) => ({ where: { asset: s.id }, count: 0 })),
    {
      where: { asset: frozenAsset, fault: stuckFault },
      count: 1,
      expect: { priority: stuckPriority, occurrences: 1, condition: 'cleared', 'evidence[0].value': frozenValue },
    },
  ];
  const expected: Expected = {
    description: `silence seed ${seed}: ${silent.id} silent ${longSilences}x beyond ${dur(S)}; ${blip.id} blips under it; ${frozenTag} frozen at ${frozenValue} for ${Math.round(freezeFor / MIN)} min (> ${dur(U)})`,
    tickets,
    total: 2,
  };
  const params = {
    tz,
    silentFor: S,
    unchangedFor: U,
    hours: round(T / HOUR, 1),
    silences: silent.gaps.map((g) => Math.round(g.length / 1000)),
    blip: Math.round((blip.gaps[0]?.length ?? 0) / 1000),
    every: Object.fromEntries(all.map((s) => [s.id, s.every])),
    freezeForMin: Math.round(freezeFor / MIN),
    lines: lines.length,
  };
  return { family: 'silence', seed, params, config, lines, expected, summary: { rejected: garbage, refused: 0 } };
}

// ---------------------------------------------------------------- 6: lifecycle

function lifecycle(seed: number, opts: Options): Variant {
  const rng = new Rng(seed * 1_000_003 + FAMILIES.indexOf('lifecycle'));
  const names = new Names(rng);
  const tz = opts.timezone ?? rng.pick(TIMEZONES);
  const gatewayId = names.id(rng.pick(['plant', 'site', 'works']));
  const area = names.processArea();
  const m1 = names.machine();
  const m2 = names.machine();
  const alarmSeg = rng.pick(['alarm', 'alm', 'fault']);
  const fault = rng.pick(['alarm-stop', 'seal-leak', 'drive-fault', 'trip']);
  const priority: P = rng.pick(['P1', 'P2', 'P3'] as const);
  const recCount = rng.int(2, 4);
  const recWithin = rng.pick([2, 3, 7, 10, 14, 30]) * DAY;
  const plc = names.id(rng.pick(['plc', 'mes']));
  const tech = names.person();
  const fitter = names.person();
  const sla = slas(rng);
  const part = `${rng.pick(['SR', 'BRG', 'VLV', 'MTR'])}-${rng.int(100, 999)}-${rng.pick(['A', 'B', 'V', 'X'])}`;
  const resolution = `replaced ${rng.pick(['shaft seal', 'bearing', 'valve seat', 'drive belt', 'encoder'])} ${part}`;
  const rootCause = `${rng.pick(['worn after', 'fatigue after', 'contamination after'])} ${rng.int(2, 20) * 1000} h`;
  const checklist = { customerInformed: true, partsRecorded: true, knowledgeBaseChecked: true };

  const tl = new Timeline();
  const d = addDays(rng.int(2025, 2027), 1, 1, rng.int(0, 300));
  const T0 = zonedToUtc(tz, d.year, d.month, d.day, rng.int(0, 1439) + rng.float(0, 1));
  const tag1 = `${area}/${m1}/${alarmSeg}/${names.code()}`;
  tl.signal(T0, tag1, true, plc, { message: 'seal leak' });
  tl.signal(T0 + rng.int(2, 30) * MIN, tag1, false, plc);

  const key = `${m1}/${fault}`;
  let t = T0 + rng.int(5, 60) * MIN;
  let refused = 0;
  const tried: string[] = [];
  const step = (min: number, max: number) => (t += rng.int(min, max) * MIN + rng.int(0, 59_000));
  const legal = (action: string, by: string, fields: Record<string, Check> = {}) => {
    step(1, 90);
    tl.action(t, action, key, by, fields as Record<string, never>);
  };
  const illegal = (p: number, what: string, action: string, fields: Record<string, Check> = {}, target = key) => {
    if (!rng.chance(p)) return;
    step(1, 20);
    tl.action(t, action, target, rng.pick([tech, fitter]), fields as Record<string, never>);
    refused++;
    tried.push(what);
  };
  illegal(0.5, 'start while open', 'start');
  illegal(0.4, 'close while open', 'close', { checklist });
  legal('ack', tech);
  illegal(0.4, 'ack twice', 'ack');
  illegal(0.5, 'resolve without rootCause', 'resolve', { resolution });
  const assigned = rng.chance(0.5);
  if (assigned) legal('assign', tech, { assignee: fitter });
  legal('start', fitter);
  illegal(0.6, 'wait for parts without partNumber and eta', 'wait', { reason: 'parts' });
  illegal(0.3, 'wait for an unknown reason', 'wait', { reason: 'lunch' });
  illegal(0.3, 'close while in progress', 'close', { checklist });
  const eta = new Date(t + rng.int(1, 6) * DAY).toISOString();
  legal('wait', fitter, { reason: 'parts', partNumber: part, eta });
  illegal(0.4, 'resolve while waiting', 'resolve', { resolution, rootCause });
  illegal(0.3, 'start while waiting', 'start');
  step(rng.int(1, 5) * 24 * 60, rng.int(5, 7) * 24 * 60);
  legal('resume', fitter);
  // sometimes the first fix does not hold: resolved, reopened, resolved again
  const reopened = rng.chance(0.35);
  if (reopened) {
    legal('resolve', fitter, { resolution: 'tightened gland nut', rootCause: 'loose gland' });
    step(60, 48 * 60);
    legal('reopen', tech, { reason: 'leaking again' });
  }
  legal('resolve', fitter, { resolution, rootCause });
  illegal(0.5, 'close with a checklist item unconfirmed', 'close', { checklist: { ...checklist, [rng.pick(Object.keys(checklist))]: false } });
  illegal(0.3, 'resume while resolved', 'resume');
  step(60, 24 * 60);
  legal('close', tech, { checklist });
  illegal(0.4, 'ack a closed ticket', 'ack');
  illegal(0.4, 'ack an unknown key', 'ack', {}, `${names.machine()}/${fault}`);

  // The same fault again, after the recurrence window: a new ticket that offers the resolved one.
  const tAgain = Math.max(t, T0 + recWithin) + rng.int(1, 60) * DAY + rng.int(0, 1439) * MIN;
  tl.signal(tAgain, tag1, true, plc, { message: 'seal leak' });
  tl.signal(tAgain + rng.int(2, 30) * MIN, tag1, false, plc);
  const tag2 = `${area}/${m2}/${alarmSeg}/${names.code()}`;
  const tOther = tAgain + rng.int(-600, 600) * MIN;
  tl.signal(tOther, tag2, true, plc);
  tl.signal(tOther + rng.int(2, 30) * MIN, tag2, false, plc);

  const garbage = rng.int(0, 4);
  const lines = tl.lines(rng, garbage);
  const config = `gateway:
  id: ${gatewayId}
  timezone: ${tz}
${prioritiesYaml(sla, {})}assets:
  ${m1}: { area: ${area}, tags: [${q(`${area}/${m1}/**`)}] }
  ${m2}: { area: ${area}, tags: [${q(`${area}/${m2}/**`)}] }
rules:
  - { id: alarms, when: { tag: ${q(`${area}/*/${alarmSeg}/**`)}, equals: true }, fault: ${fault}, category: hardware, priority: ${priority} }
correlation:
  chatter: { count: ${rng.int(3, 8)}, within: ${rng.pick(['30s', '60s', '2m'])} }
  flood: { count: 10, within: 10m, per: area }
  recurrence: { count: ${recCount}, within: ${spell(rng, recWithin)} }
routing:
  - { match: {}, assign: maint-${area} }
`;
  const closedExpect: Record<string, Check> = {
    resolution,
    rootCause,
    wait: null,
    'checklist.partsRecorded': true,
    history: {
      actionsInOrder: ['opened', 'ack', 'start', 'wait', 'resume', ...(reopened ? ['resolve', 'reopen'] : []), 'resolve', 'close'],
      actionCount: { ack: 1, start: 1, wait: 1, resume: 1, resolve: reopened ? 2 : 1, reopen: reopened ? 1 : 0, close: 1 },
    },
  };
  if (assigned) closedExpect.assignee = fitter;
  const expected: Expected = {
    description: `lifecycle seed ${seed}: ${key} through ack, start, wait (${part}), resume, resolve, close; ${refused} illegal actions refused; the fault again ${Math.round((tAgain - T0) / DAY)} days later offers the resolved ticket`,
    tickets: [
      { where: { asset: m1, fault, state: 'closed' }, count: 1, expect: closedExpect },
      {
        where: { asset: m1, fault, state: 'open' },
        count: 1,
        expect: { occurrences: 1, similar: { first: { resolution, rootCause } }, flags: lacks('recurring') },
      },
      { where: { asset: m2, fault }, count: 1, expect: { similar: { some: { resolution } } } },
    ],
    total: 3,
  };
  const params = {
    tz,
    priority,
    recurrence: { count: recCount, withinDays: recWithin / DAY },
    againAfterDays: round((tAgain - T0) / DAY, 1),
    refused,
    tried,
    assigned,
    reopened,
    lines: lines.length,
  };
  return { family: 'lifecycle', seed, params, config, lines, expected, summary: { rejected: garbage, refused } };
}

// ---------------------------------------------------------------- CLI

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const [family, seedText, dir] = process.argv.slice(2);
  if (!family || !(FAMILIES as readonly string[]).includes(family) || !seedText || !dir) {
    console.error(`usage: node --import tsx test/variants/generate.ts <${FAMILIES.join('|')}> <seed> <dir>`);
    process.exit(2);
  }
  const v = generate(family as Family, Number(seedText));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.yaml'), v.config);
  writeFileSync(join(dir, 'signals.jsonl'), v.lines.join('\n') + '\n');
  writeFileSync(join(dir, 'expected.json'), JSON.stringify(v.expected, null, 2) + '\n');
  writeFileSync(join(dir, 'params.json'), JSON.stringify(v.params, null, 2) + '\n');
  console.log(`${family} seed ${seedText}: ${v.lines.length} lines -> ${dir}`);
}
