// The Bybit v5 emulator's WebSocket streams: an order create pushes its order, execution, position
// and wallet messages before a delayed REST reply, and they decode with the project's stream
// decoder; tickers come as a snapshot then deltas; control frames have Bybit's shapes; every
// authenticated connection hears every push, twice when duplicates are asked for; a drop closes
// every socket. Every wait is on an observable message, never on a timer.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Instrument } from '../../src/core/instrument.ts';
import { EmulatorServer } from '../../src/emulator/server.ts';
import { instrument } from '../../src/sim/instruments.ts';
import { decodeStreamMessage } from '../../src/venues/bybit/decode.ts';
import { signedPost, sign, Stream, testKeys } from './client.ts';

const symbols = ['BTCUSDT', 'SOLUSDT'];
const instruments: ReadonlyMap<string, Instrument> = new Map(symbols.map((symbol) => [symbol, instrument(symbol)]));
const startMs = 1_760_000_000_000;
const allTopics = ['order', 'execution', 'position', 'wallet'];

function decoded(message: unknown, atMs: number): readonly string[] {
  const result = decodeStreamMessage(message, { instruments, atMs, source: 'stream' });
  if (!result.ok) assert.fail(`${result.error}: ${JSON.stringify(message)}`);
  assert.deepEqual(result.skipped, []);
  return result.events.map((event) => event.type);
}

