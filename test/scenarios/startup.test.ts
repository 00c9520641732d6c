// Seed 002's stories: a bot that restored and traded before its streams were up, missed fills, let
// a take-profit fill unseen, and restored symbols one after another. Each story runs on Vigil and on
// a bot built the seed's way (the mutants), which must fail it.
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseClientOrderId } from '../../src/core/ids.ts';
import { mutant } from '../../src/sim/mutants.ts';
import { scenarios } from '../../src/sim/scenarios.ts';
import { restoreSymbols, roundTripMs } from '../../src/sim/startup.ts';
import { removeJournalFile } from '../../src/sim/world.ts';
import { record, violationNames } from '../support/scenario.ts';

const scenario = (name: string) => {
  const found = scenarios[name];
  if (found === undefined) throw new Error(`no scenario ${name}`);
  return found;
};

const clean = (run: ReturnType<typeof record>): void => assert.equal(run.world.auditor.violationCount, 0, JSON.stringify(run.world.auditor.violations));

function submitted(run: ReturnType<typeof record>, role: string): { atMs: number; clientOrderId: string }[] {
  return run.applied.flatMap((applied) => applied.commands.flatMap((command) => {
    if (command.type !== 'SubmitOrder' || parseClientOrderId('sim', command.clientOrderId)?.role !== role) return [];
    return [{ atMs: applied.atMs - run.world.startMs, clientOrderId: command.clientOrderId }];
  }));
}

describe('scenario: a limit entry that fills before the private stream is up', () => {
  it('is not placed until the stream is subscribed and reconciled, so its fill is seen', () => {
    const run = record(scenario('limit-entry-fills-at-startup'));
    clean(run);
    const [first] = submitted(run, 'entry');
    assert.ok(first !== undefined && first.atMs >= 400, `the first entry went out at +${first?.atMs} ms, after the subscription at +400`);
    assert.equal(run.world.venue.position('SOLUSDT').sizeLots, 33, 'it filled at the later dip, and the engine knows');
    assert.equal(run.world.runtime.state.fillIds.size, run.world.venue.fills().length);
  });

  it('fails on the seed design: the entry goes out first and its fill is lost', () => {
    const run = record(scenario('limit-entry-fills-at-startup'), { step: mutant('seed-startup') });
    assert.deepEqual(violationNames(run).filter((name) => name !== 'converged'), ['fill-booked', 'write-while-down']);
  });
});

describe('scenario: a take-profit that fills during startup', () => {
  it('books the fill from the snapshot, finds the position flat, and starts the next cycle without a second take-profit', () => {
    const run = record(scenario('take-profit-fills-during-startup'));
    clean(run);
    const takeProfits = submitted(run, 'take-profit');
    assert.equal(new Set(takeProfits.map((order) => order.clientOrderId)).size, takeProfits.length, 'no take-profit sent twice');
    assert.ok(run.world.runtime.state.reconcile.missedFills >= 1);
    const entries = submitted(run, 'entry');
    assert.ok(entries.some((entry) => entry.atMs > 10_400), 'a new cycle after the restart');
  });

  it('fails on the seed design: the snapshot is taken before the streams, the take-profit fill is lost', () => {
    const run = record(scenario('take-profit-fills-during-startup'), { step: mutant('seed-startup') });
    assert.ok(violationNames(run).includes('fill-booked'), violationNames(run).join(', '));
  });
});

describe('scenario: the private stream drops while the take-profit fills', () => {
  it('books the fill from the snapshot taken after the reconnect', () => {
    const run = record(scenario('stream-drops-during-take-profit'));
    clean(run);
    assert.ok(run.world.network.counts.lostOnWire > 0, 'the take-profit fill was pushed while the stream was down');
    assert.ok(run.world.runtime.state.reconcile.missedFills >= 1);
    assert.equal(run.world.runtime.state.fillIds.size, run.world.venue.fills().length);
  });

  it('fails on a bot that does not take a snapshot after a reconnect', () => {
    const run = record(scenario('stream-drops-during-take-profit'), { step: mutant('reconnect-without-snapshot') });
    assert.ok(violationNames(run).includes('fill-booked'), violationNames(run).join(', '));
  });
});

describe('scenario: a snapshot older than an event already received', () => {
  it('keeps the newer stream state and protects the whole position', () => {
    const run = record(scenario('snapshot-older-than-stream'));
    clean(run);
    assert.equal(run.world.network.counts.staleSnapshots > 0, true);
    const position = run.world.runtime.state.positions.get('main/SOLUSDT');
    assert.equal(position?.venue?.sizeLots, 25);
    assert.equal(run.world.venue.isProtected('SOLUSDT'), true);
  });

  it('fails on a bot that lets the snapshot overwrite the stream', () => {
    const run = record(scenario('snapshot-older-than-stream'), { step: mutant('snapshot-overwrites') });
    assert.ok(violationNames(run).length > 0);
  });
});

