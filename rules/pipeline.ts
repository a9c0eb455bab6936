import { merge, share, type Observable, type OperatorFunction, type SchedulerLike } from 'rxjs';
import type { AndonConfig } from '../config/schema.ts';
import { LeanSubject } from '../model/subject.ts';
import { assetResolver, resolveAssets } from './assets.ts';
import { chatter } from './chatter.ts';
import { causes } from './causes.ts';
import { classifier, classify, route } from './classify.ts';
import { conditions } from './condition.ts';
import type { RuleHit } from './hit.ts';
import { flood, type FloodOptions } from './flood.ts';
import { goodQuality } from './quality.ts';
import { recurrence } from './recurrence.ts';
import { silence } from './silence.ts';
import { stuck } from './stuck.ts';
import type { Signal, TicketCommand } from './types.ts';

export interface PipelineContext {
  config: AndonConfig;
  /** Time for every timer (on-delay, silentFor, unchangedFor): virtual in replay and tests. */
  scheduler: SchedulerLike;
  /** Source ids to watch for silence from the start, even before they send anything. */
  expectedSources?: string[];
  /** Raises from the store's history (oldest first), so recurrence and causes survive restarts. */
  history?: { key: string; asset: string | null; fault: string; at: number }[];
  /** Floods still active at the last stop (from the store's live flood tickets). */
  activeFloods?: FloodOptions['active'];
  /**
   * The config in use now, for what is read at each detection (routing, priority raises): a config
   * reload changes those without rebuilding the pipeline. Default `config`.
   */
  current?: () => Pick<AndonConfig, 'routing' | 'priorities'>;
}

/**
 * The rule pipeline, top to bottom: the one place where the stages are ordered.
 *
 *   signals ─ assets ─┬─ quality ─ conditions (equals/above/below, on-delay, deadband) ─┐
 *                     ├─ stuck (unchangedFor) ──────────────────────────────────────────┤
 *                     └─ silence (silentFor) ────────────────────────────────────────────┤
 *      ─ classify ─ chatter ─ flood ─ recurrence ─ causes ─> commands
 */
export function rulePipeline(ctx: PipelineContext): OperatorFunction<Signal, TicketCommand> {
  const { config, scheduler } = ctx;
  const assets = assetResolver(config.assets);
  const current = ctx.current ?? (() => config);
  return (signals: Observable<Signal>) => {
    const readings = signals.pipe(resolveAssets(assets), share({ connector: () => new LeanSubject() }));
    const hits: Observable<RuleHit> = merge(
      readings.pipe(goodQuality(), conditions(config.rules, scheduler, assets)),
      readings.pipe(stuck(config.rules, scheduler)),
      readings.pipe(silence(config.rules, scheduler, ctx.expectedSources)),
    );
    const { chatter: chatterCfg, flood: floodCfg, recurrence: recurrenceCfg } = config.correlation;
    const history = ctx.history ?? [];
    return hits.pipe(
      classify(classifier(current, (name) => assets.byName(name))),
      chatter(chatterCfg),
      flood(
        {
          count: floodCfg.count,
          within: floodCfg.within,
          active: ctx.activeFloods ?? [],
          routeOf: (f) => {
            const r = route(current().routing, { ...f, asset: null });
            return { assignedGroup: r?.assign ?? null, notify: r?.notify ?? [] };
          },
        },
        scheduler,
      ),
      recurrence({ ...recurrenceCfg, episodeGap: chatterCfg.within, timezone: config.gateway.timezone, history }),
      causes({
        configured: config.correlation.causes,
        discover: config.correlation.discoverCauses,
        horizon: recurrenceCfg.within,
        episodeGap: chatterCfg.within,
        history,
      }),
    );
  };
}
