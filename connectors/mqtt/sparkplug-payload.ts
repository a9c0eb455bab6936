import proto from 'sparkplug-payload/lib/sparkplugPayloadProto.js';
import type { Signal } from '../../model/signal.ts';

/**
 * Sparkplug B payloads, decoded with the generated protobuf code of
 * sparkplug-payload (not its `decodePayload`, which needs every metric's
 * datatype: DATA messages may omit it, and then it comes from the birth).
 */
const { Payload } = proto.org.eclipse.tahu.protobuf;
type RawMetric = proto.org.eclipse.tahu.protobuf.Payload.IMetric;

export interface DecodedPayload {
  timestamp: number | undefined;
  seq: number | undefined;
  metrics: RawMetric[];
}

/** A flattened metric: templates become `<metric>/<member>`; `datatype` 0 when unknown. */
export interface Metric {
  name: string | undefined;
  alias: string | undefined;
  datatype: number;
  timestamp: number | undefined;
  raw: RawMetric;
}

/** Why a metric's value was not used: `skip` (a type that is no signal: DataSet, Bytes, ...) or a refusal. */
export type ValueResult = { value: Signal['value']; quality: Signal['quality'] | undefined } | { skip: true } | { refuse: 'wrong-type'; why: string };

export const DT = {
  Int8: 1,
  Int16: 2,
  Int32: 3,
  Int64: 4,
  UInt64: 8,
  DateTime: 13,
  Float: 9,
  Double: 10,
  Boolean: 11,
  String: 12,
  Text: 14,
  UUID: 15,
  Template: 19,
} as const;
const SKIPPED = new Set([16, 17, 18, 20, 21]); // DataSet, Bytes, File, PropertySet, PropertySetList
const FIELD_OF: Record<number, readonly string[]> = {
  9: ['floatValue', 'doubleValue'],
  10: ['doubleValue', 'floatValue'],
  11: ['booleanValue'],
  12: ['stringValue'],
  14: ['stringValue'],
  15: ['stringValue'],
  19: ['templateValue'],
};
const INT_FIELDS = ['intValue', 'longValue'];

const has = (o: object, key: string) => Object.hasOwn(o, key);

/** A protobuf uint64 (a Long when the long package is loaded) or uint32 as a number. */
export function toNumber(v: unknown, signed = false): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'object' && v !== null && 'toNumber' in v && typeof v.toNumber === 'function') {
    const long = v as { toNumber(): number; toSigned(): { toNumber(): number } };
    return signed ? long.toSigned().toNumber() : long.toNumber();
  }
  return undefined;
}

/** Decodes a payload; throws on invalid protobuf. */
export function decodePayload(buf: Uint8Array): DecodedPayload {
  const p = Payload.decode(buf);
  return {
    timestamp: has(p, 'timestamp') ? toNumber(p.timestamp) : undefined,
    seq: has(p, 'seq') ? toNumber(p.seq) : undefined,
    metrics: p.metrics,
  };
}

/** The NCMD payload asking an edge node to publish its births again. */
export function encodeRebirthRequest(timestamp: number): Uint8Array {
  return Payload.encode({ timestamp, metrics: [{ name: 'Node Control/Rebirth', datatype: DT.Boolean, booleanValue: true }] }).finish();
}

export function describeMetric(m: RawMetric): Metric {
  return {
    name: has(m, 'name') && m.name ? m.name : undefined,
    alias: has(m, 'alias') ? String(toNumber(m.alias)) : undefined,
    datatype: has(m, 'datatype') ? (m.datatype ?? 0) : 0,
    timestamp: has(m, 'timestamp') ? toNumber(m.timestamp) : undefined,
    raw: m,
  };
}

/** Template instances as `[relative name, member]` pairs, nested templates flattened (definitions give nothing). */
export function templateMembers(m: RawMetric): [string, RawMetric][] {
  const t = m.templateValue;
  if (!t || t.isDefinition) return [];
  return (t.metrics ?? []).flatMap((member): [string, RawMetric][] => {
    const name = member.name ?? '';
    if (member.datatype === DT.Template) return templateMembers(member).map(([n, x]): [string, RawMetric] => [`${name}/${n}`, x]);
    return [[name, member]];
  });
}

/** The metric's `Quality` property (an OPC quality number, as Ignition sends it), if any. */
function qualityOf(m: RawMetric): Signal['quality'] | undefined {
  const props = m.properties;
  const i = props?.keys?.indexOf('Quality') ?? -1;
  if (!props || i < 0) return undefined;
  const pv = props.values?.[i];
  const q = pv ? toNumber(pv.intValue ?? pv.longValue) : undefined;
  if (q === undefined) return undefined;
  return q >= 192 && q < 256 ? 'good' : q >= 64 && q < 192 ? 'uncertain' : 'bad';
}

/** The value of a (non-template) metric of `datatype` (from the metric, else its birth; 0 when unknown). */
export function valueOf(m: RawMetric, datatype: number): ValueResult {
  const quality = qualityOf(m);
  if (has(m, 'isNull') && m.isNull) return { value: null, quality };
  if (SKIPPED.has(datatype)) return { skip: true };
  const field = (m as { value?: string }).value; // protobufjs oneof getter: the name of the field set
  if (field === undefined) return { refuse: 'wrong-type', why: `metric has datatype ${datatype} but no value` };
  const allowed = datatype === 0 ? undefined : (FIELD_OF[datatype] ?? INT_FIELDS);
  if (allowed && !allowed.includes(field)) return { refuse: 'wrong-type', why: `metric of datatype ${datatype} carries ${field}` };
  const raw = (m as Record<string, unknown>)[field];
  let value: Signal['value'];
  if (field === 'intValue') value = datatype >= DT.Int8 && datatype <= DT.Int32 ? (raw as number) | 0 : (raw as number) >>> 0;
  else if (field === 'longValue') value = toNumber(raw, datatype === DT.Int64) ?? null;
  else if (field === 'floatValue' || field === 'doubleValue' || field === 'booleanValue' || field === 'stringValue') value = raw as Signal['value'];
  else return { skip: true };
  if (typeof value === 'number' && !Number.isFinite(value)) return { refuse: 'wrong-type', why: 'metric value is not a finite number' };
  return { value, quality };
}
