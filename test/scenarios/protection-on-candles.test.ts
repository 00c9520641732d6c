// The protection policies on real prices: SOLUSDT one-minute candles bundled in data/candles (see
// data/PROVENANCE.md), walked intrabar through the simulated venue, with the auditor checking every
// step (no stop loosened, one change in flight, every position protected, state converged). Each
// story looks for its window in the data (the first one that has the price move it needs), so it
// stays a story about real prices rather than a hand-drawn path.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Notice } from '../../src/core/commands.ts';
import type { ProtectionRequest } from '../../src/core/protection/plan.ts';
import type { OrderSpec } from '../../src/core/types.ts';
import { loadCandles } from '../../src/shell/candles.ts';
import { instrument } from '../../src/sim/instruments.ts';
import { noFaults } from '../../src/sim/network.ts';
import { ScriptedWorkload } from '../../src/sim/workload.ts';
import { SimWorld } from '../../src/sim/world.ts';
import type { Candle } from '../../src/venues/sim/prices.ts';
import { candlePath } from '../../src/venues/sim/prices.ts';

const sol = instrument('SOLUSDT');
const candles = loadCandles('SOLUSDT');
const minuteMs = 60_000;

/** The first candle from which, within `spanCandles`, `test` holds for the candles after it. */
function findWindow(spanCandles: number, test: (start: Candle, after: readonly Candle[]) => boolean): number {
  for (let index = 0; index + spanCandles < candles.length; index += 1) {
    const start = candles[index];
    if (start !== undefined && test(start, candles.slice(index + 1, index + 1 + spanCandles))) return index;
  }
  throw new Error('no window in the candles for this story');
}

type Story = { readonly world: SimWorld; readonly notices: Notice[] };

function runStory(startIndex: number, spanCandles: number, protection: ProtectionRequest, options: { readonly attachedStops: boolean; readonly stopPercent: number }): Story {
  const window = candles.slice(startIndex, startIndex + spanCandles);
  const firstMs = window[0]?.openMs ?? 0;
  const notices: Notice[] = [];
  const world = SimWorld.create({
    seed: 11,
    startMs: firstMs,
    symbols: [{ instrument: sol, prices: candlePath('SOLUSDT', sol, window, { pointsPerSegment: 4 }) }],
    network: {
      restRequest: { min: 20, max: 40 }, restReply: { min: 20, max: 40 }, privateStream: { min: 5, max: 20 }, publicStream: { min: 5, max: 10 },
      streamSetup: { min: 100, max: 100 }, restTimeoutMs: 3_000, faults: noFaults,
    },
    venue: { makerFeeRateE8: 20_000, takerFeeRateE8: 55_000, spreadTicks: 0, partialFillChance: 0, fillPartsMax: 1, limitPartialChance: 0 },
    engine: { botId: 'story', attachedStops: options.attachedStops, debugNotices: true },
    activeMs: spanCandles * minuteMs,
    onNotice: (notice) => notices.push(notice),
    workload: new ScriptedWorkload([{
      atMs: minuteMs - 1_000, kind: 'request',
      request: {
        type: 'OpenRequested', requestId: 'story-1', symbol: 'SOLUSDT', side: 'buy', size: { quantity: '10' }, entry: { kind: 'market' },
        stopLoss: { percent: options.stopPercent }, takeProfit: null, protection,
      },
    }]),
  });
  world.run({ stepsMax: 5_000_000, untilMs: world.activeUntilMs });
  world.settle(5_000_000);
  return { world, notices };
}

function fillsBy(world: SimWorld, suffix: RegExp): number {
  return world.venue.fills().filter((fill) => suffix.test(fill.clientOrderId ?? '')).reduce((sum, fill) => sum + fill.lots, 0);
}

/**
 * Two hours in which the price climbs 2.5 % above the entry candle's close in at least five steps of
 * new highs, never falling 1 % below it or below its best so far (the callback is 1.2 %).
 */
