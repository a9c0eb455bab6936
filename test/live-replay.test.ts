import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.ts';
import { startGateway } from '../gateway/main.ts';
import { replay } from '../gateway/replay.ts';
import type { Ticket } from '../model/ticket.ts';

/**
 * Replay and live runs share the rule, engine and store code: the same
 * signals give the same tickets, whether they arrive over HTTP to a running
 * gateway or as records to `andon replay`.
 */
const dir = mkdtempSync(join(tmpdir(), 'andon-live-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const TOKEN = 'ingest-token-live-replay';

const yaml = `
gateway:
  id: live-replay
  dataDir: ${dir}
  auth: { tokens: [ { name: mes, role: ingest, token: ${TOKEN} } ] }
sources: [ { id: mes-http, type: http } ]
priorities: { raiseFor: { criticality: { line-stopping: P0 } } }
assets:
  kiln-01: { area: firing, criticality: line-stopping, tags: ["firing/kiln-01/**"] }
rules:
  - { id: alarms, when: { tag: "*/*/alarm/**", equals: true }, fault: alarm-stop, category: hardware, priority: P2 }
  - { id: hot, when: { tag: "**/temperature", above: 900, clearBelow: 880 }, fault: overtemp, priority: P1 }
routing:
  - { match: { area: glazing }, assign: glazing-team }
  - { match: {}, assign: maintenance }
`;

/** A burst of plant signals: chatter, a flood in one area, thresholds with deadband, bad quality. */
function signals() {
  const out: { tag: string; value: number | boolean; quality?: 'good' | 'bad'; unit?: string }[] = [];
  for (let i = 0; i < 6; i++) out.push({ tag: 'glazing/spray-02/alarm/E4', value: true }, { tag: 'glazing/spray-02/alarm/E4', value: false });
  for (let i = 0; i < 14; i++) out.push({ tag: `sorting/robot-${i}/alarm/E${i}`, value: true });
  for (const v of [850, 905, 890, 870, 910]) out.push({ tag: 'firing/kiln-01/temperature', value: v, unit: '°C' });
  out.push({ tag: 'firing/kiln-02/temperature', value: 990, quality: 'bad' });
  out.push({ tag: 'firing/kiln-01/alarm/F1', value: true });
  return out;
}

/** What must match between runs (ids and wall-clock times differ by nature). */
const shape = (t: Ticket) => ({
  key: t.key,
  state: t.state,
  priority: t.priority,
  condition: t.condition,
  occurrences: t.occurrences,
  flags: [...t.flags].sort(),
  assignedGroup: t.assignedGroup,
  members: t.members.length,
  firstOut: t.firstOut?.asset ?? null,
  history: t.history.map((h) => h.action),
  units: t.evidence.map((e) => e.unit ?? null),
});
const byKey = (a: { key: string }, b: { key: string }) => a.key.localeCompare(b.key) || 0;

describe('live and replay', () => {
  it('the same signals give the same tickets', async () => {
    const config = parseConfig(yaml);
    const gw = await startGateway(config, { port: 0, logger: pino({ level: 'silent' }) });
    try {
      for (const s of signals()) {
        const res = await fetch(`${gw.address}/api/v1/signals`, {
          method: 'POST',
          headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
          body: JSON.stringify(s),
        });
        expect(res.status).toBe(202);
      }
      const live = gw.store.list().items.map(shape).sort(byKey);

      const t0 = Date.parse('2026-05-01T10:00:00Z');
      const lines = signals().map((s, i) => JSON.stringify({ t: new Date(t0 + i * 10).toISOString(), source: 'mes-http', ...s }));
      const { tickets } = await replay({ config, input: lines });
      const replayed = tickets.map(shape).sort(byKey);

      expect(live).toEqual(replayed);
      // and the run did something worth comparing
      expect(replayed.map((t) => t.key)).toEqual(
        expect.arrayContaining(['spray-02/alarm-stop', 'sorting/alarm-flood', 'kiln-01/overtemp', 'kiln-01/alarm-stop']),
      );
      expect(replayed.find((t) => t.key === 'spray-02/alarm-stop')).toMatchObject({ occurrences: 6, assignedGroup: 'glazing-team' });
      expect(replayed.find((t) => t.key === 'kiln-01/overtemp')).toMatchObject({ priority: 'P0', occurrences: 2, units: ['°C', '°C', '°C'] });
    } finally {
      await gw.stop();
    }
  });
});
