import {
  AttributeIds,
  ClientMonitoredItemGroup,
  DataChangeFilter,
  DataChangeTrigger,
  DataType,
  DeadbandType,
  TimestampsToReturn,
  VariantArrayType,
  type ClientSubscription,
  type DataValue,
  type StatusCode,
  type Variant,
} from 'node-opcua-client';
import type { Logger } from 'pino';
import type { RejectReason } from '../connector.ts';
import type { Signal } from '../../model/signal.ts';
import { float32Value, roundTo } from '../values.ts';
import type { OpcuaSourceConfig } from './config.ts';

type TagConfig = OpcuaSourceConfig['tags'][number];

/** Good → good, Uncertain → uncertain, Bad → bad: the top two bits of the status code. */
export function quality(status: StatusCode): Signal['quality'] {
  const severity = status.value >>> 30;
  return severity === 0 ? 'good' : severity === 1 ? 'uncertain' : 'bad';
}

const NUMERIC = new Set([DataType.SByte, DataType.Byte, DataType.Int16, DataType.UInt16, DataType.Int32, DataType.UInt32, DataType.Float, DataType.Double]);

/** A variant as a signal value, or why it cannot be one (arrays, structures, dates, ...). */
export function signalValue(v: Variant): { value: Signal['value'] } | { refused: string } {
  if (v.arrayType !== VariantArrayType.Scalar) return { refused: `${DataType[v.dataType]} array` };
  if (v.dataType === DataType.Null) return { value: null };
  if (v.dataType === DataType.Boolean) return { value: Boolean(v.value) };
  if (v.dataType === DataType.String) return { value: String(v.value) };
  // A Float is a float32: cut to its own precision (196.39999389648438 is 196.4).
  if (v.dataType === DataType.Float) return { value: float32Value(Number(v.value)) };
  if (NUMERIC.has(v.dataType)) return { value: Number(v.value) };
  if (v.dataType === DataType.Int64 || v.dataType === DataType.UInt64) {
    // node-opcua carries 64-bit integers as [high, low] 32-bit words.
    const [hi, lo] = v.value as [number, number];
    const big = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
    return { value: Number(v.dataType === DataType.Int64 ? BigInt.asIntN(64, big) : big) };
  }
  return { refused: DataType[v.dataType] ?? `data type ${v.dataType}` };
}

/** A monitored item the server refused. */
export interface ItemFailure {
  what: string;
  nodeId: string;
  status: string;
}

/**
 * The data monitored items of one source: one item per configured node id,
 * grouped by sampling interval, deadband and queue size so a large tag list
 * is created in a few requests. Keeps each tag's last signal, so a lost link
 * can mark them bad once.
 */
export class DataItems {
  /**
   * Each tag's last value and quality, by tag index (`undefined`: no value yet). Plain slots updated
   * in place, not the last Signal: a Signal kept until the tag's next change (a second at 1 s sampling)
   * outlives the young generation, so every reading became old-generation garbage
   * (`npm run bench:ingest -- --rss`: ~160 bytes a reading promoted, a third of the major GCs' work).
   */
  private readonly lastValue: (Signal['value'] | undefined)[] = [];
  private readonly lastBad: boolean[] = [];
  /**
   * The readings of the publish response being handled, emitted in one go once node-opcua's loop over
   * it is done (a microtask). node-opcua decodes a whole response (5,000 values at 10k tags) and calls
   * `changed` for each while it holds all of them; a reading handled inside that loop (rule pipeline,
   * store) allocated enough to run the scavenger twice, which moved every DataValue of the response,
   * timestamps included, to the old generation (`npm run bench:ingest -- --rss`: ~2 MiB/s of it).
   * Handled after the loop, the response is already garbage.
   */
  private pending: Signal[] = [];
  private readonly refusedLogged = new Map<number, number>();

  constructor(
    private readonly config: OpcuaSourceConfig,
    private readonly emit: (s: Signal) => void,
    private readonly reject: (reason: RejectReason) => void,
    private readonly now: () => number,
    private readonly log: Logger,
  ) {}

  /** Creates the items on a new subscription; resolves with the ones the server refused. */
  async monitor(sub: ClientSubscription): Promise<ItemFailure[]> {
    const groups = new Map<string, number[]>();
    this.config.tags.forEach((t, i) => {
      const key = `${t.samplingInterval ?? this.config.samplingInterval}|${t.deadband ?? ''}|${t.queueSize ?? this.config.queueSize}`;
      groups.set(key, [...(groups.get(key) ?? []), i]);
    });
    const failures: ItemFailure[] = [];
    for (const indexes of groups.values()) failures.push(...(await this.monitorGroup(sub, indexes)));
    return failures;
  }

