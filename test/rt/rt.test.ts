import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ForwardConfig } from '../../config/schema.ts';
import { createRtSink } from '../../gateway/forward/rt/index.ts';
import { ForwardError } from '../../gateway/forward/sink.ts';
import { peer } from '../peers.ts';
import { after, andonTicket, changed, forwarding, operator, RT_DIR, SETUP, startRt, stopRt, type RtEnv } from './peer.ts';

// Request Tracker 5 from Debian, set up by test/rt/setup-rt.sh (root, ~35 s once), started here
// (or reused when .ci/run started it). Each RT request costs ~0.25 s (token bcrypt), so a put is 0.5-1.3 s.
const hasRt = peer('Request Tracker 5 (test instance)', ['bash', SETUP, '--check'], `${SETUP} (as root; apt-get install request-tracker5 rt5-db-sqlite, then builds the instance)`);

const signal = () => AbortSignal.timeout(20_000);
const kindOf = (p: Promise<unknown>) =>
  p.then(
    () => 'resolved',
    (e: unknown) => (e instanceof ForwardError ? e.kind : `raw ${String(e)}`),
  );

describe.skipIf(!hasRt)('RT sink against Request Tracker 5', () => {
  let env: RtEnv;
  let port: number;
  let startedHere = false;
  let rt: ReturnType<typeof operator>;
  const config = (over: Partial<ForwardConfig> = {}): ForwardConfig => ({ type: 'rt', url: env.RT_URL, token: env.RT_TOKEN, queue: env.RT_QUEUE, timeout: 10_000, concurrency: 4, ...over });
  // Every put goes as the forwarder sends it: the events after those RT acknowledged, plus the store's history.
  const fw = forwarding();
  const sinkWith = (f?: typeof fetch, over: Partial<ForwardConfig> = {}) => fw.wrap(createRtSink(config(over), { history: fw.history, ...(f ? { fetch: f } : {}) }));

  /** A fetch that delivers the request to RT and then loses RT's answer, once, for matching requests. */
  const losingAnswer = (method: string, path: RegExp) => {
    let armed = true;
    const f: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (armed && init?.method === method && path.test(new URL(String(input)).pathname)) {
        armed = false;
        await res.text();
        throw new TypeError('fetch failed', { cause: { code: 'ECONNRESET' } });
      }
      return res;
    };
    return f;
  };

  beforeAll(async () => {
    ({ env, port, started: startedHere } = await startRt());
    rt = operator(env);
  }, 120_000);

  afterAll(async () => {
    if (startedHere) await stopRt();
  }, 30_000);

  it('the first put creates one RT ticket: subject, status, priority, due and the Andon custom fields', { timeout: 15_000 }, async () => {
    const t = andonTicket();
    const ref = await sinkWith().put(t, signal());

    expect(ref).toMatchObject({ id: expect.stringMatching(/^RT-\d+$/), version: 1 });
    const ids = await rt.byAndonId(t.id);
    expect(ids).toHaveLength(1);
    expect(ref.id).toBe(`RT-${ids[0]}`);
    expect(ref.url).toBe(`${env.RT_URL}/Ticket/Display.html?id=${ids[0]}`);
    const got = await rt.ticket(ids[0] as number);
    expect(got).toMatchObject({ Subject: 'sealer-01: alarm-stop', Status: 'new', Priority: '50', Due: '2026-01-23T07:18:00Z' });
    expect([got.cf('AndonId'), got.cf('AndonKey'), got.cf('AndonVersion'), got.cf('AndonState'), got.cf('AndonEvents')]).toEqual([t.id, 'sealer-01/alarm-stop', '1', 'open', '1']);
  });

  it('later versions move status, priority and due, and add the new history events as comments', { timeout: 30_000 }, async () => {
    const sink = sinkWith();
    const v1 = andonTicket({ priority: 'P2' });
    const { id } = await sink.put(v1, signal());
    const rtId = Number(id.slice(3));

    const v2 = changed(after(v1, 'ack', 'wang'), { priority: 'P1', resolveBy: '2026-01-21T07:18:00.000Z', occurrences: 2 }, { action: 'occurrence' });
    expect(await sink.put(v2, signal())).toMatchObject({ id, version: 3 });
    expect(await rt.ticket(rtId)).toMatchObject({ Status: 'open', Priority: '75', Due: '2026-01-21T07:18:00Z' });

    const v3 = after(after(v2, 'start', 'wang'), 'wait', 'wang', { reason: 'coordination' });
    await sink.put(v3, signal());
    expect((await rt.ticket(rtId)).Status).toBe('stalled');

    const v4 = changed(after(after(v3, 'resume', 'wang'), 'resolve', 'wang', { resolution: 'replaced heater band', rootCause: 'worn heater' }), { priority: 'P0' }, { action: 'cleared' });
    await sink.put(v4, signal());
    const got = await rt.ticket(rtId);
    expect(got).toMatchObject({ Status: 'resolved', Priority: '100' });
    expect([got.cf('AndonVersion'), got.cf('AndonState'), got.cf('AndonEvents')]).toEqual([String(v4.version), 'resolved', String(v4.history.length)]);

    expect(await rt.comments(rtId)).toEqual(['Andon v3: ack, occurrence', 'Andon v5: start, wait', 'Andon v8: resume, resolve, cleared']);
    const last = await rt.commentText(rtId);
    expect(last).toContain('State: resolved');
    expect(last).toContain('resolve by wang  resolution=replaced heater band  rootCause=worn heater');
    expect(await rt.byAndonId(v1.id)).toEqual([rtId]);
  });

  it('a delta for a ticket RT does not have yet (historyFrom > 0): the create carries the whole history, read from the store', { timeout: 15_000 }, async () => {
    const v3 = changed(after(andonTicket(), 'ack', 'wang'), { occurrences: 2 }, { action: 'occurrence' });
    fw.acked.set(v3.id, 2); // as if central had acknowledged v2 elsewhere: the put carries only the occurrence
    const { id } = await sinkWith().put(v3, signal());
    const rtId = Number(id.slice(3));

    const got = await rt.ticket(rtId);
    expect([got.cf('AndonVersion'), got.cf('AndonEvents')]).toEqual(['3', '3']);
    const text = await rt.commentText(rtId, 'Create');
    for (const line of ['opened by andon', 'ack by wang', 'occurrence by andon']) expect(text).toContain(line);
  });

  it('RT holding fewer events than the delta starts at: the comment adds the missing ones from the store, each once', { timeout: 20_000 }, async () => {
    const v1 = andonTicket();
    const { id } = await sinkWith().put(v1, signal());
    const v4 = changed(after(after(v1, 'ack', 'wang'), 'start', 'wang'), { occurrences: 2 }, { action: 'occurrence' });
    fw.acked.set(v1.id, 3); // the gateway recorded more than RT holds (RT restored from a backup)
    await sinkWith().put(v4, signal()); // a new sink: RT is asked what it holds

    const rtId = Number(id.slice(3));
    expect(await rt.comments(rtId)).toEqual(['Andon v4: ack, start, occurrence']);
    expect((await rt.ticket(rtId)).cf('AndonEvents')).toBe('4');
  });

  it('a repeated put of the same version finds the same ticket and writes nothing', { timeout: 15_000 }, async () => {
    const t = andonTicket();
    const first = await sinkWith().put(t, signal());
    const again = await sinkWith().put(t, signal()); // a new sink: nothing cached, RT is asked
    const same = sinkWith();
    await same.put(t, signal());
    await same.put(t, signal());

    expect(again).toEqual(first);
    expect(await rt.byAndonId(t.id)).toHaveLength(1);
    expect(await rt.comments(Number(first.id.slice(3)))).toEqual([]);
  });

  it('a lost answer to the create is a retry error, and the retry finds the ticket instead of making a second', { timeout: 15_000 }, async () => {
    const t = andonTicket();
    const sink = sinkWith(losingAnswer('POST', /\/REST\/2\.0\/ticket$/));
    const lost = sink.put(t, signal());
    await expect(lost).rejects.toMatchObject({ kind: 'retry', message: expect.stringContaining('ECONNRESET') });
    expect(await rt.byAndonId(t.id)).toHaveLength(1); // RT did create it

    const ref = await sink.put(t, signal());
    expect(await rt.byAndonId(t.id)).toEqual([Number(ref.id.slice(3))]);
  });

  it('a put after a create whose result was discarded (gateway restarted) updates that ticket', { timeout: 15_000 }, async () => {
    const v1 = andonTicket();
    void (await sinkWith().put(v1, signal()));
    const v2 = after(v1, 'ack', 'li');
    const ref = await sinkWith().put(v2, signal());

    expect(await rt.byAndonId(v1.id)).toEqual([Number(ref.id.slice(3))]);
    expect((await rt.ticket(Number(ref.id.slice(3)))).cf('AndonVersion')).toBe('2');
  });

  it('a lost answer to an update does not repeat its comment', { timeout: 20_000 }, async () => {
    const sink = sinkWith(losingAnswer('POST', /\/comment$/));
    const v1 = andonTicket();
    const { id } = await sink.put(v1, signal());
    const v2 = after(v1, 'ack', 'wang');
    expect(await kindOf(sink.put(v2, signal()))).toBe('retry');
    expect(await sink.put(v2, signal())).toMatchObject({ id, version: 2 });

    expect(await rt.comments(Number(id.slice(3)))).toEqual(['Andon v2: ack']);
  });

  it('a first version in a state RT cannot create (waiting, merged) still lands in that status', { timeout: 20_000 }, async () => {
    const sink = sinkWith();
    const waiting = after(after(after(andonTicket(), 'ack', 'wang'), 'start', 'wang'), 'wait', 'wang', { reason: 'coordination' });
    const merged = changed(andonTicket(), { state: 'merged', mergedInto: '01FLOOD' }, { action: 'merged' });
    const a = await sink.put(waiting, signal());
    const b = await sink.put(merged, signal());

    expect((await rt.ticket(Number(a.id.slice(3)))).Status).toBe('stalled');
    expect((await rt.ticket(Number(b.id.slice(3)))).Status).toBe('rejected');
    expect((await rt.ticket(Number(b.id.slice(3)))).cf('AndonVersion')).toBe(String(merged.version));
  });

  it('RT owns human states: a version that does not change the Andon state leaves a status set in RT', { timeout: 15_000 }, async () => {
    const sink = sinkWith();
    const v1 = andonTicket();
    const { id } = await sink.put(v1, signal());
    await rt.call('PUT', `ticket/${id.slice(3)}`, { Status: 'open' });
    await sink.put(changed(v1, { occurrences: 2 }, { action: 'occurrence' }), signal());

    expect((await rt.ticket(Number(id.slice(3)))).Status).toBe('open');
  });

  it('a person merging the RT ticket into another one is followed: updates and changes go to the merge target', { timeout: 20_000 }, async () => {
    const sink = sinkWith();
    const v1 = andonTicket();
    const { id } = await sink.put(v1, signal());
    const target = Number((await rt.call<{ id: string }>('POST', 'ticket', { Queue: env.RT_QUEUE, Subject: 'seal problems line 1' })).id);
    await rt.call('PUT', `ticket/${id.slice(3)}`, { MergeInto: target });
    const { cursor } = await sink.changes!(null, signal());
    await rt.call('PUT', `ticket/${target}`, { Owner: 'operator' });

    const ref = await sinkWith().put(after(v1, 'ack', 'wang'), signal());
    expect(ref.id).toBe(`RT-${target}`);
    const got = await rt.ticket(target);
    expect([got.Status, got.cf('AndonId'), got.cf('AndonVersion')]).toEqual(['open', v1.id, '2']);
    expect(await rt.comments(target)).toEqual(['Andon v2: ack']);
    expect((await sink.changes!(cursor, signal())).changes).toEqual([{ ticketId: v1.id, action: 'assign', by: 'operator', at: expect.any(Number), fields: { assignee: 'operator' } }]);
  });

  it('the RT tickets of two Andon tickets merged into one: the second is poison, not a tug of war', { timeout: 15_000 }, async () => {
    const sink = sinkWith();
    const a = andonTicket();
    const b = andonTicket();
    const ra = (await sink.put(a, signal())).id.slice(3);
    const rb = (await sink.put(b, signal())).id.slice(3);
    await rt.call('PUT', `ticket/${rb}`, { MergeInto: Number(ra) });

    await expect(sinkWith().put(after(b, 'ack', 'wang'), signal())).rejects.toMatchObject({ kind: 'poison', message: expect.stringContaining(`holds Andon ticket ${a.id}`) });
    expect(await sinkWith().put(after(a, 'ack', 'wang'), signal())).toMatchObject({ id: `RT-${ra}`, version: 2 });
  });

  it('an older version than RT holds is a conflict', { timeout: 15_000 }, async () => {
    const v1 = andonTicket();
    const v2 = after(v1, 'ack', 'wang');
    const { id } = await sinkWith().put(v2, signal());
    await expect(sinkWith().put(v1, signal())).rejects.toMatchObject({ kind: 'conflict', status: 409, ref: { id, version: 2 } });
  });

  it('changes() reports a ticket resolved and one reassigned in RT, and not the gateway\'s own changes', { timeout: 25_000 }, async () => {
    const sink = sinkWith();
    const a = andonTicket();
    const b = andonTicket({ key: 'filler-02/jam', title: 'filler-02: jam' });
    const ra = Number((await sink.put(a, signal())).id.slice(3));
    const rb = Number((await sink.put(b, signal())).id.slice(3));
    const start = await sink.changes!(null, signal());
    expect(start.changes).toEqual([]);

    await sink.put(after(b, 'ack', 'wang'), signal()); // the gateway's own status change
    await rt.call('POST', `ticket/${ra}/correspond`, { Content: '更换了密封钳加热器 (replaced the seal jaw heater)', ContentType: 'text/plain' });
    await rt.call('POST', `ticket/${ra}/comment`, { Content: 'closing', ContentType: 'text/plain', Status: 'resolved' });
    await rt.call('PUT', `ticket/${rb}`, { Owner: 'operator' });

    const { changes, cursor } = await sink.changes!(start.cursor, signal());
    expect(changes).toEqual([
      {
        ticketId: a.id,
        action: 'resolve',
        by: 'operator',
        at: expect.any(Number),
        fields: { resolution: '更换了密封钳加热器 (replaced the seal jaw heater)', rootCause: `see RT #${ra}` },
      },
      { ticketId: b.id, action: 'assign', by: 'operator', at: expect.any(Number), fields: { assignee: 'operator' } },
    ]);
    expect(Number(cursor)).toBeGreaterThan(Number(start.cursor));
    expect((await sink.changes!(cursor, signal())).changes).toEqual([]);
  });

  it('a wrong queue or a wrong token is poison, never a raw error', { timeout: 15_000 }, async () => {
    expect(await kindOf(sinkWith(undefined, { queue: 'NoSuchQueue' }).put(andonTicket(), signal()))).toBe('poison');
    const badToken = sinkWith(undefined, { token: env.RT_TOKEN.replace(/.{4}$/, '0000') });
    await expect(badToken.put(andonTicket(), signal())).rejects.toMatchObject({ kind: 'poison', status: 401 });
  });

  it('RT holding a create past the timeout: a retry error, and the retry finds the ticket RT made late', { timeout: 20_000 }, async () => {
    // SIGSTOP the server (its process group: master and workers) just as the create goes out.
    const pid = Number(readFileSync(join(RT_DIR, 'rt-server.pid'), 'utf8'));
    let armed = false;
    const pausing: typeof fetch = (input, init) => {
      if (armed && init?.method === 'POST' && new URL(String(input)).pathname.endsWith('/ticket')) {
        armed = false;
        process.kill(-pid, 'SIGSTOP');
      }
      return fetch(input, init);
    };
    const sink = sinkWith(pausing, { timeout: 2_500 });
    await sink.put(andonTicket(), signal()); // preflight and the first-create check, outside the pause
    const t = andonTicket();
    armed = true;
    try {
      await expect(sink.put(t, signal())).rejects.toMatchObject({ kind: 'retry', message: expect.stringContaining('no answer within 2500 ms') });
    } finally {
      process.kill(-pid, 'SIGCONT');
    }
    await expect.poll(() => rt.byAndonId(t.id), { timeout: 5_000, interval: 100 }).toHaveLength(1);

    const ref = await sink.put(t, signal());
    expect(await rt.byAndonId(t.id)).toEqual([Number(ref.id.slice(3))]);
  });

  it('two RT tickets for one Andon id (a late create after the retry looked) are merged into the oldest', { timeout: 15_000 }, async () => {
    const v1 = andonTicket();
    const { id } = await sinkWith().put(v1, signal());
    const late = await rt.call<{ id: string }>('POST', 'ticket', { Queue: env.RT_QUEUE, Subject: v1.title, CustomFields: { AndonId: v1.id, AndonVersion: '1' } });
    expect(await rt.byAndonId(v1.id)).toHaveLength(2);

    const ref = await sinkWith().put(after(v1, 'ack', 'wang'), signal());
    expect(ref).toMatchObject({ id, version: 2 });
    expect(await rt.byAndonId(v1.id)).toEqual([Number(id.slice(3))]);
    expect((await rt.call<{ EffectiveId: { id: string } }>('GET', `ticket/${late.id}`)).EffectiveId.id).toBe(id.slice(3));
  });

  // Last: it stops and restarts the server every test above used.
  it('RT restarted mid-run: puts are retry errors while it is down, then succeed without a duplicate', { timeout: 60_000 }, async () => {
    const sink = sinkWith();
    const v1 = andonTicket();
    const { id } = await sink.put(v1, signal());

    await stopRt();
    const v2 = after(v1, 'ack', 'wang');
    await expect(sink.put(v2, signal())).rejects.toMatchObject({ kind: 'retry', message: expect.stringContaining('ECONNREFUSED') });
    await expect(sinkWith().put(andonTicket(), signal())).rejects.toMatchObject({ kind: 'retry' });

    await startRt(port);
    expect(await sink.put(v2, signal())).toMatchObject({ id, version: 2 });
    expect(await rt.byAndonId(v1.id)).toEqual([Number(id.slice(3))]);
    expect((await rt.ticket(Number(id.slice(3)))).Status).toBe('open');
  });
});
