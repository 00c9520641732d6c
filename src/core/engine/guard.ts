// The protection policies in the engine: evaluates them (protection/policies.ts) for an open
// position and carries out what they decide, one venue change at a time.
//
//   - the wanted stop level (`intent.stopLoss.triggerTicks`) only tightens; the venue's stop is
//     moved toward it by an amend of our stop order (separate mode) or by the position's own stop
//     (attached mode, Bybit trading-stop), at most one change in flight, at most one per the
//     trailing's `amendEveryMs`: ticks in between coalesce into the newest level;
//   - a stop order larger than the position (after a take-profit rung filled) is amended down to
//     exactly what it must cover, in the same amend;
//   - the venue's own trailing stop (venue mode) is set once the position shows; refused, the bot
//     trails instead;
//   - the aged position's limit exit is placed, repriced by amend, and placed again if it ends
//     while the position remains.
//
// Invariants: nothing here ever sends a looser stop (asserted at the send); a change whose outcome
// is unknown is settled (by a query, or a snapshot) before another is sent.

import { fail } from '../assert.ts';
import type { Amendment, PositionStopChange } from '../commands.ts';
import type { EventOf, OrderReport } from '../events.ts';
import { clientOrderIdFor } from '../ids.ts';
import type { ClientOrderId } from '../ids.ts';
import { ticksToPrice } from '../instrument.ts';
import type { Guard, Intent } from '../intent/intent.ts';
import { botTrails, isActive } from '../intent/intent.ts';
import type { Order } from '../order/order.ts';
import { filledLots, isAcknowledged, isTerminal, markAmendSent, newPendingOrder, onAmendFailed, onAmendLanded, onAmendUnknown, reportShowsAmend } from '../order/order.ts';
import { averageEntryTicks } from '../position/ledger.ts';
import type { Position } from '../position/position.ts';
import { evaluateGuards, isStopCrossed, isTighter, trailingMovesStop } from '../protection/policies.ts';
import type { TrailingPlan } from '../protection/plan.ts';
import { distanceTicks } from '../protection/plan.ts';
import type { Market } from '../state.ts';
import type { Side } from '../types.ts';
import { oppositeSide } from '../types.ts';
import type { Ctx } from './context.ts';
import { debug, instrumentOf, nextSeq, notify, putOrder, putOrderUnrecorded, queryOrder, refusedText, startTimer, submitOrder, unsettledOrdersOf } from './context.ts';
import { coverLots, orderOf, putIntent, startExit } from './intents.ts';
import { recheckSoon } from './snapshots.ts';

/** Past this many refused changes in a row the stop stays where the venue has it, and the operator is told. */
const stopChangeFailuresMax = 5;
const stopRetryBaseMs = 1_000;
const stopRetryMaxMs = 60_000;
const agedExitAttemptsMax = 20;

/** `market`: the symbol's prices (undefined before any ticker), which also hold the trailing's best price. */
export function runGuards(ctx: Ctx, start: Intent, position: Position, sizeLots: number, market: Market | undefined): void {
  if (start.phase.name !== 'open' || isQuiet(ctx, start, position, sizeLots, market)) return;
  evaluate(ctx, start, position, sizeLots, market);
}

/**
 * The policies' full evaluation, and what follows from it. (A function of its own: its closure
 * over the instrument would otherwise cost every quiet ticker a context allocation.)
 */
