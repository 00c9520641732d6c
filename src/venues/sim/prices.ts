// Price paths for the simulated venue: an intrabar path through real candles, and a seeded random
// walk with jumps (gaps that go through stops rather than touching them).
//
// Invariants: every point is a whole number of ticks >= 1; times never decrease; a candle's path
// starts at its open and passes exactly through its low, its high and its close (after rounding to
// the tick), so a stop inside the candle's range is always reached; the same rng seed and options
// give the same walk.

import { assert } from '../../core/assert.ts';
import type { Instrument } from '../../core/instrument.ts';
import { priceToTicksRounded } from '../../core/instrument.ts';
import type { Rng } from '../../sim/rng.ts';

export type Candle = {
  readonly openMs: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
};

export type PricePoint = { readonly atMs: number; readonly symbol: string; readonly lastTicks: number };

export type CandlePathOptions = { readonly pointsPerSegment: number; readonly candleMs?: number };

/**
 * The intrabar path of each candle: open -> low -> high -> close when it closes up (close >= open),
 * open -> high -> low -> close otherwise. Each of the three segments yields `pointsPerSegment`
 * points ending on its waypoint, after the open itself: 3 x pointsPerSegment + 1 points per
 * candle, spread evenly over [openMs, openMs + candleMs).
 */
export function candlePath(symbol: string, instrument: Instrument, candles: readonly Candle[], options: CandlePathOptions): PricePoint[] {
  const { pointsPerSegment, candleMs = 60_000 } = options;
  assert(Number.isSafeInteger(pointsPerSegment) && pointsPerSegment >= 1, `candlePath: bad pointsPerSegment ${pointsPerSegment}`);
  assert(Number.isSafeInteger(candleMs) && candleMs > 0, `candlePath: bad candleMs ${candleMs}`);
  const points: PricePoint[] = [];
  let previousOpenMs = -Infinity;
  for (const candle of candles) {
    assertCandle(symbol, candle, previousOpenMs);
    previousOpenMs = candle.openMs;
    const prices = intrabarPrices(candle, pointsPerSegment);
    prices.forEach((price, index) => {
      const atMs = candle.openMs + Math.floor((index * candleMs) / prices.length);
      points.push({ atMs, symbol, lastTicks: Math.max(1, priceToTicksRounded(instrument, price, 'nearest')) });
    });
  }
  return points;
}

function assertCandle(symbol: string, candle: Candle, previousOpenMs: number): void {
  const { open, high, low, close } = candle;
  assert([open, high, low, close].every((price) => Number.isFinite(price) && price > 0), `${symbol} candle ${candle.openMs}: prices must be positive`);
  assert(low <= Math.min(open, close) && high >= Math.max(open, close), `${symbol} candle ${candle.openMs}: open/close outside [low, high]`);
  assert(candle.openMs > previousOpenMs, `${symbol} candle ${candle.openMs}: candles must be in time order`);
}

/** Float prices along the candle's path, the open first, each segment ending on its waypoint. */
function intrabarPrices(candle: Candle, pointsPerSegment: number): number[] {
  const closesUp = candle.close >= candle.open;
  const waypoints = closesUp
    ? [candle.open, candle.low, candle.high, candle.close]
    : [candle.open, candle.high, candle.low, candle.close];
  const prices = [candle.open];
  for (let segment = 0; segment < 3; segment += 1) {
    const from = waypoints[segment] ?? candle.open;
    const to = waypoints[segment + 1] ?? candle.close;
    for (let step = 1; step <= pointsPerSegment; step += 1) prices.push(from + ((to - from) * step) / pointsPerSegment);
  }
  return prices;
}

export type RandomWalkOptions = {
  readonly symbol: string;
  readonly startTicks: number;
  readonly startMs: number;
  readonly stepMs: number;
  readonly steps: number;
  /** Standard deviation of one step's return, in basis points. */
  readonly volatilityBps: number;
  readonly jumpChance: number;
  /** Size of a jump, in basis points, up or down with equal chance. */
  readonly jumpBps: number;
};

const bpsPerUnit = 10_000;

/** A seeded walk in ticks: the start point, then one point per step; never below 1 tick. */
export function randomWalk(rng: Rng, options: RandomWalkOptions): PricePoint[] {
  const { symbol, startTicks, startMs, stepMs, steps, volatilityBps, jumpChance, jumpBps } = options;
  assert(Number.isSafeInteger(startTicks) && startTicks >= 1, `randomWalk: bad startTicks ${startTicks}`);
  assert(Number.isSafeInteger(steps) && steps >= 0 && Number.isSafeInteger(stepMs) && stepMs > 0, 'randomWalk: bad steps or stepMs');
  assert(volatilityBps >= 0 && jumpBps >= 0 && jumpChance >= 0 && jumpChance <= 1, 'randomWalk: bad volatility or jump options');
  const points: PricePoint[] = [{ atMs: startMs, symbol, lastTicks: startTicks }];
  let ticks = startTicks;
  for (let step = 1; step <= steps; step += 1) {
    const diffusion = (standardNormal(rng) * volatilityBps) / bpsPerUnit;
    const jump = rng.chance(jumpChance) ? ((rng.chance(0.5) ? 1 : -1) * jumpBps) / bpsPerUnit : 0;
    ticks = Math.max(1, Math.round(ticks * (1 + diffusion + jump)));
    points.push({ atMs: startMs + step * stepMs, symbol, lastTicks: ticks });
  }
  return points;
}

/** One draw of N(0, 1) by Box-Muller (1 - u keeps the logarithm finite). */
function standardNormal(rng: Rng): number {
  const radius = Math.sqrt(-2 * Math.log(1 - rng.next()));
  return radius * Math.cos(2 * Math.PI * rng.next());
}
