// The emulator's REST routes: path, method, whether the request must be signed, and the handler.
// Anything else is HTTP 404, as on Bybit.
//
// Invariants: every private route has a per-UID rate limit in limits.ts (`bybitLimits`); public
// market routes are unsigned and unlimited.

import type { Exchange } from './exchange.ts';
import type { ParamSource } from './params.ts';
import { executionList, instrumentsInfo, openOrders, orderHistory, positionList, serverTime, tickers, walletBalance } from './queries.ts';
import type { Outcome } from './replies.ts';
import { amendOrder } from './amend.ts';
import { setLeverage, tradingStop } from './position.ts';
import { cancelAllOrders, cancelOrder, createOrder } from './trading.ts';

export type Handler = (ex: Exchange, params: ParamSource, nowMs: number) => Outcome;

export type Route = { readonly method: 'GET' | 'POST'; readonly signed: boolean; readonly handle: Handler };

export const routes: ReadonlyMap<string, Route> = new Map<string, Route>([
  ['/v5/market/time', { method: 'GET', signed: false, handle: serverTime }],
  ['/v5/market/instruments-info', { method: 'GET', signed: false, handle: instrumentsInfo }],
  ['/v5/market/tickers', { method: 'GET', signed: false, handle: tickers }],
  ['/v5/position/list', { method: 'GET', signed: true, handle: positionList }],
  ['/v5/order/realtime', { method: 'GET', signed: true, handle: openOrders }],
  ['/v5/order/history', { method: 'GET', signed: true, handle: orderHistory }],
  ['/v5/execution/list', { method: 'GET', signed: true, handle: executionList }],
  ['/v5/account/wallet-balance', { method: 'GET', signed: true, handle: walletBalance }],
  ['/v5/order/create', { method: 'POST', signed: true, handle: createOrder }],
  ['/v5/order/amend', { method: 'POST', signed: true, handle: amendOrder }],
  ['/v5/order/cancel', { method: 'POST', signed: true, handle: cancelOrder }],
  ['/v5/order/cancel-all', { method: 'POST', signed: true, handle: cancelAllOrders }],
  ['/v5/position/trading-stop', { method: 'POST', signed: true, handle: tradingStop }],
  ['/v5/position/set-leverage', { method: 'POST', signed: true, handle: setLeverage }],
]);
