import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { engineConfigOf } from '../../src/cli/run.ts';
import type { Command, CommandOf } from '../../src/core/commands.ts';
import { step } from '../../src/core/engine/step.ts';
import type { Event } from '../../src/core/events.ts';
import type { VenueOrderId } from '../../src/core/ids.ts';
import type { EngineState } from '../../src/core/state.ts';
import { createEngineState } from '../../src/core/state.ts';
import { parseConfigText } from '../../src/config/load.ts';
import { applyAll, btc, engine, fill, openMarket, position, submits, ticker } from '../support/events.ts';

// The venue announces BTCUSDT's delisting for 08:00; with the default lead (60 minutes) the bot
// closes what it holds there at 07:00, by a market exit.
const delistMs = Date.UTC(2026, 11, 1, 8, 0);
const closeMs = delistMs - 3_600_000;
const announced = (atMs: number, at = delistMs): Event => ({ type: 'InstrumentsLoaded', atMs, instruments: [{ ...btc, delistMs: at }] });

/** The engine trading with a long of 0.010 BTCUSDT (t-1-e filled at 65,000). */
function long(config: Parameters<typeof engine>[0] = {}): EngineState {
  const state = engine(config);
  step(state, openMarket('r1', 10));
  applyAll(state, [fill('t-1-e', 'v1', 'x1', 10, 650_000, 7, 20), position(10, 1, 21, 643_500)]);
  return state;
}

function closeTimers(state: EngineState): { readonly timerId: number; readonly fireAtMs: number }[] {
  return [...state.timers].flatMap(([timerId, timer]) => (timer.kind === 'delisting-close' && timer.symbol === 'BTCUSDT' ? [{ timerId, fireAtMs: timer.fireAtMs }] : []));
}

function fire(state: EngineState, atMs: number): Command[] {
  const [timer] = closeTimers(state);
  assert.ok(timer, 'a close is armed');
  return step(state, { type: 'TimerFired', atMs, timerId: timer.timerId });
}

const texts = (commands: readonly Command[]): string => commands.flatMap((command) => (command.type === 'Notify' ? [`${command.notice.code}: ${command.notice.text}`] : [])).join('\n');
const exits = (commands: readonly Command[]): CommandOf<'SubmitOrder'>[] => submits(commands).filter((command) => command.spec.type.kind === 'market' && command.spec.reduceOnly);

