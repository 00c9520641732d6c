// Intent bookkeeping shared by the protection code (protect.ts) and the policies (guard.ts):
// storing an intent, reading its orders, what its stop must cover, and closing at market.
//
// Invariants: an intent is active in `activeIntentBySymbol` exactly while its phase is not done; an
// exit is reduce-only and sized to what the venue shows, and the stop stays until the position is flat.

import { clientOrderIdFor } from '../ids.ts';
import { lotsToQty } from '../instrument.ts';
import type { Intent } from '../intent/intent.ts';
import { isActive } from '../intent/intent.ts';
import type { Order, OrderKey } from '../order/order.ts';
import { filledLots, isLive, newPendingOrder } from '../order/order.ts';
import { effectiveSizeLots } from '../position/position.ts';
import type { Side } from '../types.ts';
import { oppositeSide } from '../types.ts';
import type { Ctx } from './context.ts';
import { findPosition, getOrder, instrumentOf, notify, putOrder, submitOrder, unsettledOrdersOf } from './context.ts';
import { requestCancel } from './orders.ts';

export function putIntent(ctx: Ctx, intent: Intent): Intent {
  const { intents, activeIntentBySymbol, positionStopOwners } = ctx.state;
  if (isActive(intent)) {
    intents.set(intent.id, intent);
    activeIntentBySymbol.set(intent.symbol, intent.id);
  } else {
    intents.setRetired(intent.id, intent);
    if (activeIntentBySymbol.get(intent.symbol) === intent.id) activeIntentBySymbol.delete(intent.symbol);
    forgetTrail(ctx, intent);
    retireSettledOrders(ctx, intent);
  }
  indexPositionStop(positionStopOwners, intent);
  return intent;
}

/**
 * An intent that ended retires its orders that have settled (see core/tiered-map.ts); one that
 * settles later is retired as it is stored (putOrderUnrecorded), and any the intent no longer
 * names by the next reconciliation's sweep (retention.ts).
 */
function retireSettledOrders(ctx: Ctx, intent: Intent): void {
  const { orders, unsettledOrders } = ctx.state;
  const unsettled = unsettledOrders.get(intent.symbol);
  const retire = (key: OrderKey | null): void => {
    if (key !== null && unsettled?.has(key) !== true) orders.retire(key);
  };
  retire(intent.entryOrder);
  retire(intent.stopOrder);
  for (const key of intent.replacedStops) retire(key);
  for (const key of intent.takeProfitOrders) retire(key);
  retire(intent.exitOrder);
  retire(intent.guard.agedExitOrder);
}

/** An intent that ended takes its trailing memory with it (the next position on the symbol starts afresh). */
function forgetTrail(ctx: Ctx, intent: Intent): void {
  const market = ctx.state.markets.get(intent.symbol);
  if (market?.trailIntentId === intent.id) market.trailIntentId = null;
}

/** Keeps `positionStopOwners` in step with an intent's position-stop change in flight. */
export function indexPositionStop(owners: Map<string, Intent['id']>, intent: Intent): void {
  if (intent.guard.positionStop !== null) owners.set(intent.symbol, intent.id);
  else if (owners.get(intent.symbol) === intent.id) owners.delete(intent.symbol);
}

/** Close at market with a reduce-only order; the stop stays in place until the position is flat. */
export function startExit(ctx: Ctx, intent: Intent, reason: string, protective: boolean): Intent {
  if (!isActive(intent) || intent.phase.name === 'exiting') return intent;
  if (protective) ctx.state.counters.protectiveExits += 1;
  const entry = orderOf(ctx, intent.entryOrder);
  if (entry !== null && isLive(entry)) requestCancel(ctx, entry);
  const exiting: Intent = { ...intent, phase: { name: 'exiting', reason, sinceMs: ctx.atMs } };
  const position = findPosition(ctx, intent.symbol);
  const sizeLots = position === undefined ? 0 : effectiveSizeLots(position);
  // Nothing filled yet: cancelling the entry is the whole exit; should it fill first, the exiting
  // phase closes what it opened.
  if (sizeLots === 0 && (entry === null || filledLots(entry) === 0)) {
    notify(ctx, protective ? 'alarm' : 'info', 'entry-cancel', intent.symbol, `${intent.id} cancelling the unfilled entry: ${reason}`);
    return putIntent(ctx, exiting);
  }
  notify(ctx, protective ? 'alarm' : 'info', 'exit', intent.symbol, `${intent.id} closing at market: ${reason}`);
  return putIntent(ctx, sendExit(ctx, exiting, sizeLots));
}

/**
 * A position being closed is never given up on: past `exitAttemptsMax` failures the operator is
 * alarmed at every further attempt, and attempts slow down (exitRetryDelayMs), but they go on.
 *
 * One market order takes at most the venue's market maximum (Bybit's maxMktOrderQty, which it
 * lowers now and then, and which a position opened by hand may exceed): a larger position closes
 * in parts, the next sent as soon as the one before has filled (protect.ts, progressExiting).
 */
