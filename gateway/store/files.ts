import { accessSync, constants, copyFileSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import type { Logger } from 'pino';
import { AndonError } from '../../model/errors.ts';

/**
 * The files of the ticket store and what can go wrong with them outside SQLite.
 * `andon.sqlite-wal` and `-shm` belong to the database: the -wal holds
 * committed changes not yet copied into andon.sqlite, the -shm is its index,
 * mapped into memory by every process that has the store open.
 */

const why = (err: unknown) => (err as { code?: string }).code ?? (err as Error).message;

/**
 * Checks before SQLite opens the store, so that a problem is a clear
 * ANDON_STORE_* error at start naming the path, not a raw EACCES stack or a
 * SIGBUS later (SQLite maps the -shm into memory; a fault on that mapping
 * kills the process without a log line, and Node cannot catch it).
 */
export function preflight(file: string, log?: Logger): void {
  const dir = dirname(file);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw new AndonError('ANDON_STORE_UNAVAILABLE', `cannot create the data directory ${dir} (gateway.dataDir): ${why(err)}`, { path: 'gateway.dataDir', cause: err });
  }
  const writable = (path: string, what: string) => {
    try {
      accessSync(path, constants.R_OK | constants.W_OK);
    } catch (err) {
      throw new AndonError('ANDON_STORE_UNAVAILABLE', `${what} ${path} is not writable (${why(err)}); the gateway needs to write it (fix its owner or mode, or the mount)`, {
        path: 'gateway.dataDir',
        cause: err,
      });
    }
  };
  writable(dir, 'the data directory');
  for (const [path, what] of [
    [file, 'the ticket store'],
    [`${file}-wal`, 'the store\'s write-ahead log'],
    [`${file}-shm`, 'the store\'s shared-memory index'],
  ] as const) {
    if (!existsSync(path)) continue;
    if (!statSync(path).isFile()) throw new AndonError('ANDON_STORE_UNAVAILABLE', `${what} ${path} is not a regular file`, { path: 'gateway.dataDir' });
    writable(path, what);
  }
  const wal = `${file}-wal`;
  if (!existsSync(wal)) return;
  const bytes = statSync(wal).size;
  if (!existsSync(file) && bytes > 0) {
    throw new AndonError('ANDON_STORE_CORRUPT', `${wal} exists without ${file}: its changes belong to a database that is gone. Restore andon.sqlite from a backup, or move the -wal aside to start with an empty store`, {
      path: 'gateway.dataDir',
    });
  }
  // After a clean stop the last connection copies the -wal into the database and deletes it.
  if (bytes === 0) return;
  log?.warn({ component: 'store', file: wal, bytes }, 'a -wal file is present: the last run did not stop cleanly (or another process has the store open); SQLite recovers its committed changes now');
  const damage = inspectWal(readFileSync(wal));
  if (!damage) return;
  // SQLite recovers the sound part and overwrites the rest: keep the file as it was, for whoever investigates.
  const kept = `${wal}.damaged-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  copyFileSync(wal, kept);
  log?.error(
    { component: 'store', code: 'ANDON_STORE_CORRUPT', file: wal, kept, ...damage },
    `the -wal is damaged: ${damage.lostCommits} committed transaction(s) after frame ${damage.badFrame} cannot be verified and are lost (SQLite keeps what precedes). A copy is at ${kept}; restore a backup if those changes matter`,
  );
}

/**
 * What SQLite's WAL recovery will drop that it should not: it replays frames
 * while their checksums chain correctly and ignores everything from the first
 * bad one, silently. A torn last transaction of a crash is expected (it was
 * never acknowledged); a commit *after* a bad frame was acknowledged and is
 * lost. Returns undefined when nothing committed is lost.
 * Format: https://www.sqlite.org/fileformat2.html#the_write_ahead_log
 */
export function inspectWal(buf: Buffer): { badFrame: number; frames: number; lostCommits: number } | undefined {
  const HEADER = 32;
  const FRAME_HEADER = 24;
  if (buf.length < HEADER) return undefined;
  const magic = buf.readUInt32BE(0);
  const pageSize = buf.readUInt32BE(8);
  const validHeader = (magic === 0x377f0682 || magic === 0x377f0683) && pageSize >= 512 && pageSize <= 65536 && (pageSize & (pageSize - 1)) === 0;
  const frameSize = FRAME_HEADER + pageSize;
  const frames = validHeader ? Math.floor((buf.length - HEADER) / frameSize) : 0;
  if (!validHeader) return buf.length > HEADER ? { badFrame: 0, frames, lostCommits: 1 } : undefined;
  const word = magic === 0x377f0682 ? (o: number) => buf.readUInt32LE(o) : (o: number) => buf.readUInt32BE(o);
  const sum = (s: [number, number], from: number, to: number): [number, number] => {
    let [s0, s1] = s;
    for (let o = from; o < to; o += 8) {
      s0 = (s0 + word(o) + s1) >>> 0;
      s1 = (s1 + word(o + 4) + s0) >>> 0;
    }
    return [s0, s1];
  };
  let s = sum([0, 0], 0, 24);
  if (s[0] !== buf.readUInt32BE(24) || s[1] !== buf.readUInt32BE(28)) return { badFrame: 0, frames, lostCommits: frames > 0 ? 1 : 0 };
  const salt = [buf.readUInt32BE(16), buf.readUInt32BE(20)];
  const ours = (o: number) => buf.readUInt32BE(o + 8) === salt[0] && buf.readUInt32BE(o + 12) === salt[1];
  for (let i = 0; i < frames; i++) {
    const o = HEADER + i * frameSize;
    // A frame of an older WAL generation (another salt) ends this one: what follows is not ours.
    if (!ours(o)) return undefined;
    s = sum(sum(s, o, o + 8), o + FRAME_HEADER, o + frameSize);
    if (s[0] === buf.readUInt32BE(o + 16) && s[1] === buf.readUInt32BE(o + 20)) continue;
    let lostCommits = 0;
    for (let j = i; j < frames; j++) {
      const f = HEADER + j * frameSize;
      if (!ours(f)) break;
      if (buf.readUInt32BE(f + 4) !== 0) lostCommits++;
    }
    // One commit from here on: only the last transaction was torn (a crash mid-commit, never acknowledged).
    // More: with synchronous=FULL each was synced before it was acknowledged, and SQLite drops them all.
    return lostCommits <= 1 ? undefined : { badFrame: i, frames, lostCommits };
  }
  return undefined;
}

/** SQLite's answer to a file that is not a database or is damaged. */
export const isCorruption = (err: unknown): boolean => {
  for (let e = err; e; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^SQLITE_(CORRUPT|NOTADB)/.test(code)) return true;
  }
  return false;
};

export const corrupt = (file: string, detail: string, cause?: unknown) =>
  new AndonError(
    'ANDON_STORE_CORRUPT',
    `the ticket store ${file} is damaged (${detail}); the gateway does not start on it. Stop, move ${file} and its -wal and -shm aside, and restore the latest \`andon backup\` copy to ${file} (or start with an empty store)`,
    { path: 'gateway.dataDir', ...(cause === undefined ? {} : { cause }) },
  );

