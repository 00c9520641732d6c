// The watch over the venue's instruments while the bot runs (src/shell/instrument-watch.ts), on
// the simulated clock: read every interval, a failed reading tried again at the next, a change of
// tick or lot reported once, with whether the bot holds something live on the symbol.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GridChange } from '../../src/core/engine/lifecycle.ts';
import { gridChanges } from '../../src/core/engine/lifecycle.ts';
import { step } from '../../src/core/engine/step.ts';
import type { Instrument } from '../../src/core/instrument.ts';
import { InstrumentWatch, listingUpdates } from '../../src/shell/instrument-watch.ts';
import { instrument } from '../../src/sim/instruments.ts';
import { Scheduler } from '../../src/sim/scheduler.ts';
import { btc, engine, openMarket } from '../support/events.ts';

const everyMs = 300_000;
const sol = instrument('SOLUSDT');
const finer: Instrument = { ...btc, tickSize: '0.01', priceScale: 2, tickUnits: 1 };

/** Runs the clock's next timer and lets the reading it starts (an already settled promise) finish. */
async function nextReading(scheduler: Scheduler): Promise<void> {
  assert.ok(scheduler.runNext(), 'a reading is scheduled');
  await new Promise(setImmediate);
}

function watched(listing: () => Promise<readonly Instrument[]>, state = engine()) {
  const scheduler = new Scheduler(1_000);
  const readAt: number[] = [];
  const changes: (readonly GridChange[])[] = [];
  const updates: (readonly Instrument[])[] = [];
  const failures: string[] = [];
  const watch = new InstrumentWatch({
    clock: scheduler, everyMs, state: () => state, symbols: ['BTCUSDT'],
    read: () => {
      readAt.push(scheduler.nowMs());
      return listing();
    },
    onChange: (found) => changes.push(found),
    onUpdate: (instruments) => {
      updates.push(instruments);
      // As the runtime does: the engine takes them in.
      step(state, { type: 'InstrumentsLoaded', atMs: scheduler.nowMs(), instruments });
    },
    onReadFailed: (error) => failures.push(error instanceof Error ? error.message : String(error)),
  });
  watch.start();
  return { scheduler, readAt, changes, updates, failures, watch, state };
}

describe('the instrument watch', () => {
  it('reads the instruments every interval while nothing changes, and again after a reading fails', async () => {
    let fail = false;
    const { scheduler, readAt, changes, failures } = watched(() => (fail ? Promise.reject(new Error('venue unreachable')) : Promise.resolve([btc])));
    await nextReading(scheduler);
    fail = true;
    await nextReading(scheduler);
    fail = false;
    await nextReading(scheduler);
    assert.deepEqual(readAt, [1_000 + everyMs, 1_000 + 2 * everyMs, 1_000 + 3 * everyMs]);
    assert.deepEqual(failures, ['venue unreachable']);
    assert.deepEqual(changes, []);
    assert.equal(scheduler.size, 1, 'the next reading is due');
  });

  it('reports a change once, live or not, and reads no more', async () => {
    const idle = watched(() => Promise.resolve([finer]));
    await nextReading(idle.scheduler);
    assert.deepEqual(idle.changes, [[{ symbol: 'BTCUSDT', text: 'BTCUSDT tick 0.10 -> 0.01', live: false }]]);
    assert.equal(idle.scheduler.size, 0, 'no reading after it');

    const trading = engine();
    step(trading, openMarket('r1', 10));
    const live = watched(() => Promise.resolve([finer]), trading);
    await nextReading(live.scheduler);
    assert.deepEqual(live.changes.map((found) => found.map((change) => change.live)), [[true]], 'an intent open on BTCUSDT');
  });

  it('takes in new limits and a delisting as they are read, each once, and reads on', async () => {
    const delistMs = Date.UTC(2026, 11, 1, 8, 0);
    let listing: readonly Instrument[] = [{ ...btc, maxMarketLots: 100_000 }];
    const { scheduler, updates, changes, state } = watched(() => Promise.resolve(listing));
    await nextReading(scheduler);
    assert.deepEqual(updates, [[{ ...btc, maxMarketLots: 100_000 }]]);
    assert.equal(state.instruments.get('BTCUSDT')?.maxMarketLots, 100_000, 'taken in');
    await nextReading(scheduler);
    assert.equal(updates.length, 1, 'nothing new at the next reading');
    listing = [{ ...btc, maxMarketLots: 100_000, delistMs }];
    await nextReading(scheduler);
    assert.deepEqual(updates.at(-1), [{ ...btc, maxMarketLots: 100_000, delistMs }]);
    assert.deepEqual([changes, scheduler.size], [[], 1], 'no stop: the next reading is due');
  });

  it('marks a symbol no longer listed as trading delisted from the reading, once, and lists it again when it is back', async () => {
    let listing: readonly Instrument[] = [];
    const { scheduler, updates, failures, state } = watched(() => Promise.resolve(listing));
    await nextReading(scheduler);
    const readMs = 1_000 + everyMs;
    assert.deepEqual(updates, [[{ ...btc, delistMs: readMs }]]);
    assert.equal(state.instruments.get('BTCUSDT')?.delistMs, readMs);
    await nextReading(scheduler);
    assert.deepEqual([updates.length, failures], [1, []], 'said once; a missing symbol is no failed reading');
    listing = [btc];
    await nextReading(scheduler);
    assert.deepEqual(updates.at(-1), [btc]);
    assert.equal(state.instruments.get('BTCUSDT')?.delistMs, undefined);
  });

  it('still sees a grid change on one symbol while another is missing', () => {
    const state = engine();
    step(state, { type: 'InstrumentsLoaded', atMs: 5, instruments: [sol] });
    assert.deepEqual(gridChanges(state, [finer]).map((change) => change.symbol), ['BTCUSDT']);
    assert.deepEqual(listingUpdates(state, ['BTCUSDT', 'SOLUSDT'], [finer], 50).map((instrument) => [instrument.symbol, instrument.delistMs]), [['SOLUSDT', 50]]);
  });

  it('reads nothing once stopped, and drops a reading that ends after the stop', async () => {
    let settle = (_: readonly Instrument[]): void => undefined;
    const { scheduler, readAt, changes, watch } = watched(() => new Promise((resolve) => { settle = resolve; }));
    assert.ok(scheduler.runNext());
    watch.stop();
    settle([finer]);
    await new Promise(setImmediate);
    assert.deepEqual([readAt.length, changes.length, scheduler.size], [1, 0, 0], 'the change found after the stop is not reported');
  });
});
