// Validation of an order create, an amend and a trading-stop, as Bybit answers them over REST
// before anything changes. A refused request emits nothing on the stream; the caller gets the code
// and a reason.
//
// Checks run in a fixed order (parameters, then ids, then state-dependent rules), so the same
// request in the same venue state is always refused for the same reason. An amend is checked as
// the order it would make, with a create's rules for what it changes (size limits, a trigger already
// crossed, the attached stop-loss / take-profit sides) and two of its own: a field only where the
// order kind has it, and a total size above what has filled.

import { isValidClientOrderId } from '../../core/ids.ts';
import type { Instrument } from '../../core/instrument.ts';
import { notionalE8 } from '../../core/instrument.ts';
import type { OrderSpec, Side, Trigger } from '../../core/types.ts';
import { assertNever } from '../../core/assert.ts';
import { isTriggerCrossed, priceBy, reducibleLots } from './matching.ts';
import type { OrderAmendment, Prices, ProtectionChange, Rejection } from './types.ts';

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
    checkStopTrigger(state.prices, spec) ??
    checkAttached(state.prices, spec)
  );
}

export type AmendState = { readonly instrument: Instrument; readonly prices: Prices | null };

/**
 * Bybit `order/amend` of a working order, judged on `after` (the order as amended): the fields must
 * fit the order's kind, the numbers be positive whole ticks and lots, the new total size above what
 * has filled and within the instrument's limits; a new trigger already crossed is refused as a
 * create's would be, and so is an attached stop-loss / take-profit left on the wrong side of the
 * order's new price or trigger.
 */
export function validateAmend(state: AmendState, before: OrderSpec, filledLots: number, amendment: OrderAmendment, after: OrderSpec): Rejection | null {
  const triggerChanged = amendment.triggerTicks !== undefined || amendment.triggerBy !== undefined;
  return (
    checkAmendable(before, amendment) ??
    checkNumbers(after) ??
    (after.sizeLots > filledLots ? null : invalid(`qty ${after.sizeLots} lots must be above the ${filledLots} lots already filled`)) ??
    checkSize(state.instrument, after) ??
    (triggerChanged ? checkStopTrigger(state.prices, after) : null) ??
    checkAttached(state.prices, after) // a new price or trigger may put the attached ones on the wrong side
  );
}

