// Property: exact money. Thousands of random fills (partial, both sides, flips through zero, maker
// rebates and taker fees) leave the engine's position exactly where an independent model puts it,
// to the last 10^-8 USDT: the size the venue holds, the fees it charged, and the realized PnL of
// average-cost accounting with its one rounding step (removed cost, half-even, to a whole
// tick-lot). A unit off anywhere here is a wallet that never reconciles with the venue's.
//
// The model below is written from the definitions, in bigint only, and uses none of the core's
// arithmetic: not `applyFill`, not `feeE8`, not even the instrument's `tickLotE8` (it is derived
// again from the tick and lot text). The core's `feeE8` only charges the fees, as the simulated
// venue does, and each fee it charges is checked against the model's. What is proved:
//  1. fed fills in sequence order, after every fill: size, cost, realized PnL and fees equal the
//     model's; realized PnL equals cash flow plus the open cost (nothing created or lost), and
//     equals cash flow exactly whenever the position is flat; and realized PnL differs from
//     average-cost accounting in exact rationals by at most half a tick-lot per partial close
//     since the position opened (rounding errors add up, they never grow on themselves);
//  2. driving the simulated venue with random orders and feeding the engine every fact it emits,
//     the engine ends with the venue's size, cost, realized PnL and fees, and both equal the model;
//  3. the same fills delivered reordered within the ledger's replay window (16), with duplicate
//     execution ids, book exactly what sequence order books; one fill later than that is counted.
// Every run uses a fixed seed, so a failure prints a seed and a counterexample that reproduce it.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { step } from '../../src/core/engine/step.ts';
import type { Event } from '../../src/core/events.ts';
import type { ExecutionId, VenueOrderId } from '../../src/core/ids.ts';
import type { Instrument, InstrumentSpec } from '../../src/core/instrument.ts';
import { notionalE8 } from '../../src/core/instrument.ts';
import { feeE8 } from '../../src/core/money.ts';
import type { Position } from '../../src/core/position/position.ts';
import { effectiveSizeLots, positionKey, recentFillsMax } from '../../src/core/position/position.ts';
import type { EngineState } from '../../src/core/state.ts';
import { createEngineState } from '../../src/core/state.ts';
import type { Liquidity, OrderSpec, Side } from '../../src/core/types.ts';
import { factToIncoming } from '../../src/sim/describe.ts';
import { bybitLinearSpecs, instrument } from '../../src/sim/instruments.ts';
import { Rng } from '../../src/sim/rng.ts';
import type { VenueFact } from '../../src/venues/sim/venue.ts';
import { SimVenue } from '../../src/venues/sim/venue.ts';
import { toTrading } from '../support/events.ts';

const seed = 20_260_809;
const fillsPerRunMax = 60;
const account = 'main';
const e8PerUsdt = 100_000_000n;
const instruments: readonly Instrument[] = bybitLinearSpecs.map((spec) => instrument(spec.symbol));

// ---------------------------------------------------------------------------------------------
// The independent model: bigint only, from the definitions.

/** num/den rounded to the nearest integer, ties to the even neighbour; den > 0. */
function roundHalfEven(num: bigint, den: bigint): bigint {
  const magnitude = num < 0n ? -num : num;
  let quotient = magnitude / den;
  const twiceRemainder = 2n * (magnitude % den);
  if (twiceRemainder > den || (twiceRemainder === den && quotient % 2n === 1n)) quotient += 1n;
  return num < 0n ? -quotient : quotient;
}

/** "0.010" -> 10 units of 10^-3. */
function decimalUnits(text: string): { readonly units: bigint; readonly scale: number } {
  const [whole = '', fraction = ''] = text.split('.');
  return { units: BigInt(whole + fraction), scale: fraction.length };
}

/** The value of one tick times one lot in 10^-8 USDT, from the instrument's own text. */
function tickLotE8Of(spec: InstrumentSpec): bigint {
  const tick = decimalUnits(spec.tickSize);
  const lot = decimalUnits(spec.lotSize);
  return tick.units * lot.units * 10n ** BigInt(8 - tick.scale - lot.scale);
}

