import { parseConfig } from '../../config/load.ts';
import type { AndonConfig } from '../../config/schema.ts';
import { createRuntime } from '../../gateway/runtime.ts';
import { TicketStore } from '../../gateway/store/store.ts';
import { VirtualScheduler } from '../../rules/virtual-scheduler.ts';
import type { Signal } from '../../rules/types.ts';

/** Tokens of the board tests' gateway. */
export const OPERATOR_TOKEN = 'board-operator-token-0123456789';
export const INGEST_TOKEN = 'board-ingest-token-0123456789';

/** A small plant (the design's sealer story plus a filler, a palletizer line and a labeler), fed over HTTP. */
export const plantConfig = (dataDir: string, anonymousRead = true): AndonConfig =>
  parseConfig(`
gateway:
  id: plant-a-line-1
  timezone: UTC
  dataDir: ${dataDir}
  auth:
    anonymousRead: ${anonymousRead}
    tokens:
      - { name: wang, role: operator, token: ${OPERATOR_TOKEN} }
      - { name: mes, role: ingest, token: ${INGEST_TOKEN} }
sources: [ { id: mes-http, type: http } ]
assets:
  sealer-01:    { area: packaging, line: line-1, tags: ["packaging/sealer-01/**"] }
  labeler-02:   { area: packaging, line: line-1, tags: ["packaging/labeler-02/**"] }
  filler-02:    { area: filling, line: line-1, criticality: line-stopping, tags: ["filling/filler-02/**"] }
  capper-03:    { area: filling, line: line-1, criticality: line-stopping, tags: ["filling/capper-03/**"] }
  feeder-3:     { area: utilities, tags: ["utilities/feeder-3/**"] }
  compressor-1: { area: utilities, tags: ["utilities/compressor-1/**"] }
rules:
  - { id: alarms, when: { tag: "*/*/alarm/**", equals: true }, fault: alarm-stop, category: hardware, priority: P1 }
  - { id: voltage-sag, when: { tag: "utilities/*/voltage", below: 207, clearAbove: 215 }, fault: voltage-sag, category: power-quality, priority: P2 }
  - { id: filter, when: { tag: "**/filter-dp", above: 250, clearBelow: 200 }, fault: filter-clogged, category: maintenance, priority: P3 }
correlation:
  chatter: { count: 5, within: 60s }
  flood: { count: 10, within: 10m, per: area }
  recurrence: { count: 3, within: 14d }
  discoverCauses: { within: 5m, minSupport: 3 }
priorities:
  P0: { respondWithin: 15m, resolveWithin: 4h }
  P1: { respondWithin: 30m, resolveWithin: 8h }
  P2: { respondWithin: 4h, resolveWithin: 3d }
  P3: { respondWithin: 1d, resolveWithin: 14d }
  raiseFor: { criticality: { line-stopping: P0 } }
routing:
  - { match: { area: packaging, category: hardware }, assign: maintenance-packaging }
  - { match: {}, assign: maintenance-general }
escalation:
  - { after: respondBy, unless: acknowledged, level: 1, notify: [] }
shelving: { maxDuration: 8h }
`);

const MIN = 60_000;
const DAY = 86_400_000;

/**
 * The sealer's last three afternoons, written to the gateway's store before it
 * starts (virtual time): each day a voltage sag on feeder-3 one minute before the
 * sealer stops around 16:00. The first stop was resolved and closed, so the
 * second opens a new ticket that finds it as a similar case; the third makes it
 * recurring (daily ~16:00) with the sag as a discovered cause.
 */
export async function seedSealerHistory(config: AndonConfig, file: string, now: number): Promise<void> {
  const store = await TicketStore.open(file);
  const today = Math.floor(now / DAY) * DAY;
  const clock = new VirtualScheduler(today - 4 * DAY);
  const rt = createRuntime({ config, store, scheduler: clock });
  const push = (at: number, tag: string, value: Signal['value'], extra: Partial<Signal> = {}) => {
    clock.advanceTo(at);
    rt.push({ source: 'mes-http', tag, value, quality: 'good', ts: at, ...extra });
  };
  const act = (at: number, action: string, fields: Record<string, unknown> = {}) => {
    clock.advanceTo(at);
    const t = store.liveByKey('sealer-01/alarm-stop');
    if (t) rt.act({ type: 'transition', at, id: t.id, action, by: 'wang', fields });
  };
  try {
    for (const [i, offset] of [
      [3, -2],
      [2, 2],
      [1, 0],
    ] as const) {
      const stop = today - i * DAY + 16 * 60 * MIN + offset * MIN;
      push(stop - MIN, 'utilities/feeder-3/voltage', 196.4);
      push(stop - MIN / 2, 'utilities/feeder-3/voltage', 229.8);
      push(stop, 'packaging/sealer-01/alarm/E21', true, { message: 'seal jaw temperature low', severity: 700 });
      push(stop + 4 * MIN, 'packaging/sealer-01/alarm/E21', false);
      if (i === 3) {
        act(stop + 20 * MIN, 'ack');
        act(stop + 90 * MIN, 'resolve', { resolution: 'replaced heater cartridge of the seal jaw', rootCause: 'heater cartridge worn out' });
        act(stop + 95 * MIN, 'close', { checklist: { customerInformed: true, partsRecorded: true, knowledgeBaseChecked: true } });
      }
      if (i === 1) act(stop + 12 * MIN, 'ack');
    }
    clock.advanceTo(now - 5 * MIN);
  } finally {
    rt.stop();
    await store.close();
  }
}
