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

/**
 * The one event a command ends in when no answer came (a timeout, a lost connection): an unknown
 * outcome the engine settles by asking, never by sending again; for a query or a snapshot, a
 * failure it asks again after.
 */
export function unknownOutcome(command: VenueCommand, reason: string): Incoming {
  switch (command.type) {
    case 'SubmitOrder':
      return { type: 'OrderSubmitUnknown', commandId: command.commandId, clientOrderId: command.clientOrderId, reason };
    case 'CancelOrder':
      return { type: 'OrderCancelUnknown', commandId: command.commandId, clientOrderId: command.clientOrderId, reason };
    case 'AmendOrder':
      return { type: 'OrderAmendUnknown', commandId: command.commandId, clientOrderId: command.clientOrderId, reason };
    case 'SetPositionStop':
      return { type: 'PositionStopUnknown', commandId: command.commandId, symbol: command.symbol, reason };
    case 'QueryOrder':
      return { type: 'OrderQueryFailed', commandId: command.commandId, clientOrderId: command.clientOrderId, reason };
    case 'FetchSnapshot':
      return { type: 'SnapshotFailed', snapshotId: command.snapshotId, reason };
    default:
      return command satisfies never;
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
