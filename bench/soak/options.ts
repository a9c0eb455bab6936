/**
 * The soak's command line: durations as in the config (`90s`, `3m`, `1h`), counts
 * as numbers. Everything the load child needs travels to it as one JSON argument.
 */
import { parseArgs } from 'node:util';
import { parseDuration } from '../../config/duration.ts';

export interface SoakOptions {
  durationMs: number;
  tags: number;
  clients: number;
  /** Telemetry messages per second (all analog tags in turn). */
  rate: number;
  /** Normal alarm raises per second, plant-wide (each cleared 5–60 s later). */
  alarmRate: number;
  burstEveryMs: number;
  /** Alarm raises in one burst, all in one area within a few seconds. */
  burstSize: number;
  /** One bad input (HTTP or MQTT, in turn) every this often. */
  badEveryMs: number;
  poison: boolean;
  outageStartMs: number;
  outageMs: number;
  /** /metrics scrape period (points of the chart). */
  sampleMs: number;
  /** After the load: how long the outbox may take to drain. */
  drainTimeoutMs: number;
  seed: number;
  keep: boolean;
}

const HELP = `npm run bench:soak -- [options]
  --duration 60m      how long the load runs
  --tags 10000        tags (8 analog + 2 alarm per asset, 20 areas)
  --clients 50        board clients reading GET /api/v1/events
  --rate 1000         telemetry messages/s over MQTT
  --alarm-rate 1      normal alarm raises/s (cleared 5-60 s later)
  --burst-every 5m    an area floods every this often ...
  --burst-size 200    ... with this many alarm raises within seconds
  --bad-every 2s      one bad input (HTTP and MQTT in turn) every this often
  --no-poison         leave out the poison timestamps (1e300, -1, "garbage", far future)
  --outage-start <d>  central goes down at (default: 1/3 of the run) ...
  --outage <d>        ... for this long (default: 1/6 of the run, 10m of 60m)
  --sample 10s        /metrics scrape period
  --drain-timeout 5m  after the load, how long the outbox may take to empty
  --seed 11           random seed of the load
  --keep              keep the temp dir (config, andon.log, andon.sqlite)`;

export function soakOptions(argv = process.argv.slice(2)): SoakOptions {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string', default: '60m' },
      tags: { type: 'string', default: '10000' },
      clients: { type: 'string', default: '50' },
      rate: { type: 'string', default: '1000' },
      'alarm-rate': { type: 'string', default: '1' },
      'burst-every': { type: 'string', default: '5m' },
      'burst-size': { type: 'string', default: '200' },
      'bad-every': { type: 'string', default: '2s' },
      'no-poison': { type: 'boolean', default: false },
      'outage-start': { type: 'string' },
      outage: { type: 'string' },
      sample: { type: 'string', default: '10s' },
      'drain-timeout': { type: 'string', default: '5m' },
      seed: { type: 'string', default: '11' },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (v.help) {
    console.log(HELP);
    process.exit(0);
  }
  const ms = (name: string, text: string): number => {
    const n = parseDuration(text);
    if (n === undefined) throw new Error(`--${name} ${text}: not a duration (90s, 3m, 1h)`);
    return n;
  };
  const num = (name: string, text: string, min: number): number => {
    const n = Number(text);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name} ${text}: a number >= ${min}`);
    return n;
  };
  const durationMs = ms('duration', v.duration);
  return {
    durationMs,
    tags: num('tags', v.tags, 200),
    clients: num('clients', v.clients, 1),
    rate: num('rate', v.rate, 0),
    alarmRate: num('alarm-rate', v['alarm-rate'], 0),
    burstEveryMs: ms('burst-every', v['burst-every']),
    burstSize: num('burst-size', v['burst-size'], 0),
    badEveryMs: ms('bad-every', v['bad-every']),
    poison: !v['no-poison'],
    outageStartMs: v['outage-start'] ? ms('outage-start', v['outage-start']) : Math.round(durationMs / 3),
    outageMs: v.outage ? ms('outage', v.outage) : Math.round(durationMs / 6),
    sampleMs: ms('sample', v.sample),
    drainTimeoutMs: ms('drain-timeout', v['drain-timeout']),
    seed: num('seed', v.seed, 0),
    keep: v.keep,
  };
}
