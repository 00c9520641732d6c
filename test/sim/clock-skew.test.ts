// The "clock skew between venue and bot" fault: the venue stamps everything it reports with its
// own clock, up to two seconds ahead of or behind the bot's (some drifting), and the bot, which
// compares venue times only with venue times, holds every invariant all the same. `--faults
// clock-skew` gives every seed a skew; `--faults none` takes it away.

import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { parseFaults, runSimCommand } from '../../src/cli/sim.ts';
import type { ForcedFaults, SeedParameters } from '../../src/sim/swarm.ts';
import { parametersForSeed, resultOf, runSeed, stepsMaxDefault, worldForSeed } from '../../src/sim/swarm.ts';
import { removeJournalFile } from '../../src/sim/world.ts';
import { clockSkewMsMax, Scheduler, VenueClock } from '../../src/sim/scheduler.ts';

const largeSkewMs = 1_500;

/** The first seed whose venue clock is at least 1.5 s off in that direction, with crashes and stream faults too. */
function seedWithSkew(sign: 1 | -1): SeedParameters {
  for (let seed = 1; seed <= 1_000; seed += 1) {
    const parameters = parametersForSeed(seed);
    const { crashEveryMs, network } = parameters;
    if (sign * parameters.clockSkew.skewMs >= largeSkewMs && crashEveryMs > 0 && network.faults.streamFaultEveryMs > 0) return parameters;
  }
  throw new Error(`no seed in 1..1000 with a skew of ${sign * largeSkewMs} ms or more`);
}

/** Runs a seed whose snapshots say the positions were read when the bot asked, on the bot's clock. */
function violationsWithBotTimedPositions(seed: number, forcedFaults: ForcedFaults): number {
  const { world } = worldForSeed(seed, { forcedFaults });
  const fetch = world.snapshots.fetch.bind(world.snapshots);
  world.snapshots.fetch = (command, deliver): void => {
    const askedMs = world.scheduler.nowMs();
    fetch(command, (incoming) => deliver(incoming.type === 'SnapshotReceived' ? { ...incoming, positionsVenueMs: askedMs } : incoming));
  };
  try {
    world.run({ stepsMax: stepsMaxDefault, untilMs: world.activeUntilMs });
    world.settle(stepsMaxDefault);
    return world.auditor.violationCount;
  } finally {
    world.close();
    if (world.options.journalPath !== undefined) removeJournalFile(world.options.journalPath);
  }
}

