// The Bybit v5 emulator's REST API against the project's own decoders: every reply decodes with
// src/venues/bybit/rest.ts, lists page with cursors, signatures and clock skew are refused with
// Bybit's codes, orders are created, amended and cancelled, Bybit's refusals have Bybit's codes,
// and the rate limit answers 10006 with its headers. The server's clock is held still by the test.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Fill } from '../../src/core/events.ts';
import type { Instrument } from '../../src/core/instrument.ts';
import ccxt from 'ccxt';
import { EmulatorServer } from '../../src/emulator/server.ts';
import { instrument } from '../../src/sim/instruments.ts';
import { failureOf } from '../../src/venues/bybit/live.ts';
import {
  decodeCreateReply, decodeExecutionList, decodeInstruments, decodeOrderList, decodePositionList, decodeTickerList, decodeWalletBalance,
} from '../../src/venues/bybit/rest.ts';
import type { Reply } from './client.ts';
import { publicGet, sign, signedGet, signedPost, testKeys } from './client.ts';

const symbols = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'DOGEUSDT'];
const instruments: ReadonlyMap<string, Instrument> = new Map(symbols.map((symbol) => [symbol, instrument(symbol)]));
const ctx = { instruments };
const startMs = 1_760_000_000_000;

function okItems<T>(decoded: { ok: true; items: T[]; cursor: string | null } | { ok: false; error: string }): { items: T[]; cursor: string | null } {
  if (!decoded.ok) assert.fail(decoded.error);
  return decoded;
}

