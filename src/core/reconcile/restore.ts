// Restoring what is ours from the venue. An order that carries this bot's client order id but that
// state does not know (after a restart without a journal, or a lost event) is linked back to its
// intent, which is rebuilt from the order if need be: the id says which intent and which role.
// So a restarted bot finds its resting entry, its take-profit and its stop, and sends neither a
// second entry nor a second take-profit.
//
// An earlier restored intent may have sent orders under a fresh id base (see Intent.orderIdBase),
// so after another restart one position's orders can carry two intent ids: orders of ours for a
// symbol whose active intent is itself restored join that intent.
//
// Invariants: at most one active intent per symbol, so an order of ours whose intent is finished,
// or whose symbol has an active intent this run opened, is an orphan: recorded, cancelled if live.

import type { Fill, OrderReport } from '../events.ts';
import type { ParsedClientOrderId } from '../ids.ts';
import { clientOrderIdFor, parseClientOrderId } from '../ids.ts';
import type { Intent } from '../intent/intent.ts';
import { freshGuard, isActive } from '../intent/intent.ts';
import { emptyPlan, resolvePlan } from '../protection/plan.ts';
import type { Order } from '../order/order.ts';
import { isAcknowledged, isLive, isTerminal, newPendingOrder, onReport } from '../order/order.ts';
import { oppositeSide } from '../types.ts';
import type { Ctx } from '../engine/context.ts';
import { findPosition, instrumentOf, nextIntentId, notify, putOrder, queryOrder } from '../engine/context.ts';
import { requestCancel, specOfReport } from '../engine/orders.ts';
import { orderOf, putIntent } from '../engine/intents.ts';
import { entryTicksOf, foundPositionOpenedMs } from '../engine/protect.ts';
import { takeProfitSpec } from '../engine/requests.ts';
import { withVenueTrailingFound } from '../engine/guard.ts';

/** A report of an order of ours that state does not know: restored if it is live, kept as history if not. */
export function restoreOrder(ctx: Ctx, report: OrderReport, ours: ParsedClientOrderId): Order {
  const { state } = ctx;
  const key = report.clientOrderId ?? `ext:${report.venueOrderId}`;
  if (!isLiveStatus(report.status)) return recordHistory(ctx, key, report);
  const target = targetIntent(ctx, ours, report.symbol);
  if (target === 'orphan') return recordOrphan(ctx, key, report);
  const intentId = target?.id ?? ours.intentId;
  const seed = newPendingOrder({ key, intentId, role: ours.role, spec: specOfReport(report), createdMs: ctx.atMs });
  const order = putOrder(ctx, onReport(seed, report));
  state.reconcile.restoredOrders += 1;
  linkRestored(ctx, target, order, ours);
  notify(ctx, 'warn', 'order-restored', report.symbol, `restored ${key} (${ours.role} of ${intentId}) from the venue: ${order.status}`);
  return order;
}

/**
 * A fill of an order of ours that state does not know: whether the order is still open the fill
 * cannot say, so the order is recorded as `unknown` and the venue is asked (`promoteOrphan` then
 * restores it if the answer shows it live).
 */
export function recordFromFill(ctx: Ctx, fill: Fill): Order {
  const key = fill.clientOrderId ?? `ext:${fill.venueOrderId}`;
  const spec = { symbol: fill.symbol, side: fill.side, sizeLots: fill.lots, reduceOnly: false, type: { kind: 'market' as const } };
  const seed = newPendingOrder({ key, intentId: null, role: 'orphan', spec, createdMs: ctx.atMs });
  const order = putOrder(ctx, { ...seed, status: 'unknown', venueOrderId: fill.venueOrderId, sinceMs: ctx.atMs });
  queryOrder(ctx, order);
  return order;
}

/**
 * A fill of an order state does not know, met in a snapshot whose open orders do not hold it: the
 * order is over (filled, or cancelled after part of it filled). Kept as history: ours as an orphan,
 * another's under the role the venue gives it (its own TP/SL, or external).
 */
