// The Bybit adapter's gateway executing the engine's AmendOrder and SetPositionStop against the
// Bybit v5 emulator with the real ccxt client (real HTTP and WebSocket sockets): each command ends
// in exactly one event (acknowledged, refused with Bybit's reason and the mapped code, or unknown
// when the reply never comes), a "not modified" answer counts as done, and what the venue shows any
// Bybit client (order/realtime, position/list, the position stream, order/history) agrees: the
// order amended in place, the position's stop-loss moved by trading-stop, and a trailing stop that
// ratchets the stop-loss up with the price and closes the position as a TrailingStop.

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { ClientOrderId } from '../../src/core/ids.ts';
import type { OrderSpec } from '../../src/core/types.ts';
import { EmulatorServer } from '../../src/emulator/server.ts';
import { signedGet, Stream, testKeys } from '../emulator/client.ts';
import type { LiveGateway } from './live-bot.ts';
import { startLiveGateway } from './live-bot.ts';

const servers: EmulatorServer[] = [];
const gateways: LiveGateway[] = [];
const streams: Stream[] = [];
after(async () => {
  for (const stream of streams) stream.close();
  for (const gateway of gateways) await gateway.stop();
  for (const server of servers) await server.close();
});

async function emulatorAndGateway(requestTimeoutMs?: number, recvWindowMs?: number): Promise<{ server: EmulatorServer; port: number; gateway: LiveGateway }> {
  const server = new EmulatorServer({ symbols: ['SOLUSDT', 'ETHUSDT'], seed: 8 });
  servers.push(server);
  const port = await server.listen();
  const gateway = await startLiveGateway(port, ['SOLUSDT', 'ETHUSDT'], requestTimeoutMs, recvWindowMs);
  gateways.push(gateway);
  return { server, port, gateway };
}

const cid = (text: string): ClientOrderId => text as ClientOrderId;

type Json = Record<string, unknown>;

async function listed(port: number, path: string, query: string): Promise<Json[]> {
  const reply = await signedGet(port, path, query, Date.now(), { keys: testKeys });
  assert.equal(reply.json.retCode, 0, reply.json.retMsg);
  return reply.json.result.list as Json[];
}

const limitBuy = (symbol: string, sizeLots: number, priceTicks: number): OrderSpec => ({ symbol, side: 'buy', sizeLots, reduceOnly: false, type: { kind: 'limit', priceTicks, postOnly: false } });
const marketBuy = (symbol: string, sizeLots: number): OrderSpec => ({ symbol, side: 'buy', sizeLots, reduceOnly: false, type: { kind: 'market' } });

