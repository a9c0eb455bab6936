import type { Logger } from 'pino';
import { filter, type Subscription } from 'rxjs';
import type { Connector } from '../connectors/connector.ts';
import type { AndonConfig } from '../config/schema.ts';
import type { Runtime } from './runtime.ts';
import { isShelved, LIVE_STATES, type TicketDoc } from '../model/ticket.ts';

type Action = AndonConfig['actions'][number];

/** Whether a ticket holds the action on: every `on` field equals; without `state`, any open-ish state. */
export function matches(on: Action['on'], t: TicketDoc): boolean {
  const states = on.warning === true ? LIVE_STATES : ['open', 'acknowledged', 'in_progress', 'waiting'];
  const state = on.state ? t.state === on.state : states.includes(t.state);
  return state && (on.warning !== true || warningPending(t)) && (['priority', 'area', 'asset', 'fault'] as const).every((k) => on[k] === undefined || on[k] === t[k]);
}

/** An early warning is pending on the ticket and it was not shelved at this version (shelving silences warnings). */
const warningPending = (t: TicketDoc) => !isShelved(t, Date.parse(t.updatedAt)) && (t.warnings ?? []).some((w) => w.outcome === 'pending');

/** The ids of the tickets that hold `action` on. */
function holdersOf(action: Action, live: TicketDoc[]): Set<string> {
  const ids = new Set<string>();
  for (const t of live) if (matches(action.on, t)) ids.add(t.id);
  return ids;
}

/** The value that turns an output off: false, 0 or ''. */
const offValue = (v: boolean | number | string) => (typeof v === 'boolean' ? false : typeof v === 'number' ? 0 : '');

/**
 * Actions (docs/config.md): writes to the plant while matching tickets exist — the
 * andon light goes on with the first matching ticket and off when none is
 * left. The wanted state is written again whenever the target source comes
 * back up, so a light missed during an outage or a restart catches up.
 */
export function startActions(actions: Action[], runtime: Runtime, live: TicketDoc[], connectors: Map<string, Connector>, log: Logger) {
  const subs: Subscription[] = [];
  // A loop, not a closure over `live`: a closure would keep the live tickets' docs (20k) for the process's life.
  const state: { action: Action; holders: Set<string>; written: boolean | undefined }[] = [];
  for (const action of actions) state.push({ action, holders: holdersOf(action, live), written: undefined });
  const apply = (i: number, force = false) => {
    const s = state[i] as (typeof state)[number];
    const on = s.holders.size > 0;
    if (!force && s.written === on) return;
    const connector = connectors.get(s.action.write.source);
    if (!connector?.write) {
      log.warn({ component: 'actions', source: s.action.write.source }, 'action target has no writable connector');
      return;
    }
    const { source: _source, value, ...target } = s.action.write;
    s.written = on;
    connector.write({ ...target, value: on ? value : offValue(value) }).catch((err: unknown) => {
      s.written = undefined; // try again on the next change or when the source is back up
      log.warn({ component: 'actions', err, source: s.action.write.source, on }, 'action write failed');
    });
  };
  subs.push(
    runtime.engine.changes$.subscribe(({ ticket }) => {
      state.forEach((s, i) => {
        if (matches(s.action.on, ticket)) s.holders.add(ticket.id);
        else s.holders.delete(ticket.id);
        apply(i);
      });
    }),
  );
  state.forEach((s, i) => {
    const connector = connectors.get(s.action.write.source);
    if (connector) subs.push(connector.status$.pipe(filter((st) => st === 'up')).subscribe(() => apply(i, true)));
  });
  return { stop: () => subs.forEach((s) => s.unsubscribe()), isOn: (i: number) => (state[i]?.holders.size ?? 0) > 0 };
}
