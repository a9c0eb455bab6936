import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OPCUACertificateManager } from 'node-opcua-certificate-manager';
import { MessageSecurityMode, SecurityPolicy, UserTokenType, type UserIdentityInfo } from 'node-opcua-client';
import { AndonError } from '../../model/errors.ts';
import type { OpcuaSourceConfig } from './config.ts';

/**
 * Security and PKI of one OPC UA source. The client's own certificate and its
 * trust lists live in `<dataDir>/opcua/pki/<source id>`:
 *
 *   own/certs/client_certificate.pem   created on the first connect (self-signed, 10 years)
 *   own/private/private_key.pem        replace both to use a CA-signed certificate
 *   trusted/certs/                     server certificates we trust
 *   rejected/certs/                    server certificates we refused (move to trusted/certs to trust)
 */
export const pkiFolder = (dataDir: string, sourceId: string) => join(dataDir, 'opcua', 'pki', sourceId);

export interface ChannelSecurity {
  securityMode: MessageSecurityMode;
  securityPolicy: SecurityPolicy;
}

export function channelSecurity(security: OpcuaSourceConfig['security']): ChannelSecurity {
  if (security.mode === 'None') return { securityMode: MessageSecurityMode.None, securityPolicy: SecurityPolicy.None };
  const policy = security.policy ?? 'Basic256Sha256';
  return { securityMode: security.mode === 'Sign' ? MessageSecurityMode.Sign : MessageSecurityMode.SignAndEncrypt, securityPolicy: SecurityPolicy[policy] };
}

/**
 * A certificate manager on the source's PKI folder. node-opcua disposes it
 * when its client disconnects, so every client gets a fresh one (same folder),
 * which re-reads the trust lists: no file watchers needed (a client that never
 * connected is not disposed, and its watchers would pile up across retries).
 */
export function certificateManager(config: OpcuaSourceConfig, dataDir: string): OPCUACertificateManager {
  return new OPCUACertificateManager({
    rootFolder: pkiFolder(dataDir, config.id),
    automaticallyAcceptUnknownCertificate: config.security.acceptUnknownServerCertificate,
    disableFileWatchers: true,
  });
}

/**
 * The session identity: user name, X.509 certificate, or anonymous. Reads the
 * certificate files now, so a missing file is a config error at start.
 */
export function userIdentity(config: OpcuaSourceConfig): UserIdentityInfo {
  const s = config.security;
  if (s.user !== undefined) return { type: UserTokenType.UserName, userName: s.user, password: s.password ?? '' };
  if (s.certificate !== undefined && s.privateKey !== undefined) {
    try {
      const certificateData = new X509Certificate(readFileSync(s.certificate)).raw;
      const privateKey = readFileSync(s.privateKey, 'utf8');
      return { type: UserTokenType.Certificate, certificateData, privateKey };
    } catch (err) {
      throw new AndonError('ANDON_CONFIG_FILE', `source ${config.id}: cannot read the identity certificate or key: ${(err as Error).message}`, {
        path: 'security.certificate',
        cause: err,
      });
    }
  }
  return { type: UserTokenType.Anonymous };
}
