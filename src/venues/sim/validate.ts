// Validation of an order create, as Bybit answers it over REST before the order exists. A refused
// create emits nothing on the stream; the caller gets the code and a reason.
//
// Checks run in a fixed order (parameters, then ids, then state-dependent rules), so the same
// request in the same venue state is always refused for the same reason.

import { isValidClientOrderId } from '../../core/ids.ts';
import type { Instrument } from '../../core/instrument.ts';
import { notionalE8 } from '../../core/instrument.ts';
import type { OrderSpec, Side, Trigger } from '../../core/types.ts';
import { assertNever } from '../../core/assert.ts';
import { isTriggerCrossed, priceBy, reducibleLots } from './matching.ts';
import type { Prices, Rejection } from './types.ts';

export type SubmitState = {
  readonly instrument: Instrument | undefined;
  readonly prices: Prices | null;
  readonly positionLots: number;
  readonly clientOrderIdTaken: boolean;
};

export function validateSubmit(state: SubmitState, clientOrderId: string | null, spec: OrderSpec): Rejection | null {
  const { instrument } = state;
  if (instrument === undefined) return invalid(`unknown symbol ${spec.symbol}`);
  return (
    checkClientOrderId(state, clientOrderId) ??
    checkNumbers(spec) ??
    checkSize(instrument, spec) ??
    checkMarketPrice(state, spec) ??
    checkMinNotional(state, instrument, spec) ??
    checkReduceOnly(state, spec) ??
    checkStopTrigger(state, spec) ??
    checkAttached(state, spec)
  );
}

function invalid(reason: string): Rejection {
  return { ok: false, code: 'invalid', reason };
}

function isPositiveInteger(value: number): boolean {
  return Number.isSafeInteger(value) && value > 0;
}

function checkClientOrderId(state: SubmitState, clientOrderId: string | null): Rejection | null {
  if (clientOrderId === null) return null;
  if (!isValidClientOrderId(clientOrderId)) return invalid(`client order id must be 1..36 of [A-Za-z0-9_-]: ${clientOrderId}`);
  // Bybit 110072: an order link id is never reused, whatever became of the first order.
  if (state.clientOrderIdTaken) return { ok: false, code: 'duplicate-id', reason: `OrderLinkedID is duplicate: ${clientOrderId}` };
  return null;
}

function checkNumbers(spec: OrderSpec): Rejection | null {
  if (!isPositiveInteger(spec.sizeLots)) return invalid(`size must be a positive whole number of lots: ${spec.sizeLots}`);
  const { type } = spec;
  if (type.kind === 'limit' && !isPositiveInteger(type.priceTicks)) return invalid(`limit price must be positive ticks: ${type.priceTicks}`);
  if (type.kind === 'stop-market' && !isPositiveInteger(type.triggerTicks)) return invalid(`trigger must be positive ticks: ${type.triggerTicks}`);
  for (const trigger of [spec.stopLoss, spec.takeProfit]) {
    if (trigger !== undefined && !isPositiveInteger(trigger.triggerTicks)) return invalid(`attached trigger must be positive ticks: ${trigger.triggerTicks}`);
  }
  return null;
}

function checkSize(instrument: Instrument, spec: OrderSpec): Rejection | null {
  // Bybit's maxMktOrderQty applies to every order that executes as market, conditional ones too.
  const maxLots = spec.type.kind === 'limit' ? instrument.maxLots : instrument.maxMarketLots;
  if (spec.sizeLots < instrument.minLots) return invalid(`size ${spec.sizeLots} lots is below the minimum ${instrument.minLots}`);
  if (spec.sizeLots > maxLots) return invalid(`size ${spec.sizeLots} lots is above the maximum ${maxLots} for ${spec.type.kind}`);
  return null;
}

function checkMarketPrice(state: SubmitState, spec: OrderSpec): Rejection | null {
  return spec.type.kind === 'market' && state.prices === null ? invalid(`no price yet for ${spec.symbol}`) : null;
}

/** The price an order is judged at before it fills: its limit, its trigger, or the last price. */
function referenceTicks(state: SubmitState, spec: OrderSpec, trigger: Trigger | null): number | null {
  const { type } = spec;
  switch (type.kind) {
    case 'limit':
      return type.priceTicks;
    case 'stop-market':
      return type.triggerTicks;
    case 'market':
      return state.prices === null ? null : trigger === null ? state.prices.lastTicks : priceBy(state.prices, trigger.triggerBy);
    default:
      return assertNever(type);
  }
}

