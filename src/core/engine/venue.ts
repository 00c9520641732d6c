// Venue facts: order reports, fills, position reports and tickers. Every one is applied to state,
// whether it arrives before the REST reply of the request that caused it, after it, twice, or out
// of order; duplicates are recognized by their keys and change nothing. Nothing here asks whether
// an order or position is "tracked": facts no intent explains are adopted.

import type { EventOf } from '../events.ts';
import { formatE8 } from '../money.ts';
import type { Order } from '../order/order.ts';
import { onFill, onReport } from '../order/order.ts';
import { bookFill, isNewerReport, withVenueView } from '../position/position.ts';
import type { Ctx } from './context.ts';
import { anomaly, findPosition, instrumentOf, notify, positionOf, putOrder, putPosition } from './context.ts';
import { adoptExternalOrder, findOrderKey, refreshExternalSpec, updateOrder } from './orders.ts';
import { evaluateSymbol } from './protect.ts';

export function onOrderUpdated(ctx: Ctx, event: EventOf<'OrderUpdated'>): void {
  const key = findOrderKey(ctx, event.clientOrderId, event.venueOrderId);
  const order = key === undefined ? undefined : ctx.state.orders.get(key);
  if (order === undefined) {
    adoptExternalOrder(ctx, event);
  } else {
    const next = onReport(refreshExternalSpec(order, event), event);
    if (next === order) ctx.state.counters.staleReports += 1;
    if (next.status === 'filled' && order.status === 'cancelled') anomaly(ctx, event.symbol, `${order.key} reported filled after it was cancelled`);
    ctx.state.orderKeyByVenueId.set(event.venueOrderId, order.key);
    updateOrder(ctx, order, next);
  }
  evaluateSymbol(ctx, event.symbol);
}

export function onFillReceived(ctx: Ctx, event: EventOf<'FillReceived'>): void {
  const { state } = ctx;
  if (state.fillIds.has(event.executionId)) {
    state.counters.duplicateFills += 1;
    return;
  }
  state.fillIds.add(event.executionId);
  const order = applyFillToOrder(ctx, event);
  const instrument = instrumentOf(ctx, event.symbol);
  if (instrument === undefined) {
    anomaly(ctx, event.symbol, `fill ${event.executionId} on an instrument that was never loaded; position not booked`);
    return;
  }
  const before = positionOf(ctx, event.symbol);
  const after = bookFill(before, event, instrument);
  putPosition(ctx, after);
  if (before.sizeLots !== 0 && Math.sign(after.sizeLots) !== Math.sign(before.sizeLots)) {
    const pnlE8 = after.realizedPnlE8 - before.realizedAtOpenE8;
    const feesE8 = after.feesE8 - before.feesAtOpenE8;
    notify(ctx, 'info', 'position-closed', event.symbol,
      `position closed by ${closedBy[order.role]}: realized ${formatE8(pnlE8)} USDT, fees ${formatE8(feesE8)}, net ${formatE8(pnlE8 - feesE8)}`,
      { realizedPnlE8: pnlE8, feesE8 });
  }
  evaluateSymbol(ctx, event.symbol);
}

const closedBy: Readonly<Record<Order['role'], string>> = {
  entry: 'the entry (a flip)', stop: 'the stop-loss', 'take-profit': 'the take-profit', exit: 'a market exit',
  external: 'an order not placed by this bot', 'position-stop-loss': 'the stop-loss', 'position-take-profit': 'the take-profit',
  'position-trailing-stop': 'the trailing stop',
};

function applyFillToOrder(ctx: Ctx, event: EventOf<'FillReceived'>): Order {
  const key = findOrderKey(ctx, event.clientOrderId, event.venueOrderId);
  const order = key === undefined ? undefined : ctx.state.orders.get(key);
  if (order !== undefined) {
    const next = onFill(order, event.lots, event.venueOrderId);
    if (order.status === 'cancelled') anomaly(ctx, event.symbol, `fill ${event.executionId} on ${order.key} after it was cancelled`);
    return updateOrder(ctx, order, next);
  }
  // A fill for an order we have not heard of (its report may follow): record the order from the
  // fill; the report, when it comes, fills in the rest.
  const adopted = adoptExternalOrder(ctx, {
    symbol: event.symbol, venueOrderId: event.venueOrderId, clientOrderId: event.clientOrderId, side: event.side,
    orderKind: 'market', status: 'partially-filled', sizeLots: event.lots, filledLots: 0, priceTicks: null,
    triggerTicks: null, reduceOnly: false, positionTrigger: null, stopLossTicks: null, takeProfitTicks: null, venueUpdatedMs: 0, reason: null,
  });
  const filled: Order = { ...adopted, fillsLots: event.lots };
  return putOrder(ctx, filled);
}

export function onPositionUpdated(ctx: Ctx, event: EventOf<'PositionUpdated'>): void {
  const position = positionOf(ctx, event.symbol);
  if (isNewerReport(position, event)) putPosition(ctx, withVenueView(position, event));
  else ctx.state.counters.staleReports += 1;
  evaluateSymbol(ctx, event.symbol);
}

export function onTickerUpdated(ctx: Ctx, event: EventOf<'TickerUpdated'>): void {
  const { markets, activeIntentBySymbol } = ctx.state;
  const market = markets.get(event.symbol);
  if (market !== undefined && event.venueMs < market.venueMs) {
    ctx.state.counters.staleReports += 1;
    return;
  }
  if (market === undefined) {
    markets.set(event.symbol, { lastTicks: event.lastTicks, markTicks: event.markTicks, venueMs: event.venueMs });
  } else {
    if (event.lastTicks !== null) market.lastTicks = event.lastTicks;
    if (event.markTicks !== null) market.markTicks = event.markTicks;
    market.venueMs = event.venueMs;
  }
  if (activeIntentBySymbol.has(event.symbol) || (findPosition(ctx, event.symbol)?.sizeLots ?? 0) !== 0) {
    evaluateSymbol(ctx, event.symbol);
  }
}
