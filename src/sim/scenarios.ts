// Named scenarios: the simulation harness with a scripted schedule instead of random faults. Each
// one replays a concrete story (most from the seed post-mortems) and is both a test
// (test/scenarios/) and a command (`npm run sim -- --scenario NAME`).

import type { Command } from '../core/commands.ts';
import type { Event } from '../core/events.ts';
import type { EngineConfig } from '../core/state.ts';
import { lotsToQty } from '../core/instrument.ts';
import type { VenueCommand } from '../shell/ports.ts';
import type { StepFunction } from '../shell/runtime.ts';
import type { PricePoint } from '../venues/sim/prices.ts';
import { instrument } from './instruments.ts';
import type { LatencyMs, NetworkConfig } from './network.ts';
import { noFaults } from './network.ts';
import { simEpochMs } from './scheduler.ts';
import type { ScriptedAction } from './workload.ts';
import { ScriptedWorkload } from './workload.ts';
import { SimWorld } from './world.ts';

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
};

export type ScenarioRun = {
  readonly step?: StepFunction;
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
    workload: new ScriptedWorkload(scenario.actions),
    activeMs: scenario.durationMs,
    ...(run.step === undefined ? {} : { step: run.step }),
    ...(run.traceSink === undefined ? {} : { traceSink: run.traceSink }),
    ...(run.onApplied === undefined ? {} : { onApplied: run.onApplied }),
    ...(scenario.loseCommand === undefined ? {} : { loseCommand: scenario.loseCommand }),
  });
}

/** Runs a scenario to quiescence and returns the world for inspection. */
export function runScenario(scenario: Scenario, run: ScenarioRun = {}): SimWorld {
  const world = scenarioWorld(scenario, run);
  world.run({ stepsMax: 1_000_000, untilMs: simEpochMs + scenario.durationMs });
  world.settle(1_000_000);
  return world;
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
};