describe('scenario: 1, 10 and 100 symbols restored concurrently', () => {
  const runs = [1, 10, 100].map((symbols) => ({ symbols, run: restoreSymbols(symbols) }));
  it('restores every position with its take-profit, sends nothing twice, and is ready in a few round trips', () => {
    for (const { symbols, run } of runs) {
      assert.equal(run.world.auditor.violationCount, 0, JSON.stringify(run.world.auditor.violations));
      const { state } = run.world.runtime;
      assert.equal(state.activeIntentBySymbol.size, symbols);
      assert.ok([...state.intents.values()].every((intent) => intent.takeProfitOrders.length > 0 && intent.protection === 'attached'));
      assert.equal(run.ordersSent, 0, 'no second entry, no second take-profit, no extra stop');
      assert.ok(run.readyMs !== null && run.readyMs <= 8 * roundTripMs, `ready in ${run.readyMs} ms`);
    }
  });

  it('does not grow with the number of symbols', () => {
    const one = runs[0]?.run.readyMs ?? 0;
    const hundred = runs[2]?.run.readyMs ?? Infinity;
    assert.ok(hundred / one <= 1.5, `T(100) / T(1) = ${hundred} / ${one}`);
  });
});

describe('scenario: the cycle bot restarting again and again with no journal', () => {
  it('never has two entries or two take-profits of its own live on the venue, and ends converged', () => {
    const worst = { entries: 0, takeProfits: 0 };
    const run = record(scenario('tp-cycle-restarts'), {
      onStep: (world) => {
        const mine = world.venue.openOrders().map((order) => parseClientOrderId('sim', order.clientOrderId ?? '')?.role);
        worst.entries = Math.max(worst.entries, mine.filter((role) => role === 'entry').length);
        worst.takeProfits = Math.max(worst.takeProfits, mine.filter((role) => role === 'take-profit').length);
      },
    });
    clean(run);
    assert.equal(run.world.coldRestarts, 9);
    assert.deepEqual(worst, { entries: 1, takeProfits: 1 });
    const cycles = run.world.venue.fills().filter((fill) => parseClientOrderId('sim', fill.clientOrderId ?? '')?.role === 'take-profit').length;
    assert.ok(cycles >= 2, `take-profits filled: ${cycles}`);
  });
});

describe('scenario: killed before its stop\'s reply, down past the stop\'s deadline', () => {
  it('keeps the position and its stop: the startup snapshot, not the dead process\'s deadline, settles the stop', () => {
    const journalPath = join(tmpdir(), `vigil-scenario-${process.pid}-unanswered.db`);
    try {
      const run = record(scenario('stop-unanswered-at-crash'), { journalPath });
      clean(run);
      const { world } = run;
      assert.equal(world.crashes['between-steps'], 1);
      const [stop, ...more] = submitted(run, 'stop');
      assert.equal(more.length, 0, 'the stop was not sent again: the snapshot lists it');
      assert.ok(stop !== undefined && stop.atMs === 1_050, `the stop went out before the crash: ${JSON.stringify(stop)}`);
      assert.deepEqual(submitted(run, 'exit'), [], 'no exit at market');
      assert.equal(world.venue.position('BTCUSDT').sizeLots, 10);
      assert.equal(world.runtime.state.orders.get(stop.clientOrderId)?.status, 'accepted');
      assert.equal(world.runtime.state.counters.protectiveExits, 0);
    } finally {
      removeJournalFile(journalPath);
    }
  });
});

describe('scenario: the stop fills while the bot is down, longer ago than the cold-start lookback', () => {
  it('restarts from its journal, reads fills from what the journal knew, and books the stop\'s own fill', () => {
    const journalPath = join(tmpdir(), `vigil-scenario-${process.pid}-down.db`);
    try {
      const run = record(scenario('stop-fills-while-down'), { journalPath });
      clean(run);
      const { world } = run;
      assert.equal(world.crashes['between-steps'], 1);
      const venueFills = world.venue.fills().filter((fill) => fill.symbol === 'BTCUSDT');
      assert.equal(venueFills.length, 2, 'the entry, and the stop that fired while the bot was down');
      const state = world.runtime.state;
      for (const fill of venueFills) assert.ok(state.fillIds.has(fill.executionId), `${fill.executionId} booked`);
      const [stopKey] = submitted(run, 'stop').map((stop) => stop.clientOrderId);
      assert.equal(state.orders.get(stopKey ?? '')?.status, 'filled', 'booked as the stop\'s own fill');
      assert.equal(state.reconcile.sizeMismatches, 0, 'nothing guessed from the position\'s size');
      const fetches = run.applied.flatMap((applied) => applied.commands.filter((command) => command.type === 'FetchSnapshot').map((command) => ({ atMs: applied.atMs - world.startMs, sinceMs: command.fillsSinceMs - world.startMs })));
      const afterRestart = fetches.find((fetch) => fetch.atMs >= 50_000);
      assert.ok(afterRestart !== undefined && afterRestart.sinceMs < 20_000, `the first snapshot after the restart reads fills from before the stop filled: ${JSON.stringify(afterRestart)}`);
      // Booked from the startup snapshot, before trading: not left for a periodic one minutes later.
      const stopFill = venueFills.find((fill) => fill.clientOrderId === stopKey);
      const startup = run.applied.find((applied) => applied.event.type === 'SnapshotReceived' && applied.atMs - world.startMs >= 50_000);
      assert.ok(startup?.event.type === 'SnapshotReceived' && startup.event.fills.some((fill) => fill.executionId === stopFill?.executionId), 'the startup snapshot brings the stop\'s fill');
    } finally {
      removeJournalFile(journalPath);
    }
  });
});
