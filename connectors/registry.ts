import type { SourceConfig } from './schemas.ts';
import type { Connector, ConnectorDeps } from './connector.ts';
import { skipOpcuaSelfTest } from './opcua/self-test.ts';

type Factory = (config: never, deps: ConnectorDeps) => Connector;

/**
 * The connector registry: one line per protocol. Factories load lazily so a
 * gateway without OPC UA sources never loads node-opcua. `http` sources have
 * no connector: their signals arrive through `POST /api/v1/signals`.
 */
const registry: Record<Exclude<SourceConfig['type'], 'http'>, () => Promise<Factory>> = {
  opcua: async () => {
    skipOpcuaSelfTest();
    return (await import('./opcua/index.ts')).createOpcuaConnector;
  },
  mqtt: async () => (await import('./mqtt/index.ts')).createMqttConnector,
  modbus: async () => (await import('./modbus/index.ts')).createModbusConnector,
};

/** Creates the connector of a source, or undefined for sources without one (http). */
export async function createConnector(source: SourceConfig, deps: ConnectorDeps): Promise<Connector | undefined> {
  if (source.type === 'http') return undefined;
  const factory = await registry[source.type]();
  return factory(source as never, deps);
}
