// The ports between the runtime and the world: a clock with timers, a journal, and a venue
// gateway. Each has a real implementation for live trading and a simulated one for paper
// trading, backtests and the simulation harness.

import type { Command, CommandOf, LedgerRecord } from '../core/commands.ts';
import type { EngineState } from '../core/state.ts';
import type { Event } from '../core/events.ts';

/** An event as it arrives, before the runtime stamps it with its receive time. */
export type Incoming = Event extends infer E ? (E extends Event ? Omit<E, 'atMs'> : never) : never;

export interface Clock {
  nowMs(): number;
  /** Calls `onFire` once, at or after `fireAtMs`. */
  schedule(fireAtMs: number, onFire: () => void): void;
}

/**
 * The journal of inputs: an event is appended (and durable) before `step` sees it, so whatever
 * the engine decided from it can be decided again by replaying it. Backend-neutral: SQLite
 * (src/journal) and memory implement it; PostgreSQL will.
 */
export interface Journal {
  /** Appends a batch as one group commit; durable when it returns. */
  append(events: readonly Event[]): void;
  /** After the batch is applied: its ledger records for the projections, and a snapshot when one is due. */
  applied?(state: EngineState, records: readonly LedgerRecord[]): void;
  entries(): Iterable<Event>;
  readonly size: number;
}

export type VenueCommand =
  | CommandOf<'SubmitOrder'>
  | CommandOf<'CancelOrder'>
  | CommandOf<'AmendOrder'>
  | CommandOf<'SetPositionStop'>
  | CommandOf<'QueryOrder'>
  | CommandOf<'FetchSnapshot'>;

/** Sends commands to the venue. Outcomes come back later as events through the runtime's inbox. */
export interface VenueGateway {
  execute(command: VenueCommand): void;
}

export function isVenueCommand(command: Command): command is VenueCommand {
  switch (command.type) {
    case 'SubmitOrder':
    case 'CancelOrder':
    case 'AmendOrder':
    case 'SetPositionStop':
    case 'QueryOrder':
    case 'FetchSnapshot':
      return true;
    default:
      return false;
  }
}

export class InMemoryJournal implements Journal {
  private readonly events: Event[] = [];

  append(events: readonly Event[]): void {
    for (const event of events) this.events.push(event);
  }

  entries(): Iterable<Event> {
    return this.events;
  }

  get size(): number {
    return this.events.length;
  }
}