export function sendExit(ctx: Ctx, intent: Intent, sizeLots: number): Intent {
  const attempt = intent.exitAttempts + 1;
  const failed = exitFailures(intent);
  if (failed >= ctx.state.config.exitAttemptsMax) {
    notify(ctx, 'alarm', 'exit-failing', intent.symbol, `${intent.id}: ${failed} exit attempts failed; trying again, an operator should look`);
  }
  const key = clientOrderIdFor(intent.orderIdBase, 'exit', attempt);
  // The side closes what the venue shows; before any position is visible, what the entry opened.
  const side: Side = sizeLots !== 0 ? (sizeLots > 0 ? 'sell' : 'buy') : oppositeSide(intent.side);
  const wantedLots = Math.max(Math.abs(sizeLots), intent.kind === 'adopted' ? 0 : intent.sizeLots);
  const lots = Math.min(wantedLots, instrumentOf(ctx, intent.symbol)?.maxMarketLots ?? wantedLots);
  if (lots === 0) return intent;
  if (Math.abs(sizeLots) > lots || intent.exitsFilled > 0) ctx.state.counters.exitParts += 1;
  if (Math.abs(sizeLots) > lots) {
    notify(ctx, 'warn', 'exit-in-parts', intent.symbol, `${intent.id}: the ${describeQty(ctx, intent.symbol, Math.abs(sizeLots))} open is more than the ${describeQty(ctx, intent.symbol, lots)} one market order takes; closing it in parts, ${key} first`);
  }
  putOrder(ctx, newPendingOrder({
    key, intentId: intent.id, role: 'exit', createdMs: ctx.atMs,
    spec: { symbol: intent.symbol, side, sizeLots: lots, reduceOnly: true, type: { kind: 'market' } },
  }));
  submitOrder(ctx, key);
  return { ...intent, exitOrder: key, exitAttempts: attempt };
}

/** Exit orders that did not fill in full (refused, lost, cut short by the venue). */
export function exitFailures(intent: Intent): number {
  return intent.exitAttempts - intent.exitsFilled;
}

/** A size in the instrument's quantity, for notices. */
export function describeQty(ctx: Ctx, symbol: string, lots: number): string {
  const instrument = instrumentOf(ctx, symbol);
  return instrument === undefined ? `${lots} lots` : lotsToQty(instrument, lots);
}

/**
 * What is open: the position as known, or before the venue shows it, what our entry is known to
 * have filled (seed 7539: a stop sized on an order report alone left out the entry's own lots and
 * covered only what a resting foreign order could add; when that order filled, the position
 * outgrew its stop).
 */
export function exposedLots(ctx: Ctx, intent: Intent, sizeLots: number): number {
  if (sizeLots !== 0) return Math.abs(sizeLots);
  const entry = orderOf(ctx, intent.entryOrder);
  return entry === null ? 0 : filledLots(entry);
}

/**
 * What a stop must cover: the position as known (before any is, what our entry is known to have
 * filled) plus what orders on its side (our entry, or a foreign order still filling) add beyond
 * the fills booked from them: what a live one may still fill, and what any one's report says
 * filled whose fills have not come yet (seed 242619: a foreign order reported 4.1 filled with 0.7
 * booked; a stop for 0.7 and the order's unfilled 2.2 left 3.4 already in the venue's position
 * uncovered until a second stop went out). Sized so, a stop sent on the first evidence of a fill
 * still covers the whole position when the rest fills before its reply, or when the venue's report
 * of the position arrives before the orders' own reports (then it over-covers for a while, which a
 * reduce-only stop may: it never closes more than the position).
 */
export function coverLots(ctx: Ctx, intent: Intent, sizeLots: number): number {
  const side = sizeLots !== 0 ? (sizeLots > 0 ? 'buy' : 'sell') : intent.side;
  const entry = sizeLots === 0 ? orderOf(ctx, intent.entryOrder) : null;
  const positionLots = exposedLots(ctx, intent, sizeLots);
  let mayAddLots = 0;
  for (const order of unsettledOrdersOf(ctx, intent.symbol)) {
    const { spec } = order;
    if (spec.side !== side || spec.reduceOnly) continue;
    if (isLive(order)) mayAddLots += Math.max(0, spec.sizeLots - filledLots(order));
    // The entry's reported fills are in positionLots already when the position is not known yet.
    if (order.key !== entry?.key) mayAddLots += Math.max(0, order.reportedFilledLots - order.fillsLots);
  }
  return positionLots + mayAddLots;
}

export function orderOf(ctx: Ctx, key: OrderKey | null): Order | null {
  return key === null ? null : getOrder(ctx, key);
}