function evaluate(ctx: Ctx, start: Intent, position: Position, sizeLots: number, market: Market | undefined): void {
  ctx.state.counters.policyEvaluations += 1;
  const side: Side = sizeLots > 0 ? 'buy' : 'sell';
  const instrument = instrumentOf(ctx, start.symbol);
  const outcome = evaluateGuards({
    atMs: ctx.atMs, side, sizeLots: Math.abs(sizeLots), averageEntryTicks: averageEntryTicks(position), triggerPriceTicks: triggerPriceOf(start, market),
    lastTicks: market?.lastTicks ?? null, stopTicks: start.stopLoss.triggerTicks, venueStopTicks: venueStopTicks(ctx, start, position),
    openedMs: start.positionSeenMs ?? ctx.atMs, firstTargetFilled: firstTargetFilled(ctx, start), takerFeePpm: ctx.state.config.takerFeePpm,
    plan: start.plan, trailPeakTicks: trailPeakOf(start, market), botTrailing: botTrails(start), guard: start.guard,
    price: (ticks) => (instrument === undefined ? `${ticks} ticks` : ticksToPrice(instrument, ticks)),
  });
  if (outcome.trailPeakTicks !== null && market !== undefined && start.plan.trailing !== null) keepTrailPeak(market, start, start.plan.trailing, outcome.trailPeakTicks);
  // What follows is built up as one new version of the intent (the policies' memory, the tightened
  // stop, what was sent, the next review) and stored once at the end: a moved stop costs one copy
  // of the intent, not one per field. A review that fell due (this evaluation is it) is cleared.
  const { reviewAtMs } = outcome.guard;
  const guard = reviewAtMs !== null && reviewAtMs <= ctx.atMs ? { ...outcome.guard, reviewAtMs: null } : outcome.guard;
  let { stopLoss } = start;
  for (const decision of outcome.decisions) {
    switch (decision.kind) {
      case 'tighten-stop':
        if (!isTighter(side, decision.triggerTicks, stopLoss.triggerTicks)) fail(`${start.id}: a policy asked to loosen the stop`);
        if (decision.reason === 'breakeven') {
          // The venue trails the position's own stop: it owns the level (syncPositionStop sends
          // nothing over it), so the breakeven is not set, and the intent does not claim it.
          if (venueOwnsStop(start)) {
            notify(ctx, 'info', 'stop-to-breakeven', start.symbol, `${start.id}: first target filled; breakeven ${price(ctx, start, decision.triggerTicks)} not set: the venue trails the position's stop and keeps its level`);
            break;
          }
          notify(ctx, 'info', 'stop-to-breakeven', start.symbol, `${start.id}: first target filled; moving the stop to breakeven ${price(ctx, start, decision.triggerTicks)} (fees included)`);
        }
        stopLoss = { ...stopLoss, triggerTicks: decision.triggerTicks };
        break;
      case 'exit':
        startExit(ctx, withMemory(start, guard, stopLoss), decision.reason, false);
        return;
      case 'aged-exit':
        // The price is in the guard now; syncAgedExit places or moves the order.
        notify(ctx, 'info', 'aged-exit', start.symbol, `${start.id} ${decision.text}`, { ageMs: ctx.atMs - (start.positionSeenMs ?? ctx.atMs), priceTicks: decision.priceTicks });
        break;
      default:
        decision satisfies never;
    }
  }
  let intent = withMemory(start, guard, stopLoss);
  intent = syncStop(ctx, intent, position, sizeLots);
  intent = syncVenueTrailing(ctx, intent, position, sizeLots);
  intent = syncAgedExit(ctx, intent, sizeLots);
  intent = withReview(ctx, intent, outcome.reviewAtMs);
  if (intent !== start) putIntent(ctx, intent);
}

/** The venue trails the position's own stop (handed to it, or found so): no level of ours goes over it. */
function venueOwnsStop(intent: Intent): boolean {
  return intent.protection === 'attached' && (intent.guard.venueTrailing === 'sent' || intent.guard.venueTrailing === 'set');
}

/** The intent with the policies' new memory and stop level (itself if neither changed); not stored. */
function withMemory(intent: Intent, guard: Guard, stopLoss: Intent['stopLoss']): Intent {
  return guard === intent.guard && stopLoss === intent.stopLoss ? intent : { ...intent, guard, stopLoss };
}

function triggerPriceOf(intent: Intent, market: Market | undefined): number | null {
  return (intent.stopLoss.triggerBy === 'mark' ? market?.markTicks : market?.lastTicks) ?? null;
}

function trailPeakOf(intent: Intent, market: Market | undefined): number | null {
  return market !== undefined && market.trailIntentId === intent.id ? market.trailPeakTicks : null;
}

/** A new best price for the bot-trailed stop (its first: the trailing activates), and the level it calls for. */
function keepTrailPeak(market: Market, intent: Intent, trailing: TrailingPlan, peakTicks: number): void {
  const distance = distanceTicks(trailing.callback, peakTicks);
  market.trailIntentId = intent.id;
  market.trailPeakTicks = peakTicks;
  market.trailLevelTicks = intent.side === 'buy' ? peakTicks - distance : peakTicks + distance;
}

/**
 * Nothing the policies or the stop's sync would do on this event: the common case on a ticker (no
 * level crossed, nothing due, the venue's stop where it is wanted, or a change of it in flight or
 * held back by the rate limit with its review armed), answered without building the policies' view.
 * It must only say "quiet" when the full evaluation would send nothing and decide nothing; the
 * wanted level it skips recording is recomputed from the best price when the change can go.
 * On the way it keeps a bot-trailed position's best price: written in place on every ticker that
 * makes a new one (the policies compute the same). Once the trailing has activated, a ticker reads
 * only the symbol's hot record (Market) beyond what the plain stop reads: the trailing memory there
 * exists only for an intent the bot trails (it is made where the bot trails, and a venue that
 * refused its trailing stays refused).
 */
