// One Bybit v5 item (an order, an execution, a position) to one core report, shared by the stream
// decoder (WebSocket `data[i]`) and the REST decoders (`result.list[i]`), which carry the same
// fields except that REST items leave `category` to the list.
//
// Invariants:
//  - an item Vigil does not trade (another category, hedge mode, an execution that is not a fill)
//    is a Skip with its reason, never an error; the skip is decided before the symbol is looked
//    up, so an option or funding item for an unknown instrument is still only a skip;
//  - an item Vigil trades is fully validated: every malformed field is a DecodeError naming it.

import type { Fill, Funding, OrderReport, PositionReport, WalletReport } from '../../core/events.ts';
import type { ExecutionId, VenueOrderId } from '../../core/ids.ts';
import type { Instrument } from '../../core/instrument.ts';
import type { VenueOrderStatus } from '../../core/types.ts';
import type { JsonRecord, Place } from './fields.ts';
import {
  amountE8, decimalText, describe, fail, flag, integer, itemAt, listField, lots, nearestTicks, nonEmptyText, optionalId, optionalText, optionalTicks, pathOf,
  text, ticks,
} from './fields.ts';
import { isFillExecType, orderKindOf, orderStatusOf, positionTriggerOf, sideOf } from './vocabulary.ts';

export type Skip = { readonly skipReason: string };
/** A skipped item as the decoders report it: why, and where (`order.data[0]`, `result.list[2]`). */
export type Skipped = { readonly reason: string; readonly where: string };
export type Instruments = ReadonlyMap<string, Instrument>;

export function isSkip(outcome: object): outcome is Skip {
  return 'skipReason' in outcome;
}

/** Null for a linear item; a Skip for any other category. REST items inherit the list's category. */
export function notLinear(item: JsonRecord, at: Place, listCategory: string | null): Skip | null {
  const category = item.category === undefined && listCategory !== null ? listCategory : text(item, 'category', at);
  return category === 'linear' ? null : { skipReason: `category ${category}: only linear contracts are traded` };
}

/**
 * Null for a one-way item (positionIdx 0); a Skip for hedge mode (1 buy side, 2 sell side), whose
 * orders and positions Vigil does not trade: taken as one-way, a hedge-mode order would be read
 * against the wrong position. Orders and positions both carry positionIdx.
 */
function hedgeMode(item: JsonRecord, at: Place): Skip | null {
  const positionIdx = integer(item, 'positionIdx', at);
  if (positionIdx === 1 || positionIdx === 2) return { skipReason: `positionIdx ${positionIdx}: hedge mode is not supported` };
  return positionIdx === 0 ? null : fail(at, 'positionIdx', `expected 0, 1 or 2, got ${positionIdx}`);
}

export function orderReportOf(item: JsonRecord, at: Place, instruments: Instruments, listCategory: string | null): OrderReport | Skip {
  const skip = notLinear(item, at, listCategory) ?? hedgeMode(item, at);
  if (skip !== null) return skip;
  const instrument = tradedInstrument(instruments, item, at);
  if (isSkip(instrument)) return instrument;
  const orderType = text(item, 'orderType', at);
  const triggerTicks = optionalTicks(instrument, item, 'triggerPrice', at);
  const orderKind = orderKindOf(orderType, triggerTicks !== null) ?? fail(at, 'orderType', `unknown order type ${JSON.stringify(orderType)}`);
  const statusWord = text(item, 'orderStatus', at);
  const status = orderStatusOf(statusWord) ?? fail(at, 'orderStatus', `unknown order status ${JSON.stringify(statusWord)}`);
  return {
    symbol: instrument.symbol,
    // A venue adapter is where venue strings become the core's id types.
    venueOrderId: nonEmptyText(item, 'orderId', at) as VenueOrderId,
    clientOrderId: optionalId(item, 'orderLinkId', at),
    side: sideAt(item, at),
    orderKind,
    status,
    sizeLots: lots(instrument, item, 'qty', at),
    filledLots: lots(instrument, item, 'cumExecQty', at),
    // A market order's `price` is Bybit's slippage bound, not a limit: Vigil has no use for it.
    priceTicks: orderKind === 'limit' ? optionalTicks(instrument, item, 'price', at) : null,
    triggerTicks,
    reduceOnly: flag(item, 'reduceOnly', at),
    positionTrigger: positionTriggerOf(optionalText(item, 'stopOrderType', at)),
    stopLossTicks: optionalTicks(instrument, item, 'stopLoss', at),
    takeProfitTicks: optionalTicks(instrument, item, 'takeProfit', at),
    venueUpdatedMs: integer(item, 'updatedTime', at),
    reason: reasonOf(status, optionalText(item, 'rejectReason', at), optionalText(item, 'cancelType', at)),
  };
}

