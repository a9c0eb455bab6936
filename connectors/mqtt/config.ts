import { z } from 'zod';
import { id } from '../../config/types.ts';

export const mqttSourceSchema = z.strictObject({
  id: id(),
  type: z.literal('mqtt'),
  url: z.string().regex(/^(mqtts?|wss?|tcp|ssl):\/\//, 'an MQTT url starts with mqtt://, mqtts://, ws:// or wss://'),
  clientId: z.string().optional(),
  username: z.string().optional(),
  password: z.string().optional(),
  tls: z.strictObject({ ca: z.string().optional(), cert: z.string().optional(), key: z.string().optional(), rejectUnauthorized: z.boolean().default(true) }).optional(),
  subscriptions: z
    .array(
      z.strictObject({
        topic: z.string().min(1),
        format: z.enum(['json', 'sparkplug']).default('json'),
        qos: z.union([z.literal(0), z.literal(1)]).default(1),
        tag: z.string().optional(),
        value: z.string().optional(),
        ts: z.string().optional(),
        quality: z.string().optional(),
        asset: z.string().optional(),
      }),
    )
    .min(1),
});