function isQuiet(ctx: Ctx, intent: Intent, position: Position, sizeLots: number, market: Market | undefined): boolean {
  const { guard, plan } = intent;
  if (guard.reviewAtMs !== null && guard.reviewAtMs <= ctx.atMs) return false;
  if (plan.aged !== null && !isAgedExitQuiet(ctx, intent, plan.aged.maxAgeMs)) return false;
  if (plan.breakevenAfterFirstTarget && !guard.breakevenDone && firstTargetFilled(ctx, intent)) return false;
  let wanted = intent.stopLoss.triggerTicks;
  const { trailing } = plan;
  if (trailing !== null) {
    const activated = market !== undefined && market.trailIntentId === intent.id;
    if (activated || botTrails(intent)) {
      const price = triggerPriceOf(intent, market);
      if (price !== null && market !== undefined && (activated ? isTighter(intent.side, price, market.trailPeakTicks) : trailing.activationTicks === null || !isTighter(intent.side, trailing.activationTicks, price))) {
        keepTrailPeak(market, intent, trailing, price);
      }
      if (market !== undefined && market.trailIntentId === intent.id) {
        const level = market.trailLevelTicks;
        if (trailingMovesStop(intent.side, trailing, market.trailPeakTicks, level, wanted)) wanted = level;
        if (price !== null && isStopCrossed(intent.side, price, wanted)) return false;
      }
    } else if (guard.venueTrailing === 'none') {
      return false;
    }
  }
  switch (intent.protection) {
    case 'separate': {
      const stop = orderOf(ctx, intent.stopOrder);
      if (stop === null || stop.status !== 'accepted' || stop.amending !== null || stop.cancelRequestedMs !== null || stop.spec.type.kind !== 'stop-market') return true;
      if (Math.abs(sizeLots) < stop.spec.sizeLots) return false;
      return stop.spec.type.triggerTicks === wanted || holdChange(ctx, intent);
    }
    case 'attached': {
      if (guard.positionStop !== null || wanted <= 0) return true;
      const venue = venueStopTicks(ctx, intent, position);
      return venue === null || !isTighter(intent.side, wanted, venue) || holdChange(ctx, intent);
    }
    case 'watch':
      return true;
    default:
      return intent.protection satisfies never;
  }
}

/**
 * The aged exit has nothing to do before its review (armed for its next step, or for the maximum
 * age, or the hard limit): not of age yet; or placed, and live at the guard's price, or filled. An
 * exit that ended unfilled, or whose price the guard has moved, needs the full evaluation (see
 * syncAgedExit, whose conditions these mirror). Without this, every ticker of every aged position
 * was a full evaluation until it closed.
 */
function isAgedExitQuiet(ctx: Ctx, intent: Intent, maxAgeMs: number): boolean {
  const { guard } = intent;
  if (guard.reviewAtMs === null) return false;
  if (guard.agedExitTicks === null) return ctx.atMs - (intent.positionSeenMs ?? ctx.atMs) < maxAgeMs;
  const order = orderOf(ctx, guard.agedExitOrder);
  if (order === null || (isTerminal(order) && order.status !== 'filled')) return false;
  // Filled, its fills booked, and the position still open (it is, or nothing would be evaluated):
  // the position grew after the exit was sized; the rest needs an exit of its own.
  if (order.status === 'filled') return order.fillsLots < filledLots(order);
  if (!isRepriceable(order)) return true;
  return order.spec.type.kind === 'limit' && order.spec.type.priceTicks === guard.agedExitTicks;
}

/**
 * A change of the stop that must wait (for the rate limit, a retry's backoff, the hold after a
 * start) is held back with the review that will send it armed: armed here if it is not, as the
 * full evaluation would (it would also record the wanted level, which is recomputed from the best
 * price when the change can go). So the ticker after a move, which tightens again as a rule, costs
 * a timer, not the policies' evaluation. No change is held once they have stopped (too many refused).
 */
function holdChange(ctx: Ctx, intent: Intent): boolean {
  if (intent.guard.stopChangeFailures >= stopChangeFailuresMax) return true;
  const allowedAtMs = stopChangeAllowedAtMs(ctx, intent);
  if (ctx.atMs >= allowedAtMs) return false;
  const armed = withReview(ctx, intent, allowedAtMs);
  if (armed !== intent) putIntent(ctx, armed);
  return true;
}

/** A take-profit has filled (the nearest, as the rungs go outward; the first may not have been placed, its lots merged into the next). */
function firstTargetFilled(ctx: Ctx, intent: Intent): boolean {
  for (const key of intent.takeProfitOrders) {
    const rung = orderOf(ctx, key);
    if (rung !== null && filledLots(rung) > 0) return true;
  }
  return false;
}

