import { coerceInt64, coerceUInt64 } from 'node-opcua-basic-types';
import { AttributeIds, DataType, resolveNodeId, Variant, type ClientSession, type NodeId } from 'node-opcua-client';
import { AndonError } from '../../model/errors.ts';
import type { WriteRequest } from '../connector.ts';
import { within } from './classify.ts';

const INTEGER_RANGE: Partial<Record<DataType, [number, number]>> = {
  [DataType.SByte]: [-128, 127],
  [DataType.Byte]: [0, 255],
  [DataType.Int16]: [-32768, 32767],
  [DataType.UInt16]: [0, 65535],
  [DataType.Int32]: [-2147483648, 2147483647],
  [DataType.UInt32]: [0, 4294967295],
  [DataType.Int64]: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  [DataType.UInt64]: [0, Number.MAX_SAFE_INTEGER],
};

/** The value in the node's built-in type, or a message saying why it does not fit. */
export function coerce(dataType: DataType, value: WriteRequest['value']): { value: unknown } | { problem: string } {
  const name = DataType[dataType];
  if (dataType === DataType.Boolean) {
    if (typeof value === 'boolean') return { value };
    if (value === 0 || value === 1) return { value: value === 1 };
    return { problem: `${JSON.stringify(value)} is not a Boolean` };
  }
  if (dataType === DataType.String) return { value: String(value) };
  const n = typeof value === 'boolean' ? Number(value) : typeof value === 'number' ? value : Number.NaN;
  if (dataType === DataType.Float || dataType === DataType.Double) {
    return Number.isFinite(n) ? { value: n } : { problem: `${JSON.stringify(value)} is not a number (${name})` };
  }
  const range = INTEGER_RANGE[dataType];
  if (!range) return { problem: `writing ${name} nodes is not supported (Boolean, numbers and String are)` };
  if (!Number.isInteger(n) || n < range[0] || n > range[1]) return { problem: `${JSON.stringify(value)} does not fit ${name}` };
  if (dataType === DataType.Int64) return { value: coerceInt64(n) };
  if (dataType === DataType.UInt64) return { value: coerceUInt64(n) };
  return { value: n };
}

/**
 * Writes to the plant (actions: the andon light). The node's built-in data
 * type is read once per session and cached, so `value: true` or `value: 1`
 * lands as the type the PLC declared.
 */
export class Writer {
  private readonly types = new Map<string, DataType>();

  constructor(
    private readonly sourceId: string,
    private readonly timeoutMs = 5000,
  ) {}

  /** Forget cached data types (a new session may be a new server). */
  reset(): void {
    this.types.clear();
  }

  async write(session: ClientSession, req: WriteRequest): Promise<void> {
    const where = `source ${this.sourceId}: write ${req.nodeId ?? '(no nodeId)'}`;
    if (req.nodeId === undefined) throw new AndonError('ANDON_OPCUA_WRITE_FAILED', `${where}: an OPC UA write needs a nodeId`);
    let nodeId: NodeId;
    try {
      nodeId = resolveNodeId(req.nodeId);
    } catch (err) {
      throw new AndonError('ANDON_OPCUA_WRITE_FAILED', `${where}: not a node id`, { cause: err });
    }
    const dataType = await this.dataType(session, nodeId, where);
    const coerced = coerce(dataType, req.value);
    if ('problem' in coerced) throw new AndonError('ANDON_OPCUA_WRITE_FAILED', `${where}: ${coerced.problem}`);
    const status = await this.call(session.write({ nodeId, attributeId: AttributeIds.Value, value: { value: new Variant({ dataType, value: coerced.value }) } }), where);
    if (!status.isGood()) throw new AndonError('ANDON_OPCUA_WRITE_FAILED', `${where}: ${status.name}`);
  }

  private async dataType(session: ClientSession, nodeId: NodeId, where: string): Promise<DataType> {
    const key = nodeId.toString();
    const cached = this.types.get(key);
    if (cached !== undefined) return cached;
    const dv = await this.call(session.read({ nodeId, attributeId: AttributeIds.DataType }), where);
    if (!dv.statusCode.isGood()) throw new AndonError('ANDON_OPCUA_WRITE_FAILED', `${where}: cannot read its data type: ${dv.statusCode.name}`);
    const declared = dv.value.value as NodeId;
    // Built-in types are ns=0;i=1..25; anything else (enumerations, subtypes) is resolved through its supertypes.
    const builtIn = declared.namespace === 0 && typeof declared.value === 'number' && declared.value >= 1 && declared.value <= 25;
    const dataType = builtIn ? (declared.value as DataType) : await this.call(session.getBuiltInDataType(nodeId), where);
    this.types.set(key, dataType);
    return dataType;
  }

  /** A request bounded in time: node-opcua holds requests while it reconnects. */
  private call<T>(p: Promise<T>, where: string): Promise<T> {
    return within(p, this.timeoutMs, () => new AndonError('ANDON_OPCUA_TIMEOUT', `${where}: no answer within ${this.timeoutMs} ms`)).catch((err: unknown) => {
      if (err instanceof AndonError) throw err;
      throw new AndonError('ANDON_OPCUA_NOT_CONNECTED', `${where}: ${(err as Error).message}`, { cause: err });
    });
  }
}
