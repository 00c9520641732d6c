// Seed 000: the venue pushes the fill ~50 ms after the market order, the REST reply comes ~350 ms
// later, and the old bot dropped every update in between ("Skipped: not in tracked positions").
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mutant } from '../../src/sim/mutants.ts';
import { scenarios } from '../../src/sim/scenarios.ts';
import { isEntryAck, record, violationNames } from '../support/scenario.ts';

const scenario = scenarios['stream-before-rest-reply']!;

describe('scenario: stream before the REST reply', () => {
  it('applies every update that arrives before the REST reply, and the position is known from the first one', () => {
    const run = record(scenario);
    assert.equal(run.world.auditor.violationCount, 0, JSON.stringify(run.world.auditor.violations));
    assert.equal(run.world.auditor.eventsLost, 0);
    const ackAt = run.firstAt(isEntryAck);
    const knownAt = run.firstAt((applied) => applied.positionLots > 0);
    assert.ok(ackAt !== null && knownAt !== null);
    assert.equal(knownAt, 1_050, 'known when the first stream push lands: order at +1000, venue +20, push +30');
    assert.equal(ackAt, 1_350, 'the REST reply lands 300 ms later');
    const between = run.applied.filter((applied) => applied.atMs - run.world.startMs < ackAt && ['FillReceived', 'OrderUpdated', 'PositionUpdated'].includes(applied.event.type));
    assert.ok(between.length >= 3, `fill, order and position updates before the reply: ${between.length}`);
    assert.equal(run.world.venue.position('BTCUSDT').stopLossTicks, 643_500, 'the attached stop is on the venue from the fill');
  });

  it('fails on the seed design, which skips those updates', () => {
    const run = record(scenario, { step: mutant('seed-design') });
    // The skipped fill is never booked: lost, never converged, and past the booking bound (the
    // world waits at the end for fills on their way, so the bound elapses).
    assert.deepEqual(violationNames(run), ['converged', 'event-lost', 'fill-booked']);
    assert.ok(run.world.auditor.eventsLost >= 3);
  });
});
