// The summary of many seeded runs: violations per invariant, events delivered and lost, the
// distribution of unprotected time per position (by how the stop reached the venue), faults
// exercised, and the failing seeds with what is needed to reproduce them.

import type { InvariantName } from './auditor.ts';
import type { SeedResult } from './swarm.ts';
import { describeParameters } from './swarm.ts';

export type Distribution = { readonly count: number; readonly p50: number; readonly p99: number; readonly max: number };

export type SimSummary = {
  readonly seeds: number;
  readonly violations: number;
  readonly violationsByInvariant: Readonly<Partial<Record<InvariantName, number>>>;
  readonly eventsDelivered: number;
  readonly eventsLost: number;
  /** Positions opened on the venue: ours by stop mode, and external ones the bot had to adopt. */
  readonly positionsOpened: { readonly attached: number; readonly separate: number; readonly external: number };
  /** Worst unprotected time of one of our positions, over episodes the network did not fault. */
  readonly maxUnprotectedMs: number;
  readonly unprotectedMs: { readonly attached: Distribution; readonly separate: Distribution; readonly adopted: Distribution; readonly faulted: Distribution };
  /** Worst separate-stop episode as a multiple of its seed's round trip (slowest evidence delivery + one request). */
  readonly maxUnprotectedRoundTrips: number;
  readonly faultsExercised: Readonly<Record<string, number>>;
  readonly engine: Readonly<Record<string, number>>;
  readonly steps: number;
  readonly failingSeeds: readonly number[];
  readonly failures: readonly {
    readonly seed: number; readonly parameters: string; readonly violations: readonly string[]; readonly traceTail: readonly string[];
  }[];
};

export const failuresDetailedMax = 5;

export function summarize(results: readonly SeedResult[]): SimSummary {
  const byInvariant: Partial<Record<InvariantName, number>> = {};
  const faults: Record<string, number> = {};
  const engine: Record<string, number> = {};
  const durations = { attached: [] as number[], separate: [] as number[], adopted: [] as number[], faulted: [] as number[] };
  let roundTrips = 0;
  const opened = { attached: 0, separate: 0, external: 0 };
  for (const result of results) {
    opened[result.parameters.attachedStops ? 'attached' : 'separate'] += result.openings.ours;
    opened.external += result.openings.external;
    for (const violation of result.violations) byInvariant[violation.invariant] = (byInvariant[violation.invariant] ?? 0) + 1;
    addAll(faults, result.faults);
    addAll(engine, result.counters);
    const { privateStream, restRequest, faults: seedFaults } = result.parameters.network;
    // One round trip: the slowest delivery of the fill's evidence (held back too, when that fault
    // is on) plus the slowest request carrying the stop to the venue.
    const roundTripMs = privateStream.max + (seedFaults.reorderChance > 0 ? seedFaults.reorderDelayMs.max : 0) + restRequest.max;
    for (const episode of result.episodes) {
      const elapsed = episode.endMs - episode.startMs;
      if (episode.faulted) durations.faulted.push(elapsed);
      else if (episode.origin === 'external') durations.adopted.push(elapsed);
      else durations[episode.mode].push(elapsed);
      // (Not one where the market maximum changed, or was below the position: see the auditor.)
      if (!episode.faulted && !episode.marketMax && episode.origin === 'ours' && episode.mode === 'separate' && episode.endedBy === 'stop') {
        roundTrips = Math.max(roundTrips, elapsed / roundTripMs);
      }
    }
  }
  const failing = results.filter((result) => result.violationCount > 0);
  const ours = [...durations.attached, ...durations.separate];
  return {
    seeds: results.length,
    violations: results.reduce((sum, result) => sum + result.violationCount, 0),
    violationsByInvariant: byInvariant,
    eventsDelivered: results.reduce((sum, result) => sum + result.eventsDelivered, 0),
    eventsLost: results.reduce((sum, result) => sum + result.eventsLost, 0),
    positionsOpened: opened,
    maxUnprotectedMs: ours.reduce((max, value) => Math.max(max, value), 0),
    unprotectedMs: {
      attached: distribution(durations.attached), separate: distribution(durations.separate),
      adopted: distribution(durations.adopted), faulted: distribution(durations.faulted),
    },
    maxUnprotectedRoundTrips: Math.round(roundTrips * 100) / 100,
    faultsExercised: faults,
    engine,
    steps: results.reduce((sum, result) => sum + result.steps, 0),
    failingSeeds: failing.map((result) => result.seed),
    failures: failing.slice(0, failuresDetailedMax).map((result) => ({
      seed: result.seed,
      parameters: describeParameters(result.parameters),
      violations: result.violations.map((violation) => `${violation.invariant} at +${violation.atMs}: ${violation.detail}`),
      traceTail: result.traceTail,
    })),
  };
}

function addAll(into: Record<string, number>, from: Readonly<Record<string, number>>): void {
  for (const [key, value] of Object.entries(from)) into[key] = (into[key] ?? 0) + value;
}

export function distribution(values: readonly number[]): Distribution {
  if (values.length === 0) return { count: 0, p50: 0, p99: 0, max: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const at = (fraction: number): number => sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] ?? 0;
  return { count: sorted.length, p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] ?? 0 };
}