/** PRAGMA quick_check (O(N), no index-content check): the problems it lists, none when the file is sound. */
export function quickCheck(db: BetterSqlite3.Database, max = 5): string[] {
  const rows = db.pragma(`quick_check(${max})`) as { quick_check: string }[];
  return rows.map((r) => r.quick_check.replace(/\s+/g, ' ')).filter((r) => r !== 'ok');
}

/** The scratch table warmWal writes and drops (left behind only by a crash in between: dropped at the next start). */
const WARM_TABLE = 'andon_wal_warm';

/**
 * Gives the -wal its working size before the first signal, when it is smaller: one commit of a blob as
 * large as the automatic checkpoint's threshold (1,000 pages, 4 MiB), dropped, then checkpointed. SQLite
 * deletes the -wal when the store closes, so every start began with an empty one, and each commit of the
 * first thousand pages grew the file: its fsync then also commits the file's new size and blocks
 * (ext4's journal), ~400 against ~220 us (strace, a flood's commits after a start). From here on the
 * -wal is written over from its start after each checkpoint, never grown, until it holds more than a
 * checkpoint's worth. The blob's pages stay in andon.sqlite as free pages (4 MiB once), which later
 * tickets reuse. A failure (a full disk) is logged and the start goes on: it only costs speed.
 * Returns whether it wrote.
 */
