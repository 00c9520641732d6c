// Workloads: what happens to the bot in a simulation besides prices. A random workload, driven by
// the world's seed, sends open and close requests (some invalid, some repeated) and places manual
// orders straight on the venue, which the bot must adopt. A scripted workload plays a fixed list,
// for named scenarios.

import type { Instrument } from '../core/instrument.ts';
import { lotsToQty, ticksToPrice } from '../core/instrument.ts';
import type { OrderSpec, Side } from '../core/types.ts';
import type { EngineState } from '../core/state.ts';
import type { StreamName } from '../core/events.ts';
import type { Incoming } from '../shell/ports.ts';
import type { LatencyMs } from './network.ts';
import type { Runtime } from '../shell/runtime.ts';
import type { SimVenue } from '../venues/sim/venue.ts';
import type { ProtectionRequest } from '../core/protection/plan.ts';
import type { Rng } from './rng.ts';

/**
 * Where a crash lands, relative to the runtime's work: between two steps; while a batch is being
 * journaled (the batch is lost); after it is journaled but before any of it is applied; when a
 * command reaches the gateway, before it is sent; or just after it is sent, before any reply.
 */
export type CrashPoint = 'between-steps' | 'before-journal' | 'after-journal' | 'before-send' | 'after-send';

export const crashPoints: readonly CrashPoint[] = ['between-steps', 'before-journal', 'after-journal', 'before-send', 'after-send'];

/**
 * How a frozen process wakes (see SimWorld.freeze): to what waited in the order it came, or its
 * timers first, or its sockets first.
 */
export type ResumeOrder = 'arrival' | 'timers-first' | 'io-first';

export const resumeOrders: readonly ResumeOrder[] = ['arrival', 'timers-first', 'io-first'];

/** What a workload may do to the world. */
export type WorldHandle = {
  readonly rng: Rng;
  readonly venue: SimVenue;
  /** The bot's current process (a restart replaces it). */
  runtime(): Runtime;
  /** Crash the bot and restart it without a journal. */
  restart(): void;
  /** Kill the bot at the next moment of this kind; it restarts from its journal, at once or `downMs` later. */
  crash(point: CrashPoint, downMs?: number): void;
  /** The bot's process freezes for `ms` (nothing in it runs; the venue goes on), then wakes as `order` says. */
  pause(ms: number, order: ResumeOrder): void;
  streamFault(stream: StreamName, kind: 'reset' | 'stall'): void;
  /** The venue changes the most it takes in one market order on a symbol (the bot is told at once). */
  changeMarketMax(symbol: string, lots: number): void;
  /** The venue announces a symbol's delisting for `delistMs`, moves it, or (null) withdraws it (the bot is told at once). */
  announceDelisting(symbol: string, delistMs: number | null): void;
  readonly symbols: readonly Instrument[];
  /** The bot's clock: when things happen, and the times `at` takes. */
  nowMs(): number;
  /** The venue's clock (skewed from the bot's): the time to hand the venue when acting on it directly. */
  venueNowMs(): number;
  at(atMs: number, action: () => void): void;
  request(incoming: Incoming): void;
  note(text: string): void;
};

export interface Workload {
  start(world: WorldHandle): void;
  /** What the workload did that the run's summary counts (e.g. a strategy's requests). */
  counts?(): Readonly<Record<string, number>>;
}

