import { existsSync, renameSync, rmSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { AndonError } from '../../model/errors.ts';
import { quickCheck } from './files.ts';

export interface BackupResult {
  source: string;
  target: string;
  bytes: number;
  tickets: number;
}

/**
 * `andon backup`: an online, consistent copy of the ticket store, also while a
 * gateway writes to it (SQLite's backup API, all pages in one step: one read
 * snapshot, so the copy is the store as of one commit). The copy is written
 * next to the target, checked (quick_check) and renamed into place: a failed
 * backup leaves nothing at the target, and an existing target is never
 * overwritten.
 */
export async function backupStore(source: string, target: string): Promise<BackupResult> {
  if (!existsSync(source)) throw new AndonError('ANDON_STORE_UNAVAILABLE', `no ticket store at ${source} (is gateway.dataDir right?)`);
  if (existsSync(target)) throw new AndonError('ANDON_STORE_BACKUP_FAILED', `${target} exists; a backup never overwrites: choose a new file name`);
  const partial = `${target}.partial`;
  const fail = (what: string, err: unknown) => {
    for (const f of [partial, `${partial}-wal`, `${partial}-shm`]) rmSync(f, { force: true });
    return new AndonError('ANDON_STORE_BACKUP_FAILED', `backup of ${source} to ${target} failed: ${what}: ${(err as Error).message}`, { cause: err });
  };
  let db: Database.Database;
  try {
    db = new Database(source, { fileMustExist: true });
    db.pragma('busy_timeout = 10000');
  } catch (err) {
    throw new AndonError('ANDON_STORE_UNAVAILABLE', `cannot open the ticket store at ${source}: ${(err as Error).message}`, { cause: err });
  }
  try {
    await db.backup(partial, { progress: () => 0x7fffffff });
  } catch (err) {
    throw fail('copy', err);
  } finally {
    db.close();
  }
  let tickets: number;
  try {
    const copy = new Database(partial, { fileMustExist: true });
    try {
      const problems = quickCheck(copy);
      if (problems.length > 0) throw new Error(`the copy fails quick_check: ${problems.join('; ')}`);
      tickets = (copy.prepare('SELECT count(*) AS n FROM tickets').get() as { n: number }).n;
      // A plain file on its own: no -wal to carry along.
      copy.pragma('journal_mode = DELETE');
    } finally {
      copy.close();
    }
    renameSync(partial, target);
  } catch (err) {
    throw fail('check', err);
  }
  return { source, target, bytes: statSync(target).size, tickets };
}
