import { createRequire } from 'node:module';

/** Whether skipOpcuaSelfTest skipped the test: it runs once per process. */
let skipped: boolean | undefined;

/**
 * node-opcua's import-time self-test, skipped. On Node 20 and 21 `node-opcua-secure-channel` checks,
 * when it loads, whether RSA PKCS#1 v1.5 decryption still works (CVE-2023-46809) by generating a
 * 4096-bit RSA key pair: 0.4–2 s of CPU on a libuv thread at every start that loads node-opcua, which
 * the gateway's own start competes with on a small box, and a process that cannot exit before the key
 * is made (`andon check-config` of the demo config took 2.5 s, 1.5 of them waiting for it). The
 * answer does not concern Andon: its OPC UA policies (None, Basic256Sha256, Aes128_Sha256_RsaOaep,
 * Aes256_Sha256_RsaPss: connectors/opcua/config.ts) encrypt with RSA-OAEP, never PKCS#1 v1.5
 * (Basic128Rsa15 is not offered).
 *
 * node-opcua skips the test from Node 22 on, and reads `process.version` for that synchronously as the
 * module loads (it is the only one of the module's 448 files that reads it). So the module is loaded
 * here, once, with `process.version` read as v22 for that synchronous load only, from node-opcua's own
 * place (the copy node-opcua uses); node-opcua then finds it loaded. Call it before node-opcua is
 * imported (the connector registry, check-config, the demo plant). Returns whether it skipped the test;
 * if the module cannot be loaded this way (another node-opcua layout), nothing is skipped and node-opcua
 * runs its test as before when it is imported.
 */
export function skipOpcuaSelfTest(deps: { version?: string; load?: () => void } = {}): boolean {
  if (skipped !== undefined) return skipped;
  const version = deps.version ?? process.version;
  const major = Number(/^v(\d+)\./.exec(version)?.[1]);
  const own = Object.getOwnPropertyDescriptor(process, 'version');
  if ((major !== 20 && major !== 21) || !own?.configurable) return (skipped = false);
  const load =
    deps.load ??
    (() => {
      const fromOpcua = createRequire(import.meta.resolve('node-opcua'));
      fromOpcua('node-opcua-secure-channel');
    });
  Object.defineProperty(process, 'version', { ...own, value: 'v22.0.0' });
  try {
    load();
    skipped = true;
  } catch {
    skipped = false;
  } finally {
    Object.defineProperty(process, 'version', own);
  }
  return skipped;
}

/** For tests: forget that it ran. */
export function resetOpcuaSelfTest(): void {
  skipped = undefined;
}
