// The simulation trace's one-line descriptions of the amend and position-stop commands and their
// replies: prices in the instrument's decimals, every field the command carries.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClientOrderId } from '../../src/core/ids.ts';
import { describeCommand, describeIncoming } from '../../src/sim/describe.ts';
import { instrument } from '../../src/sim/instruments.ts';

const instruments = new Map([['SOLUSDT', instrument('SOLUSDT')]]);
const cid = 'sim-4-s1' as ClientOrderId;

void describe('trace descriptions', () => {
  void it('describes AmendOrder and SetPositionStop in prices and quantities', () => {
    assert.equal(
      describeCommand({ type: 'AmendOrder', commandId: 1, clientOrderId: cid, symbol: 'SOLUSDT', amendment: { triggerTicks: 14_550, sizeLots: 25 } }, instruments),
      'AmendOrder sim-4-s1 SOLUSDT size=2.5 trigger=145.5',
    );
    assert.equal(describeCommand({ type: 'AmendOrder', commandId: 1, clientOrderId: cid, symbol: 'XUSDT', amendment: { priceTicks: 7 } }, instruments), 'AmendOrder sim-4-s1 XUSDT price=7 ticks');
    assert.equal(describeCommand({ type: 'AmendOrder', commandId: 1, clientOrderId: cid, symbol: 'SOLUSDT', amendment: {} }, instruments), 'AmendOrder sim-4-s1 SOLUSDT (no change)');
    assert.equal(
      describeCommand({ type: 'SetPositionStop', commandId: 2, symbol: 'SOLUSDT', change: { kind: 'stop-loss', stopLoss: { triggerTicks: 14_000, triggerBy: 'mark' } } }, instruments),
      'SetPositionStop SOLUSDT stop-loss 140 (mark)',
    );
    assert.equal(
      describeCommand({ type: 'SetPositionStop', commandId: 3, symbol: 'SOLUSDT', change: { kind: 'trailing', distanceTicks: 150, activationTicks: 15_500 } }, instruments),
      'SetPositionStop SOLUSDT trailing 1.5 behind the last price, active from 155',
    );
    assert.equal(
      describeCommand({ type: 'SetPositionStop', commandId: 3, symbol: 'SOLUSDT', change: { kind: 'trailing', distanceTicks: 150, activationTicks: null } }, instruments),
      'SetPositionStop SOLUSDT trailing 1.5 behind the last price, active now',
    );
  });

  void it('describes their replies with the order or symbol and the reason', () => {
    assert.equal(describeIncoming({ type: 'OrderAmendAcked', commandId: 1, clientOrderId: cid }), 'OrderAmendAcked sim-4-s1');
    assert.equal(describeIncoming({ type: 'OrderAmendRejected', commandId: 1, clientOrderId: cid, code: 'not-found', reason: 'gone' }), 'OrderAmendRejected sim-4-s1: gone');
    assert.equal(describeIncoming({ type: 'OrderAmendUnknown', commandId: 1, clientOrderId: cid, reason: 'request timed out' }), 'OrderAmendUnknown sim-4-s1: request timed out');
    assert.equal(describeIncoming({ type: 'PositionStopAcked', commandId: 2, symbol: 'SOLUSDT' }), 'PositionStopAcked SOLUSDT');
    assert.equal(describeIncoming({ type: 'PositionStopRejected', commandId: 2, symbol: 'SOLUSDT', code: 'invalid', reason: 'zero position' }), 'PositionStopRejected SOLUSDT: zero position');
    assert.equal(describeIncoming({ type: 'PositionStopUnknown', commandId: 2, symbol: 'SOLUSDT', reason: 'request timed out' }), 'PositionStopUnknown SOLUSDT: request timed out');
  });
});
