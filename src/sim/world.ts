// A simulated world: the real engine, runtime and stream supervisor, the simulated venue, the network
// between them (latency, jitter, duplicates, reordering, lost requests and replies, streams that
// drop or stall, late snapshots), a price feed and a workload, all on one virtual clock and all
// derived from one seed. The bot runs as a process that can crash and restart; the auditor checks
// the invariants after every step against the venue's ground truth.
//
// Two clocks: the scheduler's is the bot's (every event's atMs); the venue keeps its own, skewed
// from it as the options say (`VenueClock`), and stamps everything it reports with it. So the bot
// sees venue times that are not its own, as it does on a live venue.

import type { EngineConfig } from '../core/state.ts';
import { createEngineState } from '../core/state.ts';
import type { Instrument } from '../core/instrument.ts';
import { lotsToQty } from '../core/instrument.ts';
import type { Command, Notice } from '../core/commands.ts';
import type { Event } from '../core/events.ts';
import { rmSync } from 'node:fs';
import type { Incoming, Journal, VenueCommand } from '../shell/ports.ts';
import { InMemoryJournal, unknownOutcome } from '../shell/ports.ts';
import { LedgerReader } from '../journal/ledger.ts';
import { recover } from '../journal/recovery.ts';
import type { JournalOptions } from '../journal/sqlite.ts';
import { SqliteJournal } from '../journal/sqlite.ts';
import { encodeState } from '../journal/state-codec.ts';
import type { StepFunction } from '../shell/runtime.ts';
import { Runtime } from '../shell/runtime.ts';
import type { SupervisorConfig } from '../shell/streams.ts';
import { StreamSupervisor, supervisorDefaults } from '../shell/streams.ts';
import type { PricePoint } from '../venues/sim/prices.ts';
import type { SimVenueConfig, VenueFact } from '../venues/sim/venue.ts';
import { SimVenue } from '../venues/sim/venue.ts';
import type { OrderCommand, OrderReply } from '../venues/sim/rest.ts';
import { answerOrderCommand } from '../venues/sim/rest.ts';
import { Auditor } from './auditor.ts';
import { describeCommand, describeFact, describeIncoming, factToIncoming } from './describe.ts';
import type { NetworkConfig } from './network.ts';
import { Network } from './network.ts';
import { Rng } from './rng.ts';
import type { ClockSkew } from './scheduler.ts';
import { noClockSkew, Scheduler, simEpochMs, VenueClock } from './scheduler.ts';
import { SnapshotService } from './snapshots.ts';
import { SimStreams } from './streams.ts';
import { Trace } from './trace.ts';
import type { CrashPoint, ResumeOrder, Workload, WorldHandle } from './workload.ts';

export type SymbolSetup = { readonly instrument: Instrument; readonly prices: readonly PricePoint[] };

/** How long past its settle time a world may run for the bot's last requests to be answered. */
const quietWaitMaxMs = 30_000;

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
  /** After the active phase, faults off, how long the world runs before convergence is checked. */
  readonly settleMs?: number;
  readonly supervisor?: Partial<SupervisorConfig>;
  /**
   * The journal file the bot's process writes (SQLite). A crash keeps it: the next process
   * recovers from it. Without one the journal is in memory and every restart is cold.
   */
  readonly journalPath?: string;
  /** Journal settings over the simulation's (no syncing, an exclusive lock, a snapshot every 500 events). */
  readonly journalOptions?: JournalOptions;
  /** How the venue's clock runs against the bot's (default: the same clock). */
  readonly clockSkew?: ClockSkew;
};

/** An armed crash that finds no moment of its kind within this time happens between steps. */
const crashArmedMsMax = 3_000;

export const settleMsDefault = 30_000;

/** The bot as an operating-system process: its engine and runtime, and its stream connections. */
type Process = { readonly generation: number; readonly runtime: Runtime; readonly supervisor: StreamSupervisor; readonly journal: Journal; readonly file: SqliteJournal | null };

/**
 * The bot's process frozen (a long garbage collection, its machine starved of CPU, its VM
 * suspended or moved): nothing in it runs until `untilMs`. What would have run meanwhile waits in
 * `held`: its timers (the runtime's, the stream supervisor's, the HTTP client's timeouts) and what
 * reached its sockets (replies, stream messages, operator requests).
 */