describe('the Bybit gateway: AmendOrder and SetPositionStop against the v5 emulator', { timeout: 60_000 }, () => {
  it('amends a working order by its orderLinkId: in place, "not modified" counted as done, refusals with Bybit\'s reason', async () => {
    const { server, port, gateway } = await emulatorAndGateway();
    const created = await gateway.execute({ type: 'SubmitOrder', commandId: 1, clientOrderId: cid('gw-1-e1'), spec: limitBuy('SOLUSDT', 10, 14_000) });
    assert.equal(created.type, 'OrderSubmitAcked', JSON.stringify(created));
    const orderId = created.type === 'OrderSubmitAcked' ? created.venueOrderId : '';

    assert.deepEqual(
      await gateway.execute({ type: 'AmendOrder', commandId: 2, clientOrderId: cid('gw-1-e1'), symbol: 'SOLUSDT', amendment: { priceTicks: 14_100, sizeLots: 20 } }),
      { type: 'OrderAmendAcked', commandId: 2, clientOrderId: 'gw-1-e1' },
    );
    const [working] = await listed(port, '/v5/order/realtime', 'category=linear&symbol=SOLUSDT&orderLinkId=gw-1-e1');
    assert.deepEqual([working?.orderId, working?.price, working?.qty, working?.orderStatus], [orderId, '141', '2', 'New'], 'amended in place: the same orderId');

    // The same price again: Bybit answers 10001 "remains unchanged"; the venue holds it, so it is done.
    assert.deepEqual(
      await gateway.execute({ type: 'AmendOrder', commandId: 3, clientOrderId: cid('gw-1-e1'), symbol: 'SOLUSDT', amendment: { priceTicks: 14_100 } }),
      { type: 'OrderAmendAcked', commandId: 3, clientOrderId: 'gw-1-e1' },
    );
    assert.ok(server.requests.some((request) => request.url.startsWith('/v5/order/amend') && request.retCode === 10001), 'the emulator did answer 10001');
    assert.ok(gateway.log.some((line) => line.includes('amend of gw-1-e1: the venue already holds it')), gateway.log.join('\n'));

    const missing = await gateway.execute({ type: 'AmendOrder', commandId: 4, clientOrderId: cid('gw-9-e1'), symbol: 'SOLUSDT', amendment: { priceTicks: 14_200 } });
    assert.ok(missing.type === 'OrderAmendRejected' && missing.code === 'not-found' && /retCode 110001/.test(missing.reason), JSON.stringify(missing));

    // A reduce-only stop under a long: its trigger moved up, then refused when moved through the price.
    assert.equal((await gateway.execute({ type: 'SubmitOrder', commandId: 5, clientOrderId: cid('gw-2-e1'), spec: marketBuy('ETHUSDT', 50) })).type, 'OrderSubmitAcked');
    const stop: OrderSpec = { symbol: 'ETHUSDT', side: 'sell', sizeLots: 50, reduceOnly: true, type: { kind: 'stop-market', triggerTicks: 290_000, triggerBy: 'last' } };
    assert.equal((await gateway.execute({ type: 'SubmitOrder', commandId: 6, clientOrderId: cid('gw-2-s1'), spec: stop })).type, 'OrderSubmitAcked');
    assert.equal((await gateway.execute({ type: 'AmendOrder', commandId: 7, clientOrderId: cid('gw-2-s1'), symbol: 'ETHUSDT', amendment: { triggerTicks: 295_000 } })).type, 'OrderAmendAcked');
    assert.equal(server.venue.queryOrder({ clientOrderId: 'gw-2-s1' })?.triggerTicks, 295_000);
    const crossed = await gateway.execute({ type: 'AmendOrder', commandId: 8, clientOrderId: cid('gw-2-s1'), symbol: 'ETHUSDT', amendment: { triggerTicks: 301_000 } });
    assert.ok(crossed.type === 'OrderAmendRejected' && crossed.code === 'trigger-crossed' && /retCode 110093/.test(crossed.reason), JSON.stringify(crossed));
    assert.equal(server.venue.queryOrder({ clientOrderId: 'gw-2-s1' })?.triggerTicks, 295_000, 'a refused amend changes nothing');

    assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8].map((commandId) => gateway.eventsOf(commandId)), [1, 1, 1, 1, 1, 1, 1, 1], 'exactly one event per command');
    assert.deepEqual(server.venue.amendments().filter((record) => record.result.ok).map((record) => record.clientOrderId), ['gw-1-e1', 'gw-2-s1']);
    assert.deepEqual(server.problems, []);
    assert.ok(!gateway.log.some((line) => line.includes('testsecret')), 'no secret in the log');
  });

  it('sets a position\'s own stop-loss, then a trailing stop that ratchets the stop-loss with the price and closes the position as a TrailingStop', async () => {
    const { server, port, gateway } = await emulatorAndGateway();
    const flat = await gateway.execute({ type: 'SetPositionStop', commandId: 1, symbol: 'ETHUSDT', change: { kind: 'stop-loss', stopLoss: { triggerTicks: 290_000, triggerBy: 'mark' } } });
    assert.ok(flat.type === 'PositionStopRejected' && flat.code === 'invalid' && /zero position/.test(flat.reason), JSON.stringify(flat));

    assert.equal((await gateway.execute({ type: 'SubmitOrder', commandId: 2, clientOrderId: cid('gw-3-e1'), spec: marketBuy('ETHUSDT', 50) })).type, 'OrderSubmitAcked');
    const stopLoss = { kind: 'stop-loss', stopLoss: { triggerTicks: 290_000, triggerBy: 'mark' } } as const;
    assert.deepEqual(await gateway.execute({ type: 'SetPositionStop', commandId: 3, symbol: 'ETHUSDT', change: stopLoss }), { type: 'PositionStopAcked', commandId: 3, symbol: 'ETHUSDT' });
    assert.equal(server.venue.position('ETHUSDT').stopLossTicks, 290_000);
    // The same stop again: Bybit answers 34040 "not modified"; it is in place, so it is done.
    assert.deepEqual(await gateway.execute({ type: 'SetPositionStop', commandId: 4, symbol: 'ETHUSDT', change: stopLoss }), { type: 'PositionStopAcked', commandId: 4, symbol: 'ETHUSDT' });
    assert.ok(server.requests.some((request) => request.url.startsWith('/v5/position/trading-stop') && request.retCode === 34040));

    const stream = await Stream.private(port, Date.now(), ['position']);
    streams.push(stream);
    const trailing = { kind: 'trailing', distanceTicks: 5_000, activationTicks: 305_000 } as const; // 50.00 behind, from 3050
    assert.deepEqual(await gateway.execute({ type: 'SetPositionStop', commandId: 5, symbol: 'ETHUSDT', change: trailing }), { type: 'PositionStopAcked', commandId: 5, symbol: 'ETHUSDT' });
    const [waiting] = await listed(port, '/v5/position/list', 'category=linear&symbol=ETHUSDT');
    assert.deepEqual([waiting?.trailingStop, waiting?.stopLoss], ['50', '2900'], 'not active before 3050');

    const stopLossPushed = (price: string): Promise<Json> => stream.next((message) => message.topic === 'position'
      && (message.data as Json[]).some((item) => item.symbol === 'ETHUSDT' && item.stopLoss === price));
    server.setPrice('ETHUSDT', '3050'); // activates: 3000
    await stopLossPushed('3000');
    server.setPrice('ETHUSDT', '3100'); // 3050
    await stopLossPushed('3050');
    server.setPrice('ETHUSDT', '3080'); // the level never moves down
    const [held] = await listed(port, '/v5/position/list', 'category=linear&symbol=ETHUSDT');
    assert.deepEqual([held?.stopLoss, held?.trailingStop], ['3050', '50']);

    server.setPrice('ETHUSDT', '3049'); // through the level: the venue closes the position
    assert.equal(server.venue.position('ETHUSDT').sizeLots, 0);
    const exit = server.audit().fills.at(-1);
    assert.deepEqual([exit?.positionTrigger, exit?.side, exit?.lots], ['trailing-stop', 'sell', 50]);
    const history = await listed(port, '/v5/order/history', 'category=linear&symbol=ETHUSDT');
    const closing = history.find((order) => order.orderId === exit?.venueOrderId);
    assert.deepEqual([closing?.stopOrderType, closing?.createType, closing?.orderStatus], ['TrailingStop', 'CreateByTrailingStop', 'Filled']);
    const [closed] = await listed(port, '/v5/position/list', 'category=linear&symbol=ETHUSDT');
    assert.deepEqual([closed?.size, closed?.stopLoss, closed?.trailingStop], ['0', '0', '0'], 'flat clears the stop-loss and the trailing');

    assert.deepEqual([1, 2, 3, 4, 5].map((commandId) => gateway.eventsOf(commandId)), [1, 1, 1, 1, 1], 'exactly one event per command');
    assert.deepEqual(server.problems, []);
  });

  it('ends an amend and a trading-stop whose reply never comes in an unknown outcome, once, though the venue acted', async () => {
    const { server, gateway } = await emulatorAndGateway(1_000, 1_000);
    assert.equal((await gateway.execute({ type: 'SubmitOrder', commandId: 1, clientOrderId: cid('gw-4-e1'), spec: limitBuy('SOLUSDT', 10, 14_000) })).type, 'OrderSubmitAcked');
    server.unknownOutcome(1, 'none', '/v5/order/amend');
    const amend = await gateway.execute({ type: 'AmendOrder', commandId: 2, clientOrderId: cid('gw-4-e1'), symbol: 'SOLUSDT', amendment: { priceTicks: 13_900 } });
    assert.equal(amend.type, 'OrderAmendUnknown', JSON.stringify(amend));
    assert.equal(server.venue.queryOrder({ clientOrderId: 'gw-4-e1' })?.priceTicks, 13_900, 'the venue did amend it: only the reply was lost');

    assert.equal((await gateway.execute({ type: 'SubmitOrder', commandId: 3, clientOrderId: cid('gw-5-e1'), spec: marketBuy('ETHUSDT', 50) })).type, 'OrderSubmitAcked');
    server.unknownOutcome(1, 503, '/v5/position/trading-stop');
    const stop = await gateway.execute({ type: 'SetPositionStop', commandId: 4, symbol: 'ETHUSDT', change: { kind: 'trailing', distanceTicks: 2_000, activationTicks: null } });
    assert.equal(stop.type, 'PositionStopUnknown', JSON.stringify(stop));
    assert.deepEqual(server.venue.trailing('ETHUSDT'), { distanceTicks: 2_000, activationTicks: null, bestTicks: 300_000 });
    assert.deepEqual([1, 2, 3, 4].map((commandId) => gateway.eventsOf(commandId)), [1, 1, 1, 1]);
    assert.equal(server.requests.filter((request) => request.url.startsWith('/v5/order/amend')).length, 1, 'never sent again');
  });

  it('reports an amend\'s unknown outcome only once it can no longer land: a receive window after it left the queue, not after it was asked for', async () => {
    const recvWindowMs = 1_000;
    const { server, gateway } = await emulatorAndGateway(2_000, recvWindowMs);
    assert.equal((await gateway.execute({ type: 'SubmitOrder', commandId: 1, clientOrderId: cid('gw-7-e1'), spec: limitBuy('SOLUSDT', 10, 14_000) })).type, 'OrderSubmitAcked');
    // A second's worth of amends fills the endpoint's window: the next waits in the queue.
    const burst = Array.from({ length: 9 }, (_, index) => gateway.execute({ type: 'AmendOrder', commandId: 10 + index, clientOrderId: cid('gw-7-e1'), symbol: 'SOLUSDT', amendment: { priceTicks: 13_990 - index } }));
    assert.ok((await Promise.all(burst)).every((event) => event.type === 'OrderAmendAcked'));
    server.unknownOutcome(1, 503, '/v5/order/amend');
    const askedMs = Date.now();
    const unknown = await gateway.execute({ type: 'AmendOrder', commandId: 30, clientOrderId: cid('gw-7-e1'), symbol: 'SOLUSDT', amendment: { priceTicks: 13_900 } });
    const reportedMs = Date.now();
    assert.equal(unknown.type, 'OrderAmendUnknown', JSON.stringify(unknown));
    const received = server.requests.filter((request) => request.url.startsWith('/v5/order/amend')).at(-1);
    assert.equal(received?.status, 503);
    const receivedMs = received?.atMs ?? 0;
    const firstOfBurstMs = server.requests.find((request) => request.url.startsWith('/v5/order/amend'))?.atMs ?? 0;
    assert.ok(receivedMs - firstOfBurstMs >= 900 && receivedMs > askedMs, 'it waited in the queue for the window to free');
    // It left at or before the venue received it (loopback: within a few ms; 200 allowed for a busy
    // machine): reported no sooner than a window after it left.
    assert.ok(reportedMs - receivedMs >= recvWindowMs - 200, `reported ${reportedMs - receivedMs} ms after the venue received it`);
  });

  it('finds an order by its id after a restart of Bybit\'s service, when order/realtime has forgotten the closed ones', async () => {
    const { server, gateway } = await emulatorAndGateway();
    assert.equal((await gateway.execute({ type: 'SubmitOrder', commandId: 1, clientOrderId: cid('gw-8-e1'), spec: marketBuy('SOLUSDT', 10) })).type, 'OrderSubmitAcked');
    server.restartService();
    const answer = await gateway.execute({ type: 'QueryOrder', commandId: 2, clientOrderId: cid('gw-8-e1'), symbol: 'SOLUSDT' });
    assert.equal(answer.type, 'OrderQueried');
    assert.equal(answer.type === 'OrderQueried' ? answer.report?.status : null, 'filled', 'the filled entry, not "not found"');
    const asked = server.requests.filter((request) => request.url.startsWith('/v5/order/')).map((request) => request.url.split('?')[0]);
    assert.deepEqual(asked.slice(-2), ['/v5/order/realtime', '/v5/order/history']);
    // Neither lists it: "not found".
    const unknown = await gateway.execute({ type: 'QueryOrder', commandId: 3, clientOrderId: cid('gw-8-e2'), symbol: 'SOLUSDT' });
    assert.deepEqual(unknown.type === 'OrderQueried' ? unknown.report : undefined, null);
  });

  it('reads executions seven days a request: a snapshot from twenty days back finds the fill made now, once', async () => {
    const { server, gateway } = await emulatorAndGateway();
    assert.equal((await gateway.execute({ type: 'SubmitOrder', commandId: 1, clientOrderId: cid('gw-6-e1'), spec: marketBuy('SOLUSDT', 10) })).type, 'OrderSubmitAcked');
    const made = server.audit().fills.map((fill) => fill.executionId);
    assert.ok(made.length > 0);
    const day = 24 * 3_600_000;
    const snapshot = await gateway.snapshot(7, Date.now() - 20 * day);
    assert.equal(snapshot.type, 'SnapshotReceived', JSON.stringify(snapshot));
    assert.deepEqual(snapshot.type === 'SnapshotReceived' ? snapshot.fills.map((fill) => fill.executionId).sort() : [], [...made].sort());
    // Three windows, each within Bybit's seven days; the last open-ended, so that it reaches now.
    const windows = server.requests.filter((request) => request.url.startsWith('/v5/execution/list')).map((request) => new URLSearchParams(request.url.split('?')[1]));
    assert.equal(windows.length, 3);
    for (const params of windows.slice(0, 2)) assert.ok(Number(params.get('endTime')) - Number(params.get('startTime')) <= 7 * day);
    assert.equal(windows[2]?.get('endTime'), null);
    assert.ok(windows.every((params) => params.get('startTime') !== null));
  });

  it('reads to now when seven days from the last window start fall just short of now (startTime alone is only seven days)', async () => {
    const { server, gateway } = await emulatorAndGateway();
    assert.equal((await gateway.execute({ type: 'SubmitOrder', commandId: 1, clientOrderId: cid('gw-7-e1'), spec: marketBuy('SOLUSDT', 10) })).type, 'OrderSubmitAcked');
    const made = server.audit().fills.map((fill) => fill.executionId);
    assert.ok(made.length > 0);
    const day = 24 * 3_600_000;
    // Seven days and ten minutes back: seven days from there end ten minutes ago, before the fill.
    const snapshot = await gateway.snapshot(8, Date.now() - 7 * day - 600_000);
    assert.equal(snapshot.type, 'SnapshotReceived', JSON.stringify(snapshot));
    assert.deepEqual(snapshot.type === 'SnapshotReceived' ? snapshot.fills.map((fill) => fill.executionId).sort() : [], [...made].sort());
    const windows = server.requests.filter((request) => request.url.startsWith('/v5/execution/list')).map((request) => new URLSearchParams(request.url.split('?')[1]));
    assert.equal(windows.at(-1)?.get('endTime'), null, 'the last window is open-ended');
    assert.ok(Number(windows.at(-1)?.get('startTime')) + 7 * day > Date.now(), 'and its seven days reach past now');
  });
});
