// The runtime: the single writer around the pure engine. Events from every source (venue
// streams, REST replies, timers, strategies, the operator) enter one bounded inbox; the runtime
// takes them in order, journals each batch, applies each event with `step`, and only then hands
// the resulting commands to the gateway and the clock. Run to completion: an event is fully
// applied, and its commands dispatched, before the next one is looked at.
//
// Invariants: the inbox holds at most `inboxEventsMax` events; a command leaves only after the
// event that produced it is in the journal (so an intent is durable before its order is sent);
// the journal sees a batch's ledger records only after the whole batch is applied; after an invariant failure in `step` the runtime
// halts: it stops applying events and sending commands, and says so (the venue keeps the stops).

import type { Command, LedgerRecord, Notice } from '../core/commands.ts';
import type { Event } from '../core/events.ts';
import { assertNever } from '../core/assert.ts';
import { step as engineStep } from '../core/engine/step.ts';
import type { EngineState } from '../core/state.ts';
import { readsBeforeHeldUpTimers } from './clock.ts';
import type { Clock, Incoming, Journal, VenueGateway } from './ports.ts';

export type StepFunction = (state: EngineState, event: Event) => Command[];

export type RuntimeDeps = {
  readonly state: EngineState;
  readonly clock: Clock;
  readonly journal: Journal;
  readonly gateway: VenueGateway;
  readonly onNotice?: (notice: Notice, atMs: number) => void;
  readonly onApplied?: (event: Event, commands: readonly Command[]) => void;
  /** The engine; replaceable only so tests can prove the harness catches a broken one. */
  readonly step?: StepFunction;
  readonly inboxEventsMax?: number;
};

export const inboxEventsMaxDefault = 100_000;

export type Halt = { readonly reason: string; readonly atMs: number };

export class Runtime {
  readonly state: EngineState;
  private readonly deps: RuntimeDeps;
  private readonly step: StepFunction;
  private readonly inbox: Event[] = [];
  private readonly inboxEventsMax: number;
  /** The engine's timers: one held up by a frozen process fires after what waited in its sockets. */
  private readonly timers: Clock;
  private halted: Halt | null = null;
  private killed = false;
  private draining = false;
  /** Ledger records of the batch being applied, handed to the journal once it is. */
  private readonly records: LedgerRecord[] = [];

  constructor(deps: RuntimeDeps) {
    this.deps = deps;
    this.state = deps.state;
    this.step = deps.step ?? engineStep;
    this.inboxEventsMax = deps.inboxEventsMax ?? inboxEventsMaxDefault;
    this.timers = readsBeforeHeldUpTimers(deps.clock);
  }

  get halt(): Halt | null {
    return this.halted;
  }

  get pending(): number {
    return this.inbox.length;
  }

  /** Accepts an event from any source, stamped with the time it was received. */
  receive(incoming: Incoming): void {
    if (this.halted !== null) return;
    if (this.inbox.length >= this.inboxEventsMax) {
      this.stop(`inbox overflow: more than ${this.inboxEventsMax} events waiting; the engine cannot keep up`);
      return;
    }
    this.inbox.push({ ...incoming, atMs: this.deps.clock.nowMs() });
  }

  /**
   * Applies everything waiting in the inbox, in arrival order. A call from inside a drain (a
   * gateway that answers before returning, a source that delivers and drains) only leaves its
   * events in the inbox: the drain under way takes them after its batch, so the journal's order is
   * the order of application.
   */
  drain(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      this.drainInbox();
    } finally {
      this.draining = false;
    }
  }

  private drainInbox(): void {
    while (this.inbox.length > 0 && !this.isHalted()) {
      const batch = this.inbox.splice(0, this.inbox.length);
      try {
        this.deps.journal.append(batch); // group commit: one append for the batch, before any step
      } catch (error) {
        // Applying what is not journaled would break write-ahead (a restart would not know it):
        // nothing of the batch is applied, and the bot stops; the venue keeps the stops, and the
        // next start reconciles what happened meanwhile.
        this.stop(`the journal could not write ${batch.length} event(s), none applied: ${messageOf(error)}`);
        return;
      }
      for (const event of batch) {
        if (this.isHalted()) break;
        this.apply(event);
      }
      // Halted inside the batch: its records and any snapshot would describe a state no replay
      // reaches (half a batch, or an event that broke an invariant); the journal holds the batch.
      if (this.isHalted()) return;
      // Projections and snapshots follow the batch; the journal alone can rebuild them. One that
      // cannot be written (a full disk) halts all the same: the next append would fail too.
      const records = this.records.splice(0, this.records.length);
      try {
        this.deps.journal.applied?.(this.state, records);
      } catch (error) {
        this.stop(`the journal could not write the ledger or a snapshot after a batch (its events are in): ${messageOf(error)}`);
        return;
      }
    }
  }

  /**
   * The process dies here (the simulation's SIGKILL): nothing after this instant happens, not the
   * rest of the batch, not the rest of this event's commands. What the journal holds survives.
   */
  kill(): void {
    this.killed = true;
    this.halted ??= { reason: 'killed', atMs: this.deps.clock.nowMs() };
    this.inbox.length = 0;
  }

  private isHalted(): boolean {
    return this.halted !== null;
  }

  private apply(event: Event): void {
    let commands: Command[];
    try {
      commands = this.step(this.state, event);
    } catch (error) {
      this.stop(`engine invariant failed on ${event.type}: ${messageOf(error)}`);
      return;
    }
    this.deps.onApplied?.(event, commands);
    for (const command of commands) {
      if (this.killed) return;
      this.dispatch(command);
    }
  }

  private dispatch(command: Command): void {
    switch (command.type) {
      case 'Record':
        this.records.push(command.record);
        return;
      case 'SubmitOrder':
      case 'CancelOrder':
      case 'AmendOrder':
      case 'SetPositionStop':
      case 'QueryOrder':
      case 'FetchSnapshot':
        this.deps.gateway.execute(command);
        return;
      case 'StartTimer':
        this.timers.schedule(command.fireAtMs, () => this.receive({ type: 'TimerFired', timerId: command.timerId }));
        return;
      case 'Notify':
        this.deps.onNotice?.(command.notice, command.atMs);
        return;
      default:
        assertNever(command);
    }
  }

  private stop(reason: string): void {
    const atMs = this.deps.clock.nowMs();
    this.halted = { reason, atMs };
    this.inbox.length = 0;
    this.deps.onNotice?.({ level: 'alarm', code: 'halted', symbol: null, text: `runtime halted: ${reason}` }, atMs);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
