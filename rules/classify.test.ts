import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.ts';
import type { RuleConfig } from '../config/schema.ts';
import { assetResolver } from './assets.ts';
import { classifier, classify } from './classify.ts';
import type { RuleHit } from './hit.ts';

const config = parseConfig(`
gateway: { id: test }
assets:
  sealer-01: { area: packaging, line: line-1, criticality: line-stopping }
  wrapper-02: { area: packaging, line: line-1, criticality: minor }
  labeler-03: { area: packaging, line: line-1 }
  feeder-3: { area: utilities }
rules:
  - id: sealer-alarm
    when: { tag: "packaging/*/alarm/**", equals: true }
    fault: alarm-stop
    category: hardware
    priority: P1
    notify: [shift-lead]
  - id: overtemp
    when: { tag: "**/temperature", above: 80 }
    fault: overtemp
    priority: P2
    title: "{asset} too hot ({area}, rule {rule})"
  - id: voltage-sag
    when: { tag: "utilities/*/voltage", below: 207 }
    fault: voltage-sag
    category: power-quality
    priority: P3
  - id: comms
    when: { source: "*", silentFor: 30s }
    fault: comms-lost
    category: network
    priority: P1
priorities:
  raiseFor: { criticality: { line-stopping: P0, minor: P3 } }
routing:
  - { match: { area: packaging, category: hardware }, assign: maintenance-packaging, notify: [duty-supervisor, shift-lead] }
  - { match: { area: packaging }, assign: packaging-general }
  - { match: { priority: P0 }, assign: never-reached-for-packaging }
  - { match: {}, assign: maintenance-general }
notify:
  duty-supervisor: { type: webhook, url: "http://127.0.0.1:9000/hook" }
  shift-lead: { type: webhook, url: "http://127.0.0.1:9000/lead" }
`);

const rule = (id: string) => config.rules.find((r) => r.id === id) as RuleConfig;
const assets = assetResolver(config.assets);
const classifyHit = classifier(config, assets.byName);

const hit = (kind: RuleHit['kind'], ruleId: string, asset: string, area: string | null, at: number): RuleHit => ({
  kind,
  rule: rule(ruleId),
  asset,
  area,
  at,
  evidence: { tag: `${area}/${asset}/x`, value: kind === 'raise', ts: at },
});

const newScheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

