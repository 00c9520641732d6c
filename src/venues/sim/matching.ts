// Pure matching rules of the simulated venue: execution prices, when a resting order or a
// position-level trigger fires, how much a reduce-only order may fill, how a match is split into
// fills, and the fills of one match with their fees.
//
// Invariants: a taker buy never fills below last + spread (nor above its limit), a taker sell never
// above last - spread (nor below its limit), and never below 1 tick; a maker fills at its own
// limit price; every fill of one match carries the same price and seq; the split parts sum to
// the matched lots and are each >= 1.

import { assert, assertNever } from '../../core/assert.ts';
import type { Fill } from '../../core/events.ts';
import type { ExecutionId } from '../../core/ids.ts';
import type { Instrument } from '../../core/instrument.ts';
import { notionalE8 } from '../../core/instrument.ts';
import { feeE8 } from '../../core/money.ts';
import type { Liquidity, Side, Trigger, TriggerBy } from '../../core/types.ts';
import { sideSign } from '../../core/types.ts';
import type { Rng } from '../../sim/rng.ts';
import type { PositionBook } from './book.ts';
import { positionSign } from './book.ts';
import type { PositionTriggerKind, SimOrder } from './orders.ts';
import { isTrailingStopLoss } from './trailing.ts';
import type { Prices } from './types.ts';

export function priceBy(prices: Prices, triggerBy: TriggerBy): number {
  switch (triggerBy) {
    case 'mark':
      return prices.markTicks;
    case 'last':
      return prices.lastTicks;
    default:
      return assertNever(triggerBy);
  }
}

/** Where a taker of `side` fills against the simulated book, before any limit cap. */
export function takerPriceTicks(side: Side, lastTicks: number, spreadTicks: number): number {
  return side === 'buy' ? lastTicks + spreadTicks : Math.max(1, lastTicks - spreadTicks);
}

/** A limit crosses the simulated book at once: a buy at or above the ask, a sell at or below the bid. */
export function isMarketable(side: Side, limitTicks: number, lastTicks: number, spreadTicks: number): boolean {
  const touchTicks = takerPriceTicks(side, lastTicks, spreadTicks);
  return side === 'buy' ? limitTicks >= touchTicks : limitTicks <= touchTicks;
}

/** The taker price of an order now: the touch, capped by the order's limit if it has one. */
export function takerFillTicks(order: SimOrder, lastTicks: number, spreadTicks: number): number {
  const touchTicks = takerPriceTicks(order.spec.side, lastTicks, spreadTicks);
  const { type } = order.spec;
  if (type.kind !== 'limit') return touchTicks;
  return order.spec.side === 'buy' ? Math.min(type.priceTicks, touchTicks) : Math.max(type.priceTicks, touchTicks);
}

/** A resting limit is reached when the last price trades at or through it. */
export function isLimitTouched(side: Side, limitTicks: number, lastTicks: number): boolean {
  return side === 'buy' ? lastTicks <= limitTicks : lastTicks >= limitTicks;
}

/** A sell stop fires when the price falls to its trigger, a buy stop when it rises to it. */
export function isStopReached(side: Side, triggerTicks: number, priceTicks: number): boolean {
  return side === 'buy' ? priceTicks >= triggerTicks : priceTicks <= triggerTicks;
}

/** A stop-market whose trigger is already reached would fire at once: Bybit refuses it (110092/110093). */
export function isTriggerCrossed(side: Side, triggerTicks: number, priceTicks: number): boolean {
  return isStopReached(side, triggerTicks, priceTicks);
}

/**
 * Which position-level trigger the prices reach, stop-loss first (it protects, so it wins a tie); a
 * stop-loss the trailing stop holds at its level closes as a trailing-stop execution.
 */
export function positionTriggerHit(book: PositionBook, prices: Prices): PositionTriggerKind | null {
  if (book.sizeLots === 0) return null;
  const closingSide: Side = book.sizeLots > 0 ? 'sell' : 'buy';
  const { stopLoss } = book;
  if (stopLoss !== null && isStopReached(closingSide, stopLoss.triggerTicks, priceBy(prices, stopLoss.triggerBy))) {
    return isTrailingStopLoss(stopLoss, book.trailing, positionSign(book)) ? 'trailing-stop' : 'stop-loss';
  }
  if (book.takeProfit !== null && isTakeProfitReached(closingSide, book.takeProfit, prices)) return 'take-profit';
  return null;
}

function isTakeProfitReached(closingSide: Side, takeProfit: Trigger, prices: Prices): boolean {
  const priceTicks = priceBy(prices, takeProfit.triggerBy);
  // A long takes profit when the price rises to the level, a short when it falls to it.
  return closingSide === 'sell' ? priceTicks >= takeProfit.triggerTicks : priceTicks <= takeProfit.triggerTicks;
}

/** Lots a reduce-only order of `side` can still take off the position (0 if none). */
export function reducibleLots(side: Side, positionLots: number): number {
  return Math.sign(positionLots) === -sideSign(side) ? Math.abs(positionLots) : 0;
}

/** Splits `lots` into 2..partsMax parts (each >= 1) drawn from the rng. */
export function splitLots(rng: Rng, lots: number, partsMax: number): readonly number[] {
  const partsCount = rng.int(2, Math.max(2, Math.min(partsMax, lots)));
  const parts: number[] = [];
  let leftLots = lots;
  for (let index = 0; index < partsCount - 1; index += 1) {
    const partsAfter = partsCount - 1 - index;
    const part = rng.int(1, leftLots - partsAfter);
    parts.push(part);
    leftLots -= part;
  }
  parts.push(leftLots);
  return parts;
}

export type MatchFills = {
  readonly order: SimOrder;
  readonly instrument: Instrument;
  readonly partsLots: readonly number[];
  readonly priceTicks: number;
  readonly liquidity: Liquidity;
  readonly feeRateE8: number;
  readonly seq: number;
  readonly nowMs: number;
  /** The number of the first execution id of this match (`x<n>`). */
  readonly firstExecution: number;
};

export function fillsOf(match: MatchFills): readonly Fill[] {
  const { order, instrument, priceTicks } = match;
  return match.partsLots.map((lots, index) => {
    assert(Number.isSafeInteger(lots) && lots > 0, `${order.venueOrderId}: bad fill part ${lots}`);
    return {
      symbol: order.spec.symbol,
      executionId: `x${match.firstExecution + index}` as ExecutionId,
      venueOrderId: order.venueOrderId,
      clientOrderId: order.clientOrderId,
      side: order.spec.side,
      priceTicks,
      lots,
      feeE8: feeE8(notionalE8(instrument, priceTicks, lots), match.feeRateE8),
      liquidity: match.liquidity,
      venueMs: match.nowMs,
      seq: match.seq,
      positionTrigger: order.positionTrigger,
    };
  });
}
