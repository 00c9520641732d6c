// The protection policies inside the engine: what goes to the venue, one change at a time.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { positionsView } from '../../src/api/views.ts';
import type { Command, CommandOf } from '../../src/core/commands.ts';
import { step } from '../../src/core/engine/step.ts';
import type { Event, EventOf } from '../../src/core/events.ts';
import type { ClientOrderId } from '../../src/core/ids.ts';
import type { ProtectionRequest } from '../../src/core/protection/plan.ts';
import type { EngineState } from '../../src/core/state.ts';
import { acked, applyAll, engine, fill, notices, openMarket, position, report, submits, ticker } from '../support/events.ts';

const trailing: ProtectionRequest = { trailing: { mode: 'bot', activation: { percent: 1 }, callback: { percent: 0.5 }, amendEveryMs: 1_000 } };

function amends(commands: readonly Command[]): CommandOf<'AmendOrder'>[] {
  return commands.filter((command): command is CommandOf<'AmendOrder'> => command.type === 'AmendOrder');
}

function positionStops(commands: readonly Command[]): CommandOf<'SetPositionStop'>[] {
  return commands.filter((command): command is CommandOf<'SetPositionStop'> => command.type === 'SetPositionStop');
}

function timers(commands: readonly Command[]): CommandOf<'StartTimer'>[] {
  return commands.filter((command): command is CommandOf<'StartTimer'> => command.type === 'StartTimer');
}

function amendAcked(clientOrderId: string, commandId: number, atMs: number): Event {
  return { type: 'OrderAmendAcked', atMs, commandId, clientOrderId: clientOrderId as ClientOrderId };
}

/** A separate-stop long of 0.010 BTC at 65,000 with its stop working, at t=100. */
function openLong(protection: ProtectionRequest, extra: Partial<EventOf<'OpenRequested'>> = {}): EngineState {
  const state = engine({ attachedStops: false, receiveWindowMs: 0 });
  applyAll(state, [
    openMarket('r1', 10, { protection, ...extra }),
    acked('t-1-e', 'v1', 20),
    report('t-1-e', 'v1', 'filled', 10, 30),
    fill('t-1-e', 'v1', 'x1', 10, 650_000, 1, 30),
    position(10, 1, 30),
  ]);
  applyAll(state, [acked('t-1-sl', 'v2', 40), report('t-1-sl', 'v2', 'untriggered', 0, 40, { side: 'sell', orderKind: 'stop-market', triggerTicks: 643_500, reduceOnly: true })]);
  return state;
}

