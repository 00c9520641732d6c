// Builders for engine events in unit tests: one place that knows the event shapes, so tests read
// as the story they tell.

import type { Command, CommandOf } from '../../src/core/commands.ts';
import { step } from '../../src/core/engine/step.ts';
import type { Event, EventOf, OrderReport, Snapshot } from '../../src/core/events.ts';
import type { ClientOrderId, ExecutionId, VenueOrderId } from '../../src/core/ids.ts';
import type { EngineConfig, EngineState } from '../../src/core/state.ts';
import { createEngineState } from '../../src/core/state.ts';
import type { Side } from '../../src/core/types.ts';
import { instrument } from '../../src/sim/instruments.ts';

export const btc = instrument('BTCUSDT');

/**
 * An engine trading BTCUSDT at a last price of 65,000.0 (650,000 ticks): started, both streams up,
 * an empty snapshot reconciled.
 */
export function engine(config: Partial<EngineConfig> = {}): EngineState {
  const state = createEngineState({ botId: 't', ...config });
  step(state, { type: 'InstrumentsLoaded', atMs: 0, instruments: [btc] });
  toTrading(state);
  step(state, ticker(650_000, 1));
  return state;
}

/** Runs the startup lifecycle with an empty venue: started, streams up, snapshot reconciled. */
export function toTrading(state: EngineState, snapshot: Partial<Snapshot> = {}): Command[] {
  const commands = [...step(state, { type: 'EngineStarted', atMs: 0 }), ...step(state, { type: 'StreamConnected', atMs: 0, stream: 'public' })];
  const requested = step(state, { type: 'StreamConnected', atMs: 0, stream: 'private' });
  const fetch = requested.find((command): command is CommandOf<'FetchSnapshot'> => command.type === 'FetchSnapshot');
  if (fetch === undefined) throw new Error('no snapshot requested when the private stream came up');
  return [...commands, ...requested, ...step(state, {
    type: 'SnapshotReceived', atMs: 0, snapshotId: fetch.snapshotId, positions: [], openOrders: [], fills: [], tickers: [], positionsVenueMs: 0, wallet: null, ...snapshot,
  })];
}

export function ticker(lastTicks: number, atMs: number): Event {
  return { type: 'TickerUpdated', atMs, symbol: 'BTCUSDT', lastTicks, markTicks: lastTicks, venueMs: atMs };
}

export function openMarket(requestId: string, atMs: number, extra: Partial<EventOf<'OpenRequested'>> = {}): Event {
  return {
    type: 'OpenRequested', atMs, requestId, symbol: 'BTCUSDT', side: 'buy', size: { quantity: '0.010' },
    entry: { kind: 'market' }, stopLoss: { percent: 1 }, takeProfit: null, ...extra,
  };
}

export function report(clientOrderId: string | null, venueOrderId: string, status: OrderReport['status'], filledLots: number, atMs: number, extra: Partial<OrderReport> = {}): Event {
  return {
    type: 'OrderUpdated', atMs, source: 'stream', symbol: 'BTCUSDT', venueOrderId: venueOrderId as VenueOrderId, clientOrderId,
    side: 'buy', orderKind: 'market', status, sizeLots: 10, filledLots, priceTicks: null, triggerTicks: null, reduceOnly: false,
    positionTrigger: null, stopLossTicks: null, takeProfitTicks: null, venueUpdatedMs: atMs, reason: null, ...extra,
  };
}

export function fill(clientOrderId: string | null, venueOrderId: string, executionId: string, lots: number, priceTicks: number, seq: number, atMs: number, side: Side = 'buy'): Event {
  return {
    type: 'FillReceived', atMs, source: 'stream', symbol: 'BTCUSDT', executionId: executionId as ExecutionId,
    venueOrderId: venueOrderId as VenueOrderId, clientOrderId, side, priceTicks, lots, feeE8: 3_575_000, liquidity: 'taker', venueMs: atMs, seq, positionTrigger: null,
  };
}

export function position(sizeLots: number, seq: number, atMs: number, stopLossTicks: number | null = null): Event {
  return { type: 'PositionUpdated', atMs, source: 'stream', symbol: 'BTCUSDT', sizeLots, entryPrice: '65000', stopLossTicks, takeProfitTicks: null, trailingTicks: null, seq, venueUpdatedMs: atMs };
}

export function acked(clientOrderId: string, venueOrderId: string, atMs: number, commandId = 0): Event {
  return { type: 'OrderSubmitAcked', atMs, commandId, clientOrderId: clientOrderId as ClientOrderId, venueOrderId: venueOrderId as VenueOrderId };
}

export function submits(commands: readonly Command[]): CommandOf<'SubmitOrder'>[] {
  return commands.filter((command): command is CommandOf<'SubmitOrder'> => command.type === 'SubmitOrder');
}

export function notices(commands: readonly Command[]): string[] {
  return commands.filter((command): command is CommandOf<'Notify'> => command.type === 'Notify').map((command) => command.notice.code);
}

/** Applies events in order and returns every command produced. */
export function applyAll(state: EngineState, events: readonly Event[]): Command[] {
  return events.flatMap((event) => step(state, event));
}
