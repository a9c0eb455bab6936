import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../config/load.ts';
import { isAndonError } from '../../model/errors.ts';
import { opcuaSourceSchema } from './config.ts';
import { createOpcuaConnector } from './index.ts';

const readmeSample = (): unknown[] => {
  const readme = readFileSync(new URL('./README.md', import.meta.url), 'utf8');
  const block = /```yaml\n([\s\S]*?)```/.exec(readme)?.[1];
  if (!block) throw new Error('README has no yaml block');
  return parse(block) as unknown[];
};

const problemsOf = (source: Record<string, unknown>) =>
  validateConfig({ gateway: { id: 'x' }, sources: [{ id: 'plc', type: 'opcua', endpoint: 'opc.tcp://127.0.0.1:4840', ...source }] }, {}).problems.map((p) => `${p.path} ${p.code}`);

describe('opcua source config', () => {
  it('the README sample validates, with its defaults applied', () => {
    const { config, problems } = validateConfig({ gateway: { id: 'x' }, sources: readmeSample() }, {});
    expect(problems).toEqual([]);
    const source = config?.sources[0];
    expect(source).toMatchObject({ type: 'opcua', samplingInterval: 500, publishingInterval: 1000, queueSize: 10 });
    expect(source?.type === 'opcua' && source.alarms[1]?.notifier).toBe('i=2253');
  });

  it('refuses contradictory security and half identities, each at its path', () => {
    expect(problemsOf({ security: { mode: 'Sign', policy: 'None' } })).toEqual(['sources[0].security.policy ANDON_CONFIG_INVALID_VALUE']);
    expect(problemsOf({ security: { mode: 'None', policy: 'Basic256Sha256' } })).toEqual(['sources[0].security.policy ANDON_CONFIG_INVALID_VALUE']);
    expect(problemsOf({ security: { user: 'andon' } })).toEqual(['sources[0].security.password ANDON_CONFIG_MISSING']);
    expect(problemsOf({ security: { certificate: '/x.pem' } })).toEqual(['sources[0].security.privateKey ANDON_CONFIG_MISSING']);
  });

  it('refuses malformed node ids and endpoints before anything connects', () => {
    expect(problemsOf({ tags: [{ tag: 'a/b', nodeId: 'Sealer01.State' }] })).toEqual(['sources[0].tags[0].nodeId ANDON_CONFIG_INVALID_VALUE']);
    expect(problemsOf({ alarms: [{ asset: 'a', notifier: 'ns=x;s=1' }] })).toEqual(['sources[0].alarms[0].notifier ANDON_CONFIG_INVALID_VALUE']);
    expect(problemsOf({ endpoint: 'opc.tcp://' })).toEqual(['sources[0].endpoint ANDON_CONFIG_INVALID_VALUE']);
  });

  it('a node id the schema lets through but node-opcua cannot parse is a config error at creation', () => {
    const config = opcuaSourceSchema.parse({ id: 'plc', type: 'opcua', endpoint: 'opc.tcp://127.0.0.1:4840', tags: [{ tag: 'a/b', nodeId: 'ns=1;g=not-a-guid' }] });
    let err: unknown;
    try {
      createOpcuaConnector(config, { log: undefined as never, reject: () => undefined, dataDir: '/nonexistent' });
    } catch (e) {
      err = e;
    }
    expect(isAndonError(err) && [err.code, err.path]).toEqual(['ANDON_CONFIG_INVALID_VALUE', 'tags[0].nodeId']);
  });
});
