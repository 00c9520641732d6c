// Protection: after every event about a symbol, move its intent along and make sure any open
// position has a stop on the venue, or is inside its bounded window to get one.
//
// Invariants kept here:
//  1. A position seen with no active intent is adopted at once (never left unwatched).
//  2. In `separate` mode the stop is sent on the first evidence of a fill, whichever event shows it
//     first (a fill, an order report, a position report, a query answer), sized for the position
//     plus what the live entry may still add; a stop not acknowledged by the deadline, or rejected
//     because the market is past it, turns into a market exit; a stop cancelled by someone else is
//     sent again; a position that outgrows its stop gets a larger one before the old is cancelled.
//  3. A position keeps its stop while exiting, until it is flat.
//  4. Every policy sees the position from the first event that shows it.
//  5. An intent is done only when its position is flat and its entry can no longer fill; a position
//     that turns to the other side ends its intent and is adopted afresh.

import { assertNever } from '../assert.ts';
import { clientOrderIdFor } from '../ids.ts';
import type { Intent } from '../intent/intent.ts';
import { freshGuard, isActive } from '../intent/intent.ts';
import { ticksToPrice, priceToTicksRounded } from '../instrument.ts';
import type { Order, OrderKey } from '../order/order.ts';
import { dropPending, filledLots, isAcknowledged, isLive, isTerminal, newPendingOrder } from '../order/order.ts';
import { averageEntryTicks } from '../position/ledger.ts';
import type { Position, VenuePositionView } from '../position/position.ts';
import { effectiveSizeLots } from '../position/position.ts';
import type { PositionView, ProtectionStatus } from '../protection/policy.ts';
import type { Market } from '../state.ts';
import type { Side } from '../types.ts';
import { oppositeSide, sideSign } from '../types.ts';
import type { Ctx } from './context.ts';
import { findPosition, getOrder, instrumentOf, nextIntentId, notify, putOrder, startTimer, submitOrder } from './context.ts';
import { writeBlockedReason } from './gate.ts';
import { runGuards, setPositionStopLoss, withVenueTrailingFound } from './guard.ts';
import { coverLots, describeQty, exitFailures, exposedLots, orderOf, putIntent, sendExit, startExit } from './intents.ts';
import type { IntentPlan } from '../protection/plan.ts';
import { emptyPlan, ladderLotsFilled, resolvePlan } from '../protection/plan.ts';
import { requestCancel } from './orders.ts';
import { closeIfDelistingDue } from './delisting.ts';

/** `market`: the symbol's market when the caller has it at hand (a ticker); looked up otherwise. */
export function evaluateSymbol(ctx: Ctx, symbol: string, market?: Market): void {
  const position = findPosition(ctx, symbol);
  const sizeLots = position === undefined ? 0 : effectiveSizeLots(position);
  const intentId = ctx.state.activeIntentBySymbol.get(symbol);
  let intent = intentId === undefined ? undefined : ctx.state.intents.get(intentId);
  if (intent === undefined) {
    // Before the first reconciliation a position may be one of ours whose orders the snapshot will
    // restore; adopting it now would protect it twice.
    if (sizeLots === 0 || position === undefined || !ctx.state.reconciledSinceStart) return;
    intent = adoptPosition(ctx, position, sizeLots);
  } else if (intent.kind === 'restored' && !ctx.state.reconciledSinceStart) {
    // Restored from a report the stream brought before the first snapshot: the position it protects
    // is not known until the snapshot (an unknown position is not a flat one), as for adoption.
    return;
  }
  intent = progress(ctx, intent, sizeLots);
  // The intent ended with a position still there (it turned to the other side): adopt that one.
  if (!isActive(intent) && sizeLots !== 0 && position !== undefined) intent = progress(ctx, adoptPosition(ctx, position, sizeLots), sizeLots);
  if (isActive(intent) && sizeLots !== 0 && position !== undefined) {
    runPolicies(ctx, intent, position, sizeLots);
    const current = ctx.state.intents.get(intent.id);
    if (current !== undefined && isActive(current)) runGuards(ctx, current, position, sizeLots, market ?? ctx.state.markets.get(symbol));
  }
}

function progress(ctx: Ctx, intent: Intent, sizeLots: number): Intent {
  if (sizeLots !== 0 && Math.sign(sizeLots) !== sideSign(intent.side) && isActive(intent)) {
    // One-way mode nets everything on a symbol: a manual order, or a fill we did not expect, put
    // the position on the other side. This intent's stop is on the wrong side for it; hand the
    // position over to adoption, which protects what is actually there.
    return finish(ctx, intent, `the position is now ${sizeLots > 0 ? 'long' : 'short'}, the other side from this intent`);
  }
  const seen = sizeLots !== 0 && intent.positionSeenMs === null ? { ...intent, positionSeenMs: ctx.atMs } : intent;
  let next: Intent;
  switch (seen.phase.name) {
    case 'entering':
      next = progressEntering(ctx, seen, sizeLots);
      break;
    case 'open':
      next = progressOpen(ctx, seen, sizeLots);
      break;
    case 'exiting':
      next = progressExiting(ctx, seen, sizeLots);
      break;
    case 'done':
      next = seen;
      break;
    default:
      return assertNever(seen.phase);
  }
  return next === intent ? intent : putIntent(ctx, next);
}

