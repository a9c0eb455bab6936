import { existsSync, mkdirSync, readdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { byTag, connect, tempDir } from './fixtures/harness.ts';
import { startPlantServer, type PlantServer } from './fixtures/server.ts';
import { pkiFolder } from './security.ts';

const TEMP = 'packaging/sealer-01/temperature';

describe('opcua connector security', () => {
  const tmp = tempDir();
  let plant: PlantServer;
  const secured = (id: string, security: Record<string, unknown>) => ({
    id,
    endpoint: plant.endpoint,
    publishingInterval: '100ms',
    security,
    tags: [{ tag: TEMP, nodeId: 'ns=1;s=Sealer01.Temperature', asset: 'sealer-01' }],
  });

  beforeAll(async () => {
    // Only Basic256Sha256 Sign / SignAndEncrypt endpoints, no anonymous users.
    plant = await startPlantServer({ pkiDir: tmp.dir, secureOnly: true, allowAnonymous: false, users: { operator: 's3cret' } });
  });
  afterAll(async () => {
    await plant?.stop();
    tmp.cleanup();
  });

  it('SignAndEncrypt with Basic256Sha256 and user/password: values flow; the client PKI is created on first use', async () => {
    const dataDir = join(tmp.dir, 'ok');
    const h = connect(secured('secure', { mode: 'SignAndEncrypt', user: 'operator', password: 's3cret', acceptUnknownServerCertificate: true }), dataDir);
    try {
      expect(existsSync(pkiFolder(dataDir, 'secure'))).toBe(false);
      await h.connector.start();
      await h.statuses.next((s) => s === 'up', 'up', { since: 0 });
      plant.setTemperature(33);
      await h.signals.next(byTag(TEMP, (s) => s.value === 33), 'temperature over an encrypted channel');
      expect(existsSync(join(pkiFolder(dataDir, 'secure'), 'own', 'certs', 'client_certificate.pem'))).toBe(true);
      await h.connector.write({ nodeId: 'ns=1;s=Andon.Red', value: true });
      expect(plant.andonRed.readValue().value.value).toBe(true);
    } finally {
      await h.stop();
    }
  });

  it('a wrong password: status down, logged with a code, retried, no crash', async () => {
    const h = connect(secured('badpw', { mode: 'SignAndEncrypt', user: 'operator', password: 'wrong', acceptUnknownServerCertificate: true }), join(tmp.dir, 'badpw'));
    try {
      await h.connector.start();
      await h.statuses.next((s) => s === 'down', 'down', { since: 0 });
      const log = await h.logs.next((l) => l.code === 'ANDON_OPCUA_USER_REJECTED', 'user rejected log', { since: 0 });
      expect(log).toMatchObject({ level: 50, retryable: false });
      // Retried with backoff (1 s after the first failure), still refused, still no crash.
      await h.logs.next((l) => l.code === 'ANDON_OPCUA_USER_REJECTED' && l !== log, 'second attempt', { since: 0, timeoutMs: 5000 });
      expect(JSON.stringify(h.logs.items)).not.toContain('wrong'); // the password never reaches the log
      expect(h.statuses.items).not.toContain('up');
      const err = await h.connector.write({ nodeId: 'ns=1;s=Andon.Red', value: true }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'ANDON_OPCUA_NOT_CONNECTED' });
    } finally {
      await h.stop();
    }
  });

  it('a security policy the server does not offer: down, logged as an endpoint problem', async () => {
    const h = connect(secured('nopolicy', { mode: 'SignAndEncrypt', policy: 'Aes256_Sha256_RsaPss', acceptUnknownServerCertificate: true }), join(tmp.dir, 'nopolicy'));
    try {
      await h.connector.start();
      await h.logs.next((l) => l.code === 'ANDON_OPCUA_ENDPOINT_INVALID', 'endpoint invalid log', { since: 0 });
      expect(h.statuses.items).toEqual(['connecting', 'down']);
    } finally {
      await h.stop();
    }
  });

  it('an unknown server certificate is refused until someone trusts it, then the source heals by itself', async () => {
    const dataDir = join(tmp.dir, 'strict');
    const h = connect(secured('strict', { mode: 'Sign', user: 'operator', password: 's3cret' }), dataDir);
    try {
      await h.connector.start();
      await h.logs.next((l) => l.code === 'ANDON_OPCUA_CERTIFICATE_REJECTED', 'certificate rejected log', { since: 0 });
      expect(h.statuses.items.at(-1)).toBe('down');
      // What an operator does: move the server certificate from rejected/ to trusted/certs/.
      const pki = pkiFolder(dataDir, 'strict');
      const rejected = readdirSync(join(pki, 'rejected')).filter((f) => f.endsWith('.pem') || f.endsWith('.der'));
      expect(rejected.length).toBe(1);
      mkdirSync(join(pki, 'trusted', 'certs'), { recursive: true });
      renameSync(join(pki, 'rejected', rejected[0] as string), join(pki, 'trusted', 'certs', rejected[0] as string));
      await h.statuses.next((s) => s === 'up', 'up after trusting', { since: 0, timeoutMs: 15_000 });
    } finally {
      await h.stop();
    }
  });
});
