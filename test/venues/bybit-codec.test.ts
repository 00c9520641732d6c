// The Bybit v5 codec against real payloads (test/fixtures/bybit-v5, see its PROVENANCE.md):
// concrete values decoded from each fixture, the skips (other categories, hedge mode, funding,
// execution.fast, a wallet without USDT), numbers sent as strings or JSON numbers, error texts that name the
// field, round trips decode(encode(x)) === x (fixed and property-based), and a fuzz that no input
// makes a decoder throw.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Event, Fill, OrderReport, PositionReport } from '../../src/core/events.ts';
import type { ExecutionId, VenueOrderId } from '../../src/core/ids.ts';
import type { Instrument, InstrumentSpec } from '../../src/core/instrument.ts';
import { defineInstrument } from '../../src/core/instrument.ts';
import { formatScaled } from '../../src/core/decimal.ts';
import type { DecodeContext } from '../../src/venues/bybit/decode.ts';
import {
  decodeCreateReply, decodeExecutionList, decodeInstruments, decodeOrderList, decodePositionList, decodeStreamMessage, decodeWalletBalance, fastExecutionReason,
  notBybitMessage,
} from '../../src/venues/bybit/decode.ts';
import { decodeTickerList } from '../../src/venues/bybit/rest.ts';
import {
  encodeExecutionMessage, encodeFillItem, encodeListReply, encodeOrderItem, encodeOrderMessage, encodePositionItem, encodePositionMessage, encodeTickerMessage,
  encodeWalletMessage,
} from '../../src/venues/bybit/encode.ts';

/** What a decode error off the instrument's grid adds: the likely cause, and the cure. */
const asLoaded = " (as loaded at start: if Bybit has changed BTCUSDT's tick or lot size since, restart Vigil to load it again)";

type Json = Record<string, unknown>;

