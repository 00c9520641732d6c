// The simulated venue, rule by rule: prices, fees, sequences, order lifecycles, reduce-only,
// attached and position-level protection, validation, cancels, ground truth and determinism.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Fill, OrderReport, PositionReport } from '../../src/core/events.ts';
import type { VenueOrderId } from '../../src/core/ids.ts';
import type { Instrument, InstrumentSpec } from '../../src/core/instrument.ts';
import { defineInstrument } from '../../src/core/instrument.ts';
import type { OrderSpec, Side, Trigger, TriggerBy } from '../../src/core/types.ts';
import { Rng } from '../../src/sim/rng.ts';
import type { SimVenueConfig, SubmitResult, VenueFact } from '../../src/venues/sim/venue.ts';
import { SimVenue } from '../../src/venues/sim/venue.ts';

function instrument(spec: InstrumentSpec): Instrument {
  const parsed = defineInstrument(spec);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.value;
}

const btc = instrument({ symbol: 'BTCUSDT', tickSize: '0.10', lotSize: '0.001', minQty: '0.001', maxQty: '1190', maxMarketQty: '500', minNotional: '5' });
const sol = instrument({ symbol: 'SOLUSDT', tickSize: '0.010', lotSize: '0.1', minQty: '0.1', maxQty: '79770', maxMarketQty: '39885', minNotional: '5' });
const doge = instrument({ symbol: 'DOGEUSDT', tickSize: '0.00001', lotSize: '1', minQty: '1', maxQty: '92500000', maxMarketQty: '46250000', minNotional: '5' });

type Overrides = Partial<Omit<SimVenueConfig, 'rng' | 'instruments'>> & { readonly seed?: number };

function setup(overrides: Overrides = {}): { venue: SimVenue; facts: VenueFact[]; take: () => VenueFact[] } {
  const { seed = 7, ...rest } = overrides;
  const facts: VenueFact[] = [];
  const config: SimVenueConfig = {
    instruments: [btc, sol, doge], makerFeeRateE8: 20_000, takerFeeRateE8: 55_000, spreadTicks: 1,
    partialFillChance: 0, fillPartsMax: 1, limitPartialChance: 0, ...rest, rng: new Rng(seed),
  };
  const venue = new SimVenue(config, (fact) => { facts.push(fact); });
  return { venue, facts, take: () => facts.splice(0) };
}

type Extra = { readonly reduceOnly?: boolean; readonly stopLoss?: Trigger; readonly takeProfit?: Trigger };

function market(symbol: string, side: Side, sizeLots: number, extra: Extra = {}): OrderSpec {
  return { symbol, side, sizeLots, reduceOnly: extra.reduceOnly ?? false, type: { kind: 'market' }, ...protection(extra) };
}

function limit(symbol: string, side: Side, sizeLots: number, priceTicks: number, extra: Extra & { readonly postOnly?: boolean } = {}): OrderSpec {
  return { symbol, side, sizeLots, reduceOnly: extra.reduceOnly ?? false, type: { kind: 'limit', priceTicks, postOnly: extra.postOnly ?? false }, ...protection(extra) };
}

function stop(symbol: string, side: Side, sizeLots: number, triggerTicks: number, triggerBy: TriggerBy, reduceOnly = true): OrderSpec {
  return { symbol, side, sizeLots, reduceOnly, type: { kind: 'stop-market', triggerTicks, triggerBy } };
}

function protection(extra: Extra): Pick<OrderSpec, 'stopLoss' | 'takeProfit'> {
  return { ...(extra.stopLoss === undefined ? {} : { stopLoss: extra.stopLoss }), ...(extra.takeProfit === undefined ? {} : { takeProfit: extra.takeProfit }) };
}

function accepted(result: SubmitResult): VenueOrderId {
  if (!result.ok) throw new Error(`rejected: ${result.code} ${result.reason}`);
  return result.venueOrderId;
}

/** The facts' kinds in order, without the wallet push that follows every match (tested on its own). */
function shape(facts: readonly VenueFact[]): string[] {
  return facts.filter((fact) => fact.kind !== 'wallet').map((fact) => (fact.kind === 'order' ? `order:${fact.report.status}` : fact.kind));
}

function orders(facts: readonly VenueFact[]): OrderReport[] {
  return facts.flatMap((fact) => (fact.kind === 'order' ? [fact.report] : []));
}

function fills(facts: readonly VenueFact[]): Fill[] {
  return facts.flatMap((fact) => (fact.kind === 'fill' ? [fact.fill] : []));
}

function positions(facts: readonly VenueFact[]): PositionReport[] {
  return facts.flatMap((fact) => (fact.kind === 'position' ? [fact.report] : []));
}

function only<T>(items: readonly T[]): T {
  assert.equal(items.length, 1, `expected exactly one item, got ${items.length}`);
  return items[0]!;
}

