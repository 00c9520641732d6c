import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Command, CommandOf } from '../../src/core/commands.ts';
import { requestFingerprint } from '../../src/core/engine/requests.ts';
import { step } from '../../src/core/engine/step.ts';
import type { Event, EventOf } from '../../src/core/events.ts';
import type { ClientOrderId } from '../../src/core/ids.ts';
import { isValidClientOrderId } from '../../src/core/ids.ts';
import { effectiveSizeLots } from '../../src/core/position/position.ts';
import type { PositionPolicy, PositionView } from '../../src/core/protection/policy.ts';
import type { EngineState } from '../../src/core/state.ts';
import { acked, applyAll, btc, engine, fill, notices, openMarket, position, report, submits, ticker } from '../support/events.ts';

const entryId = 't-1-e';
const stopId = 't-1-sl';

describe('opening a position', () => {
  it('creates the intent and all its order ids before the entry command leaves', () => {
    const state = engine({ attachedStops: false });
    const commands = step(state, openMarket('r1', 10));
    const [entry] = submits(commands);
    assert.ok(entry);
    assert.equal(entry.clientOrderId, entryId);
    assert.equal(state.orders.get(entryId)?.status, 'submitted');
    assert.equal(state.orders.get(stopId)?.status, 'pending');
    assert.equal(state.intents.get('t-1' as never)?.phase.name, 'entering');
    assert.equal(submits(commands).length, 1, 'only the entry leaves: the stop waits for a fill');
  });

  it('attaches the stop to the entry where the venue supports it, rounded toward the entry', () => {
    const state = engine({ attachedStops: true });
    const [entry] = submits(step(state, openMarket('r1', 10, { takeProfit: { percent: 2 } })));
    assert.deepEqual(entry?.spec.stopLoss, { triggerTicks: 643_500, triggerBy: 'mark' });
    assert.deepEqual(entry?.spec.takeProfit, { triggerTicks: 663_000, triggerBy: 'last' });
    assert.equal(entry?.spec.sizeLots, 10);
    assert.equal(state.orders.has(stopId), false, 'no separate stop order with an attached one');
  });

  it('sizes a quote-notional request in whole lots, never above the notional', () => {
    const state = engine();
    const [entry] = submits(step(state, openMarket('r1', 10, { size: { notional: '1000' } })));
    assert.equal(entry?.spec.sizeLots, 15); // 1000 / 65000 = 0.01538 -> 0.015
  });

  it('rejects bad requests with a reason and sends nothing', () => {
    const cases = [
      { extra: { symbol: 'NOPEUSDT' }, reason: /unknown instrument NOPEUSDT/ },
      { extra: { stopLoss: { price: '66000' } }, reason: /stop-loss 66000 must be below the long entry 65000/ },
      { extra: { size: { quantity: '0.0001' } }, reason: /not a multiple of the 0.001 lot/ },
      { extra: { size: { notional: '3' } }, reason: /below the minimum/ },
      { extra: { size: { quantity: '150.001' } }, reason: /size 150\.001 is above 150, the most BTCUSDT takes in one market order$/ },
      // A limit entry too: its stop and its exits are market orders for the whole position.
      { extra: { size: { quantity: '150.001' }, entry: { kind: 'limit' as const, price: '64000' } }, reason: /above 150, the most BTCUSDT takes in one market order: the stop closes the position in one market order$/ },
      { extra: { stopLoss: { percent: 0 } }, reason: /percent must be in \(0, 100\)/ },
      { extra: { side: 'sell' as const, takeProfit: { price: '70000' } }, reason: /take-profit 70000 must be below the short entry/ },
    ];
    for (const [index, { extra, reason }] of cases.entries()) {
      const state = engine();
      const commands = step(state, openMarket(`bad${index}`, 10, extra));
      assert.equal(submits(commands).length, 0);
      const texts = commands.flatMap((command) => (command.type === 'Notify' ? [command.notice.text] : []));
      assert.match(texts.join('\n'), reason);
      assert.equal(state.counters.requestsRejected, 1);
    }
  });

  it('handles a request id once: a repeat sends nothing', () => {
    const state = engine();
    const first = step(state, openMarket('r1', 10));
    const repeat = step(state, openMarket('r1', 11));
    assert.equal(submits(first).length, 1);
    assert.equal(submits(repeat).length, 0);
    assert.deepEqual(notices(repeat), ['request-repeated']);
  });

  it('refuses another request under a used id, keeping what the id first asked, whatever the key order or time', () => {
    const state = engine();
    step(state, openMarket('r1', 10));
    const remembered = state.requests.get('r1');
    assert.equal(remembered?.outcome.startsWith('accepted as '), true);
    const other = step(state, openMarket('r1', 11, { side: 'sell', stopLoss: { percent: 2 } }));
    assert.equal(submits(other).length, 0);
    assert.deepEqual(notices(other), ['request-id-reused']);
    assert.equal(state.counters.requestsRejected, 1);
    assert.deepEqual(state.requests.get('r1'), remembered, 'the first request\'s memory stands');
    const { type, requestId, symbol, side, size, entry, stopLoss, takeProfit } = openMarket('r1', 12) as EventOf<'OpenRequested'>;
    const reordered = { takeProfit, stopLoss, entry, size, side, symbol, requestId, type, atMs: 13 } as Event;
    assert.deepEqual(notices(step(state, reordered)), ['request-repeated']);
    assert.equal(requestFingerprint(reordered), remembered?.asked);
  });

  it('fingerprints a request as 64-bit FNV-1a of its canonical text, the value journal snapshots keep', () => {
    // The BigInt form the fingerprint was first written in: snapshots hold its values, so the
    // faster form must give the same ones for every text.
    const fnv1a64 = (text: string): string => {
      let hash = 0xcbf29ce484222325n;
      for (let index = 0; index < text.length; index += 1) hash = ((hash ^ BigInt(text.charCodeAt(index))) * 0x100000001b3n) & 0xffffffffffffffffn;
      return hash.toString(16).padStart(16, '0');
    };
    // Keys in sorted order and no atMs: the canonical text is then JSON.stringify's.
    fc.assert(fc.property(fc.string({ unit: 'binary' }), fc.string({ maxLength: 400 }), fc.integer(), (note, requestId, size) => {
      const asked = { note, requestId, size: { quantity: size } };
      assert.equal(requestFingerprint({ ...asked, atMs: 1 }), fnv1a64(JSON.stringify(asked)));
    }), { numRuns: 500 });
    assert.equal(requestFingerprint(openMarket('r1', 10)), requestFingerprint(openMarket('r1', 99)), 'when it came is not what it asks');
    assert.equal(requestFingerprint({ requestId: 'sig-42', symbol: 'SOLUSDT', side: 'buy', atMs: 5 }), fnv1a64('{"requestId":"sig-42","side":"buy","symbol":"SOLUSDT"}'));
  });

  it('refuses a second entry on a symbol that is busy', () => {
    const state = engine();
    step(state, openMarket('r1', 10));
    const commands = step(state, openMarket('r2', 11));
    assert.equal(submits(commands).length, 0);
    assert.equal(state.counters.requestsRejected, 1);
  });

  it('makes client order ids within the venue limits', () => {
    const state = engine({ botId: 'bot_1234567890ab' });
    state.seq = 999_999_999_990;
    const [entry] = submits(step(state, openMarket('r1', 10)));
    assert.ok(entry && isValidClientOrderId(entry.clientOrderId) && entry.clientOrderId.length <= 36, entry?.clientOrderId);
  });
});

