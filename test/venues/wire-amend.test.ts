// AmendOrder and SetPositionStop on the loopback protocol: both commands and their replies survive
// encoding (an amendment keeps only the fields it has), garbage in them is refused naming the field,
// and over a real loopback connection the remote gateway delivers exactly one event per command: the
// venue's reply, or the unknown outcome when no reply comes in time.

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { ClientOrderId } from '../../src/core/ids.ts';
import { RealClock } from '../../src/shell/clock.ts';
import type { Incoming } from '../../src/shell/ports.ts';
import { RemoteSimVenue } from '../../src/venues/sim/remote.ts';
import { SimVenueServer } from '../../src/venues/sim/server.ts';
import type { ClientMessage, ServerMessage } from '../../src/venues/sim/wire.ts';
import { decodeClientMessage, decodeServerMessage, encodeLine } from '../../src/venues/sim/wire.ts';
import { accepted, limit, market, setup } from './sim-support.ts';

const cid = (text: string): ClientOrderId => text as ClientOrderId;

const commands: readonly ClientMessage[] = [
  { type: 'request', id: 1, command: { type: 'AmendOrder', commandId: 3, clientOrderId: cid('b-1-s1'), symbol: 'SOLUSDT', amendment: { triggerTicks: 14_500 } } },
  { type: 'request', id: 2, command: { type: 'AmendOrder', commandId: 4, clientOrderId: cid('b-1-e1'), symbol: 'SOLUSDT', amendment: { sizeLots: 30, priceTicks: 14_800 } } },
  { type: 'request', id: 3, command: { type: 'SetPositionStop', commandId: 5, symbol: 'SOLUSDT', change: { kind: 'stop-loss', stopLoss: { triggerTicks: 14_600, triggerBy: 'mark' } } } },
  { type: 'request', id: 4, command: { type: 'SetPositionStop', commandId: 6, symbol: 'SOLUSDT', change: { kind: 'trailing', distanceTicks: 120, activationTicks: null } } },
  { type: 'request', id: 5, command: { type: 'SetPositionStop', commandId: 7, symbol: 'SOLUSDT', change: { kind: 'trailing', distanceTicks: 120, activationTicks: 15_300 } } },
];

const replies: readonly ServerMessage[] = [
  { type: 'reply', id: 1, reply: { type: 'OrderAmendAcked', commandId: 3, clientOrderId: cid('b-1-s1') } },
  { type: 'reply', id: 2, reply: { type: 'OrderAmendRejected', commandId: 4, clientOrderId: cid('b-1-e1'), code: 'trigger-crossed', reason: 'expect Falling' } },
  { type: 'reply', id: 3, reply: { type: 'PositionStopAcked', commandId: 5, symbol: 'SOLUSDT' } },
  { type: 'reply', id: 4, reply: { type: 'PositionStopRejected', commandId: 6, symbol: 'SOLUSDT', code: 'invalid', reason: 'can not set tp/sl for zero position' } },
];

void describe('loopback protocol: amends and position stops', () => {
  void it('decodes what it encodes: the commands, their replies, and an audit with the amend log', () => {
    for (const message of commands) assert.deepEqual(decodeClientMessage(encodeLine(message)), { ok: true, message });
    for (const message of replies) assert.deepEqual(decodeServerMessage(encodeLine(message)), { ok: true, message });
    const decoded = decodeClientMessage(encodeLine(commands[0] as ClientMessage));
    assert.ok(decoded.ok && decoded.message.type === 'request' && decoded.message.command.type === 'AmendOrder');
    assert.deepEqual(Object.keys(decoded.message.command.amendment), ['triggerTicks'], 'absent fields stay absent');

    const { venue } = setup();
    venue.setPrice(1, 'SOLUSDT', 15_000);
    const id = accepted(venue.submitOrder(2, 'b-1-e1', limit('SOLUSDT', 'buy', 10, 14_900, { stopLoss: { triggerTicks: 14_000, triggerBy: 'mark' } })));
    venue.amendOrder(3, { venueOrderId: id }, { priceTicks: 14_800 });
    venue.amendOrder(4, { clientOrderId: 'nobody' }, { sizeLots: 1 });
    const audited: ServerMessage = {
      type: 'audited', id: 9,
      audit: { atMs: 5, submissions: [...venue.submissions()], amendments: [...venue.amendments()], fills: [], openOrders: venue.openOrders(), positions: [] },
    };
    assert.deepEqual(decodeServerMessage(encodeLine(audited)), { ok: true, message: audited });
  });

  void it('refuses a bad amendment, an unknown stop change or a reply without its symbol, naming the field', () => {
    const amend = encodeLine(commands[1] as ClientMessage);
    const trailing = encodeLine(commands[3] as ClientMessage);
    const garbage: readonly [string, RegExp][] = [
      [amend.replace('"sizeLots":30', '"sizeLots":1.5'), /amendment\.sizeLots/],
      [amend.replace('"amendment":{', '"amendment":[{').replace('}}}', '}]}}'), /amendment: expected an object/],
      [trailing.replace('"kind":"trailing"', '"kind":"moon"'), /change\.kind/],
      [trailing.replace('"activationTicks":null', '"activationTicks":"now"'), /change\.activationTicks/],
    ];
    for (const [line, reason] of garbage) {
      const decoded = decodeClientMessage(line);
      assert.equal(decoded.ok, false, line);
      if (!decoded.ok) assert.match(decoded.reason, reason, line);
    }
    const noSymbol = decodeServerMessage(encodeLine(replies[2] as ServerMessage).replace(',"symbol":"SOLUSDT"', ''));
    assert.ok(!noSymbol.ok && /reply\.symbol/.test(noSymbol.reason), JSON.stringify(noSymbol));
  });
});