export type RandomWorkloadConfig = {
  readonly actionEveryMs: LatencyMs;
  readonly untilMs: number;
  readonly closeChance: number;
  readonly manualOrderChance: number;
  readonly limitEntryChance: number;
  readonly takeProfitChance: number;
  readonly invalidChance: number;
  readonly repeatChance: number;
  /** Mean time between crashes of the bot (it restarts with no journal); 0 for none. */
  readonly restartEveryMs: number;
  /** Mean time between kills of the bot at a random crash point (it recovers from its journal); 0 for none. */
  readonly crashEveryMs?: number;
  /**
   * How long a killed bot stays down before the next process starts (some of the time; otherwise
   * it starts at once), drawn from its own generator so that the rest draws what it drew without.
   */
  readonly crashDown?: { readonly chance: number; readonly maxMs: number; readonly rng: Rng };
  /**
   * Protection plans on open requests (ladders, breakeven, trailing, aged-position exits), drawn
   * from their own generator so the rest of the workload draws what it drew without them.
   */
  readonly protection?: { readonly chance: number; readonly rng: Rng; readonly venueTrailing: boolean };
  /**
   * The venue lowers the most it takes in one market order on a symbol, often below the position
   * held there, and now and then puts it back; at Poisson times, drawn from a generator of their
   * own so that the rest draws what it drew without them.
   */
  readonly marketMaxCuts?: { readonly everyMs: number; readonly rng: Rng };
  /**
   * The bot's process freezes now and then (a long garbage collection, a machine starved of CPU, a
   * VM suspended or moved): mostly for under two seconds, sometimes for up to 15, now and then for a
   * minute. At Poisson times, drawn from a generator of their own.
   */
  readonly pauses?: { readonly everyMs: number; readonly rng: Rng };
  /**
   * The venue announces a symbol's delisting now and then, at Poisson times: the bot's close (at
   * `leadMs` before it) due at once or within a minute, never after the active window; one in five
   * withdrawn before then. Drawn from a generator of their own.
   */
  readonly delistings?: { readonly everyMs: number; readonly leadMs: number; readonly rng: Rng };
  /** A strategy trading alongside (it reads the engine's state and sends its own requests), asked every `everyMs`. */
  readonly strategy?: { readonly decide: (state: EngineState, atMs: number) => Incoming[]; readonly everyMs: number };
};

export class RandomWorkload implements Workload {
  private readonly config: RandomWorkloadConfig;
  private requests = 0;
  private lastRequest: Incoming | null = null;

  constructor(config: RandomWorkloadConfig) {
    this.config = config;
  }

  /** Requests the strategy trading alongside made. */
  private strategyRequests = 0;

  counts(): Readonly<Record<string, number>> {
    return { strategyRequests: this.strategyRequests };
  }

  start(world: WorldHandle): void {
    const startMs = world.nowMs();
    this.scheduleRestarts(world, startMs);
    const { strategy } = this.config;
    if (strategy !== undefined) {
      for (let atMs = startMs + strategy.everyMs; atMs - startMs <= this.config.untilMs; atMs += strategy.everyMs) {
        world.at(atMs, () => {
          for (const request of strategy.decide(world.runtime().state, world.nowMs())) {
            this.strategyRequests += 1;
            world.request(request);
          }
        });
      }
    }
    const next = (): void => {
      const atMs = world.nowMs() + world.rng.int(this.config.actionEveryMs.min, this.config.actionEveryMs.max);
      if (atMs - startMs > this.config.untilMs) return;
      world.at(atMs, () => {
        this.act(world);
        next();
      });
    };
    next();
  }

  private scheduleRestarts(world: WorldHandle, startMs: number): void {
    const { restartEveryMs, untilMs } = this.config;
    const crashEveryMs = this.config.crashEveryMs ?? 0;
    for (const atMs of poissonTimes(world, startMs, untilMs, restartEveryMs)) world.at(atMs, () => world.restart());
    this.scheduleMarketMaxCuts(world, startMs);
    this.schedulePauses(world, startMs);
    this.scheduleDelistings(world, startMs);
    const { crashDown } = this.config;
    for (const atMs of poissonTimes(world, startMs, untilMs, crashEveryMs)) {
      const point = world.rng.pick(crashPoints);
      const downMs = crashDown !== undefined && crashDown.rng.chance(crashDown.chance) ? crashDown.rng.int(1, crashDown.maxMs) : 0;
      world.at(atMs, () => world.crash(point, downMs));
    }
  }

  private schedulePauses(world: WorldHandle, startMs: number): void {
    const pauses = this.config.pauses;
    if (pauses === undefined || pauses.everyMs <= 0) return;
    const { rng } = pauses;
    for (let atMs = startMs; ;) {
      atMs = nextPoissonMs(rng, atMs, pauses.everyMs);
      if (atMs - startMs > this.config.untilMs) return;
      const roll = rng.next();
      const ms = roll < 0.6 ? rng.int(50, 2_000) : roll < 0.9 ? rng.int(2_000, 15_000) : rng.int(15_000, 60_000);
      const order = rng.pick(resumeOrders);
      world.at(atMs, () => world.pause(ms, order));
    }
  }

