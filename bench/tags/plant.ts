/** What bench/tags' scripts share: the measures and areas of their tags, the rules, and the GC they need exposed. */
export const MEASURES = ['temperature', 'pressure', 'speed', 'current', 'vibration'];
export const AREAS = ['packaging', 'filling', 'utilities', 'palletizing', 'mixing'];

/** The config lines of the rules: thresholds on some measures (none crossed by the benches' values) and a silence rule on `plc`. */
export const RULES = [
  'rules:',
  '  - { id: hot, when: { tag: "**/temperature", above: 1000 }, fault: overtemp, priority: P2 }',
  '  - { id: pressure, when: { tag: "*/*/pressure", above: 1000, clearBelow: 990 }, fault: overpressure, priority: P2 }',
  '  - { id: stopped, when: { tag: "packaging/*/speed", below: -1 }, fault: stopped, priority: P1 }',
  '  - { id: silent, when: { source: plc, silentFor: 1h }, fault: comms-lost, priority: P2 }',
];

/** `gc()` of `node --expose-gc`; throws, naming the npm script that sets the flag, without it. */
export function exposedGc(script: string): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (!exposed) throw new Error(`run with node --expose-gc (npm run ${script} does)`);
  return exposed;
}
