// Seed 000: the trailing-stop and aged-position modules could not see a new position until it was
// registered after the REST reply. In Vigil every policy is called for the position from the
// first event that shows it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PositionPolicy, PositionView } from '../../src/core/protection/policy.ts';
import { mutant } from '../../src/sim/mutants.ts';
import { scenarios } from '../../src/sim/scenarios.ts';
import { isEntryAck, record } from '../support/scenario.ts';

const scenario = scenarios['stream-before-rest-reply']!;

function recorder(): { readonly policy: PositionPolicy; readonly views: { atMs: number; view: PositionView }[] } {
  const views: { atMs: number; view: PositionView }[] = [];
  return { views, policy: { name: 'recorder', evaluate: (view, atMs) => { views.push({ atMs, view }); return []; } } };
}

describe('scenario: a policy sees the new position', () => {
  it('from the first stream event, long before the REST reply', () => {
    const { policy, views } = recorder();
    const run = record(scenario, { engine: { policies: [policy] } });
    const ackAt = run.firstAt(isEntryAck);
    const first = views[0];
    assert.ok(first !== undefined && ackAt !== null);
    assert.equal(first.atMs - run.world.startMs, 1_050);
    assert.ok(first.atMs - run.world.startMs < ackAt);
    assert.equal(first.view.sizeLots, 10);
    assert.equal(first.view.protection, 'attached');
  });

  it('fails on the seed design: the policy sees nothing until after the reply', () => {
    const { policy, views } = recorder();
    const run = record(scenario, { step: mutant('seed-design'), engine: { policies: [policy] } });
    const ackAt = run.firstAt(isEntryAck) ?? 0;
    assert.ok(views.every((seen) => seen.atMs - run.world.startMs > ackAt), 'no view before the reply');
  });
});
