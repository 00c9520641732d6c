// The simulated venue's REST answers to the engine's AmendOrder and SetPositionStop: one reply
// each, acknowledged or refused with the venue's code and reason, about the command's order or
// symbol, and the venue changed only when acknowledged.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClientOrderId } from '../../src/core/ids.ts';
import { answerOrderCommand } from '../../src/venues/sim/rest.ts';
import { accepted, limit, market, setup, stop } from './sim-support.ts';

const id = (text: string): ClientOrderId => text as ClientOrderId;

void describe('answerOrderCommand: AmendOrder', () => {
  void it('acknowledges an amend the venue applied, and refuses one it did not with its code', () => {
    const { venue } = setup();
    venue.setPrice(1, 'SOLUSDT', 15_000);
    accepted(venue.submitOrder(2, 'b-1-e1', limit('SOLUSDT', 'buy', 10, 14_900)));
    const acked = answerOrderCommand(venue, 3, { type: 'AmendOrder', commandId: 7, clientOrderId: id('b-1-e1'), symbol: 'SOLUSDT', amendment: { priceTicks: 14_800 } });
    assert.deepEqual(acked, { type: 'OrderAmendAcked', commandId: 7, clientOrderId: 'b-1-e1' });
    assert.equal(venue.queryOrder({ clientOrderId: 'b-1-e1' })?.priceTicks, 14_800);
    const wrongKind = answerOrderCommand(venue, 4, { type: 'AmendOrder', commandId: 8, clientOrderId: id('b-1-e1'), symbol: 'SOLUSDT', amendment: { triggerTicks: 14_000 } });
    assert.deepEqual(wrongKind, {
      type: 'OrderAmendRejected', commandId: 8, clientOrderId: 'b-1-e1', code: 'invalid', reason: 'only a conditional order has a trigger to amend; this is a limit order',
    });
    const missing = answerOrderCommand(venue, 5, { type: 'AmendOrder', commandId: 9, clientOrderId: id('b-2-s1'), symbol: 'SOLUSDT', amendment: { sizeLots: 5 } });
    assert.deepEqual(missing, { type: 'OrderAmendRejected', commandId: 9, clientOrderId: 'b-2-s1', code: 'not-found', reason: 'order not exists or too late to amend' });
    assert.equal(venue.amendments().length, 3);
  });

  void it('refuses a stop trigger moved through the price as trigger-crossed', () => {
    const { venue } = setup();
    venue.setPrice(1, 'SOLUSDT', 15_000);
    accepted(venue.submitOrder(2, 'b-1-e1', market('SOLUSDT', 'buy', 10)));
    accepted(venue.submitOrder(3, 'b-1-s1', stop('SOLUSDT', 'sell', 10, 14_000)));
    const crossed = answerOrderCommand(venue, 4, { type: 'AmendOrder', commandId: 1, clientOrderId: id('b-1-s1'), symbol: 'SOLUSDT', amendment: { triggerTicks: 15_001 } });
    assert.equal(crossed.type === 'OrderAmendRejected' ? crossed.code : crossed.type, 'trigger-crossed');
    assert.equal(venue.queryOrder({ clientOrderId: 'b-1-s1' })?.triggerTicks, 14_000);
  });
});

void describe('answerOrderCommand: SetPositionStop', () => {
  void it('sets the position\'s own stop-loss, and its trailing stop, acknowledged by symbol', () => {
    const { venue } = setup();
    venue.setPrice(1, 'SOLUSDT', 15_000);
    accepted(venue.submitOrder(2, 'b-1-e1', market('SOLUSDT', 'buy', 10)));
    const stopLoss = answerOrderCommand(venue, 3, { type: 'SetPositionStop', commandId: 4, symbol: 'SOLUSDT', change: { kind: 'stop-loss', stopLoss: { triggerTicks: 14_700, triggerBy: 'mark' } } });
    assert.deepEqual(stopLoss, { type: 'PositionStopAcked', commandId: 4, symbol: 'SOLUSDT' });
    assert.equal(venue.position('SOLUSDT').stopLossTicks, 14_700);
    const trailing = answerOrderCommand(venue, 5, { type: 'SetPositionStop', commandId: 5, symbol: 'SOLUSDT', change: { kind: 'trailing', distanceTicks: 150, activationTicks: null } });
    assert.deepEqual(trailing, { type: 'PositionStopAcked', commandId: 5, symbol: 'SOLUSDT' });
    assert.deepEqual(venue.trailing('SOLUSDT'), { distanceTicks: 150, activationTicks: null, bestTicks: 15_000 });
    assert.equal(venue.position('SOLUSDT').stopLossTicks, 14_850, 'the trailing level is tighter than 147.00');
  });

  void it('refuses a stop on a flat position or on the wrong side of the price', () => {
    const { venue } = setup();
    venue.setPrice(1, 'SOLUSDT', 15_000);
    const flat = answerOrderCommand(venue, 2, { type: 'SetPositionStop', commandId: 1, symbol: 'SOLUSDT', change: { kind: 'trailing', distanceTicks: 100, activationTicks: 15_500 } });
    assert.deepEqual(flat, { type: 'PositionStopRejected', commandId: 1, symbol: 'SOLUSDT', code: 'invalid', reason: 'can not set tp/sl for zero position' });
    accepted(venue.submitOrder(3, 'b-1-e1', market('SOLUSDT', 'buy', 10)));
    const wrongSide = answerOrderCommand(venue, 4, { type: 'SetPositionStop', commandId: 2, symbol: 'SOLUSDT', change: { kind: 'stop-loss', stopLoss: { triggerTicks: 15_100, triggerBy: 'last' } } });
    assert.equal(wrongSide.type, 'PositionStopRejected');
    assert.equal(venue.position('SOLUSDT').stopLossTicks, null);
  });
});
