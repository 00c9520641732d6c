// A simulated world: the real engine and runtime, the simulated venue, the network between them
// (latency, jitter, duplicates, reordering, lost requests and replies), a price feed and a
// workload, all on one virtual clock and all derived from one seed. The auditor checks the
// invariants after every step against the venue's ground truth.

import type { EngineConfig } from '../core/state.ts';
import { createEngineState } from '../core/state.ts';
import type { Instrument } from '../core/instrument.ts';
import { ticksToPrice, lotsToQty } from '../core/instrument.ts';
import type { Command, Notice } from '../core/commands.ts';
import type { Event } from '../core/events.ts';
import type { Incoming, VenueCommand, VenueGateway } from '../shell/ports.ts';
import { InMemoryJournal } from '../shell/ports.ts';
import type { StepFunction } from '../shell/runtime.ts';
import { Runtime } from '../shell/runtime.ts';
import type { PricePoint } from '../venues/sim/prices.ts';
import type { SimVenueConfig, VenueFact } from '../venues/sim/venue.ts';
import { SimVenue } from '../venues/sim/venue.ts';
import { Auditor } from './auditor.ts';
import type { NetworkConfig } from './network.ts';
import { Network } from './network.ts';
import { Rng } from './rng.ts';
import { Scheduler, simEpochMs } from './scheduler.ts';
import { Trace } from './trace.ts';
import type { Workload, WorldHandle } from './workload.ts';

export type SymbolSetup = { readonly instrument: Instrument; readonly prices: readonly PricePoint[] };

export type WorldOptions = {
  readonly seed: number;
  readonly symbols: readonly SymbolSetup[];
  readonly network: NetworkConfig;
  readonly venue: Omit<SimVenueConfig, 'instruments' | 'rng'>;
  readonly engine: Partial<EngineConfig>;
  readonly workload: Workload;
  /** The workload acts, and faults are on, until this virtual time (ms from start). */
  readonly activeMs: number;
  readonly step?: StepFunction;
  readonly traceSink?: (line: string) => void;
  readonly onNotice?: (notice: Notice, atMs: number) => void;
  /** Sees every event the engine applied and the commands it produced (for tests and traces). */
  readonly onApplied?: (event: Event, commands: readonly Command[]) => void;
  /** Virtual start time (default: the simulation epoch); paper sessions start at their first candle. */
  readonly startMs?: number;
  /** Scripted network faults for named scenarios: lose this command's request or its reply. */
  readonly loseCommand?: (command: VenueCommand) => 'request' | 'reply' | null;
};

export class SimWorld {
  readonly options: WorldOptions;
  readonly startMs: number;
  readonly scheduler: Scheduler;
  readonly venue: SimVenue;
  readonly network: Network;
  readonly runtime: Runtime;
  readonly auditor: Auditor;
  readonly trace: Trace;
  readonly journal = new InMemoryJournal();
  private readonly rng: Rng;
  private readonly instruments: ReadonlyMap<string, Instrument>;
  private stepsRun = 0;
  private healed = false;

  static create(options: WorldOptions): SimWorld {
    return new SimWorld(options);
  }

  private constructor(options: WorldOptions) {
    this.options = options;
    this.startMs = options.startMs ?? simEpochMs;
    this.scheduler = new Scheduler(this.startMs);
    this.rng = new Rng(options.seed);
    this.trace = new Trace(options.traceSink ?? null);
    this.instruments = new Map(options.symbols.map((setup) => [setup.instrument.symbol, setup.instrument]));
    const instruments = [...this.instruments.values()];
    this.network = new Network(options.network, this.rng.fork());
    this.venue = new SimVenue({ ...options.venue, instruments, rng: this.rng.fork() }, (fact) => this.onVenueFact(fact));
    const gateway: VenueGateway = { execute: (command) => this.onCommand(command) };
    this.runtime = new Runtime({
      state: createEngineState({ botId: 'sim', ...options.engine }),
      clock: this.scheduler,
      journal: this.journal,
      gateway,
      ...(options.step === undefined ? {} : { step: options.step }),
      ...(options.onApplied === undefined ? {} : { onApplied: options.onApplied }),
      onNotice: (notice, atMs) => {
        this.trace.add(atMs - this.startMs, `notice ${notice.level} ${notice.code} ${notice.text}`);
        options.onNotice?.(notice, atMs);
      },
    });
    this.auditor = new Auditor(this, this.runtime.state.config);
    this.start(instruments);
  }

