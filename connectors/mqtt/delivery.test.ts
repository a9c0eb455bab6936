import type { MqttClient } from 'mqtt';
import { filter, firstValueFrom, fromEvent, lastValueFrom, Subject, take, tap, timeout, toArray } from 'rxjs';
import proto from 'sparkplug-payload/lib/sparkplugPayloadProto.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Signal } from '../../model/signal.ts';
import { freePort, startAedes, type AedesBroker } from './fixtures/brokers.ts';
import { harness, testClient, type Harness } from './fixtures/harness.ts';
import { REJECT_LOG_WINDOW_MS } from './rejects.ts';

const RawPayload = proto.org.eclipse.tahu.protobuf.Payload;

let broker: AedesBroker;
let pub: MqttClient;
const open: Harness[] = [];
const track = (h: Harness) => (open.push(h), h);

beforeAll(async () => {
  broker = await startAedes();
  pub = await testClient(broker.url);
});

afterAll(async () => {
  await Promise.all(open.map((h) => h.stop()));
  await pub?.endAsync();
  await broker?.close();
});

const logged = (h: Harness, msg: string) => h.logs.filter((l) => typeof l.msg === 'string' && l.msg.includes(msg));

describe('bad input never stops the connector', () => {
  it('10,000 bad payloads of every kind are refused and counted, and a good one still arrives', async () => {
    const h = track(
      harness({
        url: broker.url,
        clientId: 'andon-flood',
        maxMessageBytes: 1024,
        subscriptions: [
          { topic: 'flood/+', tag: 'flood/{1}/{code}', value: '$.v', ts: '$.ts' },
          { topic: 'spBv1.0/flood/#', format: 'sparkplug' },
        ],
      }),
    );
    await h.connector.start();
    await h.status('up');
    const started = performance.now();

    let seq = 0; // one edge node sending only unknown aliases, in sequence
    const kinds: [string, (i: number) => [string, Buffer | string]][] = [
      ['malformed', (i) => ['flood/a', `{"code": "x", "v": ${i}`]],
      ['malformed', (i) => ['flood/a', Buffer.from([0xff, 0xfe, 0x00, i & 0xff])]],
      ['wrong-type', (i) => ['flood/a', JSON.stringify({ code: 'x', v: { nested: i } })]],
      ['wrong-type', (i) => ['flood/a', JSON.stringify({ code: 'x', v: i, ts: `day ${i}` })]],
      ['wrong-type', (i) => ['flood/a', JSON.stringify([[i]])]],
      ['unmapped', (i) => ['flood/a', JSON.stringify({ v: i })]],
      ['unmapped', (i) => ['flood/a', JSON.stringify({ code: `c${i}` })]],
      ['too-large', (i) => ['flood/a', JSON.stringify({ code: 'x', v: 'x'.repeat(2000 + (i % 10)) })]],
      // Field 2 (metrics) announcing more bytes than follow: never valid protobuf.
      ['malformed', (i) => [`spBv1.0/flood/NDATA/n${i % 7}`, Buffer.from([0x12, 0x10 + (i % 64), i & 0xff])]],
      [
        'unknown-alias',
        (i) => ['spBv1.0/flood/NDATA/n-alias', Buffer.from(RawPayload.encode({ seq: seq++ % 256, metrics: [{ alias: 1000 + i, doubleValue: i }] }).finish())],
      ],
    ];
    const expected = new Map<string, number>();
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < 10_000; i++) {
      const [reason, make] = kinds[i % kinds.length]!;
      expected.set(reason, (expected.get(reason) ?? 0) + 1);
      const [topic, payload] = make(i);
      sends.push(pub.publishAsync(topic, payload, { qos: 1 }));
    }
    sends.push(pub.publishAsync('flood/ok', JSON.stringify({ code: 'good', v: 42 }), { qos: 1 }));
    await Promise.all(sends);

    const good = await h.signal((s) => s.tag === 'flood/ok/good', 15_000);
    expect(good.value).toBe(42);
    expect(Object.fromEntries(h.rejects)).toEqual(Object.fromEntries(expected));
    expect(h.rejected()).toBe(10_000);
    expect(h.signals).toHaveLength(1);
    expect(h.statuses).toEqual(['connecting', 'up']);

    // At most one warning per reason per 10 s window, each carrying the count refused in between.
    const windows = Math.floor((performance.now() - started) / REJECT_LOG_WINDOW_MS) + 1;
    const warns = logged(h, 'mqtt payload refused');
    for (const reason of expected.keys()) expect(warns.filter((w) => w.reason === reason).length).toBeLessThanOrEqual(windows);
    expect(warns.every((w) => w.level === 40)).toBe(true);
  });
});

