// The emulator's read endpoints (GET): market time, instruments, tickers, and the account's
// positions, orders, executions and wallet, with Bybit's filters, limits and cursor paging.
//
//   /v5/market/instruments-info  category linear (others: empty); status PreLaunch: empty; limit <= 1000, cursor
//   /v5/position/list            settleCoin: non-flat rows only; symbol: the row even when flat; inverse: empty; limit <= 200 (20)
//   /v5/order/realtime           symbol, baseCoin or settleCoin; openOnly 0 open, 1 the last 500 closed; orderId / orderLinkId
//                                find any order among the open and the last 500 closed; limit <= 50 (20); newest first;
//                                a restart of Bybit's service (restartService) empties its closed orders
//   /v5/order/history            every order, newest first; orderStatus, startTime / endTime on creation; limit <= 50 (20)
//   /v5/execution/list           fills, newest first; execType Trade (Funding: none, funding is not modelled); limit <= 100 (50);
//                                seven days at most: startTime alone is the seven days after it, endTime alone the seven
//                                before it, neither the last seven, both further apart refused (10001; the text is ours)
//   /v5/account/wallet-balance   accountType UNIFIED only
//
// Invariants: a read never changes the venue; every list carries `category` and a `nextPageCursor`.

import type { Fill } from '../core/events.ts';
import type { Instrument } from '../core/instrument.ts';
import { bybitOrderStatus } from '../venues/bybit/vocabulary.ts';
import type { Exchange } from './exchange.ts';
import type { PublicOrder } from './orders.ts';
import { isWorkingOrder } from './orders.ts';
import { pageAfter } from './pages.ts';
import type { ParamSource } from './params.ts';
import { boundedInt, categoryOf, linearOnly, optionalInstrument, optionalText, optionalTimeMs, requiredText } from './params.ts';
import type { Outcome } from './replies.ts';
import { badParam, success } from './replies.ts';
import { instrumentItem, restFillItem, restOrderItem, restPositionItem, tickerItem } from './shapes.ts';

/** Bybit's realtime endpoint sees closed orders only this far back. */
const closedOrdersVisible = 500;

export function serverTime(_ex: Exchange, _params: ParamSource, nowMs: number): Outcome {
  return success({ timeSecond: String(Math.floor(nowMs / 1000)), timeNano: `${nowMs}000000` });
}

export function instrumentsInfo(ex: Exchange, params: ParamSource): Outcome {
  const category = categoryOf(params);
  const status = optionalText(params, 'status');
  const limit = boundedInt(params, 'limit', 500, 1, 1000);
  const symbol = optionalText(params, 'symbol');
  const listed = category === 'linear' && (status === '' || status === 'Trading')
    ? ex.listedInstruments().filter((instrument) => symbol === '' || instrument.symbol === symbol)
    : [];
  const ranks = rankMap(listed);
  const page = pageAfter(listed, (instrument) => ranks.get(instrument.symbol) ?? 0, optionalText(params, 'cursor'), limit, false);
  return success({ category, list: page.items.map(instrumentItem), nextPageCursor: page.nextPageCursor });
}

export function tickers(ex: Exchange, params: ParamSource): Outcome {
  linearOnly(params);
  const chosen = optionalInstrument(params, ex.instruments);
  const listed = chosen === null ? [...ex.instruments.values()] : [chosen];
  return success({ category: 'linear', list: listed.map((instrument) => tickerItem(instrument, ex.quote(instrument.symbol))) });
}

export function positionList(ex: Exchange, params: ParamSource): Outcome {
  const category = categoryOf(params);
  const limit = boundedInt(params, 'limit', 20, 1, 200);
  if (category === 'inverse') return success({ category, list: [], nextPageCursor: '' }); // nothing is inverse here; ccxt asks anyway
  if (category !== 'linear') badParam(`params error: category ${category} is not supported`);
  const chosen = optionalInstrument(params, ex.instruments);
  const settleCoin = optionalText(params, 'settleCoin');
  if (chosen === null && settleCoin === '' && optionalText(params, 'baseCoin') === '') badParam('Missing some parameters that must be filled in: symbol or settleCoin');
  const instruments = [...ex.instruments.values()];
  const listed = chosen !== null
    ? [chosen]
    : settleCoin !== '' && settleCoin !== 'USDT' ? [] : instruments.filter((instrument) => ex.account.position(instrument.symbol).sizeLots !== 0);
  const ranks = rankMap(instruments);
  const page = pageAfter(listed, (instrument) => ranks.get(instrument.symbol) ?? 0, optionalText(params, 'cursor'), limit, false);
  const list = page.items.map((instrument) => {
    const report = ex.account.position(instrument.symbol);
    return restPositionItem(report, instrument, ex.positionContext(report), ex.unrealisedPnlE8(instrument.symbol));
  });
  return success({ category, list, nextPageCursor: page.nextPageCursor });
}

export function openOrders(ex: Exchange, params: ParamSource): Outcome {
  linearOnly(params);
  const inScope = scopeOf(ex, params, true);
  const orderId = optionalText(params, 'orderId');
  const orderLinkId = optionalText(params, 'orderLinkId');
  const openOnly = boundedInt(params, 'openOnly', 0, 0, 2);
  const limit = boundedInt(params, 'limit', 20, 1, 50);
  const newestFirst = [...ex.orders.all()].reverse().filter(inScope).filter(orderFilterOf(params));
  const open = newestFirst.filter(isWorkingOrder);
  const closed = newestFirst.filter((order) => !isWorkingOrder(order) && !ex.orders.closedBeforeRestart.has(order)).slice(0, closedOrdersVisible);
  // A lookup by id covers open and recently closed orders alike (openOnly is ignored).
  const listed = orderId !== '' || orderLinkId !== ''
    ? [...open, ...closed].filter((order) => (orderId === '' || order.orderId === orderId) && (orderLinkId === '' || order.orderLinkId === orderLinkId))
    : openOnly === 0 ? open : closed;
  return orderPage(ex, listed, params, limit);
}