// Over a real loopback connection, against the venue server of `vigil venue` (prices held still).

const servers: SimVenueServer[] = [];
const gateways: RemoteSimVenue[] = [];
const clocks: RealClock[] = [];
after(async () => {
  for (const clock of clocks) clock.stop();
  for (const gateway of gateways) gateway.close();
  for (const server of servers) await server.close();
});

async function loopback(replyDelayMs: number, requestTimeoutMs: number): Promise<{ server: SimVenueServer; gateway: RemoteSimVenue; reply: (commandId: number) => Promise<Incoming>; delivered: Incoming[] }> {
  const server = new SimVenueServer({ symbols: ['SOLUSDT'], seed: 3, replyDelayMs, tickMs: 3_600_000, volatilityBps: 10, log: () => undefined });
  servers.push(server);
  const port = await server.listen(0);
  const delivered: Incoming[] = [];
  const waiters = new Map<number, (incoming: Incoming) => void>();
  const clock = new RealClock();
  clocks.push(clock);
  const gateway = new RemoteSimVenue({
    endpoint: { host: '127.0.0.1', port }, clock, requestTimeoutMs, log: () => undefined,
    deliver: (incoming) => {
      delivered.push(incoming);
      if ('commandId' in incoming) waiters.get(incoming.commandId)?.(incoming);
    },
  });
  gateways.push(gateway);
  const reply = (commandId: number): Promise<Incoming> => new Promise((resolve) => {
    const already = delivered.find((incoming) => 'commandId' in incoming && incoming.commandId === commandId);
    if (already !== undefined) resolve(already);
    else waiters.set(commandId, resolve);
  });
  return { server, gateway, reply, delivered };
}

void describe('the remote gateway over loopback', { timeout: 20_000 }, () => {
  void it('amends an order and sets a position stop on the served venue, one reply per command', async () => {
    const { server, gateway, reply, delivered } = await loopback(0, 5_000);
    gateway.execute({ type: 'SubmitOrder', commandId: 1, clientOrderId: cid('b-1-e1'), spec: limit('SOLUSDT', 'buy', 10, 14_000) });
    assert.equal((await reply(1)).type, 'OrderSubmitAcked');
    gateway.execute({ type: 'AmendOrder', commandId: 2, clientOrderId: cid('b-1-e1'), symbol: 'SOLUSDT', amendment: { priceTicks: 13_900, sizeLots: 20 } });
    assert.deepEqual(await reply(2), { type: 'OrderAmendAcked', commandId: 2, clientOrderId: 'b-1-e1' });
    gateway.execute({ type: 'AmendOrder', commandId: 3, clientOrderId: cid('b-9-e1'), symbol: 'SOLUSDT', amendment: { priceTicks: 13_900 } });
    assert.deepEqual(await reply(3), { type: 'OrderAmendRejected', commandId: 3, clientOrderId: 'b-9-e1', code: 'not-found', reason: 'order not exists or too late to amend' });
    gateway.execute({ type: 'SetPositionStop', commandId: 4, symbol: 'SOLUSDT', change: { kind: 'trailing', distanceTicks: 100, activationTicks: null } });
    assert.deepEqual(await reply(4), { type: 'PositionStopRejected', commandId: 4, symbol: 'SOLUSDT', code: 'invalid', reason: 'can not set tp/sl for zero position' });
    gateway.execute({ type: 'SubmitOrder', commandId: 5, clientOrderId: cid('b-2-e1'), spec: market('SOLUSDT', 'buy', 10) });
    assert.equal((await reply(5)).type, 'OrderSubmitAcked');
    gateway.execute({ type: 'SetPositionStop', commandId: 6, symbol: 'SOLUSDT', change: { kind: 'trailing', distanceTicks: 100, activationTicks: null } });
    assert.deepEqual(await reply(6), { type: 'PositionStopAcked', commandId: 6, symbol: 'SOLUSDT' });

    const audit = server.audit();
    assert.deepEqual(audit.amendments.map((record) => [record.clientOrderId, record.result.ok]), [['b-1-e1', true], ['b-9-e1', false]]);
    assert.deepEqual(audit.openOrders.map((order) => [order.clientOrderId, order.priceTicks, order.sizeLots]), [['b-1-e1', 13_900, 20]]);
    const position = audit.positions.find((candidate) => candidate.symbol === 'SOLUSDT');
    assert.ok(position?.stopLossTicks !== null && position?.protected === true, 'the trailing put a stop-loss on the position at once');
    const counts = new Map<number, number>();
    for (const incoming of delivered) if ('commandId' in incoming) counts.set(incoming.commandId, (counts.get(incoming.commandId) ?? 0) + 1);
    assert.deepEqual([...counts.values()], [1, 1, 1, 1, 1, 1], 'exactly one event per command');
  });

  void it('gives an amend and a position stop whose reply does not come in time an unknown outcome', async () => {
    const { gateway, reply } = await loopback(2_000, 200);
    gateway.execute({ type: 'AmendOrder', commandId: 1, clientOrderId: cid('b-1-e1'), symbol: 'SOLUSDT', amendment: { priceTicks: 13_900 } });
    gateway.execute({ type: 'SetPositionStop', commandId: 2, symbol: 'SOLUSDT', change: { kind: 'stop-loss', stopLoss: { triggerTicks: 14_000, triggerBy: 'last' } } });
    assert.deepEqual(await reply(1), { type: 'OrderAmendUnknown', commandId: 1, clientOrderId: 'b-1-e1', reason: 'no reply within 200 ms' });
    assert.deepEqual(await reply(2), { type: 'PositionStopUnknown', commandId: 2, symbol: 'SOLUSDT', reason: 'no reply within 200 ms' });
  });
});
