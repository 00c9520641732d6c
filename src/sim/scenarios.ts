// Named scenarios: the simulation harness with a scripted schedule instead of random faults. Each
// one replays a concrete story (most from the seed post-mortems) and is both a test
// (test/scenarios/) and a command (`npm run sim -- --scenario NAME`).

import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from '../core/commands.ts';
import type { Event } from '../core/events.ts';
import type { EngineConfig, EngineState } from '../core/state.ts';
import type { Incoming } from '../shell/ports.ts';
import { TpCycle, tpCycleDefaults } from '../strategies/tp-cycle.ts';
import { lotsToQty } from '../core/instrument.ts';
import type { VenueCommand } from '../shell/ports.ts';
import type { StepFunction } from '../shell/runtime.ts';
import type { PricePoint } from '../venues/sim/prices.ts';
import { instrument } from './instruments.ts';
import type { LatencyMs, NetworkConfig } from './network.ts';
import { noFaults } from './network.ts';
import { simEpochMs } from './scheduler.ts';
import type { ScriptedAction } from './workload.ts';
import { ScriptedWorkload, StrategyWorkload } from './workload.ts';
import { removeJournalFile, SimWorld } from './world.ts';

export type Scenario = {
  readonly name: string;
  readonly story: string;
  readonly attachedStops: boolean;
  readonly network: NetworkConfig;
  /** Price path per symbol: [ms from start, price in ticks]; held between points. */
  readonly prices: Readonly<Record<string, readonly (readonly [number, number])[]>>;
  readonly actions: readonly ScriptedAction[];
  readonly durationMs: number;
  readonly engine?: Partial<EngineConfig>;
  readonly loseCommand?: (command: VenueCommand) => 'request' | 'reply' | null;
  /** A strategy that reads the engine's state, asked every `strategyEveryMs` (the scripted actions still play). */
  readonly strategy?: (state: EngineState, atMs: number) => Incoming[];
  readonly strategyEveryMs?: number;
  /** The bot keeps a journal file (a crash then restarts from it; without one every restart is cold). */
  readonly journal?: boolean;
};

export type ScenarioRun = {
  readonly step?: StepFunction;
  /** A journal file for the bot's process: a crash then restarts from it (without one, every restart is cold). */
  readonly journalPath?: string;
  readonly traceSink?: (line: string) => void;
  readonly engine?: Partial<EngineConfig>;
  readonly onApplied?: (event: Event, commands: readonly Command[]) => void;
};

export const fixed = (ms: number): LatencyMs => ({ min: ms, max: ms });

/** The seed post-mortem's timeline: the fill is pushed at +50 ms, the REST reply lands at +350 ms. */
export const seedTimeline: NetworkConfig = {
  restRequest: fixed(20), restReply: fixed(330), privateStream: fixed(30), publicStream: fixed(5), streamSetup: fixed(100), restTimeoutMs: 2_000, faults: noFaults,
};

const pricePointStepMs = 100;

export function scenarioWorld(scenario: Scenario, run: ScenarioRun = {}): SimWorld {
  const symbols = Object.entries(scenario.prices).map(([symbol, path]) => ({
    instrument: instrument(symbol),
    prices: holdPath(symbol, path, scenario.durationMs),
  }));
  return SimWorld.create({
    seed: 1,
    symbols,
    network: scenario.network,
    venue: { makerFeeRateE8: 20_000, takerFeeRateE8: 55_000, spreadTicks: 0, partialFillChance: 0, fillPartsMax: 1, limitPartialChance: 0 },
    engine: { attachedStops: scenario.attachedStops, ...scenario.engine, ...run.engine },
    workload: scenario.strategy === undefined
      ? new ScriptedWorkload(scenario.actions)
      : new StrategyWorkload({ decide: scenario.strategy, everyMs: scenario.strategyEveryMs ?? 100, untilMs: scenario.durationMs, actions: scenario.actions }),
    activeMs: scenario.durationMs,
    ...(run.step === undefined ? {} : { step: run.step }),
    ...(run.journalPath === undefined ? {} : { journalPath: run.journalPath }),
    ...(run.traceSink === undefined ? {} : { traceSink: run.traceSink }),
    ...(run.onApplied === undefined ? {} : { onApplied: run.onApplied }),
    ...(scenario.loseCommand === undefined ? {} : { loseCommand: scenario.loseCommand }),
  });
}