/** The stop level the venue holds for this intent, as far as it has confirmed it. */
function venueStopTicks(ctx: Ctx, intent: Intent, position: Position): number | null {
  if (intent.protection === 'separate') {
    const stop = orderOf(ctx, intent.stopOrder);
    // Acknowledged, or already executing: the venue holds (or has fired) the stop at its trigger.
    const holds = stop !== null && (isAcknowledged(stop) || stop.status === 'filled');
    return holds && stop.spec.type.kind === 'stop-market' ? stop.spec.type.triggerTicks : null;
  }
  const reported = position.venue?.stopLossTicks ?? null;
  const acked = intent.guard.ackedStopTicks;
  if (reported === null || acked === null) return reported ?? acked;
  const side: Side = intent.side;
  return isTighter(side, acked, reported) ? acked : reported;
}

/** An order that adds to the position (not reduce-only, on its side) reported fills not yet booked. */
function hasUnbookedAdds(ctx: Ctx, symbol: string, side: Side): boolean {
  for (const order of unsettledOrdersOf(ctx, symbol)) {
    const { spec } = order;
    if (spec.side === side && !spec.reduceOnly && order.reportedFilledLots > order.fillsLots) return true;
  }
  return false;
}

/** The venue's report of the position is as new as the newest fill, and agrees with the fills. */
function isCurrent(position: Position): boolean {
  return position.venue !== null && position.venue.seq >= position.lastFillSeq && position.venue.sizeLots === position.sizeLots;
}

function stopChangeAllowedAtMs(ctx: Ctx, intent: Intent): number {
  return Math.max(intent.guard.nextStopChangeMs, intent.guard.stopRetryAtMs, changesAllowedFromMs(ctx));
}

/** The guard after a change of the stop was sent now: the next may go once the trailing's rate limit allows. */
function changeSent(ctx: Ctx, intent: Intent, guard: Guard): Guard {
  return { ...guard, nextStopChangeMs: ctx.atMs + (intent.plan.trailing?.amendEveryMs ?? 0) };
}

/** The end of the hold after a start (see EngineConfig.receiveWindowMs). */
function changesAllowedFromMs(ctx: Ctx): number {
  return (ctx.state.startedMs ?? 0) + ctx.state.config.receiveWindowMs;
}

// The sync functions below send what the intent's memory calls for and return the intent's new
// version without storing it: `evaluate` stores the result once.

/** Moves the venue's stop toward the wanted level (and a stop order's size down to what it covers). */
function syncStop(ctx: Ctx, intent: Intent, position: Position, sizeLots: number): Intent {
  if (intent.guard.stopChangeFailures >= stopChangeFailuresMax) return intent;
  switch (intent.protection) {
    case 'separate':
      return syncStopOrder(ctx, intent, position, sizeLots);
    case 'attached':
      return syncPositionStop(ctx, intent, position);
    case 'watch':
      return intent;
    default:
      return intent.protection satisfies never;
  }
}

function syncStopOrder(ctx: Ctx, intent: Intent, position: Position, sizeLots: number): Intent {
  const stop = orderOf(ctx, intent.stopOrder);
  if (stop === null || stop.status !== 'accepted' || stop.amending !== null || stop.cancelRequestedMs !== null || stop.spec.type.kind !== 'stop-market') return intent;
  const amendment: { triggerTicks?: number; sizeLots?: number } = {};
  const wanted = intent.stopLoss.triggerTicks;
  // (0: a restored intent whose stop level is not known; its stop order's own level stands.)
  if (wanted > 0 && isTighter(intent.side, wanted, stop.spec.type.triggerTicks)) amendment.triggerTicks = wanted;
  // Down to exactly the open size once nothing can add to it (the entry is over, every fill the
  // venue reported is booked) and the venue's report agrees: a size still moving stays over-covered.
  // (Cheap checks first: this runs on every tick.)
  if (Math.abs(sizeLots) < stop.spec.sizeLots) {
    const entry = orderOf(ctx, intent.entryOrder);
    const settled = (entry === null || isTerminal(entry)) && isCurrent(position) && !hasUnbookedAdds(ctx, intent.symbol, intent.side);
    const coverTarget = settled ? coverLots(ctx, intent, sizeLots) : 0;
    if (coverTarget > 0 && coverTarget < stop.spec.sizeLots) amendment.sizeLots = coverTarget;
  }
  if (amendment.triggerTicks === undefined && amendment.sizeLots === undefined) return intent;
  const allowedAtMs = amendment.triggerTicks === undefined ? Math.max(intent.guard.stopRetryAtMs, changesAllowedFromMs(ctx)) : stopChangeAllowedAtMs(ctx, intent);
  if (ctx.atMs < allowedAtMs) return withReview(ctx, intent, allowedAtMs);
  sendAmend(ctx, stop, amendment);
  if (amendment.triggerTicks !== undefined) ctx.state.counters.stopMoves += 1;
  const fromTicks = stop.spec.type.triggerTicks;
  const text = (): string => {
    const moved = amendment.triggerTicks === undefined ? '' : `trigger ${price(ctx, intent, fromTicks)} -> ${price(ctx, intent, amendment.triggerTicks)}`;
    const sized = amendment.sizeLots === undefined ? '' : `${moved === '' ? '' : ', '}size ${stop.spec.sizeLots} -> ${amendment.sizeLots} lots (the open size)`;
    return `${intent.id}: amending stop ${stop.key}: ${moved}${sized}`;
  };
  // A trailing stop moves every second or so on many symbols: its moves are debug lines (the
  // metrics count them); a stop cut down to the open size is worth an info line.
  if (amendment.sizeLots === undefined) debug(ctx, 'stop-amend', intent.symbol, text);
  else notify(ctx, 'info', 'stop-amend', intent.symbol, text());
  if (amendment.triggerTicks === undefined) return intent;
  return { ...intent, guard: changeSent(ctx, intent, intent.guard) };
}

