import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Command, CommandOf } from '../../src/core/commands.ts';
import { gridChanges } from '../../src/core/engine/lifecycle.ts';
import type { Instrument } from '../../src/core/instrument.ts';
import { step } from '../../src/core/engine/step.ts';
import type { OrderReport, PositionReport } from '../../src/core/events.ts';
import type { ExecutionId, VenueOrderId } from '../../src/core/ids.ts';
import { positionsView } from '../../src/api/views.ts';
import { describeHealth, healthOf } from '../../src/core/health.ts';
import { createEngineState } from '../../src/core/state.ts';
import type { EngineConfig, EngineState } from '../../src/core/state.ts';
import { applyAll, btc, engine, fill, notices, openMarket, position, submits, ticker, toTrading } from '../support/events.ts';

function started(config: Parameters<typeof createEngineState>[0] = {}): EngineState {
  const state = createEngineState({ botId: 't', ...config });
  step(state, { type: 'InstrumentsLoaded', atMs: 0, instruments: [btc] });
  step(state, ticker(650_000, 1));
  return state;
}

function fetchOf(commands: ReturnType<typeof step>): CommandOf<'FetchSnapshot'> | undefined {
  return commands.find((command): command is CommandOf<'FetchSnapshot'> => command.type === 'FetchSnapshot');
}

const texts = (commands: ReturnType<typeof step>): string => commands.flatMap((command) => (command.type === 'Notify' ? [command.notice.text] : [])).join('\n');

function openOrder(clientOrderId: string | null, venueOrderId: string, extra: Partial<OrderReport> = {}): OrderReport {
  return {
    symbol: 'BTCUSDT', venueOrderId: venueOrderId as VenueOrderId, clientOrderId, side: 'buy', orderKind: 'limit', status: 'new', sizeLots: 10,
    filledLots: 0, priceTicks: 640_000, triggerTicks: null, reduceOnly: false, positionTrigger: null, stopLossTicks: null, takeProfitTicks: null,
    venueUpdatedMs: 5, reason: null, ...extra,
  };
}

function venuePosition(sizeLots: number, seq: number, atMs: number, extra: Partial<PositionReport> = {}): PositionReport {
  return { symbol: 'BTCUSDT', sizeLots, entryPrice: '65000', stopLossTicks: null, takeProfitTicks: null, trailingTicks: null, seq, venueUpdatedMs: atMs, ...extra };
}

/** Trading with a limit entry t-1-e resting at the venue (v1), then the private stream comes up again at 20. */
function restingEntryThenReconnect(): { readonly state: EngineState; readonly fetch: CommandOf<'FetchSnapshot'> } {
  const state = engine();
  step(state, openMarket('r1', 10, { entry: { kind: 'limit', price: '64000' } }));
  step(state, { type: 'OrderSubmitAcked', atMs: 11, commandId: 0, clientOrderId: 't-1-e' as never, venueOrderId: 'v1' as VenueOrderId });
  const fetch = fetchOf(step(state, { type: 'StreamConnected', atMs: 20, stream: 'private' }));
  assert.ok(fetch);
  return { state, fetch };
}

describe('the lifecycle', () => {
  it('refuses entries until the streams are up and a snapshot is reconciled, then trades', () => {
    const state = started();
    step(state, { type: 'EngineStarted', atMs: 0 });
    assert.match(texts(step(state, openMarket('r0', 1))), /the private stream is down \(phase connecting\)/);
    step(state, { type: 'StreamConnected', atMs: 2, stream: 'public' });
    const connected = step(state, { type: 'StreamConnected', atMs: 3, stream: 'private' });
    const fetch = fetchOf(connected);
    assert.ok(fetch !== undefined, 'a snapshot is asked for once the private stream is up');
    assert.equal(state.lifecycle.phase, 'snapshotting');
    assert.match(texts(step(state, openMarket('r1', 4))), /not trading yet \(phase snapshotting\)/);
    const reconciled = step(state, { type: 'SnapshotReceived', atMs: 5, snapshotId: fetch.snapshotId, tickers: [], positions: [], openOrders: [], fills: [], positionsVenueMs: 5, wallet: null });
    assert.equal(state.lifecycle.phase, 'trading');
    assert.ok(notices(reconciled).includes('reconciled'));
    assert.ok(reconciled.some((command) => command.type === 'StartTimer'), 'the periodic reconciliation is scheduled');
    // The price known is the one from before the start (the journal's, here the only one yet).
    assert.match(texts(step(state, openMarket('r2', 6))), /no price for BTCUSDT since the public stream came up; try again in a moment/);
    step(state, ticker(651_000, 7));
    assert.equal(submits(step(state, openMarket('r3', 8))).length, 1);
  });

  it('sizes and stops a market entry only from a price that came since the public stream came up', () => {
    const state = engine({ attachedStops: true });
    step(state, { type: 'StreamDisconnected', atMs: 10, stream: 'public', reason: 'reset' });
    assert.match(texts(step(state, openMarket('r1', 11))), /no live prices: the public stream is down/);
    // Subscribed again; the ticker's snapshot is the next message. The price before the outage
    // (650,000 ticks) is 10 % off the market now: a 1 % stop from it would sit above a long's market.
    step(state, { type: 'StreamConnected', atMs: 20, stream: 'public' });
    assert.match(texts(step(state, openMarket('r2', 21))), /no price for BTCUSDT since the public stream came up/);
    assert.equal(state.counters.requestsRejected, 2);
    step(state, ticker(585_000, 22));
    const [entry] = submits(step(state, openMarket('r3', 23)));
    assert.equal(entry?.spec.stopLoss?.triggerTicks, Math.ceil(585_000 * 0.99), 'the stop is measured from the price after the outage');
    // A limit entry needs no market price: its own price is the reference.
    const limit = engine();
    step(limit, { type: 'StreamConnected', atMs: 20, stream: 'public' });
    assert.equal(submits(step(limit, openMarket('r4', 21, { entry: { kind: 'limit', price: '64000.0' } }))).length, 1);
  });

  it('goes back to connecting when the private stream drops: entries wait, exits still go out', () => {
    const state = engine({ attachedStops: false });
    step(state, openMarket('r1', 10));
    step(state, fill('t-1-e', 'v1', 'x1', 10, 650_000, 7, 20));
    const down = step(state, { type: 'StreamDisconnected', atMs: 30, stream: 'private', reason: 'reset' });
    assert.equal(state.lifecycle.phase, 'connecting');
    // A drop is routine (Bybit closes connections now and then; the reconnect's snapshot heals it):
    // a warning. The stream supervisor raises the alarm when reconnecting keeps failing.
    assert.deepEqual(down.flatMap((command) => (command.type === 'Notify' && command.notice.code === 'stream-down' ? [command.notice.level] : [])), ['warn']);
    const closing = step(state, { type: 'CloseRequested', atMs: 40, requestId: 'c1', symbol: 'BTCUSDT' });
    assert.equal(submits(closing)[0]?.spec.reduceOnly, true, 'a protective exit does not wait for the stream');
    const state2 = engine();
    step(state2, { type: 'StreamDisconnected', atMs: 30, stream: 'private', reason: 'reset' });
    assert.equal(submits(step(state2, openMarket('r9', 40))).length, 0);
  });

  it('holds a separate take-profit while not trading, and sends it once reconciled', () => {
    const state = engine({ attachedStops: false });
    step(state, openMarket('r1', 10, { takeProfit: { percent: 2 } }));
    step(state, { type: 'StreamDisconnected', atMs: 15, stream: 'private', reason: 'stall' });
    const evidence = step(state, { type: 'OrderQueried', atMs: 20, commandId: 0, clientOrderId: 't-1-e' as never, report: openOrder('t-1-e', 'v1', { orderKind: 'market', status: 'filled', filledLots: 10, priceTicks: null }) });
    assert.deepEqual(submits(evidence).map((command) => command.clientOrderId), ['t-1-sl'], 'the stop goes out, the take-profit waits');
    const fetch = fetchOf(step(state, { type: 'StreamConnected', atMs: 30, stream: 'private' }));
    assert.ok(fetch);
    const reconciled = step(state, { type: 'SnapshotReceived', atMs: 40, snapshotId: fetch.snapshotId, tickers: [], positions: [venuePosition(10, 7, 21)], openOrders: [], fills: [], positionsVenueMs: 35, wallet: null });
    assert.ok(submits(reconciled).some((command) => command.clientOrderId === 't-1-tp'));
  });

  it('asks for a failed snapshot again after a backoff', () => {
    const state = started({ snapshotRetryMs: 500 });
    step(state, { type: 'EngineStarted', atMs: 0 });
    const fetch = fetchOf(step(state, { type: 'StreamConnected', atMs: 1, stream: 'private' }));
    assert.ok(fetch);
    const failed = step(state, { type: 'SnapshotFailed', atMs: 2, snapshotId: fetch.snapshotId, reason: 'timeout' });
    const timer = failed.find((command) => command.type === 'StartTimer');
    assert.ok(timer?.type === 'StartTimer' && timer.fireAtMs === 502);
    assert.ok(fetchOf(step(state, { type: 'TimerFired', atMs: 502, timerId: timer.timerId })));
  });
});

