// Vigil's reports back to Bybit v5 JSON: the inverse of the decoder, for the Bybit v5 emulator
// (which speaks the protocol over the sim venue) and for benchmarks that need real-shaped frames.
//
// Shapes follow the real payloads in test/fixtures/bybit-v5 for category linear, one-way mode:
// every field Bybit sends is present, numbers are decimal strings written from ticks, lots and
// E8 amounts (never floats), times are strings of ms, and positionIdx, seq, triggerDirection
// and smpGroup are JSON numbers, as the live API sends them.
//
// Invariants:
//  - decode(encode(x)) equals x for every x the decoder can produce (property-tested);
//  - fields Vigil does not model (fees per order, PnL, margin, leverage, mark price...) carry
//    neutral values ("0", "") for shape only: the emulator sets them where it knows better;
//  - an encoder is given consistent data by our own code: a report for an instrument missing
//    from `instruments` is a bug and throws (InvariantError), unlike the decoder.

import { assert } from '../../core/assert.ts';
import { formatScaled } from '../../core/decimal.ts';
import type { Fill, OrderReport, PositionReport, WalletReport } from '../../core/events.ts';
import type { Instrument } from '../../core/instrument.ts';
import { lotsToQty, notionalE8, ticksToPrice } from '../../core/instrument.ts';
import { moneyScale } from '../../core/money.ts';
import type { VenueOrderStatus } from '../../core/types.ts';
import type { Instruments } from './items.ts';
import { bybitOrderStatus, bybitOrderType, bybitSide, bybitStopOrderType, isOpenStatus } from './vocabulary.ts';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type BybitItem = { [key: string]: JsonValue };
export type BybitPrivateMessage = { id: string; topic: string; creationTime: number; data: BybitItem[] };
export type BybitTickerMessage = { topic: string; type: 'snapshot' | 'delta'; data: BybitItem; cs: number; ts: number };
export type BybitReply = { retCode: number; retMsg: string; result: BybitItem; retExtInfo: BybitItem; time: number };

export function encodeOrderMessage(
  reports: readonly OrderReport[], instruments: Instruments, creationTimeMs: number, id = `${creationTimeMs}-order`,
): BybitPrivateMessage {
  const data = reports.map((report) => encodeOrderItem(report, instrumentOf(instruments, report.symbol)));
  return { id, topic: 'order', creationTime: creationTimeMs, data };
}

/** Bybit's execution message id embeds the first fill's seq: `<n>_<symbol>_<seq>`. */
export function encodeExecutionMessage(fills: readonly Fill[], instruments: Instruments, creationTimeMs: number, id?: string): BybitPrivateMessage {
  const first = fills[0];
  const messageId = id ?? (first === undefined ? `${creationTimeMs}` : `${creationTimeMs}_${first.symbol}_${first.seq}`);
  const data = fills.map((fill) => encodeFillItem(fill, instrumentOf(instruments, fill.symbol)));
  return { id: messageId, topic: 'execution', creationTime: creationTimeMs, data };
}

export function encodePositionMessage(
  reports: readonly PositionReport[], instruments: Instruments, creationTimeMs: number, id = `${creationTimeMs}-position`,
): BybitPrivateMessage {
  const data = reports.map((report) => encodePositionItem(report, instrumentOf(instruments, report.symbol)));
  return { id, topic: 'position', creationTime: creationTimeMs, data };
}

/** A null price is left out: in a delta that means "unchanged", as on Bybit. `cs` is the cross sequence. */
export function encodeTickerMessage(
  symbol: string, lastTicks: number | null, markTicks: number | null, ts: number, instrument: Instrument, type: 'snapshot' | 'delta', cs = 0,
): BybitTickerMessage {
  assert(symbol === instrument.symbol, `ticker for ${symbol} encoded with instrument ${instrument.symbol}`);
  const data: BybitItem = { symbol };
  if (lastTicks !== null) data.lastPrice = ticksToPrice(instrument, lastTicks);
  if (markTicks !== null) data.markPrice = ticksToPrice(instrument, markTicks);
  return { topic: `tickers.${symbol}`, type, data, cs, ts };
}

