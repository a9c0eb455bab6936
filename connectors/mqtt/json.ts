import type { RejectReason } from '../connector.ts';
import type { Signal } from '../../model/signal.ts';
import { roundTo } from '../values.ts';
import type { Mapping, MqttSubscription } from './config.ts';
import { evaluate, parseExpr, type Expr, type Found } from './expr.ts';
import { compileJsonata, evaluationError, isProblem, type Compiled } from './jsonata.ts';

/**
 * JSON subscriptions: one message → one signal per JSON object (a payload may
 * be one object or an array of objects; a bare scalar payload is its own value).
 *
 *   topic "mes/+/alarms", tag "packaging/{1}/alarm/{code}", value "$.active", ts "$.ts", asset "{1}"
 *   mes/sealer-01/alarms  {"code":"E21","active":true,"ts":"2026-01-20T08:01:01Z"}
 *   → { tag: "packaging/sealer-01/alarm/E21", value: true, ts: 1768896061000, asset: "sealer-01", quality: "good" }
 *
 * Defaults: tag = the topic, value = `$.value`, ts = arrival time (also when
 * the ts path finds nothing), quality = good, no asset. An item that cannot be
 * mapped is refused on its own; the others of the message still count.
 */
export interface JsonMapper {
  /** Synchronous for paths and templates; a Promise when the subscription has a JSONata expression (its items in order). */
  map(topic: string, captures: readonly string[], payload: Buffer, refuse: (reason: RejectReason, why: string) => void): Signal[] | Promise<Signal[]>;
}

/** A JSONata mapping key: evaluated (async) before the item is mapped; its result sits in `slot`. */
interface Jx {
  kind: 'jsonata';
  key: string;
  text: string;
  compiled: Compiled;
  slot: number;
}
type Mapped = Expr | Jx;

interface Refusal {
  reason: RejectReason;
  why: string;
}
const refusal = (reason: RejectReason, why: string): Refusal => ({ reason, why });
const isRefusal = (v: unknown): v is Refusal => typeof v === 'object' && v !== null && 'reason' in v && 'why' in v;

const compile = (text: string | undefined): Expr | undefined => (text === undefined ? undefined : (parseExpr(text) as Expr));
const isScalar = (v: unknown): v is number | boolean | string => typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string';
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;
const NUMERIC = /^-?\d+(\.\d+)?$/;

/** What an optional field gave: absent (undefined), a scalar or null, or a refusal. */
function scalarOf(found: Found | undefined, name: string): number | boolean | string | null | undefined | Refusal {
  if (found === undefined) return undefined;
  if ('miss' in found) return found.miss === 'unmapped' ? undefined : refusal('wrong-type', found.why);
  const v = found.value;
  if (v === undefined || v === null || isScalar(v)) return v;
  return refusal('wrong-type', `${name} is ${Array.isArray(v) ? 'an array' : 'an object'}, not a scalar`);
}

function tsOf(v: unknown, now: number): number | Refusal {
  if (v === undefined || v === null) return now;
  const n = typeof v === 'string' && NUMERIC.test(v) ? Number(v) : v;
  if (typeof n === 'number') return Number.isFinite(n) && n >= 0 ? Math.round(n) : refusal('wrong-type', `ts ${n} is not an epoch ms time`);
  if (typeof n === 'string' && ISO.test(n)) {
    const t = Date.parse(n);
    if (Number.isFinite(t)) return t;
  }
  return refusal('wrong-type', 'ts is neither epoch ms nor an ISO 8601 time');
}

function qualityOf(v: unknown): Signal['quality'] | Refusal {
  if (v === undefined || v === null) return 'good';
  if (typeof v === 'boolean') return v ? 'good' : 'bad';
  if (typeof v === 'string') {
    const q = v.trim().toLowerCase();
    if (q === 'good' || q === 'uncertain' || q === 'bad') return q;
    if (NUMERIC.test(q)) return qualityOf(Number(q));
  }
  // OPC quality byte: 0xC0.. good, 0x40.. uncertain, below bad.
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 255) return v >= 192 ? 'good' : v >= 64 ? 'uncertain' : 'bad';
  return refusal('wrong-type', 'quality is not good, uncertain, bad, a boolean or an OPC quality number');
}

function severityOf(v: unknown): number | undefined | Refusal {
  if (v === undefined || v === null) return undefined;
  const n = typeof v === 'string' && NUMERIC.test(v.trim()) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n)) return refusal('wrong-type', 'severity is not a number');
  return Math.min(1000, Math.max(1, Math.round(n)));
}

