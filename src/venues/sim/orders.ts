// The simulated venue's record of one order and the pure transitions on it.
//
// Invariants: 0 <= filledLots <= sizeLots; sizeLots changes only when a reduce-only order is
// truncated to the position it can reduce (as Bybit truncates reduce-only quantity, it only shrinks)
// or when an amend sets a new total above what has filled; an amend keeps the order's ids and
// status; a finished order (filled, cancelled) never changes again.

import { assert, assertNever } from '../../core/assert.ts';
import type { OrderReport } from '../../core/events.ts';
import type { VenueOrderId } from '../../core/ids.ts';
import type { OrderSpec, OrderType, VenueOrderStatus } from '../../core/types.ts';
import type { OrderAmendment } from './types.ts';

export type PositionTriggerKind = 'stop-loss' | 'take-profit' | 'trailing-stop';

export type SimOrder = {
  readonly venueOrderId: VenueOrderId;
  readonly clientOrderId: string | null;
  readonly spec: OrderSpec;
  readonly sizeLots: number;
  readonly filledLots: number;
  readonly status: VenueOrderStatus;
  readonly positionTrigger: PositionTriggerKind | null;
  readonly reason: string | null;
  readonly updatedMs: number;
};

export function newSimOrder(
  venueOrderId: VenueOrderId, clientOrderId: string | null, spec: OrderSpec, positionTrigger: PositionTriggerKind | null, nowMs: number,
): SimOrder {
  return {
    venueOrderId, clientOrderId, spec, sizeLots: spec.sizeLots, filledLots: 0,
    status: spec.type.kind === 'stop-market' ? 'untriggered' : 'new',
    positionTrigger,
    reason: null, updatedMs: nowMs,
  };
}

/** Working: the venue may still trigger or fill it. */
export function isWorking(order: SimOrder): boolean {
  switch (order.status) {
    case 'new':
    case 'untriggered':
    case 'partially-filled':
      return true;
    case 'filled':
    case 'cancelled':
    case 'rejected':
    case 'expired':
      return false;
    default:
      return assertNever(order.status);
  }
}

export function remainingLots(order: SimOrder): number {
  return order.sizeLots - order.filledLots;
}

export function withFilled(order: SimOrder, lots: number, nowMs: number): SimOrder {
  const filledLots = order.filledLots + lots;
  assert(lots > 0 && filledLots <= order.sizeLots, `${order.venueOrderId}: fill of ${lots} over size ${order.sizeLots}`);
  return { ...order, filledLots, status: filledLots === order.sizeLots ? 'filled' : 'partially-filled', updatedMs: nowMs };
}

/** Bybit truncates a reduce-only order to the position it can still reduce. */
export function truncatedTo(order: SimOrder, sizeLots: number): SimOrder {
  assert(sizeLots > order.filledLots && sizeLots <= order.sizeLots, `${order.venueOrderId}: bad truncation to ${sizeLots}`);
  return { ...order, sizeLots };
}

/** The order's spec as it stands now: its size the current total (after any truncation). */
export function currentSpec(order: SimOrder): OrderSpec {
  return order.spec.sizeLots === order.sizeLots ? order.spec : { ...order.spec, sizeLots: order.sizeLots };
}

/** A spec with an amendment applied: only the given fields change (fields of another order kind are ignored here; validate.ts refuses them). */
export function amendedSpec(spec: OrderSpec, amendment: OrderAmendment): OrderSpec {
  const { stopLoss: stopLossNow, takeProfit: takeProfitNow, ...rest } = spec;
  const stopLoss = amendment.stopLoss === undefined ? stopLossNow : amendment.stopLoss ?? undefined;
  const takeProfit = amendment.takeProfit === undefined ? takeProfitNow : amendment.takeProfit ?? undefined;
  return {
    ...rest,
    sizeLots: amendment.sizeLots ?? spec.sizeLots,
    type: amendedType(spec.type, amendment),
    ...(stopLoss === undefined ? {} : { stopLoss }),
    ...(takeProfit === undefined ? {} : { takeProfit }),
  };
}

function amendedType(type: OrderType, amendment: OrderAmendment): OrderType {
  switch (type.kind) {
    case 'limit':
      return { ...type, priceTicks: amendment.priceTicks ?? type.priceTicks };
    case 'stop-market':
      return { ...type, triggerTicks: amendment.triggerTicks ?? type.triggerTicks, triggerBy: amendment.triggerBy ?? type.triggerBy };
    case 'market':
      return type;
    default:
      return assertNever(type);
  }
}

/** Bybit amends in place: same ids, same status, the new spec and total size. */
export function amended(order: SimOrder, spec: OrderSpec, nowMs: number): SimOrder {
  assert(isWorking(order) && spec.sizeLots > order.filledLots, `${order.venueOrderId}: bad amend to ${spec.sizeLots} lots`);
  return { ...order, spec, sizeLots: spec.sizeLots, updatedMs: nowMs };
}

export function triggered(order: SimOrder, nowMs: number): SimOrder {
  return { ...order, status: 'new', updatedMs: nowMs };
}

export function cancelled(order: SimOrder, reason: string, nowMs: number): SimOrder {
  return { ...order, status: 'cancelled', reason, updatedMs: nowMs };
}

export function reportOf(order: SimOrder): OrderReport {
  const { type } = order.spec;
  return {
    symbol: order.spec.symbol,
    venueOrderId: order.venueOrderId,
    clientOrderId: order.clientOrderId,
    side: order.spec.side,
    orderKind: type.kind,
    status: order.status,
    sizeLots: order.sizeLots,
    filledLots: order.filledLots,
    priceTicks: type.kind === 'limit' ? type.priceTicks : null,
    triggerTicks: type.kind === 'stop-market' ? type.triggerTicks : null,
    reduceOnly: order.spec.reduceOnly,
    positionTrigger: order.positionTrigger,
    stopLossTicks: order.spec.stopLoss?.triggerTicks ?? null,
    takeProfitTicks: order.spec.takeProfit?.triggerTicks ?? null,
    venueUpdatedMs: order.updatedMs,
    reason: order.reason,
  };
}
