// One seed drives a whole run: latencies per channel, which faults are on and how often (swarm
// testing: each seed picks its own mix), whether the venue attaches stops, the workload's
// intensity, the price paths and how far the venue's clock is from the bot's. `runSeed` builds
// the world, runs it with faults on, heals it, lets it settle, and returns what the auditor found.

import type { Notice } from '../core/commands.ts';
import type { StepFunction } from '../shell/runtime.ts';
import { randomWalk } from '../venues/sim/prices.ts';
import { instrument } from './instruments.ts';
import type { NetworkConfig, NetworkFaults } from './network.ts';
import { Rng } from './rng.ts';
import { TpCycle, tpCycleDefaults } from '../strategies/tp-cycle.ts';
import type { EngineState } from '../core/state.ts';
import type { Incoming } from '../shell/ports.ts';
import type { UnprotectedEpisode, Violation } from './auditor.ts';
import { RandomWorkload, randomPlan } from './workload.ts';
import type { ClockSkew } from './scheduler.ts';
import { clockDriftPpmMax, clockSkewMsMax, simEpochMs } from './scheduler.ts';
import type { WorldOptions } from './world.ts';
import { removeJournalFile, SimWorld } from './world.ts';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type SeedParameters = {
  readonly seed: number;
  readonly attachedStops: boolean;
  readonly network: NetworkConfig;
  readonly activeMs: number;
  readonly settleMs: number;
  /** Mean time between crashes of the bot (restarts without a journal); 0 for none. */
  readonly restartEveryMs: number;
  /** Mean time between kills of the bot at a random crash point, recovering from its journal file; 0 for none. */
  readonly crashEveryMs: number;
  /** Share of open requests that carry a protection plan (ladder, breakeven, trailing, aged exit). */
  readonly protectionChance: number;
  /** How often a take-profit-cycle strategy on the first symbol decides; 0: none. */
  readonly strategyEveryMs: number;
  /** How long the bot remembers what has settled (EngineConfig.retainSettledMs): short on some seeds, so forgetting runs. */
  readonly retainSettledMs: number;
  /**
   * How far back a start with nothing known reads fills (EngineConfig.coldStartLookbackMs): 5 s on
   * some seeds whose restarts all recover from the journal, so that a bot down longer than that
   * must read from what its journal knew.
   */
  readonly coldStartLookbackMs: number;
  readonly priceStepMs: number;
  readonly symbols: readonly string[];
  /** The venue's clock against the bot's: every venue time is skewed by it, the bot's own are not. */
  readonly clockSkew: ClockSkew;
  /** Mean time between changes of a symbol's most in one market order (often below what is held); 0 for none. */
  readonly marketMaxCutEveryMs: number;
  /** Mean time between freezes of the bot's process (see RandomWorkloadConfig.pauses); 0 for none. */
  readonly pauseEveryMs: number;
  /** Mean time between delistings the venue announces (see RandomWorkloadConfig.delistings); 0 for none. */
  readonly delistingEveryMs: number;
  /** How long before a delisting the bot closes what it holds there (EngineConfig.closeBeforeDelistingMs). */
  readonly closeBeforeDelistingMs: number;
};

export type SeedResult = {
  readonly seed: number;
  readonly parameters: SeedParameters;
  readonly violations: readonly Violation[];
  readonly violationCount: number;
  readonly eventsDelivered: number;
  readonly eventsLost: number;
  readonly episodes: readonly UnprotectedEpisode[];
  readonly steps: number;
  readonly traceHash: string;
  readonly traceTail: readonly string[];
  readonly counters: Readonly<Record<string, number>>;
  readonly faults: Readonly<Record<string, number>>;
  readonly stopBoundMs: number;
  readonly openings: { readonly ours: number; readonly external: number };
};

const startPrices: Readonly<Record<string, number>> = { BTCUSDT: 650_000, ETHUSDT: 300_000, SOLUSDT: 15_000, DOGEUSDT: 20_000 };

/**
 * Faults a run can force on (true) or off (false): the network's, crashes with recovery from the
 * journal, a venue clock skewed from the bot's, the bot's process freezing, and delistings.
 */
