// The step context: the state being changed, the event's time, and the commands produced so far.
// Helpers here are the only way handlers emit commands, so every order command also moves its
// order along the state machine in the same step.

import { fail } from '../assert.ts';
import type { Command, NoticeLevel } from '../commands.ts';
import type { RejectCode } from '../events.ts';
import type { ClientOrderId, IntentId } from '../ids.ts';
import { intentIdFor } from '../ids.ts';
import type { Instrument } from '../instrument.ts';
import type { Order, OrderKey } from '../order/order.ts';
import { isTerminal, markSubmitted, venueOrderIdOf } from '../order/order.ts';
import type { Intent } from '../intent/intent.ts';
import { isActive } from '../intent/intent.ts';
import type { Position } from '../position/position.ts';
import { newPosition, positionKey } from '../position/position.ts';
import type { EngineState, TimerPurpose } from '../state.ts';

export type Ctx = {
  readonly state: EngineState;
  readonly atMs: number;
  readonly out: Command[];
};

export function nextSeq(ctx: Ctx): number {
  ctx.state.seq += 1;
  return ctx.state.seq;
}

/** Intent ids come from their own counter: they go into client order ids, and must stay unique across runs. */
export function nextIntentId(ctx: Ctx): IntentId {
  ctx.state.intentSeq += 1;
  return intentIdFor(ctx.state.config.botId, ctx.state.intentSeq);
}

export function notify(ctx: Ctx, level: NoticeLevel, code: string, symbol: string | null, text: string, data?: Readonly<Record<string, number>>): void {
  ctx.out.push({ type: 'Notify', atMs: ctx.atMs, notice: data === undefined ? { level, code, symbol, text } : { level, code, symbol, text, data } });
}

/** A routine line (a trailing stop's every move): its text is made, and the notice sent, only if the configuration asks for debug notices. */
export function debug(ctx: Ctx, code: string, symbol: string | null, text: () => string): void {
  if (ctx.state.config.debugNotices) notify(ctx, 'debug', code, symbol, text());
}

/** A refusal in words: by the venue, with its code, or never sent (the dry run). */
export function refusedText(code: RejectCode, reason: string): string {
  return code === 'not-sent' ? `not sent: ${reason}` : `rejected by the venue (${code}): ${reason}`;
}

export function anomaly(ctx: Ctx, symbol: string | null, text: string): void {
  ctx.state.counters.anomalies += 1;
  notify(ctx, 'warn', 'anomaly', symbol, text);
}

export function startTimer(ctx: Ctx, purpose: TimerPurpose, delayMs: number): number {
  const timerId = nextSeq(ctx);
  const fireAtMs = ctx.atMs + delayMs;
  ctx.state.timers.set(timerId, { ...purpose, fireAtMs });
  ctx.out.push({ type: 'StartTimer', timerId, fireAtMs });
  return timerId;
}

export function putOrder(ctx: Ctx, order: Order): Order {
  putOrderUnrecorded(ctx, order);
  ctx.out.push({ type: 'Record', record: { kind: 'order', order } });
  return order;
}

/**
 * Stores a change of an order that the ledger does not keep: an amend on its way. The ledger holds
 * orders as the venue confirmed them (the amend is recorded when it lands), and a trailing stop
 * sends one a second: a ledger row per send would double the writes for nothing an operator reads.
 */
export function putOrderUnrecorded(ctx: Ctx, order: Order): Order {
  const { orders, orderSettledMs, intents } = ctx.state;
  if (indexUnsettled(ctx.state.unsettledOrders, order)) {
    orders.set(order.key, order);
    orderSettledMs.delete(order.key);
  } else {
    // Settled: retired, unless its intent is still in play (it may read it: a filled rung, the entry).
    const intent = order.intentId === null ? undefined : intents.get(order.intentId);
    if (intent !== undefined && isActive(intent)) orders.set(order.key, order);
    else orders.setRetired(order.key, order);
    if (!orderSettledMs.has(order.key)) orderSettledMs.set(order.key, ctx.atMs);
  }
  const venueOrderId = venueOrderIdOf(order);
  if (venueOrderId !== null) ctx.state.orderKeyByVenueId.set(venueOrderId, order.key);
  return order;
}

