import { StatusCodes } from 'node-opcua';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAndonError } from '../../model/errors.ts';
import { byTag, connect, tempDir, type Harness } from './fixtures/harness.ts';
import { startPlantServer, type PlantServer } from './fixtures/server.ts';

const TEMP = 'packaging/sealer-01/temperature';
const STATE = 'packaging/sealer-01/state';
const E21 = 'packaging/sealer-01/alarm/E21';

describe('opcua connector against a live plant server', () => {
  const tmp = tempDir();
  let plant: PlantServer;
  let h: Harness;

  const config = () => ({
    endpoint: plant.endpoint,
    publishingInterval: '100ms',
    samplingInterval: '50ms',
    tags: [
      { tag: TEMP, nodeId: 'ns=1;s=Sealer01.Temperature', asset: 'sealer-01' },
      { tag: STATE, nodeId: 'ns=1;s=Sealer01.State', asset: 'sealer-01' },
      { tag: 'packaging/sealer-01/temperature-coarse', nodeId: 'ns=1;s=Sealer01.Temperature', deadband: 5, samplingInterval: '50ms' },
      { tag: 'packaging/sealer-01/counts', nodeId: 'ns=1;s=Sealer01.Counts' },
      { tag: 'andon/red', nodeId: 'ns=1;s=Andon.Red' },
      { tag: 'packaging/sealer-01/temperature-shown', nodeId: 'ns=1;s=Sealer01.Temperature', unit: '°C', decimals: 1 },
    ],
    alarms: [{ notifier: 'ns=1;s=Sealer01', asset: 'sealer-01', area: 'packaging' }],
  });

  beforeAll(async () => {
    plant = await startPlantServer({ pkiDir: tmp.dir });
    h = connect(config(), tmp.dir);
    await h.connector.start();
    await h.statuses.next((s) => s === 'up', 'status up', { since: 0 });
  });

  afterAll(async () => {
    await h?.stop();
    await plant?.stop();
    tmp.cleanup();
  });

  it('sends the initial values with source, tag, asset and the source timestamp', async () => {
    const temp = await h.signals.next(byTag(TEMP), 'initial temperature', { since: 0 });
    expect(temp).toMatchObject({ source: 'plc', tag: TEMP, value: 20, quality: 'good', asset: 'sealer-01' });
    const state = await h.signals.next(byTag(STATE), 'initial state', { since: 0 });
    expect(state).toMatchObject({ value: 'running', quality: 'good' });
    const andon = await h.signals.next(byTag('andon/red'), 'initial andon light', { since: 0 });
    expect(andon.value).toBe(false);
  });

  it('maps Good, Uncertain and Bad status codes to signal quality', async () => {
    const from = h.signals.length;
    const sourceTs = new Date('2026-01-20T08:00:00.000Z');
    plant.temperature.setValueFromSource({ dataType: 'Double', value: 71.5 }, StatusCodes.Good, sourceTs);
    const good = await h.signals.next(byTag(TEMP, (s) => s.value === 71.5), 'good 71.5', { since: from });
    expect(good).toMatchObject({ quality: 'good', ts: sourceTs.getTime() });
    plant.setTemperature(72, StatusCodes.UncertainLastUsableValue);
    expect((await h.signals.next(byTag(TEMP, (s) => s.value === 72), 'uncertain 72', { since: from })).quality).toBe('uncertain');
    plant.setTemperature(73, StatusCodes.BadSensorFailure);
    expect((await h.signals.next(byTag(TEMP, (s) => s.value === 73), 'bad 73', { since: from })).quality).toBe('bad');
    plant.setTemperature(74);
    expect((await h.signals.next(byTag(TEMP, (s) => s.value === 74), 'good 74', { since: from })).quality).toBe('good');
  });

  it('a tag with unit and decimals: its signals carry the unit, the value rounded', async () => {
    const from = h.signals.length;
    plant.setTemperature(64.2649);
    const shown = await h.signals.next(byTag('packaging/sealer-01/temperature-shown', (s) => s.value === 64.3), 'rounded 64.3', { since: from });
    expect(shown).toMatchObject({ unit: '°C', quality: 'good' });
    const plain = await h.signals.next(byTag(TEMP, (s) => s.value === 64.2649), 'plain 64.2649', { since: from });
    expect(plain).not.toHaveProperty('unit');
  });

  it('an absolute deadband suppresses changes smaller than it', async () => {
    const coarse = 'packaging/sealer-01/temperature-coarse';
    plant.setTemperature(100);
    await h.signals.next(byTag(coarse, (s) => s.value === 100), 'coarse 100', { since: 0 });
    const from = h.signals.length;
    for (const v of [101, 102, 103, 104]) {
      plant.setTemperature(v);
      // The fine tag sees every step; waiting on it proves the server sampled each one.
      await h.signals.next(byTag(TEMP, (s) => s.value === v), `fine ${v}`, { since: from });
    }
    plant.setTemperature(110);
    await h.signals.next(byTag(coarse, (s) => s.value === 110), 'coarse 110', { since: from });
    const coarseValues = h.signals.items.slice(from).filter(byTag(coarse)).map((s) => s.value);
    expect(coarseValues).toEqual([110]);
  });

  it('refuses arrays as wrong-type and degrades nothing else', async () => {
    await h.logs.next((l) => l.reason === 'wrong-type', 'wrong-type log', { since: 0 });
    expect(h.rejects).toContain('wrong-type');
    expect(h.signals.items.some(byTag('packaging/sealer-01/counts'))).toBe(false);
    expect(h.statuses.items.at(-1)).toBe('up');
  });

  it('an item the server refuses makes the source degraded, not down; the rest flows; stop() is bounded', async () => {
    const d = connect({ ...config(), id: 'partial', alarms: [], tags: [config().tags[0], { tag: 'ghost', nodeId: 'ns=1;s=No.Such.Node' }] }, tmp.dir);
    await d.connector.start();
    await d.statuses.next((s) => s === 'degraded', 'degraded', { since: 0 });
    const log = await d.logs.next((l) => l.code === 'ANDON_OPCUA_ITEM_FAILED', 'item failed log', { since: 0 });
    expect(log).toMatchObject({ nodeId: 'ns=1;s=No.Such.Node', status: 'BadNodeIdUnknown' });
    await d.signals.next(byTag(TEMP), 'temperature from a degraded source', { since: 0 });
    let completed = false;
    d.connector.signals$.subscribe({ complete: () => (completed = true) });
    const t0 = performance.now();
    await d.stop();
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(completed).toBe(true);
    expect(d.statuses.items.at(-1)).toBe('down');
  });

  it('an active alarm is a true signal with severity and message; return to normal is false', async () => {
    const from = h.signals.length;
    plant.raiseAlarm('seal jaw fault', 700);
    const raised = await h.signals.next(byTag(E21, (s) => s.value === true), 'E21 active', { since: from });
    expect(raised).toMatchObject({ source: 'plc', asset: 'sealer-01', quality: 'good', severity: 700, message: 'seal jaw fault' });
    plant.clearAlarm('seal jaw ok');
    const cleared = await h.signals.next(byTag(E21, (s) => s.value === false), 'E21 normal', { since: from });
    expect(cleared).toMatchObject({ message: 'seal jaw ok' });
  });

  it('acknowledge() acknowledges the condition on the server', async () => {
    const from = h.signals.length;
    plant.raiseAlarm('seal jaw fault', 800);
    await h.signals.next(byTag(E21, (s) => s.value === true), 'E21 active', { since: from });
    expect(plant.alarmAcked()).toBe(false);
    await h.connector.acknowledge('sealer-01', 'E21', 'wang: on my way');
    expect(plant.alarmAcked()).toBe(true);
    // Twice is fine (the board and the HMI may both acknowledge).
    await h.signals.next(byTag(E21, (s) => s.value === true), 'E21 acked event', { since: h.signals.length - 1 });
    await h.connector.acknowledge('sealer-01', 'E21', 'again');
    plant.clearAlarm();
    await h.signals.next(byTag(E21, (s) => s.value === false), 'E21 normal', { since: from });
  });

  it('acknowledging a condition never seen is refused with a code', async () => {
    const err = await h.connector.acknowledge('sealer-01', 'E99', 'x').catch((e: unknown) => e);
    expect(isAndonError(err) && err.code).toBe('ANDON_OPCUA_UNKNOWN_CONDITION');
  });

  it('a connector started while an alarm is active learns it from ConditionRefresh', async () => {
    plant.raiseAlarm('seal jaw fault', 900);
    const late = connect({ ...config(), id: 'late', tags: [] }, tmp.dir);
    try {
      await late.connector.start();
      const s = await late.signals.next(byTag(E21, (x) => x.value === true), 'E21 from refresh', { since: 0 });
      expect(s).toMatchObject({ source: 'late', severity: 900, message: 'seal jaw fault' });
    } finally {
      await late.stop();
      plant.clearAlarm();
    }
  });

  it('write() switches the andon light on, with the data type read from the node', async () => {
    const from = h.signals.length;
    await h.connector.write({ nodeId: 'ns=1;s=Andon.Red', value: true });
    expect(plant.andonRed.readValue().value.value).toBe(true);
    await h.signals.next(byTag('andon/red', (s) => s.value === true), 'andon on', { since: from });
    await h.connector.write({ nodeId: 'ns=1;s=Andon.Red', value: 0 });
    expect(plant.andonRed.readValue().value.value).toBe(false);
  });

  it('write() rejects with a code on a bad status or a value that does not fit', async () => {
    const unknown = await h.connector.write({ nodeId: 'ns=1;s=No.Such.Node', value: 1 }).catch((e: unknown) => e);
    expect(isAndonError(unknown) && unknown.code).toBe('ANDON_OPCUA_WRITE_FAILED');
    expect(String(unknown)).toMatch(/BadNodeIdUnknown/);
    const misfit = await h.connector.write({ nodeId: 'ns=1;s=Andon.Red', value: 'on' }).catch((e: unknown) => e);
    expect(isAndonError(misfit) && misfit.code).toBe('ANDON_OPCUA_WRITE_FAILED');
    const readOnly = await h.connector.write({ nodeId: 'ns=1;s=Sealer01.Temperature', value: 5 }).catch((e: unknown) => e);
    expect(isAndonError(readOnly) && readOnly.code).toBe('ANDON_OPCUA_WRITE_FAILED');
    expect(String(readOnly)).toMatch(/BadNotWritable|BadUserAccessDenied/);
  });
});