export type ForcedFaults = Partial<NetworkFaults> & { readonly crashes?: boolean; readonly clockSkew?: boolean; readonly pauses?: boolean; readonly delistings?: boolean };

export function parametersForSeed(seed: number, forced: ForcedFaults = {}): SeedParameters {
  const { crashes, clockSkew, pauses, delistings, ...forcedNetwork } = forced;
  const rng = new Rng(seed ^ 0x5eed);
  const on = (chance: number): boolean => rng.chance(chance);
  const privateMax = rng.int(5, 250);
  const early = {
    duplicateChance: on(0.5) ? rng.int(1, 20) / 100 : 0,
    reorderChance: on(0.5) ? rng.int(1, 20) / 100 : 0,
    reorderDelayMs: { min: 1, max: rng.int(10, 300) },
    requestLostChance: on(0.3) ? rng.int(1, 5) / 100 : 0,
    replyLostChance: on(0.3) ? rng.int(1, 5) / 100 : 0,
    streamFaultEveryMs: on(0.5) ? rng.int(10, 90) * 1_000 : 0,
    stallShare: rng.int(0, 100) / 100,
    staleSnapshotChance: on(0.4) ? rng.int(10, 60) / 100 : 0,
    staleSnapshotDelayMs: { min: 50, max: rng.int(100, 2_000) },
  };
  const parameters = {
    seed,
    attachedStops: on(0.5),
    network: {
      restRequest: { min: rng.int(2, 20), max: rng.int(30, 250) },
      restReply: { min: rng.int(2, 20), max: rng.int(30, 500) },
      privateStream: { min: rng.int(1, 5), max: privateMax },
      publicStream: { min: 1, max: rng.int(5, 100) },
      streamSetup: { min: rng.int(20, 100), max: rng.int(100, 600) },
      restTimeoutMs: 1_500,
      faults: { ...early, serverErrorChance: 0, rateLimitChance: 0, rateLimitWaitMs: { min: 0, max: 0 }, ...forcedNetwork },
    },
    activeMs: rng.int(60, 300) * 1_000,
    settleMs: 40_000,
    restartEveryMs: on(0.2) ? rng.int(30, 120) * 1_000 : 0,
    priceStepMs: rng.int(100, 1_000),
    symbols: ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'DOGEUSDT'].slice(0, rng.int(1, 4)),
    // Drawn last, so the parameters above stay what they were before crashes with a journal existed.
    crashEveryMs: (on(0.3) || crashes === true) && crashes !== false ? rng.int(10, 60) * 1_000 : 0,
    // Drawn after the crashes for the same reason: share of open requests with a protection plan.
    protectionChance: rng.pick([0, 0.3, 0.7, 1]),
    // Drawn after everything else, so a seed's other parameters stay what they were before it existed.
    clockSkew: drawClockSkew(rng, clockSkew),
  };
  // Server errors and rate limits, drawn after everything else for the same reason; what a run
  // forces still wins.
  const late = {
    serverErrorChance: on(0.3) ? rng.int(1, 5) / 100 : 0,
    rateLimitChance: on(0.3) ? rng.int(1, 10) / 100 : 0,
    rateLimitWaitMs: { min: 50, max: rng.int(100, 2_000) },
  };
  // Drawn last of all: a take-profit-cycle strategy trading the first symbol alongside the signals.
  const strategyEveryMs = on(0.3) ? rng.pick([250, 1_000, 3_000]) : 0;
  // After that: on two seeds in three the bot forgets what settled 15 s or a minute ago (the
  // default is an hour, longer than any session here).
  const retainSettledMs = rng.pick([15_000, 60_000, 3_600_000]);
  // Last: a cold-start lookback shorter than the downtimes, where no restart is cold (a cold one
  // must look back far enough for the fills it has not seen: that is what the lookback is for).
  const shortLookback = parameters.restartEveryMs === 0 && parameters.crashEveryMs > 0 && on(0.5);
  const coldStartLookbackMs = shortLookback ? 5_000 : 24 * 3_600_000;
  // After that: on one seed in four the venue lowers a symbol's market maximum now and then.
  const marketMaxCutEveryMs = on(0.25) ? rng.int(15, 90) * 1_000 : 0;
  // Then: on one seed in four (or as forced) the bot's process freezes now and then.
  const pauseDrawn = on(0.25);
  const pauseEveryMs = (pauseDrawn || pauses === true) && pauses !== false ? rng.int(10, 60) * 1_000 : 0;
  // Last: on one seed in five (or as forced) the venue announces delistings now and then; the
  // bot closes what it holds there 5 or 30 s before (an hour by default: longer than a session).
  const delistingDrawn = on(0.2);
  const delistingEveryMs = (delistingDrawn || delistings === true) && delistings !== false ? rng.int(20, 120) * 1_000 : 0;
  const closeBeforeDelistingMs = rng.pick([5_000, 30_000]);
  return {
    ...parameters, network: { ...parameters.network, faults: { ...early, ...late, ...forcedNetwork } }, strategyEveryMs, retainSettledMs, coldStartLookbackMs, marketMaxCutEveryMs, pauseEveryMs,
    delistingEveryMs, closeBeforeDelistingMs,
  };
}