describe('reconciliation', () => {
  it('books a missed fill once and never lets an older snapshot overwrite newer stream state', () => {
    const state = engine();
    step(state, position(5, 9, 100));
    const fetch = fetchOf(step(state, { type: 'StreamConnected', atMs: 110, stream: 'private' }));
    assert.ok(fetch);
    const missed = { ...fill(null, 'm1', 'x9', 5, 650_000, 9, 90), type: undefined, atMs: undefined, source: undefined };
    const commands = step(state, {
      type: 'SnapshotReceived', atMs: 120, snapshotId: fetch.snapshotId, tickers: [], positionsVenueMs: 60, wallet: null,
      positions: [venuePosition(0, 8, 60)], openOrders: [], fills: [missed as never],
    });
    assert.equal(state.reconcile.missedFills, 1);
    assert.equal(state.positions.get('main/BTCUSDT')?.venue?.sizeLots, 5, 'the snapshot (seq 8) is older than the stream (seq 9)');
    assert.equal(state.positions.get('main/BTCUSDT')?.sizeLots, 5);
    assert.match(texts(commands), /missedFills 1/);
  });

  it('books the missed fills of a snapshot oldest first, however the venue lists them (Bybit: newest first)', () => {
    const inOrder = engine();
    const newestFirst = engine();
    // 40 fills, more than the ledger's replay window: buys and sells at moving prices, so the order matters.
    const fills = Array.from({ length: 40 }, (_, i) => {
      const { type: _type, atMs: _at, source: _source, ...missed } = fill(null, `m${i}`, `x${i}`, 1 + (i % 3), 650_000 + 37 * i, 10 + i, 100 + i, i % 4 === 3 ? 'sell' : 'buy') as Extract<ReturnType<typeof fill>, { type: 'FillReceived' }>;
      return missed;
    });
    for (const [state, listed] of [[inOrder, fills], [newestFirst, [...fills].reverse()]] as const) {
      const fetch = fetchOf(step(state, { type: 'StreamConnected', atMs: 200, stream: 'private' }));
      assert.ok(fetch);
      step(state, { type: 'SnapshotReceived', atMs: 210, snapshotId: fetch.snapshotId, tickers: [], positionsVenueMs: 150, wallet: null, positions: [], openOrders: [], fills: listed });
    }
    const [a, b] = [inOrder, newestFirst].map((state) => state.positions.get('main/BTCUSDT'));
    assert.deepEqual([b?.sizeLots, b?.costTicksLots, b?.realizedPnlE8, b?.fillsOutOfWindow], [a?.sizeLots, a?.costTicksLots, a?.realizedPnlE8, 0]);
  });

  it('adopts a position only after the first reconciliation since the start, then protects it', () => {
    const state = started();
    step(state, { type: 'EngineStarted', atMs: 0 });
    const fetch = fetchOf(step(state, { type: 'StreamConnected', atMs: 1, stream: 'private' }));
    assert.ok(fetch);
    assert.equal(submits(step(state, position(4, 3, 2))).length, 0, 'not before the snapshot: it might be ours');
    const commands = step(state, { type: 'SnapshotReceived', atMs: 3, snapshotId: fetch.snapshotId, tickers: [], positions: [venuePosition(4, 3, 2)], openOrders: [], fills: [], positionsVenueMs: 3, wallet: null });
    assert.equal(state.reconcile.unknownPositions, 1);
    assert.equal(state.reconcile.positionsWithoutStop, 1);
    assert.equal(submits(commands)[0]?.spec.type.kind, 'stop-market');
  });

  it('restores a resting entry of ours after a restart, so no second entry goes out', () => {
    const state = started();
    const commands = toTrading(state, { openOrders: [openOrder('t-77-e', 'v7', { stopLossTicks: 630_000 })] });
    assert.equal(state.reconcile.restoredOrders, 1);
    const intent = state.intents.get('t-77' as never);
    assert.equal(intent?.phase.name, 'entering');
    assert.equal(intent?.protection, 'attached');
    assert.equal(submits(commands).length, 0);
    assert.match(texts(step(state, openMarket('r1', 10))), /already has an active position or entry/);
  });

  it('restores a position with its take-profit: no second take-profit, a stop if the venue holds none', () => {
    const state = started();
    const takeProfit = openOrder('t-5-tp', 'v5', { side: 'sell', reduceOnly: true, priceTicks: 660_000 });
    const commands = toTrading(state, { openOrders: [takeProfit], positions: [venuePosition(10, 4, 1)], positionsVenueMs: 1, wallet: null });
    const intent = state.intents.get('t-5' as never);
    assert.deepEqual(intent?.takeProfitOrders, ['t-5-tp']);
    const sent = submits(commands);
    assert.deepEqual(sent.map((command) => command.spec.type.kind), ['stop-market']);
    assert.ok(sent[0]?.clientOrderId.startsWith('t-') && !sent[0].clientOrderId.startsWith('t-5-'), 'new orders of a restored intent use a fresh id');
  });

  it('gives a position of ours restored without its journal the configured plan of its symbol, measured from its entry', () => {
    const trailing = { mode: 'bot', activation: { percent: 1 }, callback: { percent: 0.5 }, amendEveryMs: 0 } as const;
    const aged = { maxAgeMs: 60_000, graceMs: 0, step: { percent: 0.1 }, stepEveryMs: 10_000, hardLimitMs: 120_000 };
    const restart = (restoredProtection: EngineConfig['restoredProtection']): { readonly state: EngineState; readonly commands: Command[] } => {
      const state = started({ attachedStops: false, restoredProtection });
      const stop = openOrder('t-5-sl', 'v5', { side: 'sell', orderKind: 'stop-market', status: 'untriggered', reduceOnly: true, priceTicks: null, triggerTicks: 640_000 });
      // The market is 1.5 % above the entry: measured from the market, the activation would not be reached yet.
      const commands = toTrading(state, { openOrders: [stop], positions: [venuePosition(10, 4, 1)], tickers: [{ symbol: 'BTCUSDT', lastTicks: 659_750, markTicks: 659_750, venueMs: 1 }], positionsVenueMs: 1 });
      return { state, commands };
    };
    // The symbol's own plan (the default is for the others); its ladder is on the venue, not placed again.
    const ladder = [{ target: { percent: 3 }, sizePercent: 100 }];
    const { state, commands } = restart({ default: {}, symbols: { BTCUSDT: { trailing, aged, ladder } } });
    const intent = state.intents.get('t-5' as never);
    assert.equal(intent?.kind, 'restored');
    assert.deepEqual([intent?.plan.trailing?.activationTicks, intent?.plan.aged?.maxAgeMs, intent?.plan.ladder], [656_500, 60_000, []], 'activation 1 % above the 65,000.0 entry');
    assert.match(texts(commands), /t-5 restored: follows the configured plan of BTCUSDT \(bot trailing, aged exit\)/);
    assert.deepEqual(submits(commands), [], 'no take-profit placed from the ladder');
    // Past the hold after the start, the trailing moves the restored stop: 0.5 % under the best price.
    const moved = step(state, ticker(660_000, 6_000)).filter((command): command is CommandOf<'AmendOrder'> => command.type === 'AmendOrder');
    assert.deepEqual(moved.map((command) => [command.clientOrderId, command.amendment.triggerTicks]), [['t-5-sl', 656_700]]);
    // Without a plan for it, the default one; with none configured, the stop alone (as before).
    assert.equal(restart({ default: { trailing }, symbols: {} }).state.intents.get('t-5' as never)?.plan.trailing?.callback.kind, 'ppm');
    const bare = restart({ default: {}, symbols: {} });
    assert.equal(bare.state.intents.get('t-5' as never)?.plan.trailing, null);
    assert.deepEqual(step(bare.state, ticker(660_000, 6_000)).filter((command) => command.type === 'AmendOrder'), []);
  });

  it('plans the configured ladder for a restored entry still filling, and sends it sized for what the entry filled', () => {
    const ladder = [{ target: { percent: 2 }, sizePercent: 50 }, { target: { percent: 4 }, sizePercent: 50 }];
    /** A restart without the journal while a limit entry of 20 lots (its stop attached) has filled `filledLots`. */
    const restart = (status: OrderReport['status'], filledLots: number, takeProfits: OrderReport[] = []): { readonly state: EngineState; readonly commands: Command[] } => {
      const state = started({ attachedStops: true, restoredProtection: { default: { ladder }, symbols: {} } });
      const entry = openOrder('t-7-e', 'v7', { status, filledLots, sizeLots: 20, priceTicks: 650_000, stopLossTicks: 640_000 });
      // The fills fetched at the start (a day back) include what it has filled.
      const filled = fill('t-7-e', 'v7', 'x8', filledLots, 650_000, 3, 1);
      const fills = filled.type === 'FillReceived' ? [filled].map(({ type: _type, atMs: _atMs, source: _source, ...venueFill }) => venueFill) : [];
      const commands = toTrading(state, { openOrders: [entry, ...takeProfits], positions: [venuePosition(filledLots, 4, 1, { stopLossTicks: 640_000 })], positionsVenueMs: 1, fills });
      return { state, commands };
    };
    const { state, commands } = restart('partially-filled', 10);
    const intent = state.intents.get('t-7' as never);
    assert.equal(intent?.plan.ladder.length, 2);
    assert.match(texts(commands), /t-7 restored: follows the configured plan of BTCUSDT \(a take-profit ladder of 2 for when the entry is done\)/);
    assert.deepEqual(submits(commands), [], 'the rungs wait for the entry');
    assert.deepEqual(intent?.takeProfitOrders.map((key) => state.orders.get(key)?.status), ['pending', 'pending']);
    assert.ok(intent?.takeProfitOrders.every((key) => key.startsWith('t-') && !key.startsWith('t-7-')), 'under the restored intent\'s fresh id');

    // The entry fills 6 more lots and is cancelled: the ladder goes out for the 16 it filled, 2 % and 4 % above the 65,000.0 entry.
    applyAll(state, [fill('t-7-e', 'v7', 'x9', 6, 650_000, 5, 10), position(16, 5, 11, 640_000)]);
    const done = step(state, { type: 'OrderUpdated', atMs: 12, source: 'stream', ...openOrder('t-7-e', 'v7', { status: 'cancelled', filledLots: 16, sizeLots: 20, priceTicks: 650_000, venueUpdatedMs: 12 }) });
    assert.deepEqual(submits(done).map((command) => [command.spec.sizeLots, command.spec.type.kind === 'limit' ? command.spec.type.priceTicks : null, command.spec.reduceOnly]), [[8, 663_000, true], [8, 676_000, true]]);

    // An entry done before the restart, or a rung already found on the venue: nothing planned from the ladder.
    const filledBefore = restart('filled', 20).state;
    assert.deepEqual([...filledBefore.intents.values()].map((one) => [one.kind, one.plan.ladder.length, one.takeProfitOrders.length]), [['adopted', 0, 0]], 'a filled entry is no open order: the position is adopted, without a ladder');
    const found = restart('partially-filled', 10, [openOrder('t-7-tp', 'v8', { side: 'sell', reduceOnly: true, sizeLots: 10, priceTicks: 663_000 })]);
    assert.deepEqual([found.state.intents.get('t-7' as never)?.plan.ladder, found.state.intents.get('t-7' as never)?.takeProfitOrders], [[], ['t-7-tp']]);
  });

  it('leaves a stop the venue trails to the venue, for a restored position and an adopted one (seed 19810)', () => {
    const trailing = { mode: 'bot', activation: null, callback: { percent: 0.5 }, amendEveryMs: 0 } as const;
    /** A short of ours restarted without its journal (its entry still resting, partly filled) or someone else's, the market then falling 2 %. */
    const run = (ours: boolean, trailingTicks: number | null, onState: (state: EngineState) => void = () => undefined): Command[] => {
      const state = started({ attachedStops: true, restoredProtection: { default: { trailing }, symbols: {} }, externalProtection: { trailing } });
      const entry = openOrder('t-7-e', 'v7', { side: 'sell', status: 'partially-filled', filledLots: 10, sizeLots: 20, priceTicks: 650_000, stopLossTicks: 660_000 });
      toTrading(state, { openOrders: ours ? [entry] : [], positions: [venuePosition(-10, 4, 1, { stopLossTicks: 655_000, trailingTicks })], positionsVenueMs: 1 });
      const commands = step(state, ticker(637_000, 6_000));
      onState(state);
      return commands;
    };
    const moves = (commands: Command[]): number[] => commands.flatMap((command) => (command.type === 'SetPositionStop' && command.change.kind === 'stop-loss' ? [command.change.stopLoss.triggerTicks] : []));
    // Nobody trails it on the venue: the bot does, 0.5 % above the best price.
    assert.deepEqual(moves(run(true, null)), [640_185]);
    assert.deepEqual(moves(run(false, null)), [640_185]);
    // The venue trails it (500.0 behind): the venue has moved the stop since its report, and the bot's level could be looser.
    assert.deepEqual(moves(run(true, 5_000)), []);
    assert.deepEqual(moves(run(false, 5_000, (state) => {
      const [view] = positionsView(state);
      assert.deepEqual([view?.trailing?.by, view?.trailing?.callback, view?.venue?.trailingStop], ['venue', '500', '500'], 'the API says who trails, and the venue\'s distance, not the plan\'s 0.5 %');
    })), []);
  });

  it('counts the age of a position found on the venue from its opening fill, restored without its journal or adopted', () => {
    const hour = 3_600_000;
    const aged = { maxAgeMs: hour, graceMs: hour, step: { percent: 0.1 }, stepEveryMs: 60_000, hardLimitMs: 6 * hour };
    /** A restart three hours in: a long of 10 lots that one fill opened at `openedMs` (venue time), ours (its stop on the venue) or someone else's. */
    const restart = (ours: boolean, openedMs: number | null): { readonly state: EngineState; readonly commands: Command[] } => {
      const state = started({ attachedStops: false, restoredProtection: { default: { aged }, symbols: {} }, externalProtection: { aged } });
      const at = 3 * hour;
      step(state, { type: 'EngineStarted', atMs: at });
      const fetch = fetchOf(step(state, { type: 'StreamConnected', atMs: at, stream: 'private' }));
      assert.ok(fetch);
      const stop = openOrder('t-5-sl', 'v5', { side: 'sell', orderKind: 'stop-market', status: 'untriggered', reduceOnly: true, priceTicks: null, triggerTicks: 640_000 });
      const opening = fill(ours ? 't-5-e' : null, 'v4', 'x4', 10, 650_000, 3, openedMs ?? 0);
      const fills = openedMs === null || opening.type !== 'FillReceived' ? [] : [opening].map(({ type: _type, atMs: _atMs, source: _source, ...venueFill }) => venueFill);
      const commands = step(state, {
        type: 'SnapshotReceived', atMs: at, snapshotId: fetch.snapshotId, tickers: [{ symbol: 'BTCUSDT', lastTicks: 649_000, markTicks: 649_000, venueMs: at }],
        positions: [venuePosition(10, 3, openedMs ?? 1)], openOrders: ours ? [stop] : [], fills, positionsVenueMs: at, wallet: null,
      });
      return { state, commands: [...commands, ...step(state, ticker(649_000, at + 6_000))] };
    };
    const agedExits = (commands: Command[]): string[] => submits(commands).filter((command) => command.clientOrderId.endsWith('-ag')).map((command) => command.clientOrderId);
    // Opened two hours before the restart: past its maximum age, its exit goes out at once.
    const restored = restart(true, hour);
    assert.equal(restored.state.intents.get('t-5' as never)?.positionSeenMs, hour, 'the opening fill\'s time');
    assert.equal(agedExits(restored.commands).length, 1, 'the restored position\'s aged exit (its orders under a new id base)');
    const adopted = restart(false, hour);
    const adoptedIntent = [...adopted.state.intents.values()].find((intent) => intent.kind === 'adopted');
    assert.equal(adoptedIntent?.positionSeenMs, hour);
    assert.equal(agedExits(adopted.commands).length, 1, 'the adopted position\'s aged exit');
    const [view] = positionsView(adopted.state);
    assert.deepEqual([view?.openedMs, view?.unprotectedSinceMs], [hour, 3 * hour], 'opened two hours ago; unprotected only since it was found (its stop on its way)');
    // The fills fetched at the start do not reach back to its opening: its age counts from the restart.
    const unknown = restart(true, null);
    assert.equal(unknown.state.intents.get('t-5' as never)?.positionSeenMs, 3 * hour);
    assert.deepEqual(agedExits(unknown.commands), []);
  });

  it('plans an intent restored from the stream before the first snapshot once the snapshot shows its position', () => {
    const trailing = { mode: 'bot', activation: { percent: 1 }, callback: { percent: 0.5 }, amendEveryMs: 0 } as const;
    const state = started({ attachedStops: false, restoredProtection: { default: { trailing }, symbols: {} } });
    step(state, { type: 'EngineStarted', atMs: 0 });
    const fetch = fetchOf(step(state, { type: 'StreamConnected', atMs: 1, stream: 'private' }));
    assert.ok(fetch);
    const stop = openOrder('t-5-sl', 'v5', { side: 'sell', orderKind: 'stop-market', status: 'untriggered', reduceOnly: true, priceTicks: null, triggerTicks: 640_000, venueUpdatedMs: 2 });
    const early = step(state, { type: 'OrderUpdated', atMs: 2, source: 'stream', ...stop });
    // The position is not known yet: not taken for flat (its stop cancelled), nor planned.
    assert.deepEqual(early.filter((command) => command.type !== 'Record' && command.type !== 'Notify'), []);
    assert.equal(state.intents.get('t-5' as never)?.plan.trailing, null);
    const reconciled = step(state, { type: 'SnapshotReceived', atMs: 3, snapshotId: fetch.snapshotId, tickers: [], positions: [venuePosition(10, 4, 1, { entryPrice: '64000' })], openOrders: [stop], fills: [], positionsVenueMs: 3, wallet: null });
    const intent = state.intents.get('t-5' as never);
    assert.deepEqual([intent?.phase.name, intent?.plan.trailing?.activationTicks], ['open', 646_400], '1 % above the 64,000.0 entry');
    assert.deepEqual([state.reconcile.unknownPositions, state.reconcile.positionsWithoutStop, submits(reconciled)], [0, 0, []]);
  });

  it('closes at market when a stop it took for lost is refused, the market past it, before its replacement works (seed 121405)', () => {
    /** A stop sent on the fill, a snapshot asked for after it that does not list it, and the new stop that follows. */
    const replaced = (): { readonly state: EngineState; readonly stop: CommandOf<'SubmitOrder'> } => {
      const state = engine({ attachedStops: false });
      step(state, openMarket('r1', 10));
      const [stop] = submits(step(state, fill('t-1-e', 'v1', 'x1', 10, 650_000, 7, 50)));
      assert.equal(stop?.clientOrderId, 't-1-sl');
      const fetch = fetchOf(step(state, { type: 'StreamConnected', atMs: 60, stream: 'private' }));
      assert.ok(fetch);
      const snapshot = step(state, {
        type: 'SnapshotReceived', atMs: 90, snapshotId: fetch.snapshotId, tickers: [], positions: [venuePosition(10, 7, 50)], openOrders: [], fills: [], positionsVenueMs: 80, wallet: null,
      });
      assert.deepEqual(submits(snapshot).map((command) => command.clientOrderId), ['t-1-sl2']);
      return { state, stop };
    };
    const refusal = (stop: CommandOf<'SubmitOrder'>, atMs: number) => ({
      type: 'OrderSubmitRejected', atMs, commandId: stop.commandId, clientOrderId: stop.clientOrderId, code: 'trigger-crossed', reason: 'expect Falling, but trigger 643500 vs current 643000',
    } as const);
    // The first stop's answer comes while its replacement, at the same level, is on its way.
    const early = replaced();
    const [exit] = submits(step(early.state, refusal(early.stop, 95)));
    assert.equal(exit?.clientOrderId, 't-1-x');
    assert.deepEqual(exit?.spec.type, { kind: 'market' });
    // The replacement already works (the market came back): the venue holds a stop; nothing more.
    const late = replaced();
    step(late.state, { type: 'OrderSubmitAcked', atMs: 95, commandId: 0, clientOrderId: 't-1-sl2' as never, venueOrderId: 'v3' as VenueOrderId });
    assert.deepEqual(submits(step(late.state, refusal(late.stop, 96))), []);
    assert.equal(late.state.intents.get('t-1' as never)?.phase.name, 'open');
  });

  it('cancels an orphan of ours, leaves a foreign order alone, and asks about a vanished one', () => {
    const { state, fetch } = restingEntryThenReconnect();
    const commands = step(state, {
      type: 'SnapshotReceived', atMs: 30, snapshotId: fetch.snapshotId, tickers: [], positions: [], fills: [], positionsVenueMs: 25, wallet: null,
      openOrders: [openOrder('t-3-tp', 'v3', { side: 'sell', reduceOnly: true }), openOrder('manual-1', 'v4'), openOrder(null, 'v5')],
    });
    assert.equal(state.reconcile.orphanOrders, 1, 't-3-tp: ours, but the symbol has a live intent of this run');
    assert.equal(state.reconcile.foreignOrders, 2);
    assert.equal(state.reconcile.vanishedOrders, 1, 't-1-e was live here and is not open there');
    assert.deepEqual(commands.filter((command) => command.type === 'CancelOrder').map((command) => command.clientOrderId), ['t-3-tp']);
    assert.deepEqual(commands.filter((command) => command.type === 'QueryOrder').map((command) => command.clientOrderId), ['t-1-e']);
  });

  it('ends orders not ours that a snapshot no longer lists: filled by the fills it brings, else cancelled', () => {
    const state = engine({ externalPositions: 'watch' });
    // A manual limit order seen resting, then its fill and final report lost; a manual market
    // order seen only through a fill (its size is what was filled); one cancelled unseen.
    step(state, { type: 'OrderUpdated', atMs: 10, source: 'stream', ...openOrder(null, 'm1', { sizeLots: 4 }) });
    step(state, fill(null, 'm2', 'x2', 2, 650_000, 3, 11));
    step(state, { type: 'OrderUpdated', atMs: 12, source: 'stream', ...openOrder(null, 'm3') });
    const fetch = fetchOf(step(state, { type: 'StreamConnected', atMs: 20, stream: 'private' }));
    assert.ok(fetch);
    const missed = { ...fill(null, 'm1', 'x1', 4, 640_000, 4, 15), type: undefined, atMs: undefined, source: undefined };
    const commands = step(state, {
      type: 'SnapshotReceived', atMs: 30, snapshotId: fetch.snapshotId, tickers: [], positions: [venuePosition(6, 4, 15)], openOrders: [],
      fills: [missed as never], positionsVenueMs: 25, wallet: null,
    });
    assert.deepEqual(['ext:m1', 'ext:m2', 'ext:m3'].map((key) => state.orders.get(key)?.status), ['filled', 'filled', 'cancelled']);
    assert.equal(state.reconcile.vanishedOrders, 0, 'nothing to ask the venue about orders that are not ours');
    assert.ok(!notices(commands).includes('anomaly'), 'the fill is booked before the order is ended');
    assert.equal(state.positions.get('main/BTCUSDT')?.sizeLots, 6);
  });

  it('asks about a vanished order again when the question goes unanswered, until the venue says', () => {
    const { state, fetch } = restingEntryThenReconnect();
    step(state, { type: 'SnapshotReceived', atMs: 30, snapshotId: fetch.snapshotId, tickers: [], positions: [], fills: [], positionsVenueMs: 25, wallet: null, openOrders: [] });
    const failed = step(state, { type: 'OrderQueryFailed', atMs: 40, commandId: 0, clientOrderId: 't-1-e' as never, reason: 'request timed out' });
    const timer = failed.find((command) => command.type === 'StartTimer');
    assert.ok(timer?.type === 'StartTimer', 'a failed question is asked again later');
    const again = step(state, { type: 'TimerFired', atMs: timer.fireAtMs, timerId: timer.timerId });
    assert.deepEqual(again.filter((command) => command.type === 'QueryOrder').map((command) => command.clientOrderId), ['t-1-e']);
    step(state, { type: 'OrderQueried', atMs: 2_000, commandId: 0, clientOrderId: 't-1-e' as never, report: openOrder('t-1-e', 'v1', { status: 'cancelled', venueUpdatedMs: 25 }) });
    assert.equal(state.orders.get('t-1-e')?.status, 'cancelled');
  });

  it('keeps the newest wallet report: a snapshot read before a push does not overwrite it', () => {
    const state = engine();
    const wallet = (walletBalanceE8: number, venueMs: number) => ({ coin: 'USDT', walletBalanceE8, equityE8: walletBalanceE8, unrealisedPnlE8: 0, venueMs });
    step(state, { type: 'WalletUpdated', atMs: 100, source: 'stream', ...wallet(1_000_00000000, 100) });
    const fetch = fetchOf(step(state, { type: 'StreamConnected', atMs: 110, stream: 'private' }));
    assert.ok(fetch);
    step(state, { type: 'SnapshotReceived', atMs: 120, snapshotId: fetch.snapshotId, tickers: [], positions: [], openOrders: [], fills: [], positionsVenueMs: 90, wallet: wallet(990_00000000, 90) });
    assert.equal(state.wallet?.walletBalanceE8, 1_000_00000000);
    step(state, { type: 'WalletUpdated', atMs: 130, source: 'stream', ...wallet(1_010_00000000, 125) });
    assert.equal(state.wallet?.walletBalanceE8, 1_010_00000000);
    assert.match(describeHealth(healthOf(state)), /wallet 1010.00 USDT \(equity 1010.00\)/);
    // Two different reports from one millisecond cannot be ordered (wallet pushes carry no sequence): ask.
    const tie = step(state, { type: 'WalletUpdated', atMs: 140, source: 'stream', ...wallet(1_009_00000000, 125) });
    assert.equal(tie.filter((command) => command.type === 'FetchSnapshot').length, 1);
  });

  it('asks for fills a day back at the start, then from a minute before the newest fill or snapshot read, with no fill for weeks too', () => {
    const day = 24 * 3_600_000;
    const state = started({ fillsOverlapMs: 60_000, coldStartLookbackMs: day });
    step(state, { type: 'EngineStarted', atMs: 1_000 });
    step(state, { type: 'StreamConnected', atMs: 1_000, stream: 'public' });
    const first = fetchOf(step(state, { type: 'StreamConnected', atMs: 1_000, stream: 'private' }));
    assert.equal(first?.fillsSinceMs, 1_000 - day, 'nothing is known yet: a day before the start');
    step(state, { type: 'SnapshotReceived', atMs: 2_000, snapshotId: first.snapshotId, tickers: [], positions: [], openOrders: [], fills: [], positionsVenueMs: 1_500, wallet: null });
    step(state, openMarket('r1', 3_000));
    step(state, fill('t-1-e', 'v1', 'x1', 10, 650_000, 3, 5_000));
    const reconnect = (atMs: number): CommandOf<'FetchSnapshot'> => {
      step(state, { type: 'StreamDisconnected', atMs, stream: 'private', reason: 'test' });
      const fetch = fetchOf(step(state, { type: 'StreamConnected', atMs, stream: 'private' }));
      assert.ok(fetch);
      return fetch;
    };
    const second = reconnect(10_000);
    assert.equal(second.fillsSinceMs, 5_000 - 60_000, 'a minute before the newest fill');
    // Three weeks with no fill: the snapshot read at 21 days says none was made.
    step(state, { type: 'SnapshotReceived', atMs: 21 * day, snapshotId: second.snapshotId, tickers: [], positions: [venuePosition(10, 4, 5_000)], openOrders: [], fills: [], positionsVenueMs: 21 * day, wallet: null });
    assert.equal(reconnect(21 * day + 10_000).fillsSinceMs, 21 * day - 60_000, 'a minute before the last read, not three weeks back');
  });

  it('at a start from the journal asks for fills from a minute before what it knew, days back, whatever the stream brings first', () => {
    const day = 24 * 3_600_000;
    const state = engine({ fillsOverlapMs: 60_000, coldStartLookbackMs: day });
    step(state, openMarket('r1', 10));
    step(state, fill('t-1-e', 'v1', 'x1', 10, 650_000, 3, 5_000));
    // The process stops and starts three days later on the same state, as the journal restores it.
    const restartMs = 3 * day;
    step(state, { type: 'EngineStarted', atMs: restartMs });
    step(state, { type: 'StreamConnected', atMs: restartMs, stream: 'public' });
    const first = fetchOf(step(state, { type: 'StreamConnected', atMs: restartMs, stream: 'private' }));
    assert.equal(first?.fillsSinceMs, 5_000 - 60_000, 'not a day back from the start: the stop may have filled two days ago');
    // A fill on the stream before the snapshot is merged, and the snapshot fails: asked again from the same place.
    step(state, fill(null, 'v9', 'x9', 1, 650_000, 9, restartMs + 100));
    step(state, { type: 'SnapshotFailed', atMs: restartMs + 200, snapshotId: first.snapshotId, reason: 'test' });
    const retried = state.timers.size > 0 ? [...state.timers.keys()].map((timerId) => fetchOf(step(state, { type: 'TimerFired', atMs: restartMs + 60_000, timerId }))).find((fetch) => fetch !== undefined) : undefined;
    assert.equal(retried?.fillsSinceMs, 5_000 - 60_000);
  });

  it('keeps a recheck asked for while a snapshot is on its way, and asks once that one is merged', () => {
    const state = engine();
    step(state, openMarket('r1', 10));
    step(state, fill('t-1-e', 'v1', 'x1', 10, 650_000, 3, 50));
    step(state, { type: 'StreamDisconnected', atMs: 90, stream: 'private', reason: 'test' });
    const fetch = fetchOf(step(state, { type: 'StreamConnected', atMs: 100, stream: 'private' }));
    assert.ok(fetch);
    // "Nothing to reduce" for an exit, while the reconnect's snapshot (asked at 100) is on its way.
    const exit = submits(step(state, { type: 'CloseRequested', atMs: 120, requestId: 'c1', symbol: 'BTCUSDT' }))[0];
    assert.equal(exit?.clientOrderId, 't-1-x');
    const rejected = step(state, { type: 'OrderSubmitRejected', atMs: 150, commandId: exit.commandId, clientOrderId: exit.clientOrderId, code: 'reduce-only', reason: 'nothing to reduce' });
    assert.equal(fetchOf(rejected), undefined, 'one snapshot at a time');
    const merged = step(state, { type: 'SnapshotReceived', atMs: 200, snapshotId: fetch.snapshotId, tickers: [], positions: [], openOrders: [], fills: [], positionsVenueMs: 120, wallet: null });
    assert.ok(fetchOf(merged), 'the snapshot asked at 100 may have read the venue before 150: ask again');
    const again = fetchOf(merged);
    assert.ok(again);
    const after = step(state, { type: 'SnapshotReceived', atMs: 300, snapshotId: again.snapshotId, tickers: [], positions: [], openOrders: [], fills: [], positionsVenueMs: 250, wallet: null });
    assert.equal(fetchOf(after), undefined, 'answered: nothing more is owed');
  });

  it('merges a superseded snapshot that arrives late, but concludes nothing from what it lacks (seed 22761)', () => {
    const state = engine();
    step(state, { type: 'StreamDisconnected', atMs: 90, stream: 'private', reason: 'test' });
    const first = fetchOf(step(state, { type: 'StreamConnected', atMs: 100, stream: 'private' }));
    step(state, { type: 'StreamDisconnected', atMs: 105, stream: 'private', reason: 'test' });
    const second = fetchOf(step(state, { type: 'StreamConnected', atMs: 110, stream: 'private' }));
    assert.ok(first && second && first.snapshotId !== second.snapshotId);
    step(state, { type: 'OrderUpdated', atMs: 120, source: 'stream', ...openOrder(null, 'm1', { venueUpdatedMs: 119 }) });
    step(state, { type: 'SnapshotReceived', atMs: 130, snapshotId: first.snapshotId, tickers: [], positions: [], openOrders: [], fills: [], positionsVenueMs: 101, wallet: null });
    assert.equal(state.orders.get('ext:m1')?.status, 'accepted', 'read at ~101, before the order existed: its absence says nothing');
  });

  it('books a size the fills do not explain only when a second snapshot confirms it', () => {
    const state = engine({ externalPositions: 'watch' });
    const snapshotWith = (seq: number, atMs: number): ReturnType<typeof step> => {
      step(state, { type: 'StreamDisconnected', atMs, stream: 'private', reason: 'test' });
      const fetch = fetchOf(step(state, { type: 'StreamConnected', atMs, stream: 'private' }));
      assert.ok(fetch);
      return step(state, { type: 'SnapshotReceived', atMs, snapshotId: fetch.snapshotId, tickers: [], positions: [venuePosition(3, seq, atMs)], openOrders: [], fills: [], positionsVenueMs: atMs, wallet: null });
    };
    snapshotWith(5, 100);
    assert.equal(state.positions.get('main/BTCUSDT')?.sizeLots, 0, 'suspected, not booked');
    assert.equal(state.suspectedMismatches.size, 1);
    snapshotWith(5, 200);
    assert.equal(state.reconcile.sizeMismatches, 1);
    assert.equal(state.positions.get('main/BTCUSDT')?.sizeLots, 3);
    assert.ok(state.fillIds.has('synthetic-BTCUSDT-5-3' as ExecutionId), 'a deterministic id, so a replay books it once');
  });

  it('takes no sighting of a size mismatch from a superseded snapshot (seed 55804)', () => {
    const state = engine({ externalPositions: 'watch' });
    const reconnect = (atMs: number): CommandOf<'FetchSnapshot'> => {
      step(state, { type: 'StreamDisconnected', atMs, stream: 'private', reason: 'test' });
      const fetch = fetchOf(step(state, { type: 'StreamConnected', atMs, stream: 'private' }));
      assert.ok(fetch);
      return fetch;
    };
    const deliver = (fetch: CommandOf<'FetchSnapshot'>, atMs: number): void => {
      step(state, { type: 'SnapshotReceived', atMs, snapshotId: fetch.snapshotId, tickers: [], positions: [venuePosition(3, 5, 90)], openOrders: [], fills: [], positionsVenueMs: 90, wallet: null });
    };
    const superseded = reconnect(100);
    const awaited = reconnect(110);
    deliver(superseded, 120);
    assert.equal(state.suspectedMismatches.size, 0, 'a snapshot asked for before the reconnect concludes nothing from what it lacks');
    deliver(awaited, 130);
    assert.equal(state.suspectedMismatches.size, 1, 'the awaited one is the first sighting');
    assert.equal(state.reconcile.sizeMismatches, 0, 'and books nothing yet');
    deliver(reconnect(200), 210);
    assert.equal(state.reconcile.sizeMismatches, 1, 'a snapshot asked for after the first sighting confirms it');
  });
});