export function recordFinishedFromFill(ctx: Ctx, fill: Fill): void {
  const ours = fill.clientOrderId !== null && parseClientOrderId(ctx.state.config.botId, fill.clientOrderId) !== null;
  const key = ours ? fill.clientOrderId : `ext:${fill.venueOrderId}`;
  if (ctx.state.orders.has(key)) return;
  const role = ours ? 'orphan' : fill.positionTrigger === null ? 'external' : (`position-${fill.positionTrigger}` as const);
  const spec = { symbol: fill.symbol, side: fill.side, sizeLots: fill.lots, reduceOnly: false, type: { kind: 'market' as const } };
  const seed = newPendingOrder({ key, intentId: null, role, spec, createdMs: ctx.atMs });
  putOrder(ctx, { ...seed, status: 'filled', venueOrderId: fill.venueOrderId, reason: 'finished unseen (from the fill history)' });
  if (!ours) ctx.state.counters.adoptedOrders += 1;
  if (role === 'external') {
    notify(ctx, 'warn', 'order-adopted', fill.symbol, `external ${fill.side} order ${fill.venueOrderId} filled while unseen (from the fill history)`);
  }
}

/** An orphan the venue shows live (after a query, or a report): restored to its intent if one can take it, else cancelled. */
export function promoteOrphan(ctx: Ctx, order: Order): Order {
  if (order.role !== 'orphan' || !isAcknowledged(order) || order.cancelWanted) return order;
  const ours = parseClientOrderId(ctx.state.config.botId, order.key);
  const target = ours === null ? 'orphan' : targetIntent(ctx, ours, order.spec.symbol);
  if (ours === null || target === 'orphan') {
    ctx.state.reconcile.orphanOrders += 1;
    notify(ctx, 'warn', 'orphan-order', order.spec.symbol, `${order.key} is ours and live but no live intent wants it: cancelling it`);
    requestCancel(ctx, order);
    return ctx.state.orders.get(order.key) ?? order;
  }
  const linked = putOrder(ctx, { ...order, intentId: target?.id ?? ours.intentId, role: ours.role });
  ctx.state.reconcile.restoredOrders += 1;
  const intent = linkRestored(ctx, target, linked, ours);
  notify(ctx, 'warn', 'order-restored', order.spec.symbol, `restored ${order.key} (${ours.role} of ${intent.id}) from the venue: ${linked.status}`);
  return linked;
}

/** Ours by its id, finished: kept so later facts about it find it; nothing to do. */
function recordHistory(ctx: Ctx, key: string, report: OrderReport): Order {
  const seed = newPendingOrder({ key, intentId: null, role: 'orphan', spec: specOfReport(report), createdMs: ctx.atMs });
  return putOrder(ctx, onReport(seed, report));
}

function isLiveStatus(status: OrderReport['status']): boolean {
  return status === 'new' || status === 'untriggered' || status === 'partially-filled';
}

/** The intent an order of ours belongs to: its own if active, the symbol's restored one, a new one (undefined), or none. */
function targetIntent(ctx: Ctx, ours: ParsedClientOrderId, symbol: string): Intent | undefined | 'orphan' {
  const own = ctx.state.intents.get(ours.intentId);
  if (own !== undefined) return isActive(own) ? own : 'orphan';
  const activeId = ctx.state.activeIntentBySymbol.get(symbol);
  if (activeId === undefined) return undefined;
  const active = ctx.state.intents.get(activeId);
  return active?.kind === 'restored' ? active : 'orphan';
}

/** Ours by its id, but nothing live wants it: recorded so no later fact about it is lost, cancelled if live. */
function recordOrphan(ctx: Ctx, key: string, report: OrderReport): Order {
  const seed = newPendingOrder({ key, intentId: null, role: 'orphan', spec: specOfReport(report), createdMs: ctx.atMs });
  const order = putOrder(ctx, onReport(seed, report));
  if (isLive(order)) {
    ctx.state.reconcile.orphanOrders += 1;
    notify(ctx, 'warn', 'orphan-order', report.symbol, `${key} is ours but no live intent wants it: cancelling it`);
    requestCancel(ctx, order);
  }
  return ctx.state.orders.get(key) ?? order;
}