export function warmWal(db: BetterSqlite3.Database, file: string, log?: Logger): boolean {
  const pages = Number(db.pragma('wal_autocheckpoint', { simple: true }));
  const pageSize = Number(db.pragma('page_size', { simple: true }));
  const bytes = pages * pageSize;
  let size = 0;
  try {
    size = statSync(`${file}-wal`).size;
  } catch {
    // no -wal yet: SQLite makes it at the first write
  }
  try {
    // a crash between the two steps below left the scratch table, and a -wal big enough to skip them
    if (db.prepare('SELECT 1 FROM sqlite_master WHERE name = ?').get(WARM_TABLE)) db.exec(`DROP TABLE ${WARM_TABLE}`);
    if (!(bytes > 0) || size >= bytes) return false;
    db.transaction(() => {
      db.exec(`CREATE TABLE ${WARM_TABLE} (b BLOB)`);
      db.prepare(`INSERT INTO ${WARM_TABLE} VALUES (zeroblob(?))`).run(bytes);
    })();
    db.exec(`DROP TABLE ${WARM_TABLE}`);
    db.pragma('wal_checkpoint(PASSIVE)');
    return true;
  } catch (err) {
    log?.warn({ component: 'store', file, err: why(err) }, 'could not give the -wal its working size at start; commits grow it as they come (slower first commits)');
    try {
      db.exec(`DROP TABLE IF EXISTS ${WARM_TABLE}`);
    } catch {
      // the next start drops it
    }
    return false;
  }
}

/**
 * Watches that the -wal the connection writes is still the file at its path.
 * Deleted while the gateway runs, SQLite goes on writing to the unlinked file:
 * a crash then loses every change since. From the moment it is seen gone, every
 * commit is checkpointed into andon.sqlite (slower, but durable again) and an
 * error is logged until the gateway is restarted (which creates a new -wal).
 */
export function walGuard(db: BetterSqlite3.Database, file: string, log?: Logger) {
  const wal = `${file}-wal`;
  const inode = () => (existsSync(wal) ? statSync(wal).ino : undefined);
  // Another process opening the store after a delete would create a new -wal at the path: compare inodes.
  const ours = inode();
  let lost = false;
  return {
    get lost() {
      return lost;
    },
    /** Looks (a stat); on the first miss checkpoints what the deleted -wal holds. */
    check(): boolean {
      // Once lost, each check also checkpoints what was written outside a ticket transaction (outbox settlements).
      if (lost) db.pragma('wal_checkpoint(PASSIVE)');
      if (lost || ours === undefined || inode() === ours) return lost;
      lost = true;
      db.pragma('wal_checkpoint(PASSIVE)');
      log?.error(
        { component: 'store', code: 'ANDON_STORE_UNAVAILABLE', file: wal },
        'the store\'s -wal was deleted while the gateway runs; changes are now checkpointed into andon.sqlite at every commit. Restart the gateway soon (a clean stop keeps everything)',
      );
      return lost;
    },
    /** After a commit: make it durable in the database file itself while the -wal is gone. */
    afterCommit(): void {
      if (lost) db.pragma('wal_checkpoint(PASSIVE)');
    },
  };
}