/**
 * The venue's clock against the bot's: on two seeds in three, ahead or behind by up to two
 * seconds (uniformly: the large skews are the interesting ones), and on half of those drifting
 * by up to 200 ppm as well. Forced on, a seed always gets its skew; forced off, never. The same
 * numbers are drawn either way, so forcing changes nothing else.
 */
function drawClockSkew(rng: Rng, forced: boolean | undefined): ClockSkew {
  const skewed = rng.chance(2 / 3);
  const skewMs = rng.int(1, clockSkewMsMax) * (rng.chance(0.5) ? 1 : -1);
  const driftPpm = rng.chance(0.5) ? rng.int(-clockDriftPpmMax, clockDriftPpmMax) : 0;
  return (skewed || forced === true) && forced !== false ? { skewMs, driftPpm } : { skewMs: 0, driftPpm: 0 };
}

/** A seed's derived parameters on one line, for a failure report. */
export function describeParameters(p: SeedParameters): string {
  const { network: n } = p;
  const range = (latency: { readonly min: number; readonly max: number }): string => `${latency.min}..${latency.max}`;
  const f = n.faults;
  const faults = [
    f.duplicateChance > 0 ? `duplicate ${f.duplicateChance}` : '', f.reorderChance > 0 ? `reorder ${f.reorderChance} (+${range(f.reorderDelayMs)} ms)` : '',
    f.requestLostChance > 0 ? `request-lost ${f.requestLostChance}` : '', f.replyLostChance > 0 ? `reply-lost ${f.replyLostChance}` : '',
    f.streamFaultEveryMs > 0 ? `stream faults every ${f.streamFaultEveryMs} ms (${Math.round(f.stallShare * 100)} % stalls)` : '',
    f.staleSnapshotChance > 0 ? `stale-snapshot ${f.staleSnapshotChance} (+${range(f.staleSnapshotDelayMs)} ms)` : '',
    f.serverErrorChance > 0 ? `server-error ${f.serverErrorChance}` : '', f.rateLimitChance > 0 ? `rate-limit ${f.rateLimitChance} (wait ${range(f.rateLimitWaitMs)} ms)` : '',
    p.restartEveryMs > 0 ? `restarts every ${p.restartEveryMs} ms` : '', p.crashEveryMs > 0 ? `crashes every ${p.crashEveryMs} ms` : '',
    p.marketMaxCutEveryMs > 0 ? `market maximum changed every ${p.marketMaxCutEveryMs} ms` : '',
    p.pauseEveryMs > 0 ? `the bot's process frozen every ${p.pauseEveryMs} ms` : '',
    p.delistingEveryMs > 0 ? `delistings announced every ${p.delistingEveryMs} ms (closed ${p.closeBeforeDelistingMs} ms before)` : '',
  ].filter((text) => text !== '');
  const { skewMs, driftPpm } = p.clockSkew;
  const clock = skewMs === 0 ? 'the bot\'s' : `the bot's ${skewMs > 0 ? '+' : ''}${skewMs} ms${driftPpm === 0 ? '' : `, drifting ${driftPpm > 0 ? '+' : ''}${driftPpm} ppm`}`;
  return [
    `${p.attachedStops ? 'attached' : 'separate'} stops, ${p.symbols.join(' ')}, active ${p.activeMs} ms, prices every ${p.priceStepMs} ms, protection ${p.protectionChance}, ` +
      `settled things remembered ${p.retainSettledMs} ms, a start with nothing known reads fills ${p.coldStartLookbackMs} ms back`,
    `latency ms: request ${range(n.restRequest)}, reply ${range(n.restReply)}, private ${range(n.privateStream)}, public ${range(n.publicStream)}, setup ${range(n.streamSetup)}`,
    `faults: ${faults.length === 0 ? 'none' : faults.join(', ')}; venue clock ${clock}`,
  ].join('; ');
}

