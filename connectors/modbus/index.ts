import { asyncScheduler, BehaviorSubject, distinctUntilChanged } from 'rxjs';
import { LeanSubject } from '../../model/subject.ts';
import type { Connector, ConnectorDeps, ConnectorStatus, WriteRequest } from '../connector.ts';
import type { Signal } from '../../model/signal.ts';
import { describeEndpoint, endpointOf, ModbusError, openTransport } from './client.ts';
import type { ModbusSourceConfig } from './config.ts';
import { encodeRegister } from './decode.ts';
import { createDevice } from './device.ts';
import { planReads } from './plan.ts';
import { createPoller } from './poll.ts';

export { modbusSourceSchema, type ModbusSourceConfig } from './config.ts';

/** What a Modbus connector may additionally be given (tests pin time and jitter). */
export interface ModbusDeps extends ConnectorDeps {
  /** Wall clock for signal timestamps (epoch ms). */
  now?: () => number;
  /** Jitter source for the reconnect backoff, in [0, 1). */
  random?: () => number;
}

/**
 * A Modbus TCP or RTU source: polls its register map at `pollInterval` in
 * batched reads and emits every mapped value on every poll (README: why).
 * A device that stops answering goes `down`, its tags get one bad signal
 * each, then silence until it answers again.
 */
export function createModbusConnector(config: ModbusSourceConfig, deps: ModbusDeps): Connector {
  const endpoint = endpointOf(config);
  const log = deps.log.child({ endpoint: describeEndpoint(endpoint), unitId: config.unitId });
  const now = deps.now ?? (() => asyncScheduler.now());
  const signals = new LeanSubject<Signal>();
  const status = new BehaviorSubject<ConnectorStatus>('connecting');

  const plan = planReads(config.registers, { maxGap: config.maxGap, maxRegisters: config.maxRegistersPerRead });
  const poller = createPoller(plan, { source: config.id, log, reject: deps.reject, now, emit: (s) => signals.next(s) });
  const device = createDevice({
    log,
    poller,
    open: (onClose) => openTransport(endpoint, onClose),
    status: (s) => status.next(s),
    pollInterval: config.pollInterval,
    random: deps.random ?? Math.random,
  });
  log.debug({ reads: plan.length, tags: config.registers.length }, 'modbus read plan');

  let stopped = false;
  return {
    id: config.id,
    signals$: signals.asObservable(),
    status$: status.pipe(distinctUntilChanged()),
    // a poll acknowledges nothing: what one read block yields commits together
    commitsTogether: true,
    start: () => device.start(),
    async stop() {
      if (stopped) return;
      stopped = true;
      await device.stop();
      signals.complete();
      status.complete();
    },
    async write(req: WriteRequest) {
      const { table, address, value } = req;
      if (address === undefined || !Number.isInteger(address) || address < 0 || address > 65535) {
        throw new ModbusError('ANDON_MODBUS_WRITE_INVALID', `a modbus write needs an address 0..65535 (got ${String(address)})`);
      }
      if (table === 'coil') {
        const state = value === true || value === 1 ? true : value === false || value === 0 ? false : undefined;
        if (state === undefined) throw new ModbusError('ANDON_MODBUS_WRITE_INVALID', `a coil takes true or false (got ${JSON.stringify(value)})`);
        await device.withConnection(`write coil ${address}`, (t) => t.writeCoil(address, state));
      } else if (table === 'holding') {
        const word = typeof value === 'number' ? encodeRegister(value) : undefined;
        if (word === undefined)
          throw new ModbusError('ANDON_MODBUS_WRITE_INVALID', `a holding register takes an integer -32768..65535 (got ${JSON.stringify(value)})`);
        await device.withConnection(`write holding ${address}`, (t) => t.writeRegister(address, word));
      } else {
        throw new ModbusError('ANDON_MODBUS_WRITE_INVALID', `a modbus write needs table: coil or table: holding (got ${String(table)})`);
      }
      log.info({ table, address }, 'wrote to the device');
      log.debug({ table, address, value }, 'write value');
    },
  };
}
