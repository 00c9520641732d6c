// The items of the emulator's REST replies and pushes in Bybit v5's shapes: the project's encoders
// (src/venues/bybit/encode.ts) give the fields Vigil models, and this module fills in what the
// emulator knows beyond them (creation time, time in force, trigger kinds, average price,
// cumulative value and fee, leverage, mark price, margin) and the REST variants: list items carry
// no `category` (the list does), and a REST position says `avgPrice` where the stream says
// `entryPrice`. Instruments and tickers have no project encoder and are built here.
//
// Invariants: numbers are decimal strings written from integers (never floats); every item
// decodes with the project's decoders (test/emulator proves it for each endpoint).

import { formatScaled } from '../core/decimal.ts';
import type { Fill, PositionReport, WalletReport } from '../core/events.ts';
import type { Instrument } from '../core/instrument.ts';
import { lotsToQty, ticksToPrice } from '../core/instrument.ts';
import { moneyScale, mulDivRoundHalfEven } from '../core/money.ts';
import type { TriggerBy } from '../core/types.ts';
import type { BybitItem, JsonValue } from '../venues/bybit/encode.ts';
import { encodeFillItem, encodeOrderItem, encodePositionItem, encodeWalletItem } from '../venues/bybit/encode.ts';
import type { MarginView } from './account.ts';
import type { PublicOrder } from './orders.ts';

/** Extra decimals of an average price beyond the tick's (Bybit sends more than the tick). */
const averageExtraDecimals = 4;
/** The highest price an instrument accepts, in ticks (Bybit's priceFilter.maxPrice). */
export const maxPriceTicks = 999_999_999;

export function e8Text(amountE8: number | bigint): string {
  return formatScaled(Number(amountE8), moneyScale);
}

export function leverageText(centi: number): string {
  return formatScaled(centi, 2);
}

export function triggerByWord(triggerBy: TriggerBy | null): string {
  return triggerBy === null ? '' : triggerBy === 'mark' ? 'MarkPrice' : 'LastPrice';
}

export function instrumentItem(instrument: Instrument): BybitItem {
  const qty = (lots: number): string => lotsToQty(instrument, lots);
  return {
    symbol: instrument.symbol, contractType: 'LinearPerpetual', status: 'Trading', baseCoin: instrument.symbol.replace(/USDT$/, ''), quoteCoin: 'USDT',
    launchTime: '1585526400000', deliveryTime: String(instrument.delistMs ?? 0), deliveryFeeRate: '', priceScale: String(instrument.priceScale),
    leverageFilter: { minLeverage: '1', maxLeverage: '100.00', leverageStep: '0.01' },
    priceFilter: { minPrice: instrument.tickSize, maxPrice: ticksToPrice(instrument, maxPriceTicks), tickSize: instrument.tickSize },
    lotSizeFilter: {
      maxOrderQty: qty(instrument.maxLots), minOrderQty: qty(instrument.minLots), qtyStep: instrument.lotSize, postOnlyMaxOrderQty: qty(instrument.maxLots),
      maxMktOrderQty: qty(instrument.maxMarketLots), minNotionalValue: e8Text(instrument.minNotionalE8),
    },
    unifiedMarginTrade: true, fundingInterval: 480, settleCoin: 'USDT', copyTrading: 'both', upperFundingRate: '0.00375', lowerFundingRate: '-0.00375',
    isPreListing: false, preListingInfo: null, riskParameters: { priceLimitRatioX: '0.01', priceLimitRatioY: '0.02' }, symbolType: '',
  };
}

export type Quote = { readonly lastTicks: number; readonly markTicks: number; readonly spreadTicks: number };

/** A ticker as market/tickers lists it and the tickers topic's snapshot carries it (no funding, no 24 h statistics: zeros). */
export function tickerItem(instrument: Instrument, quote: Quote | null): BybitItem {
  const item: BybitItem = { symbol: instrument.symbol };
  if (quote === null) return item;
  const price = (ticks: number): string => ticksToPrice(instrument, ticks);
  const last = price(quote.lastTicks);
  return {
    ...item, lastPrice: last, indexPrice: price(quote.markTicks), markPrice: price(quote.markTicks), prevPrice24h: last, price24hPcnt: '0',
    highPrice24h: last, lowPrice24h: last, prevPrice1h: last, openInterest: '0', openInterestValue: '0', turnover24h: '0', volume24h: '0',
    fundingRate: '0', nextFundingTime: '0', predictedDeliveryPrice: '', basisRate: '', deliveryFeeRate: '', deliveryTime: '0',
    bid1Price: price(Math.max(1, quote.lastTicks - quote.spreadTicks)), bid1Size: '1', ask1Price: price(quote.lastTicks + quote.spreadTicks), ask1Size: '1', basis: '',
  };
}