export type RunOptions = {
  readonly forcedFaults?: ForcedFaults;
  readonly step?: StepFunction;
  readonly traceSink?: (line: string) => void;
  readonly onNotice?: (notice: Notice, atMs: number) => void;
  readonly stepsMax?: number;
};

export function worldForSeed(seed: number, options: RunOptions = {}): { readonly world: SimWorld; readonly parameters: SeedParameters } {
  const parameters = parametersForSeed(seed, options.forcedFaults);
  const rng = new Rng(seed);
  // Prices stop ten seconds before the end, so the world is quiet when convergence is checked.
  const steps = Math.ceil((parameters.activeMs + parameters.settleMs - 10_000) / parameters.priceStepMs);
  const symbols = parameters.symbols.map((symbol) => ({
    instrument: instrument(symbol),
    prices: randomWalk(rng.fork(), {
      symbol, startTicks: startPrices[symbol] ?? 10_000, startMs: simEpochMs + 1, stepMs: parameters.priceStepMs, steps,
      volatilityBps: rng.int(2, 25), jumpChance: rng.int(0, 20) / 1_000, jumpBps: rng.int(50, 300),
    }),
  }));
  const worldOptions: WorldOptions = {
    seed,
    symbols,
    network: parameters.network,
    venue: {
      makerFeeRateE8: 20_000, takerFeeRateE8: 55_000, spreadTicks: rng.int(0, 3),
      partialFillChance: rng.int(0, 40) / 100, fillPartsMax: rng.int(2, 5), limitPartialChance: rng.int(0, 50) / 100,
    },
    // A change sent just before a crash can land at most one REST timeout later (the sim's stand-in
    // for the receive window): the engine holds its stop changes that long after every start.
    engine: {
      attachedStops: parameters.attachedStops, receiveWindowMs: parameters.network.restTimeoutMs, retainSettledMs: parameters.retainSettledMs, coldStartLookbackMs: parameters.coldStartLookbackMs,
      closeBeforeDelistingMs: parameters.closeBeforeDelistingMs,
      // Where entries carry plans, an intent restored from the venue (a restart without the journal)
      // follows a configured one; drawn from a generator of its own, so the other draws stay the same.
      ...(parameters.protectionChance > 0 ? { restoredProtection: { default: randomPlan(new Rng(seed * 104_729 + 3), false, parameters.attachedStops), symbols: {} } } : {}),
    },
    workload: new RandomWorkload({
      actionEveryMs: { min: 100, max: rng.int(500, 5_000) }, untilMs: parameters.activeMs,
      closeChance: 0.1, manualOrderChance: 0.05, limitEntryChance: 0.25, takeProfitChance: 0.5, invalidChance: 0.05, repeatChance: 0.03,
      restartEveryMs: parameters.restartEveryMs,
      crashEveryMs: parameters.crashEveryMs,
      // A real restart takes a while: the venue goes on meanwhile (stops fire, orders fill unseen).
      crashDown: { chance: 0.3, maxMs: 30_000, rng: new Rng(seed * 6_007 + 29) },
      protection: { chance: parameters.protectionChance, rng: new Rng(seed * 7_919 + 17), venueTrailing: parameters.attachedStops },
      ...(parameters.marketMaxCutEveryMs > 0 ? { marketMaxCuts: { everyMs: parameters.marketMaxCutEveryMs, rng: new Rng(seed * 8_191 + 41) } } : {}),
      ...(parameters.pauseEveryMs > 0 ? { pauses: { everyMs: parameters.pauseEveryMs, rng: new Rng(seed * 9_973 + 53) } } : {}),
      ...(parameters.delistingEveryMs > 0 ? { delistings: { everyMs: parameters.delistingEveryMs, leadMs: parameters.closeBeforeDelistingMs, rng: new Rng(seed * 10_007 + 59) } } : {}),
      ...(parameters.strategyEveryMs > 0 ? { strategy: { decide: tpCycleOn(parameters.symbols[0] ?? 'BTCUSDT'), everyMs: parameters.strategyEveryMs } } : {}),
    }),
    ...(parameters.crashEveryMs > 0 ? { journalPath: journalPathFor(seed) } : {}),
    clockSkew: parameters.clockSkew,
    activeMs: parameters.activeMs,
    settleMs: parameters.settleMs,
    ...(options.step === undefined ? {} : { step: options.step }),
    ...(options.traceSink === undefined ? {} : { traceSink: options.traceSink }),
    ...(options.onNotice === undefined ? {} : { onNotice: options.onNotice }),
  };
  return { world: SimWorld.create(worldOptions), parameters };
}

