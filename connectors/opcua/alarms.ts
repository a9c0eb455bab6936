import {
  AttributeIds,
  ClientMonitoredItem,
  constructEventFilter,
  makeContentFilter,
  ObjectIds,
  ofType,
  or,
  DataType,
  LocalizedText,
  MethodIds,
  NodeId,
  ObjectTypeIds,
  resolveNodeId,
  sameNodeId,
  StatusCodes,
  TimestampsToReturn,
  type ClientSession,
  type ClientSubscription,
  type Variant,
} from 'node-opcua-client';
import type { Logger } from 'pino';
import { AndonError } from '../../model/errors.ts';
import type { Signal } from '../../model/signal.ts';
import type { OpcuaSourceConfig } from './config.ts';
import type { ItemFailure } from './items.ts';

type AlarmEntry = OpcuaSourceConfig['alarms'][number];

/** The event fields selected, in this order. `ConditionId` is the condition's NodeId (ConditionType, empty path, NodeId attribute). */
const FIELDS = ['EventId', 'EventType', 'SourceName', 'ConditionName', 'Message', 'Severity', 'ActiveState.Id', 'AckedState.Id', 'Time', 'Retain', 'ConditionId'] as const;
type Field = (typeof FIELDS)[number];
const FILTER = constructEventFilter([...FIELDS]);
/** RefreshStart/RefreshEnd only: the markers of a ConditionRefresh, as the Server object reports them. */
const MARKERS = constructEventFilter(['EventType'], makeContentFilter(or(ofType(ObjectTypeIds.RefreshStartEventType), ofType(ObjectTypeIds.RefreshEndEventType))));

const isType = (v: unknown, typeId: number) => v instanceof NodeId && v.namespace === 0 && v.value === typeId;

/** Where an acknowledge goes: the condition, and the EventId of its latest event. */
interface ConditionRef {
  conditionId: NodeId;
  eventId: Buffer;
}

/** One `alarms[]` entry: its conditions' last signals, and the ones a running ConditionRefresh has re-sent. */
interface EntryState {
  entry: AlarmEntry;
  area: string;
  known: Map<string, Signal>;
  /** Conditions seen since our ConditionRefresh call; null when no refresh is running. */
  refreshSeen: Set<string> | null;
  /** Whether this entry's own item reported RefreshStart (spec servers do; node-opcua reports only on the Server object). */
  ownMarkers: boolean;
}

/**
 * Alarms & Conditions: one event monitored item per `alarms[]` notifier. Each
 * condition event becomes `<area>/<asset>/alarm/<ConditionName>`: true while
 * active, false on return to normal, with severity and message. After every
 * new subscription, ConditionRefresh re-sends the retained conditions; a
 * condition we held active that the refresh does not re-send has returned to
 * normal meanwhile, so it is cleared.
 */
export class Alarms {
  private readonly refs = new Map<string, ConditionRef>();
  private readonly entries: EntryState[];

  constructor(
    private readonly config: OpcuaSourceConfig,
    private readonly emit: (s: Signal) => void,
    private readonly now: () => number,
    private readonly log: Logger,
  ) {
    this.entries = config.alarms.map((entry) => ({ entry, area: entry.area ?? 'opcua', known: new Map(), refreshSeen: null, ownMarkers: false }));
  }

  private get needsServerMarkers(): boolean {
    const server = resolveNodeId(ObjectIds.Server);
    return this.entries.some((e) => !sameNodeId(resolveNodeId(e.entry.notifier), server));
  }

  /** Creates the event items on a new subscription; resolves with the notifiers the server refused. */
  async monitor(sub: ClientSubscription): Promise<ItemFailure[]> {
    const failures: ItemFailure[] = [];
    for (const state of this.entries) {
      state.refreshSeen = null;
      const status = await eventItem(sub, state.entry.notifier, FILTER, (values) => this.guard(() => this.onEvent(state, values)));
      if (status) failures.push({ what: `alarms of ${state.entry.asset}`, nodeId: state.entry.notifier, status });
    }
    // Created last, so within one publish its markers follow the entries' refreshed events.
    if (this.needsServerMarkers) {
      const status = await eventItem(sub, resolveNodeId(ObjectIds.Server).toString(), MARKERS, (values) => this.guard(() => this.onServerMarker(values)));
      if (status) this.log.warn({ code: 'ANDON_OPCUA_ITEM_FAILED', status }, 'no ConditionRefresh markers from the Server object: alarms cleared during an outage are cleared only by their next event');
    }
    return failures;
  }

