import { z } from 'zod';
import { duration, id } from '../../config/types.ts';

export const opcuaSourceSchema = z.strictObject({
  id: id(),
  type: z.literal('opcua'),
  endpoint: z.string().regex(/^opc\.tcp:\/\//, 'an OPC UA endpoint starts with opc.tcp://'),
  security: z
    .strictObject({
      mode: z.enum(['None', 'Sign', 'SignAndEncrypt']).default('None'),
      policy: z.enum(['None', 'Basic256Sha256', 'Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss']).optional(),
      user: z.string().optional(),
      password: z.string().optional(),
      certificate: z.string().optional(),
      privateKey: z.string().optional(),
    })
    .default({ mode: 'None' }),
  samplingInterval: duration().default(1000),
  publishingInterval: duration().default(1000),
  tags: z
    .array(
      z.strictObject({
        tag: z.string().min(1),
        nodeId: z.string().min(1),
        asset: z.string().optional(),
        samplingInterval: duration().optional(),
        deadband: z.number().nonnegative().optional(),
      }),
    )
    .default([]),
  alarms: z.array(z.strictObject({ notifier: z.string().min(1), asset: z.string().min(1), area: z.string().optional() })).default([]),
});
