// How long each symbol held a position without a stop on the venue, measured by a server of the
// simulated venue (the loopback server, the Bybit emulator) on its own clock: sampled after every
// change it makes to the venue (a request, a price), and the venue changes at no other moment, so
// the measure is exact to the clock's resolution. Tests that drive a bot against a server check
// with it that no position was left bare for long.
//
// Invariants: a stretch opens when a symbol becomes unprotected and closes when it is protected
// again (SimVenue.isProtected: flat, a position stop-loss, or reduce-only stops covering it).

import type { SimVenue } from './venue.ts';

type Stretch = { sinceMs: number | null; longestMs: number };

export class ExposureMeter {
  private readonly stretches = new Map<string, Stretch>();

  sample(venue: SimVenue, symbols: Iterable<string>, nowMs: number): void {
    for (const symbol of symbols) {
      let stretch = this.stretches.get(symbol);
      if (stretch === undefined) {
        stretch = { sinceMs: null, longestMs: 0 };
        this.stretches.set(symbol, stretch);
      }
      const bare = !venue.isProtected(symbol);
      if (bare && stretch.sinceMs === null) stretch.sinceMs = nowMs;
      if (!bare && stretch.sinceMs !== null) {
        stretch.longestMs = Math.max(stretch.longestMs, nowMs - stretch.sinceMs);
        stretch.sinceMs = null;
      }
    }
  }

  /** The longest stretch so far, the open one included. */
  longestMs(symbol: string, nowMs: number): number {
    const stretch = this.stretches.get(symbol);
    if (stretch === undefined) return 0;
    return Math.max(stretch.longestMs, stretch.sinceMs === null ? 0 : nowMs - stretch.sinceMs);
  }
}
