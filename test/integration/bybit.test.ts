// The bot on Bybit, end to end: the engine and the Bybit adapter (the real ccxt client, real HTTP
// and WebSocket sockets) against the Bybit v5 emulator on loopback. The scenarios the issue names:
// an entry with its attached stop; stream pushes before the REST reply; a reconnect while a
// take-profit fills; a create whose outcome is unknown; a rate-limit burst; a restart with a
// position already open and unprotected on the venue (one of them larger than one market order
// takes). After each: every venue fill booked (no event
// lost), no duplicate order, no write while the private stream was down, and the engine's positions
// equal the emulator's.

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { parseClientOrderId } from '../../src/core/ids.ts';
import { effectiveSizeLots } from '../../src/core/position/position.ts';
import { EmulatorServer } from '../../src/emulator/server.ts';
import { instrument } from '../../src/sim/instruments.ts';
import { createBybitVenue } from '../../src/venues/bybit/live.ts';
import { VenueStartError } from '../../src/venues/port.ts';
import { signedGet, signedPost, testKeys } from '../emulator/client.ts';
import type { LiveBot } from './live-bot.ts';
import { assertConverged, startLiveBot } from './live-bot.ts';

const servers: EmulatorServer[] = [];
const bots: LiveBot[] = [];
after(async () => {
  for (const bot of bots) await bot.stop();
  for (const server of servers) await server.close();
});

async function emulator(options: Partial<ConstructorParameters<typeof EmulatorServer>[0]> = {}): Promise<{ server: EmulatorServer; port: number }> {
  const server = new EmulatorServer({ symbols: ['SOLUSDT', 'DOGEUSDT', 'ETHUSDT'], seed: 5, ...options });
  servers.push(server);
  return { server, port: await server.listen() };
}

async function bot(port: number, requestTimeoutMs?: number): Promise<LiveBot> {
  const started = await startLiveBot(port, ['SOLUSDT', 'DOGEUSDT', 'ETHUSDT'], {}, requestTimeoutMs);
  bots.push(started);
  await started.until('trading', () => started.state.lifecycle.phase === 'trading');
  return started;
}

const open = (requestId: string, symbol: string, extra: Record<string, unknown> = {}) =>
  ({ type: 'OpenRequested', requestId, symbol, side: 'buy', size: { notional: '200' }, entry: { kind: 'market' }, stopLoss: { percent: 2 }, takeProfit: null, ...extra }) as const;

function sizeOf(live: LiveBot, symbol: string): number {
  const position = [...live.state.positions.values()].find((candidate) => candidate.symbol === symbol);
  return position === undefined ? 0 : effectiveSizeLots(position);
}


