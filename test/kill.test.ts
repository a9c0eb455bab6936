import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TicketStore } from '../gateway/store/store.ts';
import { exited, startAndon as start } from './spawn-andon.ts';

/**
 * No loss between a source and the store: a gateway killed with SIGKILL right
 * after it answered has already stored what it answered for.
 */
const dir = mkdtempSync(join(tmpdir(), 'andon-kill-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const TOKEN = 'ingest-token-for-kill-test';

function config(dataDir: string): string {
  const file = join(dir, 'config.yaml');
  writeFileSync(
    file,
    `gateway:
  id: kill-test
  dataDir: ${dataDir}
  http: { host: 127.0.0.1, port: 0 }
  auth: { tokens: [ { name: mes, role: ingest, token: ${TOKEN} } ] }
sources: [ { id: mes-http, type: http } ]
rules:
  - { id: alarms, when: { tag: "**/alarm/**", equals: true }, fault: alarm-stop, priority: P2 }
`,
  );
  return file;
}


describe('SIGKILL right after an answer', () => {
  it('every answered signal has its ticket on disk, over several kills', async () => {
    const dataDir = join(dir, 'data');
    const file = config(dataDir);
    const answered: string[] = [];
    let n = 0;
    for (let round = 0; round < 4; round++) {
      const { child, url } = await start(file);
      // Requests in flight when the kill lands may or may not be stored; answered ones must be.
      const inflight: Promise<void>[] = [];
      for (let i = 0; i < 25; i++) {
        const asset = `press-${String(n++).padStart(3, '0')}`;
        inflight.push(
          fetch(`${url}/api/v1/signals`, {
            method: 'POST',
            headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
            // one area per asset, so the burst is not an alarm flood (which would fold them into one ticket)
            body: JSON.stringify({ tag: `line-${n}/${asset}/alarm/J1`, value: true }),
          }).then(
            (res) => {
              if (res.status === 202) answered.push(`${asset}/alarm-stop`);
            },
            () => undefined,
          ),
        );
        if (i === 20) {
          await inflight[i]; // kill right after an answer, with more requests on the wire
          child.kill('SIGKILL');
        }
      }
      await Promise.all(inflight);
      await exited(child);
    }
    expect(answered.length).toBeGreaterThanOrEqual(4 * 21);
    const store = await TicketStore.open(join(dataDir, 'andon.sqlite'));
    try {
      const keys = new Set(store.list().items.map((t) => t.key));
      expect(answered.filter((k) => !keys.has(k))).toEqual([]);
      expect(store.list().total).toBe(keys.size); // no duplicate tickets
    } finally {
      await store.close();
    }
  });
});
