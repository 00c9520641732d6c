// The protection policies as pure functions: a view of one open position and its plan in, the
// policies' new memory and their decisions out. The engine (engine/guard.ts) evaluates them on
// every event about the symbol and on their review timer, and turns decisions into orders.
//
//   trailing (bot mode): once the trigger price reaches the activation, the stop follows the best
//     price since at the callback distance (with a minimum move, only when that tightens it by at
//     least as much); if the price crosses the stop before the venue's stop has been moved to it,
//     close at market (the venue's stop is a step behind);
//   breakeven: after the first take-profit target fills, the stop moves to the entry plus fees;
//   aged: past the maximum age, a reduce-only limit exit at breakeven (fees included); after the
//     grace period its price steps toward the market once per interval, never past it; at the
//     hard limit, a market close.
//
// Invariants: a `tighten-stop` decision is always strictly tighter than the view's stop (the
// engine asserts it again before anything is sent); decisions depend only on the view, so a
// replay decides the same.

import type { Guard } from '../intent/intent.ts';
import type { Side } from '../types.ts';
import type { IntentPlan, TrailingPlan } from './plan.ts';
import { distanceTicks } from './plan.ts';

export type GuardView = {
  readonly atMs: number;
  /** The position's side: buy is long. */
  readonly side: Side;
  readonly sizeLots: number;
  readonly averageEntryTicks: number | null;
  /** The price the stop triggers on (mark or last, as the plan says); null before any. */
  readonly triggerPriceTicks: number | null;
  /** The last traded price, which a limit exit is priced against; null before any. */
  readonly lastTicks: number | null;
  /** The stop level wanted now (only ever tightens). */
  readonly stopTicks: number;
  /** The stop level the venue holds, as far as it has confirmed; null if it has confirmed none. */
  readonly venueStopTicks: number | null;
  /** When the position was first seen. */
  readonly openedMs: number;
  readonly firstTargetFilled: boolean;
  /** Taker fee rate in millionths, for breakeven prices. */
  readonly takerFeePpm: number;
  readonly plan: IntentPlan;
  /** Best trigger price since the trailing activated; null until it does. */
  readonly trailPeakTicks: number | null;
  /** Whether the bot moves the stop itself (false while the venue trails it). */
  readonly botTrailing: boolean;
  readonly guard: Guard;
  /** Ticks as the instrument's price text, for what the decisions say. */
  readonly price: (ticks: number) => string;
};

export type GuardDecision =
  | { readonly kind: 'tighten-stop'; readonly triggerTicks: number; readonly reason: 'trailing' | 'breakeven' }
  | { readonly kind: 'exit'; readonly reason: string }
  /** Place the aged position's limit exit at this price, or move it there. */
  | { readonly kind: 'aged-exit'; readonly priceTicks: number; readonly text: string };

export type GuardOutcome = {
  readonly guard: Guard;
  readonly trailPeakTicks: number | null;
  readonly decisions: readonly GuardDecision[];
  /** The next time the policies want to look again without any event; null for never. */
  readonly reviewAtMs: number | null;
};

/** Is `a` a tighter stop than `b` for a position on `side` (closer to the price, above for a long)? */
export function isTighter(side: Side, a: number, b: number): boolean {
  return side === 'buy' ? a > b : a < b;
}

/**
 * Does the trailing's level (at the callback distance from `peakTicks`) move the stop: tighter, and
 * by at least the plan's minimum move (measured from the best price, as the callback is)? The
 * engine's quiet check asks the same, so the two cannot disagree on whether a ticker moves it.
 */
export function trailingMovesStop(side: Side, trailing: TrailingPlan, peakTicks: number, levelTicks: number, stopTicks: number): boolean {
  if (!(levelTicks > 0 && isTighter(side, levelTicks, stopTicks))) return false;
  return trailing.minMove === null || Math.abs(levelTicks - stopTicks) >= distanceTicks(trailing.minMove, peakTicks);
}

/** Has the price reached a stop level (at or through it)? */
export function isStopCrossed(side: Side, priceTicks: number, stopTicks: number): boolean {
  return side === 'buy' ? priceTicks <= stopTicks : priceTicks >= stopTicks;
}

/**
 * The price at which closing the position loses nothing, fees included, rounded away from the entry
 * (a tick more, never a tick less). A long bought at E pays E·f and sells at X for X·(1 − f): even
 * at X = E·(1 + f) / (1 − f); a short, X = E·(1 − f) / (1 + f). (E·(1 ± 2f), the usual shortcut, is
 * E·2f² short of it for a long: a loss, however small, where none is promised.)
 */
export function breakevenTicks(side: Side, averageEntryTicks: number, takerFeePpm: number): number {
  const fee = takerFeePpm;
  return side === 'buy'
    ? Math.ceil((averageEntryTicks * (1_000_000 + fee)) / (1_000_000 - fee) - 1e-9)
    : Math.floor((averageEntryTicks * (1_000_000 - fee)) / (1_000_000 + fee) + 1e-9);
}