  /** A throw must not reach node-opcua's publish loop (it would stop delivering). */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log.error({ err, code: 'ANDON_INTERNAL' }, 'alarm event handling failed');
    }
  }

  /** ConditionRefresh on the subscription: the server re-sends every retained condition between RefreshStart and RefreshEnd. */
  async refresh(session: ClientSession, subscriptionId: number): Promise<void> {
    if (this.entries.length === 0) return;
    for (const state of this.entries) {
      state.refreshSeen = new Set();
      state.ownMarkers = false;
    }
    const result = await session
      .call({
        objectId: resolveNodeId(ObjectTypeIds.ConditionType),
        methodId: resolveNodeId(MethodIds.ConditionType_ConditionRefresh),
        inputArguments: [{ dataType: DataType.UInt32, value: subscriptionId }],
      })
      .catch((err: unknown) => {
        this.cancelRefresh();
        throw err;
      });
    if (result.statusCode.isGood()) return;
    this.cancelRefresh();
    this.log.warn({ code: 'ANDON_OPCUA_ITEM_FAILED', status: result.statusCode.name }, 'ConditionRefresh refused: active alarms are known only from their next event');
  }

  /** No refresh is coming: clear nothing on a later (foreign) RefreshEnd. */
  private cancelRefresh(): void {
    for (const state of this.entries) state.refreshSeen = null;
  }

  /** Calls Acknowledge (AcknowledgeableConditionType) on the condition with the EventId of its latest event. */
  async acknowledge(session: ClientSession, asset: string, conditionName: string, comment: string): Promise<void> {
    const ref = this.refs.get(refKey(asset, conditionName));
    if (!ref) throw new AndonError('ANDON_OPCUA_UNKNOWN_CONDITION', `source ${this.config.id}: no event seen for condition ${conditionName} of ${asset}`);
    const result = await session.call({
      objectId: ref.conditionId,
      methodId: resolveNodeId(MethodIds.AcknowledgeableConditionType_Acknowledge),
      inputArguments: [
        { dataType: DataType.ByteString, value: ref.eventId },
        { dataType: DataType.LocalizedText, value: new LocalizedText({ text: comment }) },
      ],
    });
    // Acknowledging twice (the board and the HMI) is not an error.
    if (result.statusCode.isGood() || result.statusCode.equals(StatusCodes.BadConditionBranchAlreadyAcked)) return;
    throw new AndonError('ANDON_OPCUA_ACK_FAILED', `source ${this.config.id}: acknowledge ${asset}/${conditionName}: ${result.statusCode.name}`);
  }

  private onEvent(state: EntryState, values: Variant[]): void {
    const f = (name: Field): unknown => values[FIELDS.indexOf(name)]?.value ?? null;
    const type = f('EventType');
    if (isType(type, ObjectTypeIds.RefreshStartEventType)) {
      if (state.refreshSeen) state.ownMarkers = true;
      return;
    }
    if (isType(type, ObjectTypeIds.RefreshEndEventType)) {
      if (state.ownMarkers) this.endRefresh(state);
      return;
    }
    const name = f('ConditionName');
    if (typeof name !== 'string' || name === '') return; // a stray base event, not a condition
    const conditionId = f('ConditionId');
    const eventId = f('EventId');
    if (conditionId instanceof NodeId && Buffer.isBuffer(eventId)) this.refs.set(refKey(state.entry.asset, name), { conditionId, eventId });
    const active = f('ActiveState.Id') ?? f('Retain');
    const message = f('Message');
    const severity = f('Severity');
    const time = f('Time');
    const signal: Signal = {
      source: this.config.id,
      tag: `${state.area}/${state.entry.asset}/alarm/${name.replaceAll('/', '_')}`,
      value: active === true,
      quality: 'good',
      ts: time instanceof Date && !Number.isNaN(time.getTime()) ? time.getTime() : this.now(),
      asset: state.entry.asset,
      ...(typeof severity === 'number' ? { severity } : {}),
      ...(message instanceof LocalizedText && message.text ? { message: message.text } : {}),
    };
    state.refreshSeen?.add(name);
    state.known.set(name, signal);
    this.emit(signal);
  }

  /** RefreshEnd on the Server object ends the refresh of the entries whose own items report no markers. */
  private onServerMarker(values: Variant[]): void {
    if (!isType(values[0]?.value, ObjectTypeIds.RefreshEndEventType)) return;
    for (const state of this.entries) if (state.refreshSeen && !state.ownMarkers) this.endRefresh(state);
  }

  /**
   * Conditions the refresh did not re-send are not retained any more: normal
   * (and good again after a lost link). Deferred until the current publish
   * has been handled, since items' events are not ordered across items.
   */
  private endRefresh(state: EntryState): void {
    const seen = state.refreshSeen;
    state.refreshSeen = null;
    if (seen) setImmediate(() => this.reconcile(state, seen));
  }

  private reconcile(state: EntryState, seen: Set<string>): void {
    for (const [name, last] of state.known) {
      if (seen.has(name) || (last.value === false && last.quality === 'good')) continue;
      const cleared: Signal = { ...last, value: false, quality: 'good', ts: this.now(), message: 'returned to normal (not retained by the server)' };
      delete cleared.severity;
      state.known.set(name, cleared);
      this.emit(cleared);
    }
  }

  /** Emits every condition's last value once more with quality bad (the link is down). */
  markBad(ts: number): void {
    for (const state of this.entries) {
      for (const [name, s] of state.known) {
        if (s.quality === 'bad') continue;
        const bad: Signal = { ...s, quality: 'bad', ts };
        state.known.set(name, bad);
        this.emit(bad);
      }
    }
  }
}

const refKey = (asset: string, conditionName: string) => `${asset}\u0000${conditionName}`;

/** Creates an event item and waits for the server's verdict: null when created, else the status name. */
async function eventItem(sub: ClientSubscription, notifier: string, filter: typeof FILTER, onEvent: (values: Variant[]) => void): Promise<string | null> {
  const item = ClientMonitoredItem.create(
    sub,
    { nodeId: notifier, attributeId: AttributeIds.EventNotifier },
    { samplingInterval: 0, queueSize: 1000, discardOldest: true, filter },
    TimestampsToReturn.Neither,
  );
  item.on('changed', onEvent);
  const ok = await new Promise<boolean>((resolve) => {
    item.once('initialized', () => resolve(true));
    item.once('terminated', () => resolve(false));
  });
  return ok ? null : item.statusCode.name;
}
