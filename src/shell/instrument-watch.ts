// Watching the venue's instruments while the bot runs. Bybit changes a contract's tick or lot now
// and then (announced, at a set time). The engine keeps prices and sizes as integers of the grid
// it loaded, and the adapter reads and writes the venue's decimals on that grid, so a change
// cannot be taken in on the fly: a finer tick puts the stream's prices off the old grid (every
// message carrying one fails), a coarser one has the venue refuse the prices the bot sends (a
// trailing stop's amends, then the stop's replacements, end in a market exit). Read again every
// few minutes, a change is seen before either, and the bot stops with what changed and what to do
// (src/cli/run.ts); started again, it loads the new grid, unless it holds something live there.
//
// What changes no price or size the state holds is taken in as it is read: a symbol's limits
// (Bybit adjusts the largest market order twice a month), a delisting Bybit announces (its
// `deliveryTime`), a symbol no longer listed as trading (marked delisted from the reading). Each
// goes to the engine as the instruments that changed (InstrumentsLoaded), which refuses entries
// on a symbol being delisted and says so. A symbol missing from a reading no longer blinds the
// watch to the others.

import type { GridChange } from '../core/engine/lifecycle.ts';
import { gridChanges } from '../core/engine/lifecycle.ts';
import type { Instrument } from '../core/instrument.ts';
import { limitChanges } from '../core/instrument.ts';
import type { EngineState } from '../core/state.ts';
import type { Clock } from './ports.ts';

export type InstrumentWatchDeps = {
  readonly clock: Clock;
  readonly everyMs: number;
  /** The bot's symbols. */
  readonly symbols: readonly string[];
  /** The venue's instruments for the bot's symbols, as it lists them now (those it lists as trading). */
  readonly read: () => Promise<readonly Instrument[]>;
  /** The state the bot runs on: its instruments, and what is live on each symbol. */
  readonly state: () => EngineState;
  /** Called once, with every change of tick or lot found; the watch ends there. */
  readonly onChange: (changes: readonly GridChange[]) => void;
  /** The instruments whose limits or delisting changed, as they are now: for the engine to take in. */
  readonly onUpdate: (instruments: readonly Instrument[]) => void;
  /** A reading that failed (the venue unreachable, say): tried again at the next interval. */
  readonly onReadFailed: (error: unknown) => void;
};

export class InstrumentWatch {
  private readonly deps: InstrumentWatchDeps;
  private stopped = false;

  constructor(deps: InstrumentWatchDeps) {
    this.deps = deps;
  }

  start(): void {
    this.next();
  }

  stop(): void {
    this.stopped = true;
  }

  private next(): void {
    const { clock, everyMs } = this.deps;
    clock.schedule(clock.nowMs() + everyMs, () => this.check());
  }

  private check(): void {
    if (this.stopped) return;
    void this.deps.read().then((loaded) => this.compare(loaded), (error: unknown) => this.failed(error));
  }

  /** A reading that ends after the stop is dropped: the bot is on its way out. */
  private compare(loaded: readonly Instrument[]): void {
    if (this.stopped) return;
    const state = this.deps.state();
    const changes = gridChanges(state, loaded);
    if (changes.length > 0) {
      this.stopped = true;
      this.deps.onChange(changes);
      return;
    }
    const updated = listingUpdates(state, this.deps.symbols, loaded, this.deps.clock.nowMs());
    if (updated.length > 0) this.deps.onUpdate(updated);
    this.next();
  }

  private failed(error: unknown): void {
    if (this.stopped) return;
    this.deps.onReadFailed(error);
    this.next();
  }
}

/**
 * The bot's instruments that a reading changes besides their grid: new limits, a delisting announced
 * or withdrawn, and a symbol no longer listed as trading (delisted from `nowMs`, unless already).
 */
export function listingUpdates(state: EngineState, symbols: readonly string[], loaded: readonly Instrument[], nowMs: number): Instrument[] {
  const updated: Instrument[] = [];
  for (const symbol of symbols) {
    const known = state.instruments.get(symbol);
    if (known === undefined) continue;
    const listed = loaded.find((instrument) => instrument.symbol === symbol);
    if (listed === undefined) {
      if (known.delistMs === undefined || known.delistMs > nowMs) updated.push({ ...known, delistMs: nowMs });
    } else if (listed.delistMs !== known.delistMs || limitChanges(known, listed).length > 0) {
      updated.push(listed);
    }
  }
  return updated;
}