function syncPositionStop(ctx: Ctx, intent: Intent, position: Position): Intent {
  const { guard } = intent;
  if (guard.positionStop !== null || position.venue === null || position.venue.sizeLots === 0 || positionStopBusy(ctx, intent)) return intent;
  // The venue trails the position's stop: it owns the level (its moves reach us late), and setting
  // a stop-loss now could put back a looser one. (A plan cannot ask for breakeven with it: plan.ts.)
  if (venueOwnsStop(intent)) return intent;
  const current = venueStopTicks(ctx, intent, position);
  // Until the venue shows the stop armed with the fill there is nothing to move (checkAttachedStop
  // watches for a position that shows without one).
  if (current === null || intent.stopLoss.triggerTicks <= 0 || !isTighter(intent.side, intent.stopLoss.triggerTicks, current)) return intent;
  const allowedAtMs = stopChangeAllowedAtMs(ctx, intent);
  if (ctx.atMs < allowedAtMs) return withReview(ctx, intent, allowedAtMs);
  const change: PositionStopChange = { kind: 'stop-loss', stopLoss: intent.stopLoss };
  ctx.state.counters.stopMoves += 1;
  debug(ctx, 'stop-amend', intent.symbol, () => `${intent.id}: moving the position's stop ${price(ctx, intent, current)} -> ${price(ctx, intent, intent.stopLoss.triggerTicks)}`);
  return { ...intent, guard: changeSent(ctx, intent, { ...guard, positionStop: sendPositionStop(ctx, intent.symbol, change) }) };
}

/**
 * Sets the position's own stop-loss where it has none that we know of (a stop order could not
 * cover the position: protect.ts): when the symbol's channel for such changes is free and the
 * hold after a start is over (a change the last process sent may still land until then); until
 * then a review looks again. The intent returned is not stored.
 */
export function setPositionStopLoss(ctx: Ctx, intent: Intent): Intent {
  if (intent.guard.positionStop !== null || positionStopBusy(ctx, intent)) return intent;
  const allowedAtMs = changesAllowedFromMs(ctx);
  if (ctx.atMs < allowedAtMs) return withReview(ctx, intent, allowedAtMs);
  const change: PositionStopChange = { kind: 'stop-loss', stopLoss: intent.stopLoss };
  return { ...intent, guard: { ...intent.guard, positionStop: sendPositionStop(ctx, intent.symbol, change) } };
}

function syncVenueTrailing(ctx: Ctx, intent: Intent, position: Position, sizeLots: number): Intent {
  const { trailing } = intent.plan;
  const { guard } = intent;
  if (trailing?.mode !== 'venue' || intent.protection !== 'attached' || guard.venueTrailing !== 'none' || guard.positionStop !== null || positionStopBusy(ctx, intent)) return intent;
  if (position.venue === null || position.venue.sizeLots === 0 || sizeLots === 0) return intent;
  const allowedAtMs = changesAllowedFromMs(ctx);
  if (ctx.atMs < allowedAtMs) return withReview(ctx, intent, allowedAtMs);
  const entry = averageEntryTicks(position);
  const fromTicks = trailing.activationTicks ?? (entry === null ? null : Math.round(entry));
  if (fromTicks === null) return intent;
  const change: PositionStopChange = { kind: 'trailing', distanceTicks: distanceTicks(trailing.callback, fromTicks), activationTicks: trailing.activationTicks };
  const activation = trailing.activationTicks === null ? 'at once' : `from ${price(ctx, intent, trailing.activationTicks)}`;
  notify(ctx, 'info', 'venue-trailing', intent.symbol, `${intent.id}: handing the trailing stop to the venue: ${price(ctx, intent, change.distanceTicks)} behind the best price, ${activation}`);
  return { ...intent, guard: { ...guard, venueTrailing: 'sent', positionStop: sendPositionStop(ctx, intent.symbol, change) } };
}

