// The SQLite journal: write-ahead group commit, snapshots, exact recovery, the ledger's
// projections, damaged and torn tails, and schema versions. Every test uses a real database file.

import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DatabaseSync } from 'node:sqlite';
import { crc32 } from 'node:zlib';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { stateHash } from '../../src/core/digest.ts';
import type { Event } from '../../src/core/events.ts';
import type { EngineConfig } from '../../src/core/state.ts';
import { createEngineState } from '../../src/core/state.ts';
import type { LedgerRecord } from '../../src/core/commands.ts';
import { step } from '../../src/core/engine/step.ts';
import type { ExecutionId, VenueOrderId } from '../../src/core/ids.ts';
import { btc, fill, toTrading } from '../support/events.ts';
import { decodeBatch, encodeBatch } from '../../src/journal/codec.ts';
import { LedgerReader } from '../../src/journal/ledger.ts';
import { recover, RecoveryError, verifyReplay } from '../../src/journal/recovery.ts';
import { migrations, NewerSchemaError, NotAJournalError, schemaVersion } from '../../src/journal/schema.ts';
import type { Position } from '../../src/core/position/position.ts';
import { SqliteJournal } from '../../src/journal/sqlite.ts';
import { decodeState, encodeState } from '../../src/journal/state-codec.ts';
import { worldForSeed } from '../../src/sim/swarm.ts';
import type { SimWorld } from '../../src/sim/world.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-journal-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const freshPath = (): string => join(dir, `journal-${++files}.db`);

function tickers(count: number, fromMs = 1_000): Event[] {
  return Array.from({ length: count }, (_, i) => ({ type: 'TickerUpdated', atMs: fromMs + i, symbol: 'SOLUSDT', lastTicks: 15_000 + i, markTicks: null, venueMs: fromMs + i }));
}

/** A world run to the end of its active phase with a journal file, its process killed now and then. */
function journaledWorld(seed: number): SimWorld {
  const { world } = worldForSeed(seed, { forcedFaults: { crashes: true } });
  world.run({ stepsMax: 1_000_000, untilMs: world.activeUntilMs });
  return world;
}

function engineConfig(world: SimWorld): Partial<EngineConfig> {
  return { botId: 'sim', ...world.options.engine };
}

/** The ledger's realized PnL and fees per symbol are the positions' (a symbol with fills has a position). */
function assertPnlIsPositions(ledger: LedgerReader, positions: Iterable<Position>): void {
  const bySymbol = new Map([...positions].map((position) => [position.symbol, position]));
  for (const { key, realized_pnl_e8, fees_e8 } of ledger.pnl('symbol')) {
    const position = bySymbol.get(key);
    assert.deepEqual([realized_pnl_e8, fees_e8], [position?.realizedPnlE8, position?.feesE8], `${key}: the ledger's PnL and fees are the position's`);
  }
}

