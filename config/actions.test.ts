import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig, type ConfigProblem } from './load.ts';

/** An action's write is checked against its target source's type: what its connector's write() would refuse at run time. */
const SOURCES = `gateway: { id: plant-x }
sources:
  - { id: meter, type: modbus, host: 127.0.0.1, registers: [ { tag: u/m/v, table: holding, address: 0, type: uint16 } ] }
  - { id: plc, type: opcua, endpoint: "opc.tcp://127.0.0.1:4840", tags: [ { tag: p/s/run, nodeId: "ns=1;s=Run" } ] }
  - { id: mes, type: mqtt, url: "mqtt://127.0.0.1:1883", subscriptions: [ { topic: "mes/+/state", tag: "mes/{1}/state", value: $.v } ] }
  - { id: feed, type: http }
actions:
`;
function problems(write: string): ConfigProblem[] {
  try {
    parseConfig(`${SOURCES}  - { on: { priority: P0 }, write: ${write} }\n`, {});
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map(({ path, code }) => ({ path, code, message: '' }));
    throw err;
  }
}
const at = (key: string, code: string) => [{ path: `actions[0].write.${key}`, code, message: '' }];

describe('an action write fits its target source', () => {
  it.each([
    ['{ source: meter, table: coil, address: 3, value: true }', []],
    ['{ source: meter, table: holding, address: 3, value: 2 }', []],
    ['{ source: plc, nodeId: "ns=1;s=Andon.Red", value: true }', []],
    ['{ source: mes, topic: andon/light, value: "red" }', []],
    ['{ source: meter, table: coil, value: true }', at('address', 'ANDON_CONFIG_MISSING')],
    ['{ source: meter, address: 3, value: true }', at('table', 'ANDON_CONFIG_MISSING')],
    ['{ source: meter, table: coil, address: 3, value: 2 }', at('value', 'ANDON_CONFIG_INVALID_VALUE')],
    ['{ source: meter, table: holding, address: 3, value: 70000 }', at('value', 'ANDON_CONFIG_INVALID_VALUE')],
    ['{ source: meter, table: coil, address: 3, nodeId: "ns=1;s=X", value: true }', at('nodeId', 'ANDON_CONFIG_INVALID_VALUE')],
    ['{ source: plc, value: true }', at('nodeId', 'ANDON_CONFIG_MISSING')],
    ['{ source: mes, value: true }', at('topic', 'ANDON_CONFIG_MISSING')],
    ['{ source: mes, topic: "andon/+", value: true }', at('topic', 'ANDON_CONFIG_INVALID_VALUE')],
    ['{ source: feed, topic: andon/light, value: true }', at('source', 'ANDON_CONFIG_INVALID_VALUE')],
  ] as const)('%s', (write, expected) => {
    expect(problems(write)).toEqual(expected);
  });
});