function progressEntering(ctx: Ctx, intent: Intent, sizeLots: number): Intent {
  const entry = orderOf(ctx, intent.entryOrder);
  const evidence = sizeLots !== 0 || (entry !== null && filledLots(entry) > 0);
  if (evidence) {
    const size = sizeLots !== 0 ? sizeLots : (entry === null ? 0 : filledLots(entry) * sideSign(intent.side));
    const ladderWaits = intent.plan.ladder.length > 0 ? '; the take-profit ladder goes out when the entry is done' : '';
    const partly = Math.abs(size) < intent.sizeLots ? ` so far, of ${describeQty(ctx, intent.symbol, intent.sizeLots)}${ladderWaits}` : '';
    notify(ctx, 'info', 'entry-filled', intent.symbol, `${intent.id} entry filled: ${describePosition(ctx, intent.symbol, size)}${partly}`);
    return progressOpen(ctx, { ...intent, phase: { name: 'open', sinceMs: ctx.atMs } }, sizeLots);
  }
  if (entry !== null && isTerminal(entry)) {
    const reason = 'reason' in entry && entry.reason !== null ? `: ${entry.reason}` : '';
    return finish(ctx, intent, `entry ${entry.status} without a fill${reason}`);
  }
  return intent;
}

function progressOpen(ctx: Ctx, intent: Intent, sizeLots: number): Intent {
  if (intent.positionSeenMs !== null && sizeLots === 0) return settleFlat(ctx, intent, 'position closed');
  // The stop closed the position, then the rest of a limit entry filled before our cancel landed:
  // that exposure has no stop of its own, so it goes at market at once.
  if (intent.flatSinceMs !== null) return startExit(ctx, intent, 'the entry filled again after the position closed', true);
  return keepTakeProfit(ctx, confirmStop(ctx, keepStop(ctx, intent, sizeLots)), sizeLots);
}

/**
 * Separate take-profits go out only once trading (they must be observed). A single one goes with
 * the first evidence of a fill, sized for the whole entry: reduce-only, it closes whatever is open
 * when it fills. A ladder's rungs are shares of the position, so they wait until the entry can no
 * longer fill and its fills are booked, and are then sized for what is open of what it filled (an
 * aged exit may have closed some meanwhile). They wait too while the stop is closing the position,
 * and while the entry, concluded never placed, contradicts the position (its reports may yet bring
 * it back).
 */
function keepTakeProfit(ctx: Ctx, intent: Intent, sizeLots: number): Intent {
  // (Asked on every ticker of a position with take-profits: once they are out, it is this loop.)
  if (!isActive(intent) || !hasPendingRung(ctx, intent) || writeBlockedReason(ctx) !== null) return intent;
  const rungs = intent.takeProfitOrders.flatMap((key) => orderOf(ctx, key) ?? []);
  if (intent.plan.ladder.length > 0 && rungs.every((rung) => rung.status === 'pending')) {
    const entry = orderOf(ctx, intent.entryOrder);
    // Done, and all it filled booked: the position then counts it (it may lag the order's report).
    if (entry !== null && (!isTerminal(entry) || entry.fillsLots < filledLots(entry))) return intent;
    const stop = orderOf(ctx, intent.stopOrder);
    if (stop !== null && (stop.status === 'partially-filled' || stop.status === 'filled')) return intent;
    const entryFilled = entry === null ? intent.sizeLots : filledLots(entry);
    if (entryFilled === 0 && sizeLots !== 0) return intent;
    sizeLadder(ctx, intent, rungs, entryFilled, Math.min(entryFilled, Math.abs(sizeLots)));
  }
  for (const key of intent.takeProfitOrders) {
    if (orderOf(ctx, key)?.status !== 'pending') continue;
    submitOrder(ctx, key);
    if (intent.takeProfitOrders.length > 1) ctx.state.counters.ladderRungs += 1;
  }
  return intent;
}

function hasPendingRung(ctx: Ctx, intent: Intent): boolean {
  for (const key of intent.takeProfitOrders) {
    if (orderOf(ctx, key)?.status === 'pending') return true;
  }
  return false;
}

/** Sizes a ladder's pending rungs for `openLots` of the entry's fill (when less than it asked for), dropping those it has no lots for. */
function sizeLadder(ctx: Ctx, intent: Intent, rungs: readonly Order[], entryFilledLots: number, openLots: number): void {
  if (openLots === intent.sizeLots || rungs.length !== intent.plan.ladder.length) return;
  const instrument = instrumentOf(ctx, intent.symbol);
  const lots = ladderLotsFilled(openLots, intent.sizeLots, intent.plan.ladder, instrument?.minLots ?? 1);
  const placed: string[] = [];
  for (const [index, rung] of rungs.entries()) {
    const rungLots = lots[index] ?? 0;
    if (rungLots === 0) {
      putOrder(ctx, dropPending(rung, `${describeQty(ctx, intent.symbol, openLots)} open, too little for this rung`));
      continue;
    }
    putOrder(ctx, { ...rung, spec: { ...rung.spec, sizeLots: rungLots } });
    const target = rung.spec.type.kind === 'limit' ? rung.spec.type.priceTicks : null;
    placed.push(`${describeQty(ctx, intent.symbol, rungLots)} at ${target === null || instrument === undefined ? '?' : ticksToPrice(instrument, target)}`);
  }
  const how = placed.length === 0 ? 'too little for any rung; the stop covers it' : placed.join(', ');
  const open = openLots === entryFilledLots ? '' : ` (${describeQty(ctx, intent.symbol, openLots)} of it open)`;
  notify(ctx, 'info', 'ladder-resized', intent.symbol,
    `${intent.id} take-profit ladder sized for the ${describeQty(ctx, intent.symbol, entryFilledLots)} the entry filled, of ${describeQty(ctx, intent.symbol, intent.sizeLots)}${open}: ${how}`);
}