/**
 * Why an order ended: Bybit's rejectReason unless it says no error; for a cancel without one, the
 * cancelType (CancelByUser, CancelByTpSlTsClear, ...) unless UNKNOWN. A Filled order can carry
 * `EC_OrigClOrdIDDoesNotExist`: the second Filled push of a cancel that raced the fill.
 */
function reasonOf(status: VenueOrderStatus, rejectReason: string, cancelType: string): string | null {
  if (rejectReason !== '' && rejectReason !== 'EC_NoError') return rejectReason;
  if (status === 'cancelled' && cancelType !== '' && cancelType !== 'UNKNOWN') return cancelType;
  return null;
}

function sideAt(item: JsonRecord, at: Place): 'buy' | 'sell' {
  const word = text(item, 'side', at);
  return sideOf(word) ?? fail(at, 'side', `expected Buy or Sell, got ${JSON.stringify(word)}`);
}

export function fillOf(item: JsonRecord, at: Place, instruments: Instruments, listCategory: string | null): Fill | Skip {
  const skip = notLinear(item, at, listCategory);
  if (skip !== null) return skip;
  const execType = text(item, 'execType', at);
  if (!isFillExecType(execType)) return { skipReason: `execType ${execType} is not a fill` };
  const instrument = tradedInstrument(instruments, item, at);
  if (isSkip(instrument)) return instrument;
  const lotsFilled = lots(instrument, item, 'execQty', at);
  if (lotsFilled === 0) fail(at, 'execQty', 'a fill must have a positive quantity');
  return {
    symbol: instrument.symbol,
    executionId: nonEmptyText(item, 'execId', at) as ExecutionId,
    venueOrderId: nonEmptyText(item, 'orderId', at) as VenueOrderId,
    clientOrderId: optionalId(item, 'orderLinkId', at),
    side: sideAt(item, at),
    priceTicks: execType === 'Trade' ? ticks(instrument, item, 'execPrice', at) : bankruptcyTicks(instrument, item, at),
    lots: lotsFilled,
    feeE8: amountE8(item, 'execFee', at),
    liquidity: flag(item, 'isMaker', at) ? 'maker' : 'taker',
    venueMs: integer(item, 'execTime', at),
    seq: integer(item, 'seq', at),
    positionTrigger: positionTriggerOf(optionalText(item, 'stopOrderType', at)),
  };
}

/**
 * The price of a liquidation (BustTrade) or auto-deleveraging (AdlTrade) fill: the bankruptcy
 * price, which the venue computes rather than matches, so it need not be on the tick grid. Read to
 * the nearest tick (booked within half a tick of it): failing the message would lose the fill, and
 * a snapshot listing it would fail every time after, the position's change never booked. A Trade's
 * price comes from the book and is on the grid; off it, the grid has changed, and it fails.
 */
function bankruptcyTicks(instrument: Instrument, item: JsonRecord, at: Place): number {
  return nearestTicks(instrument, item, 'execPrice', at) ?? fail(at, 'execPrice', `${instrument.symbol} price must be positive, ${describe(item['execPrice'])}`);
}

/**
 * The instrument of an item, or a skip for a symbol this bot does not trade: an account holds
 * other positions and orders (someone's manual BTC trade beside a bot trading SOL), and a
 * snapshot lists them all; they are not this bot's to read, and must not fail the snapshot.
 */
function tradedInstrument(instruments: Instruments, item: JsonRecord, at: Place): Instrument | Skip {
  const symbol = text(item, 'symbol', at);
  return instruments.get(symbol) ?? { skipReason: `${symbol} is not traded by this bot (no instrument loaded)` };
}