describe('no loss', () => {
  it('a persistent session delivers what was published while the connector was stopped, in order', async () => {
    const config = { url: broker.url, clientId: 'andon-persist', subscriptions: [{ topic: 'persist/#' }] };
    const first = harness(config);
    await first.connector.start();
    await first.status('up');
    await first.stop();

    for (let i = 0; i < 50; i++) await pub.publishAsync(`persist/${i}`, JSON.stringify({ value: i }), { qos: 1 });

    const second = track(harness(config));
    await second.connector.start();
    const got = await second.count((s) => s.tag.startsWith('persist/'), 50);
    expect(got.map((s) => s.value)).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });

  it('a burst is taken at most 500 messages per event-loop turn, so timers and HTTP keep their turns', async () => {
    const config = { url: broker.url, clientId: 'andon-burst', subscriptions: [{ topic: 'burst/#' }] };
    const first = harness(config);
    await first.connector.start();
    await first.status('up');
    await first.stop();
    // Queued while the connector is away, the broker hands the whole backlog over at once on reconnect.
    await Promise.all(Array.from({ length: 3_000 }, (_, i) => pub.publishAsync(`burst/${i % 10}`, JSON.stringify({ value: i }), { qos: 1 })));

    const second = track(harness(config, { subscribe: false }));
    let inTurn = 0;
    let most = 0;
    let n = 0;
    const all = new Subject<void>();
    second.connector.signals$.subscribe(() => {
      if (inTurn++ === 0) setImmediate(() => (inTurn = 0));
      most = Math.max(most, inTurn);
      if (++n === 3_000) all.next();
    });
    const done = firstValueFrom(all.pipe(timeout(20_000)));
    await second.connector.start();
    await done;
    expect(most).toBeGreaterThan(50); // the burst did come in large reads
    expect(most).toBeLessThanOrEqual(500);
  });

  it('a message whose processing throws is not acknowledged: the broker redelivers it, in order', async () => {
    const h = track(harness({ url: broker.url, clientId: 'andon-throw', subscriptions: [{ topic: 'throw/#' }] }, { subscribe: false }));
    // The first subscriber's pipeline fails on the poison signal (a store that cannot commit).
    const errors: unknown[] = [];
    h.connector.signals$
      .pipe(
        tap((s) => {
          if (s.tag === 'throw/poison') throw new Error('store unavailable');
        }),
      )
      .subscribe({ error: (e) => errors.push(e) });
    // A second, healthy subscriber (subscribed after the failing one, so it had not seen the poison yet).
    const got: Signal[] = [];
    const seen = new Subject<Signal>();
    h.connector.signals$.subscribe((s) => (got.push(s), seen.next(s)));
    await h.connector.start();
    await h.status('up');
    for (const t of ['before', 'poison', 'after']) await pub.publishAsync(`throw/${t}`, JSON.stringify({ value: t }), { qos: 1 });

    await firstValueFrom(
      seen.pipe(
        filter((s) => s.tag === 'throw/after'),
        timeout(10_000),
      ),
    );
    expect(got.map((s) => s.tag)).toEqual(['throw/before', 'throw/poison', 'throw/after']);
    expect(errors).toHaveLength(1);
    expect(logged(h, 'left unacknowledged')).toHaveLength(1);
    expect(h.statuses).toEqual(['connecting', 'up', 'down', 'up']);
  });

  it('messages that arrive before anyone subscribed wait in the broker', async () => {
    const h = track(harness({ url: broker.url, clientId: 'andon-early', subscriptions: [{ topic: 'early/#' }] }, { subscribe: false }));
    await h.connector.start();
    await h.status('up');
    const unacked = firstValueFrom(
      fromEvent(broker.broker, 'clientDisconnect').pipe(
        filter((c) => (c as { id: string }).id === 'andon-early'),
        timeout(5_000),
      ),
    );
    await pub.publishAsync('early/1', JSON.stringify({ value: 1 }), { qos: 1 });
    await unacked;
    const got = await firstValueFrom(h.connector.signals$.pipe(timeout(5_000)));
    expect([got.tag, got.value]).toEqual(['early/1', 1]);
  });
});

describe('write', () => {
  it('publishes the value to the topic with QoS 1, not retained', async () => {
    const h = track(harness({ url: broker.url, clientId: 'andon-write', subscriptions: [{ topic: 'unused/#' }] }));
    await h.connector.start();
    await h.status('up');
    const watcher = await testClient(broker.url);
    await watcher.subscribeAsync('andon/#', { qos: 1 });
    const received = firstValueFrom(
      fromEvent(watcher, 'message', (topic: string, payload: Buffer, packet: { qos: number; retain: boolean }) => ({
        topic,
        payload: payload.toString(),
        qos: packet.qos,
        retain: packet.retain,
      })).pipe(take(2), toArray(), timeout(5_000)),
    );
    await h.connector.write!({ topic: 'andon/line-1/red', value: true });
    await h.connector.write!({ topic: 'andon/line-1/text', value: 'P0 sealer-01' });
    expect(await received).toEqual([
      { topic: 'andon/line-1/red', payload: 'true', qos: 1, retain: false },
      { topic: 'andon/line-1/text', payload: 'P0 sealer-01', qos: 1, retain: false },
    ]);
    await expect(h.connector.write!({ value: 1 })).rejects.toMatchObject({ code: 'ANDON_MQTT_WRITE_INVALID' });
    await watcher.endAsync();
  });

  it('with the broker unreachable: start resolves, status is down, write is refused, stop is quick', async () => {
    const h = harness({ url: `mqtt://127.0.0.1:${await freePort()}`, subscriptions: [{ topic: 'x/#' }] });
    const completed = lastValueFrom(h.connector.status$.pipe(toArray()));
    await h.connector.start();
    expect(h.statuses).toEqual(['connecting', 'down']);
    await expect(h.connector.write!({ topic: 'andon/red', value: true })).rejects.toMatchObject({
      name: 'AndonError',
      code: 'ANDON_MQTT_NOT_CONNECTED',
      retryable: true,
    });
    const t = performance.now();
    await h.stop();
    expect(performance.now() - t).toBeLessThan(2_500);
    expect(await completed).toEqual(['connecting', 'down']);
  });
});