/**
 * Keeps `unsettledOrders` in step with an order: in it until it is finished and all its reported
 * fills are booked. Returns whether the order is unsettled.
 */
export function indexUnsettled(index: Map<string, Map<OrderKey, Order>>, order: Order): boolean {
  const { symbol } = order.spec;
  let bySymbol = index.get(symbol);
  if (!isTerminal(order) || order.reportedFilledLots > order.fillsLots) {
    if (bySymbol === undefined) {
      bySymbol = new Map();
      index.set(symbol, bySymbol);
    }
    bySymbol.set(order.key, order);
    return true;
  }
  if (bySymbol !== undefined && bySymbol.delete(order.key) && bySymbol.size === 0) index.delete(symbol);
  return false;
}

/** The symbol's orders not yet settled (see EngineState.unsettledOrders). */
export function unsettledOrdersOf(ctx: Ctx, symbol: string): Iterable<Order> {
  return ctx.state.unsettledOrders.get(symbol)?.values() ?? [];
}

export function getOrder(ctx: Ctx, key: OrderKey): Order {
  const order = ctx.state.orders.get(key);
  if (order === undefined) fail(`no order ${key}`);
  return order;
}

/** Emits the create for a pending order of ours and marks it submitted, in one step. */
export function submitOrder(ctx: Ctx, key: OrderKey): void {
  const order = getOrder(ctx, key);
  if (order.status !== 'pending') fail(`order ${key} sent twice (status ${order.status})`);
  putOrder(ctx, markSubmitted(order, ctx.atMs));
  ctx.out.push({ type: 'SubmitOrder', commandId: nextSeq(ctx), clientOrderId: key as ClientOrderId, spec: order.spec });
}

export function cancelOrder(ctx: Ctx, order: Order): void {
  ctx.out.push({
    type: 'CancelOrder', commandId: nextSeq(ctx), clientOrderId: order.key as ClientOrderId,
    symbol: order.spec.symbol, venueOrderId: venueOrderIdOf(order),
  });
}

export function queryOrder(ctx: Ctx, order: Order): void {
  ctx.out.push({ type: 'QueryOrder', commandId: nextSeq(ctx), clientOrderId: order.key as ClientOrderId, symbol: order.spec.symbol });
}

export function instrumentOf(ctx: Ctx, symbol: string): Instrument | undefined {
  return ctx.state.instruments.get(symbol);
}

/** The position key of a symbol, made once per symbol: it is looked up on every venue event. */
function keyOf(ctx: Ctx, symbol: string): string {
  const { positionKeys, config } = ctx.state;
  let key = positionKeys.get(symbol);
  if (key === undefined) {
    key = positionKey(config.account, symbol);
    positionKeys.set(symbol, key);
  }
  return key;
}

export function positionOf(ctx: Ctx, symbol: string): Position {
  const key = keyOf(ctx, symbol);
  let position = ctx.state.positions.get(key);
  if (position === undefined) {
    position = newPosition(ctx.state.config.account, symbol);
    ctx.state.positions.set(key, position);
  }
  return position;
}

/** The intent active on the symbol (at most one is), if any. */
export function activeIntentOn(ctx: Ctx, symbol: string): Intent | undefined {
  const intentId = ctx.state.activeIntentBySymbol.get(symbol);
  return intentId === undefined ? undefined : ctx.state.intents.get(intentId);
}

export function findPosition(ctx: Ctx, symbol: string): Position | undefined {
  return ctx.state.positions.get(keyOf(ctx, symbol));
}

export function putPosition(ctx: Ctx, position: Position): void {
  ctx.state.positions.set(position.key, position);
  ctx.out.push({ type: 'Record', record: { kind: 'position', position } });
}
