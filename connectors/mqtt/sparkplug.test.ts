import type { MqttClient } from 'mqtt';
import { filter, firstValueFrom, fromEvent, map, timeout } from 'rxjs';
import { get } from 'sparkplug-payload';
import proto from 'sparkplug-payload/lib/sparkplugPayloadProto.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAedes, type AedesBroker } from './fixtures/brokers.ts';
import { harness, testClient, type Harness } from './fixtures/harness.ts';

const spb = get('spBv1.0')!;
type UPayload = Parameters<typeof spb.encodePayload>[0];
const RawPayload = proto.org.eclipse.tahu.protobuf.Payload;

let broker: AedesBroker;
let h: Harness;
let edge: MqttClient;
/** NCMD messages seen by a client standing in for the edge nodes: [topic, decoded payload]. */
let ncmd: [string, UPayload][];

const T0 = 1768896000000;
const publish = (topic: string, payload: UPayload) => edge.publishAsync(topic, Buffer.from(spb.encodePayload(payload)), { qos: 0 });
/** DATA the way many edge nodes send it: alias only, no name, no datatype (it comes from the birth). */
const publishRaw = (topic: string, payload: Parameters<typeof RawPayload.encode>[0]) =>
  edge.publishAsync(topic, Buffer.from(RawPayload.encode(payload).finish()), { qos: 0 });
const nbirth = (node: string, bdSeq: number, extra: UPayload['metrics'] = []) =>
  publish(`spBv1.0/plant-a/NBIRTH/${node}`, {
    timestamp: T0,
    seq: 0,
    metrics: [
      { name: 'bdSeq', type: 'Int64', value: bdSeq },
      { name: 'Node Control/Rebirth', type: 'Boolean', value: false, alias: 0 },
      { name: 'Temperature', type: 'Double', value: 20.5, alias: 1 },
      { name: 'State', type: 'String', value: 'RUN', alias: 2 },
      ...(extra ?? []),
    ],
  });
const rebirthRequest = (node: string, ms = 5_000) =>
  firstValueFrom(
    fromEvent(edge, 'message', (topic: string, payload: Buffer) => [topic, spb.decodePayload(payload)] as [string, UPayload]).pipe(
      filter(([topic]) => topic === `spBv1.0/plant-a/NCMD/${node}`),
      map(([, p]) => p),
      timeout(ms),
    ),
  );

beforeAll(async () => {
  broker = await startAedes();
  h = harness({ url: broker.url, subscriptions: [{ topic: 'spBv1.0/plant-a/#', format: 'sparkplug', qos: 0 }] });
  await h.connector.start();
  await h.status('up');
  edge = await testClient(broker.url);
  ncmd = [];
  edge.on('message', (topic, payload) => ncmd.push([topic, spb.decodePayload(payload)]));
  await edge.subscribeAsync('spBv1.0/plant-a/NCMD/#', { qos: 0 });
});

afterAll(async () => {
  await edge?.endAsync();
  await h?.stop();
  await broker?.close();
});

