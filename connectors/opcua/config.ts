import { z } from 'zod';
import { duration, id, issue } from '../../config/types.ts';

/**
 * An OPC UA node id in string form: `i=2253`, `ns=1;s=Sealer01.State`,
 * `ns=2;g=...`, `ns=3;b=...` (namespace index form). Checked without loading
 * node-opcua, so a gateway without OPC UA sources never loads it.
 */
export const nodeId = () =>
  z.string().regex(/^(?:ns=\d+;)?[isgb]=.+$/, 'a node id looks like ns=1;s=Sealer01.State or i=2253');

const securitySchema = z
  .strictObject({
    mode: z.enum(['None', 'Sign', 'SignAndEncrypt']).default('None'),
    /** Security policy; Basic256Sha256 when the mode is Sign or SignAndEncrypt and none is given. */
    policy: z.enum(['None', 'Basic256Sha256', 'Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss']).optional(),
    /** User name identity (with `password`). */
    user: z.string().min(1).optional(),
    password: z.string().optional(),
    /** X.509 user identity: PEM files of the user certificate and its private key. */
    certificate: z.string().min(1).optional(),
    privateKey: z.string().min(1).optional(),
    /**
     * Trust a server certificate seen for the first time. Off by default: an
     * unknown server certificate lands in `<dataDir>/opcua/pki/<id>/rejected/`
     * until someone moves it to `trusted/certs`.
     */
    acceptUnknownServerCertificate: z.boolean().default(false),
  })
  .superRefine((s, ctx) => {
    const secure = s.mode !== 'None';
    if (secure && s.policy === 'None') issue(ctx, 'ANDON_CONFIG_INVALID_VALUE', `mode ${s.mode} needs a security policy other than None`, ['policy']);
    if (!secure && s.policy !== undefined && s.policy !== 'None') issue(ctx, 'ANDON_CONFIG_INVALID_VALUE', `policy ${s.policy} needs mode Sign or SignAndEncrypt`, ['policy']);
    if (s.user !== undefined && s.password === undefined) issue(ctx, 'ANDON_CONFIG_MISSING', 'user needs a password (use ${ENV} to keep it out of the file)', ['password']);
    if (s.password !== undefined && s.user === undefined) issue(ctx, 'ANDON_CONFIG_MISSING', 'password needs a user', ['user']);
    if ((s.certificate === undefined) !== (s.privateKey === undefined)) issue(ctx, 'ANDON_CONFIG_MISSING', 'a certificate identity needs both certificate and privateKey', [s.certificate === undefined ? 'certificate' : 'privateKey']);
    if (s.user !== undefined && s.certificate !== undefined) issue(ctx, 'ANDON_CONFIG_INVALID_VALUE', 'choose one identity: user/password or certificate', ['certificate']);
  });

export const opcuaSourceSchema = z.strictObject({
  id: id(),
  type: z.literal('opcua'),
  endpoint: z.string().regex(/^opc\.tcp:\/\/[^/:]+/, 'an OPC UA endpoint looks like opc.tcp://host:4840'),
  security: securitySchema.default({ mode: 'None', acceptUnknownServerCertificate: false }),
  /** Default sampling interval of the monitored items. */
  samplingInterval: duration().default(1000),
  /** Publishing interval of the subscription; its keep-alive is 10 of these. */
  publishingInterval: duration().default(1000),
  /** Default server-side queue per monitored item (changes kept between two publishes). */
  queueSize: z.number().int().min(1).max(10_000).default(10),
  tags: z
    .array(
      z.strictObject({
        tag: z.string().min(1),
        nodeId: nodeId(),
        asset: z.string().optional(),
        samplingInterval: duration().optional(),
        /** Absolute deadband, in the variable's unit. */
        deadband: z.number().nonnegative().optional(),
        queueSize: z.number().int().min(1).max(10_000).optional(),
      }),
    )
    .default([]),
  /** Alarms & Conditions: one event subscription per notifier (an object node; the Server object by default). */
  alarms: z
    .array(
      z.strictObject({
        notifier: nodeId().default('i=2253'),
        asset: z.string().min(1),
        /** First segment of the alarm tags `<area>/<asset>/alarm/<ConditionName>`; "opcua" when absent. */
        area: z.string().min(1).optional(),
      }),
    )
    .default([]),
});

export type OpcuaSourceConfig = z.output<typeof opcuaSourceSchema>;