describe('venue events around the REST reply', () => {
  it('applies fills, order and position updates that arrive before the REST reply', () => {
    const state = engine();
    step(state, openMarket('r1', 10));
    applyAll(state, [report(entryId, 'v1', 'filled', 10, 50), fill(entryId, 'v1', 'x1', 10, 650_000, 7, 51), position(10, 7, 52, 643_500)]);
    const beforeReply = state.positions.get('main/BTCUSDT');
    assert.equal(beforeReply?.sizeLots, 10);
    assert.equal(state.intents.get('t-1' as never)?.phase.name, 'open');
    step(state, acked(entryId, 'v1', 350));
    assert.equal(state.orders.get(entryId)?.status, 'filled', 'the late REST reply does not regress the order');
  });

  it('applies a duplicate fill once and ignores a stale report', () => {
    const state = engine();
    step(state, openMarket('r1', 10));
    applyAll(state, [fill(entryId, 'v1', 'x1', 4, 650_000, 7, 50), fill(entryId, 'v1', 'x1', 4, 650_000, 7, 51), report(entryId, 'v1', 'filled', 10, 60)]);
    step(state, report(entryId, 'v1', 'new', 0, 40));
    assert.equal(state.positions.get('main/BTCUSDT')?.sizeLots, 4);
    assert.equal(state.counters.duplicateFills, 1);
    assert.equal(state.orders.get(entryId)?.status, 'filled');
  });

  it('takes the newer of fills and position reports by venue sequence', () => {
    const state = engine();
    step(state, openMarket('r1', 10));
    applyAll(state, [position(10, 9, 50), fill(entryId, 'v1', 'x1', 10, 650_000, 9, 51)]);
    const held = state.positions.get('main/BTCUSDT');
    assert.ok(held);
    assert.equal(effectiveSizeLots(held), 10);
    step(state, position(0, 8, 52)); // an older report
    assert.equal(effectiveSizeLots(state.positions.get('main/BTCUSDT') ?? held), 10);
  });
});