describe('Sparkplug B', () => {
  it('births define aliases and become online signals; data by alias (no datatype) and by name', async () => {
    await nbirth('node-1', 7);
    await publish('spBv1.0/plant-a/DBIRTH/node-1/filler-1', {
      timestamp: T0 + 1,
      seq: 1,
      metrics: [
        { name: 'Speed', type: 'Int32', value: -5, alias: 10 },
        { name: 'Running', type: 'Boolean', value: true, alias: 11 },
        { name: 'Motor', type: 'Template', value: { isDefinition: false, templateRef: 'Motor', metrics: [{ name: 'Current', type: 'Float', value: 3.5 }] } },
      ],
    });
    await publishRaw('spBv1.0/plant-a/NDATA/node-1', { timestamp: T0 + 2, seq: 2, metrics: [{ alias: 1, doubleValue: 21.25 }] });
    await publish('spBv1.0/plant-a/DDATA/node-1/filler-1', {
      timestamp: T0 + 3,
      seq: 3,
      metrics: [{ name: 'Speed', type: 'Int32', value: 120, timestamp: T0 + 2 }],
    });

    await h.signal((s) => s.tag === 'plant-a/filler-1/Speed' && s.value === 120);
    const seen = h.signals.filter((s) => s.tag.startsWith('plant-a/node-1/') || s.tag.startsWith('plant-a/filler-1/'));
    expect(seen.map((s) => [s.tag, s.value, s.quality, s.asset, s.ts])).toEqual([
      ['plant-a/node-1/online', true, 'good', 'node-1', T0],
      ['plant-a/node-1/Temperature', 20.5, 'good', 'node-1', T0],
      ['plant-a/node-1/State', 'RUN', 'good', 'node-1', T0],
      ['plant-a/filler-1/online', true, 'good', 'filler-1', T0 + 1],
      ['plant-a/filler-1/Speed', -5, 'good', 'filler-1', T0 + 1],
      ['plant-a/filler-1/Running', true, 'good', 'filler-1', T0 + 1],
      ['plant-a/filler-1/Motor/Current', 3.5, 'good', 'filler-1', T0 + 1],
      ['plant-a/node-1/Temperature', 21.25, 'good', 'node-1', T0 + 2],
      ['plant-a/filler-1/Speed', 120, 'good', 'filler-1', T0 + 2],
    ]);
    expect(seen.every((s) => s.source === 'mes')).toBe(true);
    expect(h.rejected()).toBe(0);
    expect(ncmd).toEqual([]);
  });

  it('a death turns the last values bad and the node (and its devices) offline', async () => {
    await nbirth('node-2', 3);
    await publish('spBv1.0/plant-a/DBIRTH/node-2/capper-1', { timestamp: T0, seq: 1, metrics: [{ name: 'Torque', type: 'Float', value: 1.5, alias: 20 }] });
    await publishRaw('spBv1.0/plant-a/DDATA/node-2/capper-1', { timestamp: T0 + 10, seq: 2, metrics: [{ alias: 20, floatValue: 2.5 }] });
    await h.signal((s) => s.tag === 'plant-a/capper-1/Torque' && s.value === 2.5);

    await publish('spBv1.0/plant-a/DDEATH/node-2/capper-1', { timestamp: T0 + 20, seq: 3, metrics: [] });
    await h.signal((s) => s.tag === 'plant-a/capper-1/online' && s.value === false);
    expect(await h.signal((s) => s.tag === 'plant-a/capper-1/Torque' && s.quality === 'bad')).toMatchObject({ value: 2.5, ts: T0 + 20, asset: 'capper-1' });

    // A will of an older session (other bdSeq) is ignored; the real one kills the node.
    await publish('spBv1.0/plant-a/NDEATH/node-2', { timestamp: T0 + 25, metrics: [{ name: 'bdSeq', type: 'Int64', value: 2 }] });
    await publish('spBv1.0/plant-a/NDEATH/node-2', { timestamp: T0 + 30, metrics: [{ name: 'bdSeq', type: 'Int64', value: 3 }] });
    await h.signal((s) => s.tag === 'plant-a/node-2/online' && s.value === false);
    const bad = h.signals.filter((s) => s.tag.startsWith('plant-a/node-2/') && s.quality === 'bad');
    expect(bad.map((s) => [s.tag, s.value, s.ts])).toEqual([
      ['plant-a/node-2/Temperature', 20.5, T0 + 30],
      ['plant-a/node-2/State', 'RUN', T0 + 30],
    ]);
    expect(h.signals.filter((s) => s.tag === 'plant-a/node-2/online').map((s) => [s.value, s.ts])).toEqual([
      [true, T0],
      [false, T0 + 30],
    ]);
    expect(h.rejected()).toBe(0);
  });

  it('an unknown alias is refused and asks the node for a rebirth', async () => {
    await nbirth('node-3', 1);
    await h.signal((s) => s.tag === 'plant-a/node-3/online');
    const request = rebirthRequest('node-3');
    await publishRaw('spBv1.0/plant-a/NDATA/node-3', {
      timestamp: T0,
      seq: 1,
      metrics: [
        { alias: 99, doubleValue: 1 },
        { alias: 2, stringValue: 'STOP' },
      ],
    });
    const p = await request;
    expect(p.metrics).toEqual([expect.objectContaining({ name: 'Node Control/Rebirth', type: 'Boolean', value: true })]);
    expect(h.rejects.get('unknown-alias')).toBe(1);
    // The known metric of the same message still counts.
    expect((await h.signal((s) => s.tag === 'plant-a/node-3/State' && s.value === 'STOP')).asset).toBe('node-3');
  });

  it('a sequence gap is refused as "sequence" and asks for a rebirth; the seq wraps 255 -> 0; a repeated seq is no gap', async () => {
    await nbirth('node-4', 1);
    for (let i = 1; i <= 256; i++) {
      await publishRaw('spBv1.0/plant-a/NDATA/node-4', { timestamp: T0 + i, seq: i % 256, metrics: [{ alias: 1, doubleValue: i }] });
    }
    await h.signal((s) => s.tag === 'plant-a/node-4/Temperature' && s.value === 256);
    // The same seq again is a redelivery, not a gap.
    await publishRaw('spBv1.0/plant-a/NDATA/node-4', { timestamp: T0 + 256, seq: 0, metrics: [{ alias: 1, doubleValue: 256 }] });
    await publishRaw('spBv1.0/plant-a/NDATA/node-4', { timestamp: T0 + 257, seq: 1, metrics: [{ alias: 1, doubleValue: 257 }] });
    await h.signal((s) => s.tag === 'plant-a/node-4/Temperature' && s.value === 257);
    expect(h.rejects.get('sequence') ?? 0).toBe(0);

    const request = rebirthRequest('node-4');
    await publishRaw('spBv1.0/plant-a/NDATA/node-4', { timestamp: T0 + 999, seq: 5, metrics: [{ alias: 1, doubleValue: 999 }] });
    await request;
    expect(h.rejects.get('sequence')).toBe(1);
    expect(ncmd.filter(([t]) => t === 'spBv1.0/plant-a/NCMD/node-4')).toHaveLength(1);
    // The reading itself is real and kept.
    await h.signal((s) => s.tag === 'plant-a/node-4/Temperature' && s.value === 999);
  });

  it('data from a node never seen born asks for a rebirth (a host started after the node)', async () => {
    const request = rebirthRequest('node-5');
    await publish('spBv1.0/plant-a/NDATA/node-5', { timestamp: T0, seq: 17, metrics: [{ name: 'Pressure', type: 'Double', value: 4.2 }] });
    await request;
    expect((await h.signal((s) => s.tag === 'plant-a/node-5/Pressure')).value).toBe(4.2);
  });

  it('ignores NCMD, DCMD and STATE; refuses invalid protobuf and malformed topics', async () => {
    const before = h.rejects.get('malformed') ?? 0;
    await publish('spBv1.0/plant-a/DCMD/node-1/filler-1', { timestamp: T0, metrics: [{ name: 'Speed', type: 'Int32', value: 1 }] });
    await edge.publishAsync('spBv1.0/plant-a/STATE/host', 'ONLINE', { qos: 0 });
    await edge.publishAsync('spBv1.0/plant-a/NDATA/node-1', Buffer.from([0x0f, 0x01, 0x02]), { qos: 0 });
    await publish('spBv1.0/plant-a/DDATA/node-1', { timestamp: T0, seq: 4, metrics: [] }); // DDATA without a device
    await nbirth('node-6', 0);
    await h.signal((s) => s.tag === 'plant-a/node-6/online');
    expect((h.rejects.get('malformed') ?? 0) - before).toBe(2);
  });
});
