// Outcomes of our commands: REST replies to creates and cancels, answers to queries by client
// order id, and timers. A reply is one more fact about an order; it never overrides what the
// venue's stream has already shown (see order.ts), and an outcome we cannot know is asked for,
// never guessed and never resent.

import type { NoticeLevel } from '../commands.ts';
import type { IntentId } from '../ids.ts';
import type { EventOf } from '../events.ts';
import { assertNever } from '../assert.ts';
import type { Order, OrderKey } from '../order/order.ts';
import { clearCancelRequest, isAcknowledged, isLive, onCancelAcked, onReport, onSubmitAcked, onSubmitRejected, onSubmitUnknown } from '../order/order.ts';
import { effectiveSizeLots } from '../position/position.ts';
import type { Ctx } from './context.ts';
import { anomaly, debug, findPosition, notify, queryOrder, refusedText, startTimer } from './context.ts';
import { promoteOrphan } from '../reconcile/restore.ts';
import { onSnapshotTimer, recheckSoon } from './snapshots.ts';
import { resendWantedCancel, updateOrder } from './orders.ts';
import { evaluateSymbol, replaceUnlistedExit, replaceUnlistedStop } from './protect.ts';
import { putIntent, sendExit, startExit } from './intents.ts';
import { onPositionStopExpired, onReviewTimer, settleUnknownAmend } from './guard.ts';
import { onDelistingCloseTimer } from './delisting.ts';

type Reply =
  | EventOf<'OrderSubmitAcked'>
  | EventOf<'OrderSubmitRejected'>
  | EventOf<'OrderSubmitUnknown'>
  | EventOf<'OrderCancelAcked'>
  | EventOf<'OrderCancelRejected'>
  | EventOf<'OrderCancelUnknown'>
  | EventOf<'OrderQueried'>
  | EventOf<'OrderQueryFailed'>;

export function onReply(ctx: Ctx, event: Reply): void {
  const order = ctx.state.orders.get(event.clientOrderId);
  if (order === undefined) {
    anomaly(ctx, null, `${event.type} for ${event.clientOrderId}, an order this engine has no record of`);
    return;
  }
  const next = updateOrder(ctx, order, nextOnReply(ctx, order, event));
  if (event.type === 'OrderQueried') resendWantedCancel(ctx, next);
  // A protective order whose create has no answer: protect now, ask after (protect.ts).
  if (event.type === 'OrderSubmitUnknown' && next.status === 'unknown') {
    if (next.role === 'stop') replaceUnlistedStop(ctx, next);
    if (next.role === 'exit') replaceUnlistedExit(ctx, next);
  }
  evaluateSymbol(ctx, order.spec.symbol);
}

function nextOnReply(ctx: Ctx, order: Order, event: Reply): Order {
  switch (event.type) {
    case 'OrderSubmitAcked':
      return onSubmitAcked(order, event.venueOrderId);
    case 'OrderSubmitRejected':
      // The venue already holds an order under this client order id: as a rule this very create,
      // an earlier attempt of which went through (a retry after a lost or throttled answer). Not a
      // refusal: taken for one, a stop would be sent again while the first stands. Ask instead.
      if (event.code === 'duplicate-id') {
        return order.status === 'submitted' || order.status === 'unknown' ? askVenue(ctx, onSubmitUnknown(order, ctx.atMs), `the venue already has an order under this id (${event.reason})`) : order;
      }
      if (order.role === 'entry' || order.role === 'stop') {
        // An entry the dry run did not send is what was asked for; a stop not sent is still a warning.
        const level = event.code === 'not-sent' && order.role === 'entry' ? 'info' : 'warn';
        notify(ctx, level, 'order-rejected', order.spec.symbol, `${order.key} ${refusedText(event.code, event.reason)}`);
      }
      // Nothing to reduce: the venue's position is not what we think (a stop or someone else
      // closed it while its reports are still on the way, or lost). Look now rather than at the
      // next periodic reconciliation.
      if (event.code === 'reduce-only') recheckSoon(ctx);
      return onSubmitRejected(order, event.code, event.reason);
    case 'OrderSubmitUnknown':
      return askVenue(ctx, onSubmitUnknown(order, ctx.atMs), event.reason);
    case 'OrderCancelUnknown':
      return askVenue(ctx, clearCancelRequest(order), `cancel: ${event.reason}`);
    case 'OrderCancelAcked':
      return onCancelAcked(clearCancelRequest(order), 'cancelled on request');
    case 'OrderCancelRejected':
      // Usually "not found": it filled or was cancelled first (a venue cancels a reduce-only order
      // once the position is flat), or our cancel overtook the create. Its report ending it came
      // already (the usual order): that is the answer. Otherwise the reports will say which; ask
      // so that we do not depend on them arriving. Expected, so not a warning.
      if (event.code === 'not-found' && endedAtVenue(order)) {
        debug(ctx, 'cancel-not-needed', order.spec.symbol, () => `${order.key}: cancel not needed, the order is ${order.status} at the venue`);
        return clearCancelRequest(order);
      }
      return askVenue(ctx, clearCancelRequest(order), `cancel ${refusedText(event.code, event.reason)}`, event.code === 'not-found' ? 'info' : 'warn');
    case 'OrderQueried':
      return event.report === null ? onNotFound(ctx, order) : onFound(ctx, order, event.report);
    case 'OrderQueryFailed':
      // No answer is not "not found": ask again later, and count nothing. Whatever made us ask (an
      // outcome unknown, an order missing from a snapshot) still stands while the order is live.
      if (isLive(order)) startTimer(ctx, { kind: 'query-order', orderKey: order.key }, ctx.state.config.unknownQueryIntervalMs);
      return order;
    default:
      return assertNever(event);
  }
}

