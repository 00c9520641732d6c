// Runs a named scenario and records what the engine applied, so scenario tests can ask when the
// engine first knew something and compare it with when the REST reply arrived.

import type { Command } from '../../src/core/commands.ts';
import type { Event } from '../../src/core/events.ts';
import { effectiveSizeLots } from '../../src/core/position/position.ts';
import type { EngineConfig } from '../../src/core/state.ts';
import type { Scenario } from '../../src/sim/scenarios.ts';
import { scenarioWorld } from '../../src/sim/scenarios.ts';
import type { StepFunction } from '../../src/shell/runtime.ts';
import type { SimWorld } from '../../src/sim/world.ts';

export type Applied = { readonly atMs: number; readonly event: Event; readonly commands: readonly Command[]; readonly positionLots: number };

export type Recording = {
  readonly world: SimWorld;
  readonly applied: readonly Applied[];
  /** Milliseconds from the start of the world to the first applied event matching `predicate`. */
  firstAt(predicate: (applied: Applied) => boolean): number | null;
};

export function record(scenario: Scenario, options: { readonly step?: StepFunction; readonly engine?: Partial<EngineConfig>; readonly journalPath?: string; readonly onStep?: (world: SimWorld) => void } = {}): Recording {
  const applied: Applied[] = [];
  let world: SimWorld | null = null;
  const onApplied = (event: Event, commands: readonly Command[]): void => {
    const positions = world === null ? [] : [...world.runtime.state.positions.values()];
    const positionLots = positions.reduce((sum, position) => sum + Math.abs(effectiveSizeLots(position)), 0);
    applied.push({ atMs: event.atMs, event, commands, positionLots });
  };
  const { onStep, ...run } = options;
  world = scenarioWorld(scenario, { ...run, onApplied });
  const startMs = world.startMs;
  const until = startMs + scenario.durationMs;
  while (world.scheduler.nextAtMs() !== null && (world.scheduler.nextAtMs() ?? Infinity) <= until) {
    world.step();
    onStep?.(world);
  }
  world.settle(1_000_000);
  return {
    world,
    applied,
    firstAt: (predicate) => {
      const found = applied.find(predicate);
      return found === undefined ? null : found.atMs - startMs;
    },
  };
}

export function isEntryAck(applied: Applied): boolean {
  return applied.event.type === 'OrderSubmitAcked' && applied.event.clientOrderId.endsWith('-e');
}

export function violationNames(recording: Recording): string[] {
  return [...new Set(recording.world.auditor.violations.map((violation) => violation.invariant))].sort();
}