describe('bot-managed trailing stop, separate stop order', () => {
  it('amends the stop as the price rises, one amend in flight, never loosening, coalescing bursts', () => {
    const state = openLong(trailing);
    assert.equal(state.orders.get('t-1-sl')?.status, 'accepted');
    assert.deepEqual(amends(step(state, ticker(656_000, 100))), [], 'below the activation at 65,650');
    const sent = step(state, ticker(660_000, 200));
    const [first] = amends(sent);
    assert.deepEqual(first?.amendment, { triggerTicks: 660_000 - 3_300 });
    // The next move may go at 1,200 (one a second). No review is armed yet: nothing waits.
    assert.deepEqual(timers(sent), []);
    assert.deepEqual(amends(step(state, ticker(662_000, 300))), [], 'one amend in flight');
    // The amend on its way is no ledger row (the ledger holds orders as the venue confirmed them);
    // its landing is.
    const orderRecords = (commands: readonly Command[]): unknown[] => commands.filter((command) => command.type === 'Record' && command.record.kind === 'order');
    assert.deepEqual(orderRecords(sent), []);
    assert.equal(state.orders.get('t-1-sl')?.amending?.commandId, first?.commandId, 'in state, the amend is in flight');
    const held = step(state, amendAcked('t-1-sl', first?.commandId ?? 0, 350));
    assert.equal(orderRecords(held).length, 1, 'the landed amend is recorded');
    const stop = state.orders.get('t-1-sl');
    assert.equal(stop?.spec.type.kind === 'stop-market' && stop.spec.type.triggerTicks, 656_700);
    // The level moved on while the amend was on its way: the change now waits for the rate limit,
    // and its review is armed for the moment it may go.
    assert.deepEqual(amends(held), []);
    assert.deepEqual(timers(held).map((timer) => timer.fireAtMs), [1_200]);
    // The ticks until then coalesce: no amend, no second review.
    const coalesced = [ticker(664_000, 400), ticker(666_000, 500), ticker(664_500, 600)].map((event) => step(state, event));
    assert.deepEqual(coalesced.flatMap(amends), []);
    assert.deepEqual(coalesced.flatMap(timers), []);
    const review = timers(held)[0];
    const [second] = amends(step(state, { type: 'TimerFired', atMs: 1_200, timerId: review?.timerId ?? 0 }));
    assert.deepEqual(second?.amendment, { triggerTicks: 666_000 - 3_330 }, 'straight to the newest level');
    assert.equal(state.intents.get('t-1' as never)?.stopLoss.triggerTicks, 662_670);
  });

  it('closes at market when the price falls through the trailing level before the amend lands', () => {
    const state = openLong(trailing);
    const [first] = amends(step(state, ticker(670_000, 200)));
    assert.ok(first);
    const commands = step(state, ticker(666_000, 300));
    assert.deepEqual(submits(commands).map((command) => command.clientOrderId), ['t-1-x']);
    assert.match(commands.flatMap((command) => (command.type === 'Notify' ? [command.notice.text] : [])).join('\n'), /trailing stop 66665 reached at 66600 before the venue's stop \(64350\)/);
  });

  it('a refused amend with the market past the level closes at market; a lost reply is asked for before any other amend', () => {
    const state = openLong(trailing);
    const [first] = amends(step(state, ticker(670_000, 200)));
    const unknown = step(state, { type: 'OrderAmendUnknown', atMs: 5_000, commandId: first?.commandId ?? 0, clientOrderId: 't-1-sl' as ClientOrderId, reason: 'request timed out' });
    assert.deepEqual(unknown.filter((command) => command.type === 'QueryOrder').length, 1);
    assert.deepEqual(amends(step(state, ticker(672_000, 5_100))), [], 'no second amend while the first is unknown');
    // The venue shows the order without the amend: it did not land; the next tick may amend again.
    const queried = step(state, {
      type: 'OrderQueried', atMs: 5_200, commandId: 99, clientOrderId: 't-1-sl' as ClientOrderId,
      report: { symbol: 'BTCUSDT', venueOrderId: 'v2' as never, clientOrderId: 't-1-sl', side: 'sell', orderKind: 'stop-market', status: 'untriggered', sizeLots: 10, filledLots: 0, priceTicks: null, triggerTicks: 643_500, reduceOnly: true, positionTrigger: null, stopLossTicks: null, takeProfitTicks: null, venueUpdatedMs: 5_200, reason: null },
    });
    // Settled as not landed, so the next amend goes out at once, to the newest level.
    const [again] = amends(queried);
    assert.deepEqual(again?.amendment, { triggerTicks: 672_000 - 3_360 });
    assert.equal(state.orders.get('t-1-sl')?.amending?.commandId, again?.commandId);
    const rejected = step(state, { type: 'OrderAmendRejected', atMs: 5_300, commandId: again?.commandId ?? 0, clientOrderId: 't-1-sl' as ClientOrderId, code: 'trigger-crossed', reason: 'would trigger immediately' });
    assert.deepEqual(submits(rejected).map((command) => command.clientOrderId), ['t-1-x']);
  });
});

describe('bot-managed trailing stop with a minimum move', () => {
  it('moves the stop only when the level tightens it by the minimum, and then to the whole level; the quiet check agrees', () => {
    const state = openLong({ trailing: { mode: 'bot', activation: { percent: 1 }, callback: { percent: 0.5 }, amendEveryMs: 0, minMove: { percent: 0.2 } } });
    const [first] = amends(step(state, ticker(660_000, 200)));
    assert.deepEqual(first?.amendment, { triggerTicks: 656_700 }, 'the first move: far more than 0.2 % above the stop at 64,350');
    step(state, amendAcked('t-1-sl', first?.commandId ?? 0, 250));
    // 66,100 calls for 65,769.5: 99.5 above the stop, short of 0.2 % of 66,100 (132.2). Nothing is
    // sent, nothing armed, and the ticker is answered without the policies' full evaluation (the
    // quiet check and the policies agree that it moves nothing).
    const evaluations = state.counters.policyEvaluations;
    const short = step(state, ticker(661_000, 300));
    assert.deepEqual([amends(short), timers(short)], [[], []]);
    assert.equal(state.counters.policyEvaluations, evaluations);
    assert.equal(positionsView(state)[0]?.trailing?.level, '65769.5', 'the level runs ahead of the stop');
    assert.equal(positionsView(state)[0]?.trailing?.minMove, '0.2 %');
    // 66,200 calls for 65,869: 199 above the stop, past 132.4: the stop goes to the level itself.
    const [second] = amends(step(state, ticker(662_000, 400)));
    assert.deepEqual(second?.amendment, { triggerTicks: 658_690 });
  });
});

describe('what the operator API shows of the plan', () => {
  it('a bot-managed trailing stop before and after it activates, and the aged exit\'s times', () => {
    const state = openLong({ ...trailing, aged: { maxAgeMs: 120_000, graceMs: 30_000, step: { percent: 0.1 }, stepEveryMs: 10_000, hardLimitMs: 300_000 } });
    const view = (): ReturnType<typeof positionsView>[number] | undefined => positionsView(state)[0];
    assert.deepEqual(view()?.trailing, { by: 'bot', activationPrice: '65650', callback: '0.5 %', changeEveryMs: 1_000, minMove: null, active: false, bestPrice: null, level: null });
    // The position was first seen at 30: the exit from 2 min of age, at market at 5.
    assert.deepEqual(view()?.agedExit, { fromMs: 120_030, marketAtMs: 300_030, price: null });
    step(state, ticker(660_000, 200));
    assert.deepEqual(view()?.trailing, { by: 'bot', activationPrice: '65650', callback: '0.5 %', changeEveryMs: 1_000, minMove: null, active: true, bestPrice: '66000', level: '65670' });
    // A new best price while the move is on its way: the level the view shows runs ahead of the stop.
    step(state, ticker(662_000, 300));
    assert.equal(view()?.trailing?.level, '65869');
    assert.equal(view()?.stopLoss, '65670');
  });
});

describe('take-profit ladder', () => {
  const ladder: ProtectionRequest = { ladder: [{ target: { percent: 2 }, sizePercent: 50 }, { target: { percent: 4 }, sizePercent: 50 }], breakevenAfterFirstTarget: true };

  it('places its rungs exact to the lot; after the first fills, the stop covers exactly the rest at breakeven', () => {
    const state = engine({ attachedStops: false, receiveWindowMs: 0 });
    applyAll(state, [openMarket('r1', 10, { protection: ladder })]);
    const filled = applyAll(state, [acked('t-1-e', 'v1', 20), report('t-1-e', 'v1', 'filled', 10, 30), fill('t-1-e', 'v1', 'x1', 10, 650_000, 1, 30), position(10, 1, 30)]);
    assert.deepEqual(submits(filled).map((command) => [command.clientOrderId, command.spec.sizeLots, command.spec.type.kind === 'limit' ? command.spec.type.priceTicks : null]), [
      ['t-1-sl', 10, null], ['t-1-tp', 5, 663_000], ['t-1-tp2', 5, 676_000],
    ]);
    applyAll(state, [acked('t-1-sl', 'v2', 40), report('t-1-sl', 'v2', 'untriggered', 0, 40, { side: 'sell', orderKind: 'stop-market', triggerTicks: 643_500, reduceOnly: true })]);
    const firstTarget = applyAll(state, [
      report('t-1-tp', 'v3', 'filled', 5, 100, { side: 'sell', orderKind: 'limit', sizeLots: 5, priceTicks: 663_000, reduceOnly: true }),
      fill('t-1-tp', 'v3', 'x2', 5, 663_000, 2, 100, 'sell'),
      position(5, 2, 100),
    ]);
    // The trigger moves at once; the size follows once the fills and the venue's report agree.
    const [toBreakeven] = amends(firstTarget);
    assert.deepEqual(toBreakeven?.amendment, { triggerTicks: 650_716 });
    assert.ok(notices(firstTarget).includes('stop-to-breakeven'));
    const [resized] = amends(step(state, amendAcked('t-1-sl', toBreakeven?.commandId ?? 0, 110)));
    assert.deepEqual(resized?.amendment, { sizeLots: 5 });
  });

  /** A limit buy of 0.010 BTC at 65,000 with the ladder; `lots` of it filled, the rest still resting (stop working). */
  function partlyFilledLimit(lots: number): { state: EngineState; commands: Command[] } {
    const state = engine({ attachedStops: false, receiveWindowMs: 0 });
    applyAll(state, [openMarket('r1', 10, { entry: { kind: 'limit', price: '65000.0' }, protection: ladder }), acked('t-1-e', 'v1', 20)]);
    const commands = applyAll(state, [
      report('t-1-e', 'v1', 'partially-filled', lots, 30, { orderKind: 'limit', priceTicks: 650_000 }),
      fill('t-1-e', 'v1', 'x1', lots, 650_000, 1, 30),
      position(lots, 1, 30),
    ]);
    return { state, commands };
  }
  const rungsSent = (commands: readonly Command[]): (string | number | null)[][] =>
    submits(commands).filter((command) => command.clientOrderId.includes('-tp')).map((command) => [command.clientOrderId, command.spec.sizeLots, command.spec.type.kind === 'limit' ? command.spec.type.priceTicks : null]);
  const texts = (commands: readonly Command[]): string => commands.flatMap((command) => (command.type === 'Notify' ? [command.notice.text] : [])).join('\n');

  it('waits for a limit entry that filled in part, then sizes the rungs for what it filled, exact to the lot', () => {
    const { state, commands } = partlyFilledLimit(3);
    // The stop covers the position and what the entry may still add; the rungs, shares of the
    // position, wait: sized now for the whole entry, the first would close all of it.
    assert.deepEqual(submits(commands).map((command) => [command.clientOrderId, command.spec.sizeLots]), [['t-1-sl', 10]]);
    assert.match(texts(commands), /0\.003 so far, of 0\.01; the take-profit ladder goes out when the entry is done/);
    assert.deepEqual(rungsSent(step(state, ticker(651_000, 40))), [], 'nothing until the entry is done');
    // The rest of the entry is cancelled on the venue (by the operator, say): 3 lots split 50/50.
    const done = step(state, report('t-1-e', 'v1', 'cancelled', 3, 50, { orderKind: 'limit', priceTicks: 650_000 }));
    assert.deepEqual(rungsSent(done), [['t-1-tp', 1, 663_000], ['t-1-tp2', 2, 676_000]]);
    assert.match(texts(done), /ladder sized for the 0\.003 the entry filled, of 0\.01: 0\.001 at 66300, 0\.002 at 67600$/m);
  });

  it('sends the planned rungs when the rest of the entry fills', () => {
    const { state } = partlyFilledLimit(3);
    const done = applyAll(state, [
      report('t-1-e', 'v1', 'filled', 10, 50, { orderKind: 'limit', priceTicks: 650_000 }),
      fill('t-1-e', 'v1', 'x2', 7, 650_000, 2, 50),
      position(10, 2, 50),
    ]);
    assert.deepEqual(rungsSent(done), [['t-1-tp', 5, 663_000], ['t-1-tp2', 5, 676_000]]);
  });

  it('gives a rung too small for the minimum to the next one out, and breakeven follows the first target placed', () => {
    const { state } = partlyFilledLimit(1);
    const done = step(state, report('t-1-e', 'v1', 'cancelled', 1, 50, { orderKind: 'limit', priceTicks: 650_000 }));
    assert.deepEqual(rungsSent(done), [['t-1-tp2', 1, 676_000]]);
    assert.equal(state.orders.get('t-1-tp')?.status, 'cancelled', 'the first rung is never placed');
    applyAll(state, [acked('t-1-sl', 'v2', 60), report('t-1-sl', 'v2', 'untriggered', 0, 60, { side: 'sell', orderKind: 'stop-market', triggerTicks: 643_500, reduceOnly: true })]);
    const target = applyAll(state, [
      report('t-1-tp2', 'v3', 'filled', 1, 100, { side: 'sell', orderKind: 'limit', sizeLots: 1, priceTicks: 676_000, reduceOnly: true }),
      fill('t-1-tp2', 'v3', 'x2', 1, 676_000, 2, 100, 'sell'),
    ]);
    assert.ok(notices(target).includes('stop-to-breakeven'));
  });

  it('sizes the rungs for what is still open when an aged exit closed part of the fill meanwhile', () => {
    const aged = { maxAgeMs: 60_000, graceMs: 0, step: { percent: 0.1 }, stepEveryMs: 60_000, hardLimitMs: 3_600_000 };
    const state = engine({ attachedStops: false, receiveWindowMs: 0 });
    applyAll(state, [
      openMarket('r1', 10, { entry: { kind: 'limit', price: '65000.0' }, protection: { ...ladder, aged } }), acked('t-1-e', 'v1', 20),
      report('t-1-e', 'v1', 'partially-filled', 6, 30, { orderKind: 'limit', priceTicks: 650_000 }), fill('t-1-e', 'v1', 'x1', 6, 650_000, 1, 30), position(6, 1, 30),
    ]);
    const review = [...state.timers].find(([, timer]) => timer.kind === 'review');
    assert.ok(review);
    assert.deepEqual(submits(step(state, { type: 'TimerFired', atMs: review[1].fireAtMs, timerId: review[0] })).map((command) => command.spec.sizeLots), [6], 'the aged exit');
    applyAll(state, [
      acked('t-1-ag', 'v9', 60_100),
      report('t-1-ag', 'v9', 'partially-filled', 4, 60_200, { side: 'sell', orderKind: 'limit', sizeLots: 6, priceTicks: 650_716, reduceOnly: true }),
      fill('t-1-ag', 'v9', 'x2', 4, 650_716, 2, 60_200, 'sell'), position(2, 2, 60_200),
    ]);
    const done = step(state, report('t-1-e', 'v1', 'cancelled', 6, 60_300, { orderKind: 'limit', priceTicks: 650_000 }));
    assert.deepEqual(rungsSent(done), [['t-1-tp', 1, 663_000], ['t-1-tp2', 1, 676_000]]);
    assert.match(texts(done), /sized for the 0\.006 the entry filled, of 0\.01 \(0\.002 of it open\)/);
  });

  it('sends no rung while the stop is closing the position', () => {
    const { state } = partlyFilledLimit(3);
    const stop = { side: 'sell', orderKind: 'stop-market', triggerTicks: 643_500, reduceOnly: true } as const;
    applyAll(state, [acked('t-1-sl', 'v2', 40), report('t-1-sl', 'v2', 'untriggered', 0, 40, stop)]);
    const closing = applyAll(state, [report('t-1-sl', 'v2', 'filled', 3, 100, { ...stop, sizeLots: 3 }), report('t-1-e', 'v1', 'cancelled', 3, 100, { orderKind: 'limit', priceTicks: 650_000 })]);
    assert.deepEqual(rungsSent(closing), []);
  });

  it('holds the rungs while an entry concluded never placed contradicts the position, and sizes them once its reports bring it back', () => {
    const state = engine({ attachedStops: false, receiveWindowMs: 0 });
    const limit = { orderKind: 'limit', priceTicks: 650_000 } as const;
    const commands = applyAll(state, [
      openMarket('r1', 10, { entry: { kind: 'limit', price: '65000.0' }, protection: ladder }),
      { type: 'OrderSubmitUnknown', atMs: 20, commandId: 1, clientOrderId: 't-1-e' as ClientOrderId, reason: 'timeout' },
      position(3, 1, 30),
      ...[1, 2, 3].map((attempt): Event => ({ type: 'OrderQueried', atMs: attempt * 1_000, commandId: 50 + attempt, clientOrderId: 't-1-e' as ClientOrderId, report: null })),
    ]);
    assert.deepEqual(rungsSent(commands), [], 'the position says the entry was placed after all');
    assert.notEqual(state.orders.get('t-1-tp')?.status, 'cancelled');
    const back = applyAll(state, [report('t-1-e', 'v1', 'partially-filled', 3, 5_000, limit), fill('t-1-e', 'v1', 'x1', 3, 650_000, 1, 5_000), report('t-1-e', 'v1', 'cancelled', 3, 6_000, limit)]);
    assert.deepEqual(rungsSent(back), [['t-1-tp', 1, 663_000], ['t-1-tp2', 2, 676_000]]);
  });

  it('refuses a ladder over 100 % and a ladder next to a take-profit, naming why', () => {
    const state = engine({ attachedStops: false, receiveWindowMs: 0 });
    const over = step(state, openMarket('r1', 10, { protection: { ladder: [{ target: { percent: 2 }, sizePercent: 70 }, { target: { percent: 3 }, sizePercent: 40 }] } }));
    assert.match(over.flatMap((command) => (command.type === 'Notify' ? [command.notice.text] : [])).join('\n'), /sum to 110%/);
    const both = step(state, openMarket('r2', 20, { takeProfit: { percent: 2 }, protection: ladder }));
    assert.match(both.flatMap((command) => (command.type === 'Notify' ? [command.notice.text] : [])).join('\n'), /either a take-profit or a ladder/);
    assert.equal(state.intents.size, 0);
  });
});

describe('attached stops: the position stop moves through trading-stop', () => {
  function attachedLong(protection: ProtectionRequest): EngineState {
    const state = engine({ attachedStops: true, receiveWindowMs: 0 });
    applyAll(state, [
      openMarket('r1', 10, { protection }),
      acked('t-1-e', 'v1', 20),
      report('t-1-e', 'v1', 'filled', 10, 30),
      fill('t-1-e', 'v1', 'x1', 10, 650_000, 1, 30),
      position(10, 1, 30, 643_500),
    ]);
    return state;
  }

  it('bot mode: one change in flight, tightening only', () => {
    const state = attachedLong(trailing);
    const [first] = positionStops(step(state, ticker(660_000, 200)));
    assert.deepEqual(first?.change, { kind: 'stop-loss', stopLoss: { triggerTicks: 656_700, triggerBy: 'mark' } });
    assert.deepEqual(positionStops(step(state, ticker(668_000, 2_000))), [], 'the first is not answered yet');
    const [second] = positionStops(step(state, { type: 'PositionStopAcked', atMs: 2_100, commandId: first?.commandId ?? 0, symbol: 'BTCUSDT' }));
    assert.equal(second?.change.kind === 'stop-loss' && second.change.stopLoss.triggerTicks, 668_000 - 3_340);
  });

  it('never claims a breakeven it cannot set over a stop the venue trails, and a plan cannot ask for both', () => {
    const ladder: ProtectionRequest = { ladder: [{ target: { percent: 2 }, sizePercent: 50 }, { target: { percent: 4 }, sizePercent: 50 }], breakevenAfterFirstTarget: true };
    const state = attachedLong(ladder);
    // The venue trails the position's stop (found so after a restart, or set by hand): it owns the level.
    const intent = state.intents.get('t-1' as never);
    assert.ok(intent !== undefined);
    state.intents.set(intent.id, { ...intent, guard: { ...intent.guard, venueTrailing: 'set' } });
    const firstTarget = applyAll(state, [
      report('t-1-tp', 'v3', 'filled', 5, 100, { side: 'sell', orderKind: 'limit', sizeLots: 5, priceTicks: 663_000, reduceOnly: true }),
      fill('t-1-tp', 'v3', 'x2', 5, 663_000, 2, 100, 'sell'),
      position(5, 2, 100, 643_500),
    ]);
    const texts = firstTarget.flatMap((command) => (command.type === 'Notify' && command.notice.code === 'stop-to-breakeven' ? [command.notice.text] : []));
    assert.deepEqual(texts, ['t-1: first target filled; breakeven 65071.6 not set: the venue trails the position\'s stop and keeps its level']);
    assert.deepEqual(positionStops(firstTarget), []);
    assert.equal(state.intents.get('t-1' as never)?.stopLoss.triggerTicks, 643_500, 'the wanted stop is not claimed to be at breakeven');
    const refused = step(engine({ attachedStops: true }), openMarket('r2', 10, { protection: { ...ladder, trailing: { mode: 'venue', activation: null, callback: { percent: 1 }, amendEveryMs: 1_000 } } }));
    assert.match(refused.flatMap((command) => (command.type === 'Notify' ? [command.notice.text] : [])).join('\n'), /breakevenAfterFirstTarget needs trailing mode bot/);
  });

  it('venue mode: the operator sees the venue trailing once it has set it', () => {
    const state = attachedLong({ trailing: { mode: 'venue', activation: { percent: 1 }, callback: { percent: 0.5 }, amendEveryMs: 1_000 } });
    const inFlight = state.intents.get('t-1' as never)?.guard.positionStop;
    assert.equal(inFlight?.change.kind, 'trailing');
    step(state, { type: 'PositionStopAcked', atMs: 100, commandId: inFlight?.commandId ?? 0, symbol: 'BTCUSDT' });
    assert.deepEqual(positionsView(state)[0]?.trailing, { by: 'venue', activationPrice: '65650', callback: '0.5 %', changeEveryMs: 1_000, minMove: null, active: true, bestPrice: null, level: null });
  });

  it('venue mode: hands the trailing to the venue once; refused, the bot trails instead', () => {
    const state = attachedLong({ trailing: { mode: 'venue', activation: { percent: 1 }, callback: { percent: 0.5 }, amendEveryMs: 1_000 } });
    const sent = state.intents.get('t-1' as never)?.guard.venueTrailing;
    assert.equal(sent, 'sent');
    const commands = step(state, ticker(660_000, 200));
    assert.deepEqual(positionStops(commands), [], 'the venue trails: the bot does not');
    const inFlight = state.intents.get('t-1' as never)?.guard.positionStop;
    assert.deepEqual(inFlight?.change, { kind: 'trailing', distanceTicks: 3_282, activationTicks: 656_500 });
    assert.deepEqual(positionsView(state)[0]?.trailing, { by: 'venue', activationPrice: '65650', callback: '0.5 %', changeEveryMs: 1_000, minMove: null, active: false, bestPrice: null, level: null });
    const refused = step(state, { type: 'PositionStopRejected', atMs: 300, commandId: inFlight?.commandId ?? 0, symbol: 'BTCUSDT', code: 'invalid', reason: 'trailing not supported' });
    assert.ok(notices(refused).includes('venue-trailing-refused'));
    assert.deepEqual(positionsView(state)[0]?.trailing, { by: 'bot', activationPrice: '65650', callback: '0.5 %', changeEveryMs: 1_000, minMove: null, active: true, bestPrice: '66000', level: '65670' });
    assert.deepEqual(positionStops(refused).map((command) => command.change.kind), ['stop-loss'], 'the bot trails at once');
  });
});

describe('aged position', () => {
  const hour = 3_600_000;
  const aged: ProtectionRequest = { aged: { maxAgeMs: hour, graceMs: hour / 2, step: { percent: 0.1 }, stepEveryMs: 300_000, hardLimitMs: 3 * hour } };

  it('exits at breakeven at the maximum age, steps the price by amend after the grace, closes at market at the hard limit', () => {
    const state = openLong(aged);
    const timer = (commands: readonly Command[]): Event => ({ type: 'TimerFired', atMs: timers(commands).at(-1)?.fireAtMs ?? 0, timerId: timers(commands).at(-1)?.timerId ?? 0 });
    const review = state.intents.get('t-1' as never)?.guard.reviewAtMs;
    assert.equal(review, 30 + hour);
    step(state, ticker(648_000, 1_000));
    const atMaxAge = step(state, { type: 'TimerFired', atMs: 30 + hour, timerId: [...state.timers].find(([, purpose]) => purpose.kind === 'review')?.[0] ?? 0 });
    const [exit] = submits(atMaxAge);
    assert.deepEqual([exit?.clientOrderId, exit?.spec.reduceOnly, exit?.spec.type], ['t-1-ag', true, { kind: 'limit', priceTicks: 650_716, postOnly: false }]);
    assert.match(atMaxAge.flatMap((command) => (command.type === 'Notify' && command.notice.code === 'aged-exit' ? [command.notice.text] : [])).join(''), /1h00m old, exit at breakeven 65071.6/);
    step(state, acked('t-1-ag', 'v9', 30 + hour + 10));
    const stepped = step(state, timer(atMaxAge));
    assert.deepEqual(amends(stepped).map((command) => command.amendment), [{ priceTicks: 650_716 - 650 }]);
    const hard = step(state, { type: 'TimerFired', atMs: 30 + 3 * hour, timerId: [...state.timers].find(([, purpose]) => purpose.kind === 'review')?.[0] ?? 0 });
    assert.deepEqual(submits(hard).map((command) => command.clientOrderId), ['t-1-x']);
  });

  it('keeps stepping an exit that partly filled, and gives the rest of a position that grew an exit of its own', () => {
    const state = openLong(aged);
    const review = (): Event => {
      const [timerId, purpose] = [...state.timers].find(([, candidate]) => candidate.kind === 'review') ?? [0, { fireAtMs: 0 }];
      return { type: 'TimerFired', atMs: purpose.fireAtMs, timerId };
    };
    step(state, ticker(648_000, 1_000));
    step(state, review()); // the maximum age: the exit at breakeven
    step(state, acked('t-1-ag', 'v9', 30 + hour + 10));
    const exitReport = (status: 'partially-filled' | 'filled', lots: number, atMs: number): Event => report('t-1-ag', 'v9', status, lots, atMs, { side: 'sell', orderKind: 'limit', priceTicks: 650_716, reduceOnly: true });
    applyAll(state, [exitReport('partially-filled', 3, 30 + hour + 20), fill('t-1-ag', 'v9', 'x2', 3, 650_716, 2, 30 + hour + 20, 'sell'), position(7, 2, 30 + hour + 20)]);
    assert.equal(state.orders.get('t-1-ag')?.status, 'partially-filled');
    const stepped = step(state, review()); // after the grace
    assert.deepEqual(amends(stepped).map((command) => [command.clientOrderId, command.amendment]), [['t-1-ag', { priceTicks: 650_716 - 650 }]], 'a partly filled exit is stepped too');
    // Someone buys 5 more (the position is 12), then the exit's last 7 fill: 5 remain, and get an exit of their own.
    applyAll(state, [
      { type: 'OrderAmendAcked', atMs: 30 + hour * 1.5 + 10, commandId: amends(stepped)[0]?.commandId ?? 0, clientOrderId: 't-1-ag' as ClientOrderId },
      fill(null, 'v20', 'x3', 5, 649_000, 3, 30 + hour * 1.5 + 20), position(12, 3, 30 + hour * 1.5 + 20),
    ]);
    const filled = applyAll(state, [exitReport('filled', 10, 30 + hour * 1.5 + 30), fill('t-1-ag', 'v9', 'x4', 7, 650_066, 4, 30 + hour * 1.5 + 30, 'sell'), position(5, 4, 30 + hour * 1.5 + 30)]);
    const again = submits(filled).filter((command) => command.clientOrderId.startsWith('t-1-ag'));
    assert.deepEqual(again.map((command) => [command.clientOrderId, command.spec.sizeLots, command.spec.reduceOnly]), [['t-1-ag2', 5, true]]);
  });

  it('answers the tickers between its steps without the full evaluation, and places its exit again once it ends unfilled', () => {
    const state = openLong(aged);
    step(state, { type: 'TimerFired', atMs: 30 + hour, timerId: [...state.timers].find(([, purpose]) => purpose.kind === 'review')?.[0] ?? 0 });
    step(state, acked('t-1-ag', 'v9', 30 + hour + 10));
    const before = state.counters.policyEvaluations;
    // A ticker a minute through the grace: the exit rests at breakeven, its first step armed for later.
    for (let minute = 1; minute < 30; minute += 1) {
      const commands = step(state, ticker(648_000 + 10 * minute, 30 + hour + minute * 60_000));
      assert.deepEqual(commands.filter((command) => command.type !== 'Record'), [], `minute ${minute}`);
    }
    assert.equal(state.counters.policyEvaluations, before, 'no full evaluation between the steps');
    // Someone cancels the exit: the report is no quiet event, and the exit goes out again.
    const cancelled = step(state, report('t-1-ag', 'v9', 'cancelled', 0, 30 + hour + 1_790_000, { side: 'sell', orderKind: 'limit', priceTicks: 650_716, reduceOnly: true }));
    assert.deepEqual(submits(cancelled).map((command) => [command.clientOrderId, command.spec.type]), [['t-1-ag2', { kind: 'limit', priceTicks: 650_716, postOnly: false }]]);
  });
});

describe('a limit entry whose rest fills after the position closed', () => {
  const texts = (commands: readonly Command[]): string => commands.flatMap((command) => (command.type === 'Notify' ? [command.notice.text] : [])).join('\n');
  const limit = { orderKind: 'limit', priceTicks: 650_000 } as const;
  const stop = { side: 'sell', orderKind: 'stop-market', triggerTicks: 643_500, reduceOnly: true } as const;

  /** 3 of 10 lots filled, the stop working; `externalPositions: watch`, so an adoption would leave the rest without a stop. */
  function partlyFilled(): EngineState {
    const state = engine({ attachedStops: false, receiveWindowMs: 0, externalPositions: 'watch' });
    applyAll(state, [
      openMarket('r1', 10, { entry: { kind: 'limit', price: '65000.0' } }), acked('t-1-e', 'v1', 20),
      report('t-1-e', 'v1', 'partially-filled', 3, 30, limit), fill('t-1-e', 'v1', 'x1', 3, 650_000, 1, 30), position(3, 1, 30),
      acked('t-1-sl', 'v2', 40), report('t-1-sl', 'v2', 'untriggered', 0, 40, stop),
    ]);
    return state;
  }
  /** Reduce-only market exits, by size (sized for the whole entry at least: the venue caps one at the position). */
  const marketExits = (commands: readonly Command[]): number[] => submits(commands).filter((command) => command.spec.type.kind === 'market' && command.spec.reduceOnly).map((command) => command.spec.sizeLots);

  it('closes it at market, its report coming before its fill (as Bybit sends them), not adopting it as someone else\'s', () => {
    const state = partlyFilled();
    applyAll(state, [report('t-1-sl', 'v2', 'filled', 3, 100, { ...stop, sizeLots: 3 }), fill('t-1-sl', 'v2', 'x2', 3, 643_500, 2, 100, 'sell'), position(0, 2, 100)]);
    const reported = step(state, report('t-1-e', 'v1', 'filled', 10, 110, limit));
    assert.equal(state.intents.get('t-1' as never)?.phase.name, 'open', 'its fills are on their way: not done yet');
    assert.deepEqual(marketExits(reported), []);
    const rest = applyAll(state, [fill('t-1-e', 'v1', 'x3', 7, 643_000, 3, 110), position(7, 3, 110)]);
    assert.deepEqual(marketExits(rest), [10]);
    assert.match(texts(rest), /closing at market: the entry filled again after the position closed/);
    assert.ok(!notices(rest).includes('adopted'));
  });

  it('closes it at market after a close request too', () => {
    const state = partlyFilled();
    applyAll(state, [{ type: 'CloseRequested', atMs: 100, requestId: 'c1', symbol: 'BTCUSDT' }, acked('t-1-x', 'v3', 110)]);
    applyAll(state, [report('t-1-x', 'v3', 'filled', 3, 120, { side: 'sell', orderKind: 'market', sizeLots: 3, reduceOnly: true }), fill('t-1-x', 'v3', 'x2', 3, 650_000, 2, 120, 'sell'), position(0, 2, 120)]);
    step(state, report('t-1-e', 'v1', 'filled', 10, 130, limit));
    const rest = applyAll(state, [fill('t-1-e', 'v1', 'x3', 7, 650_000, 3, 130), position(7, 3, 130)]);
    assert.ok(state.intents.get('t-1' as never)?.phase.name !== 'done', 'the intent closes what it opened');
    assert.ok(!notices(rest).includes('adopted'));
  });
});