describe('SQLite journal', () => {
  it('appends each batch as one commit and reads the events back in order after a reopen', () => {
    const path = freshPath();
    const journal = SqliteJournal.open(path);
    const events = tickers(75); // more than one multi-row insert, and a remainder
    journal.append(events.slice(0, 70));
    journal.append(events.slice(70));
    assert.equal(journal.size, 75);
    journal.close();
    const reopened = SqliteJournal.open(path);
    assert.equal(reopened.size, 75);
    assert.deepEqual([...reopened.entries()], events);
    reopened.close();
  });

  it('makes an event durable before the command it causes leaves the process (write-ahead)', async () => {
    const { Runtime } = await import('../../src/shell/runtime.ts');
    const { instrument } = await import('../../src/sim/instruments.ts');
    const path = freshPath();
    const journal = SqliteJournal.open(path);
    const seenBySecondReader: string[] = [];
    let nowMs = 1_000;
    const runtime = new Runtime({
      state: createEngineState({ botId: 'wal' }),
      clock: { nowMs: () => nowMs, schedule: () => undefined },
      journal,
      gateway: {
        execute: (command) => {
          // Another connection, as another process would: the request that caused this order must already be on disk.
          const reader = new DatabaseSync(path, { readOnly: true });
          const rows = reader.prepare("SELECT seq FROM events WHERE instr(body, CAST('OpenRequested' AS BLOB)) > 0").all();
          reader.close();
          seenBySecondReader.push(`${command.type}:${rows.length}`);
        },
      },
    });
    for (const incoming of [
      { type: 'InstrumentsLoaded', instruments: [instrument('SOLUSDT')] },
      { type: 'EngineStarted' },
      { type: 'StreamConnected', stream: 'public' },
      { type: 'StreamConnected', stream: 'private' },
    ] as const) runtime.receive(incoming);
    runtime.drain();
    runtime.receive({ type: 'SnapshotReceived', snapshotId: runtime.state.snapshot?.snapshotId ?? -1, positions: [], openOrders: [], fills: [], tickers: [{ symbol: 'SOLUSDT', lastTicks: 15_000, markTicks: 15_000, venueMs: 900 }], positionsVenueMs: 900, wallet: null });
    runtime.drain();
    nowMs += 10;
    runtime.receive({ type: 'OpenRequested', requestId: 'r1', symbol: 'SOLUSDT', side: 'buy', size: { quantity: '1' }, entry: { kind: 'market' }, stopLoss: { percent: 2 }, takeProfit: null });
    runtime.drain();
    assert.ok(seenBySecondReader.includes('SubmitOrder:1'), seenBySecondReader.join(' '));
    journal.close();
  });

  it('recovers exactly the state the engine had, from snapshot + tail and from the first event alike', () => {
    const world = journaledWorld(11);
    const path = world.options.journalPath ?? assert.fail('a journal path');
    const expected = encodeState(world.runtime.state);
    world.close();
    const journal = SqliteJournal.open(path);
    const fromSnapshot = recover(journal, engineConfig(world));
    assert.ok(fromSnapshot.snapshotSeq > 0, 'the journal took snapshots');
    assert.equal(encodeState(fromSnapshot.state), expected);
    const proof = verifyReplay(journal, engineConfig(world));
    assert.deepEqual(proof.mismatches, []);
    assert.ok(proof.snapshotsChecked > 0);
    journal.database.exec('DELETE FROM snapshots');
    const fromStart = recover(journal, engineConfig(world));
    assert.equal(fromStart.snapshotSeq, 0);
    assert.equal(fromStart.replayed, journal.size);
    assert.equal(encodeState(fromStart.state), expected);
    journal.close();
  });

  it('keeps a ledger equal to the venue\'s fills across crashes, with PnL and fees per symbol equal to the positions\'', () => {
    const world = journaledWorld(12);
    world.settle(1_000_000);
    const crashes = Object.values(world.crashes).reduce((sum, count) => sum + count, 0);
    assert.ok(crashes > 0, 'the run crashed at least once');
    const file = world.journalFile ?? assert.fail('a journal file');
    file.flush();
    const ledger = new LedgerReader(file.database);
    const booked = new Map(ledger.allFills().map((row) => [row.execution_id, row]));
    const venueFills = world.venue.fills();
    assert.equal(booked.size, venueFills.length);
    for (const fill of venueFills) {
      const row = booked.get(fill.executionId);
      assert.ok(row !== undefined, `fill ${fill.executionId} in the ledger`);
      assert.deepEqual([row.lots, row.price_ticks, row.fee_e8, row.side], [fill.lots, fill.priceTicks, fill.feeE8, fill.side]);
    }
    assertPnlIsPositions(ledger, world.runtime.state.positions.values());
    const open = ledger.positions().map((row) => [row.symbol, row.size_lots]);
    assert.deepEqual(open, world.venue.positions().filter((p) => p.sizeLots !== 0).map((p) => [p.symbol, p.sizeLots]).sort());
    world.close();
  });

  it('cuts a damaged batch and everything after it, says so, and recovers the state before it', () => {
    const path = freshPath();
    const journal = SqliteJournal.open(path);
    const events = tickers(45);
    journal.append(events.slice(0, 30));
    journal.append(events.slice(30, 40));
    journal.append(events.slice(40));
    journal.close();
    const db = new DatabaseSync(path);
    db.prepare("UPDATE events SET body = CAST(substr(body, 1, 20) || X'FF' || substr(body, 22) AS BLOB) WHERE seq = 31").run(); // a flipped byte in the second batch
    db.close();
    const lines: string[] = [];
    const reopened = SqliteJournal.open(path, { log: (line) => lines.push(line) });
    const recovered = recover(reopened, { botId: 'cut' });
    assert.equal(recovered.cut, 15);
    assert.equal(recovered.replayed, 30);
    assert.equal(reopened.size, 30);
    assert.match(lines.join('\n'), /entry 31 is damaged \(checksum mismatch\); cut 15 entries from there to the end/);
    assert.equal(recovered.state.markets.get('SOLUSDT')?.lastTicks, 15_029);
    reopened.append(tickers(2, 5_000)); // the sequence goes on from the cut, without a gap
    assert.deepEqual([...reopened.rowsAfter(29)].map((row) => row.seq), [30, 31, 32]);
    reopened.close();
  });

  it('after a cut, keeps the ledger to what the journal still holds: the cut fills gone (the reconciliation books them again), positions and PnL the recovered state\'s', () => {
    const world = journaledWorld(11);
    const path = world.options.journalPath ?? assert.fail('a journal path');
    world.close();
    const db = new DatabaseSync(path);
    const fillSeqs = (db.prepare('SELECT journal_seq AS seq FROM fills ORDER BY journal_seq').all() as { seq: number }[]).map((row) => row.seq);
    const middle = fillSeqs[Math.floor(fillSeqs.length / 2)] ?? assert.fail('fills in the ledger');
    // The row holding the middle fill's event: damaged, with no snapshot at or after it.
    const damaged = (db.prepare('SELECT MAX(seq) AS seq FROM events WHERE seq <= ?').get(middle) as { seq: number }).seq;
    db.prepare('DELETE FROM snapshots WHERE seq >= ?').run(damaged);
    db.prepare("UPDATE events SET body = CAST(substr(body, 1, 20) || X'FF' || substr(body, 22) AS BLOB) WHERE seq = ?").run(damaged);
    db.close();
    const journal = SqliteJournal.open(path, { log: () => undefined });
    const recovered = recover(journal, engineConfig(world));
    assert.ok(recovered.cut > 0, 'a tail was cut');
    const ledger = new LedgerReader(journal.database);
    assert.equal((journal.database.prepare('SELECT COUNT(*) AS n FROM fills WHERE journal_seq >= ?').get(damaged) as { n: number }).n, 0, 'no fill of a cut event');
    const { positions } = recovered.state;
    assertPnlIsPositions(ledger, positions.values());
    assert.deepEqual(ledger.positions().map((row) => [row.symbol, row.size_lots]), [...positions.values()].filter((p) => p.sizeLots !== 0).map((p) => [p.symbol, p.sizeLots]).sort());
    journal.close();
  });

  it('leaves a damaged row the snapshot in use already holds alone: nothing cut, the snapshot kept, the sequence where it was', () => {
    const path = freshPath();
    const journal = SqliteJournal.open(path, { snapshotEveryEvents: 4 });
    const state = createEngineState({ botId: 'held' });
    for (let batch = 0; batch < 3; batch += 1) {
      const events = tickers(2, 1_000 + batch * 2);
      journal.append(events);
      for (const event of events) step(state, event);
      journal.applied(state, []);
    }
    journal.close(state); // snapshots at 4 and 6; the row of events 5 and 6 kept for the one at 4
    const db = new DatabaseSync(path);
    assert.deepEqual(db.prepare('SELECT seq, count FROM events').all().map((row) => ({ ...row })), [{ seq: 5, count: 2 }]);
    db.exec('UPDATE events SET crc = crc + 1 WHERE seq = 5');
    db.close();
    const reopened = SqliteJournal.open(path);
    const recovered = recover(reopened, { botId: 'held' });
    assert.deepEqual([recovered.snapshotSeq, recovered.cut, reopened.size], [6, 0, 6]);
    assert.equal(encodeState(recovered.state), encodeState(state));
    assert.deepEqual(reopened.database.prepare('SELECT seq FROM snapshots ORDER BY seq').all().map((row) => row.seq), [4, 6]);
    reopened.close();
  });

  it('refuses to start on an entry intact but unreadable (a newer build wrote it), cutting nothing', () => {
    const path = freshPath();
    const journal = SqliteJournal.open(path);
    journal.append(tickers(1));
    // A flat record naming a common string one past this build's table, its checksum right.
    const body = encodeBatch([{ type: 'OrderSubmitRejected', atMs: 2_000, commandId: 1, clientOrderId: 'vigil-1-e' as never, code: 'other', reason: 'x' }]);
    const other = body.indexOf(Buffer.from([0x05, 53]));
    assert.ok(other > 0);
    body[other + 1] = 200;
    journal.database.prepare('INSERT INTO events (seq, count, body, crc) VALUES (2, 1, ?, ?)').run(body, crc32(body, 2));
    journal.close();
    const reopened = SqliteJournal.open(path);
    assert.throws(() => recover(reopened, { botId: 'newer' }), (error: unknown) => {
      assert.ok(error instanceof RecoveryError);
      assert.match(error.message, /entry 2 is intact but this build cannot read it .*a newer release wrote it/);
      return true;
    });
    assert.equal(reopened.size, 2, 'nothing cut');
    reopened.close();
  });

  it('reads a snapshot taken mid-row and an unreadable line as what they are', () => {
    const path = freshPath();
    const journal = SqliteJournal.open(path);
    journal.append(tickers(10));
    assert.deepEqual([...journal.rowsAfter(4)].map((row) => row.seq), [5, 6, 7, 8, 9, 10]);
    journal.database.exec("UPDATE events SET body = CAST('garbage' AS BLOB), crc = 0 WHERE seq = 1");
    assert.deepEqual([...journal.rowsAfter(0)], [{ seq: 1, damage: 'checksum mismatch', unreadable: false }]);
    journal.close();
  });

  it('loses only the transaction a torn write cut short (SQLite\'s WAL checksums), then goes on', () => {
    const path = freshPath();
    const journal = SqliteJournal.open(path);
    for (let batch = 0; batch < 5; batch += 1) journal.append(tickers(10, 1_000 + batch * 10));
    // The files as a power cut would leave them: copied while the bot still had them open.
    const crashed = freshPath();
    copyFileSync(path, crashed);
    copyFileSync(`${path}-wal`, `${crashed}-wal`);
    journal.close();
    const walBytes = statSync(`${crashed}-wal`).size;
    truncateSync(`${crashed}-wal`, walBytes - 100); // the last frame is torn
    const reopened = SqliteJournal.open(crashed);
    assert.equal(reopened.size, 40, 'the last batch, whose commit frame was torn, is gone; the four before it are whole');
    const recovered = recover(reopened, { botId: 'torn' });
    assert.equal(recovered.cut, 0);
    assert.equal(recovered.state.markets.get('SOLUSDT')?.venueMs, 1_039);
    reopened.close();
  });

  it('says a full disk as it is, and lets go of the file even when its last write fails', () => {
    const path = freshPath();
    const journal = SqliteJournal.open(path);
    const state = createEngineState({ botId: 'full' });
    const first = tickers(3, 1_000);
    journal.append(first);
    for (const event of first) step(state, event);
    const pages = (journal.database.prepare('PRAGMA page_count').get() as { page_count: number }).page_count;
    journal.database.exec(`PRAGMA max_page_count = ${pages + 1}`); // the disk fills up
    assert.throws(() => journal.append(tickers(3_000, 2_000)), /database or disk is full/, 'the failure itself, not "cannot rollback"');
    assert.equal(journal.size, 3, 'nothing of the failed batch counted');
    journal.database.exec('PRAGMA query_only = ON'); // now no write at all goes through
    assert.throws(() => journal.close(state), /readonly/, 'the final snapshot cannot be written');
    const again = SqliteJournal.open(path); // the writer's lock went with the close
    assert.equal(again.size, 3);
    assert.equal(encodeState(recover(again, { botId: 'full' }).state), encodeState(state));
    again.close();
  });

  it('lets one writer at a time open a journal, in this process or another, until it closes or dies', () => {
    const path = freshPath();
    const journal = SqliteJournal.open(path);
    journal.append(tickers(1, 1_000));
    const inUse = /journal .* is in use by another process \(it holds .*\.lock\): one bot per journal/;
    assert.throws(() => SqliteJournal.open(path), inUse);
    const module = JSON.stringify(pathToFileURL(resolve('src/journal/sqlite.ts')).href);
    const other = spawnSync(process.execPath, ['--input-type=module', '-e', `
      import { SqliteJournal } from ${module};
      try { SqliteJournal.open(${JSON.stringify(path)}); console.log('opened'); } catch (error) { console.log(error.message); }`], { encoding: 'utf8' });
    assert.match(other.stdout, inUse);
    const status = new DatabaseSync(path, { readOnly: true }); // vigil status reads a running bot's journal
    assert.equal((status.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n, 1);
    status.close();
    journal.close();
    const again = SqliteJournal.open(path);
    assert.equal(again.size, 1);
    again.close();
    // A writer that dies holding the lock leaves nothing to clear: the system drops it with the process.
    const killed = spawnSync(process.execPath, ['--input-type=module', '-e', `
      import { SqliteJournal } from ${module};
      SqliteJournal.open(${JSON.stringify(path)}); process.kill(process.pid, 'SIGKILL');`], { encoding: 'utf8' });
    assert.equal(killed.signal, 'SIGKILL');
    SqliteJournal.open(path).close();
    // Another name for the same file meets the same lock.
    const held = SqliteJournal.open(path);
    const link = `${path}-link.db`;
    symlinkSync(path, link);
    assert.throws(() => SqliteJournal.open(link), inUse);
    held.close();
    assert.throws(() => SqliteJournal.open(join(dir, 'no-such-directory', 'j.db')), /its directory .*no-such-directory does not exist/);
  });

  it('ignores a damaged snapshot and replays from the one before, or from the start', () => {
    const path = freshPath();
    const journal = SqliteJournal.open(path, { snapshotEveryEvents: 10 });
    const state = createEngineState({ botId: 'snap' });
    for (let batch = 0; batch < 3; batch += 1) {
      const events = tickers(10, 1_000 + batch * 10);
      journal.append(events);
      journal.applied(state, []); // the state is not what the events say: only the snapshot rows matter here
    }
    journal.database.exec("UPDATE snapshots SET state = replace(state, '\"seq\":0', '\"seq\":7') WHERE seq = 30");
    journal.close();
    const lines: string[] = [];
    const reopened = SqliteJournal.open(path, { log: (line) => lines.push(line) });
    assert.equal(reopened.latestSnapshot()?.seq, 20);
    assert.match(lines.join('\n'), /snapshot at event 30 is damaged/);
    reopened.close();
  });

  it('prunes the events older than the oldest snapshot kept, and still recovers exactly', () => {
    const path = freshPath();
    const journal = SqliteJournal.open(path, { snapshotEveryEvents: 10, snapshotsKept: 2 });
    const state = createEngineState({ botId: 'prune' });
    for (let batch = 0; batch < 6; batch += 1) {
      const events = tickers(10, 1_000 + batch * 10);
      journal.append(events);
      for (const event of events) step(state, event);
      journal.applied(state, []);
    }
    assert.equal(journal.size, 60);
    assert.equal(journal.firstSeq, 51, 'the snapshots at 50 and 60 are kept, and the events after the older one');
    journal.append(tickers(5, 2_000)); // a tail after the newest snapshot
    for (const event of tickers(5, 2_000)) step(state, event);
    journal.close();
    const reopened = SqliteJournal.open(path);
    assert.equal(encodeState(recover(reopened, { botId: 'prune' }).state), encodeState(state));
    assert.match(verifyReplay(reopened, { botId: 'prune' }).mismatches.join(), /events before 51 were pruned/);
    // The newest snapshot does not decode (a build changed the state's shape, not its format): the older one does.
    reopened.close();
    const lines: string[] = [];
    const fresh = SqliteJournal.open(path, { log: (line) => lines.push(line) });
    const reshaped = (seq: number): void => {
      const text = '{"instruments":7}';
      fresh.database.prepare('UPDATE snapshots SET state = ?, crc = ? WHERE seq = ?').run(text, crc32(text, seq), seq);
    };
    reshaped(60);
    const older = recover(fresh, { botId: 'prune' });
    assert.equal(older.snapshotSeq, 50);
    assert.equal(encodeState(older.state), encodeState(state));
    assert.match(lines.join('\n'), /snapshot at event 60 does not decode \(.+\); not used/);
    // None usable: the error says why each is not, and what to do.
    reshaped(50);
    fresh.database.exec('UPDATE snapshots SET format = format - 1 WHERE seq = 60');
    assert.throws(() => recover(fresh, { botId: 'prune' }), (error: unknown) => {
      assert.ok(error instanceof RecoveryError);
      assert.match(error.message, /no usable snapshot \(the snapshot at event 60 is in state format \d+ \(this build reads \d+\); the snapshot at event 50 does not decode \(.+\)\), and the events before 51 were pruned/);
      assert.match(error.message, /Start the build that wrote it, or move the file aside/);
      return true;
    });
    fresh.database.exec('DELETE FROM snapshots');
    assert.throws(() => recover(fresh, { botId: 'prune' }), /no usable snapshot \(none written\), and the events before 51 were pruned/);
    fresh.close();
  });

  it('comes back from a clean stop (a final snapshot, every event before it pruned) in the same state', () => {
    const path = freshPath();
    const journal = SqliteJournal.open(path);
    const state = createEngineState({ botId: 'clean' });
    const events = tickers(12);
    journal.append(events);
    for (const event of events) step(state, event);
    journal.applied(state, []);
    journal.close(state);
    const reopened = SqliteJournal.open(path);
    assert.equal(reopened.size, 12, 'the sequence goes on from the snapshot');
    const recovered = recover(reopened, { botId: 'clean' });
    assert.deepEqual([recovered.snapshotSeq, recovered.replayed], [12, 0]);
    assert.equal(encodeState(recovered.state), encodeState(state));
    reopened.append(tickers(1, 9_000));
    assert.deepEqual([...reopened.rowsAfter(12)].map((row) => row.seq), [13]);
    reopened.close();
  });

  it('starts afresh from the venue in the same file after an upgrade to a new state format, keeping the ledger', () => {
    const path = freshPath();
    const journal = SqliteJournal.open(path, { snapshotsKept: 1 });
    const state = createEngineState({ botId: 'upgrade', externalPositions: 'watch' });
    step(state, { type: 'InstrumentsLoaded', atMs: 0, instruments: [btc] });
    toTrading(state);
    const booked = fill(null, 'v9', 'x9', 10, 650_000, 3, 50);
    journal.append([booked]);
    journal.applied(state, step(state, booked).flatMap((command) => (command.type === 'Record' ? [command.record] : [])));
    journal.append(tickers(3));
    journal.close(state); // a clean stop: its snapshot, every event before it pruned
    const fills = (): number => (new DatabaseSync(path).prepare('SELECT COUNT(*) AS count FROM fills').get() as { count: number }).count;
    assert.equal(fills(), 1);
    const db = new DatabaseSync(path);
    db.exec('UPDATE snapshots SET format = format - 1'); // as an earlier release wrote it
    db.close();
    const lines: string[] = [];
    const reopened = SqliteJournal.open(path, { log: (line) => lines.push(line) });
    assert.ok(reopened.firstSeq > 1);
    const recovered = recover(reopened, { botId: 'upgrade' });
    assert.deepEqual([recovered.snapshotSeq, recovered.replayed, recovered.state.intents.size, recovered.state.positions.size], [4, 0, 0, 0]);
    assert.match(lines.join('\n'), /its snapshots are in state format \d+, from an earlier release .*the state starts afresh from the venue, as without a journal; the ledger's history is kept/);
    assert.equal(fills(), 1, 'the ledger keeps its history');
    // The sequence goes on, and the next start recovers from the fresh snapshot.
    reopened.append(tickers(2, 9_000));
    for (const event of tickers(2, 9_000)) step(recovered.state, event);
    reopened.close();
    const again = SqliteJournal.open(path);
    const next = recover(again, { botId: 'upgrade' });
    assert.deepEqual([next.snapshotSeq, next.replayed], [4, 2]);
    assert.equal(encodeState(next.state), encodeState(recovered.state));
    again.close();
  });

  it('refuses a database written by a newer schema, naming both versions', () => {
    const path = freshPath();
    const db = new DatabaseSync(path);
    db.exec(`PRAGMA user_version = ${schemaVersion + 5}`);
    db.close();
    assert.throws(() => SqliteJournal.open(path), (error: unknown) => {
      assert.ok(error instanceof NewerSchemaError);
      assert.match(error.message, new RegExp(`schema version ${schemaVersion + 5}, newer than this build of Vigil knows \\(${schemaVersion}\\)`));
      return true;
    });
  });

  it('refuses an SQLite database that is not a journal, and leaves it as it was', () => {
    for (const [setup, version] of [['CREATE TABLE notes (text TEXT)', 0], ['CREATE TABLE notes (text TEXT); PRAGMA user_version = 3', 3]] as const) {
      const path = freshPath();
      const db = new DatabaseSync(path);
      db.exec(setup);
      db.close();
      const before = readFileSync(path);
      assert.throws(() => SqliteJournal.open(path), (error: unknown) => {
        assert.ok(error instanceof NotAJournalError);
        assert.equal(error.message, `journal ${path} is an SQLite database, but not a Vigil journal (its tables: notes; schema version ${version}). Refusing to change it; point the journal at another file.`);
        return true;
      });
      assert.deepEqual(readFileSync(path), before, 'not a byte changed (no tables, no WAL)');
      // And nothing held: the file opens again at once.
      assert.throws(() => SqliteJournal.open(path), NotAJournalError);
    }
  });

  it('migrates a database of schema version 1, keeping its events', () => {
    const path = freshPath();
    const db = new DatabaseSync(path);
    db.exec(migrations[0]?.sql ?? '');
    db.exec('PRAGMA user_version = 1');
    const written = tickers(3);
    const body = encodeBatch(written);
    db.prepare('INSERT INTO events (seq, count, body, crc) VALUES (1, 3, ?, ?)').run(body, crc32(body, 1));
    db.close();
    const migrated: string[] = [];
    const journal = SqliteJournal.open(path, { log: (line) => migrated.push(line) });
    assert.match(migrated.join('\n'), new RegExp(`schema migrated from version 1 at version ${schemaVersion}`));
    assert.deepEqual([...journal.entries()], written);
    assert.equal((journal.database.prepare('PRAGMA user_version').get() as { user_version: number }).user_version, schemaVersion);
    journal.close();
    const again: string[] = [];
    SqliteJournal.open(path, { log: (line) => again.push(line) }).close();
    assert.deepEqual(again, [], 'already migrated: nothing to say');
    const created: string[] = [];
    SqliteJournal.open(freshPath(), { log: (line) => created.push(line) }).close();
    assert.match(created.join('\n'), new RegExp(`schema created at version ${schemaVersion}`));
  });
});

describe('funding in the ledger', () => {
  it('books each funding payment once, from the stream or a snapshot, per position, round trip and day', () => {
    const journal = SqliteJournal.open(freshPath());
    const state = createEngineState({ botId: 'f' });
    const records: LedgerRecord[] = [];
    const apply = (event: Event): void => {
      journal.append([event]);
      for (const command of step(state, event)) if (command.type === 'Record') records.push(command.record);
      journal.applied(state, records.splice(0, records.length));
    };
    apply({ type: 'InstrumentsLoaded', atMs: 0, instruments: [btc] });
    apply(fill(null, 'o1', 'x1', 5, 650_000, 1, 10));
    const funding = { symbol: 'BTCUSDT', executionId: 'fund-1' as ExecutionId, feeE8: 1_234_567, venueMs: 28_800_000 };
    apply({ type: 'FundingSettled', atMs: 20, source: 'stream', ...funding });
    apply({ type: 'FundingSettled', atMs: 21, source: 'rest', ...funding }); // the same payment again
    const reconciled = toTrading(state, { funding: [funding, { ...funding, executionId: 'fund-2' as ExecutionId, feeE8: -300_000, venueMs: 57_600_000 }] });
    for (const command of reconciled) if (command.type === 'Record') records.push(command.record);
    const position = state.positions.get('main/BTCUSDT');
    assert.equal(position?.fundingE8, 1_234_567 - 300_000);
    assert.equal(position?.realizedPnlE8, 0, 'funding is not realized PnL');
    journal.project(records.splice(0, records.length), state, journal.size); // the reconciliation's records (its events were not journaled here)
    const ledger = new LedgerReader(journal.database);
    assert.deepEqual(ledger.pnl('symbol').map((row) => [row.key, row.fills, row.funding_e8]), [['BTCUSDT', 1, 934_567]]);
    assert.deepEqual(ledger.pnl('round_trip').map((row) => [row.key, row.funding_e8]), [['BTCUSDT x1', 934_567]]);
    assert.deepEqual(ledger.pnl('day').map((row) => [row.key, row.funding_e8]), [['1970-01-01', 934_567]]);
    assert.equal(ledger.positions()[0]?.funding_e8, 934_567);
    journal.close();
  });
});

describe('journal records', () => {
  it('decode to the events they encode: tickers and flat events in binary, the rest as JSON', () => {
    const world = journaledWorld(5);
    const events = [...world.journal.entries()];
    world.close();
    assert.ok(events.length > 1_000);
    assert.deepEqual(decodeBatch(encodeBatch(events), events.length), { ok: true, events });
    const odd: Event[] = [
      { type: 'TickerUpdated', atMs: 5, symbol: 'SOLUSDT', lastTicks: null, markTicks: 7, venueMs: 4 },
      { type: 'TickerUpdated', atMs: 5, symbol: 'ÉTHUSDT', lastTicks: 1, markTicks: null, venueMs: 4 }, // not ASCII: a flat record, not the ticker's
      { type: 'CloseRequested', atMs: 6, requestId: 'line\nbreak, "quoted" ünicode', symbol: 'SOLUSDT' },
      { type: 'CloseRequested', atMs: 2 ** 53 - 1, requestId: 'x'.repeat(300), symbol: 'SOLUSDT' }, // a string too long for a byte of length
      { type: 'FundingSettled', atMs: 7, source: 'rest', symbol: 'SOLUSDT', executionId: 'f1' as ExecutionId, feeE8: -1_234_567, venueMs: 2 ** 40 },
      {
        type: 'OrderUpdated', atMs: 8.5, source: 'stream', symbol: 'SOLUSDT', venueOrderId: 'v1' as VenueOrderId, clientOrderId: null, side: 'buy', orderKind: 'limit',
        status: 'rejected', sizeLots: 0xffff_ffff + 1, filledLots: 0, priceTicks: -3, triggerTicks: null, reduceOnly: false, positionTrigger: 'trailing-stop',
        stopLossTicks: null, takeProfitTicks: 12, venueUpdatedMs: 9, reason: 'ünicode 🙂 reason',
      },
      { type: 'StreamDisconnected', atMs: 9, stream: 'private', reason: '' },
      { type: 'OpenRequested', atMs: 10, requestId: 'r', symbol: 'SOLUSDT', side: 'sell', size: { quantity: '1' }, entry: { kind: 'market' }, stopLoss: { percent: 1 }, takeProfit: null }, // nested: JSON
    ];
    const body = encodeBatch(odd);
    assert.deepEqual(decodeBatch(body, odd.length), { ok: true, events: odd });
    // How each went: the record tags, walking the body by the decoder's own lengths.
    const tags = odd.map((event) => encodeBatch([event])[0]);
    assert.deepEqual(tags, [0x01, 0x03, 0x03, 0x03, 0x03, 0x03, 0x03, 0x02]);
    // A field a flat record has no name for (or a value JSON would not keep) goes as JSON, exactly.
    const stranger = { type: 'TimerFired', atMs: 1, timerId: 2, note: 'x' } as unknown as Event;
    assert.equal(encodeBatch([stranger])[0], 0x02);
    assert.deepEqual(decodeBatch(encodeBatch([stranger]), 1), { ok: true, events: [stranger] });
    // A batch larger than the encoder's buffer (it grows, then shrinks back), then a small one.
    const large: Event[] = [{ type: 'CloseRequested', atMs: 1, requestId: 'é'.repeat(1_500_000), symbol: 'SOLUSDT' }, ...odd];
    assert.deepEqual(decodeBatch(encodeBatch(large), large.length), { ok: true, events: large });
    assert.deepEqual(decodeBatch(encodeBatch(odd.slice(0, 2)), 2), { ok: true, events: odd.slice(0, 2) });
    // Binary records are smaller than their JSON: an order report in a third of its bytes.
    const report = odd[5] as Event;
    assert.ok(encodeBatch([report]).length * 2.5 < JSON.stringify(report).length, `${encodeBatch([report]).length} bytes against ${JSON.stringify(report).length}`);
  });

  it('decode any event to exactly what was encoded, flat or not (property, fixed seed)', () => {
    const names = ['symbol', 'reason', 'sizeLots', 'priceTicks', 'reduceOnly', 'clientOrderId', 'feeE8', 'seq', 'stranger'];
    const value = fc.oneof(
      fc.constant(null), fc.boolean(), fc.string({ unit: 'grapheme', maxLength: 300 }), fc.constantFrom('OrderUpdated', 'sell', 'stop-market', 'USDT', '0'),
      fc.integer({ min: 0, max: 0xffff_ffff }), fc.maxSafeInteger(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constant(undefined), fc.constant({ nested: 1 }),
    );
    const event = fc.dictionary(fc.constantFrom(...names), value, { maxKeys: names.length })
      .map((fields) => ({ type: 'OrderUpdated', atMs: 1, ...fields })); // a type and a time, as every event has
    fc.assert(fc.property(fc.array(event, { minLength: 1, maxLength: 8 }), (drawn) => {
      const events = drawn as unknown as Event[];
      // What a journal must give back is what JSON would keep (no undefined fields, -0 as 0): the records are exact beyond that.
      const expected = events.map((item) => JSON.parse(JSON.stringify(item)) as Event);
      assert.deepEqual(decodeBatch(encodeBatch(events), events.length), { ok: true, events: expected });
    }), { seed: 20_261_121, numRuns: 2_000 });
  });

  it('refuse a body that is cut short, holds a stranger, or disagrees with its count, saying which record', () => {
    const body = encodeBatch(tickers(3));
    assert.deepEqual(decodeBatch(body.subarray(0, body.length - 2), 3), { ok: false, reason: 'record 3: ticker cut short' });
    assert.deepEqual(decodeBatch(body, 4), { ok: false, reason: '3 events where the row says 4' });
    const stranger = Buffer.from(body);
    stranger[0] = 0x07;
    assert.deepEqual(decodeBatch(stranger, 3), { ok: false, reason: 'record 1: unknown tag 7' });
    const notEvent = Buffer.from([0x02, 7, 0, 0, 0, ...Buffer.from('{"x":1}')]);
    assert.deepEqual(decodeBatch(notEvent, 1), { ok: false, reason: 'record 1: not a journal event' });
    const flat = encodeBatch([{ type: 'TimerFired', atMs: 1, timerId: 70_000 }, { type: 'TimerFired', atMs: 2, timerId: 3 }]);
    assert.deepEqual(decodeBatch(flat.subarray(0, flat.length - 1), 2), { ok: false, reason: 'record 2: cut short' });
    const unnamed = Buffer.from(flat);
    unnamed[2] = 0xee; // the first field's name
    assert.deepEqual(decodeBatch(unnamed, 2), { ok: false, reason: 'record 1: unknown field 238' });
    const untagged = Buffer.from(flat);
    untagged[3] = 0x6f; // the first field's value tag
    assert.deepEqual(decodeBatch(untagged, 2), { ok: false, reason: 'record 1: field type: unknown value tag 111' });
    const typeless = Buffer.from(flat);
    typeless[2] = 0x01; // type renamed atMs: atMs twice
    assert.deepEqual(decodeBatch(typeless, 2), { ok: false, reason: 'record 1: field atMs twice' });
  });
});

describe('state snapshots', () => {
  it('encode every field of the engine state but its configuration', () => {
    const state = createEngineState();
    const encoded = JSON.parse(encodeState(state)) as Record<string, unknown>;
    // Derived indexes are rebuilt on decode, not stored: positionKeys, positionStopOwners, unsettledOrders.
    const derived = ['config', 'positionKeys', 'positionStopOwners', 'unsettledOrders'];
    const fields = Object.keys(state).filter((key) => !derived.includes(key));
    // The tiered maps' retired records are the tail of their lists, counted.
    const tiers = ['retiredIntents', 'retiredOrders'];
    assert.deepEqual(Object.keys(encoded).filter((key) => key !== 'format').sort(), [...fields, ...tiers].sort());
  });

  it('decode to the same state: the same text, the same hash', () => {
    const world = journaledWorld(21);
    const { state } = world.runtime;
    const text = encodeState(state);
    const decoded = decodeState(text, engineConfig(world));
    assert.equal(encodeState(decoded), text);
    assert.equal(stateHash(decoded), stateHash(state));
    assert.ok(state.orders.retiredSize > 0 && state.intents.retiredSize > 0, 'settled records retired');
    assert.deepEqual([decoded.orders.retiredSize, decoded.intents.retiredSize], [state.orders.retiredSize, state.intents.retiredSize], 'the same records retired');
    assert.deepEqual([...decoded.positionStopOwners], [...state.positionStopOwners], 'the derived index rebuilt');
    const unsettled = (of: typeof state): string[] => [...of.unsettledOrders].flatMap(([symbol, orders]) => [...orders.keys()].map((key) => `${symbol} ${key}`)).sort();
    assert.deepEqual(unsettled(decoded), unsettled(state), 'the unsettled orders rebuilt');
    // And the index the engine kept step by step is what the orders say.
    const expected = [...state.orders.values()]
      .filter((order) => !['filled', 'cancelled', 'rejected', 'expired'].includes(order.status) || order.reportedFilledLots > order.fillsLots)
      .map((order) => `${order.spec.symbol} ${order.key}`).sort();
    assert.deepEqual(unsettled(state), expected, 'the index kept by putOrder');
    assert.ok(state.orders.size > 0 && state.positions.size > 0 && state.intents.size > 0, 'a state with something in it');
    // A snapshot written before markets said whether their prices are fresh: none is.
    const before = JSON.parse(text) as { markets: [string, Record<string, unknown>][] };
    assert.ok(before.markets.some(([, market]) => market.fresh === true), 'a fresh price in the running state');
    for (const [, market] of before.markets) delete market.fresh;
    const older = decodeState(JSON.stringify(before), engineConfig(world));
    assert.deepEqual([...older.markets.values()].map((market) => market.fresh), [...state.markets.values()].map(() => false));
    world.close();
  });

  it('serialize a record again once the engine has replaced it, and only the records it replaced', () => {
    const world = journaledWorld(21);
    const { state } = world.runtime;
    const before = encodeState(state);
    const [key, order] = [...state.orders.entries()][0] ?? [];
    assert.ok(key !== undefined && order !== undefined);
    // The engine never changes a record in place: it puts a new one (putOrder).
    state.orders.set(key, { ...order, fillsLots: order.fillsLots + 7 });
    const after = encodeState(state);
    assert.notEqual(after, before);
    assert.equal(decodeState(after, engineConfig(world)).orders.get(key)?.fillsLots, order.fillsLots + 7);
    state.orders.set(key, order);
    assert.equal(encodeState(state), before, 'the old record, its JSON as before');
    world.close();
  });
});