void describe('market orders', () => {
  void it('a buy fills at last + spread as taker, with the fee exact to the E8 unit (half-even)', () => {
    const { venue, take } = setup();
    venue.setPrice(1_000, 'BTCUSDT', 600_000);
    take();
    const id = accepted(venue.submitOrder(2_000, 'c1', market('BTCUSDT', 'buy', 5)));
    const facts = take();
    assert.deepEqual(shape(facts), ['order:filled', 'fill', 'position']);
    const fill = only(fills(facts));
    // 0.005 BTC x 60000.1 = 300.0005 USDT; x 0.055% = 0.1650002750 -> 16_500_027.5 E8 -> 16_500_028 (to even).
    assert.deepEqual(fill, {
      symbol: 'BTCUSDT', executionId: 'x1', venueOrderId: id, clientOrderId: 'c1', side: 'buy', priceTicks: 600_001,
      lots: 5, feeE8: 16_500_028, liquidity: 'taker', venueMs: 2_000, seq: 1, positionTrigger: null,
    });
    assert.equal(id, 'o1');
    const report = only(orders(facts));
    assert.equal(report.filledLots, 5);
    assert.equal(report.venueUpdatedMs, 2_000);
    assert.deepEqual(only(positions(facts)), {
      symbol: 'BTCUSDT', sizeLots: 5, entryPrice: '60000.1', stopLossTicks: null, takeProfitTicks: null, trailingTicks: null, seq: 1, venueUpdatedMs: 2_000,
    });
    assert.deepEqual(venue.position('BTCUSDT'), {
      symbol: 'BTCUSDT', sizeLots: 5, costTicksLots: 3_000_005, realizedPnlE8: 0, feesE8: 16_500_028,
      stopLossTicks: null, takeProfitTicks: null, seq: 1, updatedMs: 2_000, openedMs: 2_000,
    });
    assert.deepEqual(venue.fills(), [fill]);
  });

  void it('a sell fills at last - spread, never below one tick', () => {
    const { venue, take } = setup({ spreadTicks: 5 });
    venue.setPrice(0, 'SOLUSDT', 15_000);
    venue.setPrice(0, 'DOGEUSDT', 3);
    take();
    accepted(venue.submitOrder(1, null, market('SOLUSDT', 'sell', 10)));
    accepted(venue.submitOrder(2, null, market('DOGEUSDT', 'sell', 300_000)));
    assert.deepEqual(fills(take()).map((fill) => [fill.symbol, fill.priceTicks, fill.clientOrderId]), [['SOLUSDT', 14_995, null], ['DOGEUSDT', 1, null]]);
  });

  void it('a split match shares one seq and one price, and its parts add up to the order', () => {
    const { venue, take } = setup({ partialFillChance: 1, fillPartsMax: 4 });
    venue.setPrice(0, 'BTCUSDT', 600_000);
    accepted(venue.submitOrder(1, 'a', market('BTCUSDT', 'buy', 10)));
    accepted(venue.submitOrder(2, 'b', market('BTCUSDT', 'buy', 10)));
    take();
    venue.setPrice(3, 'BTCUSDT', 600_000);
    const id = accepted(venue.submitOrder(4, 'c', market('BTCUSDT', 'buy', 10)));
    const facts = take().slice(1);
    const parts = fills(facts);
    assert.ok(parts.length >= 2 && parts.length <= 4, `parts: ${parts.length}`);
    assert.deepEqual(shape(facts), ['order:filled', ...parts.map(() => 'fill'), 'position']);
    assert.equal(parts.reduce((sum, fill) => sum + fill.lots, 0), 10);
    assert.ok(parts.every((fill) => fill.seq === 3 && fill.priceTicks === 600_001 && fill.venueOrderId === id));
    assert.equal(new Set(parts.map((fill) => fill.executionId)).size, parts.length);
    assert.equal(only(positions(facts)).seq, 3);
    assert.equal(venue.position('BTCUSDT').sizeLots, 30);
  });

  void it('is refused without a price, above the market maximum, below the minimum or off the lot grid', () => {
    const { venue, facts } = setup();
    assert.deepEqual(venue.submitOrder(0, 'a', market('BTCUSDT', 'buy', 1)), { ok: false, code: 'invalid', reason: 'no price yet for BTCUSDT' });
    venue.setPrice(0, 'BTCUSDT', 600_000);
    facts.length = 0;
    for (const [spec, why] of [
      [market('BTCUSDT', 'buy', 500_001), 'above max market'],
      [market('BTCUSDT', 'buy', 0), 'zero'],
      [market('BTCUSDT', 'buy', 1.5), 'fraction'],
      [market('ETHUSDT', 'buy', 1), 'unknown symbol'],
      [limit('BTCUSDT', 'buy', 1, 0), 'zero price'],
      [limit('DOGEUSDT', 'buy', 10, 10_000), 'below min notional (10 DOGE at 0.1)'],
    ] as const) {
      const result = venue.submitOrder(1, null, spec);
      assert.equal(result.ok ? 'ok' : result.code, 'invalid', why);
    }
    // A limit may be larger than the market maximum.
    accepted(venue.submitOrder(2, null, limit('BTCUSDT', 'buy', 600_000, 500_000)));
    assert.deepEqual(shape(facts), ['order:new']);
    assert.equal(venue.submissions().length, 8);
  });
});

