import { z } from 'zod';
import { duration, id } from '../../config/types.ts';

export const modbusSourceSchema = z.strictObject({
  id: id(),
  type: z.literal('modbus'),
  host: z.string().optional(),
  port: z.number().int().min(1).max(65535).default(502),
  serial: z.strictObject({ path: z.string(), baudRate: z.number().int().default(9600), parity: z.enum(['none', 'even', 'odd']).default('none') }).optional(),
  unitId: z.number().int().min(0).max(255).default(1),
  pollInterval: duration().default(1000),
  timeout: duration().default(1000),
  registers: z
    .array(
      z.strictObject({
        tag: z.string().min(1),
        asset: z.string().optional(),
        table: z.enum(['holding', 'input', 'coil', 'discrete']),
        address: z.number().int().min(0).max(65535),
        type: z.enum(['int16', 'uint16', 'int32', 'uint32', 'float32', 'float64', 'bit']).default('uint16'),
        bit: z.number().int().min(0).max(15).optional(),
        wordOrder: z.enum(['big', 'little']).default('big'),
        byteOrder: z.enum(['big', 'little']).default('big'),
        scale: z.number().default(1),
        offset: z.number().default(0),
      }),
    )
    .default([]),
});
