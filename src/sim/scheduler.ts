// Virtual time for simulations: a clock whose "now" is the time of the item being run, and a
// priority queue of timed actions ordered by (time, insertion order), so equal times run in the
// order they were scheduled and a run is a pure function of its seed. The scheduler's time is the
// bot's clock; the venue keeps its own (`VenueClock`), skewed from it as a seed says.

import { assert } from '../core/assert.ts';
import type { Clock } from '../shell/ports.ts';

/** The virtual time every simulated world starts at (2023-11-14T22:13:20Z). */
export const simEpochMs = 1_700_000_000_000;

type Item = { readonly atMs: number; readonly order: number; readonly run: () => void };

export class Scheduler implements Clock {
  private readonly heap: Item[] = [];
  private inserted = 0;
  private current: number;

  constructor(startMs: number) {
    this.current = startMs;
  }

  nowMs(): number {
    return this.current;
  }

  schedule(fireAtMs: number, onFire: () => void): void {
    this.push({ atMs: Math.max(fireAtMs, this.current), order: this.inserted++, run: onFire });
  }

  get size(): number {
    return this.heap.length;
  }

  nextAtMs(): number | null {
    return this.heap[0]?.atMs ?? null;
  }

  /** Runs the earliest item; false if there is none. */
  runNext(): boolean {
    const item = this.pop();
    if (item === undefined) return false;
    this.current = item.atMs;
    item.run();
    return true;
  }

  private push(item: Item): void {
    const heap = this.heap;
    heap.push(item);
    let index = heap.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      const parentItem = heap[parent];
      if (parentItem === undefined || !before(item, parentItem)) break;
      heap[index] = parentItem;
      index = parent;
    }
    heap[index] = item;
  }

  private pop(): Item | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined || heap.length === 0) return top;
    let index = 0;
    for (;;) {
      const left = 2 * index + 1;
      const right = left + 1;
      let smallest = last;
      let smallestIndex = -1;
      const leftItem = heap[left];
      const rightItem = heap[right];
      if (leftItem !== undefined && before(leftItem, smallest)) {
        smallest = leftItem;
        smallestIndex = left;
      }
      if (rightItem !== undefined && before(rightItem, smallest)) {
        smallest = rightItem;
        smallestIndex = right;
      }
      if (smallestIndex === -1) break;
      heap[index] = smallest;
      index = smallestIndex;
    }
    heap[index] = last;
    return top;
  }
}

function before(a: Item, b: Item): boolean {
  return a.atMs < b.atMs || (a.atMs === b.atMs && a.order < b.order);
}

/**
 * How the venue's clock runs against the bot's: `skewMs` ahead of it at the world's start (behind
 * when negative), gaining `driftPpm` millionths of the elapsed time (losing when negative).
 */
export type ClockSkew = { readonly skewMs: number; readonly driftPpm: number };

export const noClockSkew: ClockSkew = { skewMs: 0, driftPpm: 0 };

/** Bounds of a skew the simulation draws (Bybit tolerates a few seconds; real hosts are within hundreds of ms). */
export const clockSkewMsMax = 2_000;
export const clockDriftPpmMax = 200;

/**
 * The venue's clock: every time the simulated venue stamps (fills, order, position and wallet
 * reports, tickers, a snapshot's read time) is read from it, never from the bot's. Invariant: it
 * never goes back while the bot's clock goes forward (|driftPpm| < 10^6, offsets truncated).
 */
export class VenueClock {
  readonly skew: ClockSkew;
  private readonly botClock: { nowMs(): number };
  private readonly startMs: number;

  constructor(botClock: { nowMs(): number }, skew: ClockSkew, startMs: number) {
    const valid = Number.isSafeInteger(skew.skewMs) && Number.isSafeInteger(skew.driftPpm) && Math.abs(skew.driftPpm) < 1_000_000;
    assert(valid, `bad clock skew ${JSON.stringify(skew)}`);
    this.botClock = botClock;
    this.skew = skew;
    this.startMs = startMs;
  }

  nowMs(): number {
    return this.at(this.botClock.nowMs());
  }

  /** The venue's time when the bot's clock reads `botMs`. */
  at(botMs: number): number {
    const { skewMs, driftPpm } = this.skew;
    return botMs + skewMs + Math.trunc((driftPpm * (botMs - this.startMs)) / 1_000_000);
  }
}
