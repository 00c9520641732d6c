// The emulator's order endpoints (POST): order create, cancel and cancel-all, each read as Bybit
// reads it, checked with Bybit's codes (checks.ts), and acted on the simulated venue through
// `Exchange.act`. Amend is in amend.ts, the position endpoints in position.ts.
//
// What SimVenue cannot do is refused with 10001 and a text that names the emulator, never
// silently ignored: a conditional limit order, a trigger direction against the side (a buy that
// waits for a fall), limit IOC/FOK, hedge mode (positionIdx 1 or 2), partial TP/SL and limit
// TP/SL orders.
//
// Invariants: a refused request changes nothing and pushes nothing; an accepted one pushes its
// order, executions, position and wallet facts (and a position message even when nothing filled,
// as Bybit does) before its reply is written.

import { isValidClientOrderId } from '../core/ids.ts';
import type { Instrument } from '../core/instrument.ts';
import type { OrderSpec, OrderType, Side, Trigger } from '../core/types.ts';
import { checkSpec, fullTpslOnly, onewayIndex, workingOrder } from './checks.ts';
import type { Exchange } from './exchange.ts';
import type { OrderExtras, TimeInForce } from './orders.ts';
import { isWorkingOrder } from './orders.ts';
import type { ParamSource } from './params.ts';
import { instrumentParam, linearOnly, optionalBool, optionalText, priceChange, priceTicks, qtyLots, requiredText, triggerByParam } from './params.ts';
import type { Outcome } from './replies.ts';
import { badParam, refuse, rejectionOutcome, retCodes, success } from './replies.ts';

export function createOrder(ex: Exchange, params: ParamSource, nowMs: number): Outcome {
  linearOnly(params);
  const instrument = instrumentParam(params, ex.instruments);
  const orderLinkId = linkIdParam(params);
  const spec = orderSpecOf(instrument, params);
  const extras = extrasOf(ex, spec, params);
  checkSpec(ex, instrument, spec, extras, true);
  if (orderLinkId !== null && ex.orders.find({ orderLinkId }) !== undefined) refuse(retCodes.duplicateLinkId, 'OrderLinkedID is duplicate');
  const result = ex.act((venue) => {
    ex.orders.expectCreate(extras);
    return venue.submitOrder(nowMs, orderLinkId, spec);
  });
  if (!result.ok) return rejectionOutcome(result.code, result.reason);
  ex.pushPosition(spec.symbol);
  return success({ orderId: result.venueOrderId, orderLinkId: orderLinkId ?? '' });
}

export function cancelOrder(ex: Exchange, params: ParamSource, nowMs: number): Outcome {
  linearOnly(params);
  const instrument = instrumentParam(params, ex.instruments);
  const order = workingOrder(ex, params, instrument, 'order not exists or too late to cancel');
  const result = ex.act((venue) => venue.cancelOrder(nowMs, { venueOrderId: order.venueOrderId }));
  if (!result.ok) return rejectionOutcome(result.code, result.reason);
  ex.pushPosition(instrument.symbol);
  return success({ orderId: order.orderId, orderLinkId: order.orderLinkId ?? '' });
}

/** cancel-all by symbol or settleCoin (USDT); orderFilter Order or StopOrder narrows it. */
export function cancelAllOrders(ex: Exchange, params: ParamSource, nowMs: number): Outcome {
  linearOnly(params);
  const symbol = optionalText(params, 'symbol');
  const settleCoin = optionalText(params, 'settleCoin');
  if (symbol === '' && settleCoin === '' && optionalText(params, 'baseCoin') === '') badParam('Missing some parameters that must be filled in: symbol or settleCoin or baseCoin');
  if (symbol !== '' && !ex.instruments.has(symbol)) badParam('Not supported symbols');
  const filter = optionalText(params, 'orderFilter');
  const baseCoin = optionalText(params, 'baseCoin');
  if (settleCoin !== '' && settleCoin !== 'USDT') return success({ list: [], success: '1' }); // nothing settles in another coin here
  const chosen = ex.orders.all().filter((order) => isWorkingOrder(order)
    && (symbol === '' || order.report.symbol === symbol)
    && (baseCoin === '' || order.report.symbol === `${baseCoin}USDT`)
    && (filter === '' || (filter === 'StopOrder') === (order.report.status === 'untriggered')));
  // All cancels first (one order message), then one position message per symbol.
  for (const order of chosen) ex.act((venue) => venue.cancelOrder(nowMs, { venueOrderId: order.venueOrderId }));
  for (const symbolTouched of new Set(chosen.map((order) => order.report.symbol))) ex.pushPosition(symbolTouched);
  return success({ list: chosen.map((order) => ({ orderId: order.orderId, orderLinkId: order.orderLinkId ?? '' })), success: '1' });
}