export function orderHistory(ex: Exchange, params: ParamSource): Outcome {
  linearOnly(params);
  const inScope = scopeOf(ex, params, false);
  const orderId = optionalText(params, 'orderId');
  const orderLinkId = optionalText(params, 'orderLinkId');
  const status = optionalText(params, 'orderStatus');
  const startMs = optionalTimeMs(params, 'startTime');
  const endMs = optionalTimeMs(params, 'endTime');
  const limit = boundedInt(params, 'limit', 20, 1, 50);
  const listed = [...ex.orders.all()].reverse().filter(inScope).filter(orderFilterOf(params)).filter((order) =>
    (orderId === '' || order.orderId === orderId) && (orderLinkId === '' || order.orderLinkId === orderLinkId)
    && (status === '' || bybitOrderStatus(order.report.status) === status)
    && (startMs === null || order.createdMs >= startMs) && (endMs === null || order.createdMs <= endMs));
  return orderPage(ex, listed, params, limit);
}

/** The longest span execution/list answers, from startTime to endTime. */
const executionWindowMs = 7 * 24 * 3_600_000;

export function executionList(ex: Exchange, params: ParamSource, nowMs: number): Outcome {
  linearOnly(params);
  const chosen = optionalInstrument(params, ex.instruments);
  const orderId = optionalText(params, 'orderId');
  const orderLinkId = optionalText(params, 'orderLinkId');
  const execType = optionalText(params, 'execType');
  const startTime = optionalTimeMs(params, 'startTime');
  const endTime = optionalTimeMs(params, 'endTime');
  if (startTime !== null && endTime !== null && endTime - startTime > executionWindowMs) badParam('params error: the time between startTime and endTime must be 7 days or less');
  const startMs = startTime ?? (endTime ?? nowMs) - executionWindowMs;
  const endMs = endTime ?? (startTime === null ? nowMs : startTime + executionWindowMs);
  const limit = boundedInt(params, 'limit', 50, 1, 100);
  // Every execution the venue makes is a Trade: funding, liquidations and ADL are not modelled.
  const fills = execType !== '' && execType !== 'Trade' ? [] : ex.venue.fills().map((fill) => ex.orders.publicFill(fill));
  const listed = fills.filter((fill) =>
    (chosen === null || fill.symbol === chosen.symbol) && (orderId === '' || fill.venueOrderId === orderId)
    && (orderLinkId === '' || fill.clientOrderId === orderLinkId) && fill.venueMs >= startMs && fill.venueMs <= endMs).reverse();
  const page = pageAfter(listed, executionRank, optionalText(params, 'cursor'), limit, true);
  const list = page.items.map((fill) => restFillItem(fill, ex.instrument(fill.symbol), ex.orders.find({ orderId: fill.venueOrderId }), ex.feeRateE8(fill)));
  return success({ category: 'linear', list, nextPageCursor: page.nextPageCursor });
}

export function walletBalance(ex: Exchange, params: ParamSource, nowMs: number): Outcome {
  const accountType = requiredText(params, 'accountType');
  if (accountType !== 'UNIFIED') badParam(`accountType only support UNIFIED, got ${accountType}`);
  return success({ list: [ex.walletItem(nowMs)] });
}

function orderPage(ex: Exchange, listed: readonly PublicOrder[], params: ParamSource, limit: number): Outcome {
  const page = pageAfter(listed, (order) => order.rank, optionalText(params, 'cursor'), limit, true);
  const list = page.items.map((order) => restOrderItem(order, ex.instrument(order.report.symbol)));
  return success({ category: 'linear', list, nextPageCursor: page.nextPageCursor });
}

/** symbol, baseCoin or settleCoin; order/realtime needs one of them for linear, order/history none. */
function scopeOf(ex: Exchange, params: ParamSource, required: boolean): (order: PublicOrder) => boolean {
  const chosen = optionalInstrument(params, ex.instruments);
  const baseCoin = optionalText(params, 'baseCoin');
  const settleCoin = optionalText(params, 'settleCoin');
  if (required && chosen === null && baseCoin === '' && settleCoin === '') badParam('Missing some parameters that must be filled in: symbol or settleCoin or baseCoin');
  return (order) => (chosen === null || order.report.symbol === chosen.symbol)
    && (baseCoin === '' || order.report.symbol === `${baseCoin}USDT`) && (settleCoin === '' || settleCoin === 'USDT');
}

/** orderFilter: Order (not conditional), StopOrder (conditional, untriggered), tpslOrder (none here). */
function orderFilterOf(params: ParamSource): (order: PublicOrder) => boolean {
  const filter = optionalText(params, 'orderFilter');
  switch (filter) {
    case '': return () => true;
    case 'Order': return (order) => order.report.orderKind !== 'stop-market';
    case 'StopOrder': return (order) => order.report.orderKind === 'stop-market';
    case 'tpslOrder': case 'OcoOrder': case 'BidirectionalTpslOrder': return () => false;
    default: return badParam(`params error: orderFilter ${filter} is not supported`);
  }
}

/** The venue's execution ids count up (`x<n>`): n orders them. */
function executionRank(fill: Fill): number {
  return Number(fill.executionId.slice(1));
}

function rankMap(instruments: readonly Instrument[]): ReadonlyMap<string, number> {
  return new Map(instruments.map((instrument, index) => [instrument.symbol, index + 1]));
}
