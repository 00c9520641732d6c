// The protection policies as pure functions: a view in, decisions and memory out.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { fail } from '../../src/core/assert.ts';
import { freshGuard } from '../../src/core/intent/intent.ts';
import type { GuardView } from '../../src/core/protection/policies.ts';
import { breakevenTicks, evaluateGuards, formatAge, isTighter } from '../../src/core/protection/policies.ts';
import type { IntentPlan } from '../../src/core/protection/plan.ts';
import { emptyPlan, ladderLots, ladderLotsFilled, resolvePlan } from '../../src/core/protection/plan.ts';
import { btc } from '../support/events.ts';

const trailingPlan: IntentPlan = { ...emptyPlan, trailing: { mode: 'bot', activationTicks: 660_000, callback: { kind: 'ppm', ppm: 5_000 }, amendEveryMs: 1_000, minMove: null } };

function view(overrides: Partial<GuardView> = {}): GuardView {
  return {
    atMs: 0, side: 'buy', sizeLots: 10, averageEntryTicks: 650_000, triggerPriceTicks: 650_000, lastTicks: 650_000,
    stopTicks: 643_500, venueStopTicks: 643_500, openedMs: 0, firstTargetFilled: false, takerFeePpm: 550,
    plan: emptyPlan, trailPeakTicks: null, botTrailing: true, guard: freshGuard, price: String, ...overrides,
  };
}

describe('trailing stop (bot-managed)', () => {
  it('does nothing before the activation price', () => {
    const outcome = evaluateGuards(view({ plan: trailingPlan, triggerPriceTicks: 659_999 }));
    assert.deepEqual(outcome.decisions, []);
    assert.equal(outcome.trailPeakTicks, null);
  });

  it('activates at the activation price and tightens to the callback distance from the best price', () => {
    const outcome = evaluateGuards(view({ plan: trailingPlan, triggerPriceTicks: 660_000 }));
    assert.deepEqual(outcome.decisions, [{ kind: 'tighten-stop', triggerTicks: 660_000 - 3_300, reason: 'trailing' }]);
    assert.equal(outcome.trailPeakTicks, 660_000);
  });

  it('ratchets: a lower price keeps the peak and never loosens the stop', () => {
    const stopTicks = 670_000 - 3_350;
    const outcome = evaluateGuards(view({ plan: trailingPlan, trailPeakTicks: 670_000, stopTicks, venueStopTicks: stopTicks, triggerPriceTicks: 668_000 }));
    assert.deepEqual(outcome.decisions, []);
    assert.equal(outcome.trailPeakTicks, 670_000);
  });

  it('for a short, follows the lowest price from above', () => {
    const plan: IntentPlan = { ...emptyPlan, trailing: { mode: 'bot', activationTicks: null, callback: { kind: 'ticks', ticks: 1_000 }, amendEveryMs: 0, minMove: null } };
    const outcome = evaluateGuards(view({ side: 'sell', plan, stopTicks: 656_500, venueStopTicks: 656_500, triggerPriceTicks: 640_000 }));
    assert.deepEqual(outcome.decisions, [{ kind: 'tighten-stop', triggerTicks: 641_000, reason: 'trailing' }]);
  });

  it('closes at market when the price crosses the trailing level before the venue stop was moved there', () => {
    const outcome = evaluateGuards(view({ plan: trailingPlan, trailPeakTicks: 670_000, stopTicks: 666_650, venueStopTicks: 643_500, triggerPriceTicks: 666_000 }));
    assert.equal(outcome.decisions.at(-1)?.kind, 'exit');
  });

  it('leaves a crossing to the venue when its stop is already there', () => {
    const outcome = evaluateGuards(view({ plan: trailingPlan, trailPeakTicks: 670_000, stopTicks: 666_650, venueStopTicks: 666_650, triggerPriceTicks: 666_000 }));
    assert.deepEqual(outcome.decisions, []);
  });

  it('with a minimum move, tightens only by at least that much, then to the whole level', () => {
    // 0.1 % of the best price: 670 ticks at 670,000. The stop is at 666,650 (the level of a 670,000 best price).
    const plan: IntentPlan = { ...trailingPlan, trailing: { ...(trailingPlan.trailing ?? fail('a trailing plan')), minMove: { kind: 'ppm', ppm: 1_000 } } };
    const at = (peak: number): GuardView => view({ plan, trailPeakTicks: 670_000, stopTicks: 666_650, venueStopTicks: 666_650, triggerPriceTicks: peak });
    // A best price of 670,600 calls for 667,247: 597 ticks tighter, short of 671 (0.1 % of 670,600).
    assert.deepEqual(evaluateGuards(at(670_600)).decisions, []);
    assert.equal(evaluateGuards(at(670_600)).trailPeakTicks, 670_600);
    // 670,700 calls for 667,347 (697 tighter, against 670): the stop goes there, not to stop + minimum.
    assert.deepEqual(evaluateGuards(at(670_700)).decisions, [{ kind: 'tighten-stop', triggerTicks: 670_700 - 3_353, reason: 'trailing' }]);
  });

  it('with a minimum move, still closes when the price crosses the stop the venue does not hold yet', () => {
    const plan: IntentPlan = { ...trailingPlan, trailing: { ...(trailingPlan.trailing ?? fail('a trailing plan')), minMove: { kind: 'ticks', ticks: 20_000 } } };
    const outcome = evaluateGuards(view({ plan, trailPeakTicks: 670_000, stopTicks: 666_650, venueStopTicks: 643_500, triggerPriceTicks: 666_000 }));
    assert.equal(outcome.decisions.at(-1)?.kind, 'exit');
    // Past the level (676,600) but not the stop the minimum move left in place: nothing to do.
    const short = evaluateGuards(view({ plan, trailPeakTicks: 680_000, stopTicks: 666_650, venueStopTicks: 666_650, triggerPriceTicks: 676_000 }));
    assert.deepEqual(short.decisions, []);
  });

  it('does not trail when the venue does (botTrailing false)', () => {
    const outcome = evaluateGuards(view({ plan: trailingPlan, botTrailing: false, triggerPriceTicks: 700_000 }));
    assert.deepEqual(outcome.decisions, []);
  });
});

