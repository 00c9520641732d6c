// The engine's state: everything `step` knows, owned by the single writer.
//
// `step` is the only code that changes it, one event at a time, deterministically: the same event
// sequence gives the same state (see hash.ts), which is what journal replay, backtests and the
// simulation rely on. Maps are updated in place and their values (orders, positions, intents) are
// immutable records replaced whole; copying whole maps per event would make the engine cost grow
// with the number of symbols and orders.

import { assert } from './assert.ts';
import type { ExecutionId, IntentId, VenueOrderId } from './ids.ts';
import { isValidBotId } from './ids.ts';
import type { Instrument } from './instrument.ts';
import type { Intent } from './intent/intent.ts';
import type { Order, OrderKey } from './order/order.ts';
import type { Position, PositionKey } from './position/position.ts';
import type { PositionPolicy } from './protection/policy.ts';
import type { TriggerBy } from './types.ts';

export type ExternalPositionPolicy = 'protect' | 'watch' | 'close';

export type EngineConfig = {
  readonly botId: string;
  readonly account: string;
  /** Whether the venue arms a stop-loss / take-profit sent with the entry (Bybit: yes). */
  readonly attachedStops: boolean;
  readonly stopTriggerBy: TriggerBy;
  /** A separate stop not acknowledged within this time after it is sent: exit at market. */
  readonly stopAckDeadlineMs: number;
  readonly externalPositions: ExternalPositionPolicy;
  /** Stop distance for adopted positions, percent from their entry (or from the market if crossed). */
  readonly externalStopPercent: number;
  readonly unknownQueryIntervalMs: number;
  /** Answers of "not found" before an order in `unknown` is concluded never placed. */
  readonly unknownNotFoundMax: number;
  readonly exitAttemptsMax: number;
  readonly exitRetryMs: number;
  readonly policies: readonly PositionPolicy[];
};

export const defaultEngineConfig: EngineConfig = {
  botId: 'vigil',
  account: 'main',
  attachedStops: true,
  stopTriggerBy: 'mark',
  stopAckDeadlineMs: 2_000,
  externalPositions: 'protect',
  externalStopPercent: 2,
  unknownQueryIntervalMs: 1_000,
  unknownNotFoundMax: 3,
  exitAttemptsMax: 5,
  exitRetryMs: 500,
  policies: [],
};

/** The latest prices of a symbol. Updated in place on every ticker (the hottest event); never shared. */
export type Market = { lastTicks: number | null; markTicks: number | null; venueMs: number };

export type TimerPurpose =
  | { readonly kind: 'stop-deadline'; readonly intentId: IntentId; readonly orderKey: OrderKey }
  | { readonly kind: 'query-order'; readonly orderKey: OrderKey }
  | { readonly kind: 'exit-retry'; readonly intentId: IntentId };

export type Counters = {
  eventsApplied: number;
  duplicateFills: number;
  staleReports: number;
  adoptedOrders: number;
  adoptedPositions: number;
  anomalies: number;
  requestsRejected: number;
  entriesSubmitted: number;
  stopsSubmitted: number;
  protectiveExits: number;
};

export type EngineState = {
  readonly config: EngineConfig;
  /** One counter for every id the engine makes (intents, commands, timers): deterministic. */
  seq: number;
  readonly instruments: Map<string, Instrument>;
  readonly markets: Map<string, Market>;
  readonly orders: Map<OrderKey, Order>;
  readonly orderKeyByVenueId: Map<VenueOrderId, OrderKey>;
  readonly fillIds: Set<ExecutionId>;
  readonly positions: Map<PositionKey, Position>;
  /** Memo of `positionKey(account, symbol)` per symbol. */
  readonly positionKeys: Map<string, PositionKey>;
  readonly intents: Map<IntentId, Intent>;
  readonly activeIntentBySymbol: Map<string, IntentId>;
  /** Open/close request ids already handled (idempotency), with the outcome. */
  readonly requests: Map<string, string>;
  readonly timers: Map<number, TimerPurpose>;
  /** Not-found answers so far per order in `unknown`. */
  readonly notFoundAnswers: Map<OrderKey, number>;
  readonly counters: Counters;
};

export function createEngineState(overrides: Partial<EngineConfig> = {}): EngineState {
  const config = { ...defaultEngineConfig, ...overrides };
  assert(isValidBotId(config.botId), `botId must be 1-16 characters of [A-Za-z0-9_]: ${config.botId}`);
  assert(config.stopAckDeadlineMs > 0, 'stopAckDeadlineMs must be positive');
  assert(config.externalStopPercent > 0 && config.externalStopPercent < 100, 'externalStopPercent must be in (0, 100)');
  return {
    config,
    seq: 0,
    instruments: new Map(),
    markets: new Map(),
    orders: new Map(),
    orderKeyByVenueId: new Map(),
    fillIds: new Set(),
    positions: new Map(),
    positionKeys: new Map(),
    intents: new Map(),
    activeIntentBySymbol: new Map(),
    requests: new Map(),
    timers: new Map(),
    notFoundAnswers: new Map(),
    counters: {
      eventsApplied: 0, duplicateFills: 0, staleReports: 0, adoptedOrders: 0, adoptedPositions: 0,
      anomalies: 0, requestsRejected: 0, entriesSubmitted: 0, stopsSubmitted: 0, protectiveExits: 0,
    },
  };
}
