/**
 * The soak's last phase, after the load stopped: wait for the outbox to drain
 * into central, read the gateway's counters and tickets, and check them
 * (verify.ts). Returns the summary lines and the problems found.
 */
import type { AndonProcess } from '../ingest/andon.ts';
import type { Central } from '../../sim/central/server.ts';
import { boardSummary, type BoardClient } from './board.ts';
import { TOKENS } from './plant.ts';
import { fmt, scrape, series } from './report.ts';
import { checkCentral, checkTickets, gatewayTickets } from './verify.ts';

interface Outbox {
  pending: { versions: number; tickets: number };
  parked: number | { versions: number };
}

async function outbox(url: string): Promise<Outbox | undefined> {
  try {
    const res = await fetch(`${url}/api/v1/outbox`, { headers: { authorization: `Bearer ${TOKENS.admin}` }, signal: AbortSignal.timeout(10_000) });
    return res.ok ? ((await res.json()) as Outbox) : undefined;
  } catch {
    return undefined;
  }
}
const parkedOf = (o: Outbox) => (typeof o.parked === 'number' ? o.parked : o.parked.versions);
const some = (xs: string[]) => `${xs.length}${xs.length ? ` (${xs.slice(0, 5).join(', ')}${xs.length > 5 ? ', …' : ''})` : ''}`;

export async function finish(o: {
  andon: AndonProcess;
  central: Central;
  board: BoardClient[];
  raised: Set<string>;
  gatewayExit: () => string | null;
  centralOrder: () => number;
  drainTimeoutMs: number;
}): Promise<{ lines: string[]; problems: string[] }> {
  const lines: string[] = [];
  const problems: string[] = [];
  const url = o.andon.url;

  // The outbox drains into central (which is back by now).
  const t0 = performance.now();
  let last: Outbox | undefined;
  while (!o.gatewayExit() && performance.now() - t0 < o.drainTimeoutMs) {
    last = await outbox(url);
    if (last && last.pending.versions === 0) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  if (o.gatewayExit()) return { lines, problems: [`the gateway ${o.gatewayExit()}: no end checks`] };
  if (!last || last.pending.versions > 0)
    problems.push(
      `outbox not drained after ${fmt(o.drainTimeoutMs / 1000)} s: ${last ? `${last.pending.versions} versions pending` : 'GET /api/v1/outbox unanswered'}`,
    );
  else lines.push(`outbox drained ${fmt((performance.now() - t0) / 1000, 1)} s after the load ended; ${parkedOf(last)} parked`);
  if (last && parkedOf(last) > 0) problems.push(`${parkedOf(last)} outbox versions parked (central refused them)`);

  // The gateway's counters.
  const text = await scrape(url);
  if (text) {
    const rejected = [...series(text, 'andon_signals_rejected_total')].map(([l, n]) => `${l} ${n}`);
    lines.push(`gateway refused (andon_signals_rejected_total): ${rejected.length ? rejected.join(', ') : 'none'}`);
    const forward = [...series(text, 'andon_forward_requests_total')].map(([l, n]) => `${l} ${n}`);
    lines.push(
      `forward requests: ${forward.join(', ')}; SSE clients cut: ${series(text, 'andon_events_clients_cut_total').get('') ?? text.match(/^andon_events_clients_cut_total (\S+)/m)?.[1] ?? '?'}`,
    );
    const errors = [...series(text, 'andon_http_errors_total')].map(([l, n]) => `${l} ${n}`);
    lines.push(`HTTP errors by code: ${errors.length ? errors.join(', ') : 'none'}`);
  } else problems.push('/metrics unanswered at the end');

  // Tickets: the gateway's against the load's raises, central's against the gateway's.
  const tickets = await gatewayTickets(url, TOKENS.admin);
  const t = checkTickets(tickets, o.raised);
  lines.push(
    `gateway tickets: ${fmt(t.tickets)} (${t.floods} alarm floods, ${fmt(t.merged)} merged into floods, ${t.poisonTickets} from poison-timestamp raises, ${t.unexpected} of keys never raised); ` +
      `raised keys ${fmt(o.raised.size)}: lost ${some(t.lost)}, duplicated ${some(t.duplicates)}`,
  );
  if (t.lost.length > 0) problems.push(`${t.lost.length} raised alarm keys have no ticket (lost)`);
  if (t.duplicates.length > 0) problems.push(`${t.duplicates.length} keys with more than one live ticket (duplicates)`);
  const c = checkCentral(tickets, o.central, o.centralOrder());
  const st = o.central.stats();
  lines.push(
    `central: ${fmt(c.atCentral)} tickets; missing ${some(c.missing)}, behind ${some(c.behind)}, unknown to the gateway ${c.unknown}; ` +
      `duplicates ${c.duplicates}, regressions ${c.regressions}, out of order ${c.outOfOrder}, max in flight per ticket ${c.maxInFlightPerTicket}; ` +
      `PUTs ${fmt(st.puts)} (effective ${fmt(st.effective)}, replays ${st.replays}, conflicts ${st.conflicts})`,
  );
  if (c.missing.length + c.behind.length > 0) problems.push(`central lacks ${c.missing.length} tickets and is behind on ${c.behind.length} (lost)`);
  if (c.duplicates + c.regressions + c.outOfOrder > 0)
    problems.push(`central saw duplicates ${c.duplicates}, regressions ${c.regressions}, out of order ${c.outOfOrder}`);
  if (c.maxInFlightPerTicket > 1) problems.push(`central had ${c.maxInFlightPerTicket} PUTs of one ticket in flight at once`);

  // The board clients.
  const b = boardSummary(o.board);
  lines.push(
    `board: ${b.connected}/${o.board.length} connected at the end, ${fmt(b.events[0])}–${fmt(b.events[1])} events per client, ${fmt(b.mib)} MiB read in all; ` +
      `cuts ${b.cuts}, resets ${b.resets}, failed connects ${b.failedConnects}, ids out of order ${b.outOfOrder}`,
  );
  if (b.outOfOrder > 0) problems.push(`${b.outOfOrder} event ids out of order on the board`);
  return { lines, problems };
}