/** A REST list reply (order/realtime, order/history, position/list, execution/list). */
/** A wallet push: one UNIFIED account whose only coin is the report's (Bybit sends every coin held). */
export function encodeWalletMessage(report: WalletReport, id = `${report.venueMs}-wallet`): BybitPrivateMessage {
  return { id, topic: 'wallet', creationTime: report.venueMs, data: [encodeWalletItem(report)] };
}

export function encodeWalletItem(report: WalletReport): BybitItem {
  const balance = e8Text(report.walletBalanceE8);
  const equity = e8Text(report.equityE8);
  return {
    accountType: 'UNIFIED', accountIMRate: '0', accountMMRate: '0', accountLTV: '0', totalEquity: equity, totalWalletBalance: balance,
    totalMarginBalance: equity, totalAvailableBalance: balance, totalPerpUPL: e8Text(report.unrealisedPnlE8), totalInitialMargin: '0', totalMaintenanceMargin: '0',
    coin: [{
      coin: report.coin, equity, usdValue: equity, walletBalance: balance, availableToWithdraw: '', availableToBorrow: '', borrowAmount: '0',
      accruedInterest: '0', totalOrderIM: '0', totalPositionIM: '0', totalPositionMM: '0', unrealisedPnl: e8Text(report.unrealisedPnlE8),
      cumRealisedPnl: '0', bonus: '0', collateralSwitch: true, marginCollateral: true, locked: '0', spotHedgingQty: '0',
    }],
  };
}

export function encodeListReply(list: BybitItem[], cursor: string | null, timeMs: number): BybitReply {
  return { retCode: 0, retMsg: 'OK', result: { nextPageCursor: cursor ?? '', category: 'linear', list }, retExtInfo: {}, time: timeMs };
}

export function encodeOrderItem(report: OrderReport, instrument: Instrument): BybitItem {
  const price = report.priceTicks === null ? '0' : ticksToPrice(instrument, report.priceTicks);
  const leavesLots = isOpenStatus(report.status) ? Math.max(0, report.sizeLots - report.filledLots) : 0;
  const valueAt = (lotsAtPrice: number): string => (report.priceTicks === null ? '0' : e8Text(notionalE8(instrument, report.priceTicks, lotsAtPrice)));
  const hasTrigger = report.triggerTicks !== null;
  const { rejectReason, cancelType } = reasonFields(report.status, report.reason);
  const updatedTime = String(report.venueUpdatedMs);
  return {
    category: 'linear', symbol: report.symbol, orderId: report.venueOrderId, orderLinkId: report.clientOrderId ?? '', blockTradeId: '',
    side: bybitSide(report.side), positionIdx: 0, orderStatus: bybitOrderStatus(report.status), createType: 'CreateByUser',
    cancelType, rejectReason, orderType: bybitOrderType(report.orderKind), timeInForce: report.orderKind === 'limit' ? 'GTC' : 'IOC',
    price, qty: lotsToQty(instrument, report.sizeLots), avgPrice: report.filledLots > 0 && report.priceTicks !== null ? price : '',
    leavesQty: lotsToQty(instrument, leavesLots), leavesValue: valueAt(leavesLots),
    cumExecQty: lotsToQty(instrument, report.filledLots), cumExecValue: valueAt(report.filledLots), cumExecFee: '0', closedPnl: '0',
    stopOrderType: bybitStopOrderType(report.positionTrigger, hasTrigger),
    triggerPrice: report.triggerTicks === null ? '' : ticksToPrice(instrument, report.triggerTicks),
    triggerDirection: 0, triggerBy: hasTrigger ? 'LastPrice' : '',
    takeProfit: report.takeProfitTicks === null ? '' : ticksToPrice(instrument, report.takeProfitTicks),
    stopLoss: report.stopLossTicks === null ? '' : ticksToPrice(instrument, report.stopLossTicks),
    tpTriggerBy: '', slTriggerBy: '', tpLimitPrice: '', slLimitPrice: '', tpslMode: report.stopLossTicks === null && report.takeProfitTicks === null ? '' : 'Full',
    lastPriceOnCreated: '', reduceOnly: report.reduceOnly, closeOnTrigger: false, orderIv: '', marketUnit: '', placeType: '',
    smpType: 'None', smpGroup: 0, smpOrderId: '', feeCurrency: '', cumFeeDetail: {},
    slippageToleranceType: 'UNKNOWN', slippageTolerance: '0', createdTime: updatedTime, updatedTime,
  };
}

