// The journal on SQLite (Node's built-in node:sqlite, WAL mode): the engine's input events,
// appended one batch per transaction (group commit) before any of them is applied; state
// snapshots so a restart replays only the tail; and the ledger's projections.
//
// Durability: `full` (the default) syncs the WAL on every commit, so a batch survives power
// loss once `append` returns; `normal` survives the process being killed but not the machine
// losing power; `off` is for simulations that only kill processes they own.
//
// Bad data: SQLite's own WAL checksums discard a transaction torn by a crash mid-write. On top of
// that every event row carries a CRC-32 of its sequence and body, and sequences have no gaps, so a
// row damaged after it was written (a bad disk, a hand edit) is found while the tail is replayed:
// the journal is cut back to the last good entry, said in a log line, and the startup
// reconciliation recovers from the venue whatever the cut entries held.
//
// Invariants: event sequences are 1..size without gaps; a snapshot at seq N is the state after
// events 1..N; projections are never ahead of the events.

import { realpathSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { StatementSync } from 'node:sqlite';
import { crc32 } from 'node:zlib';
import type { LedgerRecord } from '../core/commands.ts';
import { stateHash } from '../core/digest.ts';
import type { Event } from '../core/events.ts';
import type { EngineState } from '../core/state.ts';
import type { Journal } from '../shell/ports.ts';
import { LedgerReader, LedgerWriter } from './ledger.ts';
import { decodeBatch, encodeBatch } from './codec.ts';
import { checkIsJournal, migrate } from './schema.ts';
import { encodeState, stateFormat } from './state-codec.ts';

export type Durability = 'full' | 'normal' | 'off';

export type JournalOptions = {
  readonly durability?: Durability;
  /** A snapshot of state is written after this many events since the last one. */
  readonly snapshotEveryEvents?: number;
  /**
   * The ledger's tables are brought up to date at most this often (and at every snapshot and at
   * close): an order or position changed many times in between is written once. 0: every batch.
   */
  readonly ledgerEveryMs?: number;
  /** Snapshots kept (the newest ones); older ones are deleted. */
  readonly snapshotsKept?: number;
  /**
   * Keep every event since the first (for audits and `verifyReplay` from the start). By default
   * events older than the oldest kept snapshot are deleted: recovery never reads them, and a bot
   * receiving tickers for hundreds of symbols would otherwise fill its disk.
   */
  readonly keepAllEvents?: boolean;
  /** Where the journal says what it found and did (opening, cutting a bad tail). */
  readonly log?: (line: string) => void;
  /**
   * Hold the database's lock for the life of the connection: fewer system calls per commit, but
   * no other process can read it meanwhile (simulations only; the CLI reads a running bot's file).
   * Otherwise a lock on the file beside it (`<path>.lock`) keeps a second writer out.
   */
  readonly exclusive?: boolean;
  /** Wall-clock time for the snapshot rows (tests pass the simulated clock). */
  readonly nowMs?: () => number;
};

export const snapshotEveryEventsDefault = 50_000;

/**
 * A journal entry as read back: its sequence, and the event or why it cannot be trusted: damaged
 * (a checksum, a gap), or `unreadable` (intact, but not in this build's codec: a newer build's).
 */
export type JournalRow =
  | { readonly seq: number; readonly event: Event }
  | { readonly seq: number; readonly damage: string; readonly unreadable: boolean };

export type StoredSnapshot = { readonly seq: number; readonly state: string; readonly stateHash: string };

export class SqliteJournal implements Journal {
  readonly path: string;
  readonly ledger: LedgerReader;
  private readonly db: DatabaseSync;
  /** The writer's lock (see takeWriterLock); null when the database's own lock is held (`exclusive`). */
  private readonly writerLock: DatabaseSync | null;
  private readonly options: Required<Omit<JournalOptions, 'log' | 'nowMs' | 'exclusive'>>;
  /** Where the journal says what it found and did (JournalOptions.log); recovery says it there too. */
  readonly log: (line: string) => void;
  private readonly nowMs: () => number;
  private readonly insertBatch: StatementSync;
  private readonly writer: LedgerWriter;
  private readonly begin: StatementSync;
  private readonly commit: StatementSync;
  private readonly rollback: StatementSync;
  /** Ledger records of applied batches, written with the next commit. */
  private readonly pending: { readonly records: readonly LedgerRecord[]; readonly instruments: EngineState['instruments']; readonly journalSeq: number }[] = [];
  private readonly setLedgerSeq: StatementSync;
  private lastSeq: number;
  private lastSnapshotSeq: number;
  /** The newest entry applied (its records are in `pending` or written), and the newest the ledger tables reflect. */
  private appliedSeq = 0;
  private ledgerSeq = 0;
  private ledgerFlushedMs = -Infinity;
  private closed = false;

  static open(path: string, options: JournalOptions = {}): SqliteJournal {
    return new SqliteJournal(path, options);
  }

  private constructor(path: string, options: JournalOptions) {
    this.path = path;
    this.options = {
      durability: options.durability ?? 'full',
      snapshotEveryEvents: options.snapshotEveryEvents ?? snapshotEveryEventsDefault,
      snapshotsKept: options.snapshotsKept ?? 2,
      keepAllEvents: options.keepAllEvents ?? false,
      ledgerEveryMs: options.ledgerEveryMs ?? 1_000,
    };
    this.log = options.log ?? (() => undefined);
    this.nowMs = options.nowMs ?? Date.now;
    this.writerLock = options.exclusive === true ? null : takeWriterLock(path);
    this.db = new DatabaseSync(path);
    try {
      checkIsJournal(this.db, path);
      if (options.exclusive === true) this.db.exec('PRAGMA locking_mode = EXCLUSIVE');
      this.db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = ${this.options.durability.toUpperCase()}; PRAGMA busy_timeout = 5000;`);
      const { from, to } = migrate(this.db, path);
      if (from !== to) this.log(`journal ${path}: schema ${from === 0 ? 'created' : `migrated from version ${from}`} at version ${to}`);
    } catch (error) {
      this.db.close();
      this.writerLock?.close();
      throw error;
    }
    this.begin = this.db.prepare('BEGIN IMMEDIATE');
    this.commit = this.db.prepare('COMMIT');
    this.rollback = this.db.prepare('ROLLBACK');
    this.insertBatch = this.db.prepare('INSERT INTO events (seq, count, body, crc) VALUES (?, ?, ?, ?)');
    this.setLedgerSeq = this.db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('ledger_seq', ?)");
    this.writer = new LedgerWriter(this.db);
    this.ledger = new LedgerReader(this.db);
    this.lastSeq = this.lastEventSeq();
    this.lastSnapshotSeq = (this.db.prepare('SELECT MAX(seq) AS seq FROM snapshots').get() as { seq: number | null }).seq ?? 0;
  }

  get size(): number {
    return this.lastSeq;
  }

  /** One row and one transaction for the whole batch: the group commit. */
  append(events: readonly Event[]): void {
    if (events.length === 0) return;
    const seq = this.lastSeq + 1;
    const body = encodeBatch(events);
    this.transaction(() => this.insertBatch.run(seq, events.length, body, rowCrc(seq, body)));
    this.lastSeq += events.length;
  }

  /**
   * After a batch is applied: its ledger records wait until the ledger is due (`ledgerEveryMs`):
   * the projections may trail the events by that long, never lead them, and recovery rebuilds
   * them from the journal. A snapshot is written when one is due, with the records waiting.
   */
  applied(state: EngineState, records: readonly LedgerRecord[]): void {
    this.appliedSeq = this.lastSeq;
    if (records.length > 0) this.pending.push({ records, instruments: state.instruments, journalSeq: this.lastSeq });
    if (this.lastSeq - this.lastSnapshotSeq >= this.options.snapshotEveryEvents) this.writeSnapshot(state);
    else if (this.nowMs() - this.ledgerFlushedMs >= this.options.ledgerEveryMs) this.flush();
  }

  /** Writes the ledger records still waiting, now (for readers that want the ledger current). */
  flush(): void {
    if (this.pending.length > 0 || this.appliedSeq > this.ledgerSeq) this.transaction(() => this.flushRecords());
  }

  private flushRecords(): void {
    this.writer.writeAll(this.pending);
    this.pending.length = 0;
    this.ledgerFlushedMs = this.nowMs();
    if (this.appliedSeq > this.ledgerSeq) {
      this.setLedgerSeq.run(String(this.appliedSeq));
      this.ledgerSeq = this.appliedSeq;
    }
  }

  /** Writes the ledger records of replayed events (idempotent: rows already there stay as they are). */
  project(records: readonly LedgerRecord[], state: EngineState, journalSeq: number): void {
    this.pending.push({ records, instruments: state.instruments, journalSeq });
    this.appliedSeq = journalSeq;
    this.flush();
  }

  /** A snapshot of the state after every event appended so far (with the ledger records waiting). */
  writeSnapshot(state: EngineState): void {
    this.transaction(() => {
      this.flushRecords();
      this.insertSnapshot(state);
    });
  }

  private insertSnapshot(state: EngineState): void {
    const text = encodeState(state);
    const seq = this.lastSeq;
    this.db.prepare('INSERT OR REPLACE INTO snapshots (seq, format, state, state_hash, crc, written_ms) VALUES (?, ?, ?, ?, ?, ?)')
      .run(seq, stateFormat, text, stateHash(state), rowCrc(seq, text), this.nowMs());
    this.db.prepare('DELETE FROM snapshots WHERE seq NOT IN (SELECT seq FROM snapshots ORDER BY seq DESC LIMIT ?)').run(this.options.snapshotsKept);
    this.lastSnapshotSeq = seq;
    if (this.options.keepAllEvents) return;
    // Rows wholly before the oldest snapshot kept are never read again.
    const oldest = (this.db.prepare('SELECT MIN(seq) AS seq FROM snapshots').get() as { seq: number }).seq;
    this.db.prepare('DELETE FROM events WHERE seq + count - 1 <= ?').run(oldest);
  }

  /** The sequence of the first event the journal still holds (1 unless older events were pruned). */
  get firstSeq(): number {
    return (this.db.prepare('SELECT MIN(seq) AS seq FROM events').get() as { seq: number | null }).seq ?? this.lastSeq + 1;
  }

  /** The newest snapshot that is intact and in this build's format, or null (replay from the start). */
  latestSnapshot(): StoredSnapshot | null {
    return this.snapshots().usable[0] ?? null;
  }

  /**
   * The snapshots intact and in this build's format, newest first, and why each other one is not
   * used (each also logged): recovery tries them in turn, and names the others if none will do.
   * `formats`: every snapshot's state format (all of an earlier release's: an upgrade).
   */
  snapshots(): { readonly usable: readonly StoredSnapshot[]; readonly unusable: readonly string[]; readonly formats: readonly number[] } {
    const rows = this.db.prepare('SELECT seq, format, state, state_hash, crc FROM snapshots WHERE seq <= ? ORDER BY seq DESC').all(this.lastSeq) as {
      seq: number; format: number; state: string; state_hash: string; crc: number;
    }[];
    const usable: StoredSnapshot[] = [];
    const unusable: string[] = [];
    const formats = rows.map((row) => row.format);
    for (const row of rows) {
      const why = row.format !== stateFormat ? `is in state format ${row.format} (this build reads ${stateFormat})`
        : rowCrc(row.seq, row.state) !== row.crc ? 'is damaged (checksum mismatch)' : null;
      if (why === null) {
        usable.push({ seq: row.seq, state: row.state, stateHash: row.state_hash });
        continue;
      }
      unusable.push(`the snapshot at event ${row.seq} ${why}`);
      this.log(`journal ${this.path}: snapshot at event ${row.seq} ${why}; not used`);
    }
    return { usable, unusable, formats };
  }

  /** Every event, in order. */
  entries(): Iterable<Event> {
    return this.eventsOf(this.rowsAfter(0));
  }

  private *eventsOf(rows: Iterable<JournalRow>): Iterable<Event> {
    for (const row of rows) {
      if ('damage' in row) throw new Error(`journal ${this.path}: entry ${row.seq}: ${row.damage}`);
      yield row.event;
    }
  }

  /**
   * Entries after `seq`, each row checked: its checksum, its place in the sequence, every line an
   * event. A damaged row is reported at its first sequence, and nothing after it is read. A row
   * wholly at or before `seq` (a snapshot's, kept after a clean stop) is not read at all: what it
   * holds is in the snapshot, and its damage is no reason to cut anything.
   */
  *rowsAfter(seq: number): Iterable<JournalRow> {
    const first = (this.db.prepare('SELECT MAX(seq) AS seq FROM events WHERE seq <= ?').get(seq + 1) as { seq: number | null }).seq ?? seq + 1;
    let expected = first;
    const rows = this.db.prepare('SELECT seq, count, body, crc FROM events WHERE seq >= ? ORDER BY seq').iterate(first) as Iterable<{ seq: number; count: number; body: Uint8Array; crc: number }>;
    for (const row of rows) {
      if (row.seq !== expected) {
        yield { seq: expected, damage: `missing (the next entry is ${row.seq})`, unreadable: false };
        return;
      }
      expected += row.count;
      if (row.seq + row.count - 1 <= seq) continue;
      if (rowCrc(row.seq, row.body) !== row.crc) {
        yield { seq: row.seq, damage: 'checksum mismatch', unreadable: false };
        return;
      }
      const decoded = decodeBatch(row.body, row.count);
      if (!decoded.ok) {
        // Its checksum holds: the bytes are as written, by a build whose codec this one lacks.
        yield { seq: row.seq, damage: decoded.reason, unreadable: true };
        return;
      }
      const { events } = decoded;
      for (let i = 0; i < events.length; i += 1) {
        if (row.seq + i > seq) yield { seq: row.seq + i, event: events[i] as Event };
      }
    }
  }

  /**
   * Cuts the journal back to the entries before `seq`, a row's first (a damaged tail), and the
   * ledger with it: the fills, funding and position rows those entries wrote go (the startup
   * reconciliation reads the fills from the venue again and books them anew; the caller writes
   * the positions again from the state it recovers, see recover). Order rows stay: an order made
   * in the cut entries may not come back, and its row says what the venue did with it. Returns
   * how many events were cut.
   */
  truncateFrom(seq: number, why: string): number {
    const cut = this.lastSeq - seq + 1;
    this.transaction(() => {
      this.db.prepare('DELETE FROM events WHERE seq >= ?').run(seq);
      this.db.prepare('DELETE FROM snapshots WHERE seq >= ?').run(seq);
      for (const table of ['fills', 'funding', 'positions']) this.db.prepare(`DELETE FROM ${table} WHERE journal_seq >= ?`).run(seq);
    });
    this.lastSeq = this.lastEventSeq();
    this.lastSnapshotSeq = Math.min(this.lastSnapshotSeq, this.lastSeq);
    this.log(`journal ${this.path}: entry ${seq} is damaged (${why}); cut ${cut} entr${cut === 1 ? 'y' : 'ies'} from there to the end. ` +
      'The state is rebuilt from the entries before it, the ledger kept to them, and the startup reconciliation recovers the rest from the venue.');
    return cut;
  }

  /**
   * Writes a final snapshot (so the next start replays nothing) and closes the database. The
   * database and the writer's lock are closed even when that last write fails (a full disk), and
   * the failure is thrown after: the events are all in, only the snapshot or ledger rows are not.
   */
  close(state?: EngineState): void {
    if (this.closed) return;
    this.closed = true;
    try {
      if (state !== undefined && this.lastSeq > this.lastSnapshotSeq) this.writeSnapshot(state);
      else this.flush();
    } finally {
      this.db.close();
      this.writerLock?.close();
    }
  }

  /** The underlying database, for read-only tools and tests. */
  get database(): DatabaseSync {
    return this.db;
  }

  /**
   * The sequence of the last event: the newest row's first plus its count minus one, or, when the
   * rows up to the newest snapshot were pruned (after a clean stop, say), that snapshot's.
   */
  private lastEventSeq(): number {
    const row = this.db.prepare('SELECT seq + count - 1 AS last FROM events ORDER BY seq DESC LIMIT 1').get() as { last: number } | undefined;
    const snapshot = (this.db.prepare('SELECT MAX(seq) AS seq FROM snapshots').get() as { seq: number | null }).seq ?? 0;
    return Math.max(row?.last ?? 0, snapshot);
  }

  private transaction(body: () => void): void {
    this.begin.run();
    try {
      body();
      this.commit.run();
    } catch (error) {
      // A COMMIT that failed (a full disk) may have rolled back already: roll back only what is
      // still open, and throw the failure itself, not a complaint about the rollback.
      if (this.db.isTransaction) this.rollback.run();
      this.lastSeq = this.lastEventSeq();
      throw error;
    }
  }
}

/**
 * One writer per journal: two processes appending to one file would interleave their events, and
 * both would trade the account (each cancelling the other's orders as orphans). The lock is an
 * exclusive SQLite lock on a small file beside the journal, held for the journal's life; the
 * operating system drops it with the process, so a crash leaves nothing stale to clear by hand.
 * (The journal's own lock cannot be held so: `vigil status` reads a running bot's journal.)
 */
function takeWriterLock(path: string): DatabaseSync {
  // The file's real path: a second name for it (a symlink, a relative path) must meet the same lock.
  const lockPath = `${realPathOf(path)}.lock`;
  const lock = new DatabaseSync(lockPath);
  try {
    lock.exec('PRAGMA locking_mode = EXCLUSIVE; PRAGMA busy_timeout = 0; BEGIN EXCLUSIVE; COMMIT;');
  } catch (error) {
    lock.close();
    const busy = error instanceof Error && 'errcode' in error && error.errcode === 5; // SQLITE_BUSY
    if (busy) throw new Error(`journal ${path} is in use by another process (it holds ${lockPath}): one bot per journal`, { cause: error });
    throw error;
  }
  return lock;
}

/** The journal's real path, or, if it does not exist yet, its directory's real path and its name. */
function realPathOf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    try {
      return join(realpathSync(dirname(path)), basename(path));
    } catch {
      throw new Error(`journal ${path}: its directory ${dirname(path)} does not exist`);
    }
  }
}

function rowCrc(seq: number, body: string | Uint8Array): number {
  return crc32(body, seq >>> 0);
}

