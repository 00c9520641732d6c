// The real ccxt client (ccxt.pro.bybit 4.5.84) against the Bybit v5 emulator, configured as
// ../shared/notes/ccxt-bybit.md section 0 recommends: loadMarkets, createOrder with a client order
// id and a stop-loss, watchOrders resolving with that order, fetchPositions, and the cancel of a
// resting limit. Every ccxt promise has a catch and the exchange is closed, so the process exits.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import ccxt from 'ccxt';
import type { Order } from 'ccxt';
import { EmulatorServer } from '../../src/emulator/server.ts';
import { localBybitUrls } from '../../src/emulator/urls.ts';

/** Every string in the URL tree, to prove nothing points at a real Bybit host. */
function urlsOf(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (typeof value === 'object' && value !== null) return Object.values(value).flatMap(urlsOf);
  return [];
}

describe('Bybit v5 emulator: the real ccxt client', { timeout: 30_000 }, () => {
  const server = new EmulatorServer({ symbols: ['BTCUSDT', 'SOLUSDT'], seed: 11 });
  let exchange: InstanceType<typeof ccxt.pro.bybit> | null = null;

  before(async () => {
    const port = await server.listen();
    exchange = new ccxt.pro.bybit({
      apiKey: 'testkey', secret: 'testsecret',
      urls: { api: localBybitUrls(port) },
      has: { fetchCurrencies: false },
      options: {
        defaultType: 'swap', defaultSubType: 'linear', defaultSettle: 'USDT',
        fetchMarkets: { types: ['linear'] },
        enableUnifiedMargin: false, enableUnifiedAccount: true, unifiedMarginStatus: 6,
        watchPositions: { fetchPositionsSnapshot: true, awaitPositionsSnapshot: false },
      },
    });
    await exchange.loadHttpProxyAgent();
    const remote = urlsOf(exchange.urls.api).filter((url) => /bybit|bytick|\{hostname\}/.test(url));
    assert.deepEqual(remote, []);
  });

  after(async () => {
    await exchange?.close().catch(() => undefined);
    await server.close();
  });

  it('loads markets, creates with a client id and a stop-loss, watches the order, fetches positions, cancels a limit', async () => {
    const ex = exchange;
    assert.ok(ex !== null);
    const markets = await ex.loadMarkets();
    const btc = markets['BTC/USDT:USDT'];
    assert.ok(btc !== undefined);
    assert.deepEqual([btc.precision.price, btc.precision.amount, btc.limits.amount?.min], [0.1, 0.001, 0.001]);

    // Subscribe first (the first call authenticates and subscribes), then trade.
    const watched: Order[] = [];
    let watchError: unknown = null;
    const sawEntry = (async () => {
      while (!watched.some((order) => order.clientOrderId === 'ccxt-entry-1' && order.status === 'closed')) {
        watched.push(...(await ex.watchOrders()));
      }
    })().catch((error: unknown) => {
      watchError = error;
    });
    await server.subscribed('order');

    const entry = await ex.createOrder('BTC/USDT:USDT', 'market', 'buy', 0.002, undefined, { clientOrderId: 'ccxt-entry-1', stopLoss: { triggerPrice: 59_000 } });
    assert.equal(entry.clientOrderId, 'ccxt-entry-1');
    await sawEntry;
    assert.equal(watchError, null);
    const seen = watched.find((order) => order.clientOrderId === 'ccxt-entry-1' && order.status === 'closed');
    assert.deepEqual([seen?.id, seen?.filled, seen?.side, seen?.stopLossPrice], [entry.id, 0.002, 'buy', 59_000]);

    const positions = await ex.fetchPositions();
    assert.equal(positions.length, 1);
    assert.deepEqual([positions[0]?.symbol, positions[0]?.contracts, positions[0]?.side, positions[0]?.stopLossPrice], ['BTC/USDT:USDT', 0.002, 'long', 59_000]);

    const resting = await ex.createOrder('SOL/USDT:USDT', 'limit', 'buy', 1, 140, { clientOrderId: 'ccxt-limit-1' });
    const open = await ex.fetchOpenOrders('SOL/USDT:USDT');
    assert.deepEqual(open.map((order) => order.clientOrderId), ['ccxt-limit-1']);
    assert.ok(resting.id !== undefined);
    await ex.cancelOrder(resting.id, 'SOL/USDT:USDT');
    assert.deepEqual(await ex.fetchOpenOrders('SOL/USDT:USDT'), []);
    const duplicate = await ex.createOrder('SOL/USDT:USDT', 'limit', 'buy', 1, 140, { clientOrderId: 'ccxt-limit-1' }).then(() => null, (error: unknown) => error);
    assert.ok(duplicate instanceof ccxt.InvalidOrder, String(duplicate));
    await assert.rejects(ex.setLeverage(10, 'BTC/USDT:USDT'), ccxt.BadRequest); // 110043: already 10x

    // What ccxt sent, as the notes say: the link id and the stop-loss as strings in the create body,
    // and no call the emulator does not know (no account-info or coin-info detours).
    const creates = server.requests.filter((request) => request.url === '/v5/order/create').map((request) => JSON.parse(request.body) as Record<string, unknown>);
    assert.deepEqual(creates[0], { symbol: 'BTCUSDT', side: 'Buy', orderType: 'Market', orderLinkId: 'ccxt-entry-1', category: 'linear', qty: '0.002', stopLoss: '59000' });
    assert.deepEqual(server.requests.filter((request) => request.status !== 200), []);
    assert.deepEqual(server.problems, []);
  });
});