function specOf(symbol: string): InstrumentSpec {
  const spec = bybitLinearSpecs.find((candidate) => candidate.symbol === symbol);
  assert.ok(spec, `no spec for ${symbol}`);
  return spec;
}

type FeeRates = { readonly makerFeeRateE8: number; readonly takerFeeRateE8: number };

/** The fee on one fill: notional x rate, rounded half-even to 10^-8 USDT (negative for a rebate). */
function modelFeeE8(tickLotE8: bigint, priceTicks: number, lots: number, rateE8: number): bigint {
  return roundHalfEven(BigInt(priceTicks) * BigInt(lots) * tickLotE8 * BigInt(rateE8), e8PerUsdt);
}

function rateOf(rates: FeeRates, liquidity: Liquidity): number {
  return liquidity === 'maker' ? rates.makerFeeRateE8 : rates.takerFeeRateE8;
}

type Fraction = { readonly num: bigint; readonly den: bigint };

function gcd(a: bigint, b: bigint): bigint {
  let [x, y] = [a < 0n ? -a : a, b];
  while (y !== 0n) [x, y] = [y, x % y];
  return x;
}

function fraction(num: bigint, den = 1n): Fraction {
  const divisor = gcd(num, den);
  return { num: num / divisor, den: den / divisor };
}

function plus(a: Fraction, b: Fraction): Fraction {
  return fraction(a.num * b.den + b.num * a.den, a.den * b.den);
}

function minus(a: Fraction, b: Fraction): Fraction {
  return plus(a, { num: -b.num, den: b.den });
}

function times(a: Fraction, num: bigint, den: bigint): Fraction {
  return fraction(a.num * num, a.den * den);
}

/**
 * One position under average-cost accounting, in tick-lots (price ticks x lots), two ways: as the
 * venue books it (removed cost rounded half-even to a whole tick-lot) and in exact rationals.
 */
type Model = {
  readonly sizeLots: bigint;
  readonly costTicksLots: bigint;
  readonly realizedTicksLots: bigint;
  readonly feesE8: bigint;
  /** Sells received minus buys paid. */
  readonly cashflowTicksLots: bigint;
  readonly exactCostTicksLots: Fraction;
  readonly exactRealizedTicksLots: Fraction;
  /** Closes that left part of the position open since it last opened: each may round once. */
  readonly partialCloses: number;
};

const flatModel: Model = {
  sizeLots: 0n, costTicksLots: 0n, realizedTicksLots: 0n, feesE8: 0n, cashflowTicksLots: 0n,
  exactCostTicksLots: fraction(0n), exactRealizedTicksLots: fraction(0n), partialCloses: 0,
};

type FillSpec = { readonly side: Side; readonly lots: number; readonly priceTicks: number; readonly liquidity: Liquidity };

/** What happened to the rounding on one fill, for the coverage check. */
type Rounding = 'none' | 'exact' | 'tie' | 'rounded';