describe('clock skew between venue and bot', () => {
  for (const sign of [1, -1] as const) {
    const parameters = seedWithSkew(sign);
    const { seed, clockSkew } = parameters;
    it(`seed ${seed}: the venue ${clockSkew.skewMs} ms off the bot (drift ${clockSkew.driftPpm} ppm) stamps its own time, and every invariant holds`, () => {
      const { world } = worldForSeed(seed);
      try {
        let fillsSeen = 0;
        let skewedFills = 0;
        // Facts happen inside a step, at the scheduler's (the bot's) time: each new fill carries the venue's time of that instant.
        while ((world.scheduler.nextAtMs() ?? Infinity) <= world.activeUntilMs) {
          world.step();
          const fills = world.venue.fills();
          for (const fill of fills.slice(fillsSeen)) {
            assert.equal(fill.venueMs, world.venueClock.at(world.scheduler.nowMs()), `fill ${fill.executionId} stamped by the venue's clock`);
            if (fill.venueMs !== world.scheduler.nowMs()) skewedFills += 1;
          }
          fillsSeen = fills.length;
        }
        world.settle(stepsMaxDefault);
        assert.ok(skewedFills > 0, 'the venue made fills on a clock that is not the bot\'s');
        const result = resultOf(world, parameters);
        assert.deepEqual(result.violations, []);
        assert.equal(result.eventsLost, 0);
        assert.equal(result.faults.clockSkewed, 1, 'the skew is reported as exercised');
      } finally {
        world.close();
        if (world.options.journalPath !== undefined) removeJournalFile(world.options.journalPath);
      }
    });
  }

  it('catches a snapshot whose positions are timed by the bot\'s clock (a live adapter that mixes the clocks)', () => {
    // The positions' read time taken as the bot's clock when it asked (not the venue's when it
    // read): with the venue behind, a position opened after the read looks older than the read and
    // is taken for closed. One of the first seeds with the venue at least half a second behind
    // catches it; the same seed without its skew does not (the bot's ask comes before the read).
    const caught = Array.from({ length: 200 }, (_, index) => index + 1)
      .filter((seed) => parametersForSeed(seed).clockSkew.skewMs <= -500)
      .slice(0, 20)
      .find((seed) => violationsWithBotTimedPositions(seed, {}) > 0);
    assert.ok(caught !== undefined, 'the skew catches a read time on the wrong clock');
    assert.equal(violationsWithBotTimedPositions(caught, { clockSkew: false }), 0);
  });

  it('keeps the venue\'s clock going forward, however it drifts', () => {
    const scheduler = new Scheduler(1_000);
    for (const skew of [{ skewMs: -clockSkewMsMax, driftPpm: -999_999 }, { skewMs: clockSkewMsMax, driftPpm: 999_999 }, { skewMs: 7, driftPpm: -200 }]) {
      const clock = new VenueClock(scheduler, skew, 1_000);
      let previous = clock.at(1_000);
      assert.equal(previous, 1_000 + skew.skewMs);
      for (let botMs = 1_001; botMs < 50_000; botMs += 1) {
        const venueMs = clock.at(botMs);
        assert.ok(venueMs >= previous, `venue time went back at ${botMs} with ${JSON.stringify(skew)}`);
        previous = venueMs;
      }
    }
    assert.throws(() => new VenueClock(scheduler, { skewMs: 0, driftPpm: 1_000_000 }, 0));
  });

  it('is forced on every seed by --faults clock-skew, and off by --faults none', () => {
    assert.deepEqual(parseFaults('clock-skew'), { clockSkew: true });
    const unskewed = Array.from({ length: 100 }, (_, index) => index + 1).filter((seed) => parametersForSeed(seed).clockSkew.skewMs === 0);
    assert.ok(unskewed.length > 0 && unskewed.length < 100, 'some seeds draw no skew, most do');
    for (const seed of unskewed) assert.notEqual(parametersForSeed(seed, parseFaults('clock-skew')).clockSkew.skewMs, 0);
    for (let seed = 1; seed <= 100; seed += 1) assert.deepEqual(parametersForSeed(seed, parseFaults('none')).clockSkew, { skewMs: 0, driftPpm: 0 });
    // Forcing it changes nothing else the seed draws.
    const seed = unskewed[0] ?? 0;
    assert.deepEqual({ ...parametersForSeed(seed, { clockSkew: true }), clockSkew: null }, { ...parametersForSeed(seed), clockSkew: null });
    assert.equal(runSeed(seed, { forcedFaults: { clockSkew: true } }).faults.clockSkewed, 1);
  });

  it('reports the forced skew through the command line', () => {
    const seed = Array.from({ length: 100 }, (_, index) => index + 1).find((candidate) => parametersForSeed(candidate).clockSkew.skewMs === 0) ?? 0;
    const summaryOf = (extra: readonly string[]): { violations: number; faultsExercised: Record<string, number> } => {
      const log = mock.method(console, 'log', () => undefined);
      try {
        assert.equal(runSimCommand(['--seeds', `${seed}..${seed}`, '--json', ...extra]), 0);
        return JSON.parse(String(log.mock.calls.at(-1)?.arguments[0])) as { violations: number; faultsExercised: Record<string, number> };
      } finally {
        log.mock.restore();
      }
    };
    assert.equal(summaryOf([]).faultsExercised.clockSkewed, 0);
    const forced = summaryOf(['--faults', 'clock-skew']);
    assert.equal(forced.violations, 0);
    assert.equal(forced.faultsExercised.clockSkewed, 1);
  });
});
