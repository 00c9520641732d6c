// The journal database's schema, as numbered migrations. The version is SQLite's `user_version`;
// each migration runs in its own transaction with the version bump, so a crash mid-migration
// leaves the previous version intact. A database from a newer Vigil is refused, never guessed at:
// its journal may hold events this build cannot replay.
//
// Invariants: migrations are append-only (a released one is never edited); version N means
// exactly migrations 1..N have run.

import type { DatabaseSync } from 'node:sqlite';

type Migration = { readonly version: number; readonly name: string; readonly sql: string };

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'the journal: events, state snapshots, metadata',
    sql: `
      CREATE TABLE events (
        seq INTEGER PRIMARY KEY,          -- the sequence of the batch's first event; 1, 2, 3, ... without gaps
        count INTEGER NOT NULL,           -- events in the batch: the next row starts at seq + count
        body BLOB NOT NULL,               -- the batch's events, one record each (codec.ts)
        crc INTEGER NOT NULL              -- CRC-32 of seq and body: a torn or corrupt row is detected
      ) STRICT;
      CREATE TABLE snapshots (
        seq INTEGER PRIMARY KEY,          -- the state after applying events 1..seq
        format INTEGER NOT NULL,
        state TEXT NOT NULL,
        state_hash TEXT NOT NULL,         -- stateHash of the state: a replay to seq must reproduce it
        crc INTEGER NOT NULL,
        written_ms INTEGER NOT NULL
      ) STRICT;
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
    `,
  },
  {
    version: 2,
    name: 'the ledger: orders, fills, positions',
    sql: `
      CREATE TABLE orders (
        key TEXT PRIMARY KEY, symbol TEXT NOT NULL, role TEXT NOT NULL, side TEXT NOT NULL, kind TEXT NOT NULL,
        status TEXT NOT NULL, qty TEXT NOT NULL, filled_qty TEXT NOT NULL, price TEXT, trigger_price TEXT,
        reduce_only INTEGER NOT NULL, venue_order_id TEXT, intent_id TEXT, created_ms INTEGER NOT NULL,
        reason TEXT, journal_seq INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX orders_by_status ON orders (status);
      CREATE TABLE fills (
        execution_id TEXT PRIMARY KEY, symbol TEXT NOT NULL, side TEXT NOT NULL,
        lots INTEGER NOT NULL, price_ticks INTEGER NOT NULL, qty TEXT NOT NULL, price TEXT NOT NULL,
        fee_e8 INTEGER NOT NULL, realized_pnl_e8 INTEGER NOT NULL, liquidity TEXT NOT NULL,
        venue_ms INTEGER NOT NULL, day TEXT NOT NULL, venue_seq INTEGER NOT NULL,
        client_order_id TEXT, venue_order_id TEXT NOT NULL, role TEXT, round_trip TEXT NOT NULL,
        journal_seq INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX fills_by_time ON fills (venue_ms);
      CREATE INDEX fills_by_round_trip ON fills (round_trip);
      CREATE TABLE positions (
        symbol TEXT PRIMARY KEY, account TEXT NOT NULL, size_lots INTEGER NOT NULL, cost_ticks_lots INTEGER NOT NULL, qty TEXT NOT NULL,
        average_entry TEXT, realized_pnl_e8 INTEGER NOT NULL, fees_e8 INTEGER NOT NULL, fill_count INTEGER NOT NULL,
        round_trip TEXT, venue_qty TEXT, stop_loss TEXT, take_profit TEXT, journal_seq INTEGER NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 3,
    name: 'funding payments, and funding per position',
    sql: `
      CREATE TABLE funding (
        execution_id TEXT PRIMARY KEY, symbol TEXT NOT NULL, fee_e8 INTEGER NOT NULL, venue_ms INTEGER NOT NULL,
        day TEXT NOT NULL, round_trip TEXT NOT NULL, journal_seq INTEGER NOT NULL
      ) STRICT;
      ALTER TABLE positions ADD COLUMN funding_e8 INTEGER NOT NULL DEFAULT 0;
    `,
  },
  {
    // No table changes: the version says that event bodies may hold flat records (codec.ts), which
    // a build from before them cannot replay, so that one refuses the file instead of taking its
    // rows for damaged.
    version: 4,
    name: 'events as flat binary records',
    sql: '-- event bodies: tickers, flat records, JSON (codec.ts)',
  },
];

export const schemaVersion = migrations.length;

export class NewerSchemaError extends Error {}
export class NotAJournalError extends Error {}

/**
 * Refuses a database that is not a journal, before anything is written to it: another program's
 * (tables, and no version of ours), or one whose version was set by another program (no events
 * table). A new, empty file is a journal to be.
 */
export function checkIsJournal(db: DatabaseSync, path: string): void {
  const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[]).map((row) => row.name);
  const version = userVersion(db);
  // (A version past ours is a newer release's to judge: migrate refuses it, saying so.)
  const ours = version === 0 ? tables.length === 0 : version > schemaVersion || tables.includes('events');
  if (ours) return;
  const shown = tables.slice(0, 5).join(', ') + (tables.length > 5 ? ', ...' : '');
  throw new NotAJournalError(`journal ${path} is an SQLite database, but not a Vigil journal (its tables: ${shown === '' ? 'none' : shown}; schema version ${version}). ` +
    'Refusing to change it; point the journal at another file.');
}

/** Brings the database to this build's schema; refuses one written by a newer build. */
export function migrate(db: DatabaseSync, path: string): { readonly from: number; readonly to: number } {
  const from = userVersion(db);
  if (from > schemaVersion) {
    throw new NewerSchemaError(
      `journal ${path} has schema version ${from}, newer than this build of Vigil knows (${schemaVersion}): ` +
        'it was written by a newer release. Refusing to open it; run that release, or point the journal at another file.',
    );
  }
  for (const migration of migrations) {
    if (migration.version <= from) continue;
    db.exec('BEGIN IMMEDIATE');
    try {
      db.exec(migration.sql);
      db.exec(`PRAGMA user_version = ${migration.version}`);
      db.exec('COMMIT');
    } catch (error) {
      db.exec('ROLLBACK');
      throw error;
    }
  }
  return { from, to: schemaVersion };
}

export function userVersion(db: DatabaseSync): number {
  const row = db.prepare('PRAGMA user_version').get() as { user_version: number } | undefined;
  return row?.user_version ?? 0;
}