describe('breakeven after the first target', () => {
  const plan: IntentPlan = { ...emptyPlan, breakevenAfterFirstTarget: true };

  it('moves the stop to where closing loses nothing, both taker fees included, once', () => {
    const outcome = evaluateGuards(view({ plan, firstTargetFilled: true }));
    assert.deepEqual(outcome.decisions, [{ kind: 'tighten-stop', triggerTicks: breakevenTicks('buy', 650_000, 550), reason: 'breakeven' }]);
    assert.equal(breakevenTicks('buy', 650_000, 550), 650_716, 'exactly 650,715.39: a tick up, never down (650,715 would lose 0.39 ticks of fees)');
    assert.equal(breakevenTicks('sell', 650_000, 550), 649_285);
    // For every entry tick and either side, the exit at breakeven pays both fees and the next tick toward the entry does not.
    fc.assert(fc.property(fc.integer({ min: 1, max: 100_000_000 }), fc.integer({ min: 0, max: 5_000 }), (entry, fee) => {
      const long = breakevenTicks('buy', entry, fee);
      const short = breakevenTicks('sell', entry, fee);
      const netLong = (exit: number): number => exit * (1_000_000 - fee) - entry * (1_000_000 + fee);
      const netShort = (exit: number): number => entry * (1_000_000 - fee) - exit * (1_000_000 + fee);
      return netLong(long) >= 0 && netLong(long - 1) < 0 && netShort(short) >= 0 && netShort(short + 1) < 0;
    }));
    assert.equal(outcome.guard.breakevenDone, true);
    assert.deepEqual(evaluateGuards(view({ plan, firstTargetFilled: true, guard: outcome.guard })).decisions, []);
  });

  it('never loosens a stop already tighter than breakeven', () => {
    const outcome = evaluateGuards(view({ plan, firstTargetFilled: true, stopTicks: 655_000 }));
    assert.deepEqual(outcome.decisions, []);
  });
});