/**
 * The venue already trails the position's own stop (an earlier process handed it over, or someone
 * did by hand): it owns the trailing. A bot trailing the same stop would set it from its own best
 * price and could put back a looser one than the venue has moved it to since its last report (seed
 * 19810); a stop order of ours (separate) stays where it is, the venue's trailing stop ahead of it.
 * (Checked whatever the intent's mode: a restored intent found without a stop order turns to the
 * position's own stop later, seed 29211.)
 */
export function withVenueTrailingFound(ctx: Ctx, intent: Intent, position: Position): Intent {
  const distanceTicks = position.venue?.trailingTicks ?? null;
  if (distanceTicks === null || intent.guard.venueTrailing !== 'none') return intent;
  notify(ctx, 'info', 'venue-trailing', intent.symbol, `${intent.id}: the venue trails the position's stop (${price(ctx, intent, distanceTicks)} behind the best price): it keeps the level`);
  return { ...intent, guard: { ...intent.guard, venueTrailing: 'set' } };
}

/** Places the aged position's limit exit at the guard's price, reprices it, or places it again. */
function syncAgedExit(ctx: Ctx, intent: Intent, sizeLots: number): Intent {
  const { guard } = intent;
  if (guard.agedExitTicks === null || sizeLots === 0) return intent;
  const order = orderOf(ctx, guard.agedExitOrder);
  // Filled with fills still on the way: the position is closing; nothing to place again. Filled,
  // every fill booked, and a position left: it grew after the exit was sized; placed again for the rest.
  if (order?.status === 'filled' && order.fillsLots < filledLots(order)) return intent;
  if (order !== null && !isTerminal(order)) {
    const priced = order.spec.type.kind === 'limit' ? order.spec.type.priceTicks : null;
    if (isRepriceable(order) && priced !== guard.agedExitTicks) {
      const allowedAtMs = changesAllowedFromMs(ctx);
      if (ctx.atMs < allowedAtMs) return withReview(ctx, intent, allowedAtMs);
      sendAmend(ctx, order, { priceTicks: guard.agedExitTicks });
    }
    return intent;
  }
  if (guard.agedExitAttempts >= agedExitAttemptsMax) return startExit(ctx, intent, `the aged-position exit ended ${agedExitAttemptsMax} times without closing the position`, false);
  const attempt = guard.agedExitAttempts + 1;
  const key = clientOrderIdFor(intent.orderIdBase, 'age-exit', attempt);
  putOrder(ctx, newPendingOrder({
    key, intentId: intent.id, role: 'age-exit', createdMs: ctx.atMs,
    spec: { symbol: intent.symbol, side: oppositeSide(intent.side), sizeLots: Math.abs(sizeLots), reduceOnly: true, type: { kind: 'limit', priceTicks: guard.agedExitTicks, postOnly: false } },
  }));
  submitOrder(ctx, key);
  ctx.state.counters.agedExits += 1;
  return { ...intent, guard: { ...guard, agedExitOrder: key, agedExitAttempts: attempt } };
}

/** A working limit order whose price can be moved now: resting, partly filled or not, with no amend or cancel on its way. */
function isRepriceable(order: Order): boolean {
  return (order.status === 'accepted' || order.status === 'partially-filled') && order.amending === null && order.cancelRequestedMs === null;
}

/**
 * The position's own stop belongs to the symbol, not to one intent: a change an earlier intent sent
 * and the venue has not answered could still land after ours and undo it.
 */
function positionStopBusy(ctx: Ctx, intent: Intent): boolean {
  const owner = ctx.state.positionStopOwners.get(intent.symbol);
  return owner !== undefined && owner !== intent.id;
}

/** The intent whose position-stop change this reply answers: the symbol's active one, or an earlier one. */
function intentAwaiting(ctx: Ctx, symbol: string, commandId: number): Intent | undefined {
  const ownerId = ctx.state.positionStopOwners.get(symbol);
  const owner = ownerId === undefined ? undefined : ctx.state.intents.get(ownerId);
  return owner?.guard.positionStop?.commandId === commandId ? owner : undefined;
}

function sendAmend(ctx: Ctx, order: Order, amendment: Amendment): void {
  if (amendment.triggerTicks !== undefined && order.spec.type.kind === 'stop-market') {
    const closingSide = order.spec.side;
    // A sell stop protects a long: tighter is higher.
    if (!isTighter(oppositeSide(closingSide), amendment.triggerTicks, order.spec.type.triggerTicks)) fail(`${order.key}: an amend would loosen the stop`);
  }
  const commandId = nextSeq(ctx);
  putOrderUnrecorded(ctx, markAmendSent(order, commandId, amendment, ctx.atMs));
  ctx.out.push({ type: 'AmendOrder', commandId, clientOrderId: order.key as ClientOrderId, symbol: order.spec.symbol, amendment });
}

