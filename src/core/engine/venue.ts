// Venue facts: order reports, fills, position reports and tickers. Every one is applied to state,
// whether it arrives before the REST reply of the request that caused it, after it, twice, or out
// of order; duplicates are recognized by their keys and change nothing. Nothing here asks whether
// an order or position is "tracked": facts no intent explains are adopted, and orders that carry
// this bot's client order id are restored to the intent they belong to (see reconcile/restore.ts).
//
// Each fact has an `apply` (state only) and a handler (apply, then evaluate the symbol), so that a
// snapshot can apply all its facts before anything is decided from half of them.

import { assertSafeInteger } from '../assert.ts';
import type { EventOf, Fill, Funding, OrderReport, PositionReport, Ticker, WalletReport } from '../events.ts';
import type { ExecutionId } from '../ids.ts';
import { parseClientOrderId } from '../ids.ts';
import { formatE8 } from '../money.ts';
import type { Order } from '../order/order.ts';
import { onFill, onReport } from '../order/order.ts';
import { bookFill, isNewerReport, withVenueView } from '../position/position.ts';
import { promoteOrphan, recordFromFill, restoreOrder } from '../reconcile/restore.ts';
import type { EngineState } from '../state.ts';
import { withVenueTrailingFound } from './guard.ts';
import type { Ctx } from './context.ts';
import { activeIntentOn, anomaly, findPosition, instrumentOf, notify, positionOf, putOrder, putPosition } from './context.ts';
import { adoptExternalOrder, findOrderKey, refreshExternalSpec, updateOrder } from './orders.ts';
import { evaluateSymbol } from './protect.ts';
import { putIntent } from './intents.ts';
import type { Market } from '../state.ts';
import { recheckSoon } from './snapshots.ts';

export function onOrderUpdated(ctx: Ctx, event: EventOf<'OrderUpdated'>): void {
  applyOrderReport(ctx, event);
  evaluateSymbol(ctx, event.symbol);
}

export function onFillReceived(ctx: Ctx, event: EventOf<'FillReceived'>): void {
  if (applyFill(ctx, event)) evaluateSymbol(ctx, event.symbol);
}

export function onFundingSettled(ctx: Ctx, event: EventOf<'FundingSettled'>): void {
  const { symbol, executionId, feeE8, venueMs } = event;
  applyFunding(ctx, { symbol, executionId, feeE8, venueMs });
}

/**
 * An execution already booked: its id is known, or it is older than the ids the state keeps
 * (retention.ts forgets them once no snapshot asked for from then on can list it; one still on its
 * way, asked for from further back, may: seed 310420 booked four fills twice so).
 */
export function isBooked(state: EngineState, executionId: ExecutionId, venueMs: number): boolean {
  return state.fillIds.has(executionId) || venueMs < state.fillIdsFromMs;
}

/** A funding payment, booked once by its execution id (the same id space as fills); false for a duplicate. */
export function applyFunding(ctx: Ctx, funding: Funding): boolean {
  const { state } = ctx;
  if (isBooked(state, funding.executionId, funding.venueMs)) {
    state.counters.duplicateFills += 1;
    return false;
  }
  state.fillIds.set(funding.executionId, funding.venueMs);
  const position = positionOf(ctx, funding.symbol);
  putPosition(ctx, { ...position, fundingE8: assertSafeInteger(position.fundingE8 + funding.feeE8, 'funding') });
  ctx.out.push({ type: 'Record', record: { kind: 'funding', funding, roundTrip: position.openedBy ?? funding.executionId } });
  return true;
}

export function onPositionUpdated(ctx: Ctx, event: EventOf<'PositionUpdated'>): void {
  applyPositionReport(ctx, event, event.source === 'stream');
  evaluateSymbol(ctx, event.symbol);
}

/** An order report: merged into the order it is about, or the start of an order record. */
export function applyOrderReport(ctx: Ctx, report: OrderReport): Order {
  const key = findOrderKey(ctx, report.clientOrderId, report.venueOrderId);
  const order = key === undefined ? undefined : ctx.state.orders.get(key);
  if (order === undefined) {
    const ours = report.clientOrderId === null ? null : parseClientOrderId(ctx.state.config.botId, report.clientOrderId);
    return ours === null ? adoptExternalOrder(ctx, report) : restoreOrder(ctx, report, ours);
  }
  const next = onReport(refreshExternalSpec(order, report), report);
  if (next === order) ctx.state.counters.staleReports += 1;
  if (next.status === 'filled' && order.status === 'cancelled') anomaly(ctx, report.symbol, `${order.key} reported filled after it was cancelled`);
  ctx.state.orderKeyByVenueId.set(report.venueOrderId, order.key);
  return promoteOrphan(ctx, updateOrder(ctx, order, next));
}