/** The venue's report showed the order ended (not our conclusion that it was never placed). */
function endedAtVenue(order: Order): boolean {
  return (order.status === 'filled' || order.status === 'cancelled' || order.status === 'expired') && order.venueOrderId !== null;
}

function askVenue(ctx: Ctx, order: Order, reason: string, level: NoticeLevel = 'warn'): Order {
  notify(ctx, level, 'order-outcome-unknown', order.spec.symbol, `${order.key}: ${reason}; asking the venue by client order id`);
  queryOrder(ctx, order);
  return order;
}

function onFound(ctx: Ctx, order: Order, report: NonNullable<EventOf<'OrderQueried'>['report']>): Order {
  ctx.state.notFoundAnswers.delete(order.key);
  ctx.state.orderKeyByVenueId.set(report.venueOrderId, order.key);
  // An amend whose reply was lost and that this answer does not show did not land (order.ts).
  return promoteOrphan(ctx, updateOrder(ctx, order, onReport(settleUnknownAmend(order, report), report)));
}

/** "No such order": the create may still be on its way, so ask again a bounded number of times. */
function onNotFound(ctx: Ctx, reported: Order): Order {
  const order = settleUnknownAmend(reported, null);
  // After a failed cancel: the create has not landed yet; its reply or report will show it.
  if (order.status !== 'unknown') return order;
  const answers = (ctx.state.notFoundAnswers.get(order.key) ?? 0) + 1;
  if (answers < ctx.state.config.unknownNotFoundMax) {
    ctx.state.notFoundAnswers.set(order.key, answers);
    startTimer(ctx, { kind: 'query-order', orderKey: order.key }, ctx.state.config.unknownQueryIntervalMs);
    return order;
  }
  ctx.state.notFoundAnswers.delete(order.key);
  notify(ctx, 'warn', 'order-never-placed', order.spec.symbol, `${order.key}: not found at the venue after ${answers} queries; concluded never placed`);
  return onSubmitRejected(order, 'not-found', 'not found at the venue');
}

export function onTimerFired(ctx: Ctx, event: EventOf<'TimerFired'>): void {
  const purpose = ctx.state.timers.get(event.timerId);
  if (purpose === undefined) return; // already handled: a timer fires at most once
  ctx.state.timers.delete(event.timerId);
  switch (purpose.kind) {
    case 'query-order': {
      const order = ctx.state.orders.get(purpose.orderKey);
      if (order !== undefined && isLive(order)) queryOrder(ctx, order);
      return;
    }
    case 'stop-deadline':
      return onStopDeadline(ctx, purpose.intentId, purpose.orderKey);
    case 'exit-retry':
      return onExitRetry(ctx, purpose.intentId);
    case 'position-stop-expired': {
      const symbol = onPositionStopExpired(ctx, purpose.intentId, purpose.commandId);
      if (symbol !== null) evaluateSymbol(ctx, symbol);
      return;
    }
    case 'review': {
      const symbol = onReviewTimer(ctx, purpose.intentId);
      if (symbol !== null) evaluateSymbol(ctx, symbol);
      return;
    }
    case 'delisting-close':
      return onDelistingCloseTimer(ctx, purpose.symbol);
    case 'reconcile':
      if (event.timerId === ctx.state.periodicTimerId) onSnapshotTimer(ctx, 'periodic', 0);
      return;
    case 'snapshot-retry':
      return onSnapshotTimer(ctx, purpose.reason, purpose.attempt);
    default:
      return assertNever(purpose);
  }
}

/**
 * A stop's deadline: if the venue has not confirmed the intent's stop, exit. The deadline of a stop
 * replaced because its create had no answer stands for its replacement: sending another stop does
 * not buy more time, or the window without one would grow with every lost request.
 */
function onStopDeadline(ctx: Ctx, intentId: IntentId, orderKey: OrderKey): void {
  const intent = ctx.state.intents.get(intentId);
  if (intent === undefined || intent.phase.name !== 'open' || intent.stopOrder === null) return;
  const deadlineStop = ctx.state.orders.get(orderKey);
  const replacedUnanswered = intent.replacedStops.includes(orderKey) && deadlineStop !== undefined && !isAcknowledged(deadlineStop) && deadlineStop.status !== 'filled';
  if (intent.stopOrder !== orderKey && !replacedUnanswered) return;
  const stop = ctx.state.orders.get(intent.stopOrder);
  if (stop === undefined || isAcknowledged(stop) || stop.status === 'filled') return;
  const waited = ctx.state.config.stopAckDeadlineMs;
  startExit(ctx, intent, `stop ${stop.key} not acknowledged within ${waited} ms (${stop.status})`, true);
}

function onExitRetry(ctx: Ctx, intentId: IntentId): void {
  const intent = ctx.state.intents.get(intentId);
  if (intent === undefined || intent.phase.name !== 'exiting') return;
  const exit = intent.exitOrder === null ? undefined : ctx.state.orders.get(intent.exitOrder);
  if (exit !== undefined && isLive(exit)) return;
  const position = findPosition(ctx, intent.symbol);
  const sizeLots = position === undefined ? 0 : effectiveSizeLots(position);
  if (sizeLots === 0) {
    evaluateSymbol(ctx, intent.symbol);
    return;
  }
  putIntent(ctx, sendExit(ctx, intent, sizeLots));
}