describe('the venue changing an instrument\'s tick or lot', () => {
  const finer = { ...btc, tickSize: '0.01', priceScale: 2, tickUnits: 1 };
  const coarserLot = { ...btc, lotSize: '0.01', qtyScale: 2, lotUnits: 1 };

  it('names a symbol with a position, an order or an intent open in the old units as live', () => {
    const state = engine();
    const changes = (loaded: readonly Instrument[]): string[] => gridChanges(state, loaded).map((change) => `${change.text}${change.live ? ' (live)' : ''}`);
    assert.deepEqual(changes([finer]), ['BTCUSDT tick 0.10 -> 0.01'], 'nothing live on BTCUSDT yet');
    assert.deepEqual(changes([btc]), [], 'unchanged');
    step(state, openMarket('r1', 10)); // an intent, its entry in flight
    assert.deepEqual(changes([finer]), ['BTCUSDT tick 0.10 -> 0.01 (live)']);
    assert.deepEqual(changes([{ ...finer, lotSize: coarserLot.lotSize }]), ['BTCUSDT tick 0.10 -> 0.01, lot 0.001 -> 0.01 (live)']);
    assert.deepEqual(changes([{ ...btc, tickSize: '0.1' }]), [], 'the same tick written otherwise');
  });

  it('takes in a new grid for a symbol with only history: its prices, fill memory and settled records in the old units go', () => {
    const state = engine();
    step(state, openMarket('r1', 10));
    applyAll(state, [fill('t-1-e', 'v1', 'x1', 10, 650_000, 7, 20), position(10, 1, 21, 643_500)]);
    const [exit] = submits(step(state, { type: 'CloseRequested', atMs: 30, requestId: 'c1', symbol: 'BTCUSDT' }));
    assert.ok(exit);
    applyAll(state, [fill(exit.clientOrderId, 'v3', 'x2', 10, 655_000, 8, 40, 'sell'), position(0, 2, 41)]);
    assert.equal(state.intents.get('t-1' as never)?.phase.name, 'done');
    const before = [...state.positions.values()][0];
    assert.ok(before !== undefined && before.recentFills.length === 2 && state.orders.size === 2 && state.markets.has('BTCUSDT'), 'history kept for the retention');

    // A start with the new grid (the runtime delivers the instruments before EngineStarted).
    const loaded = step(state, { type: 'InstrumentsLoaded', atMs: 100, instruments: [finer] });
    assert.equal(state.instruments.get('BTCUSDT')?.tickSize, '0.01');
    assert.match(texts(loaded), /the venue has changed BTCUSDT tick 0\.10 -> 0\.01; nothing was open there: its history in the old units forgotten/);
    assert.equal(state.markets.has('BTCUSDT'), false, 'the prices in 0.10 ticks are gone');
    assert.deepEqual([state.orders.size, state.intents.size], [0, 0], 'the closed trade\'s orders and intent forgotten');
    const after = [...state.positions.values()][0];
    assert.deepEqual(after?.recentFills, []);
    assert.deepEqual([after?.sizeLots, after?.realizedPnlE8, after?.feesE8], [0, before.realizedPnlE8, before.feesE8], 'the ledger\'s totals stand');
    assert.deepEqual(after?.base, { sizeLots: 0, costTicksLots: 0, realizedPnlE8: before.realizedPnlE8 });

    toTrading(state);
    assert.match(texts(step(state, openMarket('r2', 110))), /no market price for BTCUSDT yet/);
    step(state, ticker(6_550_000, 111)); // 65,500.00 in 0.01 ticks
    const [entry] = submits(step(state, openMarket('r3', 112)));
    assert.equal(entry?.spec.stopLoss?.triggerTicks, 6_484_500, 'a 1 % stop in the new ticks');
  });

  it('keeps the old grid under live records, with the alarm', () => {
    const state = engine();
    step(state, openMarket('r1', 10));
    const loaded = step(state, { type: 'InstrumentsLoaded', atMs: 100, instruments: [finer] });
    assert.equal(state.instruments.get('BTCUSDT')?.tickSize, '0.10');
    assert.ok(state.markets.has('BTCUSDT') && state.orders.has('t-1-e'));
    assert.ok(loaded.some((command) => command.type === 'Notify' && command.notice.level === 'alarm' && command.notice.code === 'grid-changed'));
  });

  it('names a position the venue reported though no intent holds it yet', () => {
    const state = createEngineState({ botId: 't' });
    step(state, { type: 'InstrumentsLoaded', atMs: 0, instruments: [btc] });
    step(state, position(5, 1, 20));
    assert.equal(state.activeIntentBySymbol.size, 0, 'not adopted before the first reconciliation');
    assert.deepEqual(gridChanges(state, [coarserLot]), [{ symbol: 'BTCUSDT', text: 'BTCUSDT lot 0.001 -> 0.01', live: true }]);
  });
});

