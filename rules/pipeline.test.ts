import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.ts';
import { rulePipeline } from './pipeline.ts';
import type { Signal, TicketCommand } from './types.ts';
import { VirtualScheduler } from './virtual-scheduler.ts';

const config = parseConfig(`
gateway: { id: plant-a-line-1 }
assets:
  sealer-01: { area: packaging, line: line-1, criticality: line-stopping, tags: ["packaging/sealer-01/**"] }
  feeder-3:  { area: utilities, tags: ["utilities/feeder-3/**"] }
rules:
  - id: sealer-alarm
    when: { tag: "packaging/*/alarm/**", equals: true }
    fault: alarm-stop
    category: hardware
    priority: P1
  - id: voltage-sag
    when: { tag: "utilities/*/voltage", below: 207, for: 0s, clearAbove: 215 }
    fault: voltage-sag
    category: power-quality
    priority: P2
  - id: overtemp
    when: { tag: "**/temperature", above: 80, for: 10s, clearBelow: 78 }
    fault: overtemp
    priority: P2
  - id: comms
    when: { source: "*", silentFor: 30s }
    fault: comms-lost
    category: network
    priority: P1
correlation:
  chatter: { count: 3, within: 60s }
priorities:
  raiseFor: { criticality: { line-stopping: P0 } }
routing:
  - { match: { area: packaging, category: hardware }, assign: maintenance-packaging, notify: [duty-supervisor] }
  - { match: {}, assign: maintenance-general }
notify:
  duty-supervisor: { type: webhook, url: "http://127.0.0.1:9000/hook" }
`);

const T0 = Date.parse('2026-01-20T08:00:00.000Z');
const S = 1_000;

/** A pipeline on virtual time: `at(offset, signal)` advances the clock, then feeds the signal. */
function harness(expectedSources: string[] = []) {
  const scheduler = new VirtualScheduler(T0);
  const signals = new Subject<Signal>();
  const out: TicketCommand[] = [];
  const sub = signals.pipe(rulePipeline({ config, scheduler, expectedSources })).subscribe((c) => out.push(c));
  return {
    out,
    at(offset: number, s?: Omit<Signal, 'ts' | 'quality'> & { quality?: Signal['quality'] }) {
      scheduler.advanceTo(T0 + offset);
      if (s) signals.next({ quality: 'good', ...s, ts: T0 + offset });
    },
    stop: () => sub.unsubscribe(),
  };
}

/** What a command says, with time as seconds since T0. */
const brief = (c: TicketCommand) =>
  c.type === 'detect'
    ? { type: c.type, s: (c.at - T0) / S, key: c.key, priority: c.priority, group: c.assignedGroup, flags: c.flags }
    : c.type === 'clear'
      ? { type: c.type, s: (c.at - T0) / S, key: c.key }
      : { type: c.type };

describe('rulePipeline', () => {
  it('signals in, detect and clear commands out, with timers firing in virtual time', () => {
    const h = harness(['mes']);
    h.at(1 * S, { source: 'packaging-plc', tag: 'packaging/sealer-01/alarm/E21', value: true, severity: 700, message: 'seal jaw fault' });
    h.at(2 * S, { source: 'power-meter', tag: 'utilities/feeder-3/voltage', value: 196.4 });
    h.at(3 * S, { source: 'packaging-plc', tag: 'packaging/wrapper-02/temperature', value: 85 });
    h.at(5 * S, { source: 'packaging-plc', tag: 'packaging/sealer-01/alarm/E21', value: false });
    h.at(6 * S, { source: 'packaging-plc', tag: 'packaging/wrapper-02/temperature', value: 20, quality: 'bad' });
    h.at(20 * S, { source: 'power-meter', tag: 'utilities/feeder-3/voltage', value: 216 });
    h.at(35 * S);
    h.stop();

    expect(h.out.map(brief)).toEqual([
      { type: 'detect', s: 1, key: 'sealer-01/alarm-stop', priority: 'P0', group: 'maintenance-packaging', flags: [] },
      { type: 'detect', s: 2, key: 'feeder-3/voltage-sag', priority: 'P2', group: 'maintenance-general', flags: [] },
      { type: 'clear', s: 5, key: 'sealer-01/alarm-stop' },
      // the on-delay fires on its timer; the bad reading at 6 s neither cancels nor clears it
      { type: 'detect', s: 13, key: 'wrapper-02/overtemp', priority: 'P2', group: 'maintenance-general', flags: [] },
      { type: 'clear', s: 20, key: 'feeder-3/voltage-sag' },
      // expected source that never spoke
      { type: 'detect', s: 30, key: 'mes/comms-lost', priority: 'P1', group: 'maintenance-general', flags: [] },
    ]);
    expect(h.out[0]).toEqual({
      type: 'detect',
      at: T0 + 1 * S,
      key: 'sealer-01/alarm-stop',
      asset: 'sealer-01',
      area: 'packaging',
      line: 'line-1',
      fault: 'alarm-stop',
      category: 'hardware',
      rule: 'sealer-alarm',
      priority: 'P0',
      title: 'sealer-01: alarm-stop',
      assignedGroup: 'maintenance-packaging',
      notify: ['duty-supervisor'],
      flags: [],
      evidence: { tag: 'packaging/sealer-01/alarm/E21', value: true, ts: T0 + 1 * S, severity: 700, message: 'seal jaw fault' },
    });
  });

  it('a silent source opens comms-lost on itself and clears when it speaks again', () => {
    const h = harness();
    h.at(0, { source: 'power-meter', tag: 'utilities/feeder-3/voltage', value: 230 });
    h.at(29 * S, { source: 'packaging-plc', tag: 'packaging/sealer-01/alarm/E21', value: false });
    h.at(45 * S, { source: 'power-meter', tag: 'utilities/feeder-3/voltage', value: 230 });
    h.at(50 * S);
    h.stop();
    expect(h.out.map(brief)).toEqual([
      { type: 'detect', s: 30, key: 'power-meter/comms-lost', priority: 'P1', group: 'maintenance-general', flags: [] },
      { type: 'clear', s: 45, key: 'power-meter/comms-lost' },
    ]);
    expect(h.out[0]).toMatchObject({ asset: 'power-meter', area: null, fault: 'comms-lost' });
  });

  it('a chattering alarm gets the chattering flag on its repeated raises', () => {
    const h = harness();
    const alarm = (value: boolean) => ({ source: 'packaging-plc', tag: 'packaging/sealer-01/alarm/E21', value });
    for (const [t, v] of [[0, true], [2, false], [4, true], [6, false], [8, true], [10, false], [12, true]] as const) h.at(t * S, alarm(v));
    h.stop();
    expect(h.out.filter((c) => c.type === 'detect').map((c) => c.type === 'detect' && [(c.at - T0) / S, c.flags])).toEqual([
      [0, []],
      [4, []],
      [8, ['chattering']],
      [12, ['chattering']],
    ]);
  });

  it('a signal carrying its own asset is keyed on it', () => {
    const h = harness();
    h.at(1 * S, { source: 'mes', tag: 'packaging/line-1/alarm/E99', value: true, asset: 'labeler-07' });
    h.stop();
    expect(h.out.map(brief)).toEqual([{ type: 'detect', s: 1, key: 'labeler-07/alarm-stop', priority: 'P1', group: 'maintenance-packaging', flags: [] }]);
  });
});
