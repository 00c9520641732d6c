// The simulated venue's trailing stop (Bybit trading-stop trailingStop / activePrice): it waits for
// its activation price, then holds the position's stop-loss at the best last price less the
// distance, only ever tightening, with one position report per move; when the price comes back to
// it the venue closes the position at market as a trailing-stop execution; flat clears it.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SimVenue } from '../../src/venues/sim/venue.ts';
import { accepted, fills, market, only, orders, positions, setup, shape } from './sim-support.ts';

/** A long of 10 SOL at 150.01 (taker at last + spread), the last price then 150.00. */
function long(venue: SimVenue): void {
  venue.setPrice(1, 'SOLUSDT', 15_000);
  accepted(venue.submitOrder(2, 'long', market('SOLUSDT', 'buy', 10)));
}

/** The stop-loss each position report carried. */
function stopLosses(venue: SimVenue, take: () => ReturnType<ReturnType<typeof setup>['take']>, prices: readonly number[], fromMs: number): (number | null)[] {
  return prices.flatMap((lastTicks, index) => {
    venue.setPrice(fromMs + index, 'SOLUSDT', lastTicks);
    return positions(take()).map((report) => report.stopLossTicks);
  });
}

void describe('a trailing stop on a long', () => {
  void it('waits for its activation price, then ratchets the stop-loss up with the best last price, never down', () => {
    const { venue, take } = setup();
    long(venue);
    take();
    assert.deepEqual(venue.setPositionProtection(3, 'SOLUSDT', { trailing: { distanceTicks: 100, activationTicks: 15_200 } }), { ok: true });
    // Not active yet: the report of the trading-stop itself shows no stop-loss.
    assert.deepEqual(positions(take()).map((report) => report.stopLossTicks), [null]);
    assert.deepEqual(venue.trailing('SOLUSDT'), { distanceTicks: 100, activationTicks: 15_200, bestTicks: null });
    // 151.00 and 151.99: below the activation; 152.00 activates (level 151.00); 153.00 moves it to
    // 152.00; back to 152.50 and 152.80 moves nothing; 153.40 moves it to 152.40.
    const moves = stopLosses(venue, take, [15_100, 15_199, 15_200, 15_300, 15_250, 15_280, 15_340], 10);
    assert.deepEqual(moves, [15_100, 15_200, 15_240]);
    assert.equal(venue.position('SOLUSDT').stopLossTicks, 15_240);
    assert.deepEqual(venue.trailing('SOLUSDT'), { distanceTicks: 100, activationTicks: 15_200, bestTicks: 15_340 });
    assert.ok(venue.isProtected('SOLUSDT'));
  });

  void it('each move is one position report with the current seq and a later update time', () => {
    const { venue, take } = setup();
    long(venue);
    venue.setPositionProtection(3, 'SOLUSDT', { trailing: { distanceTicks: 50, activationTicks: null } });
    take();
    venue.setPrice(20, 'SOLUSDT', 15_100);
    const facts = take();
    assert.deepEqual(shape(facts), ['ticker', 'position']);
    const report = only(positions(facts));
    assert.deepEqual([report.stopLossTicks, report.seq, report.venueUpdatedMs, report.sizeLots], [15_050, 1, 20, 10]);
  });

  void it('closes the position at market as a trailing-stop execution when the last price comes back to the level, then clears it', () => {
    const { venue, take } = setup();
    long(venue);
    venue.setPositionProtection(3, 'SOLUSDT', { trailing: { distanceTicks: 100, activationTicks: null } }); // active at once at 150.00: level 149.00
    venue.setPrice(4, 'SOLUSDT', 15_300); // level 152.00
    take();
    venue.setPrice(5, 'SOLUSDT', 15_201);
    assert.deepEqual(shape(take()), ['ticker']);
    venue.setPrice(6, 'SOLUSDT', 15_190);
    const facts = take();
    assert.deepEqual(shape(facts), ['ticker', 'order:new', 'order:filled', 'fill', 'position']);
    const [fired] = orders(facts);
    assert.deepEqual([fired?.positionTrigger, fired?.clientOrderId, fired?.orderKind, fired?.reduceOnly, fired?.side], ['trailing-stop', null, 'market', true, 'sell']);
    const fill = only(fills(facts));
    assert.deepEqual([fill.positionTrigger, fill.lots, fill.priceTicks, fill.liquidity], ['trailing-stop', 10, 15_189, 'taker']);
    assert.deepEqual([venue.position('SOLUSDT').sizeLots, venue.position('SOLUSDT').stopLossTicks, venue.trailing('SOLUSDT')], [0, null, null]);
    // Cleared for good: the next position does not inherit it.
    accepted(venue.submitOrder(7, 'again', market('SOLUSDT', 'buy', 10)));
    venue.setPrice(8, 'SOLUSDT', 16_000);
    assert.deepEqual([venue.position('SOLUSDT').stopLossTicks, venue.trailing('SOLUSDT')], [null, null]);
  });

  void it('keeps a tighter stop-loss set by hand (a plain stop-loss execution), and re-tightens a looser one at once', () => {
    const { venue, take } = setup();
    long(venue);
    venue.setPositionProtection(3, 'SOLUSDT', { trailing: { distanceTicks: 200, activationTicks: null } }); // level 148.00
    venue.setPositionProtection(4, 'SOLUSDT', { stopLoss: { triggerTicks: 14_950, triggerBy: 'mark' } }); // tighter
    take();
    venue.setPrice(5, 'SOLUSDT', 15_100); // level 149.00: still looser than 149.50, no report
    assert.deepEqual(shape(take()), ['ticker']);
    assert.deepEqual(venue.setPositionProtection(6, 'SOLUSDT', { stopLoss: { triggerTicks: 14_000, triggerBy: 'last' } }), { ok: true });
    assert.equal(venue.position('SOLUSDT').stopLossTicks, 14_900, 'a looser stop-loss is held at the trailing level');
    assert.deepEqual(venue.setPositionProtection(7, 'SOLUSDT', { stopLoss: { triggerTicks: 15_000, triggerBy: 'mark' } }), { ok: true });
    take();
    venue.setPrice(8, 'SOLUSDT', 15_000, 14_990); // the mark reaches the hand-set stop
    const fired = orders(take())[0];
    assert.equal(fired?.positionTrigger, 'stop-loss');
  });

  void it('clearing the trailing leaves the stop-loss where it moved to', () => {
    const { venue } = setup();
    long(venue);
    venue.setPositionProtection(3, 'SOLUSDT', { trailing: { distanceTicks: 100, activationTicks: null } });
    venue.setPrice(4, 'SOLUSDT', 15_500);
    assert.deepEqual(venue.setPositionProtection(5, 'SOLUSDT', { trailing: null }), { ok: true });
    venue.setPrice(6, 'SOLUSDT', 16_000);
    assert.deepEqual([venue.position('SOLUSDT').stopLossTicks, venue.trailing('SOLUSDT')], [15_400, null]);
  });
});

