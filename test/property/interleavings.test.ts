// Property: the same venue facts, delivered in any order and with duplicates, leave the engine in
// the same state. This is guarantee 1 ("no event is lost; duplicates are applied once") stated for
// all interleavings rather than for the ones we thought of.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { stateDigest } from '../../src/core/digest.ts';
import { step } from '../../src/core/engine/step.ts';
import type { Event } from '../../src/core/events.ts';
import type { Side } from '../../src/core/types.ts';
import { acked, engine, fill, openMarket, position, report } from '../support/events.ts';

const entryId = 't-1-e';

type Part = { readonly lots: number; readonly priceTicks: number };

/** Every venue fact about one entry filled in `parts`, as the venue would emit them. */
function entryFacts(parts: readonly Part[], attachedStops: boolean): Event[] {
  const facts: Event[] = [report(entryId, 'v1', 'new', 0, 20), acked(entryId, 'v1', 400)];
  let filled = 0;
  for (const [index, part] of parts.entries()) {
    filled += part.lots;
    const seq = 100 + index;
    const at = 30 + index;
    facts.push(
      fill(entryId, 'v1', `x${index}`, part.lots, part.priceTicks, seq, at),
      report(entryId, 'v1', filled === 10 ? 'filled' : 'partially-filled', filled, at),
      position(filled, seq, at, attachedStops ? 643_500 : null),
    );
  }
  return facts;
}

const partsArbitrary = fc
  .array(fc.integer({ min: 649_000, max: 651_000 }), { minLength: 1, maxLength: 4 })
  .chain((prices) => fc.constant(prices.map((priceTicks, index) => ({ priceTicks, lots: index === prices.length - 1 ? 10 - (prices.length - 1) * 2 : 2 }))));

function permutedWithDuplicates<T>(items: readonly T[]): fc.Arbitrary<T[]> {
  return fc.tuple(
    fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: items.length, maxLength: items.length }),
    fc.array(fc.integer({ min: 0, max: items.length - 1 }), { maxLength: 4 }),
  ).map(([keys, duplicates]) => {
    const withCopies = [...items.map((item, index) => ({ item, key: keys[index] ?? 0 })), ...duplicates.map((index, n) => ({ item: items[index] as T, key: (keys[index] ?? 0) + (n + 1) / 10 }))];
    return withCopies.sort((a, b) => a.key - b.key).map((entry) => entry.item);
  });
}

/**
 * What the venue's facts determine: positions, fills, order statuses and quantities, intent phases.
 * Left out: the sizes of orders we sent, which may depend on what we knew when we sent them (a
 * stop sent on a position report that arrived before the entry's own reports over-covers).
 */
function finalDigest(attachedStops: boolean, facts: readonly Event[]): string {
  const state = engine({ attachedStops });
  step(state, openMarket('r1', 10));
  for (const fact of facts) step(state, fact);
  const digest = JSON.parse(stateDigest(state)) as { orders: unknown[][] };
  digest.orders = digest.orders.map((order) => order.slice(0, 5));
  return JSON.stringify(digest);
}

describe('interleavings of venue facts', () => {
  for (const attachedStops of [true, false]) {
    it(`converge to one state whatever the order and duplicates (${attachedStops ? 'attached' : 'separate'} stop)`, () => {
      fc.assert(
        fc.property(partsArbitrary.chain((parts) => fc.tuple(fc.constant(parts), permutedWithDuplicates(entryFacts(parts, attachedStops)))), ([parts, shuffled]) => {
          assert.equal(finalDigest(attachedStops, shuffled), finalDigest(attachedStops, entryFacts(parts, attachedStops)));
        }),
        { numRuns: 300 },
      );
    });
  }

  it('book reordered fills of both sides exactly as in venue sequence order', () => {
    const fillsArbitrary = fc.array(
      fc.record({ side: fc.constantFrom<Side>('buy', 'sell'), lots: fc.integer({ min: 1, max: 30 }), priceTicks: fc.integer({ min: 600_000, max: 700_000 }) }),
      { minLength: 1, maxLength: 40 },
    );
    fc.assert(
      fc.property(fillsArbitrary.chain((fills) => fc.tuple(fc.constant(fills), permutedWithDuplicates(fills.map((_, index) => index)))), ([fills, order]) => {
        const events = fills.map((f, index) => fill(null, `m${index}`, `mx${index}`, f.lots, f.priceTicks, 10 + index, 50 + index, f.side));
        const inOrder = engine({ externalPositions: 'watch' });
        for (const event of events) step(inOrder, event);
        const shuffled = engine({ externalPositions: 'watch' });
        for (const index of order) step(shuffled, events[index] as Event);
        const a = inOrder.positions.get('main/BTCUSDT');
        const b = shuffled.positions.get('main/BTCUSDT');
        assert.deepEqual([b?.sizeLots, b?.costTicksLots, b?.realizedPnlE8, b?.feesE8], [a?.sizeLots, a?.costTicksLots, a?.realizedPnlE8, a?.feesE8]);
        assert.equal(shuffled.fillIds.size, fills.length);
      }),
      { numRuns: 300 },
    );
  });
});
