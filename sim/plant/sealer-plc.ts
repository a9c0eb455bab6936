import { join } from 'node:path';
import {
  DataType,
  MessageSecurityMode,
  nodesets,
  OPCUACertificateManager,
  OPCUAServer,
  SecurityPolicy,
  type UAAlarmConditionEx,
  type UAVariable,
} from 'node-opcua';

/**
 * The packaging line's PLC: a node-opcua server on 127.0.0.1.
 *
 *   Objects/Sealer01            ns=1;s=Sealer01            event notifier (Alarms & Conditions)
 *     State                     ns=1;s=Sealer01.State      String: running | stopped
 *     Speed                     ns=1;s=Sealer01.Speed      Double, packs per minute
 *     E21 (AlarmConditionType)  ns=1;s=Sealer01.E21        "seal jaw fault"
 *   Objects/Andon
 *     Red                       ns=1;s=Andon.Red           Boolean, writable: the control-room andon light
 *     Amber                     ns=1;s=Andon.Amber         Boolean, writable: its amber (an early warning)
 */
export interface SealerPlc {
  endpoint: string;
  port: number;
  /** The sealer runs (state running, speed ~120/min) or stops (state stopped, speed 0). */
  setRunning(running: boolean, speed?: number): void;
  setSpeed(speed: number): void;
  /** Raises the E21 condition (active, unacknowledged). */
  raiseAlarm(message: string, severity: number): void;
  /** Returns E21 to normal. */
  clearAlarm(): void;
  alarmAcked(): boolean;
  /** The andon light as last written by the gateway. */
  andonRed(): boolean;
  /** Called whenever the andon light changes (the gateway writes it). */
  onAndon(listener: (on: boolean) => void): void;
  /** Called whenever the light's amber changes (the gateway writes it while an early warning is pending). */
  onAmber(listener: (on: boolean) => void): void;
  /** Called when a client acknowledges E21 (an operator acked the ticket in Andon). */
  onAck(listener: () => void): void;
  stop(): Promise<void>;
}

export async function startSealerPlc(opts: { port: number; pkiDir: string }): Promise<SealerPlc> {
  const server = new OPCUAServer({
    port: opts.port,
    host: '127.0.0.1',
    hostname: '127.0.0.1',
    resourcePath: '/UA/Plant',
    nodeset_filename: [nodesets.standard],
    allowAnonymous: true,
    securityModes: [MessageSecurityMode.None],
    securityPolicies: [SecurityPolicy.None],
    serverCertificateManager: new OPCUACertificateManager({ rootFolder: join(opts.pkiDir, 'server'), automaticallyAcceptUnknownCertificate: true }),
  });
  await server.initialize();
  const as = server.engine.addressSpace;
  if (!as) throw new Error('OPC UA server has no address space');
  // Binds ConditionRefresh, Acknowledge, ... (not part of the public AddressSpace typing).
  (as as unknown as { installAlarmsAndConditionsService(): void }).installAlarmsAndConditionsService();
  const ns = as.getOwnNamespace();
  const objects = as.rootFolder.objects;

  const sealer = ns.addObject({ browseName: 'Sealer01', nodeId: 's=Sealer01', organizedBy: objects, notifierOf: objects.server });
  const state = ns.addVariable({
    componentOf: sealer,
    eventSourceOf: sealer,
    browseName: 'State',
    nodeId: 's=Sealer01.State',
    dataType: 'String',
    value: { dataType: DataType.String, value: 'running' },
  });
  const speed: UAVariable = ns.addVariable({
    componentOf: sealer,
    browseName: 'Speed',
    nodeId: 's=Sealer01.Speed',
    dataType: 'Double',
    value: { dataType: DataType.Double, value: 120 },
  });
  const alarm: UAAlarmConditionEx = ns.instantiateAlarmCondition('AlarmConditionType', {
    browseName: 'E21',
    nodeId: 's=Sealer01.E21',
    conditionName: 'E21',
    componentOf: sealer,
    conditionSource: state,
    inputNode: state,
  });
  alarm.setEnabledState(true);

  const andon = ns.addObject({ browseName: 'Andon', nodeId: 's=Andon', organizedBy: objects });
  const red = ns.addVariable({
    componentOf: andon,
    browseName: 'Red',
    nodeId: 's=Andon.Red',
    dataType: 'Boolean',
    accessLevel: 'CurrentRead | CurrentWrite',
    userAccessLevel: 'CurrentRead | CurrentWrite',
    value: { dataType: DataType.Boolean, value: false },
  });

  const amber = ns.addVariable({
    componentOf: andon,
    browseName: 'Amber',
    nodeId: 's=Andon.Amber',
    dataType: 'Boolean',
    accessLevel: 'CurrentRead | CurrentWrite',
    userAccessLevel: 'CurrentRead | CurrentWrite',
    value: { dataType: DataType.Boolean, value: false },
  });

  await server.start();
  const endpoint = server.getEndpointUrl();
  const port = Number(new URL(endpoint.replace(/^opc\.tcp:/, 'http:')).port);
  const redValue = () => red.readValue().value.value === true;
  const setSpeed = (v: number) => speed.setValueFromSource({ dataType: DataType.Double, value: v });
  return {
    endpoint,
    port,
    setRunning: (running, v = 120) => {
      state.setValueFromSource({ dataType: DataType.String, value: running ? 'running' : 'stopped' });
      setSpeed(running ? v : 0);
    },
    setSpeed,
    raiseAlarm: (message, severity) => {
      alarm.activateAlarm();
      alarm.raiseNewCondition({ message, severity, retain: true });
    },
    clearAlarm: () => {
      if (!alarm.activeState.getValue()) return;
      alarm.deactivateAlarm();
      alarm.raiseNewCondition({ message: 'back to normal', severity: 100, retain: !alarm.currentBranch().getAckedState() });
    },
    alarmAcked: () => alarm.currentBranch().getAckedState(),
    andonRed: redValue,
    onAndon: (listener) => {
      let last = redValue();
      red.on('value_changed', () => {
        const now = redValue();
        if (now !== last) listener((last = now));
      });
    },
    onAmber: (listener) => {
      const value = () => amber.readValue().value.value === true;
      let last = value();
      amber.on('value_changed', () => {
        const now = value();
        if (now !== last) listener((last = now));
      });
    },
    onAck: (listener) => void alarm.on('acknowledged', () => listener()),
    stop: () => server.shutdown(0),
  };
}