type Frozen = { readonly untilMs: number; readonly order: ResumeOrder; readonly held: { readonly kind: 'timer' | 'io'; readonly run: () => void }[] };

export class SimWorld {
  readonly options: WorldOptions;
  readonly startMs: number;
  readonly scheduler: Scheduler;
  /** The venue's own clock: the time on everything the venue reports. */
  readonly venueClock: VenueClock;
  readonly venue: SimVenue;
  readonly network: Network;
  readonly streams: SimStreams;
  readonly snapshots: SnapshotService;
  readonly auditor: Auditor;
  readonly trace: Trace;
  private readonly rng: Rng;
  /** The venue's instruments, as they are now. */
  private readonly instruments: Map<string, Instrument>;
  /** The instruments as the bot's current process last read them. */
  private readonly told = new Map<string, Instrument>();
  private process: Process;
  private stepsRun = 0;
  private healed = false;
  /**
   * Copies of venue facts sent on a stream since the heal and not yet at their time: delivered, or
   * lost with a connection that went meanwhile (seed 340020: copies dropped by a stream that was
   * down were counted for ever, the settle waited its whole bound, and an aged exit fired at its end
   * with its fill still on the way).
   */
  private factsInTransit = 0;
  /** Restarts without a journal so far (the new engine knows only what the venue tells it). */
  coldRestarts = 0;
  /** Stops the venue fired while the bot could not see it (see movePrice). */
  triggersWhileBlind = 0;
  /** Changes of a symbol's market maximum; of them, those below the position held there. */
  readonly marketMaxChanges = { all: 0, belowPosition: 0 };
  /** Delistings announced and withdrawn, and closes that fell due with a position open on the venue. */
  readonly delistings = { announced: 0, withdrawn: 0, heldAtClose: 0 };
  /** Crashes with the journal kept, per crash point; the next process recovered from the file. */
  readonly crashes: Record<CrashPoint, number> = { 'between-steps': 0, 'before-journal': 0, 'after-journal': 0, 'before-send': 0, 'after-send': 0 };
  private armedCrash: CrashPoint | null = null;
  /** How long the process armed to crash stays down before the next one starts. */
  private armedDownMs = 0;
  /** Crashes after which the bot stayed down a while before the next process started. */
  downtimes = 0;
  /** The bot has no process (between a crash and the next start): nothing reaches it. */
  private noProcess = false;
  /** Counters of the processes that died, so totals span restarts. */
  private readonly retired: Record<string, number>[] = [];
  /** The bot's process is frozen until a time (see Frozen); null while it runs. */
  private frozen: Frozen | null = null;
  /** Times the bot's process froze; of them, those long enough for its stream heartbeat to give up (see SupervisorConfig.stallMs). */
  readonly pauses = { all: 0, long: 0, held: 0 };

  static create(options: WorldOptions): SimWorld {
    return new SimWorld(options);
  }

  private constructor(options: WorldOptions) {
    this.options = options;
    this.startMs = options.startMs ?? simEpochMs;
    this.scheduler = new Scheduler(this.startMs);
    this.venueClock = new VenueClock(this.scheduler, options.clockSkew ?? noClockSkew, this.startMs);
    this.rng = new Rng(options.seed);
    this.trace = new Trace(options.traceSink ?? null);
    this.instruments = new Map(options.symbols.map((setup) => [setup.instrument.symbol, setup.instrument]));
    this.network = new Network(options.network, this.rng.fork());
    this.venue = new SimVenue({ ...options.venue, instruments: [...this.instruments.values()], rng: this.rng.fork() }, (fact) => this.onVenueFact(fact));
    this.streams = new SimStreams(this.scheduler, this.network, (text) => this.trace.add(this.relativeNow(), text), (run) => this.inProcess('io', run));
    this.snapshots = new SnapshotService(this.scheduler, this.network, this.venue, this.venueClock);
    this.process = this.startProcess(1);
    this.auditor = new Auditor(this, this.runtime.state.config);
    this.startWorld();
  }

