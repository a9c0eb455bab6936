import { map, type OperatorFunction } from 'rxjs';
import type { AndonConfig, RuleConfig } from '../config/schema.ts';
import type { Priority } from '../config/types.ts';
import type { AssetInfo } from './assets.ts';
import type { RuleHit } from './hit.ts';
import { matches } from './match.ts';
import { higherPriority, type DetectFields, type TicketCommand } from './types.ts';

export type Route = AndonConfig['routing'][number];

/** The first route whose every `match` field fits the ticket (a list: one of its values; an empty match takes all). */
export function route(routes: Route[], t: { area: string | null; line: string | null; asset: string | null; fault: string; category: string; priority: Priority }) {
  return routes.find((r) => matches(r.match, t));
}

/** Priority from the rule, raised (never lowered) by the asset's criticality. */
export function priorityOf(rule: RuleConfig, asset: AssetInfo, raiseFor: AndonConfig['priorities']['raiseFor']): Priority {
  const raised = asset.criticality ? raiseFor.criticality[asset.criticality] : undefined;
  return raised ? higherPriority(rule.priority, raised) : rule.priority;
}

/**
 * Everything a ticket needs to know about its detection: key, priority, routing, title. Routing and
 * priority raises are read from `config` at each hit; a function gives the config in use now (a reload).
 */
export function classifier(config: Pick<AndonConfig, 'routing' | 'priorities'> | (() => Pick<AndonConfig, 'routing' | 'priorities'>), assetInfo: (name: string) => AssetInfo) {
  const current = typeof config === 'function' ? config : () => config;
  // The fields of a rule on an asset are the same for every hit until the config in use changes (a reload):
  // worked out once per rule, asset and area (an alarm flood raises the same few thousand over and over).
  const known = new Map<string, DetectFields>();
  let knownFor: object | undefined;
  return (hit: Pick<RuleHit, 'rule' | 'asset' | 'area'>): DetectFields => {
    const config = current();
    if (config !== knownFor || known.size >= 50_000) {
      known.clear();
      knownFor = config;
    }
    const id = `${hit.rule.id}\u0000${hit.asset}\u0000${hit.area ?? ''}`;
    let fields = known.get(id);
    if (!fields) known.set(id, (fields = classifyOnce(config, hit)));
    return fields;
  };

  function classifyOnce(config: Pick<AndonConfig, 'routing' | 'priorities'>, hit: Pick<RuleHit, 'rule' | 'asset' | 'area'>): DetectFields {
    const { rule } = hit;
    const info = assetInfo(hit.asset);
    const area = hit.area ?? info.area;
    const priority = priorityOf(rule, info, config.priorities.raiseFor);
    const base = { area, line: info.line, asset: hit.asset, fault: rule.fault, category: rule.category, priority };
    const r = route(config.routing, base);
    return {
      ...base,
      key: `${hit.asset}/${rule.fault}`,
      rule: rule.id,
      title: (rule.title ?? '{asset}: {fault}').replace(/\{(asset|fault|area|rule)\}/g, (_, k: string) => String({ asset: hit.asset, fault: rule.fault, area, rule: rule.id }[k] ?? '')),
      assignedGroup: r?.assign ?? null,
      notify: [...new Set([...rule.notify, ...(r?.notify ?? [])])],
    };
  }
}

/**
 * RuleHit -> TicketCommand: a raise becomes `detect` (with key, priority and
 * routing), a return to normal becomes `clear`.
 */
export function classify(classifyHit: ReturnType<typeof classifier>): OperatorFunction<RuleHit, TicketCommand> {
  return map((hit): TicketCommand => {
    const fields = classifyHit(hit);
    return hit.kind === 'raise'
      ? { type: 'detect', at: hit.at, evidence: hit.evidence, flags: [], ...fields }
      : { type: 'clear', at: hit.at, key: fields.key, evidence: hit.evidence };
  });
}