/** Links a restored order to its intent, restoring the intent first if it has none (`target` undefined). */
function linkRestored(ctx: Ctx, target: Intent | undefined, order: Order, ours: ParsedClientOrderId): Intent {
  const linked = linkOrder(target ?? newRestoredIntent(ctx, order, ours), order, ours);
  // Mid-run (a lost report) the position is known: the intent is planned now. At a start, the
  // first reconciliation plans every restored intent once it has merged the positions.
  return putIntent(ctx, target === undefined && ctx.state.reconciledSinceStart ? planRestored(ctx, linked) : linked);
}

/**
 * A restored intent follows its symbol's configured plan (config.restoredProtection): trailing,
 * breakeven and the aged exit, measured from the position's entry, or from the resting entry's
 * price, or the market's, as an open request's would be. The ladder only while the entry is still
 * working and no take-profit of the intent was found: its rungs wait for the entry to be done, so
 * none is on the venue yet, and they go out sized for what it filled, as the first process's would
 * have. Otherwise the rungs still on the venue were restored as take-profits, and those that are
 * not (filled, cancelled) are not placed again. The position's age counts from its opening fill
 * where the fills fetched at the start reach back to it, from the restore otherwise.
 */
export function planRestored(ctx: Ctx, intent: Intent): Intent {
  const { restoredProtection } = ctx.state.config;
  const { ladder, ...rest } = restoredProtection.symbols[intent.symbol] ?? restoredProtection.default;
  const entry = orderOf(ctx, intent.entryOrder);
  const ladderWaits = (ladder ?? []).length > 0 && entry !== null && !isTerminal(entry) && intent.takeProfitOrders.length === 0;
  const request = ladderWaits && ladder !== undefined ? { ...rest, ladder } : rest;
  if ((request.trailing ?? null) === null && (request.aged ?? null) === null && request.breakevenAfterFirstTarget !== true && !ladderWaits) return intent;
  const instrument = instrumentOf(ctx, intent.symbol);
  const position = findPosition(ctx, intent.symbol);
  const market = ctx.state.markets.get(intent.symbol);
  const referenceTicks = (position === undefined ? null : entryTicksOf(ctx, position))
    ?? (entry?.spec.type.kind === 'limit' ? entry.spec.type.priceTicks : null) ?? market?.lastTicks ?? null;
  const plan = instrument === undefined || referenceTicks === null
    ? { ok: false as const, reason: 'no entry or market price to measure it from' }
    : resolvePlan({ instrument, side: intent.side, referenceTicks, sizeLots: intent.sizeLots, request });
  if (!plan.ok) {
    notify(ctx, 'warn', 'restored-plan-unfit', intent.symbol, `${intent.id} restored without its plan: the configured plan of ${intent.symbol} does not fit: ${plan.reason}; stop only`);
    return intent;
  }
  const { ladder: rungs } = plan.value;
  const parts = [
    rungs.length === 0 ? null : `a take-profit ladder of ${rungs.length} for when the entry is done`,
    plan.value.trailing === null ? null : `${plan.value.trailing.mode} trailing`, plan.value.breakevenAfterFirstTarget ? 'breakeven' : null, plan.value.aged === null ? null : 'aged exit',
  ];
  ctx.state.counters.plansRestored += 1;
  notify(ctx, 'info', 'plan-restored', intent.symbol, `${intent.id} restored: follows the configured plan of ${intent.symbol} (${parts.filter((part) => part !== null).join(', ')})`);
  const openedMs = position === undefined || position.sizeLots === 0 ? intent.positionSeenMs : Math.min(intent.positionSeenMs ?? Infinity, foundPositionOpenedMs(ctx, position));
  // The rungs are pending orders under the restored intent's fresh id, as an open request's are.
  const takeProfitOrders = rungs.map((rung, index) => {
    const key = clientOrderIdFor(intent.orderIdBase, 'take-profit', index + 1);
    putOrder(ctx, newPendingOrder({ key, intentId: intent.id, role: 'take-profit', createdMs: ctx.atMs, spec: takeProfitSpec({ symbol: intent.symbol, side: intent.side, sizeLots: rung.lots }, rung.priceTicks) }));
    return key;
  });
  const planned = rungs.length === 0 ? { ...intent, plan: plan.value, positionSeenMs: openedMs }
    : { ...intent, plan: plan.value, positionSeenMs: openedMs, takeProfitOrders, takeProfitTicks: intent.takeProfitTicks ?? rungs[0]?.priceTicks ?? null };
  // A trailing stop the venue holds on the position (the earlier process's venue mode) stays the venue's.
  return position === undefined ? planned : withVenueTrailingFound(ctx, planned, position);
}