  get runtime(): Runtime {
    return this.process.runtime;
  }

  /** The journal of the current process: its file, or in memory (a restart then starts without one). */
  get journal(): Journal {
    return this.process.journal;
  }

  /** Between a crash and the next process's start (a crash with downtime): the bot is not running. */
  get down(): boolean {
    return this.noProcess;
  }

  /** The bot's process is frozen: it runs nothing, and sees nothing, until it thaws. */
  get paused(): boolean {
    return this.frozen !== null;
  }

  /** The journal file of the current process, if the world has one. */
  get journalFile(): SqliteJournal | null {
    return this.process.file;
  }

  get supervisor(): StreamSupervisor {
    return this.process.supervisor;
  }

  private startProcess(generation: number): Process {
    const { options } = this;
    const config = { botId: 'sim', ...options.engine };
    const path = options.journalPath;
    const file = path === undefined ? null : SqliteJournal.open(path, {
      durability: 'off', exclusive: true, keepAllEvents: true, nowMs: () => this.scheduler.nowMs(), snapshotEveryEvents: 500,
      // The file's path names this process's pid: kept out of the trace, whose hash must be the seed's alone.
      log: (line) => this.trace.add(this.relativeNow(), line.replaceAll(path, 'the journal file')),
      ...options.journalOptions,
    });
    let state = createEngineState(config);
    if (file !== null && file.size > 0) {
      const recovered = recover(file, config, options.step);
      state = recovered.state;
      this.trace.add(this.relativeNow(), `recovered from the journal: snapshot at ${recovered.snapshotSeq}, ${recovered.replayed} events replayed, ${recovered.cut} cut`);
    }
    const store: Journal = file ?? new InMemoryJournal();
    const journal: Journal = {
      append: (events) => {
        if (this.crashIfArmed(generation, 'before-journal')) return;
        store.append(events);
        this.crashIfArmed(generation, 'after-journal');
      },
      applied: (applied, records) => store.applied?.(applied, records),
      entries: () => store.entries(),
      get size() {
        return store.size;
      },
    };
    // The process's timers run in the process: a frozen one fires them when it thaws.
    const clock = { nowMs: () => this.scheduler.nowMs(), schedule: (fireAtMs: number, onFire: () => void) => this.scheduler.schedule(fireAtMs, () => this.inProcess('timer', onFire)) };
    const runtime = new Runtime({
      state,
      clock,
      journal,
      gateway: { execute: (command) => this.onCommand(generation, command) },
      ...(options.step === undefined ? {} : { step: options.step }),
      onApplied: (event, commands) => {
        this.auditor.onApplied(commands);
        options.onApplied?.(event, commands);
      },
      onNotice: (notice, atMs) => {
        this.trace.add(atMs - this.startMs, `notice ${notice.level} ${notice.code} ${notice.text}`);
        options.onNotice?.(notice, atMs);
      },
    });
    const rng = this.rng.fork();
    const supervisor = new StreamSupervisor({
      clock, transport: this.streams, random: () => rng.next(), ...(options.supervisor === undefined ? {} : { config: options.supervisor }),
      report: (incoming) => this.deliverTo(generation, incoming, null),
      onNotice: (notice) => this.trace.add(this.relativeNow(), `notice ${notice.level} ${notice.code} ${notice.text}`),
    });
    return { generation, runtime, supervisor, journal, file };
  }

  /** The new process loads instruments, starts its engine and connects its streams. */
  private boot(): void {
    const { generation, supervisor } = this.process;
    this.tell([...this.instruments.values()], generation, 'instruments loaded');
    this.deliverTo(generation, { type: 'EngineStarted' }, 'engine started');
    supervisor.start();
  }

