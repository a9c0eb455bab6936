import { resolveNodeId } from 'node-opcua-client';
import { BehaviorSubject } from 'rxjs';
import { LeanSubject } from '../../model/subject.ts';
import { AndonError } from '../../model/errors.ts';
import type { Signal } from '../../model/signal.ts';
import type { Connector, ConnectorDeps, ConnectorStatus, WriteRequest } from '../connector.ts';
import { within } from './classify.ts';
import { opcuaSourceSchema, type OpcuaSourceConfig } from './config.ts';
import { Alarms } from './alarms.ts';
import { DataItems } from './items.ts';
import { Link } from './link.ts';
import { Writer } from './write.ts';

export { opcuaSourceSchema, type OpcuaSourceConfig };

/** The gateway's deps, plus a wall clock for the signals the connector stamps itself (tests may pin it). */
export interface OpcuaDeps extends ConnectorDeps {
  now?: () => number;
}

/** The OPC UA connector: the Connector contract plus acknowledging conditions on the server. */
export interface OpcuaConnector extends Connector {
  write(req: WriteRequest): Promise<void>;
  /** Acknowledges the condition on the server (Acknowledge with the EventId of its latest event). */
  acknowledge(asset: string, conditionName: string, comment: string): Promise<void>;
}

const REQUEST_TIMEOUT_MS = 5000;

/** Every node id must parse before we connect: a typo is a config error, not a degraded source. */
function checkNodeIds(config: OpcuaSourceConfig): void {
  const ids: Array<[string, string]> = [
    ...config.tags.map((t, i): [string, string] => [`tags[${i}].nodeId`, t.nodeId]),
    ...config.alarms.map((a, i): [string, string] => [`alarms[${i}].notifier`, a.notifier]),
  ];
  for (const [path, id] of ids) {
    try {
      resolveNodeId(id);
    } catch (err) {
      throw new AndonError('ANDON_CONFIG_INVALID_VALUE', `source ${config.id}: ${path}: "${id}" is not a node id`, { path, cause: err });
    }
  }
}

/**
 * Creates the connector of one `type: opcua` source: monitored items for its
 * tags, Alarms & Conditions for its notifiers, writes for actions. It heals
 * itself after reconnects, server restarts and silent subscriptions (see
 * link.ts); `status$` says connecting, up, degraded (some items refused) or
 * down, and on down every tag's last value is re-sent once with quality bad.
 */
export function createOpcuaConnector(config: OpcuaSourceConfig, deps: OpcuaDeps): OpcuaConnector {
  checkNodeIds(config);
  const log = deps.log;
  const now = deps.now ?? (() => new Date().getTime());
  const signals = new LeanSubject<Signal>();
  const status = new BehaviorSubject<ConnectorStatus>('connecting');
  let stopped = false;
  const emit = (s: Signal) => {
    if (!stopped) signals.next(s);
  };
  const items = new DataItems(config, emit, deps.reject, now, log);
  const alarms = new Alarms(config, emit, now, log);
  const writer = new Writer(config.id, REQUEST_TIMEOUT_MS);

  const setStatus = (next: ConnectorStatus) => {
    const prev = status.value;
    if (stopped || prev === next) return;
    status.next(next);
    if (next === 'down' && (prev === 'up' || prev === 'degraded')) {
      const ts = now();
      items.markBad(ts);
      alarms.markBad(ts);
    }
  };

  const link = new Link(config, deps.dataDir, log, {
    status: setStatus,
    async populate(session, sub) {
      writer.reset();
      const refused = [...(await items.monitor(sub)), ...(await alarms.monitor(sub))];
      for (const r of refused) log.warn({ code: 'ANDON_OPCUA_ITEM_FAILED', nodeId: r.nodeId, status: r.status }, `${r.what}: the server refused ${r.nodeId} (${r.status})`);
      await alarms.refresh(session, sub.subscriptionId).catch((err: unknown) => log.warn({ err, code: 'ANDON_OPCUA_ITEM_FAILED' }, 'ConditionRefresh failed'));
      return refused.length;
    },
  });

  const session = (what: string) => {
    const s = link.session;
    if (!s) throw new AndonError('ANDON_OPCUA_NOT_CONNECTED', `source ${config.id}: ${what}: not connected (status ${status.value})`);
    return s;
  };

  return {
    id: config.id,
    signals$: signals.asObservable(),
    status$: status.asObservable(),
    alarmAssets: config.alarms.map((a) => a.asset),
    // node-opcua acknowledges publish responses itself: a response's values commit together
    commitsTogether: true,
    start: () => link.start(),
    async stop() {
      await link.stop();
      if (status.value !== 'down') status.next('down');
      stopped = true;
      signals.complete();
      status.complete();
    },
    async write(req) {
      await writer.write(session(`write ${req.nodeId ?? ''}`), req);
    },
    async acknowledge(asset, conditionName, comment) {
      const where = `acknowledge ${asset}/${conditionName}`;
      await within(alarms.acknowledge(session(where), asset, conditionName, comment), REQUEST_TIMEOUT_MS, () => new AndonError('ANDON_OPCUA_TIMEOUT', `source ${config.id}: ${where}: no answer within ${REQUEST_TIMEOUT_MS} ms`)).catch(
        (err: unknown) => {
          if (err instanceof AndonError) throw err;
          throw new AndonError('ANDON_OPCUA_NOT_CONNECTED', `source ${config.id}: ${where}: ${(err as Error).message}`, { cause: err });
        },
      );
    },
  };
}