  private scheduleDelistings(world: WorldHandle, startMs: number): void {
    const delistings = this.config.delistings;
    if (delistings === undefined || delistings.everyMs <= 0) return;
    const { rng, leadMs } = delistings;
    const endMs = startMs + this.config.untilMs;
    for (let atMs = startMs; ;) {
      atMs = nextPoissonMs(rng, atMs, delistings.everyMs);
      if (atMs > endMs) return;
      const symbol = rng.pick(world.symbols).symbol;
      // The close falls from a lead ago (due at once: a short notice) to a minute ahead.
      const closeMs = Math.min(endMs, atMs + rng.int(-leadMs, 60_000));
      const withdrawMs = rng.chance(0.2) ? rng.int(atMs, Math.max(atMs, closeMs - 1)) : null;
      world.at(atMs, () => world.announceDelisting(symbol, closeMs + leadMs));
      if (withdrawMs !== null) world.at(withdrawMs, () => world.announceDelisting(symbol, null));
    }
  }

  private scheduleMarketMaxCuts(world: WorldHandle, startMs: number): void {
    const cuts = this.config.marketMaxCuts;
    if (cuts === undefined || cuts.everyMs <= 0) return;
    const { rng } = cuts;
    const original = new Map(world.symbols.map((instrument) => [instrument.symbol, instrument.maxMarketLots]));
    for (let atMs = startMs; ;) {
      atMs = nextPoissonMs(rng, atMs, cuts.everyMs);
      if (atMs - startMs > this.config.untilMs) return;
      world.at(atMs, () => {
        const instrument = rng.pick(world.symbols);
        const heldLots = Math.abs(world.venue.position(instrument.symbol).sizeLots);
        // Below what is held (the bot must close and protect it in parts), or back to what it was.
        const lots = heldLots >= 2 && rng.chance(0.75) ? rng.int(Math.max(1, Math.ceil(heldLots / 5)), heldLots - 1) : original.get(instrument.symbol) ?? instrument.maxMarketLots;
        world.changeMarketMax(instrument.symbol, lots);
      });
    }
  }

  private act(world: WorldHandle): void {
    const { rng } = world;
    const idle = world.symbols.filter((candidate) => !world.runtime().state.activeIntentBySymbol.has(candidate.symbol));
    // Mostly act where something can happen; sometimes where the engine must refuse.
    const instrument = rng.pick(idle.length > 0 && rng.chance(0.8) ? idle : world.symbols);
    const roll = rng.next();
    if (this.lastRequest !== null && roll < this.config.repeatChance) {
      world.request(this.lastRequest);
      return;
    }
    if (roll < this.config.repeatChance + this.config.closeChance) {
      this.send(world, { type: 'CloseRequested', requestId: this.nextRequestId(), symbol: instrument.symbol });
      return;
    }
    if (roll < this.config.repeatChance + this.config.closeChance + this.config.manualOrderChance) {
      placeManualOrder(world, instrument);
      return;
    }
    const request = this.openRequest(world, instrument);
    if (request !== null) this.send(world, request);
  }

  private send(world: WorldHandle, request: Incoming): void {
    this.lastRequest = request;
    world.request(request);
  }

  private nextRequestId(): string {
    this.requests += 1;
    return `w${this.requests}`;
  }

  private openRequest(world: WorldHandle, instrument: Instrument): Incoming | null {
    const { rng } = world;
    const price = world.venue.price(instrument.symbol);
    if (price === null) return null;
    const side: Side = rng.chance(0.5) ? 'buy' : 'sell';
    const sign = side === 'buy' ? 1 : -1;
    const invalid = rng.chance(this.config.invalidChance);
    const limit = rng.chance(this.config.limitEntryChance);
    const entryTicks = limit ? price.lastTicks - sign * Math.max(1, Math.round(price.lastTicks * rng.int(1, 30) / 10_000)) : price.lastTicks;
    const stopDistance = Math.max(2, Math.round(entryTicks * rng.int(20, 300) / 10_000));
    const stopTicks = entryTicks - sign * (invalid ? -stopDistance : stopDistance);
    const notional = String(rng.int(20, 2_000));
    const lots = Math.max(instrument.minLots, Math.round(Number(notional) / (price.lastTicks * instrument.tickLotE8 / 1e8)));
    const takeProfit = rng.chance(this.config.takeProfitChance) ? { percent: rng.int(20, 500) / 100 } : null;
    const protection = this.protectionPlan(takeProfit !== null);
    return {
      type: 'OpenRequested',
      requestId: this.nextRequestId(),
      symbol: instrument.symbol,
      side,
      size: rng.chance(0.5) ? { notional } : { quantity: lotsToQty(instrument, lots) },
      entry: limit ? { kind: 'limit', price: ticksToPrice(instrument, entryTicks) } : { kind: 'market' },
      stopLoss: rng.chance(0.5) ? { price: ticksToPrice(instrument, Math.max(1, stopTicks)) } : { percent: invalid ? -1 : rng.int(20, 300) / 100 },
      takeProfit: protection?.ladder === undefined ? takeProfit : null,
      ...(protection === null ? {} : { protection }),
    };
  }

