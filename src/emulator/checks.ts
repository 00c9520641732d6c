// Checks shared by the emulator's order endpoints (create and amend): Bybit's checks that need the
// market and the account, in Bybit's order (the price band 110003, a trigger already crossed
// 110092 / 110093, the minimum notional 110094, the balance 110007), finding the working order a
// request names (110001), and the parameters SimVenue cannot honour (refused, never ignored).
//
// Invariants: a check only reads; it refuses by throwing RequestError (replies.ts).

import type { Instrument } from '../core/instrument.ts';
import { ticksToPrice } from '../core/instrument.ts';
import type { OrderSpec, Side } from '../core/types.ts';
import type { Exchange } from './exchange.ts';
import type { OrderExtras, OrderLookup, PublicOrder } from './orders.ts';
import { isWorkingOrder } from './orders.ts';
import type { ParamSource } from './params.ts';
import { optionalText } from './params.ts';
import { badParam, refuse, retCodes } from './replies.ts';
import { e8Text, maxPriceTicks } from './shapes.ts';

/** How far a limit price may sit beyond the mark on its aggressive side (the emulator's price band): 10 %. */
const priceBandPercent = 10;

/**
 * Bybit's checks that need the market and the account, in its order: the price band (110003), the
 * trigger already crossed (110092 / 110093), the minimum notional (110094), the balance (110007).
 */
export function checkSpec(ex: Exchange, instrument: Instrument, spec: OrderSpec, extras: OrderExtras, checkBalance: boolean): void {
  const prices = ex.venue.price(spec.symbol);
  const { type } = spec;
  if (type.kind === 'limit') checkPriceBand(type.priceTicks, spec.side, prices?.markTicks ?? null);
  if (type.kind === 'stop-market' && prices !== null) {
    const currentTicks = type.triggerBy === 'mark' ? prices.markTicks : prices.lastTicks;
    const word = type.triggerBy === 'mark' ? 'MarkPrice' : 'LastPrice';
    const [price, current] = [ticksToPrice(instrument, type.triggerTicks), ticksToPrice(instrument, currentTicks)];
    if (extras.triggerDirection === 1 && type.triggerTicks <= currentTicks) refuse(retCodes.expectRising, `expect Rising, but trigger_price[${price}] <= current[${current}]??${word}`);
    if (extras.triggerDirection === 2 && type.triggerTicks >= currentTicks) refuse(retCodes.expectFalling, `expect Falling, but trigger_price[${price}] >= current[${current}]??${word}`);
  }
  const referenceTicks = type.kind === 'limit' ? type.priceTicks : type.kind === 'stop-market' ? type.triggerTicks : prices?.lastTicks ?? null;
  if (referenceTicks === null) badParam(`params error: no price yet for ${spec.symbol}`);
  const notional = ex.account.notionalE8(spec.symbol, referenceTicks, spec.sizeLots);
  if (!spec.reduceOnly && notional < BigInt(instrument.minNotionalE8)) {
    refuse(retCodes.minNotional, `Order does not meet minimum order value ${e8Text(instrument.minNotionalE8)}USDT`);
  }
  if (spec.reduceOnly || !checkBalance) return;
  const addingLots = ex.account.addingLots(spec.symbol, spec.side, spec.sizeLots);
  if (addingLots === 0) return;
  const wallet = ex.venue.wallet(0);
  const { availableE8 } = ex.account.margin(wallet, (symbol) => ex.markTicks(symbol), ex.openOrders());
  if (ex.account.marginE8(spec.symbol, ex.account.notionalE8(spec.symbol, referenceTicks, addingLots)) > availableE8) {
    refuse(retCodes.insufficientBalance, 'ab not enough for new order');
  }
}

function checkPriceBand(limitTicks: number, side: Side, markTicks: number | null): void {
  if (limitTicks > maxPriceTicks) refuse(retCodes.priceInvalid, 'price is invalid');
  if (markTicks === null) return;
  const beyond = side === 'buy'
    ? limitTicks * 100 > markTicks * (100 + priceBandPercent)
    : limitTicks * 100 < markTicks * (100 - priceBandPercent);
  if (beyond) refuse(retCodes.priceInvalid, 'price is invalid');
}

/** The working order named by orderId or orderLinkId, of this symbol; 110001 otherwise. */
export function workingOrder(ex: Exchange, params: ParamSource, instrument: Instrument, notFound: string): PublicOrder {
  const orderId = optionalText(params, 'orderId');
  const orderLinkId = optionalText(params, 'orderLinkId');
  if (orderId === '' && orderLinkId === '') badParam('Missing some parameters that must be filled in: orderId or orderLinkId');
  const lookup: OrderLookup = orderId !== '' ? { orderId } : { orderLinkId };
  const order = ex.orders.find(lookup);
  if (order === undefined || order.report.symbol !== instrument.symbol || !isWorkingOrder(order)) refuse(retCodes.orderNotFound, notFound);
  return order;
}

export function onewayIndex(params: ParamSource): void {
  const index = optionalText(params, 'positionIdx');
  if (index !== '' && index !== '0') badParam('position idx not match position mode');
}

/** Attached or position TP/SL as SimVenue has it: Full mode, market exits. */
export function fullTpslOnly(params: ParamSource): void {
  const mode = optionalText(params, 'tpslMode');
  if (mode !== '' && mode !== 'Full') badParam(`params error: tpslMode ${mode} is not supported by the emulator (Full only)`);
  for (const name of ['slOrderType', 'tpOrderType']) {
    const type = optionalText(params, name);
    if (type !== '' && type !== 'Market') badParam(`params error: ${name} ${type} is not supported by the emulator (Market only)`);
  }
}