function isJson(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fixture(name: string): Json {
  const parsed: unknown = JSON.parse(readFileSync(new URL(`../fixtures/bybit-v5/${name}`, import.meta.url), 'utf8'));
  assert.ok(isJson(parsed), name);
  return parsed;
}

function listOf(container: Json, key: string): Json[] {
  const list = container[key];
  assert.ok(Array.isArray(list));
  return list.filter(isJson);
}

/** A copy of a stream fixture with `patch` applied to data[0]. */
function withItem(name: string, patch: Json): Json {
  const message = structuredClone(fixture(name));
  Object.assign(listOf(message, 'data')[0]!, patch);
  return message;
}

/** A copy of a REST fixture with `patch` applied to result.list[0]. */
function withListItem(name: string, patch: Json): Json {
  const reply = structuredClone(fixture(name));
  const result = reply.result;
  assert.ok(isJson(result));
  Object.assign(listOf(result, 'list')[0]!, patch);
  return reply;
}

function define(spec: InstrumentSpec): Instrument {
  const parsed = defineInstrument(spec);
  assert.ok(parsed.ok, parsed.ok ? '' : parsed.reason);
  return parsed.value;
}

const loaded = decodeInstruments(fixture('rest.v5.market.instruments-info.linear.json'));
assert.ok(loaded.ok && loaded.items[0] !== undefined);
const btc = loaded.items[0];
// Tick and lot as Bybit lists them for the symbols the other fixtures use; limits illustrative.
const eth = define({ symbol: 'ETHUSDT', tickSize: '0.01', lotSize: '0.01', minQty: '0.01', maxQty: '7240', maxMarketQty: '724', minNotional: '5' });
const ltc = define({ symbol: 'LTCUSDT', tickSize: '0.01', lotSize: '0.1', minQty: '0.1', maxQty: '9000', minNotional: '5' });
const aave = define({ symbol: 'AAVEUSDT', tickSize: '0.01', lotSize: '0.01', minQty: '0.01', maxQty: '5000', minNotional: '5' });
// Synthetic: a tick that is not a power of ten, so ticks != price digits.
const half = define({ symbol: 'HALFUSDT', tickSize: '0.5', lotSize: '0.001', minQty: '0.001', maxQty: '100', minNotional: '5' });
const instruments: ReadonlyMap<string, Instrument> = new Map([btc, eth, ltc, aave, half].map((instrument) => [instrument.symbol, instrument]));
const ctx: DecodeContext = { instruments, atMs: 1_700_000_000_000, source: 'stream' };

function decodeOk(message: unknown): { events: Event[]; skipped: readonly { reason: string; where: string }[] } {
  const decoded = decodeStreamMessage(message, ctx);
  assert.ok(decoded.ok, decoded.ok ? '' : decoded.error);
  return { events: decoded.events, skipped: decoded.skipped };
}

function decodeError(message: unknown): string {
  const decoded = decodeStreamMessage(message, ctx);
  assert.ok(!decoded.ok, 'expected a decode error');
  return decoded.error;
}

const linearMarketOrder: Json = (() => {
  const result = fixture('rest.v5.order.history.linear.json').result;
  assert.ok(isJson(result));
  return { ...listOf(result, 'list')[0], category: 'linear' };
})();

void describe('bybit codec: instruments-info', () => {
  void it('reads BTCUSDT exactly', () => {
    assert.equal(btc.symbol, 'BTCUSDT');
    assert.equal(btc.tickSize, '0.10');
    assert.equal(btc.lotSize, '0.001');
    assert.deepEqual([btc.priceScale, btc.tickUnits, btc.qtyScale, btc.lotUnits], [1, 1, 3, 1]);
    assert.deepEqual([btc.minLots, btc.maxLots, btc.maxMarketLots, btc.minNotionalE8, btc.tickLotE8], [1, 1_190_000, 500_000, 500_000_000, 10_000]);
    assert.ok(loaded.ok);
    assert.deepEqual([loaded.skipped, loaded.cursor], [[], null]);
  });

  void it('reads a perpetual\'s deliveryTime as its announced delisting, "0" as none, and names a malformed one', () => {
    assert.equal(btc.delistMs, undefined, 'the fixture\'s "0"');
    const delisting = decodeInstruments(withListItem('rest.v5.market.instruments-info.linear.json', { deliveryTime: '1764576000000' }));
    assert.ok(delisting.ok);
    assert.equal(delisting.items[0]?.delistMs, 1_764_576_000_000);
    assert.equal(delisting.items[0]?.maxMarketLots, btc.maxMarketLots, 'the rest as before');
    const garbled = decodeInstruments(withListItem('rest.v5.market.instruments-info.linear.json', { deliveryTime: 'soon' }));
    assert.ok(!garbled.ok);
    assert.match(garbled.error, /result\.list\[0\]\.deliveryTime: expected an integer, got "soon"/);
  });

  void it('skips a PreLaunch instrument and keeps the cursor', () => {
    const page = decodeInstruments(fixture('rest.v5.market.instruments-info.linear.prelaunch.json'));
    assert.deepEqual(page, {
      ok: true, items: [], cursor: 'first%3DBIOUSDT%26last%3DBIOUSDT',
      skipped: [{ reason: 'BIOUSDT status PreLaunch: only Trading instruments are loaded', where: 'result.list[0]' }],
    });
  });

  void it('skips USDC and dated contracts, and reports a malformed filter', () => {
    const usdc = decodeInstruments(withListItem('rest.v5.market.instruments-info.linear.json', { symbol: 'ETHPERP', settleCoin: 'USDC' }));
    assert.ok(usdc.ok);
    assert.deepEqual(usdc.skipped, [{ reason: "ETHPERP settles in USDC: Vigil's money is USDT", where: 'result.list[0]' }]);
    const dated = decodeInstruments(withListItem('rest.v5.market.instruments-info.linear.json', { contractType: 'LinearFutures' }));
    assert.ok(dated.ok);
    assert.equal(dated.skipped[0]?.reason, 'BTCUSDT contractType LinearFutures: only perpetuals are traded');
    const broken = decodeInstruments(withListItem('rest.v5.market.instruments-info.linear.json', { priceFilter: { tickSize: '1e-1' } }));
    assert.deepEqual(broken, { ok: false, kind: 'malformed', error: 'instruments-info: result.list[0].priceFilter.tickSize: expected a plain decimal number, got "1e-1"' });
  });
});

void describe('bybit codec: order topic', () => {
  void it('skips the option order of the docs example', () => {
    const decoded = decodeOk(fixture('ws.private.order.json'));
    assert.deepEqual(decoded, { events: [], skipped: [{ reason: 'category option: only linear contracts are traded', where: 'order.data[0]' }] });
  });

  void it('decodes a filled reduce-only linear market order', () => {
    const decoded = decodeOk({ id: 'x', topic: 'order', creationTime: 1757837618910, data: [linearMarketOrder] });
    assert.deepEqual(decoded.events, [{
      type: 'OrderUpdated', atMs: ctx.atMs, source: 'stream', symbol: 'BTCUSDT', venueOrderId: 'f5f2d355-9a11-4af3-9b83-aa1d6ab6ddfe',
      clientOrderId: null, side: 'sell', orderKind: 'market', status: 'filled', sizeLots: 1, filledLots: 1, priceTicks: null,
      triggerTicks: null, reduceOnly: true, positionTrigger: null, stopLossTicks: null, takeProfitTicks: null, venueUpdatedMs: 1757837618909, reason: null,
    }]);
  });

  void it('maps every Bybit order status', () => {
    const statuses: [string, string][] = [
      ['New', 'new'], ['PartiallyFilled', 'partially-filled'], ['Untriggered', 'untriggered'], ['Triggered', 'new'], ['Rejected', 'rejected'],
      ['PartiallyFilledCanceled', 'cancelled'], ['Filled', 'filled'], ['Cancelled', 'cancelled'], ['Deactivated', 'cancelled'],
      ['Created', 'new'], // in earlier versions of Bybit's list, and in client libraries' (not on the page today)
    ];
    for (const [word, status] of statuses) {
      const event = decodeOk({ topic: 'order', data: [{ ...linearMarketOrder, orderStatus: word }] }).events[0];
      assert.equal(event?.type === 'OrderUpdated' ? event.status : undefined, status, word);
    }
  });

  void it('reads a position stop-loss as a stop-market with its trigger, and the reasons', () => {
    const stop = { ...linearMarketOrder, orderStatus: 'Untriggered', triggerPrice: '60000.0', stopOrderType: 'StopLoss', orderLinkId: 'vg1-7-sl' };
    const cancelled = { ...linearMarketOrder, orderType: 'Limit', price: '95000.1', orderStatus: 'Cancelled', cancelType: 'CancelByUser' };
    const raced = { ...linearMarketOrder, cancelType: 'CancelByUser', rejectReason: 'EC_OrigClOrdIDDoesNotExist' };
    const trailing = { ...stop, stopOrderType: 'TrailingStop' };
    const [a, b, c, d] = decodeOk({ topic: 'order', data: [stop, cancelled, raced, trailing] }).events;
    assert.ok(a?.type === 'OrderUpdated' && b?.type === 'OrderUpdated' && c?.type === 'OrderUpdated' && d?.type === 'OrderUpdated');
    assert.deepEqual([a.orderKind, a.triggerTicks, a.priceTicks, a.positionTrigger, a.clientOrderId, a.status], ['stop-market', 600000, null, 'stop-loss', 'vg1-7-sl', 'untriggered']);
    assert.deepEqual([b.orderKind, b.priceTicks, b.reason], ['limit', 950001, 'CancelByUser']);
    assert.deepEqual([c.status, c.reason], ['filled', 'EC_OrigClOrdIDDoesNotExist']);
    assert.equal(d.positionTrigger, 'trailing-stop');
  });

  void it('skips hedge-mode orders (positionIdx 1 or 2) as it skips hedge-mode positions, and refuses any other index', () => {
    const decoded = decodeOk({ topic: 'order', data: [linearMarketOrder, { ...linearMarketOrder, positionIdx: 1 }, { ...linearMarketOrder, positionIdx: '2' }] });
    assert.deepEqual(decoded.events.map((event) => event.type), ['OrderUpdated']);
    assert.deepEqual(decoded.skipped, [
      { reason: 'positionIdx 1: hedge mode is not supported', where: 'order.data[1]' },
      { reason: 'positionIdx 2: hedge mode is not supported', where: 'order.data[2]' },
    ]);
    assert.equal(decodeError({ topic: 'order', data: [{ ...linearMarketOrder, positionIdx: 3 }] }), 'order.data[0].positionIdx: expected 0, 1 or 2, got 3');
  });

  void it('names the field of every problem', () => {
    const order = (patch: Json): Json => ({ topic: 'order', data: [linearMarketOrder, linearMarketOrder, { ...linearMarketOrder, ...patch }] });
    // An instrument not loaded is not an error: the account's other symbols are listed too (see items.ts).
    assert.deepEqual(decodeOk(order({ symbol: 'FOOUSDT' })).skipped, [{ reason: 'FOOUSDT is not traded by this bot (no instrument loaded)', where: 'order.data[2]' }]);
    assert.equal(decodeError(order({ qty: 'abc' })), 'order.data[2].qty: BTCUSDT quantity: not a decimal number: "abc"');
    assert.equal(decodeError(order({ qty: '0.0005' })), `order.data[2].qty: BTCUSDT quantity 0.0005 is not a multiple of the 0.001 lot${asLoaded}`);
    assert.equal(decodeError(order({ orderType: 'Limit', price: '95000.15' })), `order.data[2].price: BTCUSDT price 95000.15 is not on the 0.10 tick${asLoaded}`);
    assert.equal(decodeError(order({ orderStatus: 'Expired' })), 'order.data[2].orderStatus: unknown order status "Expired"');
    assert.equal(decodeError(order({ side: 'buy' })), 'order.data[2].side: expected Buy or Sell, got "buy"');
    assert.equal(decodeError(order({ updatedTime: '17578x' })), 'order.data[2].updatedTime: expected an integer, got "17578x"');
    assert.equal(decodeError(order({ reduceOnly: 1 })), 'order.data[2].reduceOnly: expected a boolean, got 1');
    assert.equal(decodeError(order({ orderId: '' })), 'order.data[2].orderId: must not be empty');
    assert.equal(decodeError({ topic: 'order', data: [linearMarketOrder, 'x'] }), 'order.data[1]: expected an object, got "x"');
    assert.equal(decodeError({ topic: 'order', data: {} }), 'order.data: expected an array, got object');
  });
});

void describe('bybit codec: execution topics', () => {
  const expectedFill = {
    type: 'FillReceived', atMs: ctx.atMs, source: 'stream', symbol: 'BTCUSDT', executionId: '0ab1bdf7-4219-438b-b30a-32ec863018f7',
    venueOrderId: '9aac161b-8ed6-450d-9cab-c5cc67c21784', clientOrderId: null, side: 'sell', priceTicks: 959001, lots: 500,
    feeE8: 2_637_252_750, liquidity: 'taker', venueMs: 1746270400353, seq: 140612148849382,
    positionTrigger: null,
  };

  void it('decodes the execution fixture exactly', () => {
    assert.deepEqual(decodeOk(fixture('ws.private.execution.json')), { events: [expectedFill], skipped: [] });
  });

  void it('reads numbers sent as JSON numbers or strings alike', () => {
    const numeric = withItem('ws.private.execution.json', { execPrice: 95900.1, execQty: 0.5, execFee: 26.3725275, execTime: 1746270400353, seq: '140612148849382', isMaker: 'false' });
    assert.deepEqual(decodeOk(numeric), { events: [expectedFill], skipped: [] });
    const zero = decodeOk(withItem('ws.private.execution.json', { execFee: '-0', seq: '-0' })).events[0];
    assert.ok(zero?.type === 'FillReceived' && Object.is(zero.feeE8, 0) && Object.is(zero.seq, 0));
  });

  void it("says when the execution is the venue's own take-profit or stop-loss (stopOrderType)", () => {
    const triggers = ['TakeProfit', 'StopLoss', 'PartialStopLoss', 'TrailingStop', 'Stop', ''].map((stopOrderType) => {
      const [event] = decodeOk(withItem('ws.private.execution.json', { stopOrderType })).events;
      return event?.type === 'FillReceived' ? event.positionTrigger : 'not a fill';
    });
    assert.deepEqual(triggers, ['take-profit', 'stop-loss', 'stop-loss', 'trailing-stop', null, null]);
  });

  void it('reads the categorised topic execution.linear like execution', () => {
    assert.deepEqual(decodeOk({ ...fixture('ws.private.execution.json'), topic: 'execution.linear' }), { events: [expectedFill], skipped: [] });
  });

  void it('books Funding as funding (not a fill), AdlTrade and BustTrade as fills, and skips the other execTypes', () => {
    const message = fixture('ws.private.execution.json');
    const trade = listOf(message, 'data')[0]!;
    const data = ['Funding', 'AdlTrade', 'Settle', 'BustTrade'].map((execType, index) => ({ ...trade, execType, execId: `e${index}` }));
    const decoded = decodeOk({ ...message, data });
    assert.deepEqual(decoded.events.map((event) => `${event.type} ${'executionId' in event ? event.executionId : ''}`), ['FundingSettled e0', 'FillReceived e1', 'FillReceived e3']);
    assert.deepEqual(decoded.skipped, [{ reason: 'execType Settle is not a fill', where: 'execution.data[2]' }]);
  });

  void it('reads a liquidation or deleveraging fill off the tick grid to the nearest tick (a bankruptcy price), a trade off it as an error', () => {
    const priceOf = (execType: string, execPrice: string): number | null => {
      const [event] = decodeOk(withItem('ws.private.execution.json', { execType, execPrice })).events;
      return event?.type === 'FillReceived' ? event.priceTicks : null;
    };
    assert.deepEqual([priceOf('BustTrade', '95900.1'), priceOf('BustTrade', '95900.1437'), priceOf('AdlTrade', '95900.15'), priceOf('AdlTrade', '95900.0499')], [959_001, 959_001, 959_002, 959_000]);
    assert.equal(decodeError(withItem('ws.private.execution.json', { execType: 'Trade', execPrice: '95900.1437' })), `execution.data[0].execPrice: BTCUSDT price 95900.1437 is not on the 0.10 tick${asLoaded}`);
    assert.equal(decodeError(withItem('ws.private.execution.json', { execType: 'BustTrade', execPrice: '0' })), 'execution.data[0].execPrice: BTCUSDT price must be positive, got "0"');
  });

  void it('reads a funding payment exactly: paid positive, received negative', () => {
    const paid = decodeOk(withItem('ws.private.execution.json', { execType: 'Funding', execFee: '0.01123456', execPrice: '95900.1', execTime: '1746270400000' })).events[0];
    assert.deepEqual(paid, { type: 'FundingSettled', atMs: ctx.atMs, source: 'stream', symbol: 'BTCUSDT', executionId: '0ab1bdf7-4219-438b-b30a-32ec863018f7', feeE8: 1_123_456, venueMs: 1746270400000 });
    const received = decodeOk(withItem('ws.private.execution.json', { execType: 'Funding', execFee: '-2.5' })).events[0];
    assert.equal(received?.type === 'FundingSettled' ? received.feeE8 : null, -250_000_000);
  });

  void it('skips a Funding item for an instrument it does not trade, saying so', () => {
    const decoded = decodeOk(withItem('ws.private.execution.json', { execType: 'Funding', symbol: 'FOOUSDT' }));
    assert.deepEqual(decoded.skipped, [{ reason: 'funding on FOOUSDT, an instrument not loaded', where: 'execution.data[0]' }]);
  });

  void it('skips execution.fast, which has no fee', () => {
    assert.deepEqual(decodeOk(fixture('ws.private.execution.fast.json')), { events: [], skipped: [{ reason: fastExecutionReason, where: 'execution.fast.data[0]' }] });
  });

  void it('names the field of every problem', () => {
    assert.equal(decodeError(withItem('ws.private.execution.json', { execPrice: '95900.15' })), `execution.data[0].execPrice: BTCUSDT price 95900.15 is not on the 0.10 tick${asLoaded}`);
    assert.equal(decodeError(withItem('ws.private.execution.json', { execPrice: '-95900.1' })), 'execution.data[0].execPrice: BTCUSDT price must be positive, got "-95900.1"');
    assert.equal(decodeError(withItem('ws.private.execution.json', { execQty: '0' })), 'execution.data[0].execQty: a fill must have a positive quantity');
    assert.equal(decodeError(withItem('ws.private.execution.json', { execFee: '0.000000001' })), 'execution.data[0].execFee: USDT amount: 0.000000001 has more than 8 decimal places');
    assert.equal(decodeError(withItem('ws.private.execution.json', { execFee: undefined })), 'execution.data[0].execFee: expected a decimal string or number, missing');
    assert.equal(decodeError(withItem('ws.private.execution.json', { seq: 1.5 })), 'execution.data[0].seq: expected an integer, got 1.5');
  });
});

void describe('bybit codec: position topic', () => {
  void it('skips the hedge-mode position of the docs example', () => {
    assert.deepEqual(decodeOk(fixture('ws.private.position.json')), { events: [], skipped: [{ reason: 'positionIdx 2: hedge mode is not supported', where: 'position.data[0]' }] });
  });

  void it('decodes one-way positions: flat, short, with stop-loss and take-profit', () => {
    const flat = withItem('ws.private.position.json', { positionIdx: 0 });
    assert.deepEqual(decodeOk(flat).events, [{
      type: 'PositionUpdated', atMs: ctx.atMs, source: 'stream', symbol: 'BTCUSDT', sizeLots: 0, entryPrice: '0',
      stopLossTicks: null, takeProfitTicks: null, trailingTicks: null, seq: 8327597863, venueUpdatedMs: 1697682317038,
    }]);
    const short = withItem('ws.private.position.json', { positionIdx: 0, side: 'Sell', size: '0.25', entryPrice: '28190.35', stopLoss: '29000.0', takeProfit: '27000', trailingStop: '150', seq: -1 });
    const event = decodeOk(short).events[0];
    assert.ok(event?.type === 'PositionUpdated');
    assert.deepEqual([event.sizeLots, event.entryPrice, event.stopLossTicks, event.takeProfitTicks, event.trailingTicks, event.seq], [-250, '28190.35', 290000, 270000, 1500, -1]);
    // The trailing distance is taken to the nearest tick, not refused off the grid; "0.00" is none.
    const trailingOf = (trailingStop: string): unknown => {
      const decoded = decodeOk(withItem('ws.private.position.json', { positionIdx: 0, side: 'Sell', size: '0.25', trailingStop })).events[0];
      return decoded?.type === 'PositionUpdated' ? decoded.trailingTicks : 'not a position';
    };
    assert.deepEqual(['12.34', '12.36', '0.00'].map(trailingOf), [123, 124, null]);
  });

  void it('refuses a sized position without a side, and other categories are skipped', () => {
    assert.equal(decodeError(withItem('ws.private.position.json', { positionIdx: 0, size: '0.1' })), 'position.data[0].size: a position without a side must be flat, got "0.1"');
    assert.equal(decodeError(withItem('ws.private.position.json', { positionIdx: 0, stopLoss: '100.05' })), `position.data[0].stopLoss: BTCUSDT price 100.05 is not on the 0.10 tick${asLoaded}`);
    assert.equal(decodeOk(withItem('ws.private.position.json', { category: 'inverse', symbol: 'BTCUSD' })).skipped[0]?.reason, 'category inverse: only linear contracts are traded');
  });
});

void describe('bybit codec: tickers, wallet, other topics and control frames', () => {
  void it('decodes a ticker snapshot and a delta without prices', () => {
    assert.deepEqual(decodeOk(fixture('ws.public.tickers.linear.snapshot.json')).events, [
      { type: 'TickerUpdated', atMs: ctx.atMs, symbol: 'BTCUSDT', lastTicks: 666666, markTicks: 666666, venueMs: 1760325052630 },
    ]);
    assert.deepEqual(decodeOk(fixture('ws.public.tickers.linear.delta.json')).events, [
      { type: 'TickerUpdated', atMs: ctx.atMs, symbol: 'AAVEUSDT', lastTicks: null, markTicks: null, venueMs: 1709210212704 },
    ]);
  });

  void it('rounds a mark price finer than the tick to the nearest tick, but not a last price', () => {
    const mark = (markPrice: string): number | null => {
      const event = decodeOk({ topic: 'tickers.BTCUSDT', type: 'delta', data: { symbol: 'BTCUSDT', markPrice }, cs: 1, ts: 2 }).events[0];
      return event?.type === 'TickerUpdated' ? event.markTicks : null;
    };
    assert.deepEqual(['95901.48', '95901.44', '95901.45', '95901.5', '95901'].map(mark), [959015, 959014, 959015, 959015, 959010]);
    // A mark price of 0, or one that rounds to no tick, is unknown (null), never a price of 0 ticks.
    assert.deepEqual(['0', '0.00', 0, '0.04', '0.05'].map((markPrice) => {
      const event = decodeOk({ topic: 'tickers.BTCUSDT', type: 'delta', data: { symbol: 'BTCUSDT', markPrice }, cs: 1, ts: 2 }).events[0];
      return event?.type === 'TickerUpdated' ? event.markTicks : undefined;
    }), [null, null, null, null, 1]);
    const listed = decodeTickerList(withListItem('rest.v5.market.tickers.linear.json', { markPrice: '0' }), ctx);
    assert.deepEqual(listed.ok ? listed.items.map((ticker) => ticker.markTicks) : listed.error, [null]);
    const off = { topic: 'tickers.BTCUSDT', type: 'delta', data: { symbol: 'BTCUSDT', lastPrice: '95901.48' }, ts: 2 };
    assert.equal(decodeError(off), `tickers.BTCUSDT.data.lastPrice: BTCUSDT price 95901.48 is not on the 0.10 tick${asLoaded}`);
    assert.equal(decodeError({ ...off, data: { symbol: 'ETHUSDT' } }), 'tickers.BTCUSDT.data.symbol: ETHUSDT does not match the topic');
    assert.equal(decodeError({ ...off, data: { symbol: 'BTCUSDT' }, ts: undefined }), 'tickers.BTCUSDT.ts: expected an integer, missing');
  });

  void it('reads the USDT of a wallet push, timed by its creationTime, and skips an account without USDT', () => {
    // The documented push holds only BTC.
    assert.deepEqual(decodeOk(fixture('ws.private.wallet.json')), { events: [], skipped: [{ reason: 'no USDT in the UNIFIED wallet', where: 'wallet.data[0]' }] });
    const usdt = { coin: 'USDT', equity: '10262.91335023', walletBalance: '9684.46297164', unrealisedPnl: '578.45037859', availableToWithdraw: '' };
    const message = withItem('ws.private.wallet.json', { coin: [...listOf(listOf(fixture('ws.private.wallet.json'), 'data')[0]!, 'coin'), usdt] });
    assert.deepEqual(decodeOk(message).events, [{
      type: 'WalletUpdated', atMs: ctx.atMs, source: 'stream', coin: 'USDT', walletBalanceE8: 968_446_297_164, equityE8: 1_026_291_335_023,
      unrealisedPnlE8: 57_845_037_859, venueMs: 1700034722104,
    }]);
    const bad = withItem('ws.private.wallet.json', { coin: [{ ...usdt, walletBalance: '9684.462971641' }] });
    assert.equal(decodeError(bad), 'wallet.data[0].coin[0].walletBalance: USDT amount: 9684.462971641 has more than 8 decimal places');
  });

  void it('reads the USDT of a real unified account from wallet-balance, timed by the reply', () => {
    assert.deepEqual(decodeWalletBalance(fixture('rest.v5.account.wallet-balance.unified.2025.json')), {
      ok: true, skipped: [], cursor: null,
      items: [{ coin: 'USDT', walletBalanceE8: 332_225_896_609, equityE8: 330_429_766_609, unrealisedPnlE8: -1_796_130_000, venueMs: 1736866023302 }],
    });
  });

  void it('skips unknown topics', () => {
    assert.deepEqual(decodeOk(fixture('ws.public.kline.json')), { events: [], skipped: [{ reason: 'topic kline.5.BTCUSDT is not decoded', where: 'kline.5.BTCUSDT' }] });
  });

  void it('accepts control frames and reports a failed auth', () => {
    const frames = ['ws.op.auth.response.success.json', 'ws.op.pong.private.json', 'ws.op.pong.public-linear.json', 'ws.op.subscribe.response.private.json',
      'ws.op.subscribe.response.public-linear.json', 'ws.trade.auth.response.json', 'ws.trade.pong.json'];
    for (const name of frames) assert.deepEqual(decodeOk(fixture(name)), { events: [], skipped: [] }, name);
    assert.equal(decodeError(fixture('ws.op.auth.response.failure.json')), 'op auth failed: Params Error');
    const duplicate = { success: false, ret_msg: 'error:already subscribed,topic:order', op: 'subscribe', conn_id: 'c' };
    assert.equal(decodeError(duplicate), 'op subscribe failed: error:already subscribed,topic:order');
    assert.equal(decodeOk(fixture('ws.trade.order.create.response.json')).skipped[0]?.reason, 'op order.create is a command reply, not a stream event');
    // An op Vigil does not know is an error, never a heartbeat; the text shows its start only.
    assert.equal(decodeError({ op: 'hello', conn_id: 'c' }), 'unknown op "hello"');
    assert.equal(decodeError({ op: 'x'.repeat(100) }), `unknown op "${'x'.repeat(40)}"`);
  });

  void it('refuses garbage without throwing', () => {
    for (const garbage of [null, undefined, 42, 'order', [], [{ topic: 'order' }], {}, { topic: 7 }, { id: 'x', data: [] }]) {
      assert.equal(decodeError(garbage), notBybitMessage);
    }
    assert.equal(decodeError({ topic: 'execution' }), 'execution.data: expected an array, missing');
  });
});

void describe('bybit codec: REST replies', () => {
  void it('decodes open orders (docs and ccxt static, where retCode and integers are strings), and skips hedge-mode ones', () => {
    // The docs' order is hedge mode (positionIdx 1): skipped, as a hedge-mode position is.
    assert.deepEqual(decodeOrderList(fixture('rest.v5.order.realtime.linear.json'), ctx), {
      ok: true, items: [], cursor: 'page_args%3Dfd4300ae-7847-404e-b947-b46980a4d140%26symbol%3D6%26',
      skipped: [{ reason: 'positionIdx 1: hedge mode is not supported', where: 'result.list[0]' }],
    });
    const docs = decodeOrderList(withListItem('rest.v5.order.realtime.linear.json', { positionIdx: 0 }), ctx);
    assert.deepEqual(docs, {
      ok: true, skipped: [], cursor: 'page_args%3Dfd4300ae-7847-404e-b947-b46980a4d140%26symbol%3D6%26',
      items: [{
        symbol: 'ETHUSDT', venueOrderId: 'fd4300ae-7847-404e-b947-b46980a4d140', clientOrderId: 'test-000005', side: 'buy', orderKind: 'limit',
        status: 'new', sizeLots: 10, filledLots: 0, priceTicks: 160000, triggerTicks: null, reduceOnly: false, positionTrigger: null,
        stopLossTicks: 150000, takeProfitTicks: 250000, venueUpdatedMs: 1684738540561, reason: null,
      }],
    });
    const ccxt = decodeOrderList(fixture('rest.v5.order.realtime.linear.ccxt-static.json'), ctx);
    assert.ok(ccxt.ok);
    assert.deepEqual(ccxt.items.map((order) => [order.symbol, order.orderKind, order.status, order.priceTicks, order.sizeLots, order.venueUpdatedMs]),
      [['BTCUSDT', 'limit', 'new', 1_020_000, 1, 1758189775651]]);
  });

  void it('decodes order history, with a post-only rejection reason', () => {
    const docs = decodeOrderList(withListItem('rest.v5.order.history.docs.json', { positionIdx: 0 }), ctx); // the docs' order is hedge mode
    assert.ok(docs.ok);
    assert.deepEqual(docs.items.map((order) => [order.status, order.priceTicks, order.triggerTicks, order.filledLots, order.reason]),
      [['cancelled', 268644, null, 0, 'EC_PostOnlyWillTakeLiquidity']]);
    const linear = decodeOrderList(fixture('rest.v5.order.history.linear.json'), ctx);
    assert.ok(linear.ok);
    assert.deepEqual([linear.items[0]?.status, linear.items[0]?.reduceOnly, linear.cursor?.slice(0, 8)], ['filled', true, 'f5f2d355']);
  });

  void it('decodes positions, skips other categories, and refuses a position without seq', () => {
    assert.deepEqual(decodePositionList(fixture('rest.v5.position.list.linear.json'), ctx), {
      ok: true, skipped: [], cursor: 'LTCUSDT%2C1699948800031%2C0',
      items: [{ symbol: 'LTCUSDT', sizeLots: 12, entryPrice: '64.59947917', stopLossTicks: null, takeProfitTicks: null, trailingTicks: null, seq: 15411084098, venueUpdatedMs: 1699948800031 }],
    });
    assert.deepEqual(decodePositionList(fixture('rest.v5.position.list.docs-inverse.json'), ctx),
      { ok: true, items: [], cursor: null, skipped: [{ reason: 'category inverse: only linear contracts are traded', where: 'result.list[0]' }] });
    // A 2022 sample from before Bybit added seq to positions: without it, reports cannot be ordered.
    const withXrp = { ...ctx, instruments: new Map([...instruments, ['XRPUSDT', define({ symbol: 'XRPUSDT', tickSize: '0.0001', lotSize: '1', minQty: '1', maxQty: '1000000', minNotional: '5' })]]) };
    assert.deepEqual(decodePositionList(fixture('rest.v5.position.list.linear.ccxt-comment.json'), withXrp),
      { ok: false, kind: 'malformed', error: 'position list: result.list[0].seq: expected an integer, missing' });
  });

  void it('decodes executions and skips those of an instrument not loaded, saying which', () => {
    assert.deepEqual(decodeExecutionList(fixture('rest.v5.execution.list.linear.json'), ctx), {
      ok: true, skipped: [], cursor: '5771350%3A2%2C5771350%3A2',
      items: [{
        symbol: 'LTCUSDT', executionId: '751c8dba-bdeb-5d0c-9dd3-dda6bf98cdaf', venueOrderId: 'c18b72e4-1bf7-4c30-9b99-ba3274066029', clientOrderId: null,
        side: 'buy', priceTicks: 8511, lots: 1, feeE8: 468_105, liquidity: 'taker', venueMs: 1710762918390, seq: 15961900053, positionTrigger: null,
      }],
    });
    assert.deepEqual(decodeExecutionList(fixture('rest.v5.execution.list.docs.json'), ctx),
      { ok: true, items: [], cursor: '132766%3A2%2C132766%3A2', skipped: [{ reason: 'ETHPERP is not traded by this bot (no instrument loaded)', where: 'result.list[0]' }] });
  });

  void it('decodes order create, amend and cancel replies, venue errors and garbage', () => {
    assert.deepEqual(decodeCreateReply(fixture('rest.v5.order.create.json')), { ok: true, venueOrderId: '1321003749386327552', clientOrderId: 'spot-test-postonly' });
    assert.deepEqual(decodeCreateReply(fixture('rest.v5.order.amend.json')), { ok: true, venueOrderId: 'c6f055d9-7f21-4079-913d-e6523a9cfffa', clientOrderId: 'linear-004' });
    assert.deepEqual(decodeCreateReply(fixture('rest.v5.order.cancel.json')), { ok: true, venueOrderId: 'c6f055d9-7f21-4079-913d-e6523a9cfffa', clientOrderId: 'linear-004' });
    assert.deepEqual(decodeCreateReply(fixture('ws.trade.order.create.response.json')), { ok: true, venueOrderId: 'a4c1718e-fe53-4659-a118-1f6ecce04ad9', clientOrderId: null });
    assert.deepEqual(decodeCreateReply(fixture('rest.error.110007.ab-not-enough.json')),
      { ok: false, kind: 'venue-error', retCode: 110007, retMsg: 'ab not enough for new order', error: 'order reply: retCode 110007: ab not enough for new order' });
    const stringCode = decodeOrderList({ ...fixture('rest.error.10001.not-supported-symbols.json'), retCode: '10001' }, ctx);
    assert.deepEqual(stringCode.ok ? null : [stringCode.kind, stringCode.error], ['venue-error', 'order list: retCode 10001: Not supported symbols']);
    assert.deepEqual(decodeCreateReply('{"retCode":0}'), { ok: false, kind: 'malformed', error: 'order reply: expected an object with retCode, got "{\\"retCode\\":0}"' });
    assert.deepEqual(decodeCreateReply({ retCode: 0, result: { orderLinkId: 'a' } }), { ok: false, kind: 'malformed', error: 'order reply: result.orderId: expected a string, missing' });
  });
});

// ---- round trips ----

const ticksArb = fc.integer({ min: 1, max: 1_000_000 });
// Bounded so every notional stays a safe integer of 1e-8 USDT (the encoder writes order values).
const lotsArb = fc.integer({ min: 0, max: 50_000 });
const msArb = fc.integer({ min: 0, max: 2 ** 42 });
const instrumentArb = fc.constantFrom(btc, eth, ltc, half);
const clientIdArb = fc.option(fc.stringMatching(/^[A-Za-z0-9_-]{1,36}$/), { nil: null });
const statusArb = fc.constantFrom('new', 'partially-filled', 'untriggered', 'filled', 'cancelled', 'rejected' as const);
const reasonArb = fc.option(fc.constantFrom('EC_PostOnlyWillTakeLiquidity', 'EC_OrigClOrdIDDoesNotExist', 'CancelByUser', 'CancelByTpSlTsClear', 'CancelByReduceOnly'), { nil: null });
const kindArb = fc.oneof(
  fc.constant({ orderKind: 'market' as const, priceTicks: null, triggerTicks: null }),
  ticksArb.map((triggerTicks) => ({ orderKind: 'stop-market' as const, priceTicks: null, triggerTicks })),
  fc.record({ orderKind: fc.constant('limit' as const), priceTicks: fc.option(ticksArb, { nil: null }), triggerTicks: fc.option(ticksArb, { nil: null }) }),
);

const orderArb: fc.Arbitrary<OrderReport> = fc.record({
  instrument: instrumentArb, venueOrderId: fc.uuid(), clientOrderId: clientIdArb, side: fc.constantFrom('buy', 'sell' as const), kind: kindArb,
  status: statusArb, sizeLots: lotsArb, filledLots: lotsArb, reduceOnly: fc.boolean(),
  positionTrigger: fc.constantFrom(null, 'stop-loss', 'take-profit', 'trailing-stop' as const), venueUpdatedMs: msArb, reason: reasonArb,
  stopLossTicks: fc.option(ticksArb, { nil: null }), takeProfitTicks: fc.option(ticksArb, { nil: null }),
}).map(({ instrument, venueOrderId, kind, ...rest }) => ({
  symbol: instrument.symbol, venueOrderId: venueOrderId as VenueOrderId, clientOrderId: rest.clientOrderId, side: rest.side, orderKind: kind.orderKind,
  status: rest.status, sizeLots: rest.sizeLots, filledLots: rest.filledLots, priceTicks: kind.priceTicks, triggerTicks: kind.triggerTicks,
  reduceOnly: rest.reduceOnly, positionTrigger: rest.positionTrigger, stopLossTicks: rest.stopLossTicks, takeProfitTicks: rest.takeProfitTicks,
  venueUpdatedMs: rest.venueUpdatedMs, reason: rest.reason,
}));

const fillArb: fc.Arbitrary<Fill> = fc.record({
  symbol: instrumentArb.map((instrument) => instrument.symbol), executionId: fc.uuid().map((id) => id as ExecutionId),
  venueOrderId: fc.uuid().map((id) => id as VenueOrderId), clientOrderId: clientIdArb, side: fc.constantFrom('buy', 'sell' as const),
  priceTicks: ticksArb, lots: fc.integer({ min: 1, max: 50_000 }), feeE8: fc.integer({ min: -1e12, max: 1e12 }),
  liquidity: fc.constantFrom('maker', 'taker' as const), venueMs: msArb, seq: fc.integer({ min: 0, max: 2 ** 50 }),
  positionTrigger: fc.constantFrom(null, 'stop-loss', 'take-profit', 'trailing-stop' as const),
}, { noNullPrototype: true });

const positionArb: fc.Arbitrary<PositionReport> = fc.record({
  symbol: instrumentArb.map((instrument) => instrument.symbol), sizeLots: fc.integer({ min: -100_000, max: 100_000 }),
  entryPrice: fc.tuple(fc.integer({ min: 0, max: 1e12 }), fc.integer({ min: 0, max: 8 })).map(([units, scale]) => formatScaled(units, scale)),
  stopLossTicks: fc.option(ticksArb, { nil: null }), takeProfitTicks: fc.option(ticksArb, { nil: null }), trailingTicks: fc.option(ticksArb, { nil: null }),
  seq: fc.integer({ min: -1, max: 2 ** 50 }), venueUpdatedMs: msArb,
}, { noNullPrototype: true });

function stripEvent(event: Event | undefined): unknown {
  assert.ok(event !== undefined);
  const { type: _type, atMs: _atMs, ...rest } = event;
  if ('source' in rest) {
    const { source: _source, ...report } = rest;
    return report;
  }
  return rest;
}

void describe('bybit codec: round trips', () => {
  void it('orders, fills and positions through their stream messages', () => {
    fc.assert(fc.property(fc.array(orderArb, { minLength: 1, maxLength: 4 }), (reports) => {
      const decoded = decodeOk(JSON.parse(JSON.stringify(encodeOrderMessage(reports, instruments, 1))));
      assert.deepEqual(decoded.events.map(stripEvent), reports);
    }), { numRuns: 300 });
    fc.assert(fc.property(fc.array(fillArb, { minLength: 1, maxLength: 4 }), (fills) => {
      assert.deepEqual(decodeOk(encodeExecutionMessage(fills, instruments, 1)).events.map(stripEvent), fills);
    }), { numRuns: 300 });
    fc.assert(fc.property(fc.array(positionArb, { minLength: 1, maxLength: 4 }), (reports) => {
      assert.deepEqual(decodeOk(encodePositionMessage(reports, instruments, 1)).events.map(stripEvent), reports);
    }), { numRuns: 300 });
  });

  void it('wallet pushes', () => {
    const amountArb = fc.integer({ min: -1e14, max: 1e14 });
    fc.assert(fc.property(amountArb, amountArb, amountArb, msArb, (walletBalanceE8, equityE8, unrealisedPnlE8, venueMs) => {
      const report = { coin: 'USDT', walletBalanceE8, equityE8, unrealisedPnlE8, venueMs };
      assert.deepEqual(decodeOk(JSON.parse(JSON.stringify(encodeWalletMessage(report)))).events.map(stripEvent), [report]);
    }), { numRuns: 200 });
  });

  void it('tickers, snapshot and delta', () => {
    fc.assert(fc.property(instrumentArb, fc.option(ticksArb, { nil: null }), fc.option(ticksArb, { nil: null }), msArb, fc.constantFrom('snapshot', 'delta' as const),
      (instrument, lastTicks, markTicks, ts, type) => {
        const decoded = decodeOk(encodeTickerMessage(instrument.symbol, lastTicks, markTicks, ts, instrument, type));
        assert.deepEqual(decoded.events, [{ type: 'TickerUpdated', atMs: ctx.atMs, symbol: instrument.symbol, lastTicks, markTicks, venueMs: ts }]);
      }), { numRuns: 200 });
  });

  void it('REST lists through their replies', () => {
    fc.assert(fc.property(fc.array(orderArb, { maxLength: 3 }), fc.array(fillArb, { maxLength: 3 }), fc.array(positionArb, { maxLength: 3 }), (orders, fills, positions) => {
      const item = (symbol: string): Instrument => instruments.get(symbol)!;
      const orderPage = decodeOrderList(encodeListReply(orders.map((report) => encodeOrderItem(report, item(report.symbol))), 'next', 1), ctx);
      assert.deepEqual(orderPage, { ok: true, items: orders, skipped: [], cursor: 'next' });
      const fillPage = decodeExecutionList(encodeListReply(fills.map((fill) => encodeFillItem(fill, item(fill.symbol))), null, 1), ctx);
      assert.deepEqual(fillPage, { ok: true, items: fills, skipped: [], cursor: null });
      const positionPage = decodePositionList(encodeListReply(positions.map((report) => encodePositionItem(report, item(report.symbol))), null, 1), ctx);
      assert.deepEqual(positionPage, { ok: true, items: positions, skipped: [], cursor: null });
    }), { numRuns: 100 });
  });

  void it('re-encodes the decoded execution fixture to the same fill', () => {
    const event = decodeOk(fixture('ws.private.execution.json')).events[0];
    assert.ok(event?.type === 'FillReceived');
    const item = encodeFillItem(event, btc);
    assert.deepEqual([item.execPrice, item.execQty, item.execFee, item.execValue, item.seq], ['95900.1', '0.5', '26.3725275', '47950.05', 140612148849382]);
  });
});

void describe('bybit codec: no input makes a decoder throw', () => {
  const messages = [fixture('ws.private.execution.json'), { topic: 'order', data: [linearMarketOrder] }, withItem('ws.private.position.json', { positionIdx: 0 }),
    fixture('ws.public.tickers.linear.snapshot.json')];

  void it('arbitrary JSON values', () => {
    fc.assert(fc.property(fc.jsonValue(), (value) => {
      assert.equal(typeof decodeStreamMessage(value, ctx).ok, 'boolean');
      for (const decode of [decodeInstruments, decodeCreateReply, (reply: unknown) => decodeOrderList(reply, ctx)]) assert.equal(typeof decode(value).ok, 'boolean');
    }), { numRuns: 500 });
  });

  void it('real messages with one field replaced by an arbitrary JSON value', () => {
    fc.assert(fc.property(fc.constantFrom(...messages), fc.nat(), fc.jsonValue(), (message, pick, value) => {
      const copy = structuredClone(message);
      const data = copy.data;
      const target = Array.isArray(data) && isJson(data[0]) ? data[0] : isJson(data) ? data : copy;
      const keys = Object.keys(target);
      target[keys[pick % keys.length]!] = value;
      assert.equal(typeof decodeStreamMessage(copy, ctx).ok, 'boolean');
    }), { numRuns: 1000 });
  });
});