describe('a separate stop', () => {
  const evidences = {
    'a fill': fill(entryId, 'v1', 'x1', 10, 650_000, 7, 50),
    'an order report': report(entryId, 'v1', 'partially-filled', 3, 50),
    'a position report': position(10, 7, 50),
  };
  for (const [name, evidence] of Object.entries(evidences)) {
    it(`is sent on the first evidence of a fill: ${name}`, () => {
      const state = engine({ attachedStops: false });
      step(state, openMarket('r1', 10));
      const stops = submits(step(state, evidence)).filter((command) => command.clientOrderId === stopId);
      assert.equal(stops.length, 1);
      assert.equal(stops[0]?.spec.reduceOnly, true);
      assert.deepEqual(stops[0]?.spec.type, { kind: 'stop-market', triggerTicks: 643_500, triggerBy: 'mark' });
      const again = applyAll(state, [report(entryId, 'v1', 'filled', 10, 60), position(10, 8, 61), acked(entryId, 'v1', 300)]);
      assert.equal(submits(again).length, 0, 'the stop is sent once');
    });
  }

  it('is replaced by a market exit when not acknowledged within the deadline', () => {
    const state = engine({ attachedStops: false, stopAckDeadlineMs: 2_000 });
    step(state, openMarket('r1', 10));
    const commands = step(state, fill(entryId, 'v1', 'x1', 10, 650_000, 7, 50));
    const timer = commands.find((command) => command.type === 'StartTimer');
    assert.ok(timer?.type === 'StartTimer');
    assert.equal(timer.fireAtMs, 2_050);
    const onDeadline = step(state, { type: 'TimerFired', atMs: 2_050, timerId: timer.timerId });
    const [exit] = submits(onDeadline);
    assert.equal(exit?.clientOrderId, 't-1-x');
    assert.deepEqual(exit?.spec.type, { kind: 'market' });
    assert.equal(exit?.spec.side, 'sell');
    assert.equal(exit?.spec.reduceOnly, true);
    assert.equal(state.counters.protectiveExits, 1);
  });

  it('does nothing at the deadline when the venue acknowledged it in time', () => {
    const state = engine({ attachedStops: false });
    step(state, openMarket('r1', 10));
    const commands = step(state, fill(entryId, 'v1', 'x1', 10, 650_000, 7, 50));
    const timer = commands.find((command) => command.type === 'StartTimer');
    assert.ok(timer?.type === 'StartTimer');
    step(state, report(stopId, 'v2', 'untriggered', 0, 90, { side: 'sell', orderKind: 'stop-market', reduceOnly: true }));
    assert.equal(submits(step(state, { type: 'TimerFired', atMs: 2_050, timerId: timer.timerId })).length, 0);
  });

  it('is replaced by a larger one, before the smaller is cancelled, when the position outgrows it', () => {
    const state = engine({ attachedStops: false });
    step(state, openMarket('r1', 10));
    applyAll(state, [fill(entryId, 'v1', 'x1', 10, 650_000, 7, 50), acked(stopId, 'v2', 90)]);
    const grown = step(state, position(25, 9, 100)); // someone added 0.015 by hand
    const [bigger] = submits(grown);
    assert.equal(bigger?.clientOrderId, 't-1-sl2');
    assert.equal(bigger?.spec.sizeLots, 25);
    assert.equal(grown.filter((command) => command.type === 'CancelOrder').length, 0, 'the old stop stays until the new one works');
    const working = step(state, acked('t-1-sl2', 'v3', 150));
    assert.deepEqual(working.filter((command) => command.type === 'CancelOrder').map((command) => command.clientOrderId), [stopId]);
  });

  it('covers the position the venue shows plus what the entry may still add (seed 7915)', () => {
    const state = engine({ attachedStops: false });
    step(state, openMarket('r1', 10, { side: 'sell', stopLoss: { percent: 1 } }));
    // A manual sell of 4 lots netted in before our entry filled; the venue reports the position first.
    const [stop] = submits(step(state, position(-4, 3, 50)));
    assert.equal(stop?.clientOrderId, stopId);
    assert.equal(stop?.spec.sizeLots, 14, '4 on the venue + 10 the entry may still add');
    const later = applyAll(state, [fill(entryId, 'v1', 'x1', 10, 650_000, 4, 60, 'sell'), position(-14, 4, 61)]);
    assert.equal(submits(later).length, 0, 'no replacement: the stop already covers it');
  });

  it('is replaced while on its way when a fill not ours is booked after it was sized, before the entry fills past it (seed 362401)', () => {
    const state = engine({ attachedStops: false });
    step(state, openMarket('r1', 10, { side: 'sell', stopLoss: { percent: 1 } }));
    // A manual sell of 2 lots, read as two fills after our market entry went: the stop goes on the first.
    const [stop] = submits(step(state, fill(null, 'm1', 'x1', 1, 650_000, 3, 50, 'sell')));
    assert.deepEqual([stop?.clientOrderId, stop?.spec.sizeLots], [stopId, 11], '1 booked + 10 the entry may still add');
    const second = step(state, fill(null, 'm1', 'x2', 1, 650_000, 4, 51, 'sell'));
    const [bigger] = submits(second);
    assert.deepEqual([bigger?.clientOrderId, bigger?.spec.sizeLots], ['t-1-sl2', 12], 'sent now, not once the entry has filled past 11');
    assert.match(second.flatMap((command) => (command.type === 'Notify' ? [command.notice.text] : [])).join('\n'), /the fills booked since stop t-1-sl was sized and what the entry may still fill come to 0\.012/);
    // Our entry's own fills, however they arrive, replace nothing more.
    assert.deepEqual(submits(applyAll(state, [position(-12, 6, 60), fill(entryId, 'v1', 'x3', 4, 650_000, 5, 61, 'sell'), fill(entryId, 'v1', 'x4', 6, 650_000, 6, 62, 'sell')])), []);
  });

  it('is not replaced while on its way by its own entry\'s fills, however they arrive', () => {
    const state = engine({ attachedStops: false });
    step(state, openMarket('r1', 10));
    const [stop] = submits(step(state, fill(entryId, 'v1', 'x1', 3, 650_000, 7, 50)));
    assert.deepEqual([stop?.clientOrderId, stop?.spec.sizeLots], [stopId, 10]);
    const rest = applyAll(state, [position(10, 9, 55), fill(entryId, 'v1', 'x2', 7, 650_000, 9, 56), report(entryId, 'v1', 'filled', 10, 57)]);
    assert.deepEqual(submits(rest), []);
  });

  it('is sent again when someone cancels it while the position is open', () => {
    const state = engine({ attachedStops: false });
    step(state, openMarket('r1', 10));
    applyAll(state, [fill(entryId, 'v1', 'x1', 10, 650_000, 7, 50), acked(stopId, 'v2', 90)]);
    const [again] = submits(step(state, report(stopId, 'v2', 'cancelled', 0, 120, { side: 'sell', orderKind: 'stop-market', reduceOnly: true })));
    assert.equal(again?.clientOrderId, 't-1-sl2');
    assert.equal(again?.spec.reduceOnly, true);
  });

  it('turns into a market exit when the venue rejects it', () => {
    const state = engine({ attachedStops: false });
    step(state, openMarket('r1', 10));
    step(state, fill(entryId, 'v1', 'x1', 10, 650_000, 7, 50));
    const commands = step(state, { type: 'OrderSubmitRejected', atMs: 90, commandId: 0, clientOrderId: stopId as ClientOrderId, code: 'trigger-crossed', reason: 'price already below the trigger' });
    assert.equal(submits(commands)[0]?.clientOrderId, 't-1-x');
  });
});

