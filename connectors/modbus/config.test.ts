import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../config/load.ts';

const readme = readFileSync(fileURLToPath(new URL('./README.md', import.meta.url)), 'utf8');
const yamlBlocks = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => parse(m[1] as string) as unknown);

const withSources = (sources: unknown[], extra: Record<string, unknown> = {}) => validateConfig({ gateway: { id: 'x' }, sources, ...extra }, {});
const problems = (register: Record<string, unknown>) =>
  withSources([{ id: 'm', type: 'modbus', host: '127.0.0.1', registers: [{ tag: 'a/b', table: 'holding', address: 0, ...register }] }]).problems.map(
    ({ path, code }) => `${path} ${code}`,
  );

describe('modbus source config', () => {
  it("the README's sample config validates", () => {
    const sources = yamlBlocks[0] as unknown[];
    const { config, problems: found } = withSources(sources);
    expect(found).toEqual([]);
    const meter = config?.sources[0];
    expect(meter).toMatchObject({ id: 'power-meter', type: 'modbus', pollInterval: 1000, timeout: 500, maxGap: 10, maxRegistersPerRead: 125 });
    expect(meter?.type === 'modbus' && meter.registers.map((r) => r.type)).toEqual(['float32', 'float32', 'uint32', 'int16', 'bit', 'bit']);
    expect(config?.sources[1]).toMatchObject({ serial: { path: '/dev/ttyUSB0', baudRate: 19200, parity: 'even', dataBits: 8, stopBits: 1 }, unitId: 7 });
  });

  it("the README's action sample validates against its sources", () => {
    const actions = (yamlBlocks[1] as { actions: unknown[] }).actions;
    expect(withSources(yamlBlocks[0] as unknown[], { actions }).problems).toEqual([]);
  });

  it('the design example source still validates (defaults fill the rest)', () => {
    const { problems: found } = withSources([
      {
        id: 'power-meter',
        type: 'modbus',
        host: '127.0.0.1',
        port: 5020,
        unitId: 1,
        pollInterval: '1s',
        registers: [{ tag: 'utilities/feeder-3/voltage', asset: 'feeder-3', table: 'holding', address: 0, type: 'float32', wordOrder: 'big', scale: 1 }],
      },
    ]);
    expect(found).toEqual([]);
  });

  it.each([
    [{ type: 'bit' }, 'sources[0].registers[0].bit ANDON_CONFIG_MISSING'],
    [{ type: 'uint16', bit: 3 }, 'sources[0].registers[0].bit ANDON_CONFIG_INVALID_VALUE'],
    [{ table: 'coil', type: 'float32' }, 'sources[0].registers[0].type ANDON_CONFIG_INVALID_VALUE'],
    [{ table: 'discrete', bit: 1 }, 'sources[0].registers[0].bit ANDON_CONFIG_INVALID_VALUE'],
    [{ address: 65534, type: 'float64' }, 'sources[0].registers[0].address ANDON_CONFIG_INVALID_VALUE'],
    [{ address: 65536 }, 'sources[0].registers[0].address ANDON_CONFIG_INVALID_VALUE'],
    [{ type: 'int64' }, 'sources[0].registers[0].type ANDON_CONFIG_INVALID_VALUE'],
    [{ wordorder: 'big' }, 'sources[0].registers[0].wordorder ANDON_CONFIG_UNKNOWN_KEY'],
    [{ table: 'coil', decimals: 1 }, 'sources[0].registers[0].decimals ANDON_CONFIG_INVALID_VALUE'],
    [{ type: 'bit', bit: 2, decimals: 0 }, 'sources[0].registers[0].decimals ANDON_CONFIG_INVALID_VALUE'],
    [{ type: 'float32', decimals: 11 }, 'sources[0].registers[0].decimals ANDON_CONFIG_INVALID_VALUE'],
    [{ type: 'float32', unit: '' }, 'sources[0].registers[0].unit ANDON_CONFIG_INVALID_VALUE'],
  ])('refuses register %j: %s', (register, expected) => {
    expect(problems(register)).toEqual([expected]);
  });

  it('refuses a tag mapped twice, and a source with neither or both of host and serial', () => {
    const dup = withSources([
      {
        id: 'm',
        type: 'modbus',
        host: 'h',
        registers: [
          { tag: 'a', table: 'coil', address: 0 },
          { tag: 'a', table: 'coil', address: 1 },
        ],
      },
    ]);
    expect(dup.problems).toEqual([
      { path: 'sources[0].registers[1].tag', code: 'ANDON_CONFIG_DUPLICATE_ID', message: 'tag "a" is mapped twice in this source' },
    ]);
    expect(withSources([{ id: 'm', type: 'modbus' }]).problems).toEqual([
      { path: 'sources[0]', code: 'ANDON_CONFIG_INVALID_VALUE', message: expect.stringContaining('needs host') },
    ]);
    expect(withSources([{ id: 'm', type: 'modbus', host: 'h', serial: { path: '/dev/ttyS0' } }]).problems).toEqual([
      { path: 'sources[0].serial', code: 'ANDON_CONFIG_INVALID_VALUE', message: expect.stringContaining('not both') },
    ]);
    expect(withSources([{ id: 'm', type: 'modbus', host: 'h', pollInterval: 'often' }]).problems.map((p) => p.code)).toEqual(['ANDON_CONFIG_INVALID_DURATION']);
    expect(withSources([{ id: 'm', type: 'modbus', host: 'h', maxRegistersPerRead: 200 }]).problems.map((p) => p.path)).toEqual([
      'sources[0].maxRegistersPerRead',
    ]);
  });
});