function newRestoredIntent(ctx: Ctx, order: Order, ours: ParsedClientOrderId): Intent {
  const { spec } = order;
  const entry = ours.role === 'entry';
  const stopTicks = ours.role === 'stop' && spec.type.kind === 'stop-market' ? spec.type.triggerTicks : spec.stopLoss?.triggerTicks ?? 0;
  const takeProfitTicks = ours.role === 'take-profit' && spec.type.kind === 'limit' ? spec.type.priceTicks : spec.takeProfit?.triggerTicks ?? null;
  return {
    id: ours.intentId, orderIdBase: nextIntentId(ctx), kind: 'restored', requestId: null, symbol: spec.symbol,
    side: entry ? spec.side : oppositeSide(spec.side),
    sizeLots: spec.sizeLots,
    // 0 means "not known yet": the stop is settled from the position when one is needed (protect.ts).
    stopLoss: { triggerTicks: stopTicks, triggerBy: spec.stopLoss?.triggerBy ?? ctx.state.config.stopTriggerBy },
    takeProfitTicks,
    protection: entry && spec.stopLoss !== undefined ? 'attached' : 'separate',
    entryOrder: null, stopOrder: null, stopAttempts: 0, replacedStops: [], takeProfitOrders: [], exitOrder: null, exitAttempts: 0, exitsFilled: 0,
    // The venue cannot tell us the plan: the symbol's configured one is given it once the position's
    // entry is known (planRestored).
    plan: emptyPlan, guard: freshGuard,
    // Orders that protect or close a position mean the position was there.
    positionSeenMs: entry ? null : ctx.atMs, stopConfirmedMs: null, flatSinceMs: null,
    phase: entry ? { name: 'entering' } : { name: 'open', sinceMs: ctx.atMs },
    createdMs: ctx.atMs,
  };
}

function linkOrder(intent: Intent, order: Order, ours: ParsedClientOrderId): Intent {
  switch (ours.role) {
    case 'entry':
      return intent.entryOrder === null ? { ...intent, entryOrder: order.key } : intent;
    case 'stop': {
      if (intent.stopOrder !== null && ours.attempt <= intent.stopAttempts) return intent;
      // The stop's own level is the intent's from now on, if it knew none (restored from another order).
      const stopLoss = intent.stopLoss.triggerTicks === 0 && order.spec.type.kind === 'stop-market' ? { ...intent.stopLoss, triggerTicks: order.spec.type.triggerTicks } : intent.stopLoss;
      return { ...intent, stopOrder: order.key, stopAttempts: Math.max(intent.stopAttempts, ours.attempt), stopLoss };
    }
    case 'take-profit': {
      if (intent.takeProfitOrders.includes(order.key)) return intent;
      const takeProfitTicks = intent.takeProfitTicks ?? (order.spec.type.kind === 'limit' ? order.spec.type.priceTicks : null);
      return { ...intent, takeProfitOrders: [...intent.takeProfitOrders, order.key], takeProfitTicks };
    }
    case 'age-exit':
      return { ...intent, guard: { ...intent.guard, agedExitOrder: order.key, agedExitAttempts: Math.max(intent.guard.agedExitAttempts, ours.attempt) } };
    case 'exit':
      return { ...intent, exitOrder: order.key, exitAttempts: Math.max(intent.exitAttempts, ours.attempt) };
    default:
      return intent;
  }
}