describe('outcomes we cannot know', () => {
  it('takes "duplicate order id" for a create that went through, and asks, never sending the stop again', () => {
    const state = engine({ attachedStops: false });
    step(state, openMarket('r1', 10));
    step(state, fill(entryId, 'v1', 'x1', 10, 650_000, 7, 50));
    const commands = step(state, { type: 'OrderSubmitRejected', atMs: 90, commandId: 0, clientOrderId: stopId as ClientOrderId, code: 'duplicate-id', reason: 'OrderLinkedID is duplicate' });
    assert.deepEqual(commands.filter((command) => command.type === 'QueryOrder').map((command) => command.clientOrderId), [stopId]);
    assert.deepEqual(submits(commands), [], 'no second stop, no exit');
    assert.equal(state.orders.get(stopId)?.status, 'unknown');
    assert.ok(!notices(commands).includes('order-rejected'));
    // Acknowledged already: a late duplicate refusal (a retry's) changes nothing.
    const acknowledged = engine({ attachedStops: false });
    step(acknowledged, openMarket('r1', 10));
    applyAll(acknowledged, [fill(entryId, 'v1', 'x1', 10, 650_000, 7, 50), acked(stopId, 'v2', 90)]);
    const late = step(acknowledged, { type: 'OrderSubmitRejected', atMs: 95, commandId: 0, clientOrderId: stopId as ClientOrderId, code: 'duplicate-id', reason: 'OrderLinkedID is duplicate' });
    assert.equal(acknowledged.orders.get(stopId)?.status, 'accepted');
    assert.deepEqual(late.filter((command) => command.type !== 'Notify' && command.type !== 'Record'), []);
  });

  it('asks the venue by client order id and never resends the entry', () => {
    const state = engine({ unknownNotFoundMax: 2 });
    step(state, openMarket('r1', 10));
    const onTimeout = step(state, { type: 'OrderSubmitUnknown', atMs: 1_500, commandId: 3, clientOrderId: entryId as ClientOrderId, reason: 'timeout' });
    assert.deepEqual(onTimeout.filter((command) => command.type === 'QueryOrder').map((command) => command.clientOrderId), [entryId]);
    assert.equal(state.orders.get(entryId)?.status, 'unknown');
    const notFound = step(state, { type: 'OrderQueried', atMs: 1_600, commandId: 4, clientOrderId: entryId as ClientOrderId, report: null });
    const timer = notFound.find((command) => command.type === 'StartTimer');
    assert.ok(timer?.type === 'StartTimer');
    const again = step(state, { type: 'TimerFired', atMs: 2_600, timerId: timer.timerId });
    assert.equal(again.filter((command) => command.type === 'QueryOrder').length, 1);
    const concluded = step(state, { type: 'OrderQueried', atMs: 2_700, commandId: 5, clientOrderId: entryId as ClientOrderId, report: null });
    assert.equal(state.orders.get(entryId)?.status, 'rejected');
    assert.equal(state.intents.get('t-1' as never)?.phase.name, 'done');
    assert.equal(submits([...onTimeout, ...notFound, ...again, ...concluded]).length, 0);
  });

  it('resolves an unknown entry from the answer and protects what it finds', () => {
    const state = engine({ attachedStops: false });
    step(state, openMarket('r1', 10));
    step(state, { type: 'OrderSubmitUnknown', atMs: 1_500, commandId: 3, clientOrderId: entryId as ClientOrderId, reason: 'timeout' });
    const answer = step(state, {
      type: 'OrderQueried', atMs: 1_600, commandId: 4, clientOrderId: entryId as ClientOrderId,
      report: { ...(report(entryId, 'v1', 'filled', 10, 40) as Extract<ReturnType<typeof report>, { type: 'OrderUpdated' }>) },
    });
    assert.equal(state.orders.get(entryId)?.status, 'filled');
    assert.equal(submits(answer)[0]?.clientOrderId, stopId, 'the stop goes out on this evidence too');
  });
});

