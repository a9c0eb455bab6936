import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { resetOpcuaSelfTest, skipOpcuaSelfTest } from './self-test.ts';

afterEach(() => resetOpcuaSelfTest());

describe('skipOpcuaSelfTest', () => {
  it('loads the module with process.version read as v22, for that load only', () => {
    const real = process.version;
    const seen: string[] = [];
    expect(skipOpcuaSelfTest({ version: 'v20.19.0', load: () => seen.push(process.version) })).toBe(true);
    expect(seen).toEqual(['v22.0.0']);
    expect(process.version).toBe(real);
    // once per process
    expect(skipOpcuaSelfTest({ version: 'v20.19.0', load: () => seen.push(process.version) })).toBe(true);
    expect(seen).toHaveLength(1);
  });

  it('does nothing from Node 22 on (node-opcua skips its test there itself)', () => {
    const seen: string[] = [];
    expect(skipOpcuaSelfTest({ version: 'v22.12.0', load: () => seen.push(process.version) })).toBe(false);
    expect(seen).toEqual([]);
  });

  it('a load that fails skips nothing and puts process.version back', () => {
    const real = process.version;
    expect(
      skipOpcuaSelfTest({
        version: 'v21.7.3',
        load: () => {
          throw new Error('another layout');
        },
      }),
    ).toBe(false);
    expect(process.version).toBe(real);
  });

  // A process of its own: node-opcua is loaded once per process. It counts the RSA key pairs node-opcua
  // asks WebCrypto for while it loads, with and without the skip.
  const keyPairsWhenLoading = (skip: boolean): number => {
    const script = `
      import { subtle } from 'node:crypto';
      let made = 0;
      const generateKey = subtle.generateKey.bind(subtle);
      subtle.generateKey = (...args) => { made++; return generateKey(...args); };
      const { skipOpcuaSelfTest } = await import(${JSON.stringify(new URL('./self-test.ts', import.meta.url).href)});
      ${skip ? 'skipOpcuaSelfTest();' : ''}
      (await import('node-opcua')).setWarningLogger(() => undefined);
      console.log(JSON.stringify({ made, version: process.version }));
      process.exit(0);
    `;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    const last = out.trim().split('\n').pop() as string;
    const r = JSON.parse(last) as { made: number; version: string };
    expect(r.version).toBe(process.version);
    return r.made;
  };

  it('node-opcua makes no RSA key pair when it loads after the skip (it makes one on Node 20 and 21 without it)', () => {
    expect(keyPairsWhenLoading(true)).toBe(0);
    const major = Number(/^v(\d+)\./.exec(process.version)?.[1]);
    expect(keyPairsWhenLoading(false)).toBe(major === 20 || major === 21 ? 1 : 0);
  });
});