function modelFill(model: Model, fill: FillSpec, feeE8Charged: bigint): { readonly next: Model; readonly rounding: Rounding } {
  const lots = BigInt(fill.lots);
  const price = BigInt(fill.priceTicks);
  const signedLots = fill.side === 'buy' ? lots : -lots;
  const common = {
    sizeLots: model.sizeLots + signedLots,
    feesE8: model.feesE8 + feeE8Charged,
    cashflowTicksLots: model.cashflowTicksLots - signedLots * price,
  };
  const adds = model.sizeLots === 0n || model.sizeLots > 0n === signedLots > 0n;
  if (adds) {
    const exactCostTicksLots = plus(model.exactCostTicksLots, fraction(price * lots));
    return { next: { ...model, ...common, costTicksLots: model.costTicksLots + price * lots, exactCostTicksLots }, rounding: 'none' };
  }
  const heldLots = model.sizeLots < 0n ? -model.sizeLots : model.sizeLots;
  const direction = model.sizeLots > 0n ? 1n : -1n;
  const closedLots = lots < heldLots ? lots : heldLots;
  const openedLots = lots - closedLots;
  const removedTicksLots = roundHalfEven(model.costTicksLots * closedLots, heldLots);
  const exactRemoved = times(model.exactCostTicksLots, closedLots, heldLots);
  const exactRealized = plus(model.exactRealizedTicksLots, times(minus(fraction(price * closedLots), exactRemoved), direction, 1n));
  const remainder = (model.costTicksLots * closedLots) % heldLots;
  const rounding: Rounding = remainder === 0n ? 'exact' : 2n * remainder === heldLots ? 'tie' : 'rounded';
  const partial = closedLots < heldLots;
  const next: Model = {
    ...model,
    ...common,
    realizedTicksLots: model.realizedTicksLots + direction * (price * closedLots - removedTicksLots),
    exactRealizedTicksLots: exactRealized,
    costTicksLots: partial ? model.costTicksLots - removedTicksLots : price * openedLots,
    exactCostTicksLots: partial ? minus(model.exactCostTicksLots, exactRemoved) : fraction(price * openedLots),
    partialCloses: partial ? model.partialCloses + 1 : 0,
  };
  return { next, rounding };
}

// ---------------------------------------------------------------------------------------------
// The engine side.

function tradingEngine(): EngineState {
  const state = createEngineState({ botId: 't', account, externalPositions: 'watch' });
  step(state, { type: 'InstrumentsLoaded', atMs: 0, instruments });
  toTrading(state);
  return state;
}

function positionIn(state: EngineState, symbol: string): Position {
  const position = state.positions.get(positionKey(account, symbol));
  assert.ok(position, `no position for ${symbol}`);
  return position;
}

function instrumentOf(symbol: string): Instrument {
  const found = instruments.find((candidate) => candidate.symbol === symbol);
  assert.ok(found, `no instrument ${symbol}`);
  return found;
}

/** The fee the venue charges, computed as the simulated venue computes it (core `feeE8`). */
function venueFeeE8(symbol: string, fill: FillSpec, rates: FeeRates): number {
  return feeE8(notionalE8(instrumentOf(symbol), fill.priceTicks, fill.lots), rateOf(rates, fill.liquidity));
}

/** Fill number `index` of a run as the venue pushes it: sequence index + 1, its own order. */
function fillEvent(symbol: string, fill: FillSpec, rates: FeeRates, index: number): Event {
  const atMs = 1_000 + index;
  return {
    type: 'FillReceived', atMs, source: 'stream', symbol, executionId: `x${index + 1}` as ExecutionId, venueOrderId: `o${index + 1}` as VenueOrderId,
    clientOrderId: null, side: fill.side, priceTicks: fill.priceTicks, lots: fill.lots, feeE8: venueFeeE8(symbol, fill, rates),
    liquidity: fill.liquidity, venueMs: atMs, seq: index + 1, positionTrigger: null,
  };
}

/** The engine's ledger for one position, exactly the model's, and the model's own laws. */
function assertLedger(position: Position, model: Model, tickLotE8: bigint, where: string): void {
  const realizedE8 = BigInt(position.realizedPnlE8);
  const costTicksLots = BigInt(position.costTicksLots);
  assert.equal(BigInt(position.sizeLots), model.sizeLots, `${where}: size`);
  assert.equal(costTicksLots, model.costTicksLots, `${where}: cost`);
  assert.equal(realizedE8, model.realizedTicksLots * tickLotE8, `${where}: realized PnL`);
  assert.equal(BigInt(position.feesE8), model.feesE8, `${where}: fees`);
  // Conservation: what was paid and received is either realized or still open as cost.
  const direction = model.sizeLots > 0n ? 1n : model.sizeLots < 0n ? -1n : 0n;
  assert.equal(realizedE8, (model.cashflowTicksLots + direction * costTicksLots) * tickLotE8, `${where}: realized = cash flow + open cost`);
  if (model.sizeLots === 0n) {
    assert.equal(costTicksLots, 0n, `${where}: flat holds no cost`);
    assert.equal(realizedE8, model.cashflowTicksLots * tickLotE8, `${where}: flat, realized = cash flow`);
  }
  // Rounding is bounded: |realized - exact| <= partialCloses / 2 tick-lots; in integers,
  // 2 |realized x den - num| <= partialCloses x den.
  assert.equal(realizedE8 % tickLotE8, 0n, `${where}: realized PnL is whole tick-lots`);
  const realizedTicksLots = realizedE8 / tickLotE8;
  const exact = model.exactRealizedTicksLots;
  const drift = realizedTicksLots * exact.den - exact.num;
  const driftMagnitude = drift < 0n ? -drift : drift;
  assert.ok(2n * driftMagnitude <= BigInt(model.partialCloses) * exact.den,
    `${where}: realized ${realizedTicksLots} drifted from the exact ${exact.num}/${exact.den} by more than half a tick-lot per partial close (${model.partialCloses})`);
}