describe('Bybit v5 emulator: REST', { timeout: 30_000 }, () => {
  let nowMs = startMs;
  const server = new EmulatorServer({ symbols, seed: 7, clock: () => nowMs, rateLimits: null });
  let port = 0;
  const get = (path: string, query: string): Promise<Reply> => signedGet(port, path, query, nowMs);
  const post = (path: string, body: Record<string, unknown>): Promise<Reply> => signedPost(port, path, body, nowMs);

  before(async () => {
    port = await server.listen();
  });
  after(async () => {
    await server.close();
  });

  it('answers market time, instruments and tickers in shapes the decoders read', async () => {
    const time = await publicGet(port, '/v5/market/time', '');
    assert.equal(time.json.retCode, 0);
    assert.equal(time.json.time, nowMs);
    assert.equal(time.json.result.timeSecond, String(Math.floor(nowMs / 1000)));

    const all = okItems(decodeInstruments((await publicGet(port, '/v5/market/instruments-info', 'category=linear&limit=1000')).json));
    assert.deepEqual(all.items, symbols.map((symbol) => instrument(symbol)));
    assert.equal(all.cursor, null);
    const preLaunch = okItems(decodeInstruments((await publicGet(port, '/v5/market/instruments-info', 'category=linear&limit=1000&status=PreLaunch')).json));
    assert.deepEqual(preLaunch.items, []);
    // One per page, following nextPageCursor as ccxt does (sent back raw, as it came).
    const paged: string[] = [];
    let cursor: string | null = '';
    while (cursor !== null) {
      const reply = await publicGet(port, '/v5/market/instruments-info', `category=linear&limit=1${cursor === '' ? '' : `&cursor=${cursor}`}`);
      const page = okItems(decodeInstruments(reply.json));
      paged.push(...page.items.map((item) => item.symbol));
      cursor = page.cursor;
    }
    assert.deepEqual(paged, symbols);

    server.setPrice('BTCUSDT', '61000.5', '61000.2');
    const tickers = okItems(decodeTickerList((await publicGet(port, '/v5/market/tickers', 'category=linear')).json, ctx));
    const btc = tickers.items.find((ticker) => ticker.symbol === 'BTCUSDT');
    assert.deepEqual(btc, { symbol: 'BTCUSDT', lastTicks: 610_005, markTicks: 610_002, venueMs: nowMs });
    const one = await publicGet(port, '/v5/market/tickers', 'category=linear&symbol=NOPEUSDT');
    assert.deepEqual([one.json.retCode, one.json.retMsg], [10001, 'Not supported symbols']);
  });

  it('checks signatures and the time window on the bytes received', async () => {
    const good = await get('/v5/account/wallet-balance', 'accountType=UNIFIED');
    assert.equal(good.json.retCode, 0);
    const unknownKey = await signedGet(port, '/v5/account/wallet-balance', 'accountType=UNIFIED', nowMs, { keys: { key: 'nokey', secret: 'x' } });
    assert.deepEqual([unknownKey.json.retCode, unknownKey.json.retMsg], [10003, 'API key is invalid.']);
    const badSign = await signedGet(port, '/v5/account/wallet-balance', 'accountType=UNIFIED', nowMs, { keys: { key: testKeys.key, secret: 'wrong' } });
    assert.equal(badSign.json.retCode, 10004);
    assert.equal(badSign.json.retMsg, `error sign! origin_string[${nowMs}testkey5000accountType=UNIFIED]`);
    // The server's clock runs 6 s ahead of the client's: outside the 5 s receive window.
    const clientMs = nowMs;
    nowMs += 6000;
    const late = await signedGet(port, '/v5/account/wallet-balance', 'accountType=UNIFIED', clientMs);
    nowMs = clientMs;
    assert.equal(late.json.retCode, 10002);
    assert.ok(late.json.retMsg.includes(`req_timestamp[${clientMs}],server_timestamp[${clientMs + 6000}]`));
    assert.match(late.json.retMsg, /^invalid request, please check your server timestamp or recv_window param\. req_timestamp\[\d+\],server_timestamp\[\d+\],recv_window\[5000\]$/);
    const early = await signedGet(port, '/v5/account/wallet-balance', 'accountType=UNIFIED', nowMs, { timestampMs: nowMs + 1000 });
    assert.equal(early.json.retCode, 10002);
    const wide = await signedGet(port, '/v5/account/wallet-balance', 'accountType=UNIFIED', nowMs, { timestampMs: nowMs - 6000, recvWindow: '10000' });
    assert.equal(wide.json.retCode, 0);
    // The body is signed as sent: the same fields in another order are another signature.
    const body = { category: 'linear', symbol: 'SOLUSDT', side: 'Buy', orderType: 'Market', qty: '1' };
    const text = JSON.stringify(body);
    const reordered = await signedPost(port, '/v5/order/create', { symbol: 'SOLUSDT', category: 'linear', side: 'Buy', orderType: 'Market', qty: '1' }, nowMs, {
      signature: sign(testKeys.secret, `${nowMs}testkey5000${text}`),
    });
    assert.equal(reordered.json.retCode, 10004);
    const unknownRoute = await fetch(`http://127.0.0.1:${port}/v5/asset/coin/query-info`);
    assert.equal(unknownRoute.status, 404);
    await unknownRoute.text();
  });

  it('creates, finds, amends and cancels an order; every reply decodes', async () => {
    server.setPrice('SOLUSDT', '150');
    const created = await post('/v5/order/create', {
      symbol: 'SOLUSDT', side: 'Buy', orderType: 'Limit', orderLinkId: 'rest-1', category: 'linear', qty: '2.5', price: '140', timeInForce: 'GTC', stopLoss: '130', slTriggerBy: 'MarkPrice',
    });
    const reply = decodeCreateReply(created.json);
    assert.ok(reply.ok, JSON.stringify(created.json));
    assert.equal(reply.clientOrderId, 'rest-1');
    const found = okItems(decodeOrderList((await get('/v5/order/realtime', 'symbol=SOLUSDT&orderLinkId=rest-1&category=linear')).json, ctx));
    assert.equal(found.items.length, 1);
    assert.deepEqual(
      { ...found.items[0], venueUpdatedMs: 0 },
      {
        symbol: 'SOLUSDT', venueOrderId: reply.venueOrderId, clientOrderId: 'rest-1', side: 'buy', orderKind: 'limit', status: 'new', sizeLots: 25, filledLots: 0,
        priceTicks: 14_000, triggerTicks: null, reduceOnly: false, positionTrigger: null, stopLossTicks: 13_000, takeProfitTicks: null, venueUpdatedMs: 0, reason: null,
      },
    );

    const amended = await post('/v5/order/amend', { symbol: 'SOLUSDT', orderLinkId: 'rest-1', category: 'linear', price: '141', qty: '3' });
    assert.deepEqual(decodeCreateReply(amended.json), { ok: true, venueOrderId: reply.venueOrderId, clientOrderId: 'rest-1' });
    const after = okItems(decodeOrderList((await get('/v5/order/realtime', `symbol=SOLUSDT&orderId=${reply.venueOrderId}&category=linear`)).json, ctx));
    assert.deepEqual([after.items[0]?.priceTicks, after.items[0]?.sizeLots, after.items[0]?.stopLossTicks, after.items[0]?.status], [14_100, 30, 13_000, 'new']);
    const unchanged = await post('/v5/order/amend', { symbol: 'SOLUSDT', orderLinkId: 'rest-1', category: 'linear', price: '141' });
    assert.equal(unchanged.json.retCode, 10001);

    const cancelled = await post('/v5/order/cancel', { symbol: 'SOLUSDT', orderId: reply.venueOrderId, category: 'linear' });
    assert.deepEqual(decodeCreateReply(cancelled.json), { ok: true, venueOrderId: reply.venueOrderId, clientOrderId: 'rest-1' });
    const again = await post('/v5/order/cancel', { symbol: 'SOLUSDT', orderLinkId: 'rest-1', category: 'linear' });
    assert.equal(again.json.retCode, 110001);
    const open = okItems(decodeOrderList((await get('/v5/order/realtime', 'settleCoin=USDT&category=linear')).json, ctx));
    assert.equal(open.items.some((order) => order.clientOrderId === 'rest-1'), false);
    // Still found by id once closed, and in the history.
    const closed = okItems(decodeOrderList((await get('/v5/order/realtime', 'symbol=SOLUSDT&orderLinkId=rest-1&category=linear')).json, ctx));
    assert.equal(closed.items[0]?.status, 'cancelled');
    const history = okItems(decodeOrderList((await get('/v5/order/history', 'category=linear&orderStatus=Cancelled')).json, ctx));
    assert.ok(history.items.some((order) => order.clientOrderId === 'rest-1'));
    // A link id is never reused, whatever became of the first order.
    const duplicate = await post('/v5/order/create', { symbol: 'SOLUSDT', side: 'Buy', orderType: 'Limit', orderLinkId: 'rest-1', category: 'linear', qty: '1', price: '140' });
    assert.deepEqual([duplicate.json.retCode, duplicate.json.retMsg], [110072, 'OrderLinkedID is duplicate']);
  });

  it('pages open orders 20 at a time by default, with a cursor to the rest', async () => {
    for (let index = 0; index < 25; index += 1) {
      const created = await post('/v5/order/create', { symbol: 'DOGEUSDT', side: 'Buy', orderType: 'Limit', orderLinkId: `page-${index}`, category: 'linear', qty: '100', price: '0.19' });
      assert.equal(created.json.retCode, 0, created.json.retMsg);
    }
    const first = okItems(decodeOrderList((await get('/v5/order/realtime', 'settleCoin=USDT&category=linear')).json, ctx));
    assert.equal(first.items.length, 20);
    assert.ok(first.cursor !== null);
    assert.equal(first.items[0]?.clientOrderId, 'page-24'); // newest first
    const second = okItems(decodeOrderList((await get('/v5/order/realtime', `settleCoin=USDT&category=linear&cursor=${first.cursor}`)).json, ctx));
    assert.equal(second.items.length, 5);
    assert.equal(second.cursor, null);
    const ids = new Set([...first.items, ...second.items].map((order) => order.clientOrderId));
    assert.equal(ids.size, 25);
    const tooMany = await get('/v5/order/realtime', 'settleCoin=USDT&category=linear&limit=51');
    assert.equal(tooMany.json.retCode, 10001);
    const noScope = await get('/v5/order/realtime', 'category=linear');
    assert.equal(noScope.json.retCode, 10001);
    const all = await post('/v5/order/cancel-all', { category: 'linear', settleCoin: 'USDT' });
    assert.equal(all.json.retCode, 0);
    assert.equal((all.json.result.list as unknown[]).length, 25);
    assert.equal(all.json.result.success, '1');
    assert.deepEqual(server.venue.openOrders(), []);
  });

  it('fills a market entry with its stop-loss: position, executions and wallet decode and agree with the venue', async () => {
    server.setPrice('ETHUSDT', '3000');
    const created = await post('/v5/order/create', {
      symbol: 'ETHUSDT', side: 'Buy', orderType: 'Market', orderLinkId: 'eth-entry', category: 'linear', qty: '0.5', stopLoss: '2900', takeProfit: '3200',
    });
    assert.equal(created.json.retCode, 0, created.json.retMsg);
    const positions = okItems(decodePositionList((await get('/v5/position/list', 'settleCoin=USDT&limit=200&category=linear')).json, ctx));
    assert.deepEqual(positions.items, server.venue.positionReports());
    assert.deepEqual([positions.items[0]?.symbol, positions.items[0]?.sizeLots, positions.items[0]?.stopLossTicks, positions.items[0]?.takeProfitTicks], ['ETHUSDT', 50, 290_000, 320_000]);
    const flat = okItems(decodePositionList((await get('/v5/position/list', 'symbol=BTCUSDT&category=linear')).json, ctx));
    assert.deepEqual([flat.items.length, flat.items[0]?.sizeLots], [1, 0]);
    const inverse = await get('/v5/position/list', 'category=inverse&limit=200');
    assert.deepEqual([inverse.json.retCode, inverse.json.result.list], [0, []]);

    const fills = okItems(decodeExecutionList((await get('/v5/execution/list', 'execType=Trade&symbol=ETHUSDT&category=linear&limit=100')).json, ctx));
    assert.deepEqual(fills.items, [...server.venue.fills()].filter((fill) => fill.symbol === 'ETHUSDT').reverse());
    const funding = okItems(decodeExecutionList((await get('/v5/execution/list', 'execType=Funding&category=linear')).json, ctx));
    assert.deepEqual(funding.items, []);

    const wallet = okItems(decodeWalletBalance((await get('/v5/account/wallet-balance', 'accountType=UNIFIED')).json));
    assert.deepEqual(wallet.items, [server.venue.wallet(nowMs)]);

    // Position protection by trading-stop: positionIdx and tpslMode may be left out (ccxt does).
    const moved = await post('/v5/position/trading-stop', { symbol: 'ETHUSDT', stopLoss: '2950', slTriggerBy: 'MarkPrice', category: 'linear' });
    assert.equal(moved.json.retCode, 0, moved.json.retMsg);
    assert.equal(server.venue.position('ETHUSDT').stopLossTicks, 295_000);
    const same = await post('/v5/position/trading-stop', { symbol: 'ETHUSDT', stopLoss: '2950', category: 'linear' });
    assert.equal(same.json.retCode, 34040);
    // A stop-loss or take-profit the price has passed: Bybit's 10001 and words, which the adapter
    // reads as a crossed trigger (the engine then exits); nothing changes.
    const crossedStop = await post('/v5/position/trading-stop', { symbol: 'ETHUSDT', stopLoss: '3050', category: 'linear' });
    assert.deepEqual([crossedStop.json.retCode, crossedStop.json.retMsg], [10001, 'StopLoss:3050 set for Buy position should lower than base_price:3000??LastPrice']);
    const crossedTarget = await post('/v5/position/trading-stop', { symbol: 'ETHUSDT', takeProfit: '3000', tpTriggerBy: 'MarkPrice', category: 'linear' });
    assert.deepEqual([crossedTarget.json.retCode, crossedTarget.json.retMsg], [10001, 'TakeProfit:3000 set for Buy position should higher than base_price:3000??MarkPrice']);
    for (const crossed of [crossedStop, crossedTarget]) {
      const failure = failureOf(new ccxt.BadRequest(`bybit ${JSON.stringify(crossed.json)}`));
      assert.equal(failure.kind === 'rejected' ? failure.code : failure.kind, 'trigger-crossed', crossed.json.retMsg);
    }
    assert.deepEqual([server.venue.position('ETHUSDT').stopLossTicks, server.venue.position('ETHUSDT').takeProfitTicks], [295_000, 320_000]);
    const flatStop = await post('/v5/position/trading-stop', { symbol: 'BTCUSDT', stopLoss: '50000', category: 'linear', positionIdx: 0 });
    assert.equal(flatStop.json.retCode, 10001);
    // A trailing stop as ccxt sends it (no tpslMode): waiting for 3100, so the stop-loss stays where it is.
    const trailing = await post('/v5/position/trading-stop', { symbol: 'ETHUSDT', category: 'linear', activePrice: '3100', trailingStop: '50' });
    assert.equal(trailing.json.retCode, 0, trailing.json.retMsg);
    const listed = (await get('/v5/position/list', 'symbol=ETHUSDT&category=linear')).json.result.list as { trailingStop?: string; stopLoss?: string }[];
    assert.deepEqual([listed[0]?.trailingStop, listed[0]?.stopLoss], ['50', '2950']);
    const trailingAgain = await post('/v5/position/trading-stop', { symbol: 'ETHUSDT', category: 'linear', activePrice: '3100', trailingStop: '50' });
    assert.equal(trailingAgain.json.retCode, 34040);

    const close = await post('/v5/order/create', { symbol: 'ETHUSDT', side: 'Sell', orderType: 'Market', category: 'linear', qty: '0.5', reduceOnly: true });
    assert.equal(close.json.retCode, 0, close.json.retMsg);
    const none = okItems(decodePositionList((await get('/v5/position/list', 'settleCoin=USDT&category=linear')).json, ctx));
    assert.deepEqual(none.items, []);
    // Executions page one at a time, newest first, through the same cursor scheme.
    const paged: Fill[] = [];
    let cursor: string | null = '';
    while (cursor !== null) {
      const page: { items: Fill[]; cursor: string | null } = okItems(decodeExecutionList((await get('/v5/execution/list', `category=linear&symbol=ETHUSDT&limit=1${cursor === '' ? '' : `&cursor=${cursor}`}`)).json, ctx));
      paged.push(...page.items);
      cursor = page.cursor;
    }
    assert.deepEqual(paged, [...server.venue.fills()].filter((fill) => fill.symbol === 'ETHUSDT').reverse());
    const since = okItems(decodeExecutionList((await get('/v5/execution/list', `category=linear&startTime=${nowMs + 1}`)).json, ctx));
    assert.deepEqual(since.items, []);

    // Seven days a request at most, as Bybit answers: startTime alone is the seven days after it.
    const day = 24 * 3_600_000;
    const count = async (query: string): Promise<number> => okItems(decodeExecutionList((await get('/v5/execution/list', `category=linear&symbol=ETHUSDT&${query}`)).json, ctx)).items.length;
    const all = paged.length;
    assert.deepEqual(
      [await count(`startTime=${nowMs - 8 * day}`), await count(`startTime=${nowMs - 6 * day}`), await count(`endTime=${nowMs}`), await count(`endTime=${nowMs + 8 * day}`), await count('limit=100')],
      [0, all, all, 0, all],
    );
    assert.equal(await count(`startTime=${nowMs - 7 * day}&endTime=${nowMs}`), all, 'seven days exactly is allowed');
    const tooLong = await get('/v5/execution/list', `category=linear&startTime=${nowMs - 7 * day - 1}&endTime=${nowMs}`);
    assert.deepEqual([tooLong.json.retCode, tooLong.json.retMsg], [10001, 'params error: the time between startTime and endTime must be 7 days or less']);
    nowMs += 7 * day + 1;
    assert.equal(await count('limit=100'), 0, 'with no times, the last seven days');
    nowMs -= 7 * day + 1;
  });

  it('refuses what Bybit refuses, with its codes', async () => {
    server.setPrice('BTCUSDT', '60000');
    const create = (body: Record<string, unknown>): Promise<Reply> => post('/v5/order/create', { category: 'linear', symbol: 'BTCUSDT', side: 'Buy', orderType: 'Market', ...body });
    const cases: readonly [string, Record<string, unknown>, number][] = [
      ['qty off the step', { qty: '0.0015' }, 10001],
      ['qty below the minimum', { qty: '0' }, 10001],
      ['qty above the market maximum', { qty: '151' }, 10001],
      ['price off the tick', { orderType: 'Limit', qty: '0.001', price: '59000.05' }, 10001],
      ['price beyond the band', { orderType: 'Limit', qty: '0.001', price: '90000' }, 110003],
      ['below the minimum notional', { orderType: 'Limit', qty: '0.001', price: '4000' }, 110094],
      ['reduce-only with nothing to reduce', { qty: '0.001', reduceOnly: true }, 110017],
      ['more than the balance', { qty: '20' }, 110007],
      ['unknown symbol', { symbol: 'NOPEUSDT', qty: '1' }, 10001],
      ['link id too long', { qty: '0.001', orderLinkId: 'x'.repeat(37) }, 10001],
      ['hedge-mode index', { qty: '0.001', positionIdx: 1 }, 10001],
      ['stop already crossed (rise)', { qty: '0.001', triggerPrice: '59000', triggerDirection: 1 }, 110092],
      ['stop already crossed (fall)', { side: 'Sell', qty: '0.001', triggerPrice: '61000', triggerDirection: 2 }, 110093],
      ['no trigger direction', { qty: '0.001', triggerPrice: '61000' }, 10001],
      ['stop-loss as an object (ccxt editOrder bug)', { qty: '0.001', stopLoss: { triggerPrice: 59000 } }, 10001],
    ];
    for (const [what, body, retCode] of cases) {
      const reply = await create(body);
      assert.equal(reply.json.retCode, retCode, `${what}: ${reply.json.retMsg}`);
    }
    assert.equal((await create({ qty: '0.001' })).json.retCode, 0);
    const unknownLink = await post('/v5/order/cancel', { category: 'linear', symbol: 'BTCUSDT', orderLinkId: 'never-was' });
    assert.equal(unknownLink.json.retCode, 110001);
    const leverage = await post('/v5/position/set-leverage', { symbol: 'BTCUSDT', buyLeverage: '5', sellLeverage: '5', category: 'linear' });
    assert.equal(leverage.json.retCode, 0);
    const leverageAgain = await post('/v5/position/set-leverage', { symbol: 'BTCUSDT', buyLeverage: '5', sellLeverage: '5', category: 'linear' });
    assert.equal(leverageAgain.json.retCode, 110043);
    const conditional = await create({ qty: '0.001', triggerPrice: '61000', triggerDirection: 1, triggerBy: 'MarkPrice', orderLinkId: 'cond-1' });
    assert.equal(conditional.json.retCode, 0, conditional.json.retMsg);
    const stops = okItems(decodeOrderList((await get('/v5/order/realtime', 'symbol=BTCUSDT&orderFilter=StopOrder&category=linear')).json, ctx));
    assert.deepEqual(stops.items.map((order) => [order.clientOrderId, order.orderKind, order.status, order.triggerTicks]), [['cond-1', 'stop-market', 'untriggered', 610_000]]);
    assert.deepEqual(server.problems, []);
  });
});

