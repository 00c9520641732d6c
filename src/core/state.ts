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
import type { ProtectionRequest } from './protection/plan.ts';
import type { PositionPolicy } from './protection/policy.ts';
import type { StreamName, WalletReport } from './events.ts';
import { TieredMap } from './tiered-map.ts';
import type { TriggerBy } from './types.ts';

export type ExternalPositionPolicy = 'protect' | 'watch' | 'close';
export type ForeignOrderPolicy = 'leave' | 'cancel';

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
  /** Failed exits after which the operator is alarmed and retries slow down (they never stop). */
  readonly exitAttemptsMax: number;
  readonly exitRetryMs: number;
  readonly exitRetryMsMax: number;
  /** Orders on the venue that are not this bot's: left alone, or cancelled. */
  readonly foreignOrders: ForeignOrderPolicy;
  /** A reconciliation with a fresh snapshot this often while trading (a safety net; drift is a metric). */
  readonly reconcileEveryMs: number;
  /** A failed snapshot is asked again after this, doubling per attempt up to the maximum. */
  readonly snapshotRetryMs: number;
  readonly snapshotRetryMsMax: number;
  /** Fills are fetched from a little before the newest one known (reordering slack). */
  readonly fillsOverlapMs: number;
  /** With no fill known (a cold start), fills are fetched from this long before the start. */
  readonly coldStartLookbackMs: number;
  /** A position size the fills do not explain is checked again after this before it is booked. */
  readonly mismatchRecheckMs: number;
  readonly policies: readonly PositionPolicy[];
  /** The protection plan for adopted (external) positions, beyond their stop (externalStopPercent). */
  readonly externalProtection: ProtectionRequest;
  /**
   * The configured plan of the bot's own positions, by symbol (`default` for a symbol not listed):
   * what an intent restored from the venue without its journal follows, its ladder left out (the
   * venue holds the rungs, and they are restored as orders). What a request asked for itself (a
   * signal's overrides) is not on the venue: it is lost with the journal.
   */
  readonly restoredProtection: { readonly default: ProtectionRequest; readonly symbols: Readonly<Record<string, ProtectionRequest>> };
  /** Taker fee rate in millionths (550 = 0.055 %): breakeven prices include an entry and an exit at it. */
  readonly takerFeePpm: number;
  /**
   * The venue's receive window: it refuses a request older than this (Bybit: 5 s by default), so a
   * request sent this long ago can no longer land. A change whose outcome is unknown (a timeout, a
   * 5xx, a process that died) is settled only after it, and no stop is moved this soon after a
   * start: two changes in flight could land out of order.
   */
  readonly receiveWindowMs: number;
  /**
   * How long what has settled is remembered: an intent done this long ago whose orders have all
   * finished with their fills booked is forgotten with its orders, and a fill's execution id once
   * no snapshot can list the fill again (see engine/retention.ts). The ledger keeps them all.
   */
  readonly retainSettledMs: number;
  /**
   * How long before a delisting the venue announces the bot closes what it holds on that symbol, at
   * market (engine/delisting.ts); null: it does not, and the venue settles it at the delisting.
   */
  readonly closeBeforeDelistingMs: number | null;
  /** Whether the engine sends `debug` notices (a trailing stop's every move); off, their text is never made. */
  readonly debugNotices: boolean;
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
  exitRetryMsMax: 30_000,
  foreignOrders: 'leave',
  reconcileEveryMs: 120_000,
  snapshotRetryMs: 500,
  snapshotRetryMsMax: 30_000,
  fillsOverlapMs: 60_000,
  coldStartLookbackMs: 24 * 3_600_000,
  mismatchRecheckMs: 5_000,
  policies: [],
  externalProtection: {},
  restoredProtection: { default: {}, symbols: {} },
  takerFeePpm: 550,
  receiveWindowMs: 5_000,
  retainSettledMs: 3_600_000,
  closeBeforeDelistingMs: 3_600_000,
  debugNotices: false,
};

/**
 * The startup lifecycle: load (journal) -> connect (streams) -> snapshot -> reconcile -> trade.
 * Reconciliation runs inside the step that receives the snapshot; the phase after it is `trading`.
 * Losing the private stream goes back to `connecting`: entries wait; protective orders still go out.
 */
export type Lifecycle =
  | { readonly phase: 'loading' }
  | { readonly phase: 'connecting'; readonly sinceMs: number }
  | { readonly phase: 'snapshotting'; readonly sinceMs: number }
  | { readonly phase: 'trading'; readonly sinceMs: number };

export type SnapshotReason = 'startup' | 'reconnect' | 'periodic' | 'recheck';

export type SnapshotInFlight = {
  readonly snapshotId: number;
  readonly requestedMs: number;
  readonly reason: SnapshotReason;
  readonly attempt: number;
};

/** Each class of difference reconciliation finds and heals; all should stay at zero. */
export type ReconcileCounts = {
  runs: number;
  missedFills: number;
  unknownPositions: number;
  positionsWithoutStop: number;
  orphanOrders: number;
  foreignOrders: number;
  sizeMismatches: number;
  unknownOrdersResolved: number;
  vanishedOrders: number;
  restoredOrders: number;
};