  private startWorld(): void {
    this.boot();
    for (const setup of this.options.symbols) {
      for (const point of setup.prices) {
        this.scheduler.schedule(point.atMs, () => this.movePrice(point.symbol, point.lastTicks));
      }
    }
    this.streams.scheduleFaults(this.activeUntilMs);
    const handle: WorldHandle = {
      rng: this.rng.fork(),
      venue: this.venue,
      runtime: () => this.runtime,
      symbols: [...this.instruments.values()],
      nowMs: () => this.scheduler.nowMs(),
      venueNowMs: () => this.venueClock.nowMs(),
      at: (atMs, action) => this.scheduler.schedule(atMs, () => { if (!this.healed) action(); }),
      request: (incoming) => this.deliverTo(this.process.generation, incoming, `request ${describeIncoming(incoming)}`),
      restart: () => this.restartCold(),
      crash: (point, downMs) => this.armCrash(point, downMs),
      pause: (ms, order) => this.freeze(ms, order),
      streamFault: (stream, kind) => this.streams.fault(stream, kind),
      changeMarketMax: (symbol, lots) => this.changeMarketMax(symbol, lots),
      announceDelisting: (symbol, delistMs) => this.announceDelisting(symbol, delistMs),
      note: (text) => this.trace.add(this.relativeNow(), text),
    };
    this.options.workload.start(handle);
  }

  /**
   * The venue changes the most it takes in one market order on a symbol, and the bot's instrument
   * watch reads it at once (its reading lags in life; orders sent meanwhile are refused, which is a
   * refusal the bot already meets when such an order is in flight here). A process started later
   * loads the new limit.
   */
  private changeMarketMax(symbol: string, lots: number): void {
    const known = this.instruments.get(symbol);
    if (known === undefined || known.maxMarketLots === lots) return;
    const changed = { ...known, maxMarketLots: lots };
    this.instruments.set(symbol, changed);
    this.venue.changeInstrument(changed);
    this.auditor.onMarketMaxChanged(symbol);
    this.marketMaxChanges.all += 1;
    if (Math.abs(this.venue.position(symbol).sizeLots) > lots) this.marketMaxChanges.belowPosition += 1;
    this.tell([...this.instruments.values()], this.process.generation, `the venue's most in one market order on ${symbol}: ${lotsToQty(known, known.maxMarketLots)} -> ${lotsToQty(known, lots)}`);
  }

  /**
   * The venue announces a symbol's delisting (or moves it, or withdraws it: null), and the bot's
   * instrument watch reads it at once. The venue trades on (the delisting itself is past the run):
   * what the bot must do is close what it holds there by its close time, which the auditor checks
   * at quiescence. Counted: announcements, withdrawals, and closes that fell due with a position
   * open there on the venue.
   */
  private announceDelisting(symbol: string, delistMs: number | null): void {
    const known = this.instruments.get(symbol);
    if (known === undefined || known.delistMs === (delistMs ?? undefined)) return;
    const { delistMs: _withdrawn, ...listed } = known;
    const changed: Instrument = delistMs === null ? listed : { ...listed, delistMs };
    this.instruments.set(symbol, changed);
    this.venue.changeInstrument(changed);
    if (delistMs === null) {
      this.delistings.withdrawn += 1;
    } else {
      this.delistings.announced += 1;
      const leadMs = this.runtime.state.config.closeBeforeDelistingMs;
      if (leadMs !== null) {
        this.scheduler.schedule(Math.max(this.scheduler.nowMs(), delistMs - leadMs), () => {
          if (this.instruments.get(symbol)?.delistMs === delistMs && this.venue.position(symbol).sizeLots !== 0) this.delistings.heldAtClose += 1;
        });
      }
    }
    const what = delistMs === null ? `the venue withdraws ${symbol}'s delisting` : `the venue announces ${symbol}'s delisting for +${delistMs - this.startMs} ms`;
    this.tell([...this.instruments.values()], this.process.generation, what);
  }

  /** The bot's process reads the venue's instruments (when it runs: a frozen one, when it thaws). */
  private tell(instruments: readonly Instrument[], generation: number, text: string): void {
    this.inProcess('io', () => {
      if (this.noProcess || generation !== this.process.generation) return;
      for (const instrument of instruments) this.told.set(instrument.symbol, instrument);
      this.deliverTo(generation, { type: 'InstrumentsLoaded', instruments }, text);
    });
  }

