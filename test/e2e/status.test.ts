// `vigil status`: the ledger of a bot's journal, read by the real CLI in a child process, equals
// what the engine and the venue say; a journal from a newer build is refused with exit code 2.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, describe, it } from 'node:test';
import { readStatus } from '../../src/cli/status.ts';
import { step } from '../../src/core/engine/step.ts';
import type { Event } from '../../src/core/events.ts';
import { createEngineState } from '../../src/core/state.ts';
import { SqliteJournal } from '../../src/journal/sqlite.ts';
import { worldForSeed } from '../../src/sim/swarm.ts';
import { removeJournalFile } from '../../src/sim/world.ts';
import { btc } from '../support/events.ts';

const dir = mkdtempSync(join(tmpdir(), 'vigil-status-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function vigil(...args: string[]): { code: number | null; out: string; err: string } {
  const result = spawnSync(process.execPath, ['src/cli/main.ts', ...args], { encoding: 'utf8' });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

describe('vigil status', () => {
  it('shows the positions, open orders, fills and PnL of a journal, equal to the engine\'s', () => {
    const { world } = worldForSeed(31, { forcedFaults: { crashes: true } });
    world.run({ stepsMax: 1_000_000, untilMs: world.activeUntilMs }); // stopped mid-session: positions and orders open
    world.close({ snapshot: true });
    const path = world.options.journalPath ?? assert.fail('a journal path');
    after(() => removeJournalFile(path));
    const report = readStatus(path, 5, 'symbol');
    const { state } = world.runtime;
    const open = [...state.positions.values()].filter((position) => position.sizeLots !== 0);
    assert.deepEqual(report.positions.map((row) => [row.symbol, row.size_lots]), open.map((p) => [p.symbol, p.sizeLots]).sort());
    assert.ok(open.length > 0 && report.openOrders.length > 0, 'something open to show');
    const live = [...state.orders.values()].filter((order) => ['submitted', 'accepted', 'partially-filled', 'unknown'].includes(order.status));
    assert.deepEqual(report.openOrders.map((row) => row.key).sort(), live.map((order) => order.key).sort());
    assert.equal(report.recentFills.length, Math.min(5, state.fillIds.size));
    for (const row of report.pnl) {
      const position = [...state.positions.values()].find((p) => p.symbol === row.key);
      assert.deepEqual([row.realized_pnl_e8, row.fees_e8], [position?.realizedPnlE8, position?.feesE8]);
    }
    assert.equal(report.ledgerAsOf, report.journalEvents);
    const db = new DatabaseSync(path, { readOnly: true });
    assert.equal(report.journalEvents, (db.prepare('SELECT SUM(count) AS n FROM events').get() as { n: number }).n, 'the last event, not the first of the last batch');
    db.close();

    const printed = vigil('status', '--journal', path, '--pnl', 'trip');
    assert.equal(printed.code, 0, printed.err);
    assert.match(printed.out, /^journal: \d+ events; ledger as of event \d+/);
    for (const section of ['open positions', 'open orders', 'recent fills', 'realized PnL per round trip']) assert.ok(printed.out.includes(section), section);
    for (const row of report.openOrders) assert.ok(printed.out.includes(row.key), row.key);
  });

  it('counts the events a clean stop pruned under its final snapshot', () => {
    const path = join(dir, 'clean.db');
    const journal = SqliteJournal.open(path);
    const state = createEngineState({ botId: 'status' });
    const events: Event[] = [{ type: 'InstrumentsLoaded', atMs: 1, instruments: [btc] }, { type: 'EngineStarted', atMs: 2 }, { type: 'StreamConnected', atMs: 3, stream: 'public' }];
    journal.append(events);
    for (const event of events) step(state, event);
    journal.applied(state, []);
    journal.close(state); // the final snapshot; the events before it go
    const report = readStatus(path, 5, 'symbol');
    assert.equal(report.journalEvents, 3);
  });

  it('refuses a journal from a newer schema, and a missing file, with exit code 2 and a reason', () => {
    const path = join(dir, 'newer.db');
    const db = new DatabaseSync(path);
    db.exec('PRAGMA user_version = 99');
    db.close();
    const newer = vigil('status', '--journal', path);
    assert.equal(newer.code, 2);
    assert.match(newer.err, /schema version 99, newer than this build of Vigil knows/);
    const missing = vigil('status', '--journal', join(dir, 'nope.db'));
    assert.equal(missing.code, 2);
    assert.match(missing.err, /no such file/);
  });

  it('names the file, with no stack, when it is not a journal: another file, an empty one, a directory', () => {
    const text = join(dir, 'config.yaml');
    writeFileSync(text, 'bot:\n  id: vigil1\n'.repeat(100));
    const empty = join(dir, 'empty.db');
    writeFileSync(empty, '');
    for (const [path, reason] of [[text, /cannot be read as a journal: file is not a database/], [empty, /is not a Vigil journal/], [dir, /is a directory; name the journal file in it/]] as const) {
      const result = vigil('status', '--journal', path);
      assert.equal(result.code, 2, result.err);
      assert.match(result.err, new RegExp(`--journal: ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
      assert.match(result.err, reason);
      assert.doesNotMatch(result.err, /\n\s+at /, 'no stack trace');
    }
  });
});
