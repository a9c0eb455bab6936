import modbusSerial from 'modbus-serial';
import { AndonError, type ErrorCode } from '../../model/errors.ts';
import type { ModbusSourceConfig } from './config.ts';

// modbus-serial is CommonJS: its default export is the module, whose `default` is the client class.
const ModbusRTU = modbusSerial.default;
type ModbusRTU = InstanceType<typeof ModbusRTU>;

/** An AndonError from the Modbus edge; `modbusCode` is the device's exception code when it answered with one. */
export class ModbusError extends AndonError {
  readonly modbusCode: number | undefined;
  constructor(code: ErrorCode, message: string, opts: { modbusCode?: number; cause?: unknown } = {}) {
    super(code, message, opts.cause === undefined ? {} : { cause: opts.cause });
    this.name = 'ModbusError';
    this.modbusCode = opts.modbusCode;
  }
}

/** The device answered, refusing this one request (the device itself is alive). */
export const isDeviceException = (err: unknown): err is ModbusError => err instanceof ModbusError && err.code === 'ANDON_MODBUS_EXCEPTION';

/** Exception 10/11: a TCP gateway says the device behind it does not answer: that device is down, not one read. */
const GATEWAY_EXCEPTIONS = new Set([10, 11]);
export const ILLEGAL_DATA_ADDRESS = 2;
export const ILLEGAL_DATA_VALUE = 3;

/** One connection to one device. Requests run one at a time (RTU needs it; TCP devices often serve one at a time anyway). */
export interface Transport {
  readRegisters(table: 'holding' | 'input', start: number, count: number): Promise<number[]>;
  readBits(table: 'coil' | 'discrete', start: number, count: number): Promise<boolean[]>;
  writeCoil(address: number, value: boolean): Promise<void>;
  writeRegister(address: number, value: number): Promise<void>;
  /** Drops the connection now; requests in flight or queued fail with ANDON_MODBUS_UNREACHABLE. */
  close(): Promise<void>;
}

/** Where and how to reach the device, from the source config. */
export type Endpoint =
  | { kind: 'tcp'; host: string; port: number; unitId: number; timeout: number }
  | {
      kind: 'rtu';
      path: string;
      options: { baudRate: number; parity: 'none' | 'even' | 'odd'; dataBits: 7 | 8; stopBits: 1 | 2 };
      unitId: number;
      timeout: number;
    };

export function endpointOf(config: ModbusSourceConfig): Endpoint {
  const { unitId, timeout } = config;
  if (config.serial) {
    const { path, baudRate, parity, dataBits, stopBits } = config.serial;
    return { kind: 'rtu', path, options: { baudRate, parity, dataBits, stopBits }, unitId, timeout };
  }
  return { kind: 'tcp', host: config.host ?? '127.0.0.1', port: config.port, unitId, timeout };
}

export const describeEndpoint = (ep: Endpoint): string => (ep.kind === 'tcp' ? `${ep.host}:${ep.port}` : ep.path);

/** Maps what modbus-serial rejects with onto our codes. */
export function classify(err: unknown, what: string): ModbusError {
  if (err instanceof ModbusError) return err;
  const e = (err ?? {}) as { message?: unknown; modbusCode?: unknown; errno?: unknown; code?: unknown };
  const message = typeof e.message === 'string' && e.message ? e.message : String(err);
  if (typeof e.modbusCode === 'number') {
    const code = GATEWAY_EXCEPTIONS.has(e.modbusCode) ? 'ANDON_MODBUS_UNREACHABLE' : 'ANDON_MODBUS_EXCEPTION';
    return new ModbusError(code, `${what}: ${message}`, { modbusCode: e.modbusCode, cause: err });
  }
  if (e.errno === 'ETIMEDOUT' || e.code === 'ETIMEDOUT') return new ModbusError('ANDON_MODBUS_TIMEOUT', `${what}: ${message}`, { cause: err });
  return new ModbusError('ANDON_MODBUS_UNREACHABLE', `${what}: ${message}`, { cause: err });
}

