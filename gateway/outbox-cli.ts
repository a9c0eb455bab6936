import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { asyncScheduler } from 'rxjs';
import { loadConfig } from '../config/load.ts';
import { AndonError } from '../model/errors.ts';
import type { OutboxTicket } from './store/outbox.ts';
import { TicketStore } from './store/store.ts';

type Out = { out: (s: string) => void; err: (s: string) => void };

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const age = (ms: number) => (ms < 120_000 ? `${Math.round(ms / 1000)}s` : ms < 7_200_000 ? `${Math.round(ms / 60_000)}m` : `${(ms / 3_600_000).toFixed(1)}h`);
const iso = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString());

function row(t: OutboxTicket, parked: boolean): string {
  const versions = t.fromVersion === t.toVersion ? `v${t.toVersion}` : `v${t.fromVersion}-v${t.toVersion}`;
  const when = parked ? `parked ${iso(t.parkedAt)}` : `next ${iso(t.nextAttemptAt)}`;
  return `${t.ticketId}  ${versions.padEnd(9)} attempts ${String(t.attempts).padEnd(3)} ${when}${t.lastError ? `  ${t.lastError}` : ''}`;
}

/**
 * `andon outbox [--config f] [--parked] [--limit n]`: what waits for central (or what central refused).
 * `andon outbox retry <ticket id | --all> [--config f]`: un-parks; a running gateway picks the rows up
 * within forward's idle check (30 s), or at once when un-parked through POST /api/v1/outbox/:id/retry.
 */
export async function cmdOutbox(argv: string[], io: Out, defaultConfig: string): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { config: { type: 'string' }, parked: { type: 'boolean' }, all: { type: 'boolean' }, limit: { type: 'string' } },
  });
  const [sub, id, ...extra] = positionals;
  if ((sub !== undefined && sub !== 'retry') || extra.length > 0) throw new AndonError('ANDON_CLI_USAGE', 'usage: andon outbox [--parked] [--limit n] | andon outbox retry <ticket id|--all> [--config f]');
  if (sub === 'retry' && (id === undefined) === (values.all !== true)) throw new AndonError('ANDON_CLI_USAGE', 'outbox retry needs a ticket id or --all (not both)');
  const config = loadConfig(values.config ?? defaultConfig);
  const store = await TicketStore.open(join(config.gateway.dataDir, 'andon.sqlite'));
  try {
    const now = asyncScheduler.now();
    if (sub === 'retry') {
      const n = store.outbox.retry(id ?? null, now);
      if (id !== undefined && n === 0) throw new AndonError('ANDON_FORWARD_NOT_PARKED', `ticket ${id} has no parked outbox rows`);
      io.out(`un-parked ${plural(n, 'version')}${id ? ` of ticket ${id}` : ''}`);
      return 0;
    }
    const s = store.outbox.summary();
    io.out(`pending: ${plural(s.pending.versions, 'version')} of ${plural(s.pending.tickets, 'ticket')}${s.pending.oldestAt === null ? '' : `, oldest ${age(now - s.pending.oldestAt)}`}`);
    io.out(`parked: ${plural(s.parked.versions, 'version')} of ${plural(s.parked.tickets, 'ticket')}`);
    const limit = values.limit === undefined ? 20 : Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1) throw new AndonError('ANDON_CLI_USAGE', '--limit takes a positive integer');
    const list = store.outbox.list({ parked: values.parked === true, limit });
    for (const t of list) io.out(row(t, values.parked === true));
    const total = values.parked ? s.parked.tickets : s.pending.tickets;
    if (total > list.length) io.out(`… and ${plural(total - list.length, 'more ticket')} (--limit)`);
    return 0;
  } finally {
    await store.close();
  }
}