function risingWindow(): number {
  return findWindow(120, (first, after) => {
    let high = first.close;
    let newHighs = 0;
    for (const candle of after) {
      // (Intrabar, a falling candle's high comes before its low.)
      if (candle.low <= Math.max(first.close * 0.99, Math.max(high, candle.high) * 0.99)) return false;
      if (candle.high > high * 1.002) newHighs += 1;
      high = Math.max(high, candle.high);
      if (high >= first.close * 1.025) return newHighs >= 5;
    }
    return false;
  });
}

const risingTrailing = { mode: 'bot', activation: { percent: 0.5 }, callback: { percent: 1.2 }, amendEveryMs: 2_000 } as const;

/** The amends of the stop's trigger the venue took, with the trigger before and after. */
function stopMoves(world: SimWorld): { readonly atMs: number; readonly from: number; readonly to: number }[] {
  const triggerOf = (spec: OrderSpec | null): number => (spec?.type.kind === 'stop-market' ? spec.type.triggerTicks : 0);
  return world.venue.amendments()
    .filter((amend) => amend.result.ok && /-sl\d*$/.test(amend.clientOrderId ?? '') && triggerOf(amend.after) !== triggerOf(amend.before))
    .map((amend) => ({ atMs: amend.atMs, from: triggerOf(amend.before), to: triggerOf(amend.after) }));
}

function assertClean(world: SimWorld): void {
  assert.deepEqual(world.auditor.violations, []);
  assert.equal(world.venue.position('SOLUSDT').sizeLots, 0, 'the story ends flat');
}