void describe('limit orders', () => {
  void it('rests as new, then fills as maker at its own price when the last price reaches it', () => {
    const { venue, take } = setup();
    venue.setPrice(0, 'BTCUSDT', 600_000);
    take();
    const id = accepted(venue.submitOrder(1, 'l1', limit('BTCUSDT', 'buy', 10, 599_000)));
    assert.deepEqual(shape(take()), ['order:new']);
    venue.setPrice(2, 'BTCUSDT', 599_001);
    assert.deepEqual(shape(take()), ['ticker']);
    venue.setPrice(3, 'BTCUSDT', 598_500);
    const facts = take();
    assert.deepEqual(shape(facts), ['ticker', 'order:filled', 'fill', 'position']);
    const fill = only(fills(facts));
    // 0.01 BTC x 59900 = 599 USDT; x 0.02% = 0.1198 USDT.
    assert.deepEqual([fill.priceTicks, fill.liquidity, fill.feeE8, fill.venueOrderId], [599_000, 'maker', 11_980_000, id]);
    assert.deepEqual(venue.openOrders(), []);
  });

  void it('crossing the book at submit fills at once as taker at the touch, capped by the limit', () => {
    const { venue, take } = setup({ spreadTicks: 2 });
    venue.setPrice(0, 'SOLUSDT', 15_000);
    take();
    accepted(venue.submitOrder(1, 'b', limit('SOLUSDT', 'buy', 10, 15_100)));
    accepted(venue.submitOrder(2, 's', limit('SOLUSDT', 'sell', 10, 14_998)));
    const facts = take();
    assert.deepEqual(shape(facts), ['order:filled', 'fill', 'position', 'order:filled', 'fill', 'position']);
    assert.deepEqual(fills(facts).map((fill) => [fill.priceTicks, fill.liquidity]), [[15_002, 'taker'], [14_998, 'taker']]);
    // One tick less would not have crossed: it rests.
    accepted(venue.submitOrder(3, 'r', limit('SOLUSDT', 'buy', 10, 15_001)));
    assert.deepEqual(shape(take()), ['order:new']);
  });

  void it('post-only that would take liquidity is accepted, then cancelled', () => {
    const { venue, take } = setup();
    venue.setPrice(0, 'SOLUSDT', 15_000);
    take();
    const result = venue.submitOrder(1, 'p', limit('SOLUSDT', 'buy', 10, 15_050, { postOnly: true }));
    assert.equal(result.ok, true);
    const report = only(orders(take()));
    assert.equal(report.status, 'cancelled');
    assert.match(report.reason ?? '', /post-only/);
    assert.equal(venue.position('SOLUSDT').sizeLots, 0);
  });

  void it('fills only partly on a touch with limitPartialChance, the rest on later touches', () => {
    const { venue, take } = setup({ limitPartialChance: 1 });
    venue.setPrice(0, 'SOLUSDT', 15_000);
    const id = accepted(venue.submitOrder(1, 'l', limit('SOLUSDT', 'sell', 20, 15_100)));
    take();
    venue.setPrice(2, 'SOLUSDT', 15_100);
    const first = take();
    assert.deepEqual(shape(first), ['ticker', 'order:partially-filled', 'fill', 'position']);
    const firstLots = only(fills(first)).lots;
    assert.ok(firstLots >= 1 && firstLots < 20);
    assert.deepEqual(venue.openOrders().map((report) => [report.venueOrderId, report.filledLots]), [[id, firstLots]]);
    let touches = 1;
    while (venue.queryOrder({ venueOrderId: id })?.status !== 'filled') {
      assert.ok(touches <= 20, 'each touch fills at least one lot');
      venue.setPrice(3 + touches, 'SOLUSDT', 15_200);
      touches += 1;
    }
    assert.equal(venue.position('SOLUSDT').sizeLots, -20);
    assert.ok(venue.fills().every((fill) => fill.priceTicks === 15_100 && fill.liquidity === 'maker'));
    assert.deepEqual(venue.fills().map((fill) => fill.seq), venue.fills().map((_, index) => index + 1));
  });
});

