// Venue-side trailing stops as Bybit runs them (position/trading-stop `trailingStop` and
// `activePrice`), as pure rules. Bybit trails the last price: the trailing activates when the last
// price reaches the activation price (at once when there is none); from then on it follows the best
// last price since activation (the highest for a long, the lowest for a short) and keeps the
// position's stop-loss at best - distance (long) or best + distance (short).
//
// Invariants: `bestTicks` is null until activation, then only ever improves, so the trailing level
// never loosens; while a trailing is active the position's stop-loss is at least as tight as its
// level (`tightenedStopLoss`), so setting a looser stop-loss by hand cannot undo the trailing; a
// stop-loss the trailing sets triggers by the last price.

import type { Trigger } from '../../core/types.ts';
import type { SimTrailing, TrailingSpec } from './types.ts';

/** +1 for a long, -1 for a short: the side the trailing protects. */
export type PositionSign = 1 | -1;

/** A trailing as set now: activated at once if the last price already reached its activation. */
export function startedTrailing(spec: TrailingSpec, sign: PositionSign, lastTicks: number | null): SimTrailing {
  const trailing: SimTrailing = { distanceTicks: spec.distanceTicks, activationTicks: spec.activationTicks, bestTicks: null };
  return lastTicks === null ? trailing : followed(trailing, sign, lastTicks);
}

/** The trailing after one last price: activated if the price reached the activation, its best improved. */
export function followed(trailing: SimTrailing, sign: PositionSign, lastTicks: number): SimTrailing {
  const { bestTicks, activationTicks } = trailing;
  if (bestTicks === null) {
    const reached = activationTicks === null || (sign > 0 ? lastTicks >= activationTicks : lastTicks <= activationTicks);
    return reached ? { ...trailing, bestTicks: lastTicks } : trailing;
  }
  const better = sign > 0 ? lastTicks > bestTicks : lastTicks < bestTicks;
  return better ? { ...trailing, bestTicks: lastTicks } : trailing;
}

/** Where the trailing holds the stop-loss now, or null before activation (never under one tick). */
export function trailingLevelTicks(trailing: SimTrailing | null, sign: PositionSign): number | null {
  if (trailing === null || trailing.bestTicks === null) return null;
  return sign > 0 ? Math.max(1, trailing.bestTicks - trailing.distanceTicks) : trailing.bestTicks + trailing.distanceTicks;
}

/** The tighter of a stop-loss and the trailing level (higher for a long, lower for a short); the same object when unchanged. */
export function tightenedStopLoss(stopLoss: Trigger | null, levelTicks: number | null, sign: PositionSign): Trigger | null {
  if (levelTicks === null) return stopLoss;
  if (stopLoss !== null && (sign > 0 ? stopLoss.triggerTicks >= levelTicks : stopLoss.triggerTicks <= levelTicks)) return stopLoss;
  return { triggerTicks: levelTicks, triggerBy: 'last' };
}

/** The stop-loss is the trailing's own (its close is then a trailing-stop execution, Bybit's TrailingStop). */
export function isTrailingStopLoss(stopLoss: Trigger, trailing: SimTrailing | null, sign: PositionSign): boolean {
  return stopLoss.triggerBy === 'last' && stopLoss.triggerTicks === trailingLevelTicks(trailing, sign);
}
