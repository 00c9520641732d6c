// The simulation's random protection plans: each one a plan the engine accepts, so the seeds
// exercise the policies rather than the refusal of a plan.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolvePlan } from '../../src/core/protection/plan.ts';
import { instrument } from '../../src/sim/instruments.ts';
import { Rng } from '../../src/sim/rng.ts';
import { randomPlan } from '../../src/sim/workload.ts';

const sol = instrument('SOLUSDT');

void describe('the workload\'s random plans', () => {
  void it('resolve, every one, on either side, with or without the venue trailing', () => {
    let trailed = 0;
    let withMinMove = 0;
    for (let seed = 1; seed <= 3_000; seed += 1) {
      const rng = new Rng(seed);
      const request = randomPlan(rng, seed % 2 === 0, seed % 3 === 0);
      for (const side of ['buy', 'sell'] as const) {
        const resolved = resolvePlan({ instrument: sol, side, referenceTicks: 14_550, sizeLots: 1_000, request });
        assert.ok(resolved.ok, `seed ${seed} ${side}: ${JSON.stringify(request)} -> ${resolved.ok ? '' : resolved.reason}`);
      }
      if (request.trailing !== undefined && request.trailing !== null) {
        trailed += 1;
        if (request.trailing.minMove !== undefined) withMinMove += 1;
      }
    }
    // The draws cover what they are for: trailing stops, some with a minimum move.
    assert.ok(trailed > 1_500 && withMinMove > 300, `${trailed} trailed, ${withMinMove} with a minimum move`);
  });
});