export function zeroReconcileCounts(): ReconcileCounts {
  return {
    runs: 0, missedFills: 0, unknownPositions: 0, positionsWithoutStop: 0, orphanOrders: 0, foreignOrders: 0,
    sizeMismatches: 0, unknownOrdersResolved: 0, vanishedOrders: 0, restoredOrders: 0,
  };
}

/**
 * A symbol's hot record: its latest prices, and what a ticker needs of its bot-trailed stop.
 * Updated in place on every ticker (the hottest event); never shared.
 */
export type Market = {
  lastTicks: number | null;
  markTicks: number | null;
  venueMs: number;
  /**
   * The prices came in since the public stream last came up. Until then they may be from before an
   * outage (or, after a start, from the journal), and a market entry is not sized or stopped from
   * them: the stream's first message after subscribing is the ticker's snapshot, a moment later.
   */
  fresh: boolean;
  /**
   * The symbol's bot-trailed stop once its trailing activated: the intent trailing it (null:
   * none), its best trigger price since, and the stop level that best price calls for. They live
   * here, flat, written in place next to the prices the ticker just wrote: a new best price costs
   * no new intent, and a quiet ticker reads no record beyond those the plain stop reads.
   */
  trailIntentId: IntentId | null;
  trailPeakTicks: number;
  trailLevelTicks: number;
};

export type TimerPurpose =
  | { readonly kind: 'stop-deadline'; readonly intentId: IntentId; readonly orderKey: OrderKey }
  | { readonly kind: 'query-order'; readonly orderKey: OrderKey }
  | { readonly kind: 'exit-retry'; readonly intentId: IntentId }
  /** The protection policies look again (an aged step due, a coalesced stop change allowed). */
  | { readonly kind: 'review'; readonly intentId: IntentId }
  /** A position-stop change with an unknown outcome can no longer land: settle it. */
  | { readonly kind: 'position-stop-expired'; readonly intentId: IntentId; readonly commandId: number }
  | { readonly kind: 'reconcile' }
  /** Close what the bot holds on a symbol the venue delists, a while before it does (engine/delisting.ts). */
  | { readonly kind: 'delisting-close'; readonly symbol: string }
  | { readonly kind: 'snapshot-retry'; readonly reason: SnapshotReason; readonly attempt: number };

/** A timer the engine is waiting for, with when it fires (a restarted process arms it again). */
export type PendingTimer = TimerPurpose & { readonly fireAtMs: number };

/**
 * A position size the fills did not explain at one reconciliation (`suspectedMs`, when), to be
 * checked by a snapshot asked for after it.
 */
export type SuspectedMismatch = { readonly diffLots: number; readonly venueSeq: number; readonly suspectedMs: number };

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
  /** Positions a stop order could not cover (the venue's market maximum) given the position's own stop-loss instead. */
  positionStopsInstead: number;
  /** Exits at market sent in parts (the position larger than one market order takes): the parts. */
  exitParts: number;
  /** Changes of a stop the policies sent: amends of a stop order's trigger, position stop-losses. */
  stopMoves: number;
  /** The protection policies' full evaluations (a quiet ticker is answered without one): their work, in a count no machine's noise moves. */
  policyEvaluations: number;
  /** Take-profit ladder rungs and aged-position exits placed. */
  ladderRungs: number;
  agedExits: number;
  /** Intents restored from the venue that took their symbol's configured plan (restore.ts). */
  plansRestored: number;
  /** Settled intents, their orders, and execution ids forgotten (the ledger keeps them). */
  intentsForgotten: number;
  ordersForgotten: number;
  fillIdsForgotten: number;
};

/** What the engine remembers of a request id: what became of it, and a fingerprint of what it asked. */
export type RequestMemory = { readonly outcome: string; readonly asked: string };