export const stepsMaxDefault = 2_000_000;

export function runSeed(seed: number, options: RunOptions = {}): SeedResult {
  const { world, parameters } = worldForSeed(seed, options);
  const stepsMax = options.stepsMax ?? stepsMaxDefault;
  try {
    world.run({ stepsMax, untilMs: world.activeUntilMs });
    world.settle(stepsMax);
    return resultOf(world, parameters);
  } finally {
    world.close();
    if (world.options.journalPath !== undefined) removeJournalFile(world.options.journalPath);
  }
}

/** A journal file per seed and process, in memory-backed storage where the machine has it. */
function journalPathFor(seed: number): string {
  const dir = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  return join(dir, `vigil-sim-${process.pid}-${seed}.db`);
}

export function resultOf(world: SimWorld, parameters: SeedParameters): SeedResult {
  const { auditor, network } = world;
  return {
    seed: world.options.seed,
    parameters,
    violations: auditor.violations,
    violationCount: auditor.violationCount,
    eventsDelivered: auditor.eventsDelivered,
    eventsLost: auditor.eventsLost,
    episodes: auditor.episodes,
    steps: world.steps,
    traceHash: world.trace.hash,
    traceTail: auditor.traceAtFirstViolation,
    counters: world.totals(),
    faults: {
      ...network.counts, cancelRacedFill: world.venue.lateCancelsOfFilled, restarts: world.coldRestarts, ...crashCounts(world), ...skewCounts(parameters.clockSkew),
      partialExecutions: world.venue.partialExecutions, venueTriggers: world.venue.triggers, triggersWhileBlind: world.triggersWhileBlind,
      marketMaxChanges: world.marketMaxChanges.all, marketMaxBelowPosition: world.marketMaxChanges.belowPosition,
      pauses: world.pauses.all, pausesPastHeartbeat: world.pauses.long, heldWhilePaused: world.pauses.held,
      delistings: world.delistings.announced, delistingsWithdrawn: world.delistings.withdrawn, delistingClosesWithPosition: world.delistings.heldAtClose,
      ...world.options.workload.counts?.(),
    },
    stopBoundMs: auditor.stopBoundMs,
    openings: { ...auditor.openings },
  };
}


/** Seeds whose venue clock was skewed from the bot's, and whose drifted as well. */
function skewCounts(skew: ClockSkew): Record<string, number> {
  return { clockSkewed: skew.skewMs === 0 ? 0 : 1, clockDrifting: skew.driftPpm === 0 ? 0 : 1 };
}

function crashCounts(world: SimWorld): Record<string, number> {
  return { ...Object.fromEntries(Object.entries(world.crashes).map(([point, count]) => [`crash ${point}`, count])), 'down after a crash': world.downtimes };
}

/** The take-profit cycle on one symbol, with a short entry timeout at the simulation's time scale. */
function tpCycleOn(symbol: string): (state: EngineState, atMs: number) => Incoming[] {
  const cycle = new TpCycle({ ...tpCycleDefaults, symbols: [symbol], entryTimeoutMs: 30_000 });
  return (state, atMs) => cycle.decide(state, atMs);
}