  private async monitorGroup(sub: ClientSubscription, indexes: number[]): Promise<ItemFailure[]> {
    const first = this.config.tags[indexes[0] as number] as TagConfig;
    const params = {
      samplingInterval: first.samplingInterval ?? this.config.samplingInterval,
      queueSize: first.queueSize ?? this.config.queueSize,
      discardOldest: true,
      filter:
        first.deadband === undefined
          ? null
          : new DataChangeFilter({ trigger: DataChangeTrigger.StatusValue, deadbandType: DeadbandType.Absolute, deadbandValue: first.deadband }),
    };
    const group = ClientMonitoredItemGroup.create(
      sub,
      indexes.map((i) => ({ nodeId: (this.config.tags[i] as TagConfig).nodeId, attributeId: AttributeIds.Value })),
      params,
      TimestampsToReturn.Both,
    );
    group.on('changed', (_item, dv: DataValue, index: number) => {
      const i = indexes[index];
      try {
        if (i !== undefined) this.onValue(i, dv);
      } catch (err) {
        // A throw must not reach node-opcua's publish loop.
        this.log.error({ err, code: 'ANDON_INTERNAL' }, 'data change handling failed');
      }
    });
    await new Promise<void>((resolve, reject) => {
      group.once('initialized', resolve);
      group.once('terminated', (err?: Error) => reject(err ?? new Error('monitored item group terminated')));
    });
    return group.monitoredItems.flatMap((item, k) => {
      if (item.statusCode.isGood()) return [];
      const t = this.config.tags[indexes[k] as number] as TagConfig;
      return [{ what: `tag ${t.tag}`, nodeId: t.nodeId, status: item.statusCode.name }];
    });
  }

  private onValue(i: number, dv: DataValue): void {
    const t = this.config.tags[i] as TagConfig;
    const v = signalValue(dv.value);
    if ('refused' in v) {
      this.reject('wrong-type');
      this.logRefusal(i, t, v.refused);
      return;
    }
    const ts = dv.sourceTimestamp?.getTime() ?? dv.serverTimestamp?.getTime() ?? this.now();
    const value = typeof v.value === 'number' && t.decimals !== undefined ? roundTo(v.value, t.decimals) : v.value;
    const q = quality(dv.statusCode);
    this.lastValue[i] = value;
    this.lastBad[i] = q === 'bad';
    if (this.pending.length === 0) queueMicrotask(() => this.flush());
    this.pending.push(this.signal(t, value, q, ts));
  }

  /** Emits the readings queued by `onValue`, in the order they came. */
  private flush(): void {
    const list = this.pending;
    if (list.length === 0) return;
    this.pending = [];
    for (const s of list) {
      try {
        this.emit(s);
      } catch (err) {
        this.log.error({ err, code: 'ANDON_INTERNAL' }, 'data change handling failed');
      }
    }
  }

  private signal(t: TagConfig, value: Signal['value'], q: Signal['quality'], ts: number): Signal {
    const signal: Signal = { source: this.config.id, tag: t.tag, value, quality: q, ts };
    if (t.asset) signal.asset = t.asset;
    if (t.unit) signal.unit = t.unit;
    return signal;
  }

  /** At most one log line per tag and minute: a wrong type tends to repeat at the sampling rate. */
  private logRefusal(i: number, t: TagConfig, what: string): void {
    const at = this.now();
    if (at - (this.refusedLogged.get(i) ?? -Infinity) < 60_000) return;
    this.refusedLogged.set(i, at);
    this.log.warn({ tag: t.tag, nodeId: t.nodeId, dataType: what, reason: 'wrong-type' }, `tag ${t.tag}: ${what} is not a boolean, number or string; value refused`);
  }

  /** Emits every tag's last value once more with quality bad (the link is down). */
  markBad(ts: number): void {
    this.flush();
    this.config.tags.forEach((t, i) => {
      const value = this.lastValue[i];
      if (value === undefined || this.lastBad[i] === true) return;
      this.lastBad[i] = true;
      this.emit(this.signal(t, value, 'bad', ts));
    });
  }
}