/**
 * The inverse of the decoder's reason rule: Bybit's error codes (EC_...) go to rejectReason; a
 * cancel's other reasons (CancelByUser, ...) to cancelType; anything else to rejectReason.
 */
function reasonFields(status: VenueOrderStatus, reason: string | null): { readonly rejectReason: string; readonly cancelType: string } {
  if (reason === null) return { rejectReason: 'EC_NoError', cancelType: 'UNKNOWN' };
  if (status === 'cancelled' && !reason.startsWith('EC_')) return { rejectReason: 'EC_NoError', cancelType: reason };
  return { rejectReason: reason, cancelType: 'UNKNOWN' };
}

export function encodeFillItem(fill: Fill, instrument: Instrument): BybitItem {
  const execPrice = ticksToPrice(instrument, fill.priceTicks);
  const execQty = lotsToQty(instrument, fill.lots);
  return {
    category: 'linear', symbol: fill.symbol, closedSize: '0', execFee: e8Text(fill.feeE8), execId: fill.executionId,
    execPrice, execQty, execType: 'Trade', execValue: e8Text(notionalE8(instrument, fill.priceTicks, fill.lots)),
    feeRate: '', tradeIv: '', markIv: '', blockTradeId: '', markPrice: execPrice, indexPrice: '', underlyingPrice: '', leavesQty: '0',
    orderId: fill.venueOrderId, orderLinkId: fill.clientOrderId ?? '', orderPrice: execPrice, orderQty: execQty,
    orderType: fill.liquidity === 'maker' ? 'Limit' : 'Market', stopOrderType: fill.positionTrigger === null ? 'UNKNOWN' : bybitStopOrderType(fill.positionTrigger, true),
    side: bybitSide(fill.side),
    execTime: String(fill.venueMs), isLeverage: '0', isMaker: fill.liquidity === 'maker', seq: fill.seq, marketUnit: '',
    execPnl: '0', createType: 'CreateByUser', extraFees: [], feeCurrency: 'USDT',
  };
}

/** The position stream's shape (entryPrice; REST position/list calls it avgPrice). */
export function encodePositionItem(report: PositionReport, instrument: Instrument): BybitItem {
  const updatedTime = String(report.venueUpdatedMs);
  return {
    positionIdx: 0, tradeMode: 0, riskId: 1, riskLimitValue: '2000000', symbol: report.symbol,
    side: report.sizeLots > 0 ? 'Buy' : report.sizeLots < 0 ? 'Sell' : '', size: lotsToQty(instrument, Math.abs(report.sizeLots)),
    entryPrice: report.entryPrice, leverage: '10', breakEvenPrice: report.entryPrice, positionValue: '0', positionBalance: '0', markPrice: '',
    positionIM: '0', positionIMByMp: '0', positionMM: '0', positionMMByMp: '0',
    takeProfit: report.takeProfitTicks === null ? '0' : ticksToPrice(instrument, report.takeProfitTicks),
    stopLoss: report.stopLossTicks === null ? '0' : ticksToPrice(instrument, report.stopLossTicks),
    trailingStop: report.trailingTicks === null ? '0' : ticksToPrice(instrument, report.trailingTicks), unrealisedPnl: '0', curRealisedPnl: '0', cumRealisedPnl: '0', sessionAvgPrice: '0',
    createdTime: updatedTime, updatedTime, tpslMode: 'Full', liqPrice: '', bustPrice: '', category: 'linear', positionStatus: 'Normal',
    adlRankIndicator: report.sizeLots === 0 ? 0 : 2, autoAddMargin: 0, leverageSysUpdatedTime: '', mmrSysUpdatedTime: '',
    seq: report.seq, isReduceOnly: false,
  };
}

function e8Text(amountE8: number): string {
  return formatScaled(amountE8, moneyScale);
}

function instrumentOf(instruments: Instruments, symbol: string): Instrument {
  const instrument = instruments.get(symbol);
  assert(instrument !== undefined, `no instrument ${symbol} to encode with`);
  return instrument;
}
