// The Bybit adapter on a venue whose clock is not the bot's.
//
// It times a snapshot's position read on the venue's clock. The engine takes a position missing
// from the snapshot as closed when its last report is older than the read; a read timed on a local
// clock that runs ahead of Bybit's would make a position opened just after the read look older, and
// the engine would drop it and cancel its stop (found by the simulation's clock-skew fault).
//
// And a clock that drifts after the start (the start refuses a skewed one): Bybit refuses a signed
// request stamped outside its window (10002) and a private login whose expiry has passed ("Params
// Error"). The adapter measures Bybit's clock again and stamps by it from then on; a refused
// request, never executed, goes again once.

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { EmulatorServer } from '../../src/emulator/server.ts';
import type { ClientOrderId } from '../../src/core/ids.ts';
import type { OrderSpec } from '../../src/core/types.ts';
import type { LiveBot, LiveGateway } from './live-bot.ts';
import { assertConverged, startLiveBot, startLiveGateway } from './live-bot.ts';

// (Bybit refuses a request stamped more than 1 s ahead of its clock, so no more than that.)
const behindMs = 900;
const servers: EmulatorServer[] = [];
const gateways: LiveGateway[] = [];
const bots: LiveBot[] = [];

after(async () => {
  for (const bot of bots) await bot.stop();
  for (const gateway of gateways) await gateway.stop();
  for (const server of servers) await server.close();
});

describe('the Bybit adapter on a venue whose clock differs from the bot\'s', () => {
  it('times the position read of a snapshot by the venue\'s reply, not by the local clock', async () => {
    const server = new EmulatorServer({ symbols: ['SOLUSDT'], seed: 3, clock: () => Date.now() - behindMs });
    servers.push(server);
    const port = await server.listen();
    const gateway = await startLiveGateway(port, ['SOLUSDT']);
    gateways.push(gateway);
    const askedLocalMs = Date.now();
    gateway.venue.gateway.execute({ type: 'FetchSnapshot', commandId: 1, snapshotId: 1, fillsSinceMs: askedLocalMs - 60_000 });
    const deadlineMs = Date.now() + 10_000;
    while (!gateway.delivered.some((event) => event.type === 'SnapshotReceived' || event.type === 'SnapshotFailed') && Date.now() < deadlineMs) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    const snapshot = gateway.delivered.find((event) => event.type === 'SnapshotReceived');
    assert.ok(snapshot?.type === 'SnapshotReceived', `a snapshot: ${JSON.stringify(gateway.delivered.at(-1))}`);
    const venueNowMs = Date.now() - behindMs;
    // On the venue's clock: no later than the venue's now, and well behind the local clock.
    assert.ok(snapshot.positionsVenueMs <= venueNowMs, `read at ${snapshot.positionsVenueMs}, the venue's now ${venueNowMs}`);
    assert.ok(snapshot.positionsVenueMs < askedLocalMs - behindMs / 2, `read at ${snapshot.positionsVenueMs}: the local clock (${askedLocalMs}) was used`);
  });
});

/** An emulator whose clock runs `skew.ms` ahead of the bot's, changed at will. */
async function skewedEmulator(): Promise<{ server: EmulatorServer; port: number; skew: { ms: number } }> {
  const skew = { ms: 0 };
  const server = new EmulatorServer({ symbols: ['SOLUSDT'], seed: 4, clock: () => Date.now() + skew.ms });
  servers.push(server);
  return { server, port: await server.listen(), skew };
}

const limitBuy: OrderSpec = { symbol: 'SOLUSDT', side: 'buy', sizeLots: 10, reduceOnly: false, type: { kind: 'limit', priceTicks: 14_000, postOnly: false } };

describe('the Bybit adapter when the bot\'s clock drifts after the start', { timeout: 60_000 }, () => {
  it('a request refused for its timestamp (10002): Bybit\'s clock measured again, the request sent once more, and placed once', async () => {
    const { server, port, skew } = await skewedEmulator();
    const gateway = await startLiveGateway(port, ['SOLUSDT']);
    gateways.push(gateway);
    skew.ms = 8_000; // the bot's clock now 8 s behind: past the 5 s receive window
    const created = await gateway.execute({ type: 'SubmitOrder', commandId: 1, clientOrderId: 'ck-1-e1' as ClientOrderId, spec: limitBuy });
    assert.equal(created.type, 'OrderSubmitAcked', JSON.stringify(created));
    const creates = (): (number | null)[] => server.requests.filter((request) => request.url.startsWith('/v5/order/create')).map((request) => request.retCode);
    assert.deepEqual(creates(), [10002, 0], 'refused for its timestamp, then placed');
    assert.equal(server.audit().submissions.filter((submission) => submission.clientOrderId === 'ck-1-e1').length, 1, 'placed once');
    const said = gateway.log.find((line) => line.includes('refused a request\'s timestamp'));
    assert.match(said ?? gateway.log.join('\n'), /this machine's clock is \d+ ms behind Bybit's\. Requests are stamped by Bybit's clock from now on; synchronise this machine's clock \(NTP\)/);
    const offMs = Number(/clock is (\d+) ms behind/.exec(said ?? '')?.[1]);
    assert.ok(Math.abs(offMs - 8_000) < 500, `measured ${offMs} ms behind`);

    // From then on stamped by Bybit's clock: nothing else refused.
    const cancelled = await gateway.execute({ type: 'CancelOrder', commandId: 2, clientOrderId: 'ck-1-e1' as ClientOrderId, symbol: 'SOLUSDT', venueOrderId: null });
    assert.equal(cancelled.type, 'OrderCancelAcked', JSON.stringify(cancelled));
    assert.equal(server.requests.filter((request) => request.retCode === 10002).length, 1, 'one refusal in all');
    assert.equal(gateway.eventsOf(1), 1, 'the create ended in one event');
  });

  it('a private login refused when the clock fell behind its expiry: measured, corrected, and the bot trades again', async () => {
    const { server, port, skew } = await skewedEmulator();
    const live = await startLiveBot(port, ['SOLUSDT']);
    bots.push(live);
    await live.until('trading', () => live.state.lifecycle.phase === 'trading');
    skew.ms = 15_000; // ccxt's login expires 10 s after the bot's now: already past on Bybit's clock
    server.dropConnections();
    await live.until('the private stream down', () => live.state.streams.private === 'down');
    await live.until('the login refused and the clock measured', () => live.log.some((line) => line.includes('refused the private stream\'s login')), 15_000);
    await live.until('trading again', () => live.state.lifecycle.phase === 'trading' && live.state.streams.private === 'up', 20_000);
    assert.match(live.log.find((line) => line.includes('login')) ?? '', /clock is \d+ ms behind Bybit's/);
    live.send({ type: 'OpenRequested', requestId: 'k1', symbol: 'SOLUSDT', side: 'buy', size: { notional: '200' }, entry: { kind: 'market' }, stopLoss: { percent: 2 }, takeProfit: null });
    await live.until('long SOLUSDT with its stop on the venue', () => server.audit().positions.some((position) => position.symbol === 'SOLUSDT' && position.sizeLots > 0 && position.protected));
    assert.equal(server.requests.filter((request) => request.retCode === 10002).length, 0, 'the login corrected the clock before any request was refused');
    await assertConverged(live, server);
  });
});