describe('closing what the bot holds before the venue delists the symbol', () => {
  it('closes the position at market an hour before the delisting, its stop working until then', () => {
    const state = long();
    const read = step(state, announced(30));
    assert.deepEqual(closeTimers(state).map((timer) => timer.fireAtMs), [closeMs]);
    assert.ok(read.some((command) => command.type === 'StartTimer' && command.fireAtMs === closeMs));
    assert.equal(submits(read).length, 0, 'nothing is sent at the announcement');
    assert.deepEqual(submits(step(state, ticker(651_000, closeMs - 1))), [], 'a ticker before the time changes nothing');

    const closing = fire(state, closeMs);
    const [exit] = exits(closing);
    assert.deepEqual([exit?.spec.side, exit?.spec.sizeLots], ['sell', 10]);
    assert.match(texts(closing), /exit: t-1 closing at market: the venue delists BTCUSDT at 2026-12-01 08:00 UTC, 1h00m away \(engine\.closeBeforeDelistingMinutes: 60\)/);
    assert.equal(state.intents.get(state.activeIntentBySymbol.get('BTCUSDT') ?? '' as never)?.phase.name, 'exiting');
    assert.ok(state.orders.get('t-1-s')?.status !== 'cancelled', 'the stop stays until the position is flat');
  });

  it('closes at once when the notice is shorter than the lead, or the symbol is found no longer trading', () => {
    const state = long();
    const read = step(state, announced(30, 30 + 600_000)); // ten minutes' notice
    assert.match(texts(read), /the bot holds a long of 0\.01 there; the bot closes it at market now \(engine\.closeBeforeDelistingMinutes: 60\)$/m);
    assert.deepEqual(closeTimers(state).map((timer) => timer.fireAtMs), [30]);
    const closing = fire(state, 30);
    assert.equal(exits(closing).length, 1);
    assert.match(texts(closing), /closing at market: the venue delists BTCUSDT at .*, 10m00s away \(engine\.closeBeforeDelistingMinutes: 60\)/);

    const found = long();
    step(found, announced(30, 30)); // no longer listed as trading: delisted from that reading
    const gone = fire(found, 30);
    assert.equal(exits(gone).length, 1);
    assert.match(texts(gone), /closing at market: the venue no longer trades BTCUSDT \(since .*\) \(engine\.closeBeforeDelistingMinutes: 60\)/);
  });

  it('cancels an entry still working at the close time, nothing filled', () => {
    const state = engine();
    step(state, openMarket('r1', 10, { entry: { kind: 'limit', price: '64000' } }));
    step(state, { type: 'OrderSubmitAcked', atMs: 11, commandId: 0, clientOrderId: 't-1-e' as never, venueOrderId: 'v1' as never });
    assert.match(texts(step(state, announced(30))), /an entry of the bot's is working there; the bot closes it at market at 2026-12-01 07:00 UTC \(engine\.closeBeforeDelistingMinutes: 60\), its protection kept until then/);
    const closing = fire(state, closeMs);
    assert.deepEqual(closing.filter((command) => command.type === 'CancelOrder').map((command) => command.clientOrderId), ['t-1-e']);
    assert.equal(exits(closing).length, 0, 'nothing is open to close');
  });

  it('closes nothing when the delisting is withdrawn or moved later before its time; one close timer a symbol', () => {
    const withdrawn = long();
    step(withdrawn, announced(30));
    step(withdrawn, { type: 'InstrumentsLoaded', atMs: 40, instruments: [btc] });
    assert.deepEqual(submits(fire(withdrawn, closeMs)), []);
    assert.equal(withdrawn.intents.get('t-1' as never)?.phase.name, 'open');

    const moved = long();
    step(moved, announced(30));
    const [first] = closeTimers(moved);
    step(moved, announced(40, delistMs + 86_400_000));
    assert.deepEqual(closeTimers(moved).map((timer) => timer.fireAtMs), [closeMs + 86_400_000], 'the earlier close dropped');
    assert.deepEqual(submits(step(moved, { type: 'TimerFired', atMs: closeMs, timerId: first?.timerId ?? 0 })), [], 'its timer, firing anyway, does nothing');
    assert.equal(exits(fire(moved, closeMs + 86_400_000)).length, 1);
  });

  it('arms the close again at a start without doubling it', () => {
    const state = long();
    step(state, announced(30));
    step(state, { type: 'EngineStarted', atMs: 50 });
    assert.deepEqual(closeTimers(state).map((timer) => timer.fireAtMs), [closeMs]);
  });

  it('leaves it to the venue with closeBeforeDelistingMinutes: null', () => {
    const state = long({ closeBeforeDelistingMs: null });
    assert.match(texts(step(state, announced(30))), /the bot holds a long of 0\.01 there; what is still open at the delisting the venue settles at its own price \(engine\.closeBeforeDelistingMinutes: null\)/);
    assert.deepEqual(closeTimers(state), []);
    assert.deepEqual(submits(step(state, ticker(650_000, delistMs - 1))), []);
  });

  it('closes a position first seen after the close time when the reconciliation that shows it is merged', () => {
    const state = engine();
    step(state, announced(30));
    fire(state, closeMs); // nothing held: nothing to do
    const requested = step(state, { type: 'StreamConnected', atMs: closeMs + 10, stream: 'private' });
    const fetch = requested.find((command): command is CommandOf<'FetchSnapshot'> => command.type === 'FetchSnapshot');
    assert.ok(fetch);
    // A position opened by hand meanwhile: adopted (externalPositions: protect), and closed.
    const merged = step(state, {
      type: 'SnapshotReceived', atMs: closeMs + 20, snapshotId: fetch.snapshotId, tickers: [], openOrders: [], fills: [], positionsVenueMs: closeMs + 15, wallet: null,
      positions: [{ symbol: 'BTCUSDT', sizeLots: -20, entryPrice: '65000', stopLossTicks: null, takeProfitTicks: null, trailingTicks: null, seq: 9, venueUpdatedMs: closeMs + 15 }],
    });
    const [exit] = exits(merged);
    assert.deepEqual([exit?.spec.side, exit?.spec.sizeLots], ['buy', 20]);
    assert.match(texts(merged), /closing at market: the venue delists BTCUSDT at 2026-12-01 08:00 UTC/);
  });

  it('closes a position of its own restored without the journal after the close time, when the startup reconciliation is merged', () => {
    const state = createEngineState({ botId: 't', attachedStops: false });
    step(state, announced(0));
    step(state, { type: 'EngineStarted', atMs: closeMs + 10 });
    assert.deepEqual(submits(fire(state, closeMs + 10)), [], 'nothing known yet: nothing to close');
    step(state, { type: 'StreamConnected', atMs: closeMs + 11, stream: 'public' });
    step(state, ticker(650_000, closeMs + 12));
    const requested = step(state, { type: 'StreamConnected', atMs: closeMs + 13, stream: 'private' });
    const fetch = requested.find((command): command is CommandOf<'FetchSnapshot'> => command.type === 'FetchSnapshot');
    assert.ok(fetch);
    const stop = {
      symbol: 'BTCUSDT', venueOrderId: 'v2' as VenueOrderId, clientOrderId: 't-5-sl', side: 'sell', orderKind: 'stop-market', status: 'untriggered', sizeLots: 10, filledLots: 0,
      priceTicks: null, triggerTicks: 643_500, reduceOnly: true, positionTrigger: null, stopLossTicks: null, takeProfitTicks: null, venueUpdatedMs: 5, reason: null,
    } as const;
    const merged = step(state, {
      type: 'SnapshotReceived', atMs: closeMs + 20, snapshotId: fetch.snapshotId, tickers: [], openOrders: [stop], fills: [], positionsVenueMs: closeMs + 15, wallet: null,
      positions: [{ symbol: 'BTCUSDT', sizeLots: 10, entryPrice: '65000', stopLossTicks: null, takeProfitTicks: null, trailingTicks: null, seq: 9, venueUpdatedMs: closeMs + 15 }],
    });
    assert.equal(state.intents.get(state.activeIntentBySymbol.get('BTCUSDT') ?? '' as never)?.kind, 'restored');
    const [exit] = exits(merged);
    assert.deepEqual([exit?.spec.side, exit?.spec.sizeLots], ['sell', 10]);
  });

  it('closes a position opened by hand after the close time as it is adopted, from the stream alone', () => {
    const state = engine();
    step(state, announced(30));
    fire(state, closeMs);
    const adopted = applyAll(state, [fill(null, 'm1', 'x9', 30, 650_000, 3, closeMs + 100), position(30, 4, closeMs + 101)]);
    const [exit] = exits(adopted);
    assert.deepEqual([exit?.spec.side, exit?.spec.sizeLots], ['sell', 30]);
    assert.match(texts(adopted), /adopted an external position .*\n(.*\n)*exit: .*closing at market: the venue delists BTCUSDT/);
  });

  it('does not close a position kept on watch, and says so', () => {
    const state = engine({ externalPositions: 'watch' });
    const requested = step(state, { type: 'StreamConnected', atMs: 20, stream: 'private' });
    const fetch = requested.find((command): command is CommandOf<'FetchSnapshot'> => command.type === 'FetchSnapshot');
    assert.ok(fetch);
    step(state, {
      type: 'SnapshotReceived', atMs: 25, snapshotId: fetch.snapshotId, tickers: [], openOrders: [], fills: [], positionsVenueMs: 22, wallet: null,
      positions: [{ symbol: 'BTCUSDT', sizeLots: 20, entryPrice: '65000', stopLossTicks: null, takeProfitTicks: null, trailingTicks: null, seq: 9, venueUpdatedMs: 22 }],
    });
    assert.match(texts(step(state, announced(30))), /the bot holds a long of 0\.02 there; kept on watch \(engine\.externalPositions: watch\), it is not the bot's to close/);
    const fired = fire(state, closeMs);
    assert.deepEqual(submits(fired), []);
    assert.match(texts(fired), /is kept on watch \(engine\.externalPositions: watch\), not closed by the bot/);
  });

  it('takes the lead from the configuration, and null from it too', () => {
    const file = (engineSection: string): string => `botId: t\njournal: j.db\nsymbols: [BTCUSDT]\nstrategy: { kind: none }\nvenue: { kind: sim, address: '127.0.0.1:4100' }\nengine: ${engineSection}\n`;
    const of = (engineSection: string): number | null | undefined => engineConfigOf(parseConfigText(file(engineSection), 'yaml')).closeBeforeDelistingMs;
    assert.equal(of('{}'), 3_600_000);
    assert.equal(of('{ closeBeforeDelistingMinutes: 15 }'), 900_000);
    assert.equal(of('{ closeBeforeDelistingMinutes: null }'), null);
  });
});