function sendPositionStop(ctx: Ctx, symbol: string, change: PositionStopChange): Guard['positionStop'] {
  const commandId = nextSeq(ctx);
  ctx.out.push({ type: 'SetPositionStop', commandId, symbol, change });
  return { commandId, change, sentMs: ctx.atMs, unknownSinceMs: null };
}

/**
 * The intent with a review armed at `atMs` (its timer started; one review per intent, at the
 * earliest time wanted), unless one is armed for then or sooner; not stored. A `reviewAtMs`
 * already past is no review: it fell due, and the evaluation it caused clears it.
 */
function withReview(ctx: Ctx, intent: Intent, atMs: number | null): Intent {
  if (atMs === null || atMs <= ctx.atMs) return intent;
  const armed = intent.guard.reviewAtMs;
  if (armed !== null && armed > ctx.atMs && armed <= atMs) return intent;
  startTimer(ctx, { kind: 'review', intentId: intent.id }, atMs - ctx.atMs);
  return { ...intent, guard: { ...intent.guard, reviewAtMs: atMs } };
}

/**
 * The review timer fired: look again (evaluateSymbol runs the policies; a review due makes the
 * position's evaluation a full one, which clears it).
 */
export function onReviewTimer(ctx: Ctx, intentId: Intent['id']): string | null {
  const intent = ctx.state.intents.get(intentId);
  return intent === undefined || !isActive(intent) ? null : intent.symbol;
}

// Replies to our changes.

export function onAmendReply(ctx: Ctx, event: EventOf<'OrderAmendAcked'> | EventOf<'OrderAmendRejected'> | EventOf<'OrderAmendUnknown'>): void {
  const order = ctx.state.orders.get(event.clientOrderId);
  if (order === undefined || order.amending?.commandId !== event.commandId) return; // settled already (a report showed it)
  switch (event.type) {
    case 'OrderAmendAcked':
      putOrder(ctx, onAmendLanded(order));
      resetFailures(ctx, order);
      return;
    case 'OrderAmendUnknown': {
      // Asked for once it can no longer land (the receive window after it was sent): an answer
      // read before that could be overtaken by the amend itself.
      const unknown = putOrder(ctx, onAmendUnknown(order));
      const askAtMs = (unknown.amending?.sentMs ?? ctx.atMs) + ctx.state.config.receiveWindowMs;
      notify(ctx, 'warn', 'amend-unknown', order.spec.symbol, `${order.key}: amend ${event.reason}; asking the venue for the order once it can no longer land, before anything else is changed`);
      if (askAtMs <= ctx.atMs) queryOrder(ctx, unknown);
      else startTimer(ctx, { kind: 'query-order', orderKey: unknown.key }, askAtMs - ctx.atMs);
      return;
    }
    case 'OrderAmendRejected': {
      putOrder(ctx, onAmendFailed(order));
      const intent = order.intentId === null ? undefined : ctx.state.intents.get(order.intentId);
      if (intent === undefined || !isActive(intent)) return;
      if (order.role === 'stop' && event.code === 'trigger-crossed') {
        startExit(ctx, intent, `the stop could not be moved to ${price(ctx, intent, intent.stopLoss.triggerTicks)}: the market is already past it`, true);
        return;
      }
      if (event.code === 'not-found') return; // the order ended; its reports say how
      notify(ctx, 'warn', 'amend-refused', order.spec.symbol, `${order.key}: amend ${refusedText(event.code, event.reason)}`);
      backOff(ctx, intent);
      return;
    }
    default:
      return event satisfies never;
  }
}

/**
 * Our query after a lost amend reply: the venue's order shows whether it landed (null: the order is
 * gone, and the amend with it). The venue refuses a request older than its receive window, so an
 * amend not shown now cannot land later.
 */
export function settleUnknownAmend(order: Order, report: OrderReport | null): Order {
  if (order.amending?.unknown !== true) return order;
  return report !== null && reportShowsAmend(order.amending, report) ? onAmendLanded(order) : onAmendFailed(order);
}