// ---------------------------------------------------------------------------------------------
// Generators.

const sideArbitrary = fc.constantFrom<Side>('buy', 'sell');

/** Mostly small fills (ties and exact flats are common), some large enough to flip through zero. */
const fillArbitrary: fc.Arbitrary<FillSpec> = fc.record({
  side: sideArbitrary,
  lots: fc.oneof(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 40 })),
  priceTicks: fc.oneof(fc.integer({ min: 1, max: 1_000 }), fc.integer({ min: 1, max: 2_000_000 })),
  liquidity: fc.constantFrom<Liquidity>('maker', 'taker'),
});

/** Rates in 10^-8: a maker may be paid a rebate (negative), a taker always pays. */
const ratesArbitrary: fc.Arbitrary<FeeRates> = fc.record({
  makerFeeRateE8: fc.oneof(fc.constantFrom(20_000, 0, -5_000), fc.integer({ min: -25_000, max: 100_000 })),
  takerFeeRateE8: fc.oneof(fc.constant(55_000), fc.integer({ min: 0, max: 100_000 })),
});

type Run = { readonly symbol: string; readonly rates: FeeRates; readonly fills: readonly FillSpec[] };

function runArbitrary(fillsMin: number): fc.Arbitrary<Run> {
  return fc.record({
    symbol: fc.constantFrom(...instruments.map((item) => item.symbol)),
    rates: ratesArbitrary,
    fills: fc.array(fillArbitrary, { minLength: fillsMin, maxLength: fillsPerRunMax, size: 'max' }),
  });
}

/** Coverage: the cases the property exists for must actually occur in the generated runs. */
type Coverage = { fills: number; ties: number; rounded: number; flips: number; flats: number; feeTies: number };

function emptyCoverage(): Coverage {
  return { fills: 0, ties: 0, rounded: 0, flips: 0, flats: 0, feeTies: 0 };
}

function countFill(coverage: Coverage, before: Model, after: Model, rounding: Rounding, fill: FillSpec, rates: FeeRates, tickLotE8: bigint): void {
  coverage.fills += 1;
  if (rounding === 'tie') coverage.ties += 1;
  if (rounding === 'rounded') coverage.rounded += 1;
  if (before.sizeLots !== 0n && after.sizeLots !== 0n && before.sizeLots > 0n !== after.sizeLots > 0n) coverage.flips += 1;
  if (before.sizeLots !== 0n && after.sizeLots === 0n) coverage.flats += 1;
  const feeTimesE8 = BigInt(fill.priceTicks) * BigInt(fill.lots) * tickLotE8 * BigInt(rateOf(rates, fill.liquidity));
  if (2n * (feeTimesE8 % e8PerUsdt) === e8PerUsdt || 2n * (feeTimesE8 % e8PerUsdt) === -e8PerUsdt) coverage.feeTies += 1;
}

function assertCovered(coverage: Coverage): void {
  for (const [name, count] of Object.entries(coverage)) assert.ok(count > 0, `no run exercised ${name}: ${JSON.stringify(coverage)}`);
}