/** A fill, booked once by its execution id; false for a duplicate. */
export function applyFill(ctx: Ctx, fill: Fill): boolean {
  const { state } = ctx;
  if (isBooked(state, fill.executionId, fill.venueMs)) {
    state.counters.duplicateFills += 1;
    return false;
  }
  state.fillIds.set(fill.executionId, fill.venueMs);
  // Until the first reconciliation since the start, a fill says nothing about those before it
  // (the bot was away): the cursor stays where the journal left it, and the startup snapshot
  // reads from there.
  if (state.reconciledSinceStart) state.fillCursorMs = Math.max(state.fillCursorMs, fill.venueMs);
  const order = applyFillToOrder(ctx, fill);
  const instrument = instrumentOf(ctx, fill.symbol);
  if (instrument === undefined) {
    anomaly(ctx, fill.symbol, `fill ${fill.executionId} on an instrument that was never loaded; position not booked`);
    ctx.out.push({ type: 'Record', record: { kind: 'fill', fill, role: order.role, realizedPnlE8: 0, roundTrip: fill.executionId } });
    return true;
  }
  const before = positionOf(ctx, fill.symbol);
  const after = bookFill(before, fill, instrument);
  putPosition(ctx, after);
  // A fill that closes or flips a position belongs to the round trip it ends.
  const roundTrip = before.sizeLots !== 0 && before.openedBy !== null ? before.openedBy : (after.openedBy ?? fill.executionId);
  ctx.out.push({ type: 'Record', record: { kind: 'fill', fill, role: order.role, realizedPnlE8: after.realizedPnlE8 - before.realizedPnlE8, roundTrip } });
  if (before.sizeLots !== 0 && Math.sign(after.sizeLots) !== Math.sign(before.sizeLots)) {
    const pnlE8 = after.realizedPnlE8 - before.realizedAtOpenE8;
    const feesE8 = after.feesE8 - before.feesAtOpenE8;
    notify(ctx, 'info', 'position-closed', fill.symbol,
      `position closed by ${closerOf(ctx, order)}: realized ${formatE8(pnlE8)} USDT, fees ${formatE8(feesE8)}, net ${formatE8(pnlE8 - feesE8)}`,
      { realizedPnlE8: pnlE8, feesE8 });
  }
  return true;
}

const closedBy: Readonly<Record<Order['role'], string>> = {
  entry: 'the entry (a flip)', stop: 'the stop-loss', 'take-profit': 'the take-profit', exit: 'a market exit', 'age-exit': 'the aged-position exit',
  external: 'an order not placed by this bot', orphan: 'a leftover order of this bot', 'position-stop-loss': 'the stop-loss',
  'position-take-profit': 'the take-profit', 'position-trailing-stop': 'the trailing stop',
};

function closerOf(ctx: Ctx, order: Order): string {
  if (order.role !== 'orphan') return closedBy[order.role];
  const ours = parseClientOrderId(ctx.state.config.botId, order.key);
  return ours === null ? closedBy.orphan : `${closedBy[ours.role]} (placed before the restart)`;
}