  /** A crash and a restart without a journal: the new engine knows only what the venue tells it. */
  restartCold(): void {
    if (this.noProcess) return; // down already: the next process starts when it was to
    this.retired.push(this.countersOf(this.runtime));
    this.process.supervisor.stop();
    this.streams.dropAll();
    this.coldRestarts += 1;
    this.frozen = null; // what waited in the dead process dies with it
    this.trace.add(this.relativeNow(), `crash: the bot's process dies; restarting with no journal (restart #${this.coldRestarts})`);
    this.process.runtime.kill();
    const { file } = this.process;
    if (file !== null) {
      file.close();
      removeJournalFile(file.path);
    }
    this.process = this.startProcess(this.process.generation + 1);
    this.auditor.onRestart(this.scheduler.nowMs(), 'cold');
    this.boot();
  }

  /**
   * Arms a crash at the next moment of the given kind (the process is killed there, mid-batch or
   * mid-step if that is where it lands); the next process recovers from the journal file. With no
   * journal file, the restart is cold.
   */
  armCrash(point: CrashPoint, downMs = 0): void {
    if (this.noProcess) return; // no process to kill
    if (this.process.file === null) {
      this.restartCold();
      return;
    }
    this.armedCrash = point;
    this.armedDownMs = downMs;
    if (point === 'between-steps') {
      this.crashIfArmed(this.process.generation, point);
      return;
    }
    const generation = this.process.generation;
    this.scheduler.schedule(this.scheduler.nowMs() + crashArmedMsMax, () => {
      if (this.armedCrash !== null && generation === this.process.generation) this.crashIfArmed(generation, this.armedCrash);
    });
  }

  /** Kills the process if a crash is armed for this point; the next one starts from the journal. */
  private crashIfArmed(generation: number, point: CrashPoint): boolean {
    if (this.armedCrash !== point || generation !== this.process.generation) return false;
    this.armedCrash = null;
    this.crashes[point] += 1;
    const dying = this.process;
    this.frozen = null; // what waited in the dead process dies with it
    this.trace.add(this.relativeNow(), `crash (${point}): the bot's process is killed; the next one recovers from the journal`);
    // Here the dying process has applied exactly what it journaled: recovery must give its state back.
    const expected = point === 'between-steps' || point === 'before-journal' ? encodeState(dying.runtime.state) : null;
    dying.runtime.kill();
    dying.supervisor.stop();
    this.streams.dropAll();
    dying.file?.close(); // no final snapshot: a killed process writes nothing more
    const start = (): void => {
      this.noProcess = false;
      this.process = this.startProcess(generation + 1);
      if (expected !== null) this.auditor.onRecovered(expected, encodeState(this.runtime.state), this.scheduler.nowMs());
      this.auditor.onRestart(this.scheduler.nowMs(), 'journal');
      this.boot();
    };
    const downMs = this.armedDownMs;
    this.armedDownMs = 0;
    if (downMs <= 0) {
      start();
      return true;
    }
    // Down for a while, as a real restart is: the venue goes on (stops may fire) with no one to see.
    this.noProcess = true;
    this.downtimes += 1;
    this.trace.add(this.relativeNow(), `the bot is down for ${downMs} ms`);
    this.scheduler.schedule(this.scheduler.nowMs() + downMs, start);
    return true;
  }

  /**
   * The bot's process freezes for `ms` (see Frozen); the venue goes on. When it thaws, what waited
   * runs in the order asked: as it came due, or its timers first (an event loop that wakes in its
   * timers: the stream heartbeat finds the streams silent, a REST timeout fires before the reply
   * that waits in its socket), or its sockets first (one that wakes in its poll).
   */
  private freeze(wantedMs: number, order: ResumeOrder): void {
    // Faults end when the world heals: a freeze too (the settle that follows must see the bot run).
    const ms = Math.min(wantedMs, this.activeUntilMs - this.scheduler.nowMs());
    if (this.noProcess || this.frozen !== null || ms <= 0) return;
    const frozen: Frozen = { untilMs: this.scheduler.nowMs() + ms, order, held: [] };
    this.frozen = frozen;
    this.pauses.all += 1;
    if (ms > (this.options.supervisor?.stallMs ?? supervisorDefaults.stallMs)) this.pauses.long += 1;
    this.trace.add(this.relativeNow(), `the bot's process freezes for ${ms} ms (it wakes ${order === 'arrival' ? 'to what waited in the order it came' : `${order === 'timers-first' ? 'in its timers' : 'in its sockets'} first`})`);
    this.scheduler.schedule(frozen.untilMs, () => this.thaw(frozen));
  }