/** Runs a scenario to quiescence and returns the world for inspection (its journal file, if it kept one, removed). */
export function runScenario(scenario: Scenario, run: ScenarioRun = {}): SimWorld {
  const journalPath = run.journalPath ?? (scenario.journal === true ? join(tmpdir(), `vigil-scenario-${process.pid}-${scenario.name}.db`) : undefined);
  const world = scenarioWorld(scenario, { ...run, ...(journalPath === undefined ? {} : { journalPath }) });
  try {
    world.run({ stepsMax: 1_000_000, untilMs: simEpochMs + scenario.durationMs });
    world.settle(1_000_000);
    return world;
  } finally {
    if (journalPath !== undefined && run.journalPath === undefined) {
      world.close();
      removeJournalFile(journalPath);
    }
  }
}

function holdPath(symbol: string, path: readonly (readonly [number, number])[], durationMs: number): PricePoint[] {
  const points: PricePoint[] = [];
  let index = 0;
  let ticks = path[0]?.[1] ?? 1;
  for (let atMs = 1; atMs <= durationMs; atMs += pricePointStepMs) {
    while (index < path.length && (path[index]?.[0] ?? Infinity) <= atMs) {
      ticks = path[index]?.[1] ?? ticks;
      index += 1;
    }
    points.push({ atMs: simEpochMs + atMs, symbol, lastTicks: ticks });
  }
  return points;
}

const btc = instrument('BTCUSDT');

function marketOpen(atMs: number, requestId: string, stopPercent: number, side: 'buy' | 'sell' = 'buy'): ScriptedAction {
  return {
    atMs, kind: 'request',
    request: {
      type: 'OpenRequested', requestId, symbol: 'BTCUSDT', side, size: { quantity: lotsToQty(btc, 10) },
      entry: { kind: 'market' }, stopLoss: { percent: stopPercent }, takeProfit: { percent: 3 },
    },
  };
}

const steadyBtc = { BTCUSDT: [[0, 650_000]] as const };

/** A fixed 50 ms round trip (25 ms each way), and a stream that takes 400 ms to connect and subscribe. */
export const startupTimeline: NetworkConfig = {
  restRequest: fixed(25), restReply: fixed(25), privateStream: fixed(25), publicStream: fixed(10), streamSetup: fixed(400), restTimeoutMs: 2_000, faults: noFaults,
};

const cycleBot = new TpCycle({ ...tpCycleDefaults, symbols: ['SOLUSDT'], entryTimeoutMs: 600_000 });
const cycle = (state: EngineState, atMs: number): Incoming[] => cycleBot.decide(state, atMs);

/** SOLUSDT around 150.00: the cycle's entry rests at 149.70, its take-profit near 150.60. */
const dipAt = (atMs: number): readonly (readonly [number, number])[] => [[atMs, 14_960], [atMs + 300, 15_000]];
const spikeAt = (atMs: number): readonly (readonly [number, number])[] => [[atMs, 15_100], [atMs + 200, 15_000]];

/** A price going from `low` to `high` and back every `periodMs`, in 200 ms steps. */
function zigzag(low: number, high: number, periodMs: number, durationMs: number): (readonly [number, number])[] {
  const points: (readonly [number, number])[] = [];
  for (let atMs = 0; atMs <= durationMs; atMs += 200) {
    const phase = (atMs % periodMs) / periodMs;
    const up = phase < 0.5 ? phase * 2 : 2 - phase * 2;
    points.push([atMs, Math.round(low + (high - low) * up)]);
  }
  return points;
}