describe('the bot on Bybit (ccxt) against the v5 emulator', { timeout: 90_000 }, () => {
  it('opens a position with its stop attached: protected from the fill, fills booked exactly', async () => {
    const { server, port } = await emulator();
    const live = await bot(port);
    live.send(open('a1', 'SOLUSDT'));
    await live.until('a long SOLUSDT with its stop on the venue', () => sizeOf(live, 'SOLUSDT') > 0 && server.audit().positions.some((p) => p.symbol === 'SOLUSDT' && p.protected));
    const position = server.audit().positions.find((p) => p.symbol === 'SOLUSDT');
    assert.equal(position?.unprotectedMsLongest, 0, 'the venue held the stop from the instant of the fill');
    await live.until('the fill booked', () => live.state.fillIds.size === server.audit().fills.length);
    const engine = [...live.state.positions.values()].find((p) => p.symbol === 'SOLUSDT');
    assert.deepEqual([engine?.feesE8, engine?.costTicksLots], [position?.feesE8, position?.costTicksLots]);
    await assertConverged(live, server);
  });

  it('applies stream pushes that arrive before the REST reply of the create', async () => {
    const { server, port } = await emulator({ replyDelayMs: 400 });
    const live = await bot(port);
    live.send(open('b1', 'DOGEUSDT'));
    await live.until('the create acknowledged', () => live.applied.some(({ event }) => event.type === 'OrderSubmitAcked'));
    const types = live.applied.map(({ event }) => event.type);
    const fillAt = types.indexOf('FillReceived');
    assert.ok(fillAt >= 0 && fillAt < types.indexOf('OrderSubmitAcked'), `the fill came first: ${types.slice(-12).join(' ')}`);
    await live.until('positions equal', () => sizeOf(live, 'DOGEUSDT') === server.audit().positions.find((p) => p.symbol === 'DOGEUSDT')?.sizeLots);
    await assertConverged(live, server);
  });

  it('books a take-profit that fills while the streams are down, from the snapshot after the reconnect', async () => {
    const { server, port } = await emulator();
    const live = await bot(port);
    live.send(open('c1', 'ETHUSDT', { takeProfit: { percent: 1 } }));
    await live.until('long ETHUSDT', () => sizeOf(live, 'ETHUSDT') > 0);
    const fillsBefore = live.state.fillIds.size;
    server.dropConnections();
    server.setPrice('ETHUSDT', '3100'); // through the take-profit at +1 %
    await live.until('the take-profit booked and the position flat', () => sizeOf(live, 'ETHUSDT') === 0 && live.state.fillIds.size > fillsBefore, 15_000);
    assert.ok(live.notices.some((notice) => notice.code === 'stream-down'));
    assert.ok(live.state.reconcile.runs >= 2, 'reconciled again after the reconnect');
    await live.until('trading again', () => live.state.lifecycle.phase === 'trading', 15_000);
    await assertConverged(live, server);
  });

  it('asks for a create whose reply never came, by orderLinkId, and never sends it again', async () => {
    const { server, port } = await emulator();
    const live = await bot(port, 1_000);
    server.unknownOutcome(1);
    live.send(open('d1', 'SOLUSDT'));
    await live.until('the outcome unknown', () => live.applied.some(({ event }) => event.type === 'OrderSubmitUnknown'));
    await live.until('the order found by its id', () => live.applied.some(({ event }) => event.type === 'OrderQueried' && event.report !== null) || [...live.state.orders.values()].some((order) => order.role === 'entry' && order.status === 'filled'));
    await live.until('long SOLUSDT', () => sizeOf(live, 'SOLUSDT') > 0);
    const entries = server.audit().submissions.filter((submission) => parseClientOrderId('it', submission.clientOrderId ?? '')?.role === 'entry');
    assert.equal(entries.length, 1, 'the entry was sent once');
    await assertConverged(live, server);
  });

  it('waits out a rate limit and sends every request once the venue allows it, protective ones first', async () => {
    const { server, port } = await emulator({ rateLimits: { '/v5/order/create': 1 } });
    const live = await bot(port);
    for (const [index, symbol] of ['SOLUSDT', 'DOGEUSDT', 'ETHUSDT'].entries()) live.send(open(`e${index}`, symbol));
    await live.until('three positions', () => ['SOLUSDT', 'DOGEUSDT', 'ETHUSDT'].every((symbol) => sizeOf(live, symbol) > 0), 15_000);
    assert.ok(server.requests.some((request) => request.retCode === 10006) || live.log.some((line) => line.includes('rate limited')), 'the emulator or the queue held some back');
    await assertConverged(live, server);
  });

  it('refuses to start with a wrong secret or a skewed clock, saying what to do, with no key or secret in the message', async () => {
    const { port } = await emulator();
    const venueOf = (apiSecret: string, clockMs: () => number) => createBybitVenue(
      { network: 'custom', restUrl: `http://127.0.0.1:${port}`, wsPublicUrl: `ws://127.0.0.1:${port}/v5/public/linear`, wsPrivateUrl: `ws://127.0.0.1:${port}/v5/private`, apiKey: 'testkey', apiSecret },
      { clock: { nowMs: clockMs, schedule: () => undefined }, deliver: () => undefined, log: () => undefined },
    );
    const wrong = venueOf('not-the-secret', Date.now);
    await assert.rejects(wrong.start(['SOLUSDT']), (error: unknown) => {
      assert.ok(error instanceof VenueStartError);
      assert.match(error.message, /refused the API key or its signature/);
      assert.ok(!error.message.includes('testkey') && !error.message.includes('not-the-secret'), error.message);
      return true;
    });
    await wrong.close();
    const behind = venueOf('testsecret', () => Date.now() - 60_000);
    await assert.rejects(behind.start(['SOLUSDT']), /clock is \d+ ms behind Bybit's; .* synchronise the clock \(NTP\)/);
    await behind.close();
    // Bybit refuses a request stamped a second or more ahead of its clock, whatever the recv
    // window: a clock 1.5 s ahead is refused at start (a check of half the window let it pass).
    const ahead = venueOf('testsecret', () => Date.now() + 1_500);
    await assert.rejects(ahead.start(['SOLUSDT']), /clock is \d+ ms ahead of Bybit's/);
    await ahead.close();
    // A clock 800 ms ahead passes the check (the start goes on, to the next refusal).
    const close = venueOf('testsecret', () => Date.now() + 800);
    await assert.rejects(close.start(['SOLUSDT', 'FOOUSDT']), /Bybit lists no trading USDT perpetual FOOUSDT/);
    await close.close();
    const unknown = venueOf('testsecret', Date.now);
    await assert.rejects(unknown.start(['SOLUSDT', 'FOOUSDT']), /Bybit lists no trading USDT perpetual FOOUSDT/);
    await unknown.close();
  });

  it('amends a working order by its orderLinkId and sets a position\'s own stop through trading-stop', async () => {
    const { server, port } = await emulator();
    const live = await bot(port);
    live.send(open('g1', 'SOLUSDT', { entry: { kind: 'limit', price: '140' } })); // resting under the market (150)
    await live.until('the limit entry working', () => [...live.state.orders.values()].some((order) => order.role === 'entry' && order.status === 'accepted'));
    const entry = [...live.state.orders.values()].find((order) => order.role === 'entry');
    assert.ok(entry !== undefined);
    assert.deepEqual(await live.venue.amendOrder(entry.key, 'SOLUSDT', { priceTicks: 14_100 }), { ok: true });
    // As any Bybit client sees it: the same orderLinkId, the new price.
    const working = await signedGet(port, '/v5/order/realtime', `category=linear&symbol=SOLUSDT&orderLinkId=${entry.key}`, Date.now(), { keys: testKeys });
    assert.equal((working.json.result.list as { price?: string }[])[0]?.price, '141', JSON.stringify(working.json.result));
    const missing = await live.venue.amendOrder('it-1-e', 'SOLUSDT', { priceTicks: 14_200 });
    assert.ok(!missing.ok && missing.kind === 'rejected' && missing.code === 'not-found', JSON.stringify(missing));

    live.send(open('g2', 'ETHUSDT'));
    await live.until('long ETHUSDT', () => sizeOf(live, 'ETHUSDT') > 0);
    const lower = 285_000; // 2,850.00: under the attached stop, the position's own stop moved by trading-stop
    assert.deepEqual(await live.venue.setPositionProtection('ETHUSDT', { stopLoss: { triggerTicks: lower, triggerBy: 'mark' } }), { ok: true });
    assert.equal(server.audit().positions.find((p) => p.symbol === 'ETHUSDT')?.stopLossTicks, lower);
    await live.until('the position push with the new stop', () => [...live.state.positions.values()].some((p) => p.symbol === 'ETHUSDT' && p.venue?.stopLossTicks === lower));
    await assertConverged(live, server);
  });

  it('restarts with a position open and unprotected on the venue: adopts it and puts a stop on it', async () => {
    const { server, port } = await emulator();
    // Someone buys by hand, with no stop, while the bot is down.
    const placed = await signedPost(port, '/v5/order/create', { category: 'linear', symbol: 'DOGEUSDT', side: 'Buy', orderType: 'Market', qty: '1000' }, Date.now(), { keys: testKeys });
    assert.equal(placed.json.retCode, 0, placed.json.retMsg);
    assert.ok(server.audit().positions.some((p) => p.symbol === 'DOGEUSDT' && p.sizeLots > 0 && !p.protected));
    const live = await bot(port);
    await live.until('a stop on the adopted position', () => server.audit().positions.some((p) => p.symbol === 'DOGEUSDT' && p.protected));
    assert.ok(live.state.reconcile.unknownPositions >= 1);
    await assertConverged(live, server);
  });

  it("adopts a position larger than one market order takes: its own stop-loss through trading-stop, then closes it in parts", async () => {
    const { server, port } = await emulator();
    // Bybit lists DOGEUSDT with a market maximum of 400 (only the listing changes here: the
    // emulator would still take more, so any larger order the bot sent would show below).
    server.exchange.relist({ ...instrument('DOGEUSDT'), maxMarketLots: 400 });
    const placed = await signedPost(port, '/v5/order/create', { category: 'linear', symbol: 'DOGEUSDT', side: 'Buy', orderType: 'Market', qty: '1000' }, Date.now(), { keys: testKeys });
    assert.equal(placed.json.retCode, 0, placed.json.retMsg);
    const live = await bot(port);
    await live.until("the position's own stop-loss on the venue", () => (server.audit().positions.find((p) => p.symbol === 'DOGEUSDT')?.stopLossTicks ?? null) !== null);
    assert.ok(live.notices.some((notice) => notice.code === 'position-stop-instead'));
    const botOrders = () => server.audit().submissions.filter((submission) => submission.spec.symbol === 'DOGEUSDT' && parseClientOrderId('it', submission.clientOrderId ?? '') !== null);
    assert.deepEqual(botOrders().filter((submission) => submission.spec.type.kind === 'stop-market'), [], 'no stop order larger than the venue takes');
    live.send({ type: 'CloseRequested', requestId: 'c1', symbol: 'DOGEUSDT' });
    await live.until('flat', () => sizeOf(live, 'DOGEUSDT') === 0 && server.audit().positions.every((p) => p.symbol !== 'DOGEUSDT' || p.sizeLots === 0));
    const exits = botOrders().filter((submission) => submission.spec.type.kind === 'market').map((submission) => submission.spec.sizeLots);
    assert.deepEqual(exits, [400, 400, 200]);
    await assertConverged(live, server);
  });
});