  private start(instruments: readonly Instrument[]): void {
    this.deliver({ type: 'InstrumentsLoaded', instruments }, 'instruments loaded');
    for (const setup of this.options.symbols) {
      for (const point of setup.prices) {
        this.scheduler.schedule(point.atMs, () => this.venue.setPrice(this.scheduler.nowMs(), point.symbol, point.lastTicks));
      }
    }
    const handle: WorldHandle = {
      rng: this.rng.fork(),
      venue: this.venue,
      runtime: this.runtime,
      symbols: instruments,
      nowMs: () => this.scheduler.nowMs(),
      at: (atMs, action) => this.scheduler.schedule(atMs, () => { if (!this.healed) action(); }),
      request: (incoming) => this.deliver(incoming, `request ${describeIncoming(incoming)}`),
      note: (text) => this.trace.add(this.relativeNow(), text),
    };
    this.options.workload.start(handle);
  }

  get steps(): number {
    return this.stepsRun;
  }

  get activeUntilMs(): number {
    return this.startMs + this.options.activeMs;
  }

  /** Runs one scheduled item, then checks every invariant. False when nothing is left to run. */
  step(): boolean {
    if (!this.scheduler.runNext()) return false;
    this.runtime.drain();
    this.stepsRun += 1;
    this.auditor.afterStep(this.scheduler.nowMs());
    return true;
  }

  /** Runs until the virtual time passes `untilMs`, the queue empties, or `stepsMax` steps. */
  run(limits: { readonly stepsMax: number; readonly untilMs?: number }): void {
    for (let i = 0; i < limits.stepsMax; i += 1) {
      const next = this.scheduler.nextAtMs();
      if (next === null || (limits.untilMs !== undefined && next > limits.untilMs)) return;
      this.step();
    }
  }

  /** Turns every fault off and stops the workload: from now on the bot must converge. */
  heal(): void {
    this.healed = true;
    this.network.heal();
    this.trace.add(this.relativeNow(), 'heal: faults off, workload stopped');
  }

  /** Heals, then runs until nothing is left to happen, then checks convergence. */
  settle(stepsMax: number): void {
    if (!this.healed) this.heal();
    this.run({ stepsMax });
    this.auditor.checkConverged();
  }

  relativeNow(): number {
    return this.scheduler.nowMs() - this.startMs;
  }

  instrument(symbol: string): Instrument | undefined {
    return this.instruments.get(symbol);
  }

  private deliver(incoming: Incoming, text: string): void {
    this.trace.add(this.relativeNow(), text);
    this.runtime.receive(incoming);
    this.runtime.drain();
  }

  private onVenueFact(fact: VenueFact): void {
    this.auditor.onVenueFact(fact);
    const incoming = factToIncoming(fact);
    const text = `deliver ${describeFact(fact, this.instruments)}`;
    const delays = fact.kind === 'ticker' ? [this.network.latency(this.network.config.publicStream)] : this.network.privateDelays();
    const now = this.scheduler.nowMs();
    for (const delay of delays) {
      this.scheduler.schedule(now + delay, () => {
        this.deliver(incoming, text);
        this.auditor.onDelivered(fact);
      });
    }
  }

  private onCommand(command: VenueCommand): void {
    const sentAtMs = this.scheduler.nowMs();
    this.auditor.onCommandSent(command, sentAtMs);
    this.trace.add(this.relativeNow(), `send ${describeCommand(command, this.instruments)}`);
    const { restRequest, restTimeoutMs } = this.network.config;
    const timeout = (): void => this.scheduler.schedule(sentAtMs + restTimeoutMs, () => this.deliver(unknownOutcome(command), `timeout ${command.type} ${command.clientOrderId}`));
    const scripted = this.options.loseCommand?.(command) ?? null;
    if (scripted === 'request' || this.network.requestLost()) {
      this.auditor.onRequestLost(command);
      timeout();
      return;
    }
    this.scheduler.schedule(sentAtMs + this.network.latency(restRequest), () => {
      const reply = this.executeAtVenue(command);
      if (scripted === 'reply' || this.network.replyLost()) {
        this.auditor.onRequestLost(command);
        timeout();
        return;
      }
      this.scheduler.schedule(this.scheduler.nowMs() + this.network.latency(this.network.config.restReply), () => this.deliver(reply, `reply ${describeIncoming(reply)}`));
    });
  }