/** Compiles one JSON subscription of source `source`; `now` stamps items without a ts. */
export function compileJsonMapping(sub: MqttSubscription, source: string, now: () => number): JsonMapper {
  const jx: Jx[] = [];
  /** A path or template, or a JSONata expression (compiled when the config was validated: taken from the cache). */
  const mapped = (key: string, m: Mapping | undefined): Mapped | undefined => {
    if (typeof m !== 'object') return compile(m);
    const compiled = compileJsonata(m.jsonata);
    if (isProblem(compiled)) throw new Error(`${key}: JSONata expression does not compile (the config was not validated)`);
    const j: Jx = { kind: 'jsonata', key, text: m.jsonata, compiled, slot: jx.length };
    jx.push(j);
    return j;
  };
  const tag = mapped('tag', sub.tag);
  const value = mapped('value', sub.value ?? '$.value') as Mapped;
  const valueIsDefault = sub.value === undefined;
  const ts = mapped('ts', sub.ts);
  const quality = compile(sub.quality);
  const asset = compile(sub.asset);
  const severity = compile(sub.severity);
  const message = mapped('message', sub.message);
  const unit = compile(sub.unit);

  /** Maps one item; `pre` holds the JSONata results by slot (evaluated before). */
  function mapItem(item: unknown, topic: string, captures: readonly string[], arrived: number, pre?: unknown[]): Signal | Refusal {
    if (Array.isArray(item)) return refusal('wrong-type', 'an array inside the payload array');
    const at = (e: Mapped | undefined): Found | undefined =>
      e === undefined ? undefined : e.kind === 'jsonata' ? { value: pre?.[e.slot] } : evaluate(e, item, captures);

    let tagText: unknown = topic;
    if (tag) {
      const found = at(tag) as Found;
      if ('miss' in found) return refusal(found.miss, found.why);
      tagText = typeof found.value === 'number' ? String(found.value) : found.value;
      if (tagText === undefined || tagText === null || tagText === '') return refusal('unmapped', `tag "${tag.text}" found nothing`);
      if (typeof tagText !== 'string') return refusal('wrong-type', `tag "${tag.text}" is not text`);
    }

    let v: Signal['value'];
    if (valueIsDefault && !(typeof item === 'object' && item !== null)) v = item as Signal['value'];
    else {
      const found = at(value) as Found;
      if ('miss' in found) return refusal(found.miss, found.why);
      if (found.value === undefined) return refusal('unmapped', `value "${value.text}" found nothing`);
      if (found.value !== null && !isScalar(found.value)) return refusal('wrong-type', `value "${value.text}" is not a number, boolean, string or null`);
      v = found.value;
    }

    const tsRaw = scalarOf(at(ts), 'ts');
    if (isRefusal(tsRaw)) return tsRaw;
    const t = tsOf(tsRaw, arrived);
    if (isRefusal(t)) return t;
    const qRaw = scalarOf(at(quality), 'quality');
    if (isRefusal(qRaw)) return qRaw;
    const q = qualityOf(qRaw);
    if (isRefusal(q)) return q;
    const a = scalarOf(at(asset), 'asset');
    if (isRefusal(a)) return a;
    const sRaw = scalarOf(at(severity), 'severity');
    if (isRefusal(sRaw)) return sRaw;
    const s = severityOf(sRaw);
    if (isRefusal(s)) return s;
    const m = scalarOf(at(message), 'message');
    if (isRefusal(m)) return m;
    const u = scalarOf(at(unit), 'unit');
    if (isRefusal(u)) return u;
    if (typeof v === 'number' && sub.decimals !== undefined) v = roundTo(v, sub.decimals);

    const signal: Signal = { source, tag: tagText as string, value: v, quality: q, ts: t };
    if (a !== undefined && a !== null && a !== '') signal.asset = String(a);
    if (s !== undefined) signal.severity = s;
    if (m !== undefined && m !== null) signal.message = String(m);
    if (u !== undefined && u !== null && u !== '') signal.unit = String(u).slice(0, 32);
    return signal;
  }

  /** Evaluates the JSONata keys of each item in order, then maps it; a failing expression refuses that item only. */
  async function mapAsync(items: unknown[], topic: string, captures: readonly string[], arrived: number, refuse: (reason: RejectReason, why: string) => void) {
    const bindings = { topic, captures };
    const signals: Signal[] = [];
    for (const item of items) {
      const pre: unknown[] = [];
      let failed: string | undefined;
      if (!Array.isArray(item)) {
        for (const j of jx) {
          try {
            pre[j.slot] = await j.compiled.evaluate(item, bindings);
          } catch (err) {
            failed = `${j.key} ${JSON.stringify(j.text)}: ${evaluationError(err)}`;
            break;
          }
        }
      }
      if (failed !== undefined) {
        refuse('expression', failed);
        continue;
      }
      const r = mapItem(item, topic, captures, arrived, pre);
      if (isRefusal(r)) refuse(r.reason, r.why);
      else signals.push(r);
    }
    return signals;
  }

  return {
    map(topic, captures, payload, refuse) {
      let json: unknown;
      try {
        json = JSON.parse(payload.toString('utf8').replace(/^\uFEFF/, '')); // some MES prefix a BOM
      } catch (err) {
        refuse('malformed', `not JSON: ${(err as Error).message}`);
        return [];
      }
      const arrived = now();
      const items = Array.isArray(json) ? json : [json];
      if (jx.length > 0) return mapAsync(items, topic, captures, arrived, refuse);
      const signals: Signal[] = [];
      for (const item of items) {
        const r = mapItem(item, topic, captures, arrived);
        if (isRefusal(r)) refuse(r.reason, r.why);
        else signals.push(r);
      }
      return signals;
    },
  };
}
