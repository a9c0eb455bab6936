import { readFileSync } from 'node:fs';
import { credsAuthenticator, nkeyAuthenticator, type ConnectionOptions } from '@nats-io/transport-node';
import type { ForwardConfig } from '../../../config/schema.ts';

/** Defaults of the nats keys of `forward` (docs/config.md). */
export const NATS_DEFAULTS = { stream: 'ANDON_TICKETS', subjectPrefix: 'andon.tickets', changesStream: 'ANDON_CHANGES', changesPrefix: 'andon.changes', checkInterval: 10_000 } as const;

export type NatsForwardConfig = Pick<ForwardConfig, 'servers' | 'user' | 'password' | 'token' | 'nkey' | 'creds' | 'tls' | 'stream' | 'subjectPrefix' | 'changesStream' | 'timeout'>;

/**
 * Connection options from the config: servers, the one way of signing in, TLS. Files (nkey seed, creds,
 * TLS) are read here, so a missing file is a config problem at start, not a retry loop.
 * The client reconnects by itself for ever; the sink watches its status.
 */
export function connectionOptions(config: NatsForwardConfig, name: string): ConnectionOptions {
  const opts: ConnectionOptions = {
    servers: config.servers ?? [],
    name,
    timeout: Math.min(config.timeout, 10_000),
    reconnect: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    pingInterval: 10_000,
    maxPingOut: 2,
  };
  if (config.user !== undefined) Object.assign(opts, { user: config.user, pass: config.password });
  if (config.token !== undefined) opts.token = config.token;
  if (config.nkey !== undefined) {
    const seed = new TextEncoder().encode(readFileSync(config.nkey, 'utf8').trim());
    opts.authenticator = nkeyAuthenticator(seed);
  }
  if (config.creds !== undefined) opts.authenticator = credsAuthenticator(new Uint8Array(readFileSync(config.creds)));
  if (config.tls) {
    opts.tls = {
      ...(config.tls.ca ? { caFile: config.tls.ca } : {}),
      ...(config.tls.cert ? { certFile: config.tls.cert } : {}),
      ...(config.tls.key ? { keyFile: config.tls.key } : {}),
    };
  }
  return opts;
}

/** Whether a stream subject filter (with `*` and `>`) takes every subject under `subject` (which may end in `>`). */
export function covers(filter: string, subject: string): boolean {
  const f = filter.split('.');
  const s = subject.split('.');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '>') return i < s.length;
    if (i >= s.length || s[i] === '>') return false;
    if (f[i] !== '*' && f[i] !== s[i]) return false;
  }
  return f.length === s.length;
}
