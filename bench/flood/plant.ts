/**
 * The flood benches' plant (`run.ts` over HTTP, `inprocess.ts` without it): `assets` assets, all in one
 * area, 10 telemetry tags each with a limit, alarm tags with an `equals: true` rule, and the flood rule.
 */
export const AREA = 'hall';
export const MEASURES = 10;

export interface Sig {
  tag: string;
  value: number | boolean;
}

export function plant(assets: number, flood: { count: number; within: string }) {
  const asset = (i: number) => `m-${String(i % assets).padStart(4, '0')}`;
  return {
    /** The config from `assets:` on (the caller writes `gateway:` and `sources:` before it). */
    yaml: [
      'assets:',
      ...Array.from({ length: assets }, (_, i) => `  ${asset(i)}: { area: ${AREA}, line: line-${(i % 5) + 1}, tags: ["${AREA}/${asset(i)}/**"] }`),
      'rules:',
      '  - { id: pv-high, when: { tag: "**/pv-*", above: 80, clearBelow: 75 }, fault: pv-high, category: process, priority: P2 }',
      '  - { id: alarm, when: { tag: "**/alarm/*", equals: true }, fault: machine-alarm, category: hardware, priority: P1 }',
      'correlation:',
      `  flood: { count: ${flood.count}, within: ${flood.within}, per: area }`,
      'routing:',
      '  - { match: {}, assign: maintenance }',
    ],
    /** Telemetry reading `i`: asset i mod N, measure (i / N) mod 10, a value in 40..60 (the limit is 80). */
    quietSignal: (i: number): Sig => ({ tag: `${AREA}/${asset(i)}/pv-${Math.floor(i / assets) % MEASURES}`, value: 40 + ((i * 7919) % 2000) / 100 }),
    /** Alarm raise `i`: a distinct tag per i (asset i mod N, alarm number i / N). */
    alarmSignal: (i: number, prefix = 'a'): Sig => ({ tag: `${AREA}/${asset(i)}/alarm/${prefix}${Math.floor(i / assets)}`, value: true }),
  };
}