describe('aged position', () => {
  const hour = 3_600_000;
  const plan: IntentPlan = { ...emptyPlan, aged: { maxAgeMs: hour, graceMs: hour / 2, step: { kind: 'ticks', ticks: 500 }, stepEveryMs: 300_000, hardLimitMs: 3 * hour } };

  it('asks to be looked at again at the maximum age, and does nothing before', () => {
    const outcome = evaluateGuards(view({ plan, atMs: 10 }));
    assert.deepEqual(outcome.decisions, []);
    assert.equal(outcome.reviewAtMs, hour);
  });

  it('places a breakeven exit at the maximum age, then steps toward the market after the grace period, never past it', () => {
    const first = evaluateGuards(view({ plan, atMs: hour, lastTicks: 648_000 }));
    assert.deepEqual(first.decisions.map((decision) => decision.kind === 'aged-exit' && decision.priceTicks), [650_716]);
    assert.equal(first.reviewAtMs, hour * 1.5);
    const inGrace = evaluateGuards(view({ plan, atMs: hour + 60_000, lastTicks: 648_000, guard: first.guard }));
    assert.deepEqual(inGrace.decisions, []);
    const step1 = evaluateGuards(view({ plan, atMs: hour * 1.5, lastTicks: 648_000, guard: first.guard }));
    assert.deepEqual(step1.decisions.map((decision) => decision.kind === 'aged-exit' && decision.priceTicks), [650_216]);
    assert.equal(step1.reviewAtMs, hour * 1.5 + 300_000);
    const early = evaluateGuards(view({ plan, atMs: hour * 1.5 + 1_000, lastTicks: 648_000, guard: step1.guard }));
    assert.deepEqual(early.decisions, [], 'one step per interval');
    let guard = step1.guard;
    const prices: number[] = [];
    for (let index = 1; index <= 6; index += 1) {
      const outcome = evaluateGuards(view({ plan, atMs: hour * 1.5 + index * 300_000, lastTicks: 648_000, guard }));
      guard = outcome.guard;
      for (const decision of outcome.decisions) if (decision.kind === 'aged-exit') prices.push(decision.priceTicks);
    }
    assert.deepEqual(prices, [649_716, 649_216, 648_716, 648_216, 648_000], 'stops at the market');
  });

  it('with no grace, or placed after it, takes its first step an interval after it was placed', () => {
    const noGrace: IntentPlan = { ...plan, aged: { ...plan.aged!, graceMs: 0 } };
    const placed = evaluateGuards(view({ plan: noGrace, atMs: hour, lastTicks: 648_000 }));
    assert.deepEqual(placed.decisions.map((decision) => decision.kind), ['aged-exit']);
    assert.equal(placed.reviewAtMs, hour + 300_000, 'the first step\'s time, not only the hard limit');
    const stepped = evaluateGuards(view({ plan: noGrace, atMs: hour + 300_000, lastTicks: 648_000, guard: placed.guard }));
    assert.deepEqual(stepped.decisions.map((decision) => decision.kind === 'aged-exit' && decision.priceTicks), [650_216]);
    const late = evaluateGuards(view({ plan, atMs: hour * 2, lastTicks: 648_000 })); // placed after the grace (a restart)
    assert.equal(late.reviewAtMs, hour * 2 + 300_000);
  });

  it('never steps the exit away from the market: a last price past it leaves it where it is', () => {
    const placed = evaluateGuards(view({ plan, atMs: hour, lastTicks: 648_000 }));
    const above = evaluateGuards(view({ plan, atMs: hour * 1.5, lastTicks: 651_000, guard: placed.guard }));
    assert.deepEqual(above.decisions, []);
    assert.equal(above.guard.agedExitTicks, 650_716);
    const short = evaluateGuards(view({ plan, side: 'sell', atMs: hour, lastTicks: 652_000 }));
    const below = evaluateGuards(view({ plan, side: 'sell', atMs: hour * 1.5, lastTicks: 649_000, guard: short.guard }));
    assert.deepEqual(below.decisions, []);
    assert.equal(below.guard.agedExitTicks, short.guard.agedExitTicks);
  });

  it('closes at market at the hard limit', () => {
    const outcome = evaluateGuards(view({ plan, atMs: 3 * hour }));
    assert.equal(outcome.decisions[0]?.kind, 'exit');
    assert.match(outcome.decisions[0]?.kind === 'exit' ? outcome.decisions[0].reason : '', /3h00m old, past the hard limit of 3h00m/);
  });
});