export function onPositionStopReply(ctx: Ctx, event: EventOf<'PositionStopAcked'> | EventOf<'PositionStopRejected'> | EventOf<'PositionStopUnknown'>): void {
  const intent = intentAwaiting(ctx, event.symbol, event.commandId);
  const inFlight = intent?.guard.positionStop ?? null;
  if (intent === undefined || inFlight === null) return;
  if (!isActive(intent)) {
    // Its intent is over: an answer frees the symbol for the next change; an unknown outcome does
    // once the change can no longer land.
    if (event.type === 'PositionStopUnknown') markPositionStopUnknown(ctx, intent, event.reason);
    else putIntent(ctx, { ...intent, guard: { ...intent.guard, positionStop: null } });
    return;
  }
  const { guard } = intent;
  const { change } = inFlight;
  switch (event.type) {
    case 'PositionStopAcked':
      putIntent(ctx, {
        ...intent,
        guard: {
          ...guard, positionStop: null, stopChangeFailures: 0, stopRetryAtMs: 0,
          ackedStopTicks: change.kind === 'stop-loss' ? change.stopLoss.triggerTicks : guard.ackedStopTicks,
          venueTrailing: change.kind === 'trailing' ? 'set' : guard.venueTrailing,
        },
      });
      return;
    case 'PositionStopUnknown':
      markPositionStopUnknown(ctx, intent, `setting the position's stop: ${event.reason}`);
      return;
    case 'PositionStopRejected': {
      const cleared: Intent = { ...intent, guard: { ...guard, positionStop: null } };
      if (change.kind === 'trailing') {
        notify(ctx, 'warn', 'venue-trailing-refused', event.symbol, `${intent.id}: its trailing stop for the venue ${refusedText(event.code, event.reason)}; the bot trails the stop instead`);
        putIntent(ctx, { ...cleared, guard: { ...cleared.guard, venueTrailing: 'refused' } });
        return;
      }
      if (event.code === 'trigger-crossed') {
        startExit(ctx, putIntent(ctx, cleared), `the position's stop could not be moved to ${price(ctx, intent, change.stopLoss.triggerTicks)}: the market is already past it`, true);
        return;
      }
      notify(ctx, 'warn', 'position-stop-refused', event.symbol, `${intent.id}: the position's stop ${refusedText(event.code, event.reason)}`);
      backOff(ctx, putIntent(ctx, cleared));
      return;
    }
    default:
      return event satisfies never;
  }
}

/**
 * A change of the position's stop whose outcome is unknown: it may still land until the venue's
 * receive window has passed since it was sent, so nothing else is sent for the symbol until then;
 * a snapshot is asked for meanwhile, so the position's reported stop shows what the venue holds.
 */
export function markPositionStopUnknown(ctx: Ctx, intent: Intent, why: string): void {
  const inFlight = intent.guard.positionStop;
  if (inFlight === null) return;
  if (isActive(intent)) notify(ctx, 'warn', 'position-stop-unknown', intent.symbol, `${intent.id}: ${why}; nothing more is changed until it can no longer land`);
  putIntent(ctx, { ...intent, guard: { ...intent.guard, positionStop: { ...inFlight, unknownSinceMs: inFlight.unknownSinceMs ?? ctx.atMs } } });
  const expiresAtMs = inFlight.sentMs + ctx.state.config.receiveWindowMs;
  startTimer(ctx, { kind: 'position-stop-expired', intentId: intent.id, commandId: inFlight.commandId }, Math.max(0, expiresAtMs - ctx.atMs));
  recheckSoon(ctx);
}

/**
 * The receive window of a position-stop change with an unknown outcome has passed: it landed or it
 * never will. The venue's reports of the position say which; the guard sends it again if the level
 * is still wanted (the venue answers "not modified" if it had landed), and a trailing handover is
 * made again. Returns the symbol to look at again, or null.
 */
export function onPositionStopExpired(ctx: Ctx, intentId: Intent['id'], commandId: number): string | null {
  const intent = ctx.state.intents.get(intentId);
  const inFlight = intent?.guard.positionStop ?? null;
  if (intent === undefined || inFlight?.commandId !== commandId || inFlight.unknownSinceMs === null) return null;
  const venueTrailing = inFlight.change.kind === 'trailing' ? 'none' : intent.guard.venueTrailing;
  putIntent(ctx, { ...intent, guard: { ...intent.guard, positionStop: null, venueTrailing } });
  return intent.symbol;
}

function backOff(ctx: Ctx, intent: Intent): void {
  const failures = intent.guard.stopChangeFailures + 1;
  const delayMs = Math.min(stopRetryMaxMs, stopRetryBaseMs * 2 ** (failures - 1));
  if (failures >= stopChangeFailuresMax) {
    notify(ctx, 'alarm', 'stop-move-failing', intent.symbol, `${intent.id}: ${failures} changes of the stop refused; it stays at the venue's level, an operator should look`);
  }
  putIntent(ctx, { ...intent, guard: { ...intent.guard, stopChangeFailures: failures, stopRetryAtMs: ctx.atMs + delayMs } });
}

function resetFailures(ctx: Ctx, order: Order): void {
  const intent = order.intentId === null ? undefined : ctx.state.intents.get(order.intentId);
  if (intent === undefined || (intent.guard.stopChangeFailures === 0 && intent.guard.stopRetryAtMs === 0)) return;
  putIntent(ctx, { ...intent, guard: { ...intent.guard, stopChangeFailures: 0, stopRetryAtMs: 0 } });
}

function price(ctx: Ctx, intent: Intent, ticks: number): string {
  const instrument = instrumentOf(ctx, intent.symbol);
  return instrument === undefined ? `${ticks} ticks` : ticksToPrice(instrument, ticks);
}
