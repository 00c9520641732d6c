// A live price source for the simulated venue's servers (the loopback server and the Bybit
// emulator): one seeded random walk per instrument (prices.ts), drawn a chunk of steps at a time
// and advanced one step per timer tick, so a server left running has prices that move (limit
// entries fill, stops fire) and the same seed gives the same path.
//
// Invariants: every price is a whole number of ticks >= 1; the walk for a symbol depends only on
// its rng and its start.

import type { Instrument } from '../../core/instrument.ts';
import type { Rng } from '../../sim/rng.ts';
import { randomWalk } from './prices.ts';

export type PriceFeedOptions = {
  /** One step per tick of this many ms. */
  readonly tickMs: number;
  /** Standard deviation of one step's move, in basis points. */
  readonly volatilityBps: number;
};

/** The walk is drawn this many steps at a time. */
const walkChunkSteps = 256;

export class PriceWalk {
  readonly symbol: string;
  private readonly rng: Rng;
  private readonly volatilityBps: number;
  private current: number;
  private chunk: readonly number[] = [];
  private nextIndex = 0;

  constructor(instrument: Instrument, startTicks: number, rng: Rng, volatilityBps: number) {
    this.symbol = instrument.symbol;
    this.rng = rng;
    this.volatilityBps = volatilityBps;
    this.current = startTicks;
  }

  get ticks(): number {
    return this.current;
  }

  next(): number {
    if (this.nextIndex >= this.chunk.length) {
      const points = randomWalk(this.rng, {
        symbol: this.symbol, startTicks: this.current, startMs: 0, stepMs: 1, steps: walkChunkSteps, volatilityBps: this.volatilityBps, jumpChance: 0, jumpBps: 0,
      });
      this.chunk = points.slice(1).map((point) => point.lastTicks); // the first point is the current price
      this.nextIndex = 0;
    }
    this.current = this.chunk[this.nextIndex] ?? this.current;
    this.nextIndex += 1;
    return this.current;
  }
}
