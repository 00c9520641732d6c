// Forgetting what has settled (engine/retention.ts): the state stays bounded over a long session,
// and nothing it forgets can come back to be booked twice.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { putOrder } from '../../src/core/engine/context.ts';
import { onNoLongerOpen } from '../../src/core/order/order.ts';
import { forgetSettled } from '../../src/core/engine/retention.ts';
import { step } from '../../src/core/engine/step.ts';
import { removeJournalFile } from '../../src/sim/world.ts';
import { parametersForSeed, worldForSeed } from '../../src/sim/swarm.ts';
import type { ClientOrderId } from '../../src/core/ids.ts';
import { engine, fill, report } from '../support/events.ts';

describe('forgetting what has settled', () => {
  it('keeps a long session with crashes converged while it forgets finished intents and their orders', () => {
    // Seed 39: four symbols for 234 s, killed and recovered from its journal file every few
    // seconds on average, remembering what settled for 15 s only.
    const seed = 39;
    const parameters = parametersForSeed(seed);
    assert.equal(parameters.retainSettledMs, 15_000);
    assert.ok(parameters.crashEveryMs > 0, 'a journaled bot: the ledger is checked against the venue too');
    const { world } = worldForSeed(seed);
    try {
      world.run({ stepsMax: 2_000_000, untilMs: world.activeUntilMs });
      world.settle(2_000_000);
      assert.deepEqual(world.auditor.violations, []);
      const { state } = world.runtime;
      // (How many depends on the seed's trajectory, which any change in what the engine sends moves:
      // 30 and 77 before a cancel's "not found" for an ended order stopped asking, 20 and 57 after.)
      assert.ok(state.counters.intentsForgotten >= 15, `intents forgotten: ${state.counters.intentsForgotten}`);
      assert.ok(state.counters.ordersForgotten >= 40, `orders forgotten: ${state.counters.ordersForgotten}`);
      const submitted = world.venue.submissions().length;
      assert.ok(state.orders.size < submitted / 2, `the engine holds ${state.orders.size} orders of the ${submitted} it sent`);
      for (const intent of state.intents.values()) {
        if (intent.phase.name === 'done') assert.ok(intent.phase.atMs > world.scheduler.nowMs() - 15_000 - world.runtime.state.config.reconcileEveryMs - 60_000, `${intent.id} done long ago, still held`);
      }
    } finally {
      world.close();
      if (world.options.journalPath !== undefined) removeJournalFile(world.options.journalPath);
    }
  });

  it('forgets an execution id only once no snapshot can list its fill again', () => {
    const state = engine({ fillsOverlapMs: 500, coldStartLookbackMs: 2_000, retainSettledMs: 1_000 });
    const oldFill = fill(null, 'v1', 'x-old', 1, 650_000, 1, 1_000);
    step(state, oldFill);
    step(state, fill(null, 'v1', 'x-new', 1, 650_000, 2, 10_000));
    forgetSettled({ state, atMs: 10_000, out: [] });
    // The oldest a snapshot asks for: the cursor (10,000) less the cold-start lookback (2,000); kept a retention (1,000) beyond.
    assert.equal(state.fillIdsFromMs, 7_000);
    assert.deepEqual([...state.fillIds.keys()], ['x-new']);
    assert.equal(state.counters.fillIdsForgotten, 1);
    const sizeBefore = state.positions.get('main/BTCUSDT')?.sizeLots;
    step(state, fill(null, 'v1', 'x-new', 1, 650_000, 2, 10_000));
    assert.equal(state.positions.get('main/BTCUSDT')?.sizeLots, sizeBefore, 'the kept id still makes a duplicate count once');
    assert.equal(state.counters.duplicateFills, 1);
    // A snapshot asked for before the cursor moved on (from further back: one superseded by a
    // reconnect, its reply still on the way) lists the forgotten fill again: older than the ids
    // kept, it is taken as booked (seed 310420 booked four so twice).
    const missedBefore = state.reconcile.missedFills;
    step(state, { type: 'SnapshotReceived', atMs: 11_000, snapshotId: 999, tickers: [], positions: [], openOrders: [], fills: [oldFill as never], positionsVenueMs: 10_500, wallet: null });
    assert.equal(state.positions.get('main/BTCUSDT')?.sizeLots, sizeBefore, 'not booked a second time');
    assert.equal(state.reconcile.missedFills, missedBefore, 'nor counted as a missed fill (a drift the operator would be alarmed by)');
    // On the stream too (a push that old could only be a duplicate).
    step(state, oldFill);
    assert.equal(state.positions.get('main/BTCUSDT')?.sizeLots, sizeBefore);
    assert.equal(state.counters.duplicateFills, 2);
  });

  it('remembers an order of no intent for the retention after it ended, however long it rested (seed 143013)', () => {
    const state = engine({ retainSettledMs: 1_000, externalPositions: 'watch' });
    // Someone's limit order, seen resting from 100; a snapshot at 50,000 no longer lists it.
    step(state, report(null, 'm1', 'new', 0, 100, { orderKind: 'limit', priceTicks: 640_000 }));
    const resting = state.orders.get('ext:m1');
    assert.equal(resting?.status, 'accepted');
    putOrder({ state, atMs: 50_000, out: [] }, onNoLongerOpen(resting));
    assert.equal(state.orders.get('ext:m1')?.status, 'cancelled');
    forgetSettled({ state, atMs: 50_500, out: [] });
    assert.equal(state.orders.get('ext:m1')?.status, 'cancelled', 'ended 500 ms ago: a snapshot asked for before may still list it open');
    // Such a late listing finds it ended, and it stays ended.
    step(state, report(null, 'm1', 'new', 0, 50_600, { orderKind: 'limit', priceTicks: 640_000, venueUpdatedMs: 90 }));
    assert.equal(state.orders.get('ext:m1')?.status, 'cancelled');
    forgetSettled({ state, atMs: 51_000, out: [] });
    assert.equal(state.orders.get('ext:m1'), undefined, 'forgotten once ended for the retention');
    assert.equal(state.orderSettledMs.has('ext:m1'), false);
  });

  it('retires what has settled as it settles: found by every lookup, off the live tier until it changes', () => {
    const state = engine({ retainSettledMs: 10_000 });
    step(state, { type: 'OpenRequested', atMs: 10, requestId: 'r1', symbol: 'BTCUSDT', side: 'buy', size: { quantity: '0.010' }, entry: { kind: 'market' }, stopLoss: { percent: 1 }, takeProfit: null });
    const [done] = state.intents.values();
    assert.ok(done !== undefined && done.entryOrder !== null);
    const entryKey = done.entryOrder;
    assert.deepEqual([state.intents.retiredSize, state.orders.retiredSize], [0, 0], 'in play');

    // The venue refuses the entry: the intent is done, its order finished. Another one follows.
    step(state, { type: 'OrderSubmitRejected', atMs: 20, commandId: 0, clientOrderId: entryKey as ClientOrderId, code: 'insufficient-funds', reason: 'no margin' });
    step(state, { type: 'OpenRequested', atMs: 30, requestId: 'r2', symbol: 'BTCUSDT', side: 'buy', size: { quantity: '0.010' }, entry: { kind: 'market' }, stopLoss: { percent: 1 }, takeProfit: null });
    const active = [...state.intents.values()].find((intent) => intent.id !== done.id);
    assert.ok(active !== undefined && active.entryOrder !== null);
    assert.equal(state.intents.get(done.id)?.phase.name, 'done', 'still found');
    assert.equal(state.orders.get(entryKey)?.status, 'rejected');
    assert.deepEqual([...state.intents.keys()], [active.id, done.id], 'the done intent retired: iterated after the one in play, which came later');
    assert.deepEqual([...state.orders.keys()], [active.entryOrder, entryKey], 'its settled order with it');
    assert.deepEqual([state.intents.retiredSize, state.orders.retiredSize], [1, 1]);

    // A settled order found in the live tier (a snapshot from before the tiers) is retired by the sweep.
    const entry = state.orders.get(entryKey);
    assert.ok(entry !== undefined);
    state.orders.set(entryKey, entry);
    assert.equal(state.orders.retiredSize, 0);
    forgetSettled({ state, atMs: 1_000, out: [] });
    assert.deepEqual([state.intents.retiredSize, state.orders.retiredSize], [1, 1], 'retired by the sweep');

    // A late report of its order (fills the venue says it had) brings the order back into play;
    // once they are booked it is retired again.
    putOrder({ state, atMs: 2_000, out: [] }, { ...entry, reportedFilledLots: 1 });
    assert.equal(state.orders.retiredSize, 0);
    forgetSettled({ state, atMs: 20_000, out: [] });
    assert.ok(state.intents.has(done.id) && state.orders.has(entryKey), 'neither forgotten while the order is unsettled');
    putOrder({ state, atMs: 20_000, out: [] }, { ...entry, reportedFilledLots: 1, fillsLots: 1 });
    assert.deepEqual([state.intents.retiredSize, state.orders.retiredSize], [1, 1], 'settled again');

    forgetSettled({ state, atMs: 20_001, out: [] });
    assert.deepEqual([state.intents.has(done.id), state.orders.has(entryKey)], [false, false], 'forgotten past the retention');
    assert.deepEqual([state.intents.retiredSize, state.orders.retiredSize], [0, 0]);
    assert.ok(state.intents.has(active.id) && state.orders.has(active.entryOrder), 'what is in play stays');
  });

  it('keeps a finished intent that a timer still refers to, and one whose order has fills not yet booked', () => {
    const state = engine({ retainSettledMs: 1_000 });
    step(state, { type: 'OpenRequested', atMs: 10, requestId: 'r1', symbol: 'BTCUSDT', side: 'buy', size: { quantity: '0.010' }, entry: { kind: 'market' }, stopLoss: { percent: 1 }, takeProfit: null });
    const [intent] = state.intents.values();
    assert.ok(intent !== undefined);
    // The entry went out and the venue refused it: the intent is done, its order finished.
    step(state, { type: 'OrderSubmitRejected', atMs: 20, commandId: 0, clientOrderId: (intent.entryOrder ?? '') as ClientOrderId, code: 'insufficient-funds', reason: 'no margin' });
    assert.equal(state.intents.get(intent.id)?.phase.name, 'done');
    const entry = state.orders.get(intent.entryOrder ?? '');
    assert.ok(entry !== undefined);
    const ctx = { state, atMs: 30, out: [] };
    // The venue then reports a fill of it that is not booked yet (the fill itself on its way).
    putOrder(ctx, { ...entry, reportedFilledLots: 1 });
    forgetSettled({ state, atMs: 10_000, out: [] });
    assert.ok(state.intents.has(intent.id), 'an order of it has fills not yet booked');
    putOrder(ctx, { ...entry, reportedFilledLots: 1, fillsLots: 1 });
    state.timers.set(999, { kind: 'exit-retry', intentId: intent.id, fireAtMs: 5_000 });
    forgetSettled({ state, atMs: 10_000, out: [] });
    assert.ok(state.intents.has(intent.id), 'a timer refers to it');
    state.timers.delete(999);
    forgetSettled({ state, atMs: 10_000, out: [] });
    assert.ok(!state.intents.has(intent.id), 'nothing waits on it any more');
    assert.equal(intent.entryOrder === null ? undefined : state.orders.get(intent.entryOrder), undefined, 'its order forgotten with it');
  });
});
