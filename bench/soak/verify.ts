/**
 * The soak's end checks: the gateway's tickets against the alarm keys the load
 * raised (none lost, none twice), and central's tickets against the gateway's
 * (every ticket there at its newest version, each version written once, in order).
 */
import type { Central } from '../../sim/central/server.ts';
import { POISON_FAULT } from './plant.ts';

interface GatewayTicket {
  id: string;
  key: string;
  version: number;
  state: string;
  fault: string;
  asset: string | null;
  members: { asset: string | null; fault: string }[];
  history: { action: string; member?: { asset: string | null; fault: string } }[];
}

/** Every ticket of the gateway (all states), page by page. */
export async function gatewayTickets(url: string, token: string): Promise<GatewayTicket[]> {
  const out: GatewayTicket[] = [];
  for (let offset = 0; ; offset += 1000) {
    const res = await fetch(`${url}/api/v1/tickets?limit=1000&offset=${offset}`, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(60_000),
    });
    if (!res.ok) throw new Error(`GET /api/v1/tickets: HTTP ${res.status}`);
    const page = (await res.json()) as { items: GatewayTicket[]; total: number };
    out.push(...page.items);
    if (page.items.length === 0 || out.length >= page.total) return out;
  }
}

export interface TicketCheck {
  tickets: number;
  floods: number;
  merged: number;
  /** Keys the load raised with no ticket of their own and no flood that took them as a member. */
  lost: string[];
  /** Keys with more than one ticket that is neither merged nor closed. */
  duplicates: string[];
  /** Tickets of keys the load never raised (threshold rules firing, poison timestamps accepted). */
  unexpected: number;
  poisonTickets: number;
}

/** The gateway's tickets against `raised`, the ticket keys of every alarm raise the load sent. */
export function checkTickets(tickets: GatewayTicket[], raised: Set<string>): TicketCheck {
  const covered = new Set<string>();
  const live = new Map<string, number>();
  let floods = 0;
  let merged = 0;
  let unexpected = 0;
  let poisonTickets = 0;
  for (const t of tickets) {
    covered.add(t.key);
    if (t.fault === 'alarm-flood') {
      floods++;
      for (const m of [...t.members, ...t.history.flatMap((h) => (h.member ? [h.member] : []))]) covered.add(`${m.asset}/${m.fault}`);
      continue;
    }
    if (t.state === 'merged') merged++;
    else if (t.state !== 'closed') live.set(t.key, (live.get(t.key) ?? 0) + 1);
    if (t.fault === POISON_FAULT) poisonTickets++;
    else if (!raised.has(t.key)) unexpected++;
  }
  return {
    tickets: tickets.length,
    floods,
    merged,
    lost: [...raised].filter((k) => !covered.has(k)),
    duplicates: [...live].filter(([, n]) => n > 1).map(([k]) => k),
    unexpected,
    poisonTickets,
  };
}

export interface CentralCheck {
  atCentral: number;
  /** Gateway tickets central does not hold, or holds at an older version. */
  missing: string[];
  behind: string[];
  /** Tickets central holds that the gateway does not know. */
  unknown: number;
  duplicates: number;
  regressions: number;
  /** Effective writes whose version was not above the one central held before (from the write events). */
  outOfOrder: number;
  maxInFlightPerTicket: number;
}

export function checkCentral(tickets: GatewayTicket[], central: Central, outOfOrder: number): CentralCheck {
  const held = central.tickets();
  const stats = central.stats();
  const ids = new Set(tickets.map((t) => t.id));
  return {
    atCentral: held.size,
    missing: tickets.filter((t) => !held.has(t.id)).map((t) => t.id),
    behind: tickets
      .filter((t) => (held.get(t.id)?.version ?? Infinity) < t.version)
      .map((t) => `${t.id} (gateway v${t.version}, central v${held.get(t.id)?.version})`),
    unknown: [...held.keys()].filter((id) => !ids.has(id)).length,
    duplicates: stats.duplicates,
    regressions: stats.regressions,
    outOfOrder,
    maxInFlightPerTicket: stats.maxInFlightPerTicket,
  };
}

/** Watches central's effective writes: per ticket, each version must be above the last one written. */
export function watchCentralOrder(central: Central): () => number {
  const last = new Map<string, number>();
  let bad = 0;
  central.events.on('write', ({ id, version }) => {
    if (version <= (last.get(id) ?? 0)) bad++;
    last.set(id, version);
  });
  return () => bad;
}