describe('Bybit v5 emulator: streams', { timeout: 30_000 }, () => {
  let nowMs = startMs;
  const server = new EmulatorServer({ symbols, seed: 3, clock: () => nowMs, rateLimits: null });
  let port = 0;
  const streams: Stream[] = [];
  const open = async (topics: readonly string[]): Promise<Stream> => {
    const stream = await Stream.private(port, nowMs, topics);
    streams.push(stream);
    return stream;
  };

  before(async () => {
    port = await server.listen();
  });
  after(async () => {
    for (const stream of streams) stream.close();
    await server.close();
  });

  it('pushes order, execution, position and wallet before the delayed reply of the create; they decode', async () => {
    const stream = await open(allTopics);
    server.replyDelayMs = 30;
    const create = { category: 'linear', symbol: 'SOLUSDT', side: 'Buy', orderType: 'Market', qty: '2', orderLinkId: 'push-1', stopLoss: '140' };
    const reply = await signedPost(port, '/v5/order/create', create, nowMs);
    server.replyDelayMs = 0;
    assert.equal(reply.json.retCode, 0, reply.json.retMsg);
    // By the time the reply arrived, the stream had spoken.
    const pushes = stream.messages.filter((message) => message.topic !== undefined);
    assert.deepEqual(pushes.map((message) => message.topic), ['order', 'execution', 'position', 'wallet']);
    const [order, execution, position, wallet] = pushes;
    assert.deepEqual(decoded(order, nowMs), ['OrderUpdated']);
    assert.deepEqual(decoded(execution, nowMs), ['FillReceived']);
    assert.deepEqual(decoded(position, nowMs), ['PositionUpdated']);
    assert.deepEqual(decoded(wallet, nowMs), ['WalletUpdated']);
    for (const message of pushes) {
      assert.equal(typeof message.id, 'string');
      assert.equal(message.creationTime, nowMs);
    }
    const item = (order?.data as Record<string, unknown>[])[0];
    assert.deepEqual([item?.orderLinkId, item?.orderStatus, item?.stopLoss, item?.category], ['push-1', 'Filled', '140', 'linear']);
    const positionItem = (position?.data as Record<string, unknown>[])[0];
    const fill = (execution?.data as Record<string, unknown>[])[0];
    assert.equal(positionItem?.seq, fill?.seq); // one cross sequence for a fill and the position it makes
    assert.match(String(execution?.id), new RegExp(`_SOLUSDT_${String(fill?.seq)}$`));
  });

  it('pushes a position message after a resting create and its cancel, as Bybit does', async () => {
    const stream = await open(['order', 'position']);
    await signedPost(port, '/v5/order/create', { category: 'linear', symbol: 'SOLUSDT', side: 'Buy', orderType: 'Limit', qty: '1', price: '140', orderLinkId: 'rest-2' }, nowMs);
    const created = await stream.next((message) => message.topic === 'order');
    assert.equal((created.data as Record<string, unknown>[])[0]?.orderStatus, 'New');
    await stream.next((message) => message.topic === 'position');
    await signedPost(port, '/v5/order/cancel', { category: 'linear', symbol: 'SOLUSDT', orderLinkId: 'rest-2' }, nowMs);
    const cancelled = await stream.next((message) => message.topic === 'order');
    assert.deepEqual(decoded(cancelled, nowMs), ['OrderUpdated']);
    assert.equal((cancelled.data as Record<string, unknown>[])[0]?.orderStatus, 'Cancelled');
    await stream.next((message) => message.topic === 'position');
  });

  it('pushes the close the venue makes when a position stop-loss is reached', async () => {
    const stream = await open(['order', 'execution', 'position']);
    server.setPrice('BTCUSDT', '60000');
    const entry = await signedPost(port, '/v5/order/create', { category: 'linear', symbol: 'BTCUSDT', side: 'Buy', orderType: 'Market', qty: '0.002', stopLoss: '59000' }, nowMs);
    assert.equal(entry.json.retCode, 0, entry.json.retMsg);
    await stream.next((message) => message.topic === 'position');
    server.setPrice('BTCUSDT', '58999');
    const closeOrder = await stream.next((message) => message.topic === 'order' && (message.data as Record<string, unknown>[]).some((item) => item.stopOrderType === 'StopLoss'));
    const result = decodeStreamMessage(closeOrder, { instruments, atMs: nowMs, source: 'stream' });
    assert.ok(result.ok);
    assert.ok(result.events.every((event) => event.type === 'OrderUpdated' && event.positionTrigger === 'stop-loss'));
    const flat = await stream.next((message) => message.topic === 'position' && (message.data as Record<string, unknown>[])[0]?.size === '0');
    assert.deepEqual(decoded(flat, nowMs), ['PositionUpdated']);
    assert.equal(server.venue.position('BTCUSDT').sizeLots, 0);
    // The stop went on with the fill: the position was never bare on the venue.
    assert.equal(server.audit().positions.find((position) => position.symbol === 'BTCUSDT')?.unprotectedMsLongest, 0);
  });

  it('amends an order in place: same ids, new price, no cancel shown', async () => {
    const stream = await open(['order']);
    await signedPost(port, '/v5/order/create', { category: 'linear', symbol: 'SOLUSDT', side: 'Buy', orderType: 'Limit', qty: '1', price: '140', orderLinkId: 'amend-1' }, nowMs);
    const created = (await stream.next((message) => message.topic === 'order')).data as Record<string, unknown>[];
    const amended = await signedPost(port, '/v5/order/amend', { category: 'linear', symbol: 'SOLUSDT', orderLinkId: 'amend-1', price: '139.5', qty: '1.5' }, nowMs);
    assert.equal(amended.json.retCode, 0, amended.json.retMsg);
    const update = await stream.next((message) => message.topic === 'order');
    const items = update.data as Record<string, unknown>[];
    assert.deepEqual(items.map((item) => [item.orderId, item.orderLinkId, item.orderStatus, item.price, item.qty]), [[created[0]?.orderId, 'amend-1', 'New', '139.5', '1.5']]);
    assert.deepEqual(decoded(update, nowMs), ['OrderUpdated']);
    const all = await signedPost(port, '/v5/order/cancel-all', { category: 'linear', symbol: 'SOLUSDT' }, nowMs);
    assert.deepEqual(all.json.result.list, [{ orderId: created[0]?.orderId, orderLinkId: 'amend-1' }]);
    const cancelled = await stream.next((message) => message.topic === 'order');
    assert.equal((cancelled.data as Record<string, unknown>[])[0]?.orderStatus, 'Cancelled');
  });

  it('sends a ticker snapshot on subscribe, then deltas with ts and a rising cs', async () => {
    const stream = await Stream.open(port, '/v5/public/linear');
    streams.push(stream);
    stream.send({ op: 'subscribe', req_id: 5, args: ['tickers.BTCUSDT'] });
    const ack = await stream.next((message) => message.op === 'subscribe');
    assert.deepEqual({ ...ack, conn_id: '' }, { success: true, ret_msg: '', conn_id: '', req_id: '5', op: 'subscribe' });
    const snapshot = await stream.next((message) => message.topic === 'tickers.BTCUSDT');
    assert.equal(snapshot.type, 'snapshot');
    assert.deepEqual(decoded(snapshot, nowMs), ['TickerUpdated']);
    nowMs += 100;
    server.setPrice('BTCUSDT', '60100', '60099.9');
    const delta = await stream.next((message) => message.topic === 'tickers.BTCUSDT');
    assert.deepEqual([delta.type, delta.ts, (delta.data as Record<string, unknown>).lastPrice], ['delta', nowMs, '60100']);
    assert.equal(delta.cs, (snapshot.cs as number) + 1);
    const result = decodeStreamMessage(delta, { instruments, atMs: nowMs, source: 'stream' });
    assert.ok(result.ok);
    assert.deepEqual(result.events[0], { type: 'TickerUpdated', atMs: nowMs, symbol: 'BTCUSDT', lastTicks: 601_000, markTicks: 600_999, venueMs: nowMs });
    stream.send({ req_id: 6, op: 'ping' });
    const pong = await stream.next((message) => message.ret_msg === 'pong');
    assert.deepEqual({ ...pong, conn_id: '' }, { success: true, ret_msg: 'pong', conn_id: '', req_id: '6', op: 'ping' });
    stream.send({ op: 'subscribe', req_id: 7, args: ['tickers.NOPEUSDT'] });
    const unknown = await stream.next((message) => message.op === 'subscribe');
    assert.deepEqual([unknown.success, unknown.ret_msg], [false, 'error:handler not found,topic:tickers.NOPEUSDT']);
  });

  it('answers private control frames as Bybit does', async () => {
    const stream = await Stream.open(port, '/v5/private');
    streams.push(stream);
    stream.send({ op: 'subscribe', req_id: 1, args: ['order'] });
    const early = await stream.next((message) => message.op === 'subscribe');
    assert.equal(early.success, false);
    const expires = String(nowMs + 10_000);
    stream.send({ op: 'auth', args: [testKeys.key, expires, sign('wrong', `GET/realtime${expires}`)] });
    const refused = await stream.next((message) => message.op === 'auth');
    assert.deepEqual({ ...refused, conn_id: '' }, { success: false, ret_msg: 'Params Error', op: 'auth', conn_id: '' });
    const decodedRefusal = decodeStreamMessage(refused, { instruments, atMs: nowMs, source: 'stream' });
    assert.equal(decodedRefusal.ok, false);
    const stale = String(nowMs - 1);
    stream.send({ op: 'auth', args: [testKeys.key, stale, sign(testKeys.secret, `GET/realtime${stale}`)] });
    assert.equal((await stream.next((message) => message.op === 'auth')).success, false);
    stream.send({ op: 'auth', args: [testKeys.key, expires, sign(testKeys.secret, `GET/realtime${expires}`)] });
    const accepted = await stream.next((message) => message.op === 'auth');
    assert.deepEqual({ ...accepted, conn_id: '' }, { success: true, ret_msg: '', op: 'auth', conn_id: '' });
    stream.send({ op: 'subscribe', req_id: 2, args: ['order'] });
    assert.equal((await stream.next((message) => message.op === 'subscribe')).success, true);
    stream.send({ op: 'subscribe', req_id: 3, args: ['order'] });
    const duplicate = await stream.next((message) => message.op === 'subscribe');
    assert.deepEqual([duplicate.success, duplicate.ret_msg, duplicate.req_id], [false, 'error:already subscribed,topic:order', '3']);
    stream.send({ req_id: 4, op: 'ping' });
    const pong = await stream.next((message) => message.op === 'pong');
    assert.deepEqual({ ...pong, conn_id: '' }, { req_id: '4', op: 'pong', args: [String(nowMs)], conn_id: '' });
  });

  it('sends every push to every authenticated connection, twice when duplicates are on', async () => {
    const first = await open(['execution']);
    const second = await open(['execution.linear']); // Bybit's categorised twin of the same topic
    server.duplicatePushChance = 1;
    await signedPost(port, '/v5/order/create', { category: 'linear', symbol: 'SOLUSDT', side: 'Sell', orderType: 'Market', qty: '1', reduceOnly: true }, nowMs);
    server.duplicatePushChance = 0;
    const received = [];
    for (const [stream, topic] of [[first, 'execution'], [second, 'execution.linear']] as const) {
      const one = await stream.next((message) => message.topic === topic);
      const two = await stream.next((message) => message.topic === topic);
      assert.deepEqual(one, two);
      assert.deepEqual(decoded(one, nowMs), ['FillReceived']);
      received.push(one);
    }
    assert.deepEqual(received[0]?.data, received[1]?.data);
  });

  it('drops every connection at once', async () => {
    const stream = await open(['wallet']);
    const closed = streams.map((each) => each.closed);
    assert.ok(server.dropConnections() >= 1);
    await Promise.all(closed);
    assert.equal(server.streamConnections('private'), 0);
    assert.ok(stream.messages.length >= 0);
    assert.deepEqual(server.problems, []);
  });
});

describe('Bybit v5 emulator: price feed', { timeout: 30_000 }, () => {
  it('moves prices on its timer and pushes them as ticker deltas', async () => {
    const server = new EmulatorServer({ symbols: ['BTCUSDT'], seed: 5, priceFeed: { tickMs: 5, volatilityBps: 10 } });
    const port = await server.listen();
    const stream = await Stream.open(port, '/v5/public/linear');
    try {
      stream.send({ op: 'subscribe', req_id: 1, args: ['tickers.BTCUSDT'] });
      await stream.next((message) => message.type === 'snapshot');
      const deltas = [];
      for (let count = 0; count < 3; count += 1) deltas.push(await stream.next((message) => message.type === 'delta'));
      const first = deltas[0]?.cs as number;
      assert.deepEqual(deltas.map((delta) => delta.cs), [first, first + 1, first + 2]);
      for (const delta of deltas) assert.deepEqual(decoded(delta, Date.now()), ['TickerUpdated']);
    } finally {
      stream.close();
      await server.close();
    }
  });
});
