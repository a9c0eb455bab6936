import { z } from 'zod';
import { httpSourceSchema } from './http/config.ts';
import { modbusSourceSchema } from './modbus/config.ts';
import { mqttSourceSchema } from './mqtt/config.ts';
import { opcuaSourceSchema } from './opcua/config.ts';

/** The registry of source config schemas: one line per protocol. */
export const sourceSchema = z.discriminatedUnion('type', [opcuaSourceSchema, mqttSourceSchema, modbusSourceSchema, httpSourceSchema]);
export type SourceConfig = z.infer<typeof sourceSchema>;