describe('events no intent explains', () => {
  it('adopts an external fill and protects the position it opens', () => {
    const state = engine({ attachedStops: true, externalStopPercent: 2 });
    const commands = applyAll(state, [report(null, 'm1', 'filled', 10, 50), fill(null, 'm1', 'mx1', 10, 650_000, 3, 51)]);
    assert.equal(state.counters.adoptedOrders, 1);
    assert.equal(state.counters.adoptedPositions, 1);
    const [stop] = submits(commands);
    assert.equal(stop?.spec.reduceOnly, true);
    assert.deepEqual(stop?.spec.type, { kind: 'stop-market', triggerTicks: 637_000, triggerBy: 'mark' });
  });

  it('sizes the stop of an adopted position for what a foreign order reported filled but has not yet brought in fills (seed 242619)', () => {
    const state = engine({ externalStopPercent: 2 });
    // A foreign limit order for 63 reports 41 filled; its first fill brings 7.
    const commands = applyAll(state, [
      report(null, 'm1', 'partially-filled', 41, 50, { sizeLots: 63, orderKind: 'limit', priceTicks: 650_000 }),
      fill(null, 'm1', 'mx1', 7, 650_000, 3, 51),
    ]);
    assert.equal(state.counters.adoptedPositions, 1);
    const [stop] = submits(commands);
    // The 7 booked, the 34 filled on the venue whose fills are on their way, the 22 still to fill.
    assert.equal(stop?.spec.sizeLots, 63);
  });

  it('only watches, or closes, as configured', () => {
    const watched = engine({ externalPositions: 'watch' });
    assert.equal(submits(applyAll(watched, [position(-5, 3, 50)])).length, 0);
    assert.equal(watched.counters.adoptedPositions, 1);
    const closed = engine({ externalPositions: 'close' });
    const [exit] = submits(applyAll(closed, [position(-5, 3, 50)]));
    assert.equal(exit?.spec.side, 'buy');
    assert.equal(exit?.spec.sizeLots, 5);
  });
});

describe('the policy hook', () => {
  it('sees a new position from its first event, before the REST reply', () => {
    const seen: PositionView[] = [];
    const recorder: PositionPolicy = { name: 'recorder', evaluate: (view) => { seen.push(view); return []; } };
    const state = engine({ policies: [recorder] });
    step(state, openMarket('r1', 10));
    step(state, fill(entryId, 'v1', 'x1', 10, 650_000, 7, 50));
    assert.equal(seen.length, 1);
    assert.equal(seen[0]?.sizeLots, 10);
    assert.equal(seen[0]?.protection, 'attached');
    step(state, { type: 'TickerUpdated', atMs: 60, symbol: 'BTCUSDT', lastTicks: 651_000, markTicks: 651_000, venueMs: 60 });
    assert.equal(seen.length, 2, 'and on every ticker after');
  });

  it('turns an exit decision into a reduce-only market order', () => {
    const exitAll: PositionPolicy = { name: 'aged', evaluate: () => [{ kind: 'exit', reason: 'too old' }] };
    const state = engine({ policies: [exitAll] });
    step(state, openMarket('r1', 10));
    const [exit] = submits(step(state, fill(entryId, 'v1', 'x1', 10, 650_000, 7, 50)));
    assert.equal(exit?.clientOrderId, 't-1-x');
    assert.equal(exit?.spec.reduceOnly, true);
  });
});

