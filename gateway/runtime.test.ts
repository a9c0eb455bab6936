import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.ts';
import { VirtualScheduler } from '../rules/virtual-scheduler.ts';
import { createRuntime } from './runtime.ts';
import { TicketStore } from './store/store.ts';

const config = parseConfig(`
gateway: { id: runtime-test }
rules:
  - { id: alarms, when: { tag: "**/alarm/**", equals: true }, fault: alarm-stop, priority: P2 }
`);

describe('runtime', () => {
  const dir = mkdtempSync(join(tmpdir(), 'andon-runtime-'));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a store failure reaches whoever pushed the signal, and the pipeline keeps working', async () => {
    const file = join(dir, 'andon.sqlite');
    const store = await TicketStore.open(file);
    // Another connection makes the disk "fail" for one asset's ticket.
    const db = new Database(file);
    db.exec("CREATE TRIGGER fail_press BEFORE INSERT ON tickets WHEN NEW.asset = 'press-9' BEGIN SELECT RAISE(ABORT, 'disk I/O error (simulated)'); END");
    db.close();
    const clock = new VirtualScheduler(Date.parse('2026-02-01T00:00:00Z'));
    const failures: unknown[] = [];
    const rt = createRuntime({ config, store, scheduler: clock, onFailure: (_c, err) => failures.push(err) });
    const push = (asset: string) => rt.push({ source: 'plc', tag: `press/${asset}/alarm/E1`, value: true, quality: 'good', ts: clock.now() });
    try {
      expect(() => push('press-9')).toThrow(/simulated/);
      expect(store.list().total).toBe(0);
      push('press-1');
      expect(store.list().items.map((t) => t.key)).toEqual(['press-1/alarm-stop']);
      expect(failures).toEqual([]);
    } finally {
      rt.stop();
      await store.close();
    }
  });
});
