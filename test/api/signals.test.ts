// Signals as data: a valid body becomes the engine event it says, the engine's remembered outcomes
// read back as the right answer, and the rate limiter's bucket.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RateLimiter } from '../../src/api/rate-limit.ts';
import { answerOf, incomingOf, parseSignal } from '../../src/api/signals.ts';

describe('signals', () => {
  it('become OpenRequested and CloseRequested in their own request-id namespace', () => {
    const open = parseSignal({ id: 'a1', action: 'open', symbol: 'SOLUSDT', side: 'sell', notional: 250, stopLoss: { price: '160.5' }, takeProfit: { percent: 3 }, entry: { kind: 'limit', price: '151' } });
    assert.ok(open.ok);
    assert.deepEqual(incomingOf(open.signal), {
      type: 'OpenRequested', requestId: 'api:a1', symbol: 'SOLUSDT', side: 'sell', size: { notional: '250' },
      entry: { kind: 'limit', price: '151' }, stopLoss: { price: '160.5' }, takeProfit: { percent: 3 },
    });
    const market = parseSignal({ id: 'a2', action: 'open', symbol: 'SOLUSDT', side: 'buy', quantity: '0.5', stopLoss: { percent: 1.5 } });
    assert.ok(market.ok);
    const event = incomingOf(market.signal);
    assert.ok(event.type === 'OpenRequested');
    assert.deepEqual([event.entry, event.takeProfit, event.size], [{ kind: 'market' }, null, { quantity: '0.5' }]);
    const close = parseSignal({ id: 'a3', action: 'close', symbol: 'SOLUSDT' });
    assert.ok(close.ok);
    assert.deepEqual(incomingOf(close.signal), { type: 'CloseRequested', requestId: 'api:a3', symbol: 'SOLUSDT' });
  });

  it('list every problem of a bad body, by field', () => {
    const parsed = parseSignal({ id: '', action: 'open', symbol: 'SOLUSDT', side: 'buy', stopLoss: {}, extra: 1 });
    assert.ok(!parsed.ok);
    assert.deepEqual(parsed.reasons.map((reason) => reason.split(':')[0]).sort(), ['extra', 'id', 'quantity', 'stopLoss']);
  });

  it('read the engine\'s outcomes: accepted, closing, and rejections as conflicts (409) or unprocessable (422)', () => {
    assert.deepEqual(answerOf('accepted as vg-12'), { result: 'accepted', status: 200, intent: 'vg-12', outcome: 'accepted as vg-12' });
    assert.equal(answerOf('closing vg-12').status, 200);
    const conflicts = [
      'SOLUSDT already has an active position or entry', 'SOLUSDT already has an open position', 'no open position or entry on SOLUSDT',
      'not trading yet (phase snapshotting): waiting for the snapshot to be reconciled', 'the private stream is down (phase connecting): the fills of a new order could not be seen',
      'no live prices: the public stream is down', 'no market price for SOLUSDT yet',
    ];
    for (const reason of conflicts) assert.equal(answerOf(`rejected: ${reason}`).status, 409, reason);
    const unprocessable = ['unknown instrument XRPUSDT', 'size 0.01 is below the minimum 0.1', 'stop-loss 151 must be below the long entry 150', 'notional is below the instrument\'s minimum'];
    for (const reason of unprocessable) assert.equal(answerOf(`rejected: ${reason}`).status, 422, reason);
  });
});

describe('the signal rate limit', () => {
  it('allows a burst, then one per 1/rate seconds, and says how long to wait', () => {
    let nowMs = 0;
    const limiter = new RateLimiter({ perSecond: 4, nowMs: () => nowMs });
    assert.deepEqual([1, 2, 3, 4].map(() => limiter.take().ok), [true, true, true, true]);
    assert.deepEqual(limiter.take(), { ok: false, retryAfterMs: 250 });
    nowMs += 250;
    assert.equal(limiter.take().ok, true);
    nowMs += 10_000;
    assert.deepEqual([1, 2, 3, 4, 5].map(() => limiter.take().ok), [true, true, true, true, false], 'never more than the burst');
  });
});