describe('closing', () => {
  it('finishes the intent when the position is flat and cancels what is left of its protection', () => {
    const state = engine({ attachedStops: false });
    step(state, openMarket('r1', 10, { takeProfit: { percent: 2 } }));
    applyAll(state, [fill(entryId, 'v1', 'x1', 10, 650_000, 7, 50), acked(stopId, 'v2', 90), acked('t-1-tp', 'v3', 91)]);
    const commands = applyAll(state, [fill(stopId, 'v2', 'x2', 10, 643_000, 8, 500, 'sell'), position(0, 8, 501)]);
    assert.equal(state.intents.get('t-1' as never)?.phase.name, 'done');
    const cancels = commands.filter((command) => command.type === 'CancelOrder').map((command) => command.clientOrderId);
    assert.deepEqual(cancels, ['t-1-tp']);
    const ledger = state.positions.get('main/BTCUSDT');
    assert.equal(ledger?.realizedPnlE8, -700_000_000); // (643000 - 650000) ticks x 10 lots x 1e4 E8 = -7 USDT
    assert.ok(notices(commands).includes('position-closed'));
  });

  it('takes "not found" for a cancel of an order already seen ended as the answer: no query, no notice', () => {
    const state = engine({ attachedStops: false });
    step(state, openMarket('r1', 10, { takeProfit: { percent: 2 } }));
    applyAll(state, [fill(entryId, 'v1', 'x1', 10, 650_000, 7, 50), acked(stopId, 'v2', 90), acked('t-1-tp', 'v3', 91)]);
    const cancel = applyAll(state, [fill(stopId, 'v2', 'x2', 10, 643_000, 8, 500, 'sell'), position(0, 8, 501)]).find((command) => command.type === 'CancelOrder');
    assert.ok(cancel);
    // Bybit cancels a reduce-only order once the position is flat; its report comes first.
    step(state, report('t-1-tp', 'v3', 'cancelled', 0, 502, { side: 'sell', orderKind: 'limit', reduceOnly: true }));
    const answer = step(state, { type: 'OrderCancelRejected', atMs: 503, commandId: cancel.commandId, clientOrderId: cancel.clientOrderId, code: 'not-found', reason: 'order not exists or too late to cancel' });
    assert.deepEqual(answer.filter((command) => command.type === 'QueryOrder'), []);
    assert.deepEqual(notices(answer), []);
    assert.equal(state.orders.get('t-1-tp')?.status, 'cancelled');
    // Not yet seen ended: the venue is asked (the reports may be lost).
    const live = engine({ attachedStops: false });
    step(live, openMarket('r1', 10, { takeProfit: { percent: 2 } }));
    applyAll(live, [fill(entryId, 'v1', 'x1', 10, 650_000, 7, 50), acked(stopId, 'v2', 90), acked('t-1-tp', 'v3', 91)]);
    const pending = applyAll(live, [fill(stopId, 'v2', 'x2', 10, 643_000, 8, 500, 'sell'), position(0, 8, 501)]).find((command) => command.type === 'CancelOrder');
    assert.ok(pending);
    const asked = step(live, { type: 'OrderCancelRejected', atMs: 503, commandId: pending.commandId, clientOrderId: pending.clientOrderId, code: 'not-found', reason: 'order not exists or too late to cancel' });
    assert.deepEqual(asked.filter((command) => command.type === 'QueryOrder').map((command) => command.clientOrderId), ['t-1-tp']);
  });

  it('never gives an exit up: past the limit it alarms and slows down; "nothing to reduce" makes it look at the venue', () => {
    const state = engine({ attachedStops: true, exitAttemptsMax: 2, exitRetryMs: 500, exitRetryMsMax: 4_000 });
    step(state, openMarket('r1', 10));
    applyAll(state, [fill(entryId, 'v1', 'x1', 10, 650_000, 7, 50), position(10, 7, 51)]);
    let atMs = 100;
    let commands = step(state, { type: 'CloseRequested', atMs, requestId: 'c1', symbol: 'BTCUSDT' });
    const exits: string[] = [];
    const pausesMs: number[] = [];
    const alarms: string[] = [];
    let snapshots = 0;
    for (let round = 0; round < 6; round += 1) {
      const [exit] = submits(commands);
      assert.ok(exit !== undefined, `round ${round}: an exit is sent`);
      exits.push(exit.clientOrderId);
      alarms.push(...notices(commands).filter((code) => code === 'exit-failing'));
      commands = step(state, { type: 'OrderSubmitRejected', atMs, commandId: exit.commandId, clientOrderId: exit.clientOrderId, code: 'reduce-only', reason: 'nothing to reduce' });
      snapshots += commands.filter((command) => command.type === 'FetchSnapshot').length;
      const timer = commands.find((command) => command.type === 'StartTimer');
      assert.ok(timer?.type === 'StartTimer');
      pausesMs.push(timer.fireAtMs - atMs);
      atMs = timer.fireAtMs;
      commands = step(state, { type: 'TimerFired', atMs, timerId: timer.timerId });
    }
    assert.deepEqual(exits, ['t-1-x', 't-1-x2', 't-1-x3', 't-1-x4', 't-1-x5', 't-1-x6']);
    assert.deepEqual(pausesMs, [500, 500, 1_000, 2_000, 4_000, 4_000]);
    assert.equal(alarms.length, 4, 'every attempt after the second failure alarms');
    assert.equal(snapshots, 1, 'one snapshot asked for; while it is awaited, no more');
  });

  it('closes a position larger than one market order takes in parts, each sent when the one before has filled', () => {
    // The position was opened under the venue's old limits; Bybit then lowered maxMktOrderQty.
    const state = engine({ attachedStops: true, exitAttemptsMax: 1 });
    step(state, openMarket('r1', 10));
    applyAll(state, [fill(entryId, 'v1', 'x1', 10, 650_000, 7, 50), position(10, 7, 51)]);
    step(state, { type: 'InstrumentsLoaded', atMs: 60, instruments: [{ ...btc, maxMarketLots: 4 }] });
    let commands = step(state, { type: 'CloseRequested', atMs: 100, requestId: 'c1', symbol: 'BTCUSDT' });
    const parts: [string, number][] = [];
    const said: string[] = [];
    for (let part = 1, left = 10, seq = 8, atMs = 110; left > 0; part += 1, seq += 1, atMs += 10) {
      const exits = submits(commands);
      assert.equal(exits.length, 1, `part ${part}: one exit at a time`);
      const [exit] = exits;
      assert.ok(exit);
      assert.equal(exit.spec.type.kind, 'market');
      assert.equal(exit.spec.reduceOnly, true);
      parts.push([exit.clientOrderId, exit.spec.sizeLots]);
      said.push(...notices(commands));
      assert.equal(commands.some((command) => command.type === 'StartTimer'), false, `part ${part}: no retry pause`);
      // Reduce-only: the venue fills no more than is open, and cancels the rest.
      const filled = Math.min(exit.spec.sizeLots, left);
      left -= filled;
      commands = applyAll(state, [
        acked(exit.clientOrderId, `vx${part}`, atMs),
        fill(exit.clientOrderId, `vx${part}`, `xx${part}`, filled, 649_000, seq, atMs + 1, 'sell'),
        report(exit.clientOrderId, `vx${part}`, filled === exit.spec.sizeLots ? 'filled' : 'cancelled', filled, atMs + 2, { side: 'sell', reduceOnly: true }),
        position(left, seq, atMs + 3),
      ]);
    }
    // The last part is sized as every exit of ours is, for what the entry opened: reduce-only, it closes what is left.
    assert.deepEqual(parts, [['t-1-x', 4], ['t-1-x2', 4], ['t-1-x3', 4]]);
    assert.equal(said.filter((code) => code === 'exit-in-parts').length, 2, 'said while a part is smaller than what is left');
    assert.equal(said.includes('exit-failing'), false, 'a part that filled is not a failure');
    assert.equal(submits(commands).length, 0);
    assert.equal(state.intents.get('t-1' as never)?.phase.name, 'done');
  });

  // The venue executes an attached take-profit as an order of its own, with no client id. Its fill
  // may come before its order report; either one saying which trigger it is names the closer.
  const takeProfitClose = (fillSays: boolean): { readonly state: EngineState; readonly commands: Command[] } => {
    const state = engine({ attachedStops: true });
    step(state, openMarket('r1', 10, { takeProfit: { percent: 2 } }));
    applyAll(state, [fill(entryId, 'v1', 'x1', 10, 650_000, 7, 50), position(10, 7, 51)]);
    const tpFill = { ...fill(null, 'tp1', 'x2', 10, 663_000, 8, 500, 'sell'), positionTrigger: fillSays ? 'take-profit' : null } as Event;
    const tpReport = report(null, 'tp1', 'filled', 10, 501, { side: 'sell', reduceOnly: true, positionTrigger: 'take-profit' });
    return { state, commands: applyAll(state, [tpFill, tpReport, position(0, 8, 502)]) };
  };

  it("names the venue's take-profit as the closer when its fill says so, before any report", () => {
    const { state, commands } = takeProfitClose(true);
    assert.ok(!notices(commands).includes('order-adopted'));
    assert.equal(state.orders.get('ext:tp1')?.role, 'position-take-profit');
    const closed = commands.find((command) => command.type === 'Notify' && command.notice.code === 'position-closed');
    assert.match(closed?.type === 'Notify' ? closed.notice.text : '', /closed by the take-profit/);
  });

  it("recognises the venue's take-profit from a later report when its fill did not say", () => {
    const { state } = takeProfitClose(false);
    assert.equal(state.orders.get('ext:tp1')?.role, 'position-take-profit');
    assert.equal(state.intents.get('t-1' as never)?.phase.name, 'done');
  });
});

