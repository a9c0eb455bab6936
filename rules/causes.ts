import { defer, map, type MonoTypeOperatorFunction } from 'rxjs';
import { EpisodeLog } from './episodes.ts';
import { matches, type TicketMatch } from './match.ts';
import type { Cause, DetectCommand, TicketCommand } from './types.ts';

export interface CausesOptions {
  /** Known links: detections of `cause` within `within` before an `effect` are its cause. */
  configured: { effect: string; cause: string; within: number; match?: TicketMatch }[];
  /** Find links nobody configured: a detection on another asset preceding at least `minSupport` episodes. */
  discover?: { within: number; minSupport: number } | undefined;
  /** How far back episodes count (the recurrence window). */
  horizon: number;
  /** Raises closer than this are one episode (the chatter window). */
  episodeGap: number;
  history?: { key: string; asset: string | null; fault: string; at: number }[];
}

/** A discovered cause must precede at least this share of the effect's episodes... */
const MIN_RATIO = 0.5;
/** ...and do so this many times more often than chance would (base-rate guard). */
const MIN_LIFT = 3;

interface Candidate {
  key: string;
  asset: string | null;
  fault: string;
  leads: number[];
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

/**
 * Probable causes: for each detection, which other detections precede its
 * episodes within a window. Configured links count from one occurrence;
 * discovered ones need `minSupport` episodes, half of the effect's episodes,
 * and must beat the base rate: something that fires all the time precedes
 * everything by chance and is no cause. Ranked by support ratio. A configured
 * link with a `match` (area, line, asset) applies only to the effect tickets it fits.
 *
 *   within: 2m   feeder-3 sag   --S--------S--------S------
 *                sealer stop    ---E(+1m)---E(+1m)---E{causes: sag 3/3, lead 60s}
 */
export function causes(opts: CausesOptions): MonoTypeOperatorFunction<TicketCommand> {
  const windows = [...opts.configured.map((c) => c.within), opts.discover?.within ?? 0];
  const longest = Math.max(...windows);
  return (commands) =>
    defer(() => {
      if (opts.configured.length === 0 && !opts.discover) return commands;
      const log = new EpisodeLog(opts.episodeGap, opts.horizon + longest);
      for (const h of opts.history ?? []) log.add(h.key, h.asset, h.fault, h.at);
      let firstSeen = opts.history?.[0]?.at ?? Number.NaN;

      /** Other keys' episode starts in [t - within, t), with the lead of the latest one. */
      const preceding = (t: number, within: number, self: string, found: Map<string, Candidate>, accept: (e: { key: string; fault: string; asset: string | null }) => boolean) => {
        const seen = new Set<string>();
        for (let i = log.indexAt(t) - 1; i >= 0; i--) {
          const e = log.timeline[i] as (typeof log.timeline)[number];
          if (t - e.at > within) break;
          if (e.at >= t || e.key === self || seen.has(e.key) || !accept(e)) continue;
          seen.add(e.key);
          let c = found.get(e.key);
          if (!c) {
            c = { key: e.key, asset: e.asset, fault: e.fault, leads: [] };
            found.set(e.key, c);
          }
          c.leads.push(t - e.at);
        }
      };

      const annotate = (cmd: DetectCommand): Cause[] | undefined => {
        const episodes = log.of(cmd.key, cmd.at, opts.horizon);
        const result: (Cause & { lift: number })[] = [];
        const taken = new Set<string>();
        // A link scoped by `match` (areas, lines, assets) names its cause only on the effect tickets it fits.
        for (const link of opts.configured.filter((c) => c.effect === cmd.fault && (c.match === undefined || matches(c.match, cmd)))) {
          const found = new Map<string, Candidate>();
          for (const t of episodes) preceding(t, link.within, cmd.key, found, (e) => e.fault === link.cause);
          for (const c of found.values()) {
            taken.add(c.key);
            result.push({ fault: c.fault, asset: c.asset, support: c.leads.length, of: episodes.length, leadSeconds: Math.round(median(c.leads) / 1000), maxLeadSeconds: Math.round(Math.max(...c.leads) / 1000), source: 'configured', lift: Infinity });
          }
        }
        const d = opts.discover;
        if (d && episodes.length >= d.minSupport) {
          const found = new Map<string, Candidate>();
          for (const t of episodes) preceding(t, d.within, cmd.key, found, (e) => e.asset !== cmd.asset && !taken.has(e.key));
          // The time over which c's episodes are counted: since the first raise, but
          // no longer than the counting window, or a long run dilutes the base rate.
          const span = Math.max(Math.min(cmd.at - firstSeen, opts.horizon + d.within), d.within);
          for (const c of found.values()) {
            const support = c.leads.length;
            if (support < d.minSupport || support / episodes.length < MIN_RATIO) continue;
            // Chance that a random moment has an episode of c in the `within` before it.
            const baseRate = Math.min(1, (log.of(c.key, cmd.at, opts.horizon + d.within).length * d.within) / span);
            const lift = support / episodes.length / Math.max(baseRate, 1e-9);
            if (lift < MIN_LIFT) continue;
            result.push({ fault: c.fault, asset: c.asset, support, of: episodes.length, leadSeconds: Math.round(median(c.leads) / 1000), maxLeadSeconds: Math.round(Math.max(...c.leads) / 1000), source: 'discovered', lift });
          }
        }
        if (result.length === 0) return undefined;
        result.sort((a, b) => b.support / b.of - a.support / a.of || b.lift - a.lift || a.leadSeconds - b.leadSeconds);
        return result.map(({ lift: _lift, ...c }) => c);
      };

      return commands.pipe(
        map((cmd) => {
          if (cmd.type !== 'detect') return cmd;
          if (Number.isNaN(firstSeen)) firstSeen = cmd.at;
          log.add(cmd.key, cmd.asset, cmd.fault, cmd.at);
          const found = annotate(cmd);
          return found ? { ...cmd, causes: found } : cmd;
        }),
      );
    });
}