/** Runs the model over a run's fills; the venue fee of each must be the model's to the unit. */
function modelOf(run: Run, coverage: Coverage | null, onFill?: (model: Model, index: number) => void): Model {
  const tickLotE8 = tickLotE8Of(specOf(run.symbol));
  let model = flatModel;
  for (const [index, fill] of run.fills.entries()) {
    const fee = modelFeeE8(tickLotE8, fill.priceTicks, fill.lots, rateOf(run.rates, fill.liquidity));
    assert.equal(BigInt(venueFeeE8(run.symbol, fill, run.rates)), fee, `fill ${index}: venue fee`);
    const { next, rounding } = modelFill(model, fill, fee);
    if (coverage !== null) countFill(coverage, model, next, rounding, fill, run.rates, tickLotE8);
    model = next;
    onFill?.(model, index);
  }
  return model;
}

// ---------------------------------------------------------------------------------------------
// 1. In sequence order.

describe('exact money: fills in sequence order', () => {
  it('book size, cost, realized PnL and fees exactly as the bigint model, after every fill', () => {
    const coverage = emptyCoverage();
    fc.assert(
      fc.property(runArbitrary(1), (run) => {
        const state = tradingEngine();
        const tickLotE8 = tickLotE8Of(specOf(run.symbol));
        assert.equal(BigInt(instrumentOf(run.symbol).tickLotE8), tickLotE8, `${run.symbol}: tick-lot value`);
        modelOf(run, coverage, (model, index) => {
          const fill = run.fills[index];
          assert.ok(fill);
          step(state, fillEvent(run.symbol, fill, run.rates, index));
          assertLedger(positionIn(state, run.symbol), model, tickLotE8, `${run.symbol} fill ${index}`);
        });
      }),
      { seed, numRuns: 200 },
    );
    assertCovered(coverage);
  });
});

// ---------------------------------------------------------------------------------------------
// 2. Against the simulated venue.

type Action =
  | { readonly kind: 'move'; readonly steps: number }
  | { readonly kind: 'market'; readonly side: Side; readonly lots: number; readonly reduceOnly: boolean }
  | { readonly kind: 'limit'; readonly side: Side; readonly lots: number; readonly offsetSteps: number; readonly reduceOnly: boolean };

const actionArbitrary: fc.Arbitrary<Action> = fc.oneof(
  fc.record({ kind: fc.constant('move' as const), steps: fc.integer({ min: -20, max: 20 }) }),
  fc.record({ kind: fc.constant('market' as const), side: sideArbitrary, lots: fc.integer({ min: 1, max: 30 }), reduceOnly: fc.boolean() }),
  fc.record({
    kind: fc.constant('limit' as const), side: sideArbitrary, lots: fc.integer({ min: 1, max: 30 }),
    offsetSteps: fc.integer({ min: -10, max: 10 }), reduceOnly: fc.boolean(),
  }),
);

/** A starting price per symbol where one lot is worth more than the 5 USDT minimum order. */
const startTicksBySymbol: Readonly<Record<string, number>> = { BTCUSDT: 650_000, ETHUSDT: 300_000, SOLUSDT: 15_000 };

type VenueRun = {
  readonly symbol: string;
  readonly rates: FeeRates;
  readonly spreadTicks: number;
  readonly venueSeed: number;
  readonly actions: readonly Action[];
};

const venueRunArbitrary: fc.Arbitrary<VenueRun> = fc.record({
  symbol: fc.constantFrom(...Object.keys(startTicksBySymbol)),
  rates: ratesArbitrary,
  spreadTicks: fc.integer({ min: 0, max: 3 }),
  venueSeed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
  actions: fc.array(actionArbitrary, { minLength: 1, maxLength: 50, size: 'max' }),
});

const startingBalanceE8 = 10_000 * 100_000_000;

function orderOf(symbol: string, action: Exclude<Action, { kind: 'move' }>, lastTicks: number, priceStepTicks: number): OrderSpec {
  const { side, lots, reduceOnly } = action;
  if (action.kind === 'market') return { symbol, side, sizeLots: lots, reduceOnly, type: { kind: 'market' } };
  const priceTicks = Math.max(1, lastTicks + action.offsetSteps * priceStepTicks);
  return { symbol, side, sizeLots: lots, reduceOnly, type: { kind: 'limit', priceTicks, postOnly: false } };
}

