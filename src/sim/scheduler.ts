// Virtual time for simulations: a clock whose "now" is the time of the item being run, and a
// priority queue of timed actions ordered by (time, insertion order), so equal times run in the
// order they were scheduled and a run is a pure function of its seed.

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
