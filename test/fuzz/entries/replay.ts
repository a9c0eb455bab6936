/**
 * `andon replay` lines: each window of payloads is written as a JSONL file
 * ending with a good alarm and replayed through `replay()`; it must finish, open
 * the good alarm's ticket and give no ticket a time before 2000 or far ahead.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../../../config/load.ts';
import { tempDir } from '../../../connectors/mqtt/fixtures/brokers.ts';
import { replay } from '../../../gateway/replay.ts';
import { DAY, hasPoisonTime, mutate, mutateBytes, parseJson, toText, Y2000, type Json, type Rng } from '../gen.ts';
import type { Entry } from '../harness.ts';
import { skewOf } from '../invariants.ts';

const T0 = Date.parse('2026-03-02T08:00:00.000Z');
const config = parseConfig(`
gateway: { id: fuzz-replay }
sources: [ { id: replay, type: http } ]
rules:
  - { id: alarms, when: { tag: "**/alarm", equals: true }, fault: alarm-stop, priority: P1 }
  - { id: temps, when: { tag: "**/temperature", above: 80, for: 30s }, fault: overtemp, priority: P2 }
correlation:
  chatter: { count: 100000, within: 1m }
  flood: { count: 100000, within: 1m, per: area }
`);
const SIGNAL_FIELDS = ['t', 'tag', 'value', 'quality', 'source', 'asset', 'severity', 'message'];
const ACTION_FIELDS = ['t', 'action', 'key', 'id', 'by', 'text', 'reason', 'until', 'duration'];

const validLine = (rng: Rng, t: number): Record<string, Json> =>
  rng.chance(0.8)
    ? {
        t: rng.chance(0.5) ? t : new Date(t).toISOString(),
        tag: `line-${rng.int(3)}/press-${rng.int(5)}/${rng.pick(['alarm', 'temperature'])}`,
        value: rng.chance(0.5) ? rng.chance(0.5) : 60 + rng.int(40),
      }
    : {
        t,
        action: rng.pick(['ack', 'start', 'resolve', 'close', 'comment', 'shelve']),
        key: `press-${rng.int(5)}/alarm-stop`,
        by: 'wang',
        reason: 'x',
        duration: '1h',
        text: 'hi',
      };

export const replayEntry = (): Entry => ({
  name: 'replay',
  generate(rng, i) {
    const t = T0 + i * 1_000;
    const k = rng.int(10);
    let data: string;
    let kind: string;
    if (k < 6) {
      const v = validLine(rng, t);
      const m = mutate(rng, v, 'action' in v ? ACTION_FIELDS : SIGNAL_FIELDS, ['t', 'until'], t);
      data = toText(m.value);
      kind = `structured: ${m.op}`;
    } else if (k < 9) {
      const m = mutateBytes(rng, Buffer.from(toText(validLine(rng, t))));
      data = m.data.toString('utf8');
      kind = `bytes: ${m.op}`;
    } else {
      data = rng.pick(['', ' ', '\uFEFF{}', '[]', 'null', '"t"', `{"t":${t}}`, '{'.repeat(10_000), 'x'.repeat(2_000_000)]);
      kind = 'special';
    }
    // A line is one line: the file's newlines split what the mutation made.
    const line = data.replace(/[\r\n\u2028\u2029]/g, ' ');
    return { kind, data: line, poison: hasPoisonTime(parseJson(line), ['t'], t) };
  },
  async start() {
    const tmp = tempDir('andon-fuzz-replay-');
    const skew = skewOf(config);
    let lines: string[] = [];
    let maxT = T0;
    const outcomes: Record<string, number> = {};
    return {
      send(p) {
        lines.push(p.data as string);
        return 'line';
      },
      async check(n) {
        const file = join(tmp.dir, 'input.jsonl');
        const last = T0 + 1_000 * 1_000_000 + n * 1_000;
        maxT = Math.max(maxT, last);
        writeFileSync(file, [...lines, JSON.stringify({ t: last, tag: `fuzz/chk-${n}/alarm`, value: true })].join('\n') + '\n');
        lines = [];
        const { tickets, summary } = await replay({ config, input: file, now: last });
        for (const [reason, c] of Object.entries(summary.rejectedBy)) outcomes[`rejected ${reason}`] = (outcomes[`rejected ${reason}`] ?? 0) + (c ?? 0);
        for (const r of summary.refusals) outcomes[`refused ${r.code}`] = (outcomes[`refused ${r.code}`] ?? 0) + 1;
        outcomes.signals = (outcomes.signals ?? 0) + summary.signals;
        outcomes.actions = (outcomes.actions ?? 0) + summary.actions;
        if (!tickets.some((t) => t.key === `chk-${n}/alarm-stop`)) throw new Error(`the good line did not open chk-${n}/alarm-stop`);
        for (const t of tickets) {
          for (const at of [t.openedAt, t.lastSeen, ...t.evidence.map((e) => e.ts)]) {
            const ms = Date.parse(at);
            if (!(ms >= Y2000 && ms <= last + skew + DAY)) throw new Error(`ticket ${t.key} has time ${at}`);
          }
        }
      },
      outcomes: async () => ({ ...outcomes }),
      async close() {
        tmp.remove();
      },
    };
  },
});
