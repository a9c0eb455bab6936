import type { Logger } from 'pino';
import type { RejectReason } from '../connector.ts';
import type { Signal } from '../../model/signal.ts';
import { DT, decodePayload, describeMetric, templateMembers, valueOf, type DecodedPayload, type Metric } from './sparkplug-payload.ts';

/**
 * A Sparkplug B host application (read side), contracts §Signal.
 *
 * Topic `spBv1.0/<group>/<type>/<edge node>[/<device>]`. A metric becomes the
 * signal `<group>/<device or node>/<metric name>` with asset = device or node.
 * Births and deaths become `<group>/<device or node>/online` (true / false); a
 * death also re-emits that node's (and its devices') last values with quality bad.
 *
 *   NBIRTH seq 0 {Temp alias 1 = 20}   → plant-a/node-1/online true, plant-a/node-1/Temp 20
 *   NDATA  seq 1 {alias 1 = 21}        → plant-a/node-1/Temp 21
 *   NDATA  seq 3 {alias 9 = 5}         → refused 'sequence' and 'unknown-alias'; one NCMD Node Control/Rebirth
 *   NDEATH {bdSeq}                     → plant-a/node-1/online false, plant-a/node-1/Temp 21 (bad)
 *
 * Sequence numbers (0..255, wrapping) run per edge node across NBIRTH, DBIRTH,
 * NDATA, DDATA and DDEATH. A gap is refused as 'sequence' (once per gap) and a
 * rebirth is requested; the message's metrics are still used (they are real
 * readings; the rebirth resynchronises). An alias the births did not define is
 * refused as 'unknown-alias' and also asks for a rebirth; so does data from a
 * node never seen born. Rebirth requests are sent at most once per node per 5 s
 * until its NBIRTH arrives. An NDEATH whose bdSeq differs from the NBIRTH's is
 * a stale will of an older session and is ignored. NCMD, DCMD and STATE
 * messages are ignored. bdSeq and Node/Device Control metrics are not signals.
 */
export interface SparkplugHost {
  handle(topic: string, payload: Buffer, refuse: (reason: RejectReason, why: string) => void): Signal[];
}

interface Scope {
  /** alias → metric name */
  aliases: Map<string, string>;
  /** metric name → datatype from the birth */
  types: Map<string, number>;
  /** metric name → last value (for quality bad on death) */
  last: Map<string, Signal['value']>;
}
interface EdgeNode {
  seq: number | undefined;
  bdSeq: number | undefined;
  born: boolean;
  scope: Scope;
  devices: Map<string, Scope>;
  rebirthAt: number | undefined;
}

const REBIRTH_RETRY_MS = 5_000;
const newScope = (): Scope => ({ aliases: new Map(), types: new Map(), last: new Map() });
const isControl = (name: string) => name === 'bdSeq' || name.startsWith('Node Control/') || name.startsWith('Device Control/');
const TYPES = new Set(['NBIRTH', 'NDEATH', 'NDATA', 'DBIRTH', 'DDEATH', 'DDATA']);

export interface SparkplugOptions {
  source: string;
  /** Wall clock, ms: timestamps of payloads without one, and the rebirth retry window. */
  now: () => number;
  /** Publishes NCMD `Node Control/Rebirth` = true to `spBv1.0/<group>/NCMD/<node>`. */
  requestRebirth: (group: string, node: string) => void;
  log: Logger;
}

