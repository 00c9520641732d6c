// The simulated venue's order/amend: a working order amended in place (same ids, same status, new
// fields, one report), each refusal with its code and nothing emitted or changed, a limit amended
// across the book executing at once, and the amend log a test auditor reads.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { accepted, fills, limit, market, only, orders, setup, shape, stop } from './sim-support.ts';

void describe('amending a working order', () => {
  void it('moves a stop-market trigger in place: same ids and status, the update time moves, one report; it fires at the new trigger only', () => {
    const { venue, take } = setup();
    venue.setPrice(1, 'SOLUSDT', 15_000);
    accepted(venue.submitOrder(2, 'long', market('SOLUSDT', 'buy', 10)));
    const stopId = accepted(venue.submitOrder(3, 'sl', stop('SOLUSDT', 'sell', 10, 14_000)));
    take();
    assert.deepEqual(venue.amendOrder(4, { clientOrderId: 'sl' }, { triggerTicks: 14_500 }), { ok: true });
    const report = only(orders(take()));
    assert.deepEqual(
      [report.venueOrderId, report.clientOrderId, report.status, report.triggerTicks, report.sizeLots, report.venueUpdatedMs],
      [stopId, 'sl', 'untriggered', 14_500, 10, 4],
    );
    assert.deepEqual(venue.queryOrder({ venueOrderId: stopId }), report);
    venue.setPrice(5, 'SOLUSDT', 14_600); // above the new trigger: nothing
    assert.deepEqual(shape(take()), ['ticker']);
    venue.setPrice(6, 'SOLUSDT', 14_500); // at the new trigger: fires, closes the position
    const facts = take();
    assert.deepEqual(shape(facts), ['ticker', 'order:new', 'order:filled', 'fill', 'position']);
    assert.equal(only(fills(facts)).venueOrderId, stopId);
    assert.equal(venue.position('SOLUSDT').sizeLots, 0);
  });

  void it('changes a partly filled limit\'s price and total size; the rest then fills at the new price as maker', () => {
    const { venue, take } = setup({ limitPartialChance: 1 });
    venue.setPrice(1, 'SOLUSDT', 15_000);
    const id = accepted(venue.submitOrder(2, 'bid', limit('SOLUSDT', 'buy', 20, 14_900)));
    venue.setPrice(3, 'SOLUSDT', 14_900); // a partial fill on the touch
    const filledLots = venue.queryOrder({ venueOrderId: id })?.filledLots ?? 0;
    assert.ok(filledLots > 0 && filledLots < 20, `partly filled: ${filledLots}`);
    venue.setPrice(4, 'SOLUSDT', 15_000);
    take();
    assert.deepEqual(venue.amendOrder(5, { venueOrderId: id }, { priceTicks: 14_800, sizeLots: 30 }), { ok: true });
    const report = only(orders(take()));
    assert.deepEqual([report.status, report.priceTicks, report.sizeLots, report.filledLots], ['partially-filled', 14_800, 30, filledLots]);
    venue.setPrice(6, 'SOLUSDT', 14_850); // above the new price: no fill
    assert.deepEqual(shape(take()), ['ticker']);
    venue.setPrice(7, 'SOLUSDT', 14_800);
    const touched = fills(take());
    assert.ok(touched.length === 1 && touched[0]?.priceTicks === 14_800 && touched[0].liquidity === 'maker');
  });

  void it('executes a limit amended across the book at once, as a taker at the touch capped by its limit', () => {
    const { venue, take } = setup();
    venue.setPrice(1, 'SOLUSDT', 15_000);
    const id = accepted(venue.submitOrder(2, 'bid', limit('SOLUSDT', 'buy', 10, 14_900)));
    take();
    assert.deepEqual(venue.amendOrder(3, { clientOrderId: 'bid' }, { priceTicks: 15_050 }), { ok: true });
    const facts = take();
    // The amend's own report first (the new price, still new), then the match.
    assert.deepEqual(shape(facts), ['order:new', 'order:filled', 'fill', 'position']);
    const fill = only(fills(facts));
    assert.deepEqual([fill.venueOrderId, fill.clientOrderId, fill.priceTicks, fill.liquidity, fill.lots], [id, 'bid', 15_001, 'taker', 10]);
    assert.equal(venue.position('SOLUSDT').sizeLots, 10);
  });

  void it('cancels a post-only limit amended across the book, as a post-only create would be', () => {
    const { venue, take } = setup();
    venue.setPrice(1, 'SOLUSDT', 15_000);
    accepted(venue.submitOrder(2, 'maker', limit('SOLUSDT', 'sell', 10, 15_100, { postOnly: true })));
    take();
    assert.deepEqual(venue.amendOrder(3, { clientOrderId: 'maker' }, { priceTicks: 14_990 }), { ok: true });
    const facts = take();
    assert.deepEqual(shape(facts), ['order:new', 'order:cancelled']);
    assert.equal(orders(facts)[1]?.reason, 'post-only order would take liquidity');
    assert.deepEqual(venue.fills(), []);
  });

  void it('accepts an amend that changes nothing, and reports the order as it is', () => {
    const { venue, take } = setup();
    venue.setPrice(1, 'SOLUSDT', 15_000);
    const id = accepted(venue.submitOrder(2, 'bid', limit('SOLUSDT', 'buy', 10, 14_900)));
    const before = venue.queryOrder({ venueOrderId: id });
    take();
    assert.deepEqual(venue.amendOrder(3, { venueOrderId: id }, { priceTicks: 14_900, sizeLots: 10 }), { ok: true });
    assert.deepEqual(only(orders(take())), { ...before, venueUpdatedMs: 3 });
  });
});