/** Plays the actions on a venue that splits matches into partial fills, feeding every fact to the engine. */
function playOnVenue(run: VenueRun): { readonly venue: SimVenue; readonly state: EngineState } {
  const facts: VenueFact[] = [];
  const venue = new SimVenue({
    instruments, ...run.rates, spreadTicks: run.spreadTicks, partialFillChance: 0.5, fillPartsMax: 4, limitPartialChance: 0.5,
    rng: new Rng(run.venueSeed), startingBalanceE8,
  }, (fact) => facts.push(fact));
  const state = tradingEngine();
  const startTicks = startTicksBySymbol[run.symbol] ?? 1;
  const priceStepTicks = Math.max(1, Math.floor(startTicks / 2_000));
  let lastTicks = startTicks;
  let nowMs = 1_000;
  const deliver = (): void => {
    for (const fact of facts.splice(0)) step(state, { ...factToIncoming(fact), atMs: nowMs });
  };
  venue.setPrice(nowMs, run.symbol, lastTicks);
  deliver();
  for (const action of run.actions) {
    nowMs += 10;
    if (action.kind === 'move') {
      lastTicks = Math.max(1, lastTicks + action.steps * priceStepTicks);
      venue.setPrice(nowMs, run.symbol, lastTicks);
    } else {
      venue.submitOrder(nowMs, null, orderOf(run.symbol, action, lastTicks, priceStepTicks)); // refusals emit nothing
    }
    deliver();
  }
  return { venue, state };
}

describe('exact money: the engine against the simulated venue', () => {
  it('ends with the venue\'s size, cost, realized PnL, fees and balance, all equal to the model', () => {
    let fillsTotal = 0;
    fc.assert(
      fc.property(venueRunArbitrary, (run) => {
        const { venue, state } = playOnVenue(run);
        const tickLotE8 = tickLotE8Of(specOf(run.symbol));
        const venueFills = venue.fills();
        fillsTotal += venueFills.length;
        const fills = venueFills.map(({ side, lots, priceTicks, liquidity }) => ({ side, lots, priceTicks, liquidity }));
        const model = modelOf({ symbol: run.symbol, rates: run.rates, fills }, null);
        const modelFees = fills.map((fill) => modelFeeE8(tickLotE8, fill.priceTicks, fill.lots, rateOf(run.rates, fill.liquidity)));
        assert.deepEqual(venueFills.map((fill) => BigInt(fill.feeE8)), modelFees, 'each fee the venue charged');
        assert.equal(state.fillIds.size, venueFills.length, 'every venue fill booked once');
        if (venueFills.length === 0) return;
        const position = positionIn(state, run.symbol);
        const truth = venue.position(run.symbol);
        assertLedger(position, model, tickLotE8, `${run.symbol} after ${venueFills.length} venue fills`);
        assert.deepEqual(
          [position.sizeLots, effectiveSizeLots(position), position.costTicksLots, position.realizedPnlE8, position.feesE8],
          [truth.sizeLots, truth.sizeLots, truth.costTicksLots, truth.realizedPnlE8, truth.feesE8],
          'engine = venue: size (ledger and effective), cost, realized PnL, fees',
        );
        assert.equal(BigInt(state.wallet?.walletBalanceE8 ?? Number.NaN), BigInt(startingBalanceE8) + model.realizedTicksLots * tickLotE8 - model.feesE8,
          'wallet balance = start + realized PnL - fees');
      }),
      { seed, numRuns: 200 },
    );
    assert.ok(fillsTotal > 2_000, `too few venue fills to mean anything: ${fillsTotal}`);
  });
});

// ---------------------------------------------------------------------------------------------
// 3. In arrival order: reordered within the replay window, with duplicates.

type Delivery = { readonly delays: readonly number[]; readonly duplicates: readonly { readonly pick: number; readonly at: number }[] };