/** Says once, per position, when the venue first showed its stop, and how long after the first fill. */
function confirmStop(ctx: Ctx, intent: Intent): Intent {
  if (intent.stopConfirmedMs !== null || !isActive(intent)) return intent;
  const status = protectionStatus(ctx, intent);
  const confirmed = status === 'stop-working' || (status === 'attached' && (findPosition(ctx, intent.symbol)?.venue?.stopLossTicks ?? null) !== null);
  if (!confirmed) return intent;
  const instrument = instrumentOf(ctx, intent.symbol);
  const price = instrument === undefined ? String(intent.stopLoss.triggerTicks) : ticksToPrice(instrument, intent.stopLoss.triggerTicks);
  const afterMs = ctx.atMs - (intent.positionSeenMs ?? ctx.atMs);
  const how = status === 'attached' ? 'armed with the fill' : `working, ${afterMs} ms after the first evidence of the fill`;
  notify(ctx, 'info', 'stop-working', intent.symbol, `${intent.id} stop ${price} ${how}`, { afterFirstFillMs: afterMs });
  return putIntent(ctx, { ...intent, stopConfirmedMs: ctx.atMs });
}

/** Keeps a stop on the venue for the whole position, while open and while exiting alike. */
function keepStop(ctx: Ctx, intent: Intent, sizeLots: number): Intent {
  if (intent.protection !== 'separate') return checkAttachedStop(ctx, intent);
  const stop = orderOf(ctx, intent.stopOrder);
  if (stop === null) return settleRestoredStop(ctx, intent, sizeLots);
  const tooLarge = stopOrderTooLarge(ctx, intent, stop, sizeLots);
  if (tooLarge !== null) return toPositionStop(ctx, intent, stop, tooLarge);
  switch (stop.status) {
    case 'pending':
      sendProtection(ctx, intent, stop, sizeLots);
      return intent;
    case 'accepted':
    case 'submitted':
    case 'unknown':
      // Grown past the stop (an adopted position still filling, a manual order netted in): replace
      // it now, not after its reply. Only real exposure triggers it, never the estimate of what
      // the entry may add, so a pure entry never replaces its stop however its reports arrive.
      if (Math.abs(sizeLots) > stop.spec.sizeLots) {
        return replaceStop(ctx, intent, stop, sizeLots, `the position (${describePosition(ctx, intent.symbol, sizeLots)}) outgrew stop ${stop.key}`);
      }
      if (stop.status !== 'accepted') {
        const needLots = bookedNeedLots(ctx, intent);
        if (needLots > stop.spec.sizeLots) {
          return replaceStop(ctx, intent, stop, sizeLots, `the fills booked since stop ${stop.key} was sized and what the entry may still fill come to ${describeQty(ctx, intent.symbol, needLots)}`);
        }
      }
      if (stop.status === 'accepted') return retireReplacedStops(ctx, intent);
      return exitIfReplacedStopCrossed(ctx, intent, stop);
    case 'partially-filled': // the stop triggered and is closing the position
      return intent;
    case 'filled':
      // All its fills booked and still a position: something else added to it (a foreign order
      // netted in) after the stop was sized. The stop has spoken: close the rest at market.
      return stop.fillsLots >= filledLots(stop) ? startExit(ctx, intent, `stop ${stop.key} executed and ${describePosition(ctx, intent.symbol, sizeLots)} remains`, true) : intent;
    case 'cancelled':
    case 'rejected':
    case 'expired':
      return onStopLost(ctx, intent, stop, sizeLots);
    default:
      return assertNever(stop);
  }
}

/**
 * The current stop ended without filling while the position looks open. Past the stop already:
 * exit. The venue says there is nothing to reduce: our view of the position lags; the deadline
 * set when the stop was sent exits if the position is still there by then. Cancelled or expired
 * by someone else (an operator, the venue after a close we have not seen yet): send a new stop
 * at once; if the position was in fact closed, the venue rejects it and nothing else happens.
 */
function onStopLost(ctx: Ctx, intent: Intent, stop: Order, sizeLots: number): Intent {
  const why = `stop ${stop.key} ${stop.status}${'reason' in stop && stop.reason !== null ? `: ${stop.reason}` : ''}`;
  if (stop.status === 'rejected' && stop.code === 'trigger-crossed') return startExit(ctx, intent, `${why} (the market is already past it)`, true);
  if (stop.status === 'rejected' && stop.code === 'reduce-only') return intent;
  if (intent.stopAttempts >= stopAttemptsMax) return startExit(ctx, intent, `${why}; ${stopAttemptsMax} stops sent`, true);
  const attempt = intent.stopAttempts + 1;
  const key = clientOrderIdFor(intent.orderIdBase, 'stop', attempt);
  // At the level wanted now (a trailing stop may have moved it), for at least what the lost one covered.
  putOrder(ctx, newPendingOrder({ key, intentId: intent.id, role: 'stop', createdMs: ctx.atMs, spec: stopSpec(intent, Math.max(stop.spec.sizeLots, Math.abs(sizeLots))) }));
  const next = putIntent(ctx, { ...intent, stopOrder: key, stopAttempts: attempt });
  notify(ctx, 'warn', 'stop-lost', intent.symbol, `${intent.id}: ${why}; sending ${key}`);
  sendProtection(ctx, next, getOrder(ctx, key), sizeLots);
  return next;
}