describe('plan resolution', () => {
  const input = { instrument: btc, side: 'buy' as const, referenceTicks: 650_000, sizeLots: 10 };

  it('splits a ladder exact to the lot, the last rung taking the remainder', () => {
    assert.deepEqual(ladderLots(btc, 10, [50, 50]), { ok: true, value: [5, 5] });
    assert.deepEqual(ladderLots(btc, 11, [33.3, 33.3, 33.4]), { ok: true, value: [3, 3, 5] });
    assert.deepEqual(ladderLots(btc, 10, [30, 30]), { ok: true, value: [3, 3] });
  });

  it('re-splits a ladder over what a cut-short entry filled: exact to the lot, no rung below the minimum', () => {
    const rungs = (...lots: number[]): { priceTicks: number; lots: number }[] => lots.map((rungLots, index) => ({ priceTicks: 660_000 + index, lots: rungLots }));
    assert.deepEqual(ladderLotsFilled(10, 10, rungs(5, 5), 1), [5, 5], 'all filled: the plan');
    assert.deepEqual(ladderLotsFilled(3, 10, rungs(5, 5), 1), [1, 2]);
    assert.deepEqual(ladderLotsFilled(7, 11, rungs(3, 3, 5), 2), [0, 2, 5], 'the first (1) gives its lot to the second');
    assert.deepEqual(ladderLotsFilled(5, 10, rungs(3, 3), 1), [1, 1], 'a ladder of 60 % stays 60 %, rounded down');
    assert.deepEqual(ladderLotsFilled(3, 10, rungs(3, 3, 4), 2), [0, 0, 3], 'the rungs before it merged into the last');
    assert.deepEqual(ladderLotsFilled(5, 10, rungs(8, 2), 3), [5, 0], 'a last rung below the minimum goes to the one before');
    assert.deepEqual(ladderLotsFilled(1, 10, rungs(5, 5), 2), [0, 0], 'too little for any rung');
    assert.deepEqual(ladderLotsFilled(2 ** 40, 2 ** 41, rungs(2 ** 40, 2 ** 40), 1), [2 ** 39, 2 ** 39], 'past 2^53 in the product');
  });

  it('a re-split ladder never closes more than filled, closes all of it when the plan did, and keeps every rung placeable', () => {
    const arbitrary = fc.integer({ min: 1, max: 1_000_000 }).chain((plannedLots) => fc.record({
      plannedLots: fc.constant(plannedLots),
      filledLots: fc.integer({ min: 0, max: plannedLots }),
      minLots: fc.integer({ min: 1, max: 50 }),
      shares: fc.array(fc.integer({ min: 1, max: 100 }), { minLength: 1, maxLength: 5 }),
      whole: fc.boolean(),
    }));
    fc.assert(fc.property(arbitrary, ({ plannedLots, filledLots, minLots, shares, whole }) => {
      const total = shares.reduce((sum, share) => sum + share, 0);
      const planned = shares.map((share) => Math.floor((plannedLots * share) / (total * (whole ? 1 : 2))));
      if (whole) planned[planned.length - 1] = plannedLots - planned.slice(0, -1).reduce((sum, lots) => sum + lots, 0);
      const lots = ladderLotsFilled(filledLots, plannedLots, planned.map((rungLots) => ({ priceTicks: 1, lots: rungLots })), minLots);
      const sum = lots.reduce((acc, rungLots) => acc + rungLots, 0);
      assert.ok(sum <= filledLots, `${sum} > ${filledLots}`);
      assert.ok(lots.every((rungLots) => rungLots === 0 || rungLots >= minLots), `a rung below ${minLots}: ${lots.join(',')}`);
      if (whole && filledLots >= minLots) assert.equal(sum, filledLots, 'a ladder of 100 % closes all that filled');
      if (filledLots === plannedLots && planned.every((rungLots) => rungLots >= minLots)) assert.deepEqual(lots, planned);
    }), { numRuns: 2_000 });
  });

  it('refuses a ladder over 100 %, a rung below the minimum, and targets on the wrong side or out of order', () => {
    const cases: [Parameters<typeof resolvePlan>[0]['request'], RegExp][] = [
      [{ ladder: [{ target: { percent: 2 }, sizePercent: 60 }, { target: { percent: 4 }, sizePercent: 50 }] }, /sum to 110%, more than 100%/],
      [{ ladder: [{ target: { percent: 2 }, sizePercent: 5 }] }, /rung 1 would be 0, below the minimum 0.001/],
      [{ ladder: [{ target: { price: '64000' }, sizePercent: 100 }] }, /rung 1 target 64000 must be above the long entry 65000/],
      [{ ladder: [{ target: { percent: 4 }, sizePercent: 50 }, { target: { percent: 2 }, sizePercent: 50 }] }, /rung 2 target .* further from the entry/],
      [{ trailing: { mode: 'bot', activation: null, callback: { percent: -1 }, amendEveryMs: 0 } }, /trailing callback percent must be in \(0, 100\): -1/],
      [{ aged: { maxAgeMs: 10, graceMs: 0, step: { percent: 0.1 }, stepEveryMs: 1, hardLimitMs: 5 } }, /hardLimitMs \(5\) must be above maxAgeMs \(10\)/],
    ];
    for (const [request, reason] of cases) {
      const result = resolvePlan({ ...input, request });
      assert.equal(result.ok, false);
      assert.match(result.ok ? '' : result.reason, reason);
    }
  });

  it('resolves percents from the entry into ticks', () => {
    const result = resolvePlan({ ...input, request: { ladder: [{ target: { percent: 2 }, sizePercent: 50 }, { target: { percent: 4 }, sizePercent: 50 }], trailing: { mode: 'bot', activation: { percent: 1 }, callback: { percent: 0.5 }, amendEveryMs: 500 } } });
    assert.ok(result.ok);
    assert.deepEqual(result.value.ladder, [{ priceTicks: 663_000, lots: 5 }, { priceTicks: 676_000, lots: 5 }]);
    assert.deepEqual(result.value.trailing, { mode: 'bot', activationTicks: 656_500, callback: { kind: 'ppm', ppm: 5_000 }, amendEveryMs: 500, minMove: null });
  });

  it('resolves a trailing stop\'s minimum move, for the bot\'s trailing only', () => {
    const trailing = { mode: 'bot', activation: null, callback: { percent: 0.5 }, amendEveryMs: 500 } as const;
    const byPercent = resolvePlan({ ...input, request: { trailing: { ...trailing, minMove: { percent: 0.1 } } } });
    assert.deepEqual(byPercent.ok ? byPercent.value.trailing?.minMove : null, { kind: 'ppm', ppm: 1_000 });
    const byPrice = resolvePlan({ ...input, request: { trailing: { ...trailing, minMove: { price: '25' } } } });
    assert.deepEqual(byPrice.ok ? byPrice.value.trailing?.minMove : null, { kind: 'ticks', ticks: 250 });
    assert.deepEqual(resolvePlan({ ...input, request: { trailing: { ...trailing, mode: 'venue', minMove: { percent: 0.1 } } } }),
      { ok: false, reason: 'trailing minMove applies to mode bot: the venue moves its own trailing stop' });
    assert.match(JSON.stringify(resolvePlan({ ...input, request: { trailing: { ...trailing, minMove: { price: '25.05' } } } })), /trailing minMove/);
    assert.deepEqual(resolvePlan({ ...input, request: { trailing: { ...trailing, minMove: { price: '325' } } } }),
      { ok: false, reason: 'trailing minMove must be less than the callback distance (at 65000: 325 against 325)' });
  });
});

describe('helpers', () => {
  it('orders stops by tightness per side and formats ages', () => {
    assert.equal(isTighter('buy', 101, 100), true);
    assert.equal(isTighter('sell', 101, 100), false);
    assert.equal(formatAge(4 * 3_600_000 + 5 * 60_000), '4h05m');
    assert.equal(formatAge(750_000), '12m30s');
  });
});