  private protectionPlan(hasTakeProfit: boolean): ProtectionRequest | null {
    const options = this.config.protection;
    if (options === undefined || !options.rng.chance(options.chance)) return null;
    return randomPlan(options.rng, hasTakeProfit, options.venueTrailing);
  }
}

/** A random plan, at the sim's time scale: trailing within seconds, aged positions within a minute or two. */
export function randomPlan(rng: Rng, hasTakeProfit: boolean, venueTrailing: boolean): ProtectionRequest {
  const plan: { -readonly [K in keyof ProtectionRequest]: ProtectionRequest[K] } = {};
  if (rng.chance(0.5)) plan.stopTriggerBy = rng.chance(0.5) ? 'mark' : 'last';
  if (!hasTakeProfit && rng.chance(0.6)) {
    const rungs = rng.int(1, 3);
    const first = rng.int(20, 150) / 100;
    plan.ladder = Array.from({ length: rungs }, (_, index) => ({ target: { percent: first * (index + 1) }, sizePercent: rungs === 1 ? 100 : index < rungs - 1 ? Math.floor(100 / rungs) : 100 - Math.floor(100 / rungs) * (rungs - 1) }));
    plan.breakevenAfterFirstTarget = rng.chance(0.5);
  }
  if (rng.chance(0.6)) {
    const mode = venueTrailing && rng.chance(0.4) ? 'venue' : 'bot';
    const activation = rng.chance(0.5) ? null : { percent: rng.int(5, 100) / 100 };
    const callbackHundredths = rng.chance(0.7) ? rng.int(10, 150) : rng.int(5, 30);
    const amendEveryMs = rng.pick([0, 250, 1_000, 3_000]);
    // A minimum move is less than the callback (resolvePlan refuses one that is not).
    const minMove = mode === 'bot' && rng.chance(0.3) ? { minMove: { percent: rng.int(2, Math.min(40, callbackHundredths - 1)) / 100 } } : {};
    plan.trailing = { mode, activation, callback: { percent: callbackHundredths / 100 }, amendEveryMs, ...minMove };
    // A stop the venue trails is the venue's to move: no breakeven over it (resolvePlan refuses the two together).
    if (mode === 'venue') plan.breakevenAfterFirstTarget = false;
  }
  if (rng.chance(0.4)) {
    const maxAgeMs = rng.int(5, 60) * 1_000;
    plan.aged = { maxAgeMs, graceMs: rng.int(0, 20) * 1_000, step: { percent: rng.int(2, 50) / 100 }, stepEveryMs: rng.int(1, 10) * 1_000, hardLimitMs: maxAgeMs + rng.int(20, 120) * 1_000 };
  }
  return plan;
}

/** A manual order on the venue, only on a symbol where the venue shows nothing of ours. */
function placeManualOrder(world: WorldHandle, instrument: Instrument): void {
  const { rng, venue } = world;
  const symbol = instrument.symbol;
  const busy = venue.position(symbol).sizeLots !== 0 || venue.openOrders().some((order) => order.symbol === symbol);
  const price = venue.price(symbol);
  if (busy || price === null || world.runtime().state.activeIntentBySymbol.has(symbol)) return;
  const lots = Math.max(instrument.minLots, Math.round(rng.int(20, 1_000) / (price.lastTicks * instrument.tickLotE8 / 1e8)));
  const side = rng.chance(0.5) ? 'buy' : 'sell';
  // Half are market orders (an external position to adopt), half rest far from the market (a
  // foreign order the bot must leave alone; now and then the price reaches it).
  const awayTicks = Math.round(price.lastTicks * rng.int(300, 1_000) / 10_000);
  const type: OrderSpec['type'] = rng.chance(0.5) ? { kind: 'market' } : { kind: 'limit', priceTicks: side === 'buy' ? price.lastTicks - awayTicks : price.lastTicks + awayTicks, postOnly: false };
  const spec: OrderSpec = { symbol, side, sizeLots: lots, reduceOnly: false, type };
  const clientOrderId = rng.chance(0.5) ? null : `manual-${rng.int(1, 1_000_000)}`;
  const result = venue.submitOrder(world.venueNowMs(), clientOrderId, spec);
  world.note(`manual ${spec.side} ${lotsToQty(instrument, lots)} ${symbol} (${clientOrderId ?? 'no id'}): ${result.ok ? 'placed' : result.reason}`);
}