/** An order as the order topic pushes it. */
export function orderItem(order: PublicOrder, instrument: Instrument): BybitItem {
  const { report, extras } = order;
  const item = encodeOrderItem(report, instrument);
  item.createdTime = String(order.createdMs);
  item.timeInForce = extras.timeInForce;
  item.triggerDirection = extras.triggerDirection;
  item.triggerBy = report.triggerTicks === null ? '' : triggerByWord(extras.triggerBy ?? 'last');
  item.slTriggerBy = report.stopLossTicks === null ? '' : triggerByWord(extras.slTriggerBy ?? 'last');
  item.tpTriggerBy = report.takeProfitTicks === null ? '' : triggerByWord(extras.tpTriggerBy ?? 'last');
  item.createType = extras.createType;
  item.lastPriceOnCreated = extras.lastPriceOnCreatedTicks === null ? '' : ticksToPrice(instrument, extras.lastPriceOnCreatedTicks);
  item.cumExecValue = e8Text(order.cumValueE8);
  item.cumExecFee = e8Text(order.cumFeeE8);
  item.cumFeeDetail = order.cumFeeE8 === 0 ? {} : { USDT: e8Text(order.cumFeeE8) };
  item.avgPrice = report.filledLots === 0 ? '' : averagePriceText(instrument, order.cumValueE8, report.filledLots);
  return item;
}

export function restOrderItem(order: PublicOrder, instrument: Instrument): BybitItem {
  return withoutCategory(orderItem(order, instrument));
}

/** An execution as the execution topic pushes it, with the order's own price and quantity. */
export function fillItem(fill: Fill, instrument: Instrument, order: PublicOrder | undefined, feeRateE8: number): BybitItem {
  const item = encodeFillItem(fill, instrument);
  item.feeRate = e8Text(feeRateE8);
  if (order !== undefined) {
    item.orderQty = lotsToQty(instrument, order.report.sizeLots);
    item.orderPrice = order.report.priceTicks === null ? item.execPrice ?? '' : ticksToPrice(instrument, order.report.priceTicks);
    item.leavesQty = lotsToQty(instrument, Math.max(0, order.report.sizeLots - order.report.filledLots));
    item.createType = order.extras.createType;
  }
  return item;
}

export function restFillItem(fill: Fill, instrument: Instrument, order: PublicOrder | undefined, feeRateE8: number): BybitItem {
  return withoutCategory(fillItem(fill, instrument, order, feeRateE8));
}

export type PositionContext = {
  readonly leverageCenti: number;
  readonly markTicks: number | null;
  readonly imE8: bigint;
  /** The venue-side trailing stop's distance (Bybit's `trailingStop`), null for none. */
  readonly trailingDistanceTicks: number | null;
};

/** A position as the position topic pushes it, with leverage, mark, value, unrealised PnL, margin and trailing stop. */
export function positionItem(report: PositionReport, instrument: Instrument, context: PositionContext, unrealisedPnlE8: number): BybitItem {
  const item = encodePositionItem(report, instrument);
  item.leverage = leverageText(context.leverageCenti);
  if (context.markTicks !== null) {
    item.markPrice = ticksToPrice(instrument, context.markTicks);
    item.positionValue = e8Text(BigInt(context.markTicks) * BigInt(Math.abs(report.sizeLots)) * BigInt(instrument.tickLotE8));
  }
  item.unrealisedPnl = e8Text(unrealisedPnlE8);
  item.positionIM = e8Text(context.imE8);
  item.positionIMByMp = e8Text(context.imE8);
  item.positionBalance = e8Text(context.imE8);
  if (context.trailingDistanceTicks !== null) item.trailingStop = ticksToPrice(instrument, context.trailingDistanceTicks);
  return item;
}

/** position/list's item: `avgPrice` for the stream's `entryPrice`, and no category. */
export function restPositionItem(report: PositionReport, instrument: Instrument, context: PositionContext, unrealisedPnlE8: number): BybitItem {
  const { entryPrice, ...rest } = withoutCategory(positionItem(report, instrument, context, unrealisedPnlE8));
  return { ...rest, avgPrice: entryPrice ?? '0' };
}

/** The UNIFIED account with its USDT, margin filled in (ccxt computes `used` from locked + IMs). */
export function walletItem(report: WalletReport, margin: MarginView): BybitItem {
  const item = encodeWalletItem(report);
  const coins = item.coin;
  const usdt = Array.isArray(coins) ? coins[0] : undefined;
  if (isItem(usdt)) {
    usdt.totalPositionIM = e8Text(margin.positionImE8);
    usdt.totalOrderIM = e8Text(margin.orderImE8);
  }
  item.totalInitialMargin = e8Text(margin.positionImE8 + margin.orderImE8);
  item.totalAvailableBalance = e8Text(margin.availableE8 > 0n ? margin.availableE8 : 0n);
  return item;
}

function isItem(value: JsonValue | undefined): value is BybitItem {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function withoutCategory(item: BybitItem): BybitItem {
  const { category: _category, ...rest } = item;
  return rest;
}

/** value / qty on a grid `averageExtraDecimals` finer than the tick, half-even. */
function averagePriceText(instrument: Instrument, valueE8: number, lots: number): string {
  const scale = instrument.priceScale + averageExtraDecimals;
  const units = mulDivRoundHalfEven(valueE8, instrument.tickUnits * 10 ** averageExtraDecimals, lots * instrument.tickLotE8);
  return formatScaled(units, scale);
}