  private executeAtVenue(command: VenueCommand): Incoming {
    const now = this.scheduler.nowMs();
    const { commandId, clientOrderId } = command;
    switch (command.type) {
      case 'SubmitOrder': {
        const result = this.venue.submitOrder(now, clientOrderId, command.spec);
        return result.ok
          ? { type: 'OrderSubmitAcked', commandId, clientOrderId, venueOrderId: result.venueOrderId }
          : { type: 'OrderSubmitRejected', commandId, clientOrderId, code: result.code, reason: result.reason };
      }
      case 'CancelOrder': {
        const result = this.venue.cancelOrder(now, { clientOrderId });
        return result.ok
          ? { type: 'OrderCancelAcked', commandId, clientOrderId }
          : { type: 'OrderCancelRejected', commandId, clientOrderId, code: result.code, reason: result.reason };
      }
      case 'QueryOrder':
        return { type: 'OrderQueried', commandId, clientOrderId, report: this.venue.queryOrder({ clientOrderId }) };
      default:
        throw new Error(`unknown command ${JSON.stringify(command satisfies never)}`);
    }
  }
}

function unknownOutcome(command: VenueCommand): Incoming {
  const { commandId, clientOrderId } = command;
  const reason = 'request timed out';
  switch (command.type) {
    case 'SubmitOrder':
      return { type: 'OrderSubmitUnknown', commandId, clientOrderId, reason };
    case 'CancelOrder':
      return { type: 'OrderCancelUnknown', commandId, clientOrderId, reason };
    case 'QueryOrder':
      return { type: 'OrderQueryFailed', commandId, clientOrderId, reason };
    default:
      throw new Error(`unknown command ${JSON.stringify(command satisfies never)}`);
  }
}

export function factToIncoming(fact: VenueFact): Incoming {
  switch (fact.kind) {
    case 'order':
      return { type: 'OrderUpdated', source: 'stream', ...fact.report };
    case 'fill':
      return { type: 'FillReceived', source: 'stream', ...fact.fill };
    case 'position':
      return { type: 'PositionUpdated', source: 'stream', ...fact.report };
    case 'ticker':
      return { type: 'TickerUpdated', symbol: fact.symbol, lastTicks: fact.lastTicks, markTicks: fact.markTicks, venueMs: fact.venueMs };
    default:
      throw new Error(`unknown fact ${JSON.stringify(fact satisfies never)}`);
  }
}

function describeFact(fact: VenueFact, instruments: ReadonlyMap<string, Instrument>): string {
  switch (fact.kind) {
    case 'order': {
      const r = fact.report;
      return `order ${r.venueOrderId} ${r.clientOrderId ?? '-'} ${r.symbol} ${r.side} ${r.orderKind} ${r.status} filled=${r.filledLots}/${r.sizeLots}`;
    }
    case 'fill': {
      const f = fact.fill;
      const instrument = instruments.get(f.symbol);
      const price = instrument === undefined ? String(f.priceTicks) : ticksToPrice(instrument, f.priceTicks);
      const qty = instrument === undefined ? String(f.lots) : lotsToQty(instrument, f.lots);
      return `fill ${f.executionId} ${f.clientOrderId ?? f.venueOrderId} ${f.symbol} ${f.side} ${qty}@${price} seq=${f.seq}`;
    }
    case 'position': {
      const p = fact.report;
      return `position ${p.symbol} size=${p.sizeLots} sl=${p.stopLossTicks ?? '-'} tp=${p.takeProfitTicks ?? '-'} seq=${p.seq}`;
    }
    case 'ticker':
      return `ticker ${fact.symbol} ${fact.lastTicks}`;
    default:
      throw new Error(`unknown fact ${JSON.stringify(fact satisfies never)}`);
  }
}

function describeCommand(command: VenueCommand, instruments: ReadonlyMap<string, Instrument>): string {
  if (command.type !== 'SubmitOrder') return `${command.type} ${command.clientOrderId}`;
  const { spec } = command;
  const instrument = instruments.get(spec.symbol);
  const qty = instrument === undefined ? String(spec.sizeLots) : lotsToQty(instrument, spec.sizeLots);
  const attached = spec.stopLoss === undefined ? '' : ` sl=${spec.stopLoss.triggerTicks}`;
  return `SubmitOrder ${command.clientOrderId} ${spec.symbol} ${spec.side} ${spec.type.kind} ${qty}${spec.reduceOnly ? ' reduce-only' : ''}${attached}`;
}

function describeIncoming(incoming: Incoming): string {
  switch (incoming.type) {
    case 'OpenRequested':
      return `open ${incoming.requestId} ${incoming.symbol} ${incoming.side}`;
    case 'CloseRequested':
      return `close ${incoming.requestId} ${incoming.symbol}`;
    case 'OrderSubmitAcked':
    case 'OrderSubmitRejected':
    case 'OrderSubmitUnknown':
    case 'OrderCancelAcked':
    case 'OrderCancelRejected':
    case 'OrderCancelUnknown':
    case 'OrderQueried':
    case 'OrderQueryFailed':
      return `${incoming.type} ${incoming.clientOrderId}`;
    default:
      return incoming.type;
  }
}