void describe('amend refusals', () => {
  void it('refuses each bad amend with its code, emits nothing and leaves the order as it was', () => {
    const { venue, take } = setup({ limitPartialChance: 1 });
    venue.setPrice(1, 'SOLUSDT', 15_000);
    accepted(venue.submitOrder(2, 'long', market('SOLUSDT', 'buy', 10)));
    accepted(venue.submitOrder(3, 'sl', stop('SOLUSDT', 'sell', 10, 14_000)));
    const bidId = accepted(venue.submitOrder(4, 'bid', limit('SOLUSDT', 'buy', 20, 14_950, { stopLoss: { triggerTicks: 14_500, triggerBy: 'last' } })));
    venue.setPrice(5, 'SOLUSDT', 14_950); // the bid fills in part
    const filledLots = venue.queryOrder({ venueOrderId: bidId })?.filledLots ?? 0;
    assert.ok(filledLots > 0 && filledLots < 20);
    venue.setPrice(6, 'SOLUSDT', 15_000);
    const before = venue.openOrders();
    take();
    const cases = [
      ['nobody', { triggerTicks: 14_100 }, 'not-found', /not exists or too late to amend/],
      ['long', { sizeLots: 20 }, 'not-found', /too late/], // filled: no longer working
      ['bid', { triggerTicks: 14_100 }, 'invalid', /only a conditional order has a trigger/],
      ['sl', { priceTicks: 14_100 }, 'invalid', /only a limit order has a price/],
      ['sl', { triggerTicks: 15_000 }, 'trigger-crossed', /expect Falling, but trigger 15000 vs current 15000/],
      ['sl', { triggerTicks: 0 }, 'invalid', /trigger must be positive/],
      ['bid', { sizeLots: filledLots }, 'invalid', /must be above the \d+ lots already filled/],
      ['sl', { sizeLots: 0 }, 'invalid', /size must be a positive whole number/],
      ['bid', { sizeLots: 797_701 }, 'invalid', /above the maximum 797700/],
      ['bid', { priceTicks: 14_400 }, 'invalid', /stop-loss 14500 is on the wrong side for a buy/],
    ] as const;
    for (const [clientOrderId, amendment, code, reason] of cases) {
      const result = venue.amendOrder(7, { clientOrderId }, amendment);
      assert.ok(!result.ok, `${clientOrderId} ${JSON.stringify(amendment)} was accepted`);
      assert.equal(result.code, code, `${clientOrderId} ${JSON.stringify(amendment)}: ${result.reason}`);
      assert.match(result.reason, reason);
    }
    assert.deepEqual(take(), [], 'a refused amend emits nothing');
    assert.deepEqual(venue.openOrders(), before, 'and changes nothing');
  });

  void it('refuses a size below the instrument minimum', () => {
    const { venue } = setup();
    venue.setPrice(1, 'BTCUSDT', 600_000);
    accepted(venue.submitOrder(2, 'bid', limit('BTCUSDT', 'buy', 10, 590_000)));
    const result = venue.amendOrder(3, { clientOrderId: 'bid' }, { sizeLots: 4 });
    assert.ok(!result.ok && result.code === 'invalid' && /below the minimum 5/.test(result.reason), JSON.stringify(result));
  });
});

void describe('the amend log', () => {
  void it('keeps every amend with the order before and as asked, and its result, applied or not', () => {
    const { venue } = setup();
    venue.setPrice(1, 'SOLUSDT', 15_000);
    const id = accepted(venue.submitOrder(2, 'bid', limit('SOLUSDT', 'buy', 10, 14_900)));
    venue.amendOrder(3, { clientOrderId: 'bid' }, { priceTicks: 14_800 });
    venue.amendOrder(4, { venueOrderId: id }, { triggerTicks: 1 });
    venue.amendOrder(5, { clientOrderId: 'ghost' }, { sizeLots: 2 });
    const bid = limit('SOLUSDT', 'buy', 10, 14_900);
    const moved = limit('SOLUSDT', 'buy', 10, 14_800);
    assert.deepEqual(venue.amendments(), [
      { atMs: 3, clientOrderId: 'bid', venueOrderId: id, before: bid, after: moved, result: { ok: true } },
      {
        atMs: 4, clientOrderId: 'bid', venueOrderId: id, before: moved, after: moved,
        result: { ok: false, code: 'invalid', reason: 'only a conditional order has a trigger to amend; this is a limit order' },
      },
      { atMs: 5, clientOrderId: 'ghost', venueOrderId: null, before: null, after: null, result: { ok: false, code: 'not-found', reason: 'order not exists or too late to amend' } },
    ]);
    // What the log says was applied is what the venue holds.
    assert.equal(venue.queryOrder({ venueOrderId: id })?.priceTicks, 14_800);
  });
});