function progressExiting(ctx: Ctx, intent: Intent, sizeLots: number): Intent {
  const entry = orderOf(ctx, intent.entryOrder);
  if (sizeLots === 0 && (intent.positionSeenMs !== null || entry === null || isTerminal(entry))) {
    return settleFlat(ctx, intent, intent.phase.name === 'exiting' ? intent.phase.reason : 'exited');
  }
  // Until it is flat, an exiting position keeps its stop: the exit itself may fail or be lost.
  const kept = sizeLots === 0 ? intent : keepStop(ctx, intent, sizeLots);
  const exit = orderOf(ctx, kept.exitOrder);
  if (exit === null && sizeLots !== 0) return sendExit(ctx, kept, sizeLots);
  if (exit === null || !isTerminal(exit) || sizeLots === 0) return kept;
  // Filled in full, its fills booked, and a position left: one part of a larger exit (or the
  // position grew meanwhile). The next part goes now; it is progress, not a failure to retry.
  if (exit.status === 'filled' && exit.fillsLots >= filledLots(exit)) return sendExit(ctx, { ...kept, exitsFilled: kept.exitsFilled + 1 }, sizeLots);
  if (!hasExitRetryTimer(ctx, kept)) startTimer(ctx, { kind: 'exit-retry', intentId: kept.id }, exitRetryDelayMs(ctx, exitFailures(kept)));
  return kept;
}

/** The pause before the next exit: short at first; past the alarm, doubling up to the maximum. */
function exitRetryDelayMs(ctx: Ctx, failedAttempts: number): number {
  const { exitRetryMs, exitRetryMsMax, exitAttemptsMax } = ctx.state.config;
  return Math.min(exitRetryMsMax, exitRetryMs * 2 ** Math.max(0, failedAttempts - exitAttemptsMax));
}

/**
 * Flat: done once the entry can no longer fill and all it filled is booked; until then, cancel it
 * and wait. An entry reported filled further than its fills booked has fills on their way (Bybit
 * sends the order's report before its execution): they reopen the position, which is then closed
 * at market (progressOpen), not left to adoption.
 */
function settleFlat(ctx: Ctx, intent: Intent, reason: string): Intent {
  const entry = orderOf(ctx, intent.entryOrder);
  const waiting = entry !== null && (isLive(entry) || entry.fillsLots < filledLots(entry));
  if (!waiting) return finish(ctx, intent, reason);
  if (isLive(entry)) requestCancel(ctx, entry);
  return intent.flatSinceMs === null ? { ...intent, flatSinceMs: ctx.atMs } : intent;
}

export function finish(ctx: Ctx, intent: Intent, reason: string): Intent {
  for (const key of [intent.entryOrder, intent.stopOrder, ...intent.takeProfitOrders, intent.guard.agedExitOrder, ...intent.replacedStops]) {
    const order = orderOf(ctx, key);
    if (order === null) continue;
    if (order.status === 'pending') putOrder(ctx, dropPending(order, reason));
    else if (isLive(order)) requestCancel(ctx, order);
  }
  notify(ctx, 'info', 'intent-done', intent.symbol, `${intent.id} done: ${reason}`);
  return putIntent(ctx, { ...intent, phase: { name: 'done', reason, atMs: ctx.atMs } });
}

export const stopAttemptsMax = 20;

/**
 * What a stop still on its way must cover by the fills booked (never the venue's view of the
 * position, which can run ahead of our entry's own reports and would count its fills twice) and
 * what our live entry may still fill: more than it was sized for when a fill of an order not ours
 * (a manual one, netted in) was booked after it went. Replaced then, the larger stop goes before
 * the entry fills past the smaller one, not one delivery and one request after it (seed 362401: a
 * manual order filled while the bot was frozen, its two fills read one after the other at the
 * thaw, the stop sent between them). A pure entry's own fills never raise it: booked, they leave
 * its unfilled rest.
 */
function bookedNeedLots(ctx: Ctx, intent: Intent): number {
  const position = findPosition(ctx, intent.symbol);
  const bookedLots = position === undefined ? 0 : position.sizeLots * sideSign(intent.side);
  if (bookedLots <= 0) return 0;
  const entry = orderOf(ctx, intent.entryOrder);
  return bookedLots + (entry !== null && isLive(entry) ? Math.max(0, entry.spec.sizeLots - filledLots(entry)) : 0);
}

/**
 * The position outgrew its stop (an adopted position still filling, or more added by hand): send
 * a stop for the whole size first, and cancel the smaller one only once the new one is working.
 */
function replaceStop(ctx: Ctx, intent: Intent, stop: Order, sizeLots: number, why: string): Intent {
  if (intent.stopAttempts >= stopAttemptsMax) return startExit(ctx, intent, `the position outgrew its stop ${stopAttemptsMax} times`, true);
  const attempt = intent.stopAttempts + 1;
  const key = clientOrderIdFor(intent.orderIdBase, 'stop', attempt);
  putOrder(ctx, newPendingOrder({ key, intentId: intent.id, role: 'stop', createdMs: ctx.atMs, spec: stopSpec(intent, coverLots(ctx, intent, sizeLots)) }));
  const next = putIntent(ctx, { ...intent, stopOrder: key, stopAttempts: attempt, replacedStops: [...intent.replacedStops, stop.key] });
  notify(ctx, 'warn', 'stop-resized', intent.symbol, `${intent.id}: ${why}; sending ${key} for all of it`);
  sendProtection(ctx, next, getOrder(ctx, key), sizeLots);
  return next;
}

/**
 * A stop order is one order, and the venue takes at most its market maximum in one (Bybit's
 * maxMktOrderQty applies to stop-market orders too: it lowers it now and then, and a position
 * opened by hand may be larger). When the stop order this position needs next (its first, a
 * larger one, or one in place of a lost one) could not cover what is open, the reason; null
 * otherwise, and while its stop order covers it (one placed before the limit was lowered stays
 * valid). What may yet be added beyond that (sendProtection) is left to the next stop.
 */
