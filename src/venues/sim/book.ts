// The simulated venue's position per symbol (one-way mode) and its position-level protection.
//
// Every fill is booked with the core's `applyFill`, so the venue and the engine compute size,
// cost and realized PnL identically; realized PnL in E8 is realized tick-lots x `tickLotE8`.
//
// Invariants: size 0 <=> cost 0 <=> openedMs null; a flat position holds no stop-loss,
// take-profit or trailing stop (Bybit clears them when the position closes); a position that flips
// sides loses the old side's protection; while a trailing stop is active the stop-loss is at least
// as tight as its level (trailing.ts); `seq` is the per-symbol cross sequence of the last match.

import { assertSafeInteger } from '../../core/assert.ts';
import { formatScaled, powersOfTen } from '../../core/decimal.ts';
import type { Fill, PositionReport } from '../../core/events.ts';
import type { Instrument } from '../../core/instrument.ts';
import { applyFill } from '../../core/position/ledger.ts';
import { mulDivRoundHalfEven } from '../../core/money.ts';
import type { Trigger } from '../../core/types.ts';
import { sideSign } from '../../core/types.ts';
import type { PositionSign } from './trailing.ts';
import { followed, startedTrailing, tightenedStopLoss, trailingLevelTicks } from './trailing.ts';
import type { ProtectionChange, SimPosition, SimTrailing } from './types.ts';

export type PositionBook = {
  readonly symbol: string;
  readonly sizeLots: number;
  readonly costTicksLots: number;
  readonly realizedPnlE8: number;
  readonly feesE8: number;
  readonly stopLoss: Trigger | null;
  readonly takeProfit: Trigger | null;
  /** The venue-side trailing stop, which moves `stopLoss` as the last price goes its way. */
  readonly trailing: SimTrailing | null;
  readonly seq: number;
  readonly updatedMs: number;
  readonly openedMs: number | null;
};

/** Extra decimals of the average entry price beyond the tick's own (Bybit sends more than the tick). */
const entryPriceExtraDecimals = 4;

export function emptyBook(symbol: string): PositionBook {
  return {
    symbol, sizeLots: 0, costTicksLots: 0, realizedPnlE8: 0, feesE8: 0,
    stopLoss: null, takeProfit: null, trailing: null, seq: 0, updatedMs: 0, openedMs: null,
  };
}

/** Books the fills of one match (they share one seq) and keeps the protection invariants. */
export function bookMatch(book: PositionBook, instrument: Instrument, fills: readonly Fill[], nowMs: number): PositionBook {
  let next = book;
  for (const fill of fills) {
    const effect = applyFill(next, sideSign(fill.side) * fill.lots, fill.priceTicks);
    next = {
      ...next,
      sizeLots: effect.sizeLots,
      costTicksLots: effect.costTicksLots,
      realizedPnlE8: assertSafeInteger(next.realizedPnlE8 + effect.realizedTicksLots * instrument.tickLotE8, 'realized PnL'),
      feesE8: assertSafeInteger(next.feesE8 + fill.feeE8, 'fees'),
      seq: fill.seq,
    };
  }
  const sideChanged = Math.sign(next.sizeLots) !== Math.sign(book.sizeLots);
  return {
    ...next,
    updatedMs: nowMs,
    openedMs: next.sizeLots === 0 ? null : sideChanged ? nowMs : book.openedMs,
    // Protection belongs to the side it was set for: closing or flipping the position clears it.
    stopLoss: sideChanged ? null : next.stopLoss,
    takeProfit: sideChanged ? null : next.takeProfit,
    trailing: sideChanged ? null : next.trailing,
  };
}

/** Sets the attached protection of an entry (Bybit "Full" TP/SL); absent fields keep the current one. */
export function withAttached(book: PositionBook, stopLoss: Trigger | undefined, takeProfit: Trigger | undefined): PositionBook {
  return { ...book, stopLoss: stopLoss ?? book.stopLoss, takeProfit: takeProfit ?? book.takeProfit };
}

/**
 * Bybit trading-stop on an open position: each given field replaces the current one (null clears
 * it); a trailing set now starts afresh from the last price, and an active trailing keeps the
 * stop-loss at least as tight as its level, whatever stop-loss was asked for. Clearing the trailing
 * leaves the stop-loss where it has moved to.
 */
export function withProtectionChange(book: PositionBook, change: ProtectionChange, lastTicks: number | null, nowMs: number): PositionBook {
  const sign = positionSign(book);
  const trailing = change.trailing === undefined ? book.trailing : change.trailing === null ? null : startedTrailing(change.trailing, sign, lastTicks);
  const stopLoss = change.stopLoss === undefined ? book.stopLoss : change.stopLoss;
  return {
    ...book,
    stopLoss: tightenedStopLoss(stopLoss, trailingLevelTicks(trailing, sign), sign),
    takeProfit: change.takeProfit === undefined ? book.takeProfit : change.takeProfit,
    trailing,
    updatedMs: nowMs,
  };
}

/**
 * The book after its trailing stop saw a last price: activated or its best improved, and the
 * stop-loss tightened to the level. The same object when nothing changed; `updatedMs` moves only
 * with the stop-loss (a change the venue reports).
 */
export function trailed(book: PositionBook, lastTicks: number, nowMs: number): PositionBook {
  if (book.trailing === null || book.sizeLots === 0) return book;
  const sign = positionSign(book);
  const trailing = followed(book.trailing, sign, lastTicks);
  const stopLoss = tightenedStopLoss(book.stopLoss, trailingLevelTicks(trailing, sign), sign);
  if (trailing === book.trailing && stopLoss === book.stopLoss) return book;
  return { ...book, trailing, stopLoss, updatedMs: stopLoss === book.stopLoss ? book.updatedMs : nowMs };
}

/** The side a non-flat position's protection is for (+1 long, -1 short). */
export function positionSign(book: PositionBook): PositionSign {
  return book.sizeLots >= 0 ? 1 : -1;
}

/** The average entry price as venue text: cost / |size| on a finer grid than the tick, half-even. */
export function entryPriceText(book: PositionBook, instrument: Instrument): string {
  if (book.sizeLots === 0) return '0';
  const scale = instrument.priceScale + entryPriceExtraDecimals;
  const units = mulDivRoundHalfEven(book.costTicksLots * instrument.tickUnits, powersOfTen[entryPriceExtraDecimals] ?? 1, Math.abs(book.sizeLots));
  return formatScaled(units, scale);
}

export function positionReportOf(book: PositionBook, instrument: Instrument): PositionReport {
  return {
    symbol: book.symbol,
    sizeLots: book.sizeLots,
    entryPrice: entryPriceText(book, instrument),
    stopLossTicks: book.stopLoss?.triggerTicks ?? null,
    takeProfitTicks: book.takeProfit?.triggerTicks ?? null,
    trailingTicks: book.trailing?.distanceTicks ?? null,
    seq: book.seq,
    venueUpdatedMs: book.updatedMs,
  };
}

export function simPositionOf(book: PositionBook): SimPosition {
  return {
    symbol: book.symbol,
    sizeLots: book.sizeLots,
    costTicksLots: book.costTicksLots,
    realizedPnlE8: book.realizedPnlE8,
    feesE8: book.feesE8,
    stopLossTicks: book.stopLoss?.triggerTicks ?? null,
    takeProfitTicks: book.takeProfit?.triggerTicks ?? null,
    seq: book.seq,
    updatedMs: book.updatedMs,
    openedMs: book.openedMs,
  };
}