function checkAmendable(before: OrderSpec, amendment: OrderAmendment): Rejection | null {
  const { kind } = before.type;
  if ((amendment.triggerTicks !== undefined || amendment.triggerBy !== undefined) && kind !== 'stop-market') {
    return invalid(`only a conditional order has a trigger to amend; this is a ${kind} order`);
  }
  if (amendment.priceTicks !== undefined && kind !== 'limit') return invalid(`only a limit order has a price to amend; this is a ${kind} order`);
  return null;
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
function referenceTicks(prices: Prices | null, spec: OrderSpec, trigger: Trigger | null): number | null {
  const { type } = spec;
  switch (type.kind) {
    case 'limit':
      return type.priceTicks;
    case 'stop-market':
      return type.triggerTicks;
    case 'market':
      return prices === null ? null : trigger === null ? prices.lastTicks : priceBy(prices, trigger.triggerBy);
    default:
      return assertNever(type);
  }
}

function checkMinNotional(state: SubmitState, instrument: Instrument, spec: OrderSpec): Rejection | null {
  // Bybit 110094 spares reduce-only orders: closing a small remainder must always be possible.
  if (spec.reduceOnly) return null;
  const priceTicks = referenceTicks(state.prices, spec, null);
  if (priceTicks === null || notionalE8(instrument, priceTicks, spec.sizeLots) >= instrument.minNotionalE8) return null;
  return invalid(`order value is below the minimum notional of ${spec.symbol}`);
}

function checkReduceOnly(state: SubmitState, spec: OrderSpec): Rejection | null {
  if (!spec.reduceOnly || reducibleLots(spec.side, state.positionLots) > 0) return null;
  return { ok: false, code: 'reduce-only', reason: 'Reduce-only rule not satisfied: no position on the other side' };
}

function checkStopTrigger(prices: Prices | null, spec: OrderSpec): Rejection | null {
  const { type } = spec;
  if (type.kind !== 'stop-market' || prices === null) return null;
  const currentTicks = priceBy(prices, type.triggerBy);
  if (!isTriggerCrossed(spec.side, type.triggerTicks, currentTicks)) return null;
  const expect = spec.side === 'buy' ? 'Rising' : 'Falling';
  return { ok: false, code: 'trigger-crossed', reason: `expect ${expect}, but trigger ${type.triggerTicks} vs current ${currentTicks} (${type.triggerBy})` };
}

function checkAttached(prices: Prices | null, spec: OrderSpec): Rejection | null {
  const { stopLoss, takeProfit } = spec;
  if (stopLoss === undefined && takeProfit === undefined) return null;
  if (spec.reduceOnly) return invalid('a reduce-only order cannot carry a stop-loss or take-profit');
  if (stopLoss !== undefined && !isProtectiveSide(prices, spec, stopLoss, 'stop-loss')) {
    return invalid(`stop-loss ${stopLoss.triggerTicks} is on the wrong side for a ${spec.side}`);
  }
  if (takeProfit !== undefined && !isProtectiveSide(prices, spec, takeProfit, 'take-profit')) {
    return invalid(`take-profit ${takeProfit.triggerTicks} is on the wrong side for a ${spec.side}`);
  }
  return null;
}

/** A buy's stop-loss lies below its reference price and its take-profit above; a sell's the reverse. */
function isProtectiveSide(prices: Prices | null, spec: OrderSpec, trigger: Trigger, role: ProtectionRole): boolean {
  const referencePriceTicks = referenceTicks(prices, spec, trigger);
  return referencePriceTicks === null || isOnProtectiveSide(spec.side, role, trigger.triggerTicks, referencePriceTicks);
}

type ProtectionRole = 'stop-loss' | 'take-profit';

/** For a position (or entry) of `side`: a stop-loss strictly on the losing side, a take-profit on the winning side. */
function isOnProtectiveSide(side: Side, role: ProtectionRole, triggerTicks: number, referenceTicks: number): boolean {
  const wantsBelow = (side === 'buy') === (role === 'stop-loss');
  return wantsBelow ? triggerTicks < referenceTicks : triggerTicks > referenceTicks;
}

/**
 * Bybit `position/trading-stop`: only on an open position (clearing too), each level on its
 * protective side, a trailing distance of at least one tick and an activation price, if any, in
 * whole ticks (one already reached activates the trailing at once).
 */
export function validateProtectionChange(positionLots: number, prices: Prices | null, change: ProtectionChange): Rejection | null {
  if (positionLots === 0) return invalid('can not set tp/sl for zero position');
  const { trailing } = change;
  if (trailing !== undefined && trailing !== null) {
    if (!isPositiveInteger(trailing.distanceTicks)) return invalid(`trailing stop distance must be positive ticks: ${trailing.distanceTicks}`);
    if (trailing.activationTicks !== null && !isPositiveInteger(trailing.activationTicks)) return invalid(`trailing stop activation price must be positive ticks: ${trailing.activationTicks}`);
  }
  const side: Side = positionLots > 0 ? 'buy' : 'sell';
  for (const [trigger, role] of [[change.stopLoss, 'stop-loss'], [change.takeProfit, 'take-profit']] as const) {
    if (trigger === undefined || trigger === null) continue;
    if (!isPositiveInteger(trigger.triggerTicks)) return invalid(`${role} must be positive ticks: ${trigger.triggerTicks}`);
    if (prices === null) continue;
    const currentTicks = priceBy(prices, trigger.triggerBy);
    // Bybit refuses it with a text the adapter reads as a crossed trigger (emulator/position.ts).
    if (!isOnProtectiveSide(side, role, trigger.triggerTicks, currentTicks)) {
      return { ok: false, code: 'trigger-crossed', reason: `${role} ${trigger.triggerTicks} is on the wrong side of the ${trigger.triggerBy} price ${currentTicks}` };
    }
  }
  return null;
}