function stopOrderTooLarge(ctx: Ctx, intent: Intent, stop: Order, sizeLots: number): string | null {
  const maxLots = instrumentOf(ctx, intent.symbol)?.maxMarketLots;
  if (maxLots === undefined) return null;
  let needed: boolean;
  switch (stop.status) {
    case 'pending':
    case 'cancelled':
    case 'expired':
      needed = true;
      break;
    case 'rejected':
      needed = stop.code !== 'trigger-crossed' && stop.code !== 'reduce-only';
      break;
    case 'accepted':
    case 'submitted':
      needed = Math.abs(sizeLots) > stop.spec.sizeLots;
      break;
    case 'unknown':
      // Its create had no answer, and the limit is now below it: it counts only if it landed before
      // the limit changed, which may never be known (seed 6230: the startup snapshot did not list
      // it, its replacement waited for the hold after the start, and the queries took 5 s more).
      needed = Math.abs(sizeLots) > stop.spec.sizeLots || stop.spec.sizeLots > maxLots;
      break;
    case 'partially-filled':
    case 'filled':
      needed = false;
      break;
    default:
      return assertNever(stop);
  }
  return needed ? tooLargeForStopOrder(ctx, intent.symbol, exposedLots(ctx, intent, sizeLots)) : null;
}

/** Why no one stop order may cover `openLots` on the symbol (the venue's market maximum), or null. */
function tooLargeForStopOrder(ctx: Ctx, symbol: string, openLots: number): string | null {
  const maxLots = instrumentOf(ctx, symbol)?.maxMarketLots;
  if (maxLots === undefined || Math.abs(openLots) <= maxLots) return null;
  return `the ${describeQty(ctx, symbol, Math.abs(openLots))} open is more than the ${describeQty(ctx, symbol, maxLots)} ${symbol} takes in one stop order`;
}

/**
 * The position gets the venue's own stop-loss on the position instead (Bybit's trading-stop, Full
 * mode: when it triggers, the venue closes the whole position), and is kept from then on as an
 * attached stop is (checkAttachedStop). The stop order it had stays until the venue shows the
 * position's stop; one not yet sent is dropped. Counted as a stop attempt: past stopAttemptsMax,
 * the position is closed (in parts, if need be).
 */
function toPositionStop(ctx: Ctx, intent: Intent, stop: Order | null, why: string): Intent {
  if (intent.stopAttempts >= stopAttemptsMax) return startExit(ctx, intent, `${why}; ${stopAttemptsMax} stops sent`, true);
  const set = setPositionStopLoss(ctx, intent);
  if (set.guard.positionStop === null) return set === intent ? intent : putIntent(ctx, set);
  if (stop?.status === 'pending') putOrder(ctx, dropPending(stop, `${why}: the position's own stop instead`));
  const replacedStops = stop !== null && isLive(stop) ? [...intent.replacedStops, stop.key] : intent.replacedStops;
  ctx.state.counters.positionStopsInstead += 1;
  notify(ctx, 'warn', 'position-stop-instead', intent.symbol,
    `${intent.id}: ${why}; setting the position's own stop-loss at ${describePrice(ctx, intent.symbol, intent.stopLoss.triggerTicks)} instead (the venue closes all of it)`);
  return putIntent(ctx, { ...set, protection: 'attached', stopOrder: null, replacedStops, stopAttempts: intent.stopAttempts + 1 });
}

/**
 * Our stop's create had no answer (a timeout, a 5xx, a process that died around sending it), or a
 * snapshot asked for since does not list it: it may well not be on the venue. Asking by client order
 * id takes a few answers; meanwhile the position would be bare. A reduce-only stop sent twice costs
 * nothing (it never closes more than the position), so a new one goes now, and the first, should it
 * exist after all, is cancelled once the new one works (retireReplacedStops). Bounded by
 * stopAttemptsMax, past which the position is closed.
 */
export function replaceUnlistedStop(ctx: Ctx, stop: Order): void {
  const intent = stop.intentId === null ? undefined : ctx.state.intents.get(stop.intentId);
  if (intent === undefined || !isActive(intent) || intent.stopOrder !== stop.key || intent.protection !== 'separate') return;
  const position = findPosition(ctx, intent.symbol);
  const sizeLots = position === undefined ? 0 : effectiveSizeLots(position);
  if (sizeLots === 0) return;
  if (intent.stopAttempts >= stopAttemptsMax) {
    startExit(ctx, intent, `${stopAttemptsMax} stops sent without an answer`, true);
    return;
  }
  const tooLarge = tooLargeForStopOrder(ctx, intent.symbol, sizeLots);
  if (tooLarge !== null) {
    toPositionStop(ctx, intent, stop, `stop ${stop.key} had no answer, and ${tooLarge}`);
    return;
  }
  const attempt = intent.stopAttempts + 1;
  const key = clientOrderIdFor(intent.orderIdBase, 'stop', attempt);
  putOrder(ctx, newPendingOrder({ key, intentId: intent.id, role: 'stop', createdMs: ctx.atMs, spec: stopSpec(intent, coverLots(ctx, intent, sizeLots)) }));
  const next = putIntent(ctx, { ...intent, stopOrder: key, stopAttempts: attempt, replacedStops: [...intent.replacedStops, stop.key] });
  notify(ctx, 'warn', 'stop-unlisted', intent.symbol, `${intent.id}: stop ${stop.key} had no answer and the venue does not list it; sending ${key} now (the first is cancelled if it turns up)`);
  sendProtection(ctx, next, getOrder(ctx, key), sizeLots);
}

