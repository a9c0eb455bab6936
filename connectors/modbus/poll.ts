import type { Logger } from 'pino';
import type { RejectReason } from '../connector.ts';
import type { Signal } from '../../model/signal.ts';
import { ILLEGAL_DATA_ADDRESS, ILLEGAL_DATA_VALUE, isDeviceException, type ModbusError, type Transport } from './client.ts';
import { registerWidth, type RegisterConfig } from './config.ts';
import { applyScale, decodeRegisters } from './decode.ts';
import { splitRead, type PlannedRead } from './plan.ts';
import { float32Value, roundTo, tidy } from '../values.ts';

export interface PollDeps {
  source: string;
  log: Logger;
  reject: (reason: RejectReason) => void;
  now: () => number;
  emit: (signal: Signal) => void;
}

/** What one poll found: `failedTags` answered with a Modbus exception (the device itself is alive). */
export interface PollOutcome {
  failedTags: number;
}

/**
 * The engineering value as people read it: a float32 cut to its own precision (196.39999389648438 → 196.4),
 * scaled without arithmetic noise, rounded to `decimals` when set. Booleans pass through.
 */
export function readable(register: Pick<RegisterConfig, 'type' | 'scale' | 'offset' | 'decimals'>, raw: number | boolean): number | boolean {
  if (typeof raw === 'boolean') return raw;
  let value = applyScale(register.type === 'float32' ? float32Value(raw) : raw, register.scale, register.offset) as number;
  if (register.scale !== 1 || register.offset !== 0) value = tidy(value);
  return register.decimals === undefined ? value : roundTo(value, register.decimals);
}

interface TagState {
  last: Signal['value'];
  /** A bad signal went out and no good one since (device down, or this read refused): stay silent until the value is good again. */
  bad: false | 'down' | 'refused';
}

/**
 * One device's poll cycle and per-tag state. Every good reading is emitted
 * each poll; a tag that stops being readable gets ONE bad signal carrying its
 * last value, then silence until it reads again (so `silentFor` sees a dead
 * device go quiet).
 */
export function createPoller(initialPlan: readonly PlannedRead[], deps: PollDeps) {
  const reads = [...initialPlan];
  const tags = new Map<string, TagState>();
  for (const read of reads) for (const { register } of read.items) tags.set(register.tag, { last: null, bad: false });

  const signal = (register: RegisterConfig, value: Signal['value'], quality: Signal['quality'], ts: number): Signal => {
    const s: Signal = { source: deps.source, tag: register.tag, value, quality, ts };
    if (register.asset !== undefined) s.asset = register.asset;
    if (register.unit !== undefined) s.unit = register.unit;
    return s;
  };

  const good = (register: RegisterConfig, raw: number | boolean, ts: number) => {
    const state = tags.get(register.tag) as TagState;
    const value = readable(register, raw);
    if (typeof value === 'number' && !Number.isFinite(value)) {
      // The device answered, but with NaN/Infinity ("no valid reading" on many meters): a bad reading, every poll.
      deps.emit(signal(register, null, 'bad', ts));
      return;
    }
    if (state.bad === 'refused') deps.log.info({ tag: register.tag }, 'tag readable again');
    state.last = value;
    state.bad = false;
    deps.emit(signal(register, value, 'good', ts));
  };

  /** Marks a tag bad for `why`; emits its one bad signal only if it was good. True when `why` is news (worth a log line). */
  const goBad = (register: RegisterConfig, ts: number, why: 'down' | 'refused'): boolean => {
    const state = tags.get(register.tag) as TagState;
    if (state.bad === why) return false;
    if (state.bad === false) deps.emit(signal(register, state.last, 'bad', ts));
    state.bad = why;
    return true;
  };

  async function readOne(transport: Transport, read: PlannedRead): Promise<void> {
    if (read.table === 'coil' || read.table === 'discrete') {
      const bits = await transport.readBits(read.table, read.start, read.count);
      const ts = deps.now();
      for (const { register, offset } of read.items) good(register, bits[offset] === true, ts);
      return;
    }
    const words = await transport.readRegisters(read.table, read.start, read.count);
    const ts = deps.now();
    for (const { register, offset } of read.items) {
      good(register, decodeRegisters(words.slice(offset, offset + registerWidth(register.type)), register), ts);
    }
  }

  const refused = (read: PlannedRead, err: ModbusError) => {
    const ts = deps.now();
    for (const { register } of read.items) {
      deps.reject('read-error');
      if (goBad(register, ts, 'refused'))
        deps.log.warn(
          { tag: register.tag, table: read.table, address: register.address, code: err.code, modbusCode: err.modbusCode, err },
          'tag read refused by the device',
        );
    }
  };

  return {
    /** The reads a poll makes now (batched reads a device refused are split for good). */
    get plan(): readonly PlannedRead[] {
      return reads;
    },

    /**
     * Reads every planned block once and emits its signals. A Modbus exception
     * fails only its block; anything else (timeout, lost connection) throws:
     * the device is down.
     */
    async poll(transport: Transport): Promise<PollOutcome> {
      let failedTags = 0;
      for (let i = 0; i < reads.length; i++) {
        const read = reads[i] as PlannedRead;
        try {
          await readOne(transport, read);
        } catch (err) {
          if (!isDeviceException(err)) throw err;
          const split = err.modbusCode === ILLEGAL_DATA_ADDRESS || err.modbusCode === ILLEGAL_DATA_VALUE ? splitRead(read) : [read];
          if (split.length > 1) {
            // A batched read spanning a hole in the device's map: read its values one by one from now on.
            deps.log.info(
              { table: read.table, start: read.start, count: read.count, reads: split.length, modbusCode: err.modbusCode },
              'device refused a batched read; reading its values one by one',
            );
            reads.splice(i, 1, ...split);
            i--;
            continue;
          }
          failedTags += read.items.length;
          refused(read, err);
        }
      }
      return { failedTags };
    },

    /** The device is gone: every tag not already bad gets one bad signal with its last value. */
    allBad(): void {
      const ts = deps.now();
      for (const read of reads) for (const { register } of read.items) goBad(register, ts, 'down');
    },
  };
}

export type Poller = ReturnType<typeof createPoller>;