function checkMinNotional(state: SubmitState, instrument: Instrument, spec: OrderSpec): Rejection | null {
  // Bybit 110094 spares reduce-only orders: closing a small remainder must always be possible.
  if (spec.reduceOnly) return null;
  const priceTicks = referenceTicks(state, spec, null);
  if (priceTicks === null || notionalE8(instrument, priceTicks, spec.sizeLots) >= instrument.minNotionalE8) return null;
  return invalid(`order value is below the minimum notional of ${spec.symbol}`);
}

function checkReduceOnly(state: SubmitState, spec: OrderSpec): Rejection | null {
  if (!spec.reduceOnly || reducibleLots(spec.side, state.positionLots) > 0) return null;
  return { ok: false, code: 'reduce-only', reason: 'Reduce-only rule not satisfied: no position on the other side' };
}

function checkStopTrigger(state: SubmitState, spec: OrderSpec): Rejection | null {
  const { type } = spec;
  if (type.kind !== 'stop-market' || state.prices === null) return null;
  const currentTicks = priceBy(state.prices, type.triggerBy);
  if (!isTriggerCrossed(spec.side, type.triggerTicks, currentTicks)) return null;
  const expect = spec.side === 'buy' ? 'Rising' : 'Falling';
  return { ok: false, code: 'trigger-crossed', reason: `expect ${expect}, but trigger ${type.triggerTicks} vs current ${currentTicks} (${type.triggerBy})` };
}

function checkAttached(state: SubmitState, spec: OrderSpec): Rejection | null {
  const { stopLoss, takeProfit } = spec;
  if (stopLoss === undefined && takeProfit === undefined) return null;
  if (spec.reduceOnly) return invalid('a reduce-only order cannot carry a stop-loss or take-profit');
  if (stopLoss !== undefined && !isProtectiveSide(state, spec, stopLoss, 'stop-loss')) {
    return invalid(`stop-loss ${stopLoss.triggerTicks} is on the wrong side for a ${spec.side}`);
  }
  if (takeProfit !== undefined && !isProtectiveSide(state, spec, takeProfit, 'take-profit')) {
    return invalid(`take-profit ${takeProfit.triggerTicks} is on the wrong side for a ${spec.side}`);
  }
  return null;
}

/** A buy's stop-loss lies below its reference price and its take-profit above; a sell's the reverse. */
function isProtectiveSide(state: SubmitState, spec: OrderSpec, trigger: Trigger, role: ProtectionRole): boolean {
  const referencePriceTicks = referenceTicks(state, spec, trigger);
  return referencePriceTicks === null || isOnProtectiveSide(spec.side, role, trigger.triggerTicks, referencePriceTicks);
}

type ProtectionRole = 'stop-loss' | 'take-profit';

/** For a position (or entry) of `side`: a stop-loss strictly on the losing side, a take-profit on the winning side. */
function isOnProtectiveSide(side: Side, role: ProtectionRole, triggerTicks: number, referenceTicks: number): boolean {
  const wantsBelow = (side === 'buy') === (role === 'stop-loss');
  return wantsBelow ? triggerTicks < referenceTicks : triggerTicks > referenceTicks;
}

/** Bybit `position/trading-stop`: only on an open position, each level on its protective side. */
export function validateProtectionChange(
  positionLots: number, prices: Prices | null, stopLoss: Trigger | null | undefined, takeProfit: Trigger | null | undefined,
): Rejection | null {
  if (positionLots === 0) return invalid('can not set tp/sl for zero position');
  const side: Side = positionLots > 0 ? 'buy' : 'sell';
  for (const [trigger, role] of [[stopLoss, 'stop-loss'], [takeProfit, 'take-profit']] as const) {
    if (trigger === undefined || trigger === null) continue;
    if (!isPositiveInteger(trigger.triggerTicks)) return invalid(`${role} must be positive ticks: ${trigger.triggerTicks}`);
    if (prices === null) continue;
    const currentTicks = priceBy(prices, trigger.triggerBy);
    if (!isOnProtectiveSide(side, role, trigger.triggerTicks, currentTicks)) return invalid(`${role} ${trigger.triggerTicks} is on the wrong side of the ${trigger.triggerBy} price ${currentTicks}`);
  }
  return null;
}
