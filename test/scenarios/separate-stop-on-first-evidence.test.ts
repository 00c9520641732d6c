// Seed 000 on a venue that cannot attach the stop: the old bot placed the stop after it had
// fetched the fill price and written its database row (~250 ms in). Vigil sends it on the first
// evidence of the fill, so the position is unprotected for one round trip at most.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mutant } from '../../src/sim/mutants.ts';
import { scenarios } from '../../src/sim/scenarios.ts';
import { isEntryAck, record } from '../support/scenario.ts';

const scenario = scenarios['separate-stop-on-first-evidence']!;
const roundTripMs = scenario.network.privateStream.max + scenario.network.restRequest.max;

describe('scenario: separate stop on the first evidence of a fill', () => {
  it('sends the stop before the REST reply and is protected within one round trip', () => {
    const run = record(scenario);
    assert.equal(run.world.auditor.violationCount, 0, JSON.stringify(run.world.auditor.violations));
    const stopSentAt = run.firstAt((applied) => applied.commands.some((command) => command.type === 'SubmitOrder' && command.clientOrderId.endsWith('-sl')));
    const ackAt = run.firstAt(isEntryAck);
    assert.ok(stopSentAt !== null && ackAt !== null && stopSentAt < ackAt, `stop at +${stopSentAt}, REST reply at +${ackAt}`);
    const episodes = run.world.auditor.episodes;
    assert.equal(episodes.length, 1);
    const [episode] = episodes;
    assert.equal(episode?.endedBy, 'stop');
    assert.equal((episode?.endMs ?? 0) - (episode?.startMs ?? 0), roundTripMs, 'unprotected for exactly stream delivery + one request');
  });

  it('fails on the seed design: the position goes unprotected', () => {
    const run = record(scenario, { step: mutant('seed-design') });
    const invariants = run.world.auditor.violations.map((violation) => violation.invariant);
    assert.ok(invariants.includes('converged'), invariants.join(', '));
    assert.equal(run.world.venue.isProtected('BTCUSDT'), false, 'the stop was never placed');
  });
});
