// Order bookkeeping inside the step: finding the order a venue fact is about, adopting the ones
// no intent of ours explains, and announcing transitions an operator cares about.

import { assertNever } from '../assert.ts';
import type { OrderReport } from '../events.ts';
import type { VenueOrderId } from '../ids.ts';
import { parseClientOrderId } from '../ids.ts';
import type { Order, OrderKey } from '../order/order.ts';
import { isAcknowledged, markCancelRequested, newPendingOrder, onReport } from '../order/order.ts';
import type { OrderType } from '../types.ts';
import type { Ctx } from './context.ts';
import { cancelOrder, notify, putOrder } from './context.ts';

export function findOrderKey(ctx: Ctx, clientOrderId: string | null, venueOrderId: VenueOrderId): OrderKey | undefined {
  if (clientOrderId !== null && ctx.state.orders.has(clientOrderId)) return clientOrderId;
  return ctx.state.orderKeyByVenueId.get(venueOrderId);
}

/**
 * Stores the next state of an order and acts on what changed: re-sends a wanted cancel once the
 * venue shows the order live again (a cancel that reached the venue before the create fails with
 * "not found").
 */
export function updateOrder(ctx: Ctx, before: Order, after: Order): Order {
  if (after === before) return before;
  putOrder(ctx, after);
  const newEvidence = after.venueUpdatedMs > before.venueUpdatedMs || (!isAcknowledged(before) && isAcknowledged(after));
  if (newEvidence) resendWantedCancel(ctx, after);
  return ctx.state.orders.get(after.key) ?? after;
}

/** The venue shows the order live and no cancel is outstanding although we want it gone. */
export function resendWantedCancel(ctx: Ctx, order: Order): void {
  if (order.cancelWanted && order.cancelRequestedMs === null && isAcknowledged(order)) requestCancel(ctx, order);
}

export const cancelRequestsMax = 3;

/** Asks the venue to cancel an order of ours, with at most one cancel outstanding, a bounded number of times. */
export function requestCancel(ctx: Ctx, order: Order): void {
  if (order.cancelRequestedMs !== null) return;
  if (order.cancelRequests >= cancelRequestsMax) {
    if (order.cancelWanted) {
      putOrder(ctx, { ...order, cancelWanted: false });
      notify(ctx, 'alarm', 'cancel-failed', order.spec.symbol, `${order.key}: ${cancelRequestsMax} cancels failed and the order is still live`);
    }
    return;
  }
  putOrder(ctx, markCancelRequested(order, ctx.atMs));
  cancelOrder(ctx, order);
}

/** An order no intent explains: recorded as external, never dropped. */
export function adoptExternalOrder(ctx: Ctx, report: OrderReport): Order {
  const ours = parseClientOrderId(ctx.state.config.botId, report.clientOrderId ?? '') !== null;
  const key = `ext:${report.venueOrderId}`;
  const role = report.positionTrigger === null ? 'external' : (`position-${report.positionTrigger}` as const);
  const seed = newPendingOrder({ key, intentId: null, role, spec: specOfReport(report), createdMs: ctx.atMs });
  const order = putOrder(ctx, onReport(seed, report));
  ctx.state.counters.adoptedOrders += 1;
  if (report.positionTrigger !== null) {
    // Expected: the venue executes a position's own stop or take-profit as an order of its own.
    notify(ctx, 'info', 'position-trigger', report.symbol, `the venue's ${report.positionTrigger} order ${report.venueOrderId} is executing`);
    return order;
  }
  const who = report.clientOrderId === null || report.clientOrderId === '' ? 'no client id' : `client id ${report.clientOrderId}`;
  notify(ctx, ours ? 'alarm' : 'warn', 'order-adopted', report.symbol,
    `adopted external ${report.side} ${report.orderKind} order ${report.venueOrderId} (${who})${ours ? ': it has our bot id but no record in state' : ''}`);
  return order;
}

/**
 * An external order refreshes its spec from each report: we never knew it up front. One first seen
 * through a fill that did not say so is recognised as a position's own trigger when a report does.
 */
export function refreshExternalSpec(order: Order, report: OrderReport): Order {
  if (order.intentId !== null) return order;
  const role = order.role === 'external' && report.positionTrigger !== null ? (`position-${report.positionTrigger}` as const) : order.role;
  return { ...order, role, spec: specOfReport(report) };
}

export function specOfReport(report: OrderReport): Order['spec'] {
  const base = { symbol: report.symbol, side: report.side, sizeLots: report.sizeLots, reduceOnly: report.reduceOnly, type: typeOfReport(report) };
  const stopLoss = report.stopLossTicks === null ? {} : { stopLoss: { triggerTicks: report.stopLossTicks, triggerBy: 'mark' as const } };
  const takeProfit = report.takeProfitTicks === null ? {} : { takeProfit: { triggerTicks: report.takeProfitTicks, triggerBy: 'last' as const } };
  return { ...base, ...stopLoss, ...takeProfit };
}

function typeOfReport(report: OrderReport): OrderType {
  switch (report.orderKind) {
    case 'market':
      return { kind: 'market' };
    case 'limit':
      return { kind: 'limit', priceTicks: report.priceTicks ?? 0, postOnly: false };
    case 'stop-market':
      return { kind: 'stop-market', triggerTicks: report.triggerTicks ?? 0, triggerBy: 'last' };
    default:
      return assertNever(report.orderKind);
  }
}