export function createSparkplugHost(opts: SparkplugOptions): SparkplugHost {
  const { source, now, log } = opts;
  const nodes = new Map<string, EdgeNode>();

  const nodeOf = (group: string, node: string): EdgeNode => {
    const key = `${group}/${node}`;
    let n = nodes.get(key);
    if (!n) nodes.set(key, (n = { seq: undefined, bdSeq: undefined, born: false, scope: newScope(), devices: new Map(), rebirthAt: undefined }));
    return n;
  };

  const rebirth = (group: string, nodeId: string, n: EdgeNode, why: string) => {
    const t = now();
    if (n.rebirthAt !== undefined && t - n.rebirthAt < REBIRTH_RETRY_MS) return;
    n.rebirthAt = t;
    log.info({ group, node: nodeId, why }, 'sparkplug: requesting rebirth');
    opts.requestRebirth(group, nodeId);
  };

  /** Signals of the metrics of a birth or data message; births (re)define aliases and types. */
  function metricSignals(
    p: DecodedPayload,
    scope: Scope,
    prefix: string,
    asset: string,
    birth: boolean,
    ts: number,
    refuse: (r: RejectReason, why: string) => void,
  ): { signals: Signal[]; unknownAlias: boolean } {
    const signals: Signal[] = [];
    let unknownAlias = false;
    const emit = (name: string, m: Metric) => {
      const datatype = m.datatype || scope.types.get(name) || 0;
      if (datatype === DT.Template || (m.datatype === 0 && m.raw.templateValue)) {
        for (const [member, raw] of templateMembers(m.raw)) emit(`${name}/${member}`, describeMetric(raw));
        return;
      }
      if (birth && m.datatype) scope.types.set(name, m.datatype);
      if (isControl(name)) return;
      const v = valueOf(m.raw, datatype);
      if ('skip' in v) return;
      if ('refuse' in v) return refuse(v.refuse, `${prefix}/${name}: ${v.why}`);
      scope.last.set(name, v.value);
      signals.push({ source, tag: `${prefix}/${name}`, value: v.value, quality: v.quality ?? 'good', ts: m.timestamp ?? ts, asset });
    };
    for (const raw of p.metrics) {
      const m = describeMetric(raw);
      let name = m.name;
      if (birth && name !== undefined && m.alias !== undefined) scope.aliases.set(m.alias, name);
      if (name === undefined && m.alias !== undefined) name = scope.aliases.get(m.alias);
      if (name === undefined) {
        if (m.alias === undefined) refuse('malformed', `${prefix}: a metric without name or alias`);
        else {
          unknownAlias = true;
          refuse('unknown-alias', `${prefix}: alias ${m.alias} was not defined by a birth`);
        }
        continue;
      }
      emit(name, m);
    }
    return { signals, unknownAlias };
  }

  const online = (prefix: string, asset: string, value: boolean, ts: number): Signal => ({
    source,
    tag: `${prefix}/online`,
    value,
    quality: 'good',
    ts,
    asset,
  });
  const badValues = (scope: Scope, prefix: string, asset: string, ts: number): Signal[] =>
    [...scope.last].map(([name, value]) => ({ source, tag: `${prefix}/${name}`, value, quality: 'bad', ts, asset }));

  return {
    handle(topic, payload, refuse) {
      const parts = topic.split('/');
      if (parts[0] !== 'spBv1.0') {
        refuse('malformed', 'not a Sparkplug B topic (spBv1.0/...)');
        return [];
      }
      const [, group, type, nodeId, deviceId] = parts;
      if (group === 'STATE' || type === 'NCMD' || type === 'DCMD' || type === 'STATE') return [];
      const isDevice = type?.startsWith('D') ?? false;
      if (!group || !type || !nodeId || !TYPES.has(type) || parts.length !== (isDevice ? 5 : 4) || (isDevice && !deviceId)) {
        refuse('malformed', 'not a Sparkplug B topic spBv1.0/<group>/<type>/<edge node>[/<device>]');
        return [];
      }
      let p: DecodedPayload;
      try {
        p = decodePayload(payload);
      } catch (err) {
        refuse('malformed', `invalid Sparkplug B protobuf: ${(err as Error).message}`);
        return [];
      }
      const ts = p.timestamp ?? now();
      const n = nodeOf(group, nodeId);
      const id = isDevice ? (deviceId as string) : nodeId;
      const prefix = `${group}/${id}`;

      if (type !== 'NDEATH' && p.seq !== undefined) {
        const expected = n.seq === undefined ? undefined : (n.seq + 1) % 256;
        // The same seq again is a redelivery (QoS 1 after a reconnect), not a gap.
        if (type !== 'NBIRTH' && expected !== undefined && p.seq !== expected && p.seq !== n.seq) {
          refuse('sequence', `${group}/${nodeId}: seq ${p.seq} where ${expected} was expected`);
          rebirth(group, nodeId, n, 'sequence gap');
        }
        n.seq = p.seq % 256;
      }

      switch (type) {
        case 'NBIRTH': {
          n.born = true;
          n.rebirthAt = undefined;
          n.scope = newScope();
          n.devices.clear();
          const bd = p.metrics.map(describeMetric).find((m) => m.name === 'bdSeq');
          n.bdSeq = bd ? (valueOf(bd.raw, bd.datatype) as { value: number }).value : undefined;
          return [online(prefix, id, true, ts), ...metricSignals(p, n.scope, prefix, id, true, ts, refuse).signals];
        }
        case 'DBIRTH': {
          const scope = newScope();
          n.devices.set(id, scope);
          return [online(prefix, id, true, ts), ...metricSignals(p, scope, prefix, id, true, ts, refuse).signals];
        }
        case 'NDATA':
        case 'DDATA': {
          const known = isDevice ? n.devices.has(id) : n.born;
          let scope = isDevice ? n.devices.get(id) : n.scope;
          if (!scope) n.devices.set(id, (scope = newScope()));
          const r = metricSignals(p, scope, prefix, id, false, ts, refuse);
          if (!known || r.unknownAlias) rebirth(group, nodeId, n, known ? 'unknown alias' : `data from ${prefix} before its birth`);
          return r.signals;
        }
        case 'DDEATH': {
          const scope = n.devices.get(id);
          return [online(prefix, id, false, ts), ...(scope ? badValues(scope, prefix, id, ts) : [])];
        }
        default: {
          // NDEATH: the node's will. A bdSeq other than the current birth's is a stale will.
          const bd = p.metrics.map(describeMetric).find((m) => m.name === 'bdSeq');
          const deathBd = bd ? valueOf(bd.raw, bd.datatype) : undefined;
          if (n.bdSeq !== undefined && deathBd && 'value' in deathBd && deathBd.value !== n.bdSeq) {
            log.debug({ group, node: nodeId, bdSeq: deathBd.value, current: n.bdSeq }, 'sparkplug: stale NDEATH ignored');
            return [];
          }
          n.born = false;
          n.seq = undefined;
          const signals = [online(prefix, id, false, ts), ...badValues(n.scope, prefix, id, ts)];
          for (const [device, scope] of n.devices)
            signals.push(online(`${group}/${device}`, device, false, ts), ...badValues(scope, `${group}/${device}`, device, ts));
          return signals;
        }
      }
    },
  };
}