function applyFillToOrder(ctx: Ctx, fill: Fill): Order {
  const key = findOrderKey(ctx, fill.clientOrderId, fill.venueOrderId);
  const order = key === undefined ? undefined : ctx.state.orders.get(key);
  if (order !== undefined) {
    const next = onFill(order, fill.lots, fill.venueOrderId);
    if (order.status === 'cancelled') anomaly(ctx, fill.symbol, `fill ${fill.executionId} on ${order.key} after it was cancelled`);
    return updateOrder(ctx, order, next);
  }
  // A fill for an order we have not heard of (its report may follow): record the order from the
  // fill; the report, when it comes, fills in the rest. One of ours is asked for by its id.
  if (fill.clientOrderId !== null && parseClientOrderId(ctx.state.config.botId, fill.clientOrderId) !== null) {
    const recorded = recordFromFill(ctx, fill);
    return putOrder(ctx, { ...recorded, fillsLots: recorded.fillsLots + fill.lots });
  }
  const recorded = applyOrderReport(ctx, {
    symbol: fill.symbol, venueOrderId: fill.venueOrderId, clientOrderId: fill.clientOrderId, side: fill.side,
    orderKind: 'market', status: 'partially-filled', sizeLots: fill.lots, filledLots: 0, priceTicks: null,
    triggerTicks: null, reduceOnly: false, positionTrigger: fill.positionTrigger, stopLossTicks: null, takeProfitTicks: null, venueUpdatedMs: 0, reason: null,
  });
  return putOrder(ctx, { ...recorded, fillsLots: recorded.fillsLots + fill.lots });
}

export function applyPositionReport(ctx: Ctx, report: PositionReport, fromStream = false): void {
  const position = positionOf(ctx, report.symbol);
  if (!isNewerReport(position, report, fromStream)) {
    ctx.state.counters.staleReports += 1;
    return;
  }
  putPosition(ctx, withVenueView(position, report));
  // The venue's report of the position's stop is its truth from now on, even if it is looser than
  // what we last set (a limit entry filling again re-arms its attached stop): the guard then moves
  // it again. Believing our acknowledgement over a newer report could leave a looser stop unseen.
  const intent = activeIntentOn(ctx, report.symbol);
  if (intent === undefined) return;
  const acked = intent.guard.ackedStopTicks === null ? intent : { ...intent, guard: { ...intent.guard, ackedStopTicks: null } };
  const found = report.trailingTicks === null ? acked : withVenueTrailingFound(ctx, acked, positionOf(ctx, report.symbol));
  if (found !== intent) putIntent(ctx, found);
}

export function onTickerUpdated(ctx: Ctx, event: EventOf<'TickerUpdated'>): void {
  const market = applyTicker(ctx, event);
  if (market === null) return;
  if (ctx.state.activeIntentBySymbol.has(event.symbol) || (findPosition(ctx, event.symbol)?.sizeLots ?? 0) !== 0) {
    evaluateSymbol(ctx, event.symbol, market);
  }
}

/** Prices, newest by venue time: the symbol's market as it is now; null for an older one. */
export function applyTicker(ctx: Ctx, ticker: Ticker): Market | null {
  const { markets } = ctx.state;
  const market = markets.get(ticker.symbol);
  if (market !== undefined && ticker.venueMs < market.venueMs) {
    ctx.state.counters.staleReports += 1;
    return null;
  }
  if (market === undefined) {
    const added: Market = { lastTicks: ticker.lastTicks, markTicks: ticker.markTicks, venueMs: ticker.venueMs, fresh: true, trailIntentId: null, trailPeakTicks: 0, trailLevelTicks: 0 };
    markets.set(ticker.symbol, added);
    return added;
  }
  if (ticker.lastTicks !== null) market.lastTicks = ticker.lastTicks;
  if (ticker.markTicks !== null) market.markTicks = ticker.markTicks;
  market.venueMs = ticker.venueMs;
  market.fresh = true;
  return market;
}

export function onWalletUpdated(ctx: Ctx, event: EventOf<'WalletUpdated'>): void {
  const { coin, walletBalanceE8, equityE8, unrealisedPnlE8, venueMs } = event;
  applyWallet(ctx, { coin, walletBalanceE8, equityE8, unrealisedPnlE8, venueMs });
}

/**
 * The newer report by venue time stands: an older snapshot never overwrites a newer push. Wallet
 * reports carry no sequence, so two different ones from the same millisecond cannot be ordered:
 * the later arrival is kept for now and the venue is asked.
 */
export function applyWallet(ctx: Ctx, report: WalletReport): boolean {
  const current = ctx.state.wallet;
  if (current !== null && report.venueMs < current.venueMs) {
    ctx.state.counters.staleReports += 1;
    return false;
  }
  const undecidable = current !== null && report.venueMs === current.venueMs && report.walletBalanceE8 !== current.walletBalanceE8;
  ctx.state.wallet = report;
  if (undecidable) recheckSoon(ctx);
  return true;
}