  private thaw(frozen: Frozen): void {
    if (this.frozen !== frozen) return; // the process died meanwhile
    this.frozen = null;
    const { held, order } = frozen;
    const first = order === 'timers-first' ? 'timer' : 'io';
    const ordered = order === 'arrival' ? held : [...held.filter((item) => item.kind === first), ...held.filter((item) => item.kind !== first)];
    this.pauses.held += held.length;
    this.trace.add(this.relativeNow(), `the bot's process runs again: ${held.length} things waited`);
    this.auditor.onResumed(this.scheduler.nowMs());
    for (const item of ordered) {
      item.run();
      this.runtime.drain();
    }
  }

  /** Runs `run` in the bot's process: now, or when it thaws if it is frozen. */
  private inProcess(kind: 'timer' | 'io', run: () => void): void {
    if (this.frozen === null) {
      run();
      return;
    }
    this.frozen.held.push({ kind, run });
  }

  /** Closes the journal file (at the end of a run), with a final snapshot if asked for. */
  close(options: { readonly snapshot?: boolean } = {}): void {
    this.process.file?.close(options.snapshot === true ? this.runtime.state : undefined);
  }

  /** The engine's counters and reconciliation classes, summed over every process this world ran. */
  totals(): Record<string, number> {
    const totals: Record<string, number> = {};
    for (const counts of [...this.retired, this.countersOf(this.runtime)]) {
      for (const [key, value] of Object.entries(counts)) totals[key] = (totals[key] ?? 0) + value;
    }
    return totals;
  }

  private countersOf(runtime: Runtime): Record<string, number> {
    const { counters, reconcile } = runtime.state;
    const classes = Object.fromEntries(Object.entries(reconcile).map(([key, value]) => [`reconcile.${key}`, value]));
    return { ...counters, ...classes };
  }

  get steps(): number {
    return this.stepsRun;
  }

  get activeUntilMs(): number {
    return this.startMs + this.options.activeMs;
  }