void describe('stop-market orders', () => {
  void it('triggers by mark when set to mark, ignoring the last price, then executes as taker', () => {
    const { venue, take } = setup();
    venue.setPrice(0, 'BTCUSDT', 600_000);
    accepted(venue.submitOrder(1, 'e', market('BTCUSDT', 'buy', 10)));
    const id = accepted(venue.submitOrder(2, 'sl', stop('BTCUSDT', 'sell', 10, 590_000, 'mark')));
    assert.equal(only(orders(take().slice(-1))).status, 'untriggered');
    venue.setPrice(3, 'BTCUSDT', 589_000, 590_500);
    assert.deepEqual(shape(take()), ['ticker']);
    venue.setPrice(4, 'BTCUSDT', 590_400, 590_000);
    const facts = take();
    assert.deepEqual(shape(facts), ['ticker', 'order:new', 'order:filled', 'fill', 'position']);
    assert.equal(only(fills(facts)).priceTicks, 590_399);
    assert.equal(only(fills(facts)).venueOrderId, id);
    assert.equal(venue.position('BTCUSDT').sizeLots, 0);
  });

  void it('triggers by last when set to last, ignoring the mark price', () => {
    const { venue, take } = setup();
    venue.setPrice(0, 'BTCUSDT', 600_000);
    accepted(venue.submitOrder(1, 'e', market('BTCUSDT', 'sell', 10)));
    accepted(venue.submitOrder(2, 'sl', stop('BTCUSDT', 'buy', 10, 610_000, 'last')));
    take();
    venue.setPrice(3, 'BTCUSDT', 609_999, 615_000);
    assert.deepEqual(shape(take()), ['ticker']);
    venue.setPrice(4, 'BTCUSDT', 612_000, 605_000);
    const facts = take();
    assert.equal(only(fills(facts)).priceTicks, 612_001);
    assert.equal(venue.position('BTCUSDT').sizeLots, 0);
  });

  void it('is refused when its trigger is already crossed, and emits nothing', () => {
    const { venue, take } = setup();
    venue.setPrice(0, 'BTCUSDT', 600_000, 601_000);
    accepted(venue.submitOrder(1, 'e', market('BTCUSDT', 'buy', 10)));
    take();
    const sellAtMark = venue.submitOrder(2, 'a', stop('BTCUSDT', 'sell', 10, 601_000, 'mark'));
    const buyAtLast = venue.submitOrder(3, 'b', stop('BTCUSDT', 'buy', 10, 600_000, 'last', false));
    assert.equal(sellAtMark.ok ? 'ok' : sellAtMark.code, 'trigger-crossed');
    assert.equal(buyAtLast.ok ? 'ok' : buyAtLast.code, 'trigger-crossed');
    // Just inside is fine: below the mark for the sell stop.
    accepted(venue.submitOrder(4, 'c', stop('BTCUSDT', 'sell', 10, 600_999, 'mark')));
    assert.deepEqual(shape(take()), ['order:untriggered']);
  });

  void it('an entry stop (not reduce-only) opens a position when the price rises to it', () => {
    const { venue, take } = setup();
    venue.setPrice(0, 'SOLUSDT', 15_000);
    accepted(venue.submitOrder(1, 'breakout', stop('SOLUSDT', 'buy', 10, 15_500, 'last', false)));
    take();
    venue.setPrice(2, 'SOLUSDT', 15_600);
    assert.equal(only(fills(take())).priceTicks, 15_601);
    assert.equal(venue.position('SOLUSDT').sizeLots, 10);
  });
});

void describe('reduce-only', () => {
  void it('is refused when flat or on the same side as the position', () => {
    const { venue } = setup();
    venue.setPrice(0, 'SOLUSDT', 15_000);
    const flat = venue.submitOrder(1, 'a', market('SOLUSDT', 'sell', 10, { reduceOnly: true }));
    assert.equal(flat.ok ? 'ok' : flat.code, 'reduce-only');
    accepted(venue.submitOrder(2, 'e', market('SOLUSDT', 'buy', 10)));
    const sameSide = venue.submitOrder(3, 'b', limit('SOLUSDT', 'buy', 10, 14_000, { reduceOnly: true }));
    assert.equal(sameSide.ok ? 'ok' : sameSide.code, 'reduce-only');
  });

  void it('is spared the minimum notional, so a small remainder can always be closed', () => {
    const { venue } = setup();
    venue.setPrice(0, 'DOGEUSDT', 10_000);
    accepted(venue.submitOrder(1, 'e', market('DOGEUSDT', 'buy', 100)));
    const small = venue.submitOrder(2, 'small', limit('DOGEUSDT', 'buy', 10, 9_000));
    assert.equal(small.ok ? 'ok' : small.code, 'invalid', '10 DOGE at 0.09 is below 5 USDT');
    accepted(venue.submitOrder(3, 'x', limit('DOGEUSDT', 'sell', 10, 11_000, { reduceOnly: true })));
  });

  void it('is capped to the position at execution (the order is truncated, then filled)', () => {
    const { venue, take } = setup();
    venue.setPrice(0, 'SOLUSDT', 15_000);
    accepted(venue.submitOrder(1, 'e', market('SOLUSDT', 'buy', 5)));
    take();
    accepted(venue.submitOrder(2, 'x', market('SOLUSDT', 'sell', 8, { reduceOnly: true })));
    const facts = take();
    const report = only(orders(facts));
    assert.deepEqual([report.status, report.sizeLots, report.filledLots], ['filled', 5, 5]);
    assert.equal(only(fills(facts)).lots, 5);
    assert.equal(venue.position('SOLUSDT').sizeLots, 0);
  });

  void it('a reduce-only stop larger than what is left closes only what is left', () => {
    const { venue, take } = setup();
    venue.setPrice(0, 'SOLUSDT', 15_000);
    accepted(venue.submitOrder(1, 'e', market('SOLUSDT', 'buy', 10)));
    accepted(venue.submitOrder(2, 'sl', stop('SOLUSDT', 'sell', 10, 14_500, 'last')));
    accepted(venue.submitOrder(3, 'part', market('SOLUSDT', 'sell', 4)));
    take();
    venue.setPrice(4, 'SOLUSDT', 14_400);
    const facts = take();
    assert.deepEqual(orders(facts).map((report) => [report.status, report.sizeLots, report.filledLots]), [['new', 10, 0], ['filled', 6, 6]]);
    assert.equal(venue.position('SOLUSDT').sizeLots, 0);
  });

  void it('working reduce-only orders are cancelled by the venue when the position goes flat', () => {
    const { venue, take } = setup();
    venue.setPrice(0, 'SOLUSDT', 15_000);
    accepted(venue.submitOrder(1, 'e', market('SOLUSDT', 'buy', 10)));
    const stopId = accepted(venue.submitOrder(2, 'sl', stop('SOLUSDT', 'sell', 10, 14_500, 'last')));
    const tpId = accepted(venue.submitOrder(3, 'tp', limit('SOLUSDT', 'sell', 10, 16_000, { reduceOnly: true })));
    const entryId = accepted(venue.submitOrder(4, 'other', limit('SOLUSDT', 'buy', 10, 14_000)));
    take();
    accepted(venue.submitOrder(5, 'close', market('SOLUSDT', 'sell', 10)));
    const facts = take();
    assert.deepEqual(shape(facts), ['order:filled', 'fill', 'position', 'order:cancelled', 'order:cancelled']);
    assert.deepEqual(orders(facts).slice(1).map((report) => report.venueOrderId), [stopId, tpId]);
    assert.ok(orders(facts).slice(1).every((report) => report.reason?.includes('position closed') === true && report.venueUpdatedMs === 5));
    assert.deepEqual(venue.openOrders().map((report) => report.venueOrderId), [entryId]);
  });
  void it('a flip also cancels the reduce-only orders of the old side', () => {
    const { venue, take } = setup();
    venue.setPrice(0, 'SOLUSDT', 15_000);
    accepted(venue.submitOrder(1, 'e', market('SOLUSDT', 'buy', 10)));
    accepted(venue.submitOrder(2, 'tp', limit('SOLUSDT', 'sell', 10, 16_000, { reduceOnly: true })));
    accepted(venue.submitOrder(3, 'sl', stop('SOLUSDT', 'sell', 10, 14_000, 'last')));
    take();
    accepted(venue.submitOrder(4, 'flip', market('SOLUSDT', 'sell', 15)));
    assert.deepEqual(shape(take()), ['order:filled', 'fill', 'position', 'order:cancelled', 'order:cancelled']);
    assert.equal(venue.position('SOLUSDT').sizeLots, -5);
    assert.deepEqual(venue.openOrders(), []);
  });
});