function linkIdParam(params: ParamSource): string | null {
  const orderLinkId = optionalText(params, 'orderLinkId');
  if (orderLinkId === '') return null;
  if (!isValidClientOrderId(orderLinkId)) badParam(`params error: orderLinkId must be 1 to 36 characters of [A-Za-z0-9_-]: ${orderLinkId}`);
  return orderLinkId;
}

function sideParam(params: ParamSource): Side {
  const word = requiredText(params, 'side');
  return word === 'Buy' ? 'buy' : word === 'Sell' ? 'sell' : badParam(`params error: side must be Buy or Sell, got ${word}`);
}

function timeInForceOf(params: ParamSource, orderType: string): TimeInForce {
  const word = optionalText(params, 'timeInForce');
  if (orderType === 'Market') return 'IOC'; // Bybit: market orders are always IOC
  switch (word) {
    case '': case 'GTC': return 'GTC';
    case 'PostOnly': return 'PostOnly';
    case 'IOC': case 'FOK': return badParam(`params error: timeInForce ${word} is not supported by the emulator for limit orders`);
    default: return badParam(`params error: timeInForce must be GTC, IOC, FOK or PostOnly, got ${word}`);
  }
}

function orderSpecOf(instrument: Instrument, params: ParamSource): OrderSpec {
  onewayIndex(params);
  const side = sideParam(params);
  const orderType = requiredText(params, 'orderType');
  if (orderType !== 'Market' && orderType !== 'Limit') badParam(`params error: orderType must be Market or Limit, got ${orderType}`);
  const triggerText = optionalText(params, 'triggerPrice');
  if (orderType === 'Limit' && triggerText !== '') badParam('params error: conditional limit orders are not supported by the emulator');
  const type: OrderType = triggerText !== ''
    ? { kind: 'stop-market', triggerTicks: priceTicks(instrument, triggerText, 'triggerPrice'), triggerBy: triggerByParam(params, 'triggerBy') ?? 'last' }
    : orderType === 'Limit'
      ? { kind: 'limit', priceTicks: priceTicks(instrument, requiredText(params, 'price'), 'price'), postOnly: timeInForceOf(params, orderType) === 'PostOnly' }
      : { kind: 'market' };
  const maxLots = type.kind === 'limit' ? instrument.maxLots : instrument.maxMarketLots;
  const spec: OrderSpec = { symbol: instrument.symbol, side, sizeLots: qtyLots(instrument, requiredText(params, 'qty'), 'qty', maxLots), reduceOnly: optionalBool(params, 'reduceOnly') ?? false, type };
  return withAttached(instrument, spec, params);
}

function withAttached(instrument: Instrument, spec: OrderSpec, params: ParamSource): OrderSpec {
  fullTpslOnly(params);
  const stopLoss = attachedTrigger(instrument, params, 'stopLoss', 'slTriggerBy');
  const takeProfit = attachedTrigger(instrument, params, 'takeProfit', 'tpTriggerBy');
  return { ...spec, ...(stopLoss === null ? {} : { stopLoss }), ...(takeProfit === null ? {} : { takeProfit }) };
}

function attachedTrigger(instrument: Instrument, params: ParamSource, name: string, byName: string): Trigger | null {
  const ticks = priceChange(instrument, params, name);
  return ticks === undefined || ticks === null ? null : { triggerTicks: ticks, triggerBy: triggerByParam(params, byName) ?? 'last' };
}

function extrasOf(ex: Exchange, spec: OrderSpec, params: ParamSource): OrderExtras {
  const { type } = spec;
  let triggerDirection: 0 | 1 | 2 = 0;
  if (type.kind === 'stop-market') {
    const direction = optionalText(params, 'triggerDirection');
    if (direction !== '1' && direction !== '2') badParam('params error: triggerDirection must be 1 (rise) or 2 (fall) for a conditional order');
    triggerDirection = direction === '1' ? 1 : 2;
    // SimVenue's stop-market buys on a rise and sells on a fall; the other two are take-profit style triggers it lacks.
    if ((triggerDirection === 1) !== (spec.side === 'buy')) badParam('params error: a conditional buy that waits for a fall (or a sell for a rise) is not supported by the emulator');
  }
  return {
    timeInForce: timeInForceOf(params, type.kind === 'limit' ? 'Limit' : 'Market'),
    triggerDirection,
    triggerBy: type.kind === 'stop-market' ? type.triggerBy : null,
    slTriggerBy: spec.stopLoss?.triggerBy ?? null,
    tpTriggerBy: spec.takeProfit?.triggerBy ?? null,
    lastPriceOnCreatedTicks: ex.venue.price(spec.symbol)?.lastTicks ?? null,
    createType: 'CreateByUser',
  };
}