  get settleUntilMs(): number {
    return this.activeUntilMs + (this.options.settleMs ?? settleMsDefault);
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

  /** Heals, lets the world run to the end of its settle time, then checks convergence. */
  settle(stepsMax: number): void {
    if (!this.healed) this.heal();
    this.run({ stepsMax, untilMs: this.settleUntilMs });
    // Time-driven policies (an aged position's exit) may act at any moment: the check waits until
    // nothing the bot sent is unanswered, within a bound, so it compares two quiet views.
    const quietByMs = this.settleUntilMs + quietWaitMaxMs;
    for (let i = 0; i < stepsMax && this.botHasWorkInFlight(); i += 1) {
      const next = this.scheduler.nextAtMs();
      if (next === null || next > quietByMs) break;
      this.step();
    }
    this.auditor.checkConverged();
    // The ledger a journaled bot projects (what `vigil status` and the API read) must say what the
    // venue says too: every fill once, and each symbol's realized PnL and fees.
    const { file } = this.process;
    if (file !== null) {
      file.flush();
      this.auditor.checkLedger(new LedgerReader(file.database));
    }
  }

  private botHasWorkInFlight(): boolean {
    const { state } = this.runtime;
    for (const order of state.orders.values()) {
      if (order.status === 'submitted' || order.amending !== null || order.cancelRequestedMs !== null) return true;
    }
    for (const intentId of state.activeIntentBySymbol.values()) {
      if (state.intents.get(intentId)?.guard.positionStop != null) return true;
    }
    // A venue fact still on its way (the wallet after a last fill, say) would make the views differ.
    return state.snapshot !== null || this.auditor.fillsOnTheirWay > 0 || this.factsInTransit > 0 || this.frozen !== null;
  }

  relativeNow(): number {
    return this.scheduler.nowMs() - this.startMs;
  }

  instrument(symbol: string): Instrument | undefined {
    return this.instruments.get(symbol);
  }

  /** The instrument as the bot's process last read it: its limits may lag the venue's while the process is frozen. */
  instrumentAsTold(symbol: string): Instrument | undefined {
    return this.told.get(symbol);
  }

  /**
   * An input for the bot's process of that generation; a dead process receives nothing, a frozen
   * one when it thaws. `kind`: what brings it, a socket or a timer of the process (a REST timeout).
   */
  private deliverTo(generation: number, incoming: Incoming, text: string | null, kind: 'timer' | 'io' = 'io'): void {
    if (this.noProcess || generation !== this.process.generation) return;
    if (this.frozen !== null) {
      this.inProcess(kind, () => this.deliverTo(generation, incoming, text, kind));
      return;
    }
    if (text !== null) this.trace.add(this.relativeNow(), text);
    // Before the engine sees it: what it sends in reaction may be the next change of the same order.
    this.auditor.onReplyDelivered(incoming);
    this.runtime.receive(incoming);
    this.runtime.drain();
  }

  /** A new price on the venue; a stop it fires while the bot cannot see (its private stream down, or not trading yet) is counted. */
  private movePrice(symbol: string, lastTicks: number): void {
    const before = this.venue.triggers;
    this.venue.setPrice(this.venueClock.nowMs(), symbol, lastTicks);
    const blind = !this.streams.isUp('private') || this.runtime.state.lifecycle.phase !== 'trading' || this.frozen !== null;
    if (blind) this.triggersWhileBlind += this.venue.triggers - before;
  }

  private onVenueFact(fact: VenueFact): void {
    this.auditor.onVenueFact(fact);
    const ticker = fact.kind === 'ticker';
    const delays = ticker ? [this.network.latency(this.network.config.publicStream)] : this.network.privateDelays();
    const text = `deliver ${describeFact(fact, this.instruments)}`;
    const generation = this.process.generation;
    const counted = this.healed && !ticker;
    const copies = this.streams.send(ticker ? 'public' : 'private', factToIncoming(fact), delays, text, () => {
      // A process killed while handling the fact did not lose it: it died (the next one reconciles).
      if (generation !== this.process.generation) return;
      this.runtime.drain();
      this.auditor.onDelivered(fact);
    }, () => {
      if (counted) this.factsInTransit -= 1;
    });
    if (counted) this.factsInTransit += copies;
  }

  private onCommand(generation: number, command: VenueCommand): void {
    if (generation !== this.process.generation) return; // a dead process sends nothing
    if (this.crashIfArmed(generation, 'before-send')) return;
    this.send(generation, command);
    this.crashIfArmed(generation, 'after-send');
  }

  private send(generation: number, command: VenueCommand): void {
    const sentAtMs = this.scheduler.nowMs();
    const reply = (incoming: Incoming, kind: 'timer' | 'io' = 'io'): void => this.deliverTo(generation, incoming, `reply ${describeIncoming(incoming)}`, kind);
    const unitsOk = this.auditor.onCommandSent(command, sentAtMs);
    if (!unitsOk) {
      // Not in whole lots and ticks (a violation, already recorded): the venue refuses it at once,
      // as Bybit does (10001), and it never reaches the matching engine.
      this.trace.add(this.relativeNow(), `send ${command.type} with a quantity or price not in whole lots and ticks: refused`);
      this.scheduler.schedule(sentAtMs + this.network.latency(this.network.config.restReply), () => reply(refusedForUnits(command)));
      return;
    }
    this.trace.add(this.relativeNow(), `send ${describeCommand(command, this.instruments)}`);
    if (command.type === 'FetchSnapshot') {
      this.snapshots.fetch(command, reply);
      return;
    }
    this.transmit(generation, command, sentAtMs, reply);
  }

  /** A request on the wire to the venue, and its answer back (or what a fault makes of them). */
  private transmit(generation: number, command: OrderCommand, sentAtMs: number, reply: (incoming: Incoming, kind?: 'timer' | 'io') => void): void {
    const { restRequest, restReply, restTimeoutMs } = this.network.config;
    // The HTTP client's own timer.
    const timeout = (): void => this.scheduler.schedule(sentAtMs + restTimeoutMs, () => reply(unknownOutcome(command, 'request timed out'), 'timer'));
    const scripted = this.options.loseCommand?.(command) ?? null;
    if (scripted === 'request' || this.network.requestLost()) {
      this.auditor.onRequestLost(command, sentAtMs + restTimeoutMs);
      timeout();
      return;
    }
    this.scheduler.schedule(sentAtMs + this.network.latency(restRequest), () => {
      const waitMs = this.network.rateLimitWait();
      if (waitMs !== null) {
        // Refused for its rate before the venue acted: the adapter waits and sends it again (the
        // engine is told nothing until the request is answered; the auditor sees one send). An
        // adapter that died meanwhile sends nothing (seed 311504: a dead process's trading-stop,
        // sent again 1.8 s after the kill, landed after the new process's and loosened the stop).
        this.trace.add(this.relativeNow(), `rate-limited ${command.type}: sent again in ${waitMs} ms`);
        const againAtMs = this.scheduler.nowMs() + this.network.latency(restReply) + waitMs;
        this.auditor.onRequestLost(command, againAtMs + restRequest.max); // held back by the venue, like a lost one
        this.scheduler.schedule(againAtMs, () => this.inProcess('timer', () => {
          if (this.noProcess || generation !== this.process.generation) {
            this.trace.add(this.relativeNow(), `rate-limited ${command.type}: not sent again, its process died`);
            return;
          }
          // Its process froze meanwhile: it goes when the process thaws, held back until then.
          const nowMs = this.scheduler.nowMs();
          if (nowMs > againAtMs) this.auditor.onRequestLost(command, nowMs + restRequest.max);
          this.transmit(generation, command, nowMs, reply);
        }));
        return;
      }
      const serverError = this.network.serverError();
      const answer = serverError === null || serverError.acted ? answerOrderCommand(this.venue, this.venueClock.nowMs(), command) : null;
      if (command.type === 'SubmitOrder' && command.spec.type.kind === 'stop-market' && answer?.type === 'OrderSubmitRejected' && answer.code === 'trigger-crossed') {
        this.auditor.onStopRefusedCrossed(command.spec.symbol);
      }
      if (serverError !== null) {
        // A 5xx: done or not, the bot cannot know; it hears so at once. Not done, or done as a
        // refusal (seed 92950: a stop refused for a price already past it, answered 503), the
        // request changed nothing: to the bot it is a lost one, and costs it another round trip.
        if (!serverError.acted || isRefusal(answer)) this.auditor.onRequestLost(command, this.scheduler.nowMs() + restReply.max);
        this.scheduler.schedule(this.scheduler.nowMs() + this.network.latency(restReply), () => reply(unknownOutcome(command, '503 service unavailable')));
        return;
      }
      if (scripted === 'reply' || this.network.replyLost()) {
        this.auditor.onRequestLost(command, sentAtMs + restTimeoutMs);
        timeout();
        return;
      }
      this.scheduler.schedule(this.scheduler.nowMs() + this.network.latency(restReply), () => reply(answer ?? unknownOutcome(command, 'no answer')));
    });
  }

}


function isRefusal(answer: OrderReply | null): boolean {
  switch (answer?.type) {
    case 'OrderSubmitRejected':
    case 'OrderCancelRejected':
    case 'OrderAmendRejected':
    case 'PositionStopRejected':
      return true;
    default:
      return false;
  }
}

export function removeJournalFile(path: string): void {
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
}

/** The venue's refusal of a command whose numbers are not whole lots and ticks. */
function refusedForUnits(command: VenueCommand): Incoming {
  const reason = 'params error: quantity or price is not a whole number of lots or ticks';
  switch (command.type) {
    case 'SubmitOrder':
      return { type: 'OrderSubmitRejected', commandId: command.commandId, clientOrderId: command.clientOrderId, code: 'invalid', reason };
    case 'AmendOrder':
      return { type: 'OrderAmendRejected', commandId: command.commandId, clientOrderId: command.clientOrderId, code: 'invalid', reason };
    case 'SetPositionStop':
      return { type: 'PositionStopRejected', commandId: command.commandId, symbol: command.symbol, code: 'invalid', reason };
    default:
      return unknownOutcome(command, reason);
  }
}