describe('classify', () => {
  it('turns a raise into a detect with key asset/fault, priority, routing and title; a clear into a clear', () => {
    const ts = newScheduler();
    ts.run(({ cold, expectObservable }) => {
      const r = hit('raise', 'sealer-alarm', 'labeler-03', 'packaging', 0);
      const c = hit('clear', 'sealer-alarm', 'labeler-03', 'packaging', 5);
      expectObservable(cold('r----c|', { r, c }).pipe(classify(classifyHit))).toBe('d----x|', {
        d: {
          type: 'detect',
          at: 0,
          evidence: r.evidence,
          flags: [],
          key: 'labeler-03/alarm-stop',
          asset: 'labeler-03',
          area: 'packaging',
          line: 'line-1',
          fault: 'alarm-stop',
          category: 'hardware',
          rule: 'sealer-alarm',
          priority: 'P1',
          title: 'labeler-03: alarm-stop',
          assignedGroup: 'maintenance-packaging',
          notify: ['shift-lead', 'duty-supervisor'],
        },
        x: { type: 'clear', at: 5, key: 'labeler-03/alarm-stop', evidence: c.evidence },
      });
    });
  });

  it("raises the priority for a critical asset (P1 on a line-stopping asset is P0)", () => {
    expect(classifyHit(hit('raise', 'sealer-alarm', 'sealer-01', 'packaging', 0)).priority).toBe('P0');
    expect(classifyHit(hit('raise', 'overtemp', 'sealer-01', 'packaging', 0)).priority).toBe('P0');
  });

  it('never lowers the priority (raiseFor P3 on a P1 rule stays P1)', () => {
    expect(classifyHit(hit('raise', 'sealer-alarm', 'wrapper-02', 'packaging', 0)).priority).toBe('P1');
    expect(classifyHit(hit('raise', 'voltage-sag', 'wrapper-02', 'packaging', 0)).priority).toBe('P3');
  });

  it('keeps the rule priority for assets without criticality or unknown to config', () => {
    expect(classifyHit(hit('raise', 'overtemp', 'labeler-03', 'packaging', 0)).priority).toBe('P2');
    expect(classifyHit(hit('raise', 'overtemp', 'mixer-9', 'process', 0)).priority).toBe('P2');
  });

  it('routes to the first matching route, and an empty match catches the rest', () => {
    const group = (ruleId: string, asset: string, area: string | null) => classifyHit(hit('raise', ruleId, asset, area, 0)).assignedGroup;
    // packaging + hardware: the first route, although later ones match too.
    expect(group('sealer-alarm', 'sealer-01', 'packaging')).toBe('maintenance-packaging');
    // packaging, category general: the second route; the P0 route after it is never reached.
    expect(group('overtemp', 'sealer-01', 'packaging')).toBe('packaging-general');
    // utilities: falls through to the catch-all.
    expect(group('voltage-sag', 'feeder-3', 'utilities')).toBe('maintenance-general');
    // a source's own fault (silentFor): asset is the source id, no area.
    expect(group('comms', 'packaging-plc', null)).toBe('maintenance-general');
  });

  it("takes the area from config when the hit has none", () => {
    const d = classifyHit(hit('raise', 'sealer-alarm', 'sealer-01', null, 0));
    expect(d.area).toBe('packaging');
    expect(d.assignedGroup).toBe('maintenance-packaging');
  });

  it('routes on the raised priority', () => {
    const only = classifier({ ...config, routing: [{ match: { priority: 'P0' }, assign: 'urgent', notify: [] }, { match: {}, assign: 'normal', notify: [] }] }, assets.byName);
    expect(only(hit('raise', 'overtemp', 'sealer-01', 'packaging', 0)).assignedGroup).toBe('urgent');
    expect(only(hit('raise', 'overtemp', 'labeler-03', 'packaging', 0)).assignedGroup).toBe('normal');
  });

  it('a match field given as a list matches any of its values', () => {
    const lists = classifier(
      { ...config, routing: [{ match: { priority: ['P0', 'P1'], area: ['utilities', 'packaging'] }, assign: 'urgent', notify: [] }, { match: {}, assign: 'normal', notify: [] }] },
      assets.byName,
    );
    expect(lists(hit('raise', 'sealer-alarm', 'labeler-03', 'packaging', 0)).assignedGroup).toBe('urgent'); // P1, packaging
    expect(lists(hit('raise', 'overtemp', 'sealer-01', 'packaging', 0)).assignedGroup).toBe('urgent'); // raised to P0
    expect(lists(hit('raise', 'overtemp', 'labeler-03', 'packaging', 0)).assignedGroup).toBe('normal'); // P2
    expect(lists(hit('raise', 'comms', 'packaging-plc', null, 0)).assignedGroup).toBe('normal'); // P1, but no area
  });

  it('assigns no group when no route matches, and notifies only the rule channels', () => {
    const none = classifier({ ...config, routing: [{ match: { area: 'utilities' }, assign: 'utilities', notify: [] }] }, assets.byName);
    const d = none(hit('raise', 'sealer-alarm', 'sealer-01', 'packaging', 0));
    expect(d.assignedGroup).toBeNull();
    expect(d.notify).toEqual(['shift-lead']);
  });

  it('fills the title template from the rule', () => {
    expect(classifyHit(hit('raise', 'overtemp', 'sealer-01', 'packaging', 0)).title).toBe('sealer-01 too hot (packaging, rule overtemp)');
  });

  it('keys a source fault on the source id', () => {
    const d = classifyHit(hit('raise', 'comms', 'packaging-plc', null, 0));
    expect(d.key).toBe('packaging-plc/comms-lost');
    expect(d.asset).toBe('packaging-plc');
    expect(d.priority).toBe('P1');
  });
});