export const scenarios: Readonly<Record<string, Scenario>> = {
  'stream-before-rest-reply': {
    name: 'stream-before-rest-reply',
    story: 'seed 000: the venue pushes the fill ~50 ms after the market order, the REST reply comes ~350 ms later; every update in between must be applied',
    attachedStops: true, network: seedTimeline, prices: steadyBtc, actions: [marketOpen(1_000, 'r1', 1)], durationMs: 5_000,
  },
  'separate-stop-on-first-evidence': {
    name: 'separate-stop-on-first-evidence',
    story: 'seed 000 on a venue without attached stops: the stop must leave on the first stream evidence, not after the REST reply',
    attachedStops: false, network: seedTimeline, prices: steadyBtc, actions: [marketOpen(1_000, 'r1', 1)], durationMs: 5_000,
  },
  'stop-never-acknowledged': {
    name: 'stop-never-acknowledged',
    story: 'the separate stop request is lost: after the deadline the position is closed at market',
    attachedStops: false, network: seedTimeline, prices: steadyBtc, actions: [marketOpen(1_000, 'r1', 1)], durationMs: 8_000,
    loseCommand: (command) => (command.type === 'SubmitOrder' && command.clientOrderId.endsWith('-sl') ? 'request' : null),
  },
  'entry-outcome-unknown': {
    name: 'entry-outcome-unknown',
    story: 'the entry reply is lost after the venue filled it: the order is resolved by client order id, never resent',
    attachedStops: true, network: seedTimeline, prices: steadyBtc, actions: [marketOpen(1_000, 'r1', 1)], durationMs: 8_000,
    loseCommand: (command) => (command.type === 'SubmitOrder' && command.clientOrderId.endsWith('-e') ? 'reply' : null),
  },
  'manual-order-adopted': {
    name: 'manual-order-adopted',
    story: 'someone opens a position by hand on the venue: the bot adopts it and protects it',
    attachedStops: true, network: seedTimeline, prices: steadyBtc, durationMs: 5_000,
    actions: [{ atMs: 1_000, kind: 'manual-order', clientOrderId: null, spec: { symbol: 'BTCUSDT', side: 'sell', sizeLots: 25, reduceOnly: false, type: { kind: 'market' } } }],
  },
  'gap-through-stop': {
    name: 'gap-through-stop',
    story: 'the price gaps through the stop: the venue closes the position and the loss is booked exactly',
    attachedStops: false, network: seedTimeline, durationMs: 6_000,
    prices: { BTCUSDT: [[0, 650_000], [3_000, 640_000]] },
    actions: [marketOpen(1_000, 'r1', 1)],
  },
  'duplicates-and-reordering': {
    name: 'duplicates-and-reordering',
    story: 'every private message is delivered twice and many overtake each other: state must come out the same',
    attachedStops: false, durationMs: 8_000, prices: { BTCUSDT: [[0, 650_000], [4_000, 660_000], [6_000, 655_000]] },
    network: { ...seedTimeline, faults: { ...noFaults, duplicateChance: 1, reorderChance: 0.5, reorderDelayMs: { min: 1, max: 200 } } },
    actions: [marketOpen(1_000, 'r1', 1), { ...marketOpen(1_200, 'r1', 1) }, { atMs: 5_000, kind: 'request', request: { type: 'CloseRequested', requestId: 'c1', symbol: 'BTCUSDT' } }],
  },
  'limit-entry-fills-at-startup': {
    name: 'limit-entry-fills-at-startup',
    story: 'seed 002: the bot places its limit entry at startup and it fills before the private stream is up; Vigil places nothing until the stream is subscribed and reconciled',
    attachedStops: true, network: startupTimeline, durationMs: 60_000, strategy: cycle, strategyEveryMs: 50,
    prices: { SOLUSDT: [[0, 15_000], [150, 14_950], [350, 15_000], ...dipAt(5_000)] },
    actions: [],
  },
  'take-profit-fills-during-startup': {
    name: 'take-profit-fills-during-startup',
    story: 'seed 002: the bot restarts with a position and its take-profit on the venue; the take-profit fills while the streams are connecting',
    attachedStops: false, network: startupTimeline, durationMs: 70_000, strategy: cycle, strategyEveryMs: 50,
    prices: { SOLUSDT: [[0, 15_000], ...dipAt(2_000), ...spikeAt(10_100)] },
    actions: [{ atMs: 10_000, kind: 'restart' }],
  },
  'stream-drops-during-take-profit': {
    name: 'stream-drops-during-take-profit',
    story: 'the private stream drops while the take-profit fills, and comes back: the fill is booked from the snapshot taken after the reconnect',
    attachedStops: false, network: startupTimeline, durationMs: 70_000, strategy: cycle, strategyEveryMs: 50,
    prices: { SOLUSDT: [[0, 15_000], ...dipAt(2_000), ...spikeAt(8_050)] },
    actions: [{ atMs: 8_000, kind: 'stream-fault', stream: 'private', fault: 'reset' }],
  },
  'snapshot-older-than-stream': {
    name: 'snapshot-older-than-stream',
    story: 'the snapshot reply comes back 2 s late: the stream has already shown a newer position, which must stand',
    attachedStops: true, durationMs: 10_000,
    network: { ...startupTimeline, faults: { ...noFaults, staleSnapshotChance: 1, staleSnapshotDelayMs: fixed(2_000) } },
    prices: { SOLUSDT: [[0, 15_000]] },
    actions: [
      { atMs: 1, kind: 'manual-order', clientOrderId: null, spec: { symbol: 'SOLUSDT', side: 'buy', sizeLots: 10, reduceOnly: false, type: { kind: 'market' } } },
      { atMs: 1_000, kind: 'manual-order', clientOrderId: null, spec: { symbol: 'SOLUSDT', side: 'buy', sizeLots: 15, reduceOnly: false, type: { kind: 'market' } } },
    ],
  },
  'stopped-out-while-stream-stalled': {
    name: 'stopped-out-while-stream-stalled',
    story: 'the private stream goes silent, the stop closes the position unseen, the trader asks to close, and someone buys 2 lots by hand: "nothing to reduce" sends the bot to the venue for the truth, and the manual position is protected',
    attachedStops: true, network: seedTimeline, durationMs: 30_000,
    prices: { BTCUSDT: [[0, 650_000], [4_000, 640_000]] },
    actions: [
      marketOpen(1_000, 'r1', 1),
      { atMs: 3_000, kind: 'stream-fault', stream: 'private', fault: 'stall' },
      { atMs: 5_000, kind: 'request', request: { type: 'CloseRequested', requestId: 'c1', symbol: 'BTCUSDT' } },
      { atMs: 5_600, kind: 'manual-order', clientOrderId: null, spec: { symbol: 'BTCUSDT', side: 'buy', sizeLots: 2, reduceOnly: false, type: { kind: 'market' } } },
    ],
  },
  'stop-fills-while-down': {
    name: 'stop-fills-while-down',
    story: 'the bot is killed and stays down for 40 s; its stop fills 30 s before it comes back, longer ago than the cold-start lookback (10 s here, a day by default): restarting from its journal, it reads fills from what the journal knew and books the stop\'s own fill',
    attachedStops: false, network: startupTimeline, durationMs: 70_000, journal: true,
    engine: { coldStartLookbackMs: 10_000 },
    prices: { BTCUSDT: [[0, 650_000], [20_000, 640_000]] },
    actions: [marketOpen(1_000, 'r1', 1), { atMs: 10_000, kind: 'crash', point: 'between-steps', downMs: 40_000 }],
  },
  'stop-unanswered-at-crash': {
    name: 'stop-unanswered-at-crash',
    story: 'the bot is killed 10 ms after sending a separate stop, before its reply, and stays down for 5 s, past the stop\'s 2 s deadline: restarting from its journal, it lets the startup snapshot say the stop works instead of closing the position at market',
    attachedStops: false, network: seedTimeline, durationMs: 20_000, journal: true,
    prices: { BTCUSDT: [[0, 650_000]] },
    actions: [marketOpen(1_000, 'r1', 1), { atMs: 1_060, kind: 'crash', point: 'between-steps', downMs: 5_000 }],
  },
  'frozen-with-stop-unanswered': {
    name: 'frozen-with-stop-unanswered',
    story: 'the bot\'s process freezes for 8 s (a VM moved to another host) 10 ms after sending a separate stop, before its reply; the stop lands, and the price falls through it while the bot sees nothing: when the process thaws, its timers come due before it reads what waits in its sockets (the stop\'s deadline, the streams\' silence)',
    attachedStops: false, network: seedTimeline, durationMs: 30_000,
    prices: { BTCUSDT: [[0, 650_000], [5_000, 640_000]] },
    actions: [marketOpen(1_000, 'r1', 1), { atMs: 1_060, kind: 'pause', ms: 8_000, order: 'timers-first' }],
  },
  'tp-cycle-restarts': {
    name: 'tp-cycle-restarts',
    story: 'the cycle bot crashes every few seconds and restarts with no journal, through entries resting, filling and taking profit',
    attachedStops: false, network: startupTimeline, durationMs: 60_000, strategy: cycle, strategyEveryMs: 50,
    prices: { SOLUSDT: zigzag(14_800, 15_300, 4_000, 60_000) },
    actions: [3_000, 6_100, 7_350, 12_350, 15_900, 21_100, 27_600, 33_350, 40_000].map((atMs) => ({ atMs, kind: 'restart' as const })),
  },
};