void describe('attached and position-level protection', () => {
  void it('arms the stop-loss in the position report of the first fill, then closes with a venue order', () => {
    const { venue, take } = setup();
    venue.setPrice(0, 'BTCUSDT', 600_000);
    take();
    accepted(venue.submitOrder(1, 'e', market('BTCUSDT', 'buy', 10, {
      stopLoss: { triggerTicks: 590_000, triggerBy: 'last' }, takeProfit: { triggerTicks: 620_000, triggerBy: 'last' },
    })));
    const entry = only(positions(take()));
    assert.deepEqual([entry.stopLossTicks, entry.takeProfitTicks, entry.seq], [590_000, 620_000, 1]);
    assert.equal(venue.isProtected('BTCUSDT'), true);
    venue.setPrice(2, 'BTCUSDT', 590_001);
    assert.deepEqual(shape(take()), ['ticker']);
    venue.setPrice(3, 'BTCUSDT', 589_990);
    const facts = take();
    assert.deepEqual(shape(facts), ['ticker', 'order:new', 'order:filled', 'fill', 'position']);
    const [fired, done] = orders(facts);
    assert.deepEqual([fired?.clientOrderId, fired?.positionTrigger, fired?.reduceOnly, fired?.side, fired?.orderKind], [null, 'stop-loss', true, 'sell', 'market']);
    assert.equal(done?.positionTrigger, 'stop-loss');
    assert.equal(only(fills(facts)).priceTicks, 589_989);
    assert.equal(only(fills(facts)).positionTrigger, 'stop-loss'); // Bybit's execution carries stopOrderType too
    assert.deepEqual(only(positions(facts)), {
      symbol: 'BTCUSDT', sizeLots: 0, entryPrice: '0', stopLossTicks: null, takeProfitTicks: null, trailingTicks: null, seq: 2, venueUpdatedMs: 3,
    });
    // 0.01 BTC x (58998.9 - 60000.1) = -10.012 USDT; fees 0.33000055 + 0.32449395 USDT.
    assert.deepEqual(venue.position('BTCUSDT'), {
      symbol: 'BTCUSDT', sizeLots: 0, costTicksLots: 0, realizedPnlE8: -1_001_200_000, feesE8: 65_449_450,
      stopLossTicks: null, takeProfitTicks: null, seq: 2, updatedMs: 3, openedMs: null,
    });
    // The wallet: 10,000 USDT to start, plus realized PnL, less fees; pushed after each match.
    const balanceE8 = 10_000 * 100_000_000 - 1_001_200_000 - 65_449_450;
    assert.deepEqual(venue.wallet(3), { coin: 'USDT', walletBalanceE8: balanceE8, equityE8: balanceE8, unrealisedPnlE8: 0, venueMs: 3 });
    assert.deepEqual(facts.filter((fact) => fact.kind === 'wallet').map((fact) => fact.report.walletBalanceE8), [balanceE8]);
  });

  void it('a take-profit on a short closes it when the mark falls to it', () => {
    const { venue, take } = setup();
    venue.setPrice(0, 'SOLUSDT', 15_000);
    accepted(venue.submitOrder(1, 'e', market('SOLUSDT', 'sell', 10, { takeProfit: { triggerTicks: 14_000, triggerBy: 'mark' } })));
    assert.equal(venue.position('SOLUSDT').takeProfitTicks, 14_000);
    assert.equal(venue.isProtected('SOLUSDT'), false);
    take();
    venue.setPrice(2, 'SOLUSDT', 13_900, 14_001);
    assert.deepEqual(shape(take()), ['ticker']);
    venue.setPrice(3, 'SOLUSDT', 14_050, 14_000);
    const facts = take();
    assert.deepEqual(orders(facts).map((report) => [report.status, report.positionTrigger, report.side]), [['new', 'take-profit', 'buy'], ['filled', 'take-profit', 'buy']]);
    assert.equal(only(fills(facts)).priceTicks, 14_051);
    assert.equal(only(fills(facts)).positionTrigger, 'take-profit');
    assert.equal(venue.position('SOLUSDT').sizeLots, 0);
    // 1 SOL x (149.99 - 140.51) = 9.48 USDT.
    assert.equal(venue.position('SOLUSDT').realizedPnlE8, 948_000_000);
  });

  void it('a resting entry arms its protection on its first partial fill, not before', () => {
    const { venue, take } = setup({ limitPartialChance: 1 });
    venue.setPrice(0, 'SOLUSDT', 15_000);
    accepted(venue.submitOrder(1, 'e', limit('SOLUSDT', 'buy', 20, 14_900, { stopLoss: { triggerTicks: 14_000, triggerBy: 'last' } })));
    assert.equal(venue.position('SOLUSDT').stopLossTicks, null);
    take();
    venue.setPrice(2, 'SOLUSDT', 14_900);
    const first = take();
    assert.equal(only(orders(first)).status, 'partially-filled');
    assert.equal(only(positions(first)).stopLossTicks, 14_000);
  });

  void it('re-arms the attached stop when the rest of an entry fills after the stop closed the first part', () => {
    const { venue, take } = setup({ limitPartialChance: 1 });
    venue.setPrice(0, 'SOLUSDT', 15_000);
    accepted(venue.submitOrder(1, 'e', limit('SOLUSDT', 'buy', 20, 14_900, { stopLoss: { triggerTicks: 14_000, triggerBy: 'mark' } })));
    venue.setPrice(2, 'SOLUSDT', 14_900);
    assert.equal(venue.position('SOLUSDT').stopLossTicks, 14_000);
    take();
    venue.setPrice(3, 'SOLUSDT', 14_950, 13_990);
    const stopped = take();
    assert.equal(orders(stopped)[0]?.positionTrigger, 'stop-loss');
    assert.deepEqual([venue.position('SOLUSDT').sizeLots, venue.position('SOLUSDT').stopLossTicks], [0, null]);
    venue.setPrice(4, 'SOLUSDT', 14_900);
    const refilled = only(positions(take()));
    assert.ok(refilled.sizeLots > 0);
    assert.equal(refilled.stopLossTicks, 14_000);
  });

  void it('refuses protection on the wrong side of the price, and on a reduce-only order', () => {
    const { venue } = setup();
    venue.setPrice(0, 'SOLUSDT', 15_000);
    const cases: readonly [OrderSpec, string][] = [
      [market('SOLUSDT', 'buy', 10, { stopLoss: { triggerTicks: 15_000, triggerBy: 'last' } }), 'buy stop-loss at the price'],
      [market('SOLUSDT', 'sell', 10, { stopLoss: { triggerTicks: 14_000, triggerBy: 'last' } }), 'sell stop-loss below'],
      [market('SOLUSDT', 'buy', 10, { takeProfit: { triggerTicks: 14_000, triggerBy: 'mark' } }), 'buy take-profit below'],
      [limit('SOLUSDT', 'buy', 10, 14_000, { stopLoss: { triggerTicks: 14_500, triggerBy: 'last' } }), 'stop-loss above the limit'],
    ];
    for (const [spec, why] of cases) {
      const result = venue.submitOrder(1, null, spec);
      assert.equal(result.ok ? 'ok' : result.code, 'invalid', why);
    }
    accepted(venue.submitOrder(2, 'e', market('SOLUSDT', 'buy', 10)));
    const reduce = venue.submitOrder(3, null, market('SOLUSDT', 'sell', 10, { reduceOnly: true, takeProfit: { triggerTicks: 14_000, triggerBy: 'last' } }));
    assert.deepEqual(reduce.ok ? 'ok' : [reduce.code, reduce.reason], ['invalid', 'a reduce-only order cannot carry a stop-loss or take-profit']);
  });

  void it('sets and clears the position stop-loss with a position report of the same seq', () => {
    const { venue, take } = setup();
    const flat = venue.setPositionProtection(0, 'SOLUSDT', { stopLoss: { triggerTicks: 1, triggerBy: 'last' } });
    assert.equal(flat.ok ? 'ok' : flat.code, 'invalid');
    venue.setPrice(0, 'SOLUSDT', 15_000);
    accepted(venue.submitOrder(1, 'e', market('SOLUSDT', 'buy', 10)));
    take();
    // Past the price: as Bybit's text is read by the adapter, a crossed trigger.
    const wrong = venue.setPositionProtection(2, 'SOLUSDT', { stopLoss: { triggerTicks: 15_000, triggerBy: 'last' } });
    assert.equal(wrong.ok ? 'ok' : wrong.code, 'trigger-crossed');
    assert.deepEqual(venue.setPositionProtection(3, 'SOLUSDT', { stopLoss: { triggerTicks: 14_000, triggerBy: 'last' } }), { ok: true });
    const set = only(positions(take()));
    assert.deepEqual([set.stopLossTicks, set.seq, set.venueUpdatedMs], [14_000, 1, 3]);
    venue.setPositionProtection(4, 'SOLUSDT', { stopLoss: null });
    assert.equal(only(positions(take())).stopLossTicks, null);
    assert.equal(venue.isProtected('SOLUSDT'), false);
  });

  void it('a flip clears the old side protection, books the realized PnL and restarts openedMs', () => {
    const { venue } = setup();
    venue.setPrice(0, 'SOLUSDT', 15_000);
    accepted(venue.submitOrder(1, 'e', market('SOLUSDT', 'buy', 10, { stopLoss: { triggerTicks: 14_000, triggerBy: 'last' } })));
    venue.setPrice(2, 'SOLUSDT', 15_500);
    accepted(venue.submitOrder(3, 'f', market('SOLUSDT', 'sell', 15)));
    const position = venue.position('SOLUSDT');
    // 1 SOL x (154.99 - 150.01) = 4.98 USDT realized; 0.5 SOL short opened at 154.99.
    assert.deepEqual([position.sizeLots, position.costTicksLots, position.realizedPnlE8, position.stopLossTicks, position.openedMs], [-5, 77_495, 498_000_000, null, 3]);
  });
});