/** Times of a Poisson process with the given mean interval (at least a second apart), within the window. */
/** The next time of a Poisson process with mean interval `everyMs` after `atMs` (at least a second later). */
function nextPoissonMs(rng: Rng, atMs: number, everyMs: number): number {
  return atMs + Math.max(1_000, Math.round(-Math.log(1 - rng.next()) * everyMs));
}

function poissonTimes(world: WorldHandle, startMs: number, untilMs: number, everyMs: number): number[] {
  const times: number[] = [];
  if (everyMs <= 0) return times;
  for (let atMs = startMs; ;) {
    atMs = nextPoissonMs(world.rng, atMs, everyMs);
    if (atMs - startMs > untilMs) return times;
    times.push(atMs);
  }
}

export type ScriptedAction =
  | { readonly atMs: number; readonly kind: 'request'; readonly request: Incoming }
  | { readonly atMs: number; readonly kind: 'manual-order'; readonly clientOrderId: string | null; readonly spec: OrderSpec }
  | { readonly atMs: number; readonly kind: 'restart' }
  | { readonly atMs: number; readonly kind: 'crash'; readonly point: CrashPoint; readonly downMs?: number }
  | { readonly atMs: number; readonly kind: 'stream-fault'; readonly stream: StreamName; readonly fault: 'reset' | 'stall' }
  | { readonly atMs: number; readonly kind: 'pause'; readonly ms: number; readonly order: ResumeOrder };

/** Plays a fixed list of actions at fixed times (relative to the start of the world). */
export class ScriptedWorkload implements Workload {
  private readonly actions: readonly ScriptedAction[];

  constructor(actions: readonly ScriptedAction[]) {
    this.actions = actions;
  }

  start(world: WorldHandle): void {
    const startMs = world.nowMs();
    for (const action of this.actions) {
      world.at(startMs + action.atMs, () => play(world, action));
    }
  }
}

function play(world: WorldHandle, action: ScriptedAction): void {
  switch (action.kind) {
    case 'request':
      world.request(action.request);
      return;
    case 'manual-order': {
      const result = world.venue.submitOrder(world.venueNowMs(), action.clientOrderId, action.spec);
      world.note(`manual order ${action.clientOrderId ?? 'no id'}: ${result.ok ? 'placed' : result.reason}`);
      return;
    }
    case 'restart':
      world.restart();
      return;
    case 'crash':
      world.crash(action.point, action.downMs);
      return;
    case 'stream-fault':
      world.streamFault(action.stream, action.fault);
      return;
    case 'pause':
      world.pause(action.ms, action.order);
      return;
    default:
      throw new Error(`unknown action ${JSON.stringify(action satisfies never)}`);
  }
}

/** Runs a strategy that reads the engine's state: it decides every `everyMs` until `untilMs`. */
export class StrategyWorkload implements Workload {
  private readonly decide: (state: EngineState, atMs: number) => Incoming[];
  private readonly everyMs: number;
  private readonly untilMs: number;
  private readonly actions: readonly ScriptedAction[];

  constructor(options: { decide: (state: EngineState, atMs: number) => Incoming[]; everyMs: number; untilMs: number; actions?: readonly ScriptedAction[] }) {
    this.decide = options.decide;
    this.everyMs = options.everyMs;
    this.untilMs = options.untilMs;
    this.actions = options.actions ?? [];
  }

  start(world: WorldHandle): void {
    const startMs = world.nowMs();
    new ScriptedWorkload(this.actions).start(world);
    for (let atMs = startMs + this.everyMs; atMs - startMs <= this.untilMs; atMs += this.everyMs) {
      world.at(atMs, () => {
        for (const request of this.decide(world.runtime().state, world.nowMs())) world.request(request);
      });
    }
  }
}

