import { z } from 'zod';
import { duration, issue } from './types.ts';

/**
 * The `forward` keys of `type: nats` (gateway/forward/nats/README.md): where the cluster is, how the
 * gateway proves who it is, and which stream and subjects it publishes to. Credentials are keys of their
 * own, never in a server URL (which is logged).
 */
export const natsForwardKeys = {
  servers: z
    .array(z.string().regex(/^(nats|tls):\/\/[^/@\s]+$/, 'a NATS server is nats://host:port (or tls://host:port), without user:password@ or a path'))
    .min(1)
    .optional()
    .describe('type nats (required there): the cluster\'s servers (`nats://nats-1:4222`); any one is enough to find the others. No credentials in them: use user/password, token, nkey or creds.'),
  user: z.string().min(1).optional().describe('type nats: user name (with password).'),
  password: z.string().min(1).optional().describe('type nats: password of user; write it as `${ENV}`.'),
  nkey: z.string().min(1).optional().describe('type nats: file holding the NKey seed (`SU...`) the gateway signs the server\'s challenge with.'),
  creds: z.string().min(1).optional().describe('type nats: a `.creds` file (user JWT and NKey seed, as `nsc` writes it).'),
  tls: z
    .strictObject({
      ca: z.string().min(1).optional().describe('CA certificate file (PEM) the servers\' certificates are checked against.'),
      cert: z.string().min(1).optional().describe('Client certificate file (PEM), for servers that verify clients.'),
      key: z.string().min(1).optional().describe('Private key file (PEM) of cert.'),
    })
    .optional()
    .describe('type nats: TLS to the servers (with tls:// servers, or a server that requires it).'),
  stream: z
    .string()
    .regex(/^[^.\s*>/\\]+$/, 'a stream name has no ".", spaces, "*", ">", "/" or "\\"')
    .optional()
    .meta({ defaultText: 'ANDON_TICKETS', description: 'type nats: the JetStream stream ticket versions go to (`andon nats init` creates it).' }),
  subjectPrefix: z
    .string()
    .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, 'a subject prefix is tokens of letters, digits, "_" and "-" joined by "."')
    .optional()
    .meta({ defaultText: 'andon.tickets', description: 'type nats: ticket versions go to `<subjectPrefix>.<gateway id>.<ticket id>`.' }),
  changesStream: z
    .string()
    .regex(/^[^.\s*>/\\]+$/, 'a stream name has no ".", spaces, "*", ">", "/" or "\\"')
    .optional()
    .meta({ defaultText: 'ANDON_CHANGES', description: 'type nats: the optional stream central publishes changes on (`andon.changes.<gateway id>`); absent at the server: no sync back, forwarding still works.' }),
  checkInterval: duration()
    .optional()
    .meta({ defaultText: '10s', description: 'type nats: while the cluster or the stream is not usable, look again this often (andon_forward_up 0 meanwhile).' }),
};

const NATS_ONLY = ['servers', 'user', 'password', 'nkey', 'creds', 'tls', 'stream', 'subjectPrefix', 'changesStream', 'checkInterval'] as const;

type ForwardLike = { type: string; url?: string | undefined; queue?: string | undefined } & { [K in (typeof NATS_ONLY)[number]]?: unknown };

/** The nats keys belong to type nats, which needs servers and at most one way of signing in. */
export function checkNatsForward(f: ForwardLike, ctx: z.RefinementCtx): void {
  if (f.type !== 'nats') {
    for (const k of NATS_ONLY) if (f[k] !== undefined) issue(ctx, 'ANDON_CONFIG_INVALID_VALUE', `${k} applies to forward type nats only`, [k]);
    return;
  }
  if (f.servers === undefined) issue(ctx, 'ANDON_CONFIG_MISSING', 'forward type nats needs servers: the NATS servers of the cluster (nats://host:4222)', ['servers']);
  for (const k of ['url', 'queue'] as const) if (f[k] !== undefined) issue(ctx, 'ANDON_CONFIG_INVALID_VALUE', `${k} does not apply to forward type nats (use servers)`, [k]);
  if ((f.user === undefined) !== (f.password === undefined)) issue(ctx, 'ANDON_CONFIG_MISSING', 'user and password go together', [f.user === undefined ? 'user' : 'password']);
  const ways = [f.user !== undefined && 'user/password', (f as { token?: unknown }).token !== undefined && 'token', f.nkey !== undefined && 'nkey', f.creds !== undefined && 'creds'].filter(Boolean);
  if (ways.length > 1) issue(ctx, 'ANDON_CONFIG_INVALID_VALUE', `one way to sign in to NATS, not ${ways.join(' and ')}`, []);
}

/** A NATS subject token: no ".", whitespace or wildcard (`*`, `>`). */
export const isSubjectToken = (s: string): boolean => s.length > 0 && !/[.\s*>]/.test(s);

/** With forward type nats, the gateway id is a subject token (`<prefix>.<gateway id>.<ticket id>`). */
export function checkNatsGatewayId(value: unknown, ctx: z.RefinementCtx): void {
  const cfg = value as { gateway?: { id?: unknown }; forward?: { type?: unknown } } | null;
  const gid = cfg?.gateway?.id;
  if (cfg?.forward?.type !== 'nats' || typeof gid !== 'string' || isSubjectToken(gid)) return;
  issue(ctx, 'ANDON_CONFIG_INVALID_VALUE', `gateway id "${gid}" is not a NATS subject token (no ".", spaces, "*" or ">"), which forward type nats needs: its tickets go to <subjectPrefix>.${gid}.<ticket id>`, ['gateway', 'id']);
}