void describe('ids, queries and cancels', () => {
  void it('refuses a client order id used by any earlier accepted order, even a finished one', () => {
    const { venue, take } = setup();
    venue.setPrice(0, 'SOLUSDT', 15_000);
    const refused = venue.submitOrder(1, 'dup', market('SOLUSDT', 'buy', 0));
    assert.equal(refused.ok, false);
    accepted(venue.submitOrder(2, 'dup', market('SOLUSDT', 'buy', 10)));
    take();
    const again = venue.submitOrder(3, 'dup', limit('SOLUSDT', 'buy', 10, 14_000));
    assert.deepEqual(again.ok ? 'ok' : again.code, 'duplicate-id');
    assert.deepEqual(take(), []);
    const tooLong = venue.submitOrder(4, 'x'.repeat(37), limit('SOLUSDT', 'buy', 10, 14_000));
    assert.equal(tooLong.ok ? 'ok' : tooLong.code, 'invalid');
  });

  void it('cancels a working order once; a finished or unknown order is not found, a filled one pushed Filled again', () => {
    const { venue, take } = setup();
    venue.setPrice(0, 'SOLUSDT', 15_000);
    const restingId = accepted(venue.submitOrder(1, 'r', limit('SOLUSDT', 'buy', 10, 14_000)));
    accepted(venue.submitOrder(2, 'm', market('SOLUSDT', 'buy', 10)));
    take();
    assert.deepEqual(venue.cancelOrder(3, { clientOrderId: 'r' }), { ok: true });
    const report = only(orders(take()));
    assert.deepEqual([report.venueOrderId, report.status, report.venueUpdatedMs], [restingId, 'cancelled', 3]);
    const notFound = { ok: false, code: 'not-found', reason: 'order not exists or too late to cancel' };
    assert.deepEqual(venue.cancelOrder(4, { venueOrderId: restingId }), notFound);
    assert.deepEqual(take(), [], 'a cancelled order: nothing more');
    // A cancel that raced the fill: refused, and the order's Filled pushed a second time (Bybit).
    assert.deepEqual(venue.cancelOrder(4, { clientOrderId: 'm' }), notFound);
    const again = only(orders(take()));
    assert.deepEqual([again.clientOrderId, again.status, again.filledLots], ['m', 'filled', 10]);
    assert.equal(venue.lateCancelsOfFilled, 1);
    assert.deepEqual(venue.cancelOrder(4, { clientOrderId: 'nope' }), notFound);
    assert.deepEqual(take(), []);
  });

  void it('queries by client or venue id in any status, with deterministic ids', () => {
    const { venue } = setup();
    venue.setPrice(0, 'SOLUSDT', 15_000);
    const first = accepted(venue.submitOrder(1, 'a', market('SOLUSDT', 'buy', 10)));
    const second = accepted(venue.submitOrder(2, null, limit('SOLUSDT', 'buy', 10, 14_000)));
    assert.deepEqual([first, second], ['o1', 'o2']);
    assert.equal(venue.queryOrder({ clientOrderId: 'a' })?.status, 'filled');
    assert.deepEqual(venue.queryOrder({ venueOrderId: second }), {
      symbol: 'SOLUSDT', venueOrderId: 'o2', clientOrderId: null, side: 'buy', orderKind: 'limit', status: 'new', sizeLots: 10,
      filledLots: 0, priceTicks: 14_000, triggerTicks: null, reduceOnly: false, positionTrigger: null, stopLossTicks: null, takeProfitTicks: null,
      venueUpdatedMs: 2, reason: null,
    });
    assert.equal(venue.queryOrder({ clientOrderId: 'zzz' }), null);
    assert.equal(venue.queryOrder({ venueOrderId: 'o9' as VenueOrderId }), null);
  });
});

