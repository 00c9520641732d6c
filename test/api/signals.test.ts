// Signals as data: a valid body becomes the engine event it says (laid over the configured
// protection plan of its symbol, with its own overrides), a bad one the reasons naming each field,
// the engine's remembered outcomes read back as the right answer, and the rate limiter's bucket.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RateLimiter } from '../../src/api/rate-limit.ts';
import type { SignalContext } from '../../src/api/signals.ts';
import { answerOf, incomingOf, noPlans, parseSignal } from '../../src/api/signals.ts';
import { openFields } from '../../src/cli/signal.ts';
import { parseConfigText } from '../../src/config/load.ts';
import type { Incoming } from '../../src/shell/ports.ts';

type OpenRequested = Extract<Incoming, { readonly type: 'OpenRequested' }>;

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

  it('take amounts given as JSON numbers in exponent form as the plain decimal they are', () => {
    const tiny = parseSignal({ id: 'e1', action: 'open', symbol: 'SOLUSDT', side: 'buy', quantity: 0.0000001, entry: { kind: 'limit', price: 1.5e-7 }, stopLoss: { price: 1e-7 } });
    assert.ok(tiny.ok, JSON.stringify(tiny));
    const event = incomingOf(tiny.signal);
    assert.ok(event.type === 'OpenRequested');
    assert.deepEqual([event.size, event.entry, event.stopLoss], [{ quantity: '0.0000001' }, { kind: 'limit', price: '0.00000015' }, { price: '0.0000001' }]);
    const large = parseSignal({ id: 'e2', action: 'open', symbol: 'SOLUSDT', side: 'buy', quantity: 1e21, stopLoss: { percent: 2 } });
    assert.ok(large.ok && large.signal.action === 'open');
    assert.deepEqual(large.signal.size, { quantity: '1000000000000000000000' }, 'the engine says whether it is too large for the instrument');
  });

  it('refuse a notional the engine cannot count, saying it is too large or too precise', () => {
    const notional = (value: unknown): readonly string[] => {
      const parsed = parseSignal({ id: 'n1', action: 'open', symbol: 'SOLUSDT', side: 'buy', notional: value, stopLoss: { percent: 2 } });
      return parsed.ok ? [] : parsed.reasons;
    };
    const tooLarge = ['notional: too large: at most 90071992.54740991 USDT (too many digits for the engine to count exactly)'];
    assert.deepEqual(notional('1'.repeat(40)), tooLarge);
    assert.deepEqual(notional(1e40), tooLarge);
    assert.deepEqual(notional('100000000'), tooLarge);
    assert.deepEqual(notional('0.000000001'), ['notional: too many decimal places: USDT is counted to 8']);
    assert.deepEqual(notional('90071992.5'), []);
    assert.deepEqual(notional(1e-8), []);
    assert.deepEqual(notional('abc'), ['notional: expected a positive decimal, such as "1.5" (text keeps it exact)'], 'one message for what is not a decimal');
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
      "SOLUSDT: a change of the last position's stop is still unanswered; try again in a moment",
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

describe('signals over the configured protection plan', () => {
  const protection = parseConfigText(JSON.stringify({
    botId: 'api', journal: 'j.sqlite', symbols: ['SOLUSDT', 'ETHUSDT'], venue: { kind: 'sim', address: '127.0.0.1:4100' },
    protection: {
      default: {
        stopLoss: { percent: 2 }, takeProfits: [{ percent: 2, sizePercent: 50 }, { percent: 4, sizePercent: 50 }], breakevenAfterFirstTarget: true,
        trailing: { mode: 'bot', activationPercent: 1, callbackPercent: 0.5, amendEveryMs: 1_000 },
      },
      symbols: { ETHUSDT: { stopLoss: { percent: 1 }, trailing: null } },
    },
  }), 'yaml').protection;
  const context: SignalContext = { protection, attachedStops: true };
  const open = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({ id: 'p1', action: 'open', symbol: 'SOLUSDT', side: 'buy', quantity: '1', ...extra });
  const planned = (body: Record<string, unknown>, against: SignalContext = context): OpenRequested => {
    const parsed = parseSignal(body, against);
    assert.ok(parsed.ok, JSON.stringify(parsed));
    const event = incomingOf(parsed.signal);
    assert.ok(event.type === 'OpenRequested');
    return event;
  };
  const reasons = (body: Record<string, unknown>, against: SignalContext = context): readonly string[] => {
    const parsed = parseSignal(body, against);
    assert.ok(!parsed.ok, 'expected the signal to be refused');
    return parsed.reasons;
  };
  const ladder = [{ target: { percent: 2 }, sizePercent: 50 }, { target: { percent: 4 }, sizePercent: 50 }];
  const trailing = { mode: 'bot', activation: { percent: 1 }, callback: { percent: 0.5 }, amendEveryMs: 1_000 };

  it('may leave the stop out: the symbol\'s plan gives it, with its ladder and the rest', () => {
    assert.deepEqual(planned(open()), {
      type: 'OpenRequested', requestId: 'api:p1', symbol: 'SOLUSDT', side: 'buy', size: { quantity: '1' }, entry: { kind: 'market' },
      stopLoss: { percent: 2 }, takeProfit: null, protection: { ladder, breakevenAfterFirstTarget: true, trailing },
    });
    assert.deepEqual(planned(open({ symbol: 'ETHUSDT' })).protection, { ladder, breakevenAfterFirstTarget: true }, 'ETHUSDT\'s override switches the trailing off');
    assert.deepEqual(planned(open({ symbol: 'ETHUSDT' })).stopLoss, { percent: 1 });
  });

  it('overrides the plan field by field', () => {
    const event = planned(open({
      stopLoss: { price: '140' }, stopTriggerBy: 'last', takeProfits: [{ price: '155', sizePercent: 30 }, { percent: 6, sizePercent: 70 }],
      breakevenAfterFirstTarget: false, trailing: null,
      aged: { maxAgeMinutes: 90, stepPrice: '0.05', stepEveryMinutes: 0.5, hardLimitMinutes: 180 },
    }));
    assert.deepEqual([event.stopLoss, event.takeProfit], [{ price: '140' }, null]);
    assert.deepEqual(event.protection, {
      stopTriggerBy: 'last', ladder: [{ target: { price: '155' }, sizePercent: 30 }, { target: { percent: 6 }, sizePercent: 70 }], breakevenAfterFirstTarget: false,
      aged: { maxAgeMs: 5_400_000, graceMs: 0, step: { price: '0.05' }, stepEveryMs: 30_000, hardLimitMs: 10_800_000 },
    });
    const venue = planned(open({ trailing: { mode: 'venue', callbackPrice: 2.5, activationPrice: '160' } }));
    assert.deepEqual(venue.protection?.trailing, { mode: 'venue', activation: { price: '160' }, callback: { price: '2.5' }, amendEveryMs: 1_000 });
    const stepped = planned(open({ trailing: { callbackPercent: 1, minMovePercent: 0.25 } }));
    assert.deepEqual(stepped.protection?.trailing, { mode: 'bot', activation: null, callback: { percent: 1 }, amendEveryMs: 1_000, minMove: { percent: 0.25 } });
  });

  it('replaces the plan\'s ladder with a single take-profit, and drops it with takeProfits: null', () => {
    const single = planned(open({ takeProfit: { percent: 3 } }));
    assert.deepEqual([single.takeProfit, single.protection?.ladder], [{ percent: 3 }, undefined]);
    assert.equal(planned(open({ takeProfits: null })).protection?.ladder, undefined);
    assert.equal(planned(open({ takeProfits: [] })).protection?.ladder, undefined);
  });

  it('without a plan, is what it was: its own stop, and no protection field', () => {
    const event = planned(open({ stopLoss: { percent: 1.5 } }), noPlans);
    assert.equal('protection' in event, false);
    assert.deepEqual(reasons(open(), noPlans), ['stopLoss: required (expected object): no stop-loss is configured for SOLUSDT (protection)']);
    const ethOnly: SignalContext = { protection: { symbols: { ETHUSDT: { stopLoss: { percent: 1 } } } }, attachedStops: true };
    assert.deepEqual(planned(open({ symbol: 'ETHUSDT' }), ethOnly).stopLoss, { percent: 1 });
    assert.deepEqual(reasons(open(), ethOnly), ['stopLoss: required (expected object): no stop-loss is configured for SOLUSDT (protection)'], 'the plan is per symbol');
  });

  it('names the field of every bad override', () => {
    const cases: [Record<string, unknown>, readonly string[]][] = [
      [{ takeProfits: [{ percent: 2, sizePercent: 70 }, { percent: 4, sizePercent: 50 }] }, ['takeProfits: the sizes sum to 120 %, more than 100 % of the position']],
      [{ takeProfits: [{ percent: 4, sizePercent: 50 }, { percent: 3, sizePercent: 50 }] }, ['takeProfits.1.percent: expected a target further from the entry than the one before it (4 %): targets go in increasing order']],
      [{ takeProfits: [{ price: '160', sizePercent: 50 }, { price: '155', sizePercent: 50 }] }, ['takeProfits.1.price: expected a target further from the entry than the one before it: above it for a long']],
      [{ takeProfits: [{ percent: 0, sizePercent: 50 }] }, ['takeProfits.0.percent: expected a percent above 0']],
      [{ takeProfits: [{ percent: 2, price: '160', sizePercent: 50 }] }, ['takeProfits.0: expected exactly one of price or percent']],
      [{ trailing: { callbackPercent: -1 } }, ['trailing.callbackPercent: expected a percent above 0']],
      [{ trailing: { callbackPercent: 1, callbackPrice: '2' } }, ['trailing.callbackPercent: give callbackPercent or callbackPrice, not both']],
      [{ trailing: { mode: 'sideways', callbackPercent: 1 } }, ['trailing.mode: expected one of bot, venue']],
      [{ aged: { maxAgeMinutes: 60, stepPercent: 0.1, stepEveryMinutes: 1, hardLimitMinutes: 30 } }, ['aged.hardLimitMinutes: expected more than maxAgeMinutes (60): the market close comes after the position is aged']],
      [{ stopLoss: { percent: 100 } }, ['stopLoss.percent: expected a percent below 100']],
      [{ stopTriggerBy: 'index' }, ['stopTriggerBy: expected one of mark, last']],
      [{ breakevenAfterFirstTarget: 'yes' }, ['breakevenAfterFirstTarget: expected boolean, received string']],
      [{ takeProfit: { percent: 3 }, takeProfits: [{ percent: 4, sizePercent: 100 }] }, ['takeProfits: give takeProfit (one target) or takeProfits (a ladder), not both']],
      [{ trailing: { callbackPercent: 1, every: 2 } }, ['trailing.every: unknown field']],
      [{ trailing: { callbackPercent: 0.5, minMovePercent: 0.5 } }, ['trailing.minMovePercent: expected less than callbackPercent (0.5): a stop that moves only in steps this large lags the best price by up to the two together']],
      [{ trailing: { mode: 'venue', callbackPercent: 1, minMovePercent: 0.1 } }, ['trailing.minMovePercent: applies to mode: bot (the venue moves its own trailing stop, tick by tick)']],
    ];
    for (const [extra, expected] of cases) assert.deepEqual(reasons(open(extra)), expected, JSON.stringify(extra));
    assert.deepEqual(reasons(open({ side: 'sell', takeProfits: [{ price: '140', sizePercent: 50 }, { price: '145', sizePercent: 50 }] })), [
      'takeProfits.1.price: expected a target further from the entry than the one before it: below it for a short',
    ]);
  });

  it('refuses a venue-side trailing stop when the engine does not attach stops', () => {
    const separate: SignalContext = { protection, attachedStops: false };
    assert.deepEqual(reasons(open({ trailing: { mode: 'venue', callbackPercent: 1 } }), separate), [
      'trailing.mode: venue needs engine.attachedStops: true (the venue trails the position\'s own stop, which a separate stop order is not); use mode: bot',
    ]);
    assert.equal(planned(open(), separate).protection?.trailing?.mode, 'bot', 'the configured bot-side trailing is fine');
  });
});

describe('vigil signal open --plan', () => {
  const flags = { side: 'buy', quantity: '1' };

  it('sends the plan\'s fields with the signal, and the stop only when a flag gives it', () => {
    const plan = '{"takeProfits":[{"percent":2,"sizePercent":50},{"percent":4,"sizePercent":50}],"trailing":null,"stopTriggerBy":"last"}';
    const body = openFields({ ...flags, plan });
    assert.deepEqual(body, {
      side: 'buy', quantity: '1', entry: { kind: 'market' }, stopTriggerBy: 'last', trailing: null,
      takeProfits: [{ percent: 2, sizePercent: 50 }, { percent: 4, sizePercent: 50 }],
    });
    const parsed = parseSignal({ id: 'cli-1', action: 'open', symbol: 'SOLUSDT', ...openFields({ ...flags, plan, 'stop-percent': '2' }) });
    assert.ok(parsed.ok, JSON.stringify(parsed));
    const event = incomingOf(parsed.signal);
    assert.ok(event.type === 'OpenRequested');
    assert.deepEqual([event.stopLoss, event.protection?.ladder?.length, event.protection?.stopTriggerBy], [{ percent: 2 }, 2, 'last'], 'what the CLI sends, the API reads');
  });

  it('refuses a plan that is not a JSON object of plan fields, and a stop given twice', () => {
    assert.throws(() => openFields({ ...flags, plan: '{trailing: null}' }), /--plan: expected a JSON object/);
    assert.throws(() => openFields({ ...flags, plan: '[1]' }), /--plan: expected a JSON object/);
    assert.throws(() => openFields({ ...flags, plan: '{"trail":null,"side":"sell"}' }), /--plan: unknown field\(s\) trail, side \(expected: stopLoss, stopTriggerBy, takeProfits, breakevenAfterFirstTarget, trailing, aged\)/);
    assert.throws(() => openFields({ ...flags, plan: '{"stopLoss":{"percent":1}}', 'stop-percent': '2' }), /the stop is given twice/);
  });
});