void describe('a trailing stop on a short', () => {
  void it('follows the lowest last price from above and closes with a buy', () => {
    const { venue, take } = setup();
    venue.setPrice(1, 'SOLUSDT', 15_000);
    accepted(venue.submitOrder(2, 'short', market('SOLUSDT', 'sell', 10)));
    venue.setPositionProtection(3, 'SOLUSDT', { trailing: { distanceTicks: 100, activationTicks: 14_900 } });
    take();
    const moves = stopLosses(venue, take, [15_100, 14_900, 14_700, 14_750, 14_650], 10);
    assert.deepEqual(moves, [15_000, 14_800, 14_750]);
    venue.setPrice(20, 'SOLUSDT', 14_750);
    const facts = take();
    const fired = orders(facts)[0];
    assert.deepEqual([fired?.positionTrigger, fired?.side], ['trailing-stop', 'buy']);
    assert.equal(venue.position('SOLUSDT').sizeLots, 0);
  });
});

void describe('trailing stop refusals', () => {
  void it('is refused on a flat position, with a bad distance or a bad activation, and changes nothing', () => {
    const { venue, take } = setup();
    venue.setPrice(1, 'SOLUSDT', 15_000);
    const flat = venue.setPositionProtection(2, 'SOLUSDT', { trailing: { distanceTicks: 100, activationTicks: null } });
    assert.deepEqual(flat, { ok: false, code: 'invalid', reason: 'can not set tp/sl for zero position' });
    accepted(venue.submitOrder(3, 'long', market('SOLUSDT', 'buy', 10)));
    take();
    for (const trailing of [{ distanceTicks: 0, activationTicks: null }, { distanceTicks: 1.5, activationTicks: null }, { distanceTicks: 100, activationTicks: -1 }]) {
      const result = venue.setPositionProtection(4, 'SOLUSDT', { trailing });
      assert.ok(!result.ok && result.code === 'invalid' && /trailing stop/.test(result.reason), JSON.stringify(result));
    }
    assert.deepEqual(take(), []);
    assert.equal(venue.trailing('SOLUSDT'), null);
  });
});
