import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../config/load.ts';
import { asConfig, readmes, readText, sampleEnv, samplesOf, type Sample } from './samples.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const all: Sample[] = readmes(root).flatMap((f) => samplesOf(f, readText(root, f)));
const connectors = readdirSync(join(root, 'connectors')).filter((d) => statSync(join(root, 'connectors', d)).isDirectory());

describe('README config samples', () => {
  it.each(connectors)('connectors/%s has a README with a sources sample', (dir) => {
    const file = `connectors/${dir}/README.md`;
    expect(readmes(root), `${file} is missing: every connector has a README with a sample config`).toContain(file);
    expect(all.filter((s) => s.file === file && s.kind === 'sources').length, `${file} has no <!-- sample: sources --> block`).toBeGreaterThan(0);
  });

  it.each(all.map((s) => [`${s.file}:${s.line} (${s.kind})`, s] as const))('%s validates against the config schema', (_name, sample) => {
    const { problems } = validateConfig(asConfig(sample, all), sampleEnv);
    expect(problems.map((p) => `${p.path}: ${p.code}: ${p.message}`)).toEqual([]);
  });

  it('a sample with a mistake is caught, with its path', () => {
    const md = ['# x', '<!-- sample: sources -->', '```yaml', '- { id: meter, type: modbus, host: 127.0.0.1, pollIntervall: 1s }', '```', ''].join('\n');
    const samples = samplesOf('x/README.md', md);
    expect(samples).toMatchObject([{ line: 3, kind: 'sources' }]);
    const { problems } = validateConfig(asConfig(samples[0] as Sample, samples), sampleEnv);
    expect(problems.map((p) => `${p.path} ${p.code}`)).toEqual(['sources[0].pollIntervall ANDON_CONFIG_UNKNOWN_KEY']);
  });

  it('a fragment is checked together with the README sources it refers to', () => {
    const md = [
      '<!-- sample: sources -->',
      '```yaml',
      '- { id: plc, type: opcua, endpoint: "opc.tcp://127.0.0.1:4840" }',
      '```',
      '<!-- sample: fragment -->',
      '```yaml',
      'actions: [ { on: { priority: P0 }, write: { source: plc, nodeId: "ns=1;s=Red", value: true } } ]',
      '```',
      '<!-- sample: fragment -->',
      '```yaml',
      'actions: [ { on: { priority: P0 }, write: { source: nobody, nodeId: "ns=1;s=Red", value: true } } ]',
      '```',
    ].join('\n');
    const samples = samplesOf('y/README.md', md);
    expect(validateConfig(asConfig(samples[1] as Sample, samples), sampleEnv).problems).toEqual([]);
    expect(validateConfig(asConfig(samples[2] as Sample, samples), sampleEnv).problems.map((p) => p.code)).toEqual(['ANDON_CONFIG_UNKNOWN_REFERENCE']);
  });

  it('a marker without a yaml fence is an error, not a silently skipped sample', () => {
    expect(() => samplesOf('z/README.md', '<!-- sample: sources -->\nsome text\n')).toThrow(
      /z\/README\.md:1: a sample marker must be followed by a ```yaml fence/,
    );
    expect(() => samplesOf('z/README.md', '<!-- sample: whole -->\n```yaml\n{}\n```\n')).toThrow(/unknown sample kind "whole"/);
  });
});