/**
 * The same for a market exit whose create went unanswered, with the position still open: the exit
 * either never reached the venue, or is on its way, or filled and its fills are. A reduce-only exit sent
 * twice never closes more than the position, so the next one goes now rather than after three
 * not-found answers with the position open and, the exit being needed, no stop to speak of.
 */
export function replaceUnlistedExit(ctx: Ctx, exit: Order): void {
  const intent = exit.intentId === null ? undefined : ctx.state.intents.get(exit.intentId);
  if (intent?.phase.name !== 'exiting' || intent.exitOrder !== exit.key) return;
  const position = findPosition(ctx, intent.symbol);
  const sizeLots = position === undefined ? 0 : effectiveSizeLots(position);
  if (sizeLots === 0) return;
  notify(ctx, 'warn', 'exit-unlisted', intent.symbol, `${intent.id}: exit ${exit.key} had no answer and the position is still open; sending the next exit now`);
  putIntent(ctx, sendExit(ctx, intent, sizeLots));
}

/**
 * A stop we replaced before its answer came (it looked lost) was refused because the market was
 * already past its level; its replacement, at the same level or tighter, is not acknowledged yet.
 * The level has been crossed, which is when a stop closes the position: exit now, as for the
 * current stop's refusal, rather than wait a round trip to hear the replacement refused too
 * (seed 121405).
 */
function exitIfReplacedStopCrossed(ctx: Ctx, intent: Intent, stop: Order): Intent {
  for (const key of intent.replacedStops) {
    const replaced = orderOf(ctx, key);
    if (replaced?.status === 'rejected' && replaced.code === 'trigger-crossed') {
      return startExit(ctx, intent, `stop ${key} was refused, the market already past it, before its replacement ${stop.key} was acknowledged`, true);
    }
  }
  return intent;
}

function retireReplacedStops(ctx: Ctx, intent: Intent): Intent {
  if (intent.replacedStops.length === 0) return intent;
  for (const key of intent.replacedStops) {
    const old = getOrder(ctx, key);
    if (isLive(old)) requestCancel(ctx, old);
  }
  return { ...intent, replacedStops: [] };
}

/**
 * Sends a stop sized to cover the whole position, with the deadline for its acknowledgement: what
 * is open and what may yet be added, up to the most one order takes (what is open fits: the
 * caller has seen to that, stopOrderTooLarge; what is added beyond gets a larger stop, replaceStop).
 */
function sendProtection(ctx: Ctx, intent: Intent, stop: Order, sizeLots: number): void {
  const lots = Math.min(Math.max(stop.spec.sizeLots, coverLots(ctx, intent, sizeLots)), instrumentOf(ctx, intent.symbol)?.maxMarketLots ?? Infinity);
  if (lots !== stop.spec.sizeLots) putOrder(ctx, { ...stop, spec: { ...stop.spec, sizeLots: lots } });
  submitOrder(ctx, stop.key);
  ctx.state.counters.stopsSubmitted += 1;
  startTimer(ctx, { kind: 'stop-deadline', intentId: intent.id, orderKey: stop.key }, ctx.state.config.stopAckDeadlineMs);
  const instrument = instrumentOf(ctx, intent.symbol);
  const price = instrument === undefined ? String(intent.stopLoss.triggerTicks) : ticksToPrice(instrument, intent.stopLoss.triggerTicks);
  notify(ctx, 'info', 'stop-sent', intent.symbol, `${intent.id} stop sent at ${price} on first evidence of the fill`);
}

/**
 * Attached mode trusts the venue to arm the stop with the fill, and checks it: a venue report
 * newer than every fill that shows the position without a stop means it was not armed.
 */
function checkAttachedStop(ctx: Ctx, intent: Intent): Intent {
  if (intent.protection !== 'attached') return intent;
  const position = findPosition(ctx, intent.symbol);
  const venue = position === undefined ? null : currentVenueView(position);
  if (venue === null || venue.sizeLots === 0) return intent;
  // The venue shows the position's stop: stop orders it took over from (toPositionStop) can go.
  if (venue.stopLossTicks !== null) return intent.replacedStops.length === 0 ? intent : putIntent(ctx, retireReplacedStops(ctx, intent));
  // A stop-loss of ours on its way to the position: its answer tells.
  if (intent.guard.positionStop?.change.kind === 'stop-loss') return intent;
  const tooLarge = tooLargeForStopOrder(ctx, intent.symbol, venue.sizeLots);
  if (tooLarge !== null) return toPositionStop(ctx, intent, null, `the venue shows the position without its stop, and ${tooLarge}`);
  notify(ctx, 'alarm', 'attached-stop-missing', intent.symbol, `${intent.id}: the venue shows the position without its attached stop; sending a separate stop`);
  ctx.state.counters.anomalies += 1;
  const stopKey = ensureStopOrder(ctx, intent, Math.max(intent.sizeLots, Math.abs(venue.sizeLots)));
  // Counted on from the position stops set before (toPositionStop): each stop gets an id of its own.
  const separate = putIntent(ctx, { ...intent, protection: 'separate', stopOrder: stopKey, stopAttempts: intent.stopAttempts + 1 });
  return progressOpen(ctx, separate, venue.sizeLots);
}

/**
 * A restored intent found without a stop order of ours: the venue's own position stop, if it has
 * one, is the stop (attached); otherwise one is sent, at the price it was restored with or, if
 * unknown, the external-position distance from the entry.
 */