/**
 * Fill i goes out at key i + delays[i] (ties in sequence order), so a fill follows at most
 * `recentFillsMax` - 1 fills of later sequence: the most the ledger's window replays. A duplicate
 * goes out at some point after its original (before it, it would be the original). Each fill has
 * its own sequence here: fills sharing one (one match) are booked in arrival order, so swapping
 * them can move a tick-lot between cost and realized PnL.
 */
function deliveryOrder(count: number, delivery: Delivery): number[] {
  const order = Array.from({ length: count }, (_, index) => index)
    .sort((a, b) => a + (delivery.delays[a] ?? 0) - (b + (delivery.delays[b] ?? 0)) || a - b);
  for (const { pick, at } of delivery.duplicates) {
    const index = pick % count;
    const after = order.indexOf(index) + 1;
    order.splice(after + Math.floor(at * (order.length - after + 1)), 0, index);
  }
  return order;
}

const delayArbitrary = fc.oneof(fc.constant(0), fc.constant(recentFillsMax), fc.integer({ min: 0, max: recentFillsMax }));

const deliveryArbitrary: fc.Arbitrary<Delivery> = fc.record({
  delays: fc.array(delayArbitrary, { minLength: fillsPerRunMax, maxLength: fillsPerRunMax }),
  duplicates: fc.array(fc.record({ pick: fc.nat(), at: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }) }), { maxLength: 10 }),
});

/** Books the run's fills in `order` (indices into the run, repeats allowed) in a fresh engine. */
function bookInOrder(run: Run, order: readonly number[]): Position {
  const state = tradingEngine();
  for (const index of order) {
    const fill = run.fills[index];
    assert.ok(fill);
    step(state, fillEvent(run.symbol, fill, run.rates, index));
  }
  return positionIn(state, run.symbol);
}

function ledgerOf(position: Position): readonly number[] {
  return [position.sizeLots, position.costTicksLots, position.realizedPnlE8, position.feesE8, position.fillCount];
}

function inSequence(count: number): number[] {
  return Array.from({ length: count }, (_, index) => index);
}

describe('exact money: fills in arrival order', () => {
  it('reordered within the replay window and duplicated, book exactly what sequence order books', () => {
    let reordered = 0;
    fc.assert(
      fc.property(runArbitrary(1), deliveryArbitrary, (run, delivery) => {
        const order = deliveryOrder(run.fills.length, delivery);
        if (order.some((index, position) => index < position)) reordered += 1;
        const arrived = bookInOrder(run, order);
        const sequenced = bookInOrder(run, inSequence(run.fills.length));
        assert.deepEqual(ledgerOf(arrived), ledgerOf(sequenced), `delivered as ${order.join(',')}`);
        assert.equal(arrived.fillsOutOfWindow, 0);
        assertLedger(arrived, modelOf(run, null), tickLotE8Of(specOf(run.symbol)), `${run.symbol} delivered as ${order.join(',')}`);
      }),
      { seed, numRuns: 150 },
    );
    assert.ok(reordered > 100, `too few runs were delivered out of order: ${reordered}`);
  });

  it('a fill behind the fifteen after it is replayed in order; behind sixteen it is counted out of window', () => {
    fc.assert(
      fc.property(runArbitrary(recentFillsMax + 2), fc.nat(), (run, pick) => {
        const late = 1 + (pick % (run.fills.length - recentFillsMax - 1)); // one fill before it, so the window has moved on
        const heldBack = (lag: number): number[] => {
          const order = inSequence(run.fills.length).filter((index) => index !== late);
          order.splice(late + lag, 0, late);
          return order;
        };
        const inWindow = bookInOrder(run, heldBack(recentFillsMax - 1));
        assert.deepEqual(ledgerOf(inWindow), ledgerOf(bookInOrder(run, inSequence(run.fills.length))));
        assert.equal(inWindow.fillsOutOfWindow, 0);
        assert.equal(bookInOrder(run, heldBack(recentFillsMax)).fillsOutOfWindow, 1);
      }),
      { seed, numRuns: 50 },
    );
  });
});