describe('protection policies on real SOLUSDT candles', () => {
  it('a trailing stop ratchets up by amends as the price rises, never down, and the stop closes the position above the entry', () => {
    const { world, notices } = runStory(risingWindow(), 240, { stopTriggerBy: 'last', trailing: risingTrailing }, { attachedStops: false, stopPercent: 1.5 });
    assertClean(world);
    if (process.env.STORY_DEBUG !== undefined) for (const notice of notices) console.log(notice.code, notice.text);
    const triggerMoves = stopMoves(world);
    assert.ok(triggerMoves.length >= 3, `the stop moved ${triggerMoves.length} times`);
    for (const { atMs, from, to } of triggerMoves) assert.ok(to > from, `amend at ${atMs} moved the stop from ${from} to ${to}`);
    const entry = world.venue.fills().find((fill) => /-e$/.test(fill.clientOrderId ?? ''));
    const exit = world.venue.fills().find((fill) => /-(sl\d*|x\d*)$/.test(fill.clientOrderId ?? ''));
    assert.ok(entry !== undefined && exit !== undefined, 'closed by its stop or by the trailing exit');
    assert.ok(exit.priceTicks > entry.priceTicks, `exit ${exit.priceTicks} above the entry ${entry.priceTicks}`);
    // Every move is said, at debug level (a trailing stop on many symbols would flood the log at
    // info); the stop cut down to the open size is an info line.
    const amends = notices.filter((notice) => notice.code === 'stop-amend');
    const lines = amends.map((notice) => `${notice.level} ${notice.text}`);
    assert.ok(amends.filter((notice) => notice.level === 'debug').length >= triggerMoves.length, lines.join('\n'));
    assert.ok(amends.every((notice) => (notice.level === 'info') === notice.text.includes('(the open size)')), lines.join('\n'));
  });

  it('with a minimum move, the same trailing stop moves less often, each move at least that much, and still exits above the entry', () => {
    const start = risingWindow();
    const every = stopMoves(runStory(start, 240, { stopTriggerBy: 'last', trailing: risingTrailing }, { attachedStops: false, stopPercent: 1.5 }).world);
    const { world } = runStory(start, 240, { stopTriggerBy: 'last', trailing: { ...risingTrailing, minMove: { percent: 0.3 } } }, { attachedStops: false, stopPercent: 1.5 });
    assertClean(world);
    const stepped = stopMoves(world);
    assert.ok(stepped.length >= 2 && stepped.length < every.length, `${stepped.length} moves with the minimum, ${every.length} without`);
    // At least 0.3 % of the best price, which is above the new stop: so at least 0.3 % of the stop.
    for (const { atMs, from, to } of stepped) assert.ok(to - from >= Math.floor(to * 0.003), `amend at ${atMs} moved the stop from ${from} to ${to}`);
    const entry = world.venue.fills().find((fill) => /-e$/.test(fill.clientOrderId ?? ''));
    const exit = world.venue.fills().find((fill) => /-(sl\d*|x\d*)$/.test(fill.clientOrderId ?? ''));
    assert.ok(entry !== undefined && exit !== undefined && exit.priceTicks > entry.priceTicks, `exit ${exit?.priceTicks} above the entry ${entry?.priceTicks}`);
  });

  it('an aged position exits at breakeven, then walks its exit price down toward the market, each step logged with its age and price', () => {
    // Two hours in which the price stays between 2 % below the entry candle's close and its close:
    // the position is under water when it ages, and never reaches breakeven by itself.
    const start = findWindow(60, (first, after) => after.every((candle) => candle.high < first.close && candle.low > first.close * 0.975));
    const aged: ProtectionRequest = { aged: { maxAgeMs: 20 * minuteMs, graceMs: 10 * minuteMs, step: { percent: 0.1 }, stepEveryMs: 5 * minuteMs, hardLimitMs: 180 * minuteMs } };
    const { world, notices } = runStory(start, 90, aged, { attachedStops: true, stopPercent: 3 });
    assertClean(world);
    const steps = notices.filter((notice) => notice.code === 'aged-exit');
    assert.match(steps[0]?.text ?? '', /20m0\ds old, exit at breakeven \d+\.\d+ \(fees included\)/);
    assert.ok(steps.length >= 2, `${steps.length} aged steps logged`);
    const prices = steps.map((notice) => notice.data?.priceTicks ?? 0);
    for (let index = 1; index < prices.length; index += 1) assert.ok((prices[index] ?? 0) < (prices[index - 1] ?? 0), `each step lower: ${prices.join(', ')}`);
    for (const notice of steps) assert.ok((notice.data?.ageMs ?? 0) >= 20 * minuteMs);
    assert.equal(fillsBy(world, /-ag\d*$/), 100, 'the aged exit closed the whole position (10 SOL)');
  });

  it('a ladder fills its first rung, the stop moves to breakeven and shrinks to exactly the rest, then the stop closes the rest', () => {
    // The high gets 1 % above the entry close (the first rung) but not 2 % (the second), then the
    // price falls back under the entry: the stop at breakeven must close the other half.
    const start = findWindow(120, (first, after) => {
      let reached = false;
      for (const candle of after) {
        if (candle.high >= first.close * 1.02) return false;
        if (!reached && candle.low <= first.close * 0.985) return false;
        if (candle.high >= first.close * 1.01) reached = true;
        if (reached && candle.low <= first.close * 0.995) return true;
      }
      return false;
    });
    const ladder: ProtectionRequest = { ladder: [{ target: { percent: 1 }, sizePercent: 50 }, { target: { percent: 2 }, sizePercent: 50 }], breakevenAfterFirstTarget: true };
    const { world, notices } = runStory(start, 150, ladder, { attachedStops: false, stopPercent: 1.5 });
    assertClean(world);
    assert.equal(fillsBy(world, /-tp$/), 50, 'the first rung: half of 10 SOL');
    assert.equal(fillsBy(world, /-tp2$/), 0, 'the second rung never reached');
    assert.equal(fillsBy(world, /-sl\d*$/), 50, 'the stop closed the rest');
    assert.ok(notices.some((notice) => notice.code === 'stop-to-breakeven'));
    const resized = world.venue.amendments().find((amend) => amend.result.ok && amend.after?.sizeLots === 50);
    assert.ok(resized !== undefined, 'the stop was amended to exactly the remaining size');
    const entry = world.venue.fills().find((fill) => /-e$/.test(fill.clientOrderId ?? ''));
    const stopFill = world.venue.fills().find((fill) => /-sl\d*$/.test(fill.clientOrderId ?? ''));
    assert.ok(entry !== undefined && stopFill !== undefined && stopFill.priceTicks > entry.priceTicks, 'the rest closed at breakeven, above the entry');
  });
});
