import { z } from 'zod';
import { decimals, duration, id, issue, unit } from '../../config/types.ts';

export const REGISTER_TYPES = ['int16', 'uint16', 'int32', 'uint32', 'float32', 'float64', 'bit'] as const;
export type RegisterType = (typeof REGISTER_TYPES)[number];
export type Table = 'holding' | 'input' | 'coil' | 'discrete';

/** 16-bit registers a value of this type occupies. */
export const registerWidth = (type: RegisterType): number => (type === 'float64' ? 4 : type === 'int32' || type === 'uint32' || type === 'float32' ? 2 : 1);
export const isBitTable = (table: Table): boolean => table === 'coil' || table === 'discrete';

/**
 * One mapped value. `type` defaults to uint16 on register tables and is `bit`
 * on coil/discrete tables (where it may be omitted). On a register table,
 * `type: bit` reads bit `bit` (0 = least significant) of one register.
 */
const registerSchema = z
  .strictObject({
    tag: z.string().min(1).describe('Andon tag of the value (`utilities/feeder-3/voltage`).'),
    asset: z.string().optional().describe('Asset of the signals; else found through `assets[].tags`.'),
    table: z.enum(['holding', 'input', 'coil', 'discrete']).describe('holding (FC3), input (FC4), coil (FC1), discrete (FC2).'),
    address: z.number().int().min(0).max(65535).describe('Zero-based protocol address (holding register "40001" is address 0).'),
    type: z.enum(REGISTER_TYPES).optional().describe('Register tables: uint16 by default; `bit` reads bit `bit` of one register. Coils and discrete inputs are bits (leave it out).'),
    bit: z.number().int().min(0).max(15).optional().describe('With type bit on a register table: 0 = least significant bit.'),
    wordOrder: z.enum(['big', 'little']).default('big').describe('Order of the registers of a 32/64-bit value (little = word-swapped, CDAB).'),
    byteOrder: z.enum(['big', 'little']).default('big').describe('Order of the two bytes inside each register.'),
    scale: z.number().default(1).describe('Value = raw × scale + offset (numbers only).'),
    offset: z.number().default(0).describe('Added after `scale`.'),
    unit: unit(),
    decimals: decimals(),
  })
  .superRefine((r, ctx) => {
    if (r.decimals !== undefined && (isBitTable(r.table) || r.type === 'bit')) issue(ctx, 'ANDON_CONFIG_INVALID_VALUE', 'decimals rounds numbers; a bit is true or false', ['decimals']);
    if (isBitTable(r.table)) {
      if (r.type !== undefined && r.type !== 'bit')
        issue(ctx, 'ANDON_CONFIG_INVALID_VALUE', `a ${r.table} is one bit: leave type out (or write type: bit), not ${r.type}`, ['type']);
      if (r.bit !== undefined) issue(ctx, 'ANDON_CONFIG_INVALID_VALUE', `bit selects a bit of a register; a ${r.table} is already one bit`, ['bit']);
      return;
    }
    const type = r.type ?? 'uint16';
    if (type === 'bit' && r.bit === undefined) issue(ctx, 'ANDON_CONFIG_MISSING', 'type: bit on a register table needs bit: 0..15', ['bit']);
    if (type !== 'bit' && r.bit !== undefined) issue(ctx, 'ANDON_CONFIG_INVALID_VALUE', `bit applies to type: bit, not ${type}`, ['bit']);
    const last = r.address + registerWidth(type) - 1;
    if (r.address <= 65535 && last > 65535) issue(ctx, 'ANDON_CONFIG_INVALID_VALUE', `a ${type} at ${r.address} runs past register 65535`, ['address']);
  })
  .transform((r) => ({ ...r, type: r.type ?? (isBitTable(r.table) ? ('bit' as const) : ('uint16' as const)) }));

export const modbusSourceSchema = z
  .strictObject({
    id: id().describe('Source id: names the source in signals, metrics (`source` label), `silentFor` rules and actions.'),
    type: z.literal('modbus').describe('Modbus TCP or RTU poller (connectors/modbus/README.md).'),
    /** Modbus TCP: host and port. */
    host: z.string().min(1).optional().describe('Modbus TCP: the device\'s host. Exactly one of `host` and `serial`.'),
    port: z.number().int().min(1).max(65535).default(502).describe('Modbus TCP port.'),
    /** Modbus RTU: a serial device. Exactly one of host and serial. */
    serial: z
      .strictObject({
        path: z.string().min(1).describe('Serial device (`/dev/ttyUSB0`).'),
        baudRate: z.number().int().positive().default(9600).describe('Line speed.'),
        parity: z.enum(['none', 'even', 'odd']).default('none').describe('Parity.'),
        dataBits: z.union([z.literal(7), z.literal(8)]).default(8).describe('Data bits.'),
        stopBits: z.union([z.literal(1), z.literal(2)]).default(1).describe('Stop bits.'),
      })
      .optional()
      .describe('Modbus RTU: the serial line. One source per serial port.'),
    unitId: z.number().int().min(0).max(255).default(1).describe('Slave / unit id.'),
    pollInterval: duration()
      .default(1000)
      .describe('One poll of the whole map starts every interval (fixed rate; every value is emitted on every poll).'),
    /** Per request (and per connect attempt); a request without an answer by then is abandoned. */
    timeout: duration().default(1000).describe('Per request and per connect attempt; a request without an answer by then is abandoned and the device counts as down.'),
    /** Unused registers a batched read may span to join two mapped ones (coils: 16 × this many bits). */
    maxGap: z.number().int().min(0).max(124).default(10).describe('Unused registers a batched read may span to join two mapped ones (bit tables: 16 × this many bits).'),
    /** Registers per read request; the protocol allows 125, some devices fewer. */
    maxRegistersPerRead: z.number().int().min(1).max(125).default(125).describe('Registers per read request; the protocol allows 125, some devices fewer.'),
    registers: z.array(registerSchema).default([]).describe('The register map: one signal per entry per poll.'),
  })
  .superRefine((s, ctx) => {
    if (s.host === undefined && s.serial === undefined)
      issue(ctx, 'ANDON_CONFIG_INVALID_VALUE', 'a modbus source needs host (Modbus TCP) or serial (Modbus RTU)');
    if (s.host !== undefined && s.serial !== undefined)
      issue(ctx, 'ANDON_CONFIG_INVALID_VALUE', 'a modbus source is either TCP (host) or RTU (serial), not both', ['serial']);
    const seen = new Set<string>();
    s.registers.forEach((r, i) => {
      if (seen.has(r.tag)) issue(ctx, 'ANDON_CONFIG_DUPLICATE_ID', `tag "${r.tag}" is mapped twice in this source`, ['registers', i, 'tag']);
      seen.add(r.tag);
    });
  })
  .describe('A Modbus device over TCP or RTU, polled at a fixed rate with batched reads and per-device backoff. Details: [connectors/modbus/README.md](../connectors/modbus/README.md).');

export type ModbusSourceConfig = z.output<typeof modbusSourceSchema>;
export type RegisterConfig = ModbusSourceConfig['registers'][number];