describe('the venue changing an instrument\'s limits or delisting it', () => {
  const delistMs = Date.UTC(2026, 11, 1, 8, 0);
  const alarms = (commands: readonly Command[]): string[] =>
    commands.flatMap((command) => (command.type === 'Notify' && command.notice.level === 'alarm' ? [`${command.notice.code}: ${command.notice.text}`] : []));

  it('takes in new limits while running: the next entry is sized against them', () => {
    const state = engine();
    const loaded = step(state, { type: 'InstrumentsLoaded', atMs: 20, instruments: [{ ...btc, maxMarketLots: 5_000, minNotionalE8: 1_000_000_000 }] });
    assert.match(texts(loaded), /the venue has changed BTCUSDT's maximum market order 150 -> 5, minimum notional 5 -> 10 USDT: taken in/);
    assert.deepEqual(alarms(loaded), []);
    assert.match(texts(step(state, openMarket('r1', 21, { size: { quantity: '5.001' } }))), /size 5\.001 is above 5, the most BTCUSDT takes in one market order/);
    assert.equal(submits(step(state, openMarket('r2', 22, { size: { quantity: '5' } }))).length, 1);
  });

  it('refuses entries on a symbol being delisted, says what is open there, and takes them again when the delisting is withdrawn', () => {
    const state = engine();
    step(state, openMarket('r1', 10));
    applyAll(state, [fill('t-1-e', 'v1', 'x1', 10, 650_000, 7, 20), position(10, 1, 21, 643_500)]);
    const announced = step(state, { type: 'InstrumentsLoaded', atMs: 30, instruments: [{ ...btc, delistMs }] });
    assert.deepEqual(alarms(announced), [
      'delisting: the venue delists BTCUSDT at 2026-12-01 08:00 UTC: new entries there are refused; the bot holds a long of 0.01 there; ' +
        'the bot closes it at market at 2026-12-01 07:00 UTC (engine.closeBeforeDelistingMinutes: 60), its protection kept until then',
    ]);
    assert.equal(submits(announced).length, 0, 'the position and its stop are left as they are until then');
    assert.deepEqual(alarms(step(state, { type: 'InstrumentsLoaded', atMs: 40, instruments: [{ ...btc, delistMs }] })), [], 'said once, not at every reading');

    const [exit] = submits(step(state, { type: 'CloseRequested', atMs: 50, requestId: 'c1', symbol: 'BTCUSDT' }));
    assert.ok(exit, 'closing is never refused');
    applyAll(state, [fill(exit.clientOrderId, 'v3', 'x2', 10, 655_000, 8, 60, 'sell'), position(0, 2, 61)]);
    const refused = step(state, openMarket('r2', 70));
    assert.equal(submits(refused).length, 0);
    assert.match(texts(refused), /the venue delists BTCUSDT at 2026-12-01 08:00 UTC: no new entries there/);
    // Found no longer listed as trading: the time it was found.
    assert.match(texts(step(state, { type: 'InstrumentsLoaded', atMs: delistMs + 5, instruments: [{ ...btc, delistMs: delistMs + 5 }] })), /the venue no longer trades BTCUSDT \(since 2026-12-01 08:00 UTC\): new entries there are refused; nothing of the bot's is open there/);

    const withdrawn = step(state, { type: 'InstrumentsLoaded', atMs: delistMs + 10, instruments: [btc] });
    assert.match(texts(withdrawn), /the venue lists BTCUSDT as trading again, with no delisting: entries taken again/);
    step(state, ticker(650_000, delistMs + 11));
    assert.equal(submits(step(state, openMarket('r3', delistMs + 12))).length, 1);
  });

  it('reminds of a delisting at every start', () => {
    const state = createEngineState({ botId: 't' });
    assert.deepEqual(alarms(step(state, { type: 'InstrumentsLoaded', atMs: 0, instruments: [{ ...btc, delistMs }] })), [], 'the first load says it with the start');
    assert.deepEqual(alarms(step(state, { type: 'EngineStarted', atMs: 1 })), [
      'delisting: the venue delists BTCUSDT at 2026-12-01 08:00 UTC: new entries there are refused; nothing of the bot\'s is open there',
    ]);
  });
});
