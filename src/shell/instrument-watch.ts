// Watching the venue's instruments while the bot runs. Bybit changes a contract's tick or lot now
// and then (announced, at a set time). The engine keeps prices and sizes as integers of the grid
// it loaded, and the adapter reads and writes the venue's decimals on that grid, so a change
// cannot be taken in on the fly: a finer tick puts the stream's prices off the old grid (every
// message carrying one fails), a coarser one has the venue refuse the prices the bot sends (a
// trailing stop's amends, then the stop's replacements, end in a market exit). Read again every
// few minutes, a change is seen before either, and the bot stops with what changed and what to do
// (src/cli/run.ts); started again, it loads the new grid, unless it holds something live there.

import type { GridChange } from '../core/engine/lifecycle.ts';
import { gridChanges } from '../core/engine/lifecycle.ts';
import type { Instrument } from '../core/instrument.ts';
import type { EngineState } from '../core/state.ts';
import type { Clock } from './ports.ts';

export type InstrumentWatchDeps = {
  readonly clock: Clock;
  readonly everyMs: number;
  /** The venue's instruments for the bot's symbols, as it lists them now. */
  readonly read: () => Promise<readonly Instrument[]>;
  /** The state the bot runs on: its instruments, and what is live on each symbol. */
  readonly state: () => EngineState;
  /** Called once, with every change found; the watch ends there. */
  readonly onChange: (changes: readonly GridChange[]) => void;
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
    const changes = gridChanges(this.deps.state(), loaded);
    if (changes.length === 0) {
      this.next();
      return;
    }
    this.stopped = true;
    this.deps.onChange(changes);
  }

  private failed(error: unknown): void {
    if (this.stopped) return;
    this.deps.onReadFailed(error);
    this.next();
  }
}
