// The simulated venue's position per symbol (one-way mode) and its position-level protection.
//
// Every fill is booked with the core's `applyFill`, so the venue and the engine compute size,
// cost and realized PnL identically; realized PnL in E8 is realized tick-lots x `tickLotE8`.
//
// Invariants: size 0 <=> cost 0 <=> openedMs null; a flat position holds no stop-loss or
// take-profit (Bybit clears them when the position closes); a position that flips sides loses
// the old side's protection; `seq` is the per-symbol cross sequence of the last match.

import { assertSafeInteger } from '../../core/assert.ts';
import { formatScaled, powersOfTen } from '../../core/decimal.ts';
import type { Fill, PositionReport } from '../../core/events.ts';
import type { Instrument } from '../../core/instrument.ts';
import { applyFill } from '../../core/position/ledger.ts';
import { mulDivRoundHalfEven } from '../../core/money.ts';
import type { Trigger } from '../../core/types.ts';
import { sideSign } from '../../core/types.ts';
import type { SimPosition } from './types.ts';

export type PositionBook = {
  readonly symbol: string;
  readonly sizeLots: number;
  readonly costTicksLots: number;
  readonly realizedPnlE8: number;
  readonly feesE8: number;
  readonly stopLoss: Trigger | null;
  readonly takeProfit: Trigger | null;
  readonly seq: number;
  readonly updatedMs: number;
  readonly openedMs: number | null;
};

/** Extra decimals of the average entry price beyond the tick's own (Bybit sends more than the tick). */
const entryPriceExtraDecimals = 4;

export function emptyBook(symbol: string): PositionBook {
  return {
    symbol, sizeLots: 0, costTicksLots: 0, realizedPnlE8: 0, feesE8: 0,
    stopLoss: null, takeProfit: null, seq: 0, updatedMs: 0, openedMs: null,
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
  };
}

/** Sets the attached protection of an entry (Bybit "Full" TP/SL); absent fields keep the current one. */
export function withAttached(book: PositionBook, stopLoss: Trigger | undefined, takeProfit: Trigger | undefined): PositionBook {
  return { ...book, stopLoss: stopLoss ?? book.stopLoss, takeProfit: takeProfit ?? book.takeProfit };
}

export function withProtectionChange(
  book: PositionBook, stopLoss: Trigger | null | undefined, takeProfit: Trigger | null | undefined, nowMs: number,
): PositionBook {
  return {
    ...book,
    stopLoss: stopLoss === undefined ? book.stopLoss : stopLoss,
    takeProfit: takeProfit === undefined ? book.takeProfit : takeProfit,
    updatedMs: nowMs,
  };
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
