import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TicketStore } from '../../gateway/store/store.ts';
import { tempDir } from '../forward/kit.ts';
import { exited, startAndon } from '../spawn-andon.ts';
import { startReceiver, type Receiver } from './receiver.ts';

/**
 * A notification is committed with the ticket change that causes it: `andon
 * start` killed (SIGKILL) right after the HTTP answer that opened a P1 ticket
 * loses nothing. While the gateways are killed the receiver holds every request
 * unanswered, so no message can have been delivered before a kill; the next
 * start delivers each one.
 */
const INGEST = 'ingest-token-for-notify-kill';
const KILLS = 3;

function writeConfig(dir: string, url: string): string {
  const file = join(dir, 'config.yaml');
  writeFileSync(
    file,
    `gateway:
  id: notify-kill
  dataDir: ${dir}
  http: { host: 127.0.0.1, port: 0 }
  auth: { tokens: [ { name: mes, role: ingest, token: ${INGEST} } ] }
sources: [ { id: mes-http, type: http } ]
rules:
  - { id: alarms, when: { tag: "**/alarm/**", equals: true }, fault: alarm-stop, priority: P1, notify: [duty] }
notify:
  duty: { type: webhook, format: wecom, url: "${url}/cgi-bin/webhook/send?key=kill-test-key", timeout: 30s, backoff: { base: 50ms, max: 500ms } }
`,
  );
  return file;
}

describe('notifications across SIGKILL', () => {
  let receiver: Receiver;
  let tmp: ReturnType<typeof tempDir>;
  beforeAll(async () => {
    tmp = tempDir('notify-kill');
    receiver = await startReceiver({ answer: () => 'hold' });
  });
  afterAll(async () => {
    await receiver.stop();
    tmp.remove();
  });

  it(`a P1 ticket opened right before a SIGKILL is notified after the next start (${KILLS} kills)`, { timeout: 90_000 }, async () => {
    const config = writeConfig(tmp.dir, receiver.url);
    for (let i = 1; i <= KILLS; i++) {
      const { child, url } = await startAndon(config);
      const res = await fetch(`${url}/api/v1/signals`, {
        method: 'POST',
        headers: { authorization: `Bearer ${INGEST}`, 'content-type': 'application/json' },
        body: JSON.stringify({ tag: `area-${i}/sealer-${i}/alarm/E21`, value: true }),
      });
      expect(res.status).toBe(202);
      child.kill('SIGKILL'); // right after the answer: the ticket and its notification are committed, nothing more
      await exited(child);
    }
    expect(receiver.delivered()).toEqual([]);

    receiver.answer = () => ({ status: 200, body: { errcode: 0, errmsg: 'ok' } });
    const { child } = await startAndon(config);
    try {
      await receiver.until(() => receiver.delivered().length === KILLS, 30_000);
    } finally {
      child.kill('SIGTERM');
      await exited(child);
    }
    const assets = receiver.delivered().map((r) => /New ticket: (\S+):/.exec((r.body as { markdown: { content: string } }).markdown.content)?.[1]);
    expect(assets.sort()).toEqual(Array.from({ length: KILLS }, (_, i) => `sealer-${i + 1}`));
    const store = await TicketStore.open(join(tmp.dir, 'andon.sqlite'));
    try {
      expect(store.list().total).toBe(KILLS);
      expect(store.notifications.pending()).toBe(0);
    } finally {
      await store.close();
    }
  });
});