describe('Bybit v5 emulator: rate limits', { timeout: 30_000 }, () => {
  let nowMs = startMs;
  const server = new EmulatorServer({ symbols: ['SOLUSDT'], clock: () => nowMs });
  let port = 0;

  before(async () => {
    port = await server.listen();
  });
  after(async () => {
    await server.close();
  });

  it('answers the 11th create in a second with 10006, and every response says where the window stands', async () => {
    const body = { category: 'linear', symbol: 'SOLUSDT', side: 'Buy', orderType: 'Limit', qty: '1', price: '140' };
    const statuses: string[] = [];
    for (let index = 0; index < 10; index += 1) {
      const reply = await signedPost(port, '/v5/order/create', body, nowMs);
      assert.equal(reply.json.retCode, 0, reply.json.retMsg);
      assert.equal(reply.headers.get('x-bapi-limit'), '10');
      // Not spent: the reset time is now; spent (the tenth): when the oldest leaves the window.
      assert.equal(reply.headers.get('x-bapi-limit-reset-timestamp'), String(index < 9 ? startMs : startMs + 1000));
      statuses.push(reply.headers.get('x-bapi-limit-status') ?? '');
    }
    assert.deepEqual(statuses, ['9', '8', '7', '6', '5', '4', '3', '2', '1', '0']);
    const refused = await signedPost(port, '/v5/order/create', body, nowMs);
    assert.deepEqual([refused.json.retCode, refused.json.retMsg, refused.headers.get('x-bapi-limit-status')], [10006, 'Too many visits!', '0']);
    assert.equal(refused.headers.get('x-bapi-limit-reset-timestamp'), String(startMs + 1000));
    assert.equal(server.venue.openOrders().length, 10);
    // Another endpoint has its own window; the next second opens a new one.
    const list = await signedGet(port, '/v5/order/realtime', 'settleCoin=USDT&category=linear', nowMs);
    assert.deepEqual([list.json.retCode, list.headers.get('x-bapi-limit'), list.headers.get('x-bapi-limit-status')], [0, '50', '49']);
    nowMs += 1000;
    const next = await signedPost(port, '/v5/order/create', body, nowMs);
    assert.deepEqual([next.json.retCode, next.headers.get('x-bapi-limit-status')], [0, '9']);
    const publicReply = await publicGet(port, '/v5/market/time', '');
    assert.equal(publicReply.headers.get('x-bapi-limit'), null);
  });

  it('counts a request against the second after it (a rolling window, as Bybit documents), not until a fixed window ends', async () => {
    nowMs += 10_000;
    const firstMs = nowMs;
    /** An amend (of no order: answered 110001 once past the limit) at `atMs` on the server's clock: its retCode. */
    const amend = async (atMs: number): Promise<number> => {
      nowMs = atMs;
      return (await signedPost(port, '/v5/order/amend', { category: 'linear', symbol: 'SOLUSDT', orderLinkId: 'none', price: '141' }, atMs)).json.retCode;
    };
    // Five at the start of the second, five 600 ms in: the endpoint's ten.
    assert.equal(await amend(firstMs), 110001, 'past the limit, refused for the order');
    for (let index = 1; index < 5; index += 1) assert.notEqual(await amend(firstMs), 10006);
    for (let index = 0; index < 5; index += 1) assert.notEqual(await amend(firstMs + 600), 10006);
    assert.equal(await amend(firstMs + 999), 10006, 'ten in the last second');
    // A second after the first five, those five have left the window; the other five have not.
    const later: number[] = [];
    for (let index = 0; index < 6; index += 1) later.push(await amend(firstMs + 1_000));
    assert.deepEqual(later.map((code) => code === 10006), [false, false, false, false, false, true], 'five free, not ten (a fixed window would start afresh)');
    assert.equal(await amend(firstMs + 1_599), 10006);
    assert.notEqual(await amend(firstMs + 1_600), 10006, 'the second five have left');
  });
});
