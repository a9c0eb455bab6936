/**
 * What the soak observes while it runs, and how it prints it: /metrics samples
 * of the gateway, signal→ticket latencies, one line per minute.
 */
import { get, metric } from '../ingest/proc.ts';

export interface Sample {
  /** Minutes since the load started. */
  min: number;
  rssMiB: number;
  heapMiB: number;
  lagP99Ms: number;
  outbox: number;
  cpuPct: number;
  /** andon_signals_total, all sources: accepted signals so far. */
  signals: number;
}

/** One scrape of the gateway's /metrics; undefined when it does not answer within 5 s. */
export async function scrape(url: string): Promise<string | undefined> {
  return get(`${url}/metrics`, 5_000);
}

export function sampleOf(text: string, min: number, cpuPct: number): Sample {
  return {
    min,
    rssMiB: metric(text, 'process_resident_memory_bytes') / 1048576,
    heapMiB: metric(text, 'nodejs_heap_size_used_bytes') / 1048576,
    // prom-client resets its event-loop histogram at every scrape: this is the p99 since the last one.
    lagP99Ms: metric(text, 'nodejs_eventloop_lag_p99_seconds') * 1000,
    outbox: metric(text, 'andon_outbox_pending'),
    cpuPct,
    signals: metric(text, 'andon_signals_total'),
  };
}

/** Every sample of a counter, by its label set: `{source="plant-mqtt",reason="malformed"} 3`. */
export function series(text: string, name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{')) continue;
    const sp = line.lastIndexOf(' ');
    out.set(line.slice(name.length, sp), Number(line.slice(sp + 1)));
  }
  return out;
}

/** Nearest-rank percentile (NaN for none). */
export function pct(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] as number;
}

export const fmt = (n: number, d = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : '–');
export const ms = (n: number) => (Number.isFinite(n) ? (n >= 10_000 ? `${fmt(n / 1000, 1)} s` : `${fmt(n, n < 10 ? 1 : 0)} ms`) : '–');

export interface MinuteView {
  min: number;
  samples: Sample[];
  latencies: number[];
  alarms: number;
  telemetry: number;
  /** Signals the gateway accepted per second over the minute. */
  accepted: number;
  bad: number;
  /** Raises sent but not yet seen on the board: how many, and the oldest one's age. */
  unseen: number;
  oldestUnseenMs: number;
  goodRefused: number;
  centralUp: boolean;
  board: { connected: number; clients: number; cuts: number };
}

/** One line per minute: the worst of the minute's samples, the minute's latencies. */
export function minuteLine(v: MinuteView): string {
  const last = v.samples.at(-1);
  const max = (f: (s: Sample) => number) => (v.samples.length ? Math.max(...v.samples.map(f)) : NaN);
  return [
    `[${fmt(v.min, 1).padStart(5)} min]`,
    `rss ${fmt(last?.rssMiB ?? NaN)} MiB (heap ${fmt(last?.heapMiB ?? NaN)})`,
    `cpu ${fmt(max((s) => s.cpuPct))} %`,
    `lag p99 ${ms(max((s) => s.lagP99Ms))}`,
    `signal→ticket p50 ${ms(pct(v.latencies, 0.5))} p99 ${ms(pct(v.latencies, 0.99))} (n ${v.latencies.length})`,
    `sent: ${fmt(v.telemetry)} telemetry, ${fmt(v.alarms)} alarms, ${v.bad} bad; gateway took ${fmt(v.accepted)}/s`,
    `unseen ${v.unseen}${v.unseen ? ` (oldest ${ms(v.oldestUnseenMs)})` : ''}`,
    v.goodRefused ? `GOOD SIGNALS REFUSED ${v.goodRefused}` : '',
    `outbox ${fmt(last?.outbox ?? NaN)}`,
    `central ${v.centralUp ? 'up' : 'DOWN'}`,
    `board ${v.board.connected}/${v.board.clients} (cuts ${v.board.cuts})`,
    v.samples.length === 0 ? 'METRICS UNANSWERED' : '',
  ]
    .filter((s) => s !== '')
    .join('  ');
}
