import { z } from 'zod';
import { decimals, duration, id, issue, unit } from '../../config/types.ts';

/**
 * An OPC UA node id in string form: `i=2253`, `ns=1;s=Sealer01.State`,
 * `ns=2;g=...`, `ns=3;b=...` (namespace index form). Checked without loading
 * node-opcua, so a gateway without OPC UA sources never loads it.
 */
export const nodeId = () =>
  z.string().regex(/^(?:ns=\d+;)?[isgb]=.+$/, 'a node id looks like ns=1;s=Sealer01.State or i=2253');

const securitySchema = z
  .strictObject({
    mode: z.enum(['None', 'Sign', 'SignAndEncrypt']).default('None').describe('Secure channel mode.'),
    /** Security policy; Basic256Sha256 when the mode is Sign or SignAndEncrypt and none is given. */
    policy: z
      .enum(['None', 'Basic256Sha256', 'Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss'])
      .optional()
      .describe('Security policy; Basic256Sha256 when mode is Sign or SignAndEncrypt and none is given; `None` only with mode None.'),
    /** User name identity (with `password`). */
    user: z.string().min(1).optional().describe('User-name identity (with `password`); anonymous when neither user nor certificate is set.'),
    password: z.string().optional().describe('Password of `user`; write it as `${ENV}`.'),
    /** X.509 user identity: PEM files of the user certificate and its private key. */
    certificate: z.string().min(1).optional().describe('X.509 user identity: path of the user certificate (PEM), with `privateKey`.'),
    privateKey: z.string().min(1).optional().describe('Path of the private key (PEM) of `certificate`.'),
    /**
     * Trust a server certificate seen for the first time. Off by default: an
     * unknown server certificate lands in `<dataDir>/opcua/pki/<id>/rejected/`
     * until someone moves it to `trusted/certs`.
     */
    acceptUnknownServerCertificate: z
      .boolean()
      .default(false)
      .describe('Trust a server certificate seen for the first time; otherwise it waits in `<dataDir>/opcua/pki/<id>/rejected/` until moved to `trusted/certs`.'),
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
  id: id().describe('Source id: names the source in signals, metrics (`source` label), `silentFor` rules and actions.'),
  type: z.literal('opcua').describe('OPC UA client: monitored items and Alarms & Conditions (connectors/opcua/README.md).'),
  endpoint: z.string().regex(/^opc\.tcp:\/\/[^/:]+/, 'an OPC UA endpoint looks like opc.tcp://host:4840').describe('Server endpoint, `opc.tcp://host:port[/path]`.'),
  security: securitySchema.default({ mode: 'None', acceptUnknownServerCertificate: false }).describe('Channel security and user identity.'),
  /** Default sampling interval of the monitored items. */
  samplingInterval: duration().default(1000).describe('Default sampling interval of the monitored items.'),
  /** Publishing interval of the subscription; its keep-alive is 10 of these. */
  publishingInterval: duration().default(1000).describe('Publishing interval of the subscription; its keep-alive is 10 of these.'),
  /** Default server-side queue per monitored item (changes kept between two publishes). */
  queueSize: z.number().int().min(1).max(10_000).default(10).describe('Default server-side queue per monitored item (changes kept between two publishes).'),
  tags: z
    .array(
      z.strictObject({
        tag: z.string().min(1).describe('Andon tag of the variable (`packaging/sealer-01/state`).'),
        nodeId: nodeId().describe('Node id of the variable: `ns=1;s=Sealer01.State`, `i=2253`, `g=...`, `b=...` (no `nsu=`).'),
        asset: z.string().optional().describe('Asset of the signals; else found through `assets[].tags`.'),
        samplingInterval: duration().optional().describe('Sampling interval of this item; the source\'s by default.'),
        /** Absolute deadband, in the variable's unit. */
        deadband: z.number().nonnegative().optional().describe('Absolute deadband, in the variable\'s unit: smaller changes are not reported.'),
        queueSize: z.number().int().min(1).max(10_000).optional().describe('Server-side queue of this item; the source\'s by default.'),
        unit: unit(),
        decimals: decimals(),
      }),
    )
    .default([])
    .describe('Variables to monitor, one signal per change.'),
  /** Alarms & Conditions: one event subscription per notifier (an object node; the Server object by default). */
  alarms: z
    .array(
      z.strictObject({
        notifier: nodeId().default('i=2253').describe('Object node whose events are watched (an event notifier); the Server object by default.'),
        asset: z.string().min(1).describe('Asset of the alarms of this notifier.'),
        /** First segment of the alarm tags `<area>/<asset>/alarm/<ConditionName>`; "opcua" when absent. */
        area: z.string().min(1).optional().describe('First segment of the alarm tags `<area>/<asset>/alarm/<ConditionName>`; `opcua` when absent.'),
      }),
    )
    .default([])
    .describe('Alarms & Conditions: one event subscription per notifier; conditions become `<area>/<asset>/alarm/<ConditionName>` signals.'),
}).describe('An OPC UA server: PLC variables as monitored items and Alarms & Conditions; acknowledges conditions and writes the andon light. Details: [connectors/opcua/README.md](../connectors/opcua/README.md).');

export type OpcuaSourceConfig = z.output<typeof opcuaSourceSchema>;