export function evaluateGuards(view: GuardView): GuardOutcome {
  const decisions: GuardDecision[] = [];
  let { guard, trailPeakTicks } = view;
  let stopTicks = view.stopTicks;
  /** The earliest time after now the policies want to look again. */
  let reviewAtMs: number | null = null;
  const reviewAt = (atMs: number): void => {
    if (atMs > view.atMs && (reviewAtMs === null || atMs < reviewAtMs)) reviewAtMs = atMs;
  };

  const trailing = view.plan.trailing;
  if (trailing !== null && view.botTrailing && view.triggerPriceTicks !== null) {
    const price = view.triggerPriceTicks;
    const activated = trailPeakTicks !== null || trailing.activationTicks === null || !isTighter(view.side, trailing.activationTicks, price);
    if (activated) {
      const peak = trailPeakTicks === null || isTighter(view.side, price, trailPeakTicks) ? price : trailPeakTicks;
      trailPeakTicks = peak;
      const distance = distanceTicks(trailing.callback, peak);
      const level = view.side === 'buy' ? peak - distance : peak + distance;
      if (trailingMovesStop(view.side, trailing, peak, level, stopTicks)) {
        decisions.push({ kind: 'tighten-stop', triggerTicks: level, reason: 'trailing' });
        stopTicks = level;
      }
      // Crossed our level but not the venue's (still looser, its move not landed): the venue's stop
      // will not fire, so we close. Crossed the venue's too: it is firing; nothing to add.
      const venueFires = view.venueStopTicks !== null && isStopCrossed(view.side, price, view.venueStopTicks);
      if (isStopCrossed(view.side, price, stopTicks) && !venueFires) {
        const venueStop = view.venueStopTicks === null ? 'none' : view.price(view.venueStopTicks);
        decisions.push({ kind: 'exit', reason: `trailing stop ${view.price(stopTicks)} reached at ${view.price(price)} before the venue's stop (${venueStop}) was moved to it` });
        return { guard, trailPeakTicks, decisions, reviewAtMs: null };
      }
    }
  }

  if (view.plan.breakevenAfterFirstTarget && view.firstTargetFilled && !guard.breakevenDone && view.averageEntryTicks !== null) {
    guard = { ...guard, breakevenDone: true };
    const level = breakevenTicks(view.side, view.averageEntryTicks, view.takerFeePpm);
    if (isTighter(view.side, level, stopTicks)) decisions.push({ kind: 'tighten-stop', triggerTicks: level, reason: 'breakeven' });
  }

  const aged = view.plan.aged;
  if (aged !== null) {
    const ageMs = view.atMs - view.openedMs;
    if (ageMs >= aged.hardLimitMs) {
      decisions.push({ kind: 'exit', reason: `aged position: ${formatAge(ageMs)} old, past the hard limit of ${formatAge(aged.hardLimitMs)}` });
      return { guard, trailPeakTicks, decisions, reviewAtMs: null };
    }
    reviewAt(view.openedMs + aged.hardLimitMs);
    if (ageMs < aged.maxAgeMs) {
      reviewAt(view.openedMs + aged.maxAgeMs);
    } else if (guard.agedExitTicks === null) {
      if (view.averageEntryTicks !== null) {
        const price = breakevenTicks(view.side, view.averageEntryTicks, view.takerFeePpm);
        decisions.push({ kind: 'aged-exit', priceTicks: price, text: `aged position: ${formatAge(ageMs)} old, exit at breakeven ${view.price(price)} (fees included)` });
        guard = { ...guard, agedExitTicks: price, agedSteppedMs: view.atMs };
        // Its first step: once the grace is over, and a step's interval after it was placed (with no
        // grace, or placed late, the grace is over already: a review for then would be none).
        reviewAt(Math.max(view.openedMs + aged.maxAgeMs + aged.graceMs, view.atMs + aged.stepEveryMs));
      }
    } else {
      const steppingFromMs = view.openedMs + aged.maxAgeMs + aged.graceMs;
      const nextStepMs = Math.max(steppingFromMs, (guard.agedSteppedMs ?? 0) + aged.stepEveryMs);
      if (view.atMs >= nextStepMs && view.lastTicks !== null) {
        const current = guard.agedExitTicks;
        const step = distanceTicks(aged.step, current);
        // Toward the market, never past it, never away from it: a long's sell limit walks down to
        // the last price (a last price above it leaves it where it is, about to fill).
        const next = view.side === 'buy' ? Math.min(current, Math.max(view.lastTicks, current - step)) : Math.max(current, Math.min(view.lastTicks, current + step));
        if (next !== current) {
          decisions.push({ kind: 'aged-exit', priceTicks: next, text: `aged position: ${formatAge(ageMs)} old, exit price stepped from ${view.price(current)} to ${view.price(next)} toward the market (${view.price(view.lastTicks)})` });
        }
        guard = { ...guard, agedExitTicks: next, agedSteppedMs: view.atMs };
        reviewAt(view.atMs + aged.stepEveryMs);
      } else {
        reviewAt(nextStepMs);
      }
    }
  }
  return { guard, trailPeakTicks, decisions, reviewAtMs };
}

/** An age as an operator reads it: 4h05m, 12m30s, 950ms. */
export function formatAge(ms: number): string {
  if (ms < 1_000) return `${ms}ms`;
  const seconds = Math.floor(ms / 1_000);
  const hours = Math.floor(seconds / 3_600);
  const minutes = Math.floor((seconds % 3_600) / 60);
  if (hours > 0) return `${hours}h${String(minutes).padStart(2, '0')}m`;
  return `${minutes}m${String(seconds % 60).padStart(2, '0')}s`;
}