function settleRestoredStop(ctx: Ctx, intent: Intent, sizeLots: number): Intent {
  const position = findPosition(ctx, intent.symbol);
  if (position === undefined || sizeLots === 0) return intent;
  const venue = currentVenueView(position);
  const venueStop = venue !== null && venue.sizeLots === sizeLots ? venue.stopLossTicks : null;
  if (venueStop !== null) {
    return putIntent(ctx, { ...intent, protection: 'attached', stopLoss: { ...intent.stopLoss, triggerTicks: venueStop } });
  }
  const triggerTicks = intent.stopLoss.triggerTicks > 0 ? intent.stopLoss.triggerTicks : adoptedStopTicks(ctx, position, intent.side);
  if (triggerTicks === null) return intent;
  const priced: Intent = { ...intent, stopLoss: { ...intent.stopLoss, triggerTicks } };
  const tooLarge = tooLargeForStopOrder(ctx, intent.symbol, sizeLots);
  if (tooLarge !== null) return toPositionStop(ctx, priced, null, tooLarge);
  const stopKey = ensureStopOrder(ctx, priced, Math.abs(sizeLots));
  const next = putIntent(ctx, { ...priced, stopOrder: stopKey, stopAttempts: Math.max(1, intent.stopAttempts + 1) });
  sendProtection(ctx, next, getOrder(ctx, stopKey), sizeLots);
  return next;
}

/** The venue's view of the position, if it is the newest fact about it (no fill of a later sequence). */
function currentVenueView(position: Position): VenuePositionView | null {
  return position.venue !== null && position.venue.seq >= position.lastFillSeq ? position.venue : null;
}

function ensureStopOrder(ctx: Ctx, intent: Intent, lots: number): OrderKey {
  if (intent.stopOrder !== null) return intent.stopOrder;
  const key = clientOrderIdFor(intent.orderIdBase, 'stop', Math.max(1, intent.stopAttempts + 1));
  putOrder(ctx, newPendingOrder({ key, intentId: intent.id, role: 'stop', createdMs: ctx.atMs, spec: stopSpec(intent, lots) }));
  return key;
}

export function stopSpec(intent: Pick<Intent, 'symbol' | 'side' | 'stopLoss'>, lots: number): Order['spec'] {
  return {
    symbol: intent.symbol, side: oppositeSide(intent.side), sizeLots: lots, reduceOnly: true,
    type: { kind: 'stop-market', triggerTicks: intent.stopLoss.triggerTicks, triggerBy: intent.stopLoss.triggerBy },
  };
}

/** A position no intent explains: protect it, only watch it, or close it, as configured. */
function adoptPosition(ctx: Ctx, position: Position, sizeLots: number): Intent {
  const { config, counters } = ctx.state;
  counters.adoptedPositions += 1;
  const side: Side = sizeLots > 0 ? 'buy' : 'sell';
  const id = nextIntentId(ctx);
  // A stop the venue already holds on the position (its own TP/SL) is the stop: nothing to add.
  const venue = currentVenueView(position);
  const venueStopTicks = venue !== null && venue.sizeLots === sizeLots ? venue.stopLossTicks : null;
  const stopTicks = venueStopTicks ?? adoptedStopTicks(ctx, position, side);
  const watchOnly = config.externalPositions === 'watch' || stopTicks === null;
  const protection = watchOnly ? 'watch' : venueStopTicks !== null ? 'attached' : 'separate';
  const intent: Intent = {
    id, orderIdBase: id, kind: 'adopted', requestId: null, symbol: position.symbol, side, sizeLots: Math.abs(sizeLots),
    stopLoss: { triggerTicks: stopTicks ?? 0, triggerBy: config.externalProtection.stopTriggerBy ?? config.stopTriggerBy }, takeProfitTicks: null,
    protection, entryOrder: null, stopOrder: null, stopAttempts: 0, replacedStops: [], takeProfitOrders: [], plan: adoptedPlan(ctx, position, side, sizeLots), guard: freshGuard,
    exitOrder: null, exitAttempts: 0, exitsFilled: 0, positionSeenMs: foundPositionOpenedMs(ctx, position), stopConfirmedMs: null, flatSinceMs: null, phase: { name: 'open', sinceMs: ctx.atMs },
    createdMs: ctx.atMs,
  };
  const stopOrder = protection === 'separate' ? ensureStopOrder(ctx, intent, Math.abs(sizeLots)) : null;
  const stopAttempts = stopOrder === null ? 0 : 1;
  const what = describePosition(ctx, position.symbol, sizeLots);
  const level = stopTicks === null && config.externalPositions !== 'watch' ? 'alarm' : 'warn';
  const policy = stopTicks === null ? 'watch (no price to set a stop from)' : protection === 'attached' ? `${config.externalPositions}: the venue already holds its stop` : config.externalPositions;
  notify(ctx, level, 'position-adopted', position.symbol, `${id} adopted an external position (${what}); policy: ${policy}`);
  const adopted = putIntent(ctx, withVenueTrailingFound(ctx, { ...intent, stopOrder, stopAttempts }, position));
  return config.externalPositions === 'close' ? startExit(ctx, adopted, 'external position, policy close', false) : closeIfDelistingDue(ctx, adopted, false);
}