void describe('isProtected', () => {
  void it('counts only working reduce-only stop-market orders on the closing side, against the whole size', () => {
    const { venue } = setup();
    assert.equal(venue.isProtected('SOLUSDT'), true, 'flat');
    venue.setPrice(0, 'SOLUSDT', 15_000);
    accepted(venue.submitOrder(1, 'e', market('SOLUSDT', 'buy', 10)));
    assert.equal(venue.isProtected('SOLUSDT'), false, 'naked long');
    accepted(venue.submitOrder(2, 'tp', limit('SOLUSDT', 'sell', 10, 16_000, { reduceOnly: true })));
    accepted(venue.submitOrder(3, 'up', stop('SOLUSDT', 'buy', 10, 16_000, 'last', false)));
    assert.equal(venue.isProtected('SOLUSDT'), false, 'a limit and an opening-side stop do not protect');
    accepted(venue.submitOrder(4, 's1', stop('SOLUSDT', 'sell', 6, 14_000, 'mark')));
    assert.equal(venue.isProtected('SOLUSDT'), false, '6 of 10 lots');
    accepted(venue.submitOrder(5, 's2', stop('SOLUSDT', 'sell', 4, 13_000, 'last')));
    assert.equal(venue.isProtected('SOLUSDT'), true, '10 of 10 lots');
    venue.cancelOrder(6, { clientOrderId: 's2' });
    assert.equal(venue.isProtected('SOLUSDT'), false, 'cancelled stops do not count');
  });
});