/** A funding execution (execType Funding): what the account paid (execFee; negative: received). */
export function fundingOf(item: JsonRecord, at: Place, instruments: Instruments, listCategory: string | null): Funding | Skip {
  const skip = notLinear(item, at, listCategory);
  if (skip !== null) return skip;
  const execType = text(item, 'execType', at);
  if (execType !== 'Funding') return { skipReason: `execType ${execType} is not funding` };
  // Funding on a symbol this bot does not trade (another position on the account) is not its money.
  const symbol = text(item, 'symbol', at);
  if (!instruments.has(symbol)) return { skipReason: `funding on ${symbol}, an instrument not loaded` };
  return {
    symbol,
    executionId: nonEmptyText(item, 'execId', at) as ExecutionId,
    feeE8: amountE8(item, 'execFee', at),
    venueMs: integer(item, 'execTime', at),
  };
}

export function positionReportOf(item: JsonRecord, at: Place, instruments: Instruments, listCategory: string | null): PositionReport | Skip {
  const skip = notLinear(item, at, listCategory) ?? hedgeMode(item, at);
  if (skip !== null) return skip;
  const instrument = tradedInstrument(instruments, item, at);
  if (isSkip(instrument)) return instrument;
  return {
    symbol: instrument.symbol,
    sizeLots: signedSizeLots(item, at, instrument),
    // REST position/list sends avgPrice, the position stream sends entryPrice; "" reads as "0".
    entryPrice: decimalText(item, item.avgPrice === undefined ? 'entryPrice' : 'avgPrice', at, '0'),
    stopLossTicks: optionalTicks(instrument, item, 'stopLoss', at),
    takeProfitTicks: optionalTicks(instrument, item, 'takeProfit', at),
    // A distance, not a price: taken to the nearest tick rather than refused off the grid ("0": none).
    trailingTicks: trailingDistanceTicks(instrument, item, at),
    seq: integer(item, 'seq', at),
    venueUpdatedMs: integer(item, 'updatedTime', at),
  };
}

function trailingDistanceTicks(instrument: Instrument, item: JsonRecord, at: Place): number | null {
  return nearestTicks(instrument, item, 'trailingStop', at); // "0" (none) reads as null
}

/** Bybit sends an unsigned size and a side: Buy is long, Sell short, "" flat (size must be 0). */
function signedSizeLots(item: JsonRecord, at: Place, instrument: Instrument): number {
  const sizeLots = lots(instrument, item, 'size', at);
  const side = text(item, 'side', at);
  if (side === 'Buy') return sizeLots;
  if (side === 'Sell') return sizeLots === 0 ? 0 : -sizeLots; // never -0
  if (side !== '') return fail(at, 'side', `expected Buy, Sell or "", got ${JSON.stringify(side)}`);
  return sizeLots === 0 ? 0 : fail(at, 'size', `a position without a side must be flat, ${describe(item.size)}`);
}

/** Vigil's settlement coin: USDT-margined linear contracts. */
export const settlementCoin = 'USDT';

/**
 * One account of a wallet report (the wallet topic's `data[i]`, wallet-balance's `result.list[i]`):
 * its USDT entry, exact. An account without USDT is a Skip. `venueMs` is the message's creationTime
 * (stream) or the reply's time (REST): the items themselves carry no time.
 */
export function walletReportOf(item: JsonRecord, at: Place, venueMs: number): WalletReport | Skip {
  const coins = listField(item, 'coin', at);
  const base = pathOf(at, 'coin');
  for (let index = 0; index < coins.length; index++) {
    const coinAt: Place = { base, index };
    const coin = itemAt(coins, coinAt);
    if (text(coin, 'coin', coinAt) !== settlementCoin) continue;
    return {
      coin: settlementCoin,
      walletBalanceE8: amountE8(coin, 'walletBalance', coinAt),
      equityE8: amountE8(coin, 'equity', coinAt),
      unrealisedPnlE8: amountE8(coin, 'unrealisedPnl', coinAt),
      venueMs,
    };
  }
  return { skipReason: `no ${settlementCoin} in the ${optionalText(item, 'accountType', at) || 'account'} wallet` };
}