/** The configured plan for external positions, measured from their entry; none if it does not fit the instrument. */
function adoptedPlan(ctx: Ctx, position: Position, side: Side, sizeLots: number): IntentPlan {
  const { externalProtection } = ctx.state.config;
  const instrument = instrumentOf(ctx, position.symbol);
  const referenceTicks = entryTicksOf(ctx, position);
  if (instrument === undefined || referenceTicks === null) return emptyPlan;
  const plan = resolvePlan({ instrument, side, referenceTicks, sizeLots: Math.abs(sizeLots), request: externalProtection });
  if (plan.ok) return plan.value;
  notify(ctx, 'warn', 'external-plan-unfit', position.symbol, `the external-position plan does not fit ${position.symbol}: ${plan.reason}; stop only`);
  return emptyPlan;
}

/**
 * When a position the engine did not see open (adopted, or restored without the journal) opened:
 * its opening fill's venue time if the fills fetched at the start reach back to it, else now. Its
 * age, and so the aged exit, counts from this: a restart must not make an old position young.
 * (Never later than now: the venue's clock may run ahead of ours.)
 */
export function foundPositionOpenedMs(ctx: Ctx, position: Position): number {
  const { openedMs } = position;
  return openedMs === null || position.sizeLots === 0 ? ctx.atMs : Math.min(openedMs, ctx.atMs);
}

/** The position's entry in whole ticks: its fills' average, else the venue's entry price; null if neither is known. */
export function entryTicksOf(ctx: Ctx, position: Position): number | null {
  const entry = averageEntryTicks(position);
  if (entry !== null) return Math.round(entry);
  const instrument = instrumentOf(ctx, position.symbol);
  const venueEntry = position.venue === null ? NaN : Number(position.venue.entryPrice);
  return instrument !== undefined && venueEntry > 0 ? priceToTicksRounded(instrument, venueEntry, 'nearest') : null;
}

function adoptedStopTicks(ctx: Ctx, position: Position, side: Side): number | null {
  const instrument = instrumentOf(ctx, position.symbol);
  if (instrument === undefined) return null;
  const market = ctx.state.markets.get(position.symbol);
  const marketTicks = market?.markTicks ?? market?.lastTicks ?? null;
  const venueEntry = position.venue === null ? NaN : Number(position.venue.entryPrice);
  const ledgerEntry = averageEntryTicks(position);
  const entryTicks = ledgerEntry ?? (Number.isFinite(venueEntry) && venueEntry > 0 ? priceToTicksRounded(instrument, venueEntry, 'nearest') : marketTicks);
  if (entryTicks === null) return null;
  const fraction = ctx.state.config.externalStopPercent / 100;
  const fromEntry = side === 'buy' ? entryTicks * (1 - fraction) : entryTicks * (1 + fraction);
  // A stop already crossed would be rejected at once: take the distance from the market instead.
  let base = fromEntry;
  if (marketTicks !== null && (side === 'buy' ? fromEntry >= marketTicks : fromEntry <= marketTicks)) {
    base = side === 'buy' ? marketTicks * (1 - fraction) : marketTicks * (1 + fraction);
  }
  return side === 'buy' ? Math.ceil(base) : Math.floor(base);
}

function runPolicies(ctx: Ctx, intent: Intent, position: Position, sizeLots: number): void {
  const { policies } = ctx.state.config;
  if (policies.length === 0) return;
  const market = ctx.state.markets.get(intent.symbol);
  const view: PositionView = {
    symbol: intent.symbol, intentId: intent.id, origin: intent.kind === 'adopted' ? 'adopted' : 'ours',
    side: sizeLots > 0 ? 'buy' : 'sell', sizeLots: Math.abs(sizeLots), averageEntryTicks: averageEntryTicks(position),
    stopTicks: intent.stopLoss.triggerTicks, protection: protectionStatus(ctx, intent),
    openedMs: intent.positionSeenMs ?? ctx.atMs, lastTicks: market?.lastTicks ?? null, markTicks: market?.markTicks ?? null,
  };
  for (const policy of policies) {
    for (const decision of policy.evaluate(view, ctx.atMs)) {
      switch (decision.kind) {
        case 'exit':
          startExit(ctx, ctx.state.intents.get(intent.id) ?? intent, `${policy.name}: ${decision.reason}`, false);
          break;
        case 'notice':
          notify(ctx, 'info', decision.code, intent.symbol, `${policy.name}: ${decision.text}`);
          break;
        default:
          assertNever(decision);
      }
    }
  }
}

export function protectionStatus(ctx: Ctx, intent: Intent): ProtectionStatus {
  if (intent.phase.name === 'exiting') return 'exiting';
  switch (intent.protection) {
    case 'attached':
      return 'attached';
    case 'watch':
      return 'watch-only';
    case 'separate': {
      const stop = orderOf(ctx, intent.stopOrder);
      if (stop === null) return 'unprotected';
      if (isAcknowledged(stop) || stop.status === 'filled') return 'stop-working';
      return stop.status === 'submitted' || stop.status === 'unknown' ? 'stop-in-flight' : 'unprotected';
    }
    default:
      return assertNever(intent.protection);
  }
}

function hasExitRetryTimer(ctx: Ctx, intent: Intent): boolean {
  for (const purpose of ctx.state.timers.values()) {
    if (purpose.kind === 'exit-retry' && purpose.intentId === intent.id) return true;
  }
  return false;
}

function describePosition(ctx: Ctx, symbol: string, sizeLots: number): string {
  if (sizeLots === 0) return 'size not yet reported';
  return `${sizeLots > 0 ? 'long' : 'short'} ${describeQty(ctx, symbol, Math.abs(sizeLots))}`;
}

function describePrice(ctx: Ctx, symbol: string, ticks: number): string {
  const instrument = instrumentOf(ctx, symbol);
  return instrument === undefined ? `${ticks} ticks` : ticksToPrice(instrument, ticks);
}