void describe('determinism', () => {
  function script(seed: number): { facts: VenueFact[]; venue: SimVenue } {
    const { venue, facts } = setup({ seed, partialFillChance: 0.5, fillPartsMax: 5, limitPartialChance: 0.5 });
    const walk = new Rng(99);
    let priceTicks = 15_000;
    venue.setPrice(0, 'SOLUSDT', priceTicks);
    for (let step = 1; step <= 200; step += 1) {
      priceTicks += walk.int(-40, 40);
      venue.setPrice(step * 10, 'SOLUSDT', priceTicks, priceTicks + walk.int(-5, 5));
      const side: Side = walk.chance(0.5) ? 'buy' : 'sell';
      const spec = walk.chance(0.5) ? market('SOLUSDT', side, walk.int(1, 50)) : limit('SOLUSDT', side, walk.int(1, 50), priceTicks + walk.int(-60, 60));
      venue.submitOrder(step * 10 + 1, `c${step}`, spec);
    }
    return { facts, venue };
  }

  void it('two venues with the same seed and the same calls emit identical facts', () => {
    const first = script(42);
    const second = script(42);
    assert.ok(first.facts.length > 400);
    assert.deepEqual(first.facts, second.facts);
    assert.deepEqual(first.venue.positions(), second.venue.positions());
    assert.notDeepEqual(script(43).facts, first.facts);
  });

  void it('the position ground truth equals the sum of every fill', () => {
    const { venue } = script(5);
    const signedLots = venue.fills().reduce((sum, fill) => sum + (fill.side === 'buy' ? fill.lots : -fill.lots), 0);
    const feesE8 = venue.fills().reduce((sum, fill) => sum + fill.feeE8, 0);
    assert.equal(venue.position('SOLUSDT').sizeLots, signedLots);
    assert.equal(venue.position('SOLUSDT').feesE8, feesE8);
    assert.equal(venue.position('SOLUSDT').seq, new Set(venue.fills().map((fill) => fill.seq)).size);
  });
});

void describe('emit', () => {
  void it('refuses a handler that calls back into the venue while a fact is being delivered', () => {
    const venue: SimVenue = new SimVenue(
      { instruments: [sol], makerFeeRateE8: 0, takerFeeRateE8: 0, spreadTicks: 0, partialFillChance: 0, fillPartsMax: 1, limitPartialChance: 0, rng: new Rng(1) },
      () => { venue.submitOrder(0, null, market('SOLUSDT', 'buy', 10)); },
    );
    assert.throws(() => { venue.setPrice(0, 'SOLUSDT', 15_000); }, /called back into the venue/);
  });
});