/**
 * Drops the connection, bounded in time. TCP: destroy, not end (ending waits
 * for a peer that may never answer). RTU: close, which releases the serial
 * port and its lock (modbus-serial's destroy() does not, for buffered RTU).
 */
const drop = (client: ModbusRTU, kind: Endpoint['kind']): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, 1_000);
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    try {
      if (kind === 'tcp') client.destroy(done);
      else client.close(done);
    } catch {
      done();
    }
  });

/**
 * Connects (TCP) or opens the serial port (RTU) within `timeout`. `onClose`
 * fires when the device side drops the connection (not on our own close()).
 */
export async function openTransport(ep: Endpoint, onClose: () => void): Promise<Transport> {
  const client = new ModbusRTU();
  // Port errors also fail the request in flight; without a listener an 'error' event would crash the process.
  client.on('error', () => undefined);
  const pending = new Set<(err: ModbusError) => void>();
  let closed = false;
  const failAll = (why: string) => {
    closed = true;
    for (const fail of [...pending]) fail(new ModbusError('ANDON_MODBUS_UNREACHABLE', why));
  };

  const connecting = ep.kind === 'tcp' ? client.connectTCP(ep.host, { port: ep.port }) : client.connectRTUBuffered(ep.path, { ...ep.options });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      connecting,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new ModbusError('ANDON_MODBUS_TIMEOUT', `connect to ${describeEndpoint(ep)}: no connection within ${ep.timeout} ms`)),
          ep.timeout,
        );
      }),
    ]);
  } catch (err) {
    connecting.catch(() => undefined);
    await drop(client, ep.kind);
    throw classify(err, `connect to ${describeEndpoint(ep)}`);
  } finally {
    clearTimeout(timer);
  }
  client.setID(ep.unitId);
  client.setTimeout(ep.timeout);
  client.on('close', () => {
    if (closed) return;
    failAll('connection closed by the device');
    onClose();
  });

  let chain: Promise<unknown> = Promise.resolve();
  /** Runs `op` after the requests before it, abandoning it after `timeout`. */
  const request = <T>(what: string, op: () => Promise<T>): Promise<T> => {
    const run = chain.then(
      () =>
        new Promise<T>((resolve, reject) => {
          if (closed) return reject(new ModbusError('ANDON_MODBUS_UNREACHABLE', `${what}: not connected`));
          const fail = (err: ModbusError) => {
            clearTimeout(guard);
            pending.delete(fail);
            reject(err);
          };
          // modbus-serial times out too (same duration); this guard also covers a port that never calls back.
          const guard = setTimeout(() => fail(new ModbusError('ANDON_MODBUS_TIMEOUT', `${what}: no answer within ${ep.timeout} ms`)), ep.timeout + 50);
          pending.add(fail);
          op().then(
            (value) => {
              clearTimeout(guard);
              pending.delete(fail);
              resolve(value);
            },
            (err: unknown) => fail(classify(err, what)),
          );
        }),
    );
    chain = run.catch(() => undefined);
    return run;
  };

  return {
    readRegisters: (table, start, count) =>
      request(
        `read ${table} ${start}+${count}`,
        async () => (await (table === 'holding' ? client.readHoldingRegisters(start, count) : client.readInputRegisters(start, count))).data,
      ),
    readBits: (table, start, count) =>
      request(`read ${table} ${start}+${count}`, async () =>
        (await (table === 'coil' ? client.readCoils(start, count) : client.readDiscreteInputs(start, count))).data.slice(0, count),
      ),
    writeCoil: (address, value) => request(`write coil ${address}`, async () => void (await client.writeCoil(address, value))),
    writeRegister: (address, value) => request(`write holding ${address}`, async () => void (await client.writeRegister(address, value))),
    async close() {
      failAll('connection closed');
      await drop(client, ep.kind);
    },
  };
}
