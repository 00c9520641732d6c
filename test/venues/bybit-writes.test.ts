// The Bybit adapter's write bodies (order/amend by orderLinkId, position/trading-stop with a
// stop-loss or a trailing stop) in Bybit's own fields, and which refusals mean "already so".

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { instrument } from '../../src/sim/instruments.ts';
import { amendBody, isNotModified, protectionOf, tradingStopBody } from '../../src/venues/bybit/writes.ts';

const eth = instrument('ETHUSDT');

void describe('bybit write bodies', () => {
  void it('amends by orderLinkId with only the fields that change, qty as the new total', () => {
    assert.deepEqual(amendBody(eth, 'b-1-s1', { triggerTicks: 295_050 }), { category: 'linear', symbol: 'ETHUSDT', orderLinkId: 'b-1-s1', triggerPrice: '2950.5' });
    assert.deepEqual(
      amendBody(eth, 'b-1-e1', { sizeLots: 150, priceTicks: 290_000, stopLoss: { triggerTicks: 280_000, triggerBy: 'mark' } }),
      { category: 'linear', symbol: 'ETHUSDT', orderLinkId: 'b-1-e1', qty: '1.5', price: '2900', stopLoss: '2800', slTriggerBy: 'MarkPrice' },
    );
  });

  void it('sets a position stop-loss or a trailing stop in Full mode, one-way, with "0" to clear', () => {
    const base = { category: 'linear', symbol: 'ETHUSDT', tpslMode: 'Full', positionIdx: 0 };
    assert.deepEqual(tradingStopBody(eth, protectionOf({ kind: 'stop-loss', stopLoss: { triggerTicks: 290_000, triggerBy: 'last' } })), { ...base, stopLoss: '2900', slTriggerBy: 'LastPrice' });
    assert.deepEqual(tradingStopBody(eth, protectionOf({ kind: 'trailing', distanceTicks: 2_550, activationTicks: 310_000 })), { ...base, trailingStop: '25.5', activePrice: '3100' });
    assert.deepEqual(tradingStopBody(eth, protectionOf({ kind: 'trailing', distanceTicks: 100, activationTicks: null })), { ...base, trailingStop: '1' });
    assert.deepEqual(tradingStopBody(eth, { stopLoss: null, trailing: null }), { ...base, stopLoss: '0', trailingStop: '0' });
  });

  void it('reads 34040 on trading-stop and 10001 "remains unchanged" on amend as already so, and nothing else', () => {
    assert.ok(isNotModified('trading-stop', 34040, 'retCode 34040: not modified'));
    assert.ok(isNotModified('amend', 10001, 'retCode 10001: The order remains unchanged as the parameters entered match the existing ones.'));
    assert.ok(!isNotModified('amend', 10001, 'retCode 10001: params error: qty must be above the filled quantity'));
    assert.ok(!isNotModified('amend', 34040, 'retCode 34040: not modified'));
    assert.ok(!isNotModified('trading-stop', 10001, 'retCode 10001: can not set tp/sl for zero position'));
    assert.ok(!isNotModified('trading-stop', null, 'bybit {"retMsg":"not modified"}'));
  });
});