describe('a position larger than the venue takes in one stop order', () => {
  // Bybit's maxMktOrderQty holds for stop-market orders too, and Bybit lowers it now and then.
  const held = (): EngineState => {
    const state = engine({ attachedStops: false });
    step(state, openMarket('r1', 10));
    applyAll(state, [fill(entryId, 'v1', 'x1', 10, 650_000, 7, 50), position(10, 7, 51), acked(stopId, 'v2', 60), report(stopId, 'v2', 'untriggered', 0, 61, { side: 'sell', reduceOnly: true, orderKind: 'stop-market' })]);
    step(state, { type: 'InstrumentsLoaded', atMs: 70, instruments: [{ ...btc, maxMarketLots: 11 }] });
    return state;
  };
  // Past the hold after the start (receiveWindowMs), when the position's stop may be changed.
  const afterHoldMs = 6_000;
  const positionStops = (commands: readonly Command[]): CommandOf<'SetPositionStop'>[] => commands.filter((command): command is CommandOf<'SetPositionStop'> => command.type === 'SetPositionStop');

  it('keeps a stop order placed before the limit was lowered: it still covers the position', () => {
    const state = held();
    const commands = step(state, ticker(650_100, 80));
    assert.equal(positionStops(commands).length, 0);
    assert.equal(state.intents.get('t-1' as never)?.protection, 'separate');
  });

  it("gets the position's own stop-loss when it outgrows its stop beyond the limit, and cancels the stop order once the venue shows it", () => {
    const state = held();
    // A manual buy of 3 nets into the position: 13 lots, more than one stop order may close.
    const grown = applyAll(state, [fill(null, 'vm', 'xm', 3, 650_000, 8, afterHoldMs), position(13, 8, afterHoldMs + 1)]);
    assert.equal(submits(grown).filter((order) => order.spec.type.kind === 'stop-market').length, 0, 'no stop order the venue would refuse');
    const [set] = positionStops(grown);
    assert.ok(set !== undefined && set.change.kind === 'stop-loss');
    assert.equal(set.change.stopLoss.triggerTicks, 643_500, 'at the level the stop order had');
    assert.ok(notices(grown).includes('position-stop-instead'));
    assert.equal(state.intents.get('t-1' as never)?.protection, 'attached');
    assert.equal(grown.some((command) => command.type === 'CancelOrder'), false, 'the stop order stays until the venue shows the new stop');
    // Until the answer, a report without the stop sends nothing more.
    assert.equal(positionStops(step(state, position(13, 8, afterHoldMs + 10))).length, 0);
    step(state, { type: 'PositionStopAcked', atMs: afterHoldMs + 20, commandId: set.commandId, symbol: 'BTCUSDT' });
    const shown = step(state, position(13, 8, afterHoldMs + 30, 643_500));
    assert.deepEqual(shown.flatMap((command) => (command.type === 'CancelOrder' ? [command.clientOrderId] : [])), [stopId]);
  });

  it("does not count on a stop order whose create had no answer once the limit is below it", () => {
    const state = engine({ attachedStops: false });
    step(state, openMarket('r1', 10));
    const sent = applyAll(state, [fill(entryId, 'v1', 'x1', 10, 650_000, 7, 50), position(10, 7, 51)]);
    const stop = submits(sent).find((order) => order.clientOrderId === stopId);
    assert.ok(stop);
    step(state, { type: 'InstrumentsLoaded', atMs: 55, instruments: [{ ...btc, maxMarketLots: 4 }] });
    // No answer: a stop order in its place would be too large, and the position's stop waits for
    // the hold after the start (seed 6230).
    const unknown = step(state, { type: 'OrderSubmitUnknown', atMs: 60, commandId: stop.commandId, clientOrderId: stop.clientOrderId, reason: 'request timed out' });
    assert.equal(positionStops(unknown).length + submits(unknown).length, 0);
    const [set] = positionStops(step(state, ticker(650_100, afterHoldMs)));
    assert.ok(set !== undefined && set.change.kind === 'stop-loss', "the position's own stop-loss once the hold is over, not a wait for the queries");
  });

  it("sets the position's stop again when the venue shows it gone, and closes the position in parts past the attempts", () => {
    const state = held();
    let commands = applyAll(state, [fill(null, 'vm', 'xm', 3, 650_000, 8, afterHoldMs), position(13, 8, afterHoldMs + 1)]);
    let sets = 0;
    for (let atMs = afterHoldMs + 100; sets < 30; atMs += 100) {
      const [set] = positionStops(commands);
      if (set === undefined) break;
      sets += 1;
      commands = step(state, { type: 'PositionStopRejected', atMs, commandId: set.commandId, symbol: 'BTCUSDT', code: 'invalid', reason: 'params error' });
    }
    assert.ok(sets >= 2 && sets < 30, `set again after a refusal, a bounded number of times: ${sets}`);
    assert.equal(state.intents.get('t-1' as never)?.phase.name, 'exiting');
    const [exit] = submits(commands);
    assert.ok(exit !== undefined && exit.spec.type.kind === 'market');
    assert.equal(exit.spec.sizeLots, 11, 'the first part: the most one market order takes');
  });
});