export type EngineState = {
  readonly config: EngineConfig;
  /** The counter for commands, timers and snapshots: deterministic. */
  seq: number;
  /** The counter for intent ids, which go into client order ids (see onEngineStarted). */
  intentSeq: number;
  readonly instruments: Map<string, Instrument>;
  readonly markets: Map<string, Market>;
  /** The settlement coin's balance: the newest report, by venue time, from stream or snapshot. */
  wallet: WalletReport | null;
  /**
   * The orders in play, then the retired ones (core/tiered-map.ts): settled, and of an intent that
   * is done (or of none), kept for the retention (engine/retention.ts).
   */
  readonly orders: TieredMap<OrderKey, Order>;
  /**
   * Per symbol, the orders not yet settled: not finished, or finished with fills the venue reported
   * that are not booked yet. A derived index of `orders` (kept by putOrder, rebuilt when a snapshot
   * is loaded): what a stop must cover and whether fills are outstanding are asked whenever a
   * position changes, and `orders` holds every order of the last hour (retainSettledMs) besides.
   */
  readonly unsettledOrders: Map<string, Map<OrderKey, Order>>;
  /**
   * When each settled order settled (the engine's time of the change that finished it): what the
   * retention of an order of no intent counts from (engine/retention.ts). An order that rested for
   * hours is remembered for the retention after it ended, not forgotten as it ends, so that a late
   * or stale view of it (a snapshot asked for earlier) cannot bring it back as live (seed 143013).
   */
  readonly orderSettledMs: Map<OrderKey, number>;
  readonly orderKeyByVenueId: Map<VenueOrderId, OrderKey>;
  /**
   * Every fill and funding payment booked, by execution id, with its venue time: what makes one
   * count once. Ids older than `fillIdsFromMs` are forgotten (see engine/retention.ts), and an
   * execution that old is taken as booked.
   */
  readonly fillIds: Map<ExecutionId, number>;
  /** Venue time before which execution ids have been forgotten (0: none yet); no snapshot asked for from then on reaches that far back. */
  fillIdsFromMs: number;
  readonly positions: Map<PositionKey, Position>;
  /** Memo of `positionKey(account, symbol)` per symbol. */
  readonly positionKeys: Map<string, PositionKey>;
  /** The intents in play, then the done ones, retired as they end (core/tiered-map.ts). */
  readonly intents: TieredMap<IntentId, Intent>;
  readonly activeIntentBySymbol: Map<string, IntentId>;
  /**
   * The intent, active or not, whose change of the symbol's position stop the venue has not yet
   * answered: a derived index of `intents` (kept by putIntent, rebuilt when a snapshot is loaded),
   * so the check on every tick does not scan every intent ever made.
   */
  readonly positionStopOwners: Map<string, IntentId>;
  /** Open/close request ids already handled (idempotency): the outcome, and what was asked (requestFingerprint). */
  readonly requests: Map<string, RequestMemory>;
  readonly timers: Map<number, PendingTimer>;
  /** Not-found answers so far per order in `unknown`. */
  readonly notFoundAnswers: Map<OrderKey, number>;
  readonly counters: Counters;
  lifecycle: Lifecycle;
  readonly streams: Record<StreamName, 'down' | 'up'>;
  /** The snapshot the lifecycle waits for (startup, reconnect) or a background one; null if none. */
  snapshot: SnapshotInFlight | null;
  /** True once a reconciliation has run since the engine (re)started: until then nothing is adopted. */
  reconciledSinceStart: boolean;
  startedMs: number | null;
  /**
   * Venue time up to which fills are known (the newest fill, or the last snapshot's read; moved
   * only after the first reconciliation since a start): the next snapshot fetches fills from a
   * little before it. 0: nothing known (a cold start).
   */
  fillCursorMs: number;
  /** The one periodic reconciliation timer that counts (later ones replace earlier ones). */
  periodicTimerId: number | null;
  readonly suspectedMismatches: Map<string, SuspectedMismatch>;
  /** A recheck asked for while a snapshot was already on its way (see snapshots.ts); null if none. */
  recheckWantedSinceMs: number | null;
  readonly reconcile: ReconcileCounts;
};

export function createEngineState(overrides: Partial<EngineConfig> = {}): EngineState {
  const config = { ...defaultEngineConfig, ...overrides };
  assert(isValidBotId(config.botId), `botId must be 1-16 characters of [A-Za-z0-9_]: ${config.botId}`);
  assert(config.stopAckDeadlineMs > 0, 'stopAckDeadlineMs must be positive');
  assert(config.externalStopPercent > 0 && config.externalStopPercent < 100, 'externalStopPercent must be in (0, 100)');
  return {
    config,
    seq: 0,
    intentSeq: 0,
    instruments: new Map(),
    markets: new Map(),
    wallet: null,
    orders: new TieredMap(),
    unsettledOrders: new Map(),
    orderSettledMs: new Map(),
    orderKeyByVenueId: new Map(),
    fillIds: new Map(),
    fillIdsFromMs: 0,
    positions: new Map(),
    positionKeys: new Map(),
    intents: new TieredMap(),
    activeIntentBySymbol: new Map(),
    positionStopOwners: new Map(),
    requests: new Map(),
    timers: new Map(),
    notFoundAnswers: new Map(),
    lifecycle: { phase: 'loading' },
    streams: { private: 'down', public: 'down' },
    snapshot: null,
    reconciledSinceStart: false,
    startedMs: null,
    fillCursorMs: 0,
    periodicTimerId: null,
    suspectedMismatches: new Map(),
    recheckWantedSinceMs: null,
    reconcile: zeroReconcileCounts(),
    counters: {
      eventsApplied: 0, duplicateFills: 0, staleReports: 0, adoptedOrders: 0, adoptedPositions: 0,
      anomalies: 0, requestsRejected: 0, entriesSubmitted: 0, stopsSubmitted: 0, protectiveExits: 0, positionStopsInstead: 0, exitParts: 0, stopMoves: 0, policyEvaluations: 0, ladderRungs: 0, agedExits: 0, plansRestored: 0,
      intentsForgotten: 0, ordersForgotten: 0, fillIdsForgotten: 0,
    },
  };
}
