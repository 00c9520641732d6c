// Events: facts that happened, the only input of `step`. Every event carries `atMs`, the time the
// runtime received it (the engine never reads a clock). Venue facts also carry venue time and,
// where the venue has one, a sequence, which are their deduplication and ordering keys.

import type { ClientOrderId, ExecutionId, VenueOrderId } from './ids.ts';
import type { Instrument } from './instrument.ts';
import type { PriceRequest, ProtectionRequest } from './protection/plan.ts';
import type { Liquidity, OrderKind, Side, Source, VenueOrderStatus } from './types.ts';

/** An order as the venue reports it (stream push, REST reply or query by client order id). */
export type OrderReport = {
  readonly symbol: string;
  readonly venueOrderId: VenueOrderId;
  /** Our client order id if the order is ours, another client's id, or null for none. */
  readonly clientOrderId: string | null;
  readonly side: Side;
  readonly orderKind: OrderKind;
  readonly status: VenueOrderStatus;
  readonly sizeLots: number;
  readonly filledLots: number;
  readonly priceTicks: number | null;
  readonly triggerTicks: number | null;
  readonly reduceOnly: boolean;
  /** Set when the venue itself created the order from a position's stop-loss / take-profit. */
  readonly positionTrigger: PositionTrigger;
  /** The stop-loss / take-profit attached to this order (armed on the position when it fills). */
  readonly stopLossTicks: number | null;
  readonly takeProfitTicks: number | null;
  readonly venueUpdatedMs: number;
  readonly reason: string | null;
};

/** Which of a position's own triggers (Bybit `stopOrderType`) the venue is executing, if any. */
export type PositionTrigger = 'stop-loss' | 'take-profit' | 'trailing-stop' | null;

export type Fill = {
  readonly symbol: string;
  readonly executionId: ExecutionId;
  readonly venueOrderId: VenueOrderId;
  readonly clientOrderId: string | null;
  readonly side: Side;
  readonly priceTicks: number;
  readonly lots: number;
  readonly feeE8: number;
  readonly liquidity: Liquidity;
  readonly venueMs: number;
  /** The venue's per-symbol cross sequence, shared with the position update the fill causes. */
  readonly seq: number;
  /** Set when the order is the venue's execution of a position's own stop-loss / take-profit. */
  readonly positionTrigger: PositionTrigger;
};

/**
 * A funding payment on a position (Bybit: an execution with execType Funding). Not a fill: it
 * changes no size, only money; booked once by its execution id.
 */
export type Funding = {
  readonly symbol: string;
  readonly executionId: ExecutionId;
  /** What the account paid, E8 (negative: it received). */
  readonly feeE8: number;
  readonly venueMs: number;
};

export type PositionReport = {
  readonly symbol: string;
  /** Signed: positive long, negative short, zero flat (one-way mode). */
  readonly sizeLots: number;
  /** The venue's average entry price, kept as text: it is not on the tick grid. */
  readonly entryPrice: string;
  readonly stopLossTicks: number | null;
  readonly takeProfitTicks: number | null;
  /** The venue's trailing stop distance (Bybit `trailingStop`), null for none: the venue moves the stop-loss itself, whoever set it. */
  readonly trailingTicks: number | null;
  readonly seq: number;
  readonly venueUpdatedMs: number;
};

/**
 * The account's settlement coin as the venue reports it (Bybit's wallet topic and wallet-balance
 * call, USDT of the unified account): the balance fills and fees have made, and the equity that
 * adds the open positions' unrealised PnL.
 */
export type WalletReport = {
  readonly coin: string;
  readonly walletBalanceE8: number;
  readonly equityE8: number;
  readonly unrealisedPnlE8: number;
  /** When the venue made the report (Bybit: the message's creationTime, or the reply's time). */
  readonly venueMs: number;
};

export type SizeRequest = { readonly quantity: string } | { readonly notional: string };
export type { PriceRequest } from './protection/plan.ts';
export type EntryRequest = { readonly kind: 'market' } | { readonly kind: 'limit'; readonly price: string };

export type RejectCode =
  | 'insufficient-funds'
  | 'invalid'
  | 'reduce-only'
  | 'trigger-crossed'
  | 'duplicate-id'
  | 'rate-limited'
  | 'not-found'
  | 'other'
  /** Refused in this process, never sent: the dry run. */
  | 'not-sent';

/** The venue's WebSocket streams: private (orders, executions, positions, wallet) and public (tickers). */
export type StreamName = 'private' | 'public';

export type Ticker = { readonly symbol: string; readonly lastTicks: number | null; readonly markTicks: number | null; readonly venueMs: number };

/** What a snapshot of the venue holds: every open position, every open order, the fills since a time, the prices. */
export type Snapshot = {
  readonly positions: readonly PositionReport[];
  readonly openOrders: readonly OrderReport[];
  readonly fills: readonly Fill[];
  /** Last and mark prices of every instrument (one call), so prices are known before the public stream speaks. */
  readonly tickers: readonly Ticker[];
  /** Venue time the positions were read at: a position missing from them was flat then. */
  readonly positionsVenueMs: number;
  /** The settlement coin's balance, when the venue answered for it. */
  readonly wallet: WalletReport | null;
  /** Funding payments since the same time as the fills, where the venue lists them. */
  readonly funding?: readonly Funding[];
};

type At = { readonly atMs: number };

export type Event =
  | (At & { readonly type: 'InstrumentsLoaded'; readonly instruments: readonly Instrument[] })
  | (At & { readonly type: 'TickerUpdated' } & Ticker)
  | (At & { readonly type: 'OrderUpdated'; readonly source: Source } & OrderReport)
  | (At & { readonly type: 'FillReceived'; readonly source: Source } & Fill)
  | (At & { readonly type: 'PositionUpdated'; readonly source: Source } & PositionReport)
  | (At & { readonly type: 'WalletUpdated'; readonly source: Source } & WalletReport)
  | (At & { readonly type: 'FundingSettled'; readonly source: Source } & Funding)
  | (At & { readonly type: 'OrderSubmitAcked'; readonly commandId: number; readonly clientOrderId: ClientOrderId; readonly venueOrderId: VenueOrderId })
  | (At & { readonly type: 'OrderSubmitRejected'; readonly commandId: number; readonly clientOrderId: ClientOrderId; readonly code: RejectCode; readonly reason: string })
  | (At & { readonly type: 'OrderSubmitUnknown'; readonly commandId: number; readonly clientOrderId: ClientOrderId; readonly reason: string })
  | (At & { readonly type: 'OrderCancelAcked'; readonly commandId: number; readonly clientOrderId: ClientOrderId })
  | (At & { readonly type: 'OrderCancelRejected'; readonly commandId: number; readonly clientOrderId: ClientOrderId; readonly code: RejectCode; readonly reason: string })
  | (At & { readonly type: 'OrderCancelUnknown'; readonly commandId: number; readonly clientOrderId: ClientOrderId; readonly reason: string })
  | (At & { readonly type: 'OrderAmendAcked'; readonly commandId: number; readonly clientOrderId: ClientOrderId })
  | (At & { readonly type: 'OrderAmendRejected'; readonly commandId: number; readonly clientOrderId: ClientOrderId; readonly code: RejectCode; readonly reason: string })
  | (At & { readonly type: 'OrderAmendUnknown'; readonly commandId: number; readonly clientOrderId: ClientOrderId; readonly reason: string })
  | (At & { readonly type: 'PositionStopAcked'; readonly commandId: number; readonly symbol: string })
  | (At & { readonly type: 'PositionStopRejected'; readonly commandId: number; readonly symbol: string; readonly code: RejectCode; readonly reason: string })
  | (At & { readonly type: 'PositionStopUnknown'; readonly commandId: number; readonly symbol: string; readonly reason: string })
  | (At & { readonly type: 'OrderQueried'; readonly commandId: number; readonly clientOrderId: ClientOrderId; readonly report: OrderReport | null })
  | (At & { readonly type: 'OrderQueryFailed'; readonly commandId: number; readonly clientOrderId: ClientOrderId; readonly reason: string })
  | (At & { readonly type: 'TimerFired'; readonly timerId: number })
  | (At & { readonly type: 'EngineStarted' })
  | (At & { readonly type: 'StreamConnected'; readonly stream: StreamName })
  | (At & { readonly type: 'StreamDisconnected'; readonly stream: StreamName; readonly reason: string })
  | (At & { readonly type: 'SnapshotReceived'; readonly snapshotId: number } & Snapshot)
  | (At & { readonly type: 'SnapshotFailed'; readonly snapshotId: number; readonly reason: string })
  | (At & {
      readonly type: 'OpenRequested';
      readonly requestId: string;
      readonly symbol: string;
      readonly side: Side;
      readonly size: SizeRequest;
      readonly entry: EntryRequest;
      readonly stopLoss: PriceRequest;
      readonly takeProfit: PriceRequest | null;
      /** A ladder, breakeven, trailing and aged-position plan (src/core/protection/plan.ts). */
      readonly protection?: ProtectionRequest;
    })
  | (At & { readonly type: 'CloseRequested'; readonly requestId: string; readonly symbol: string })
  /** Set the stop-loss or take-profit of the symbol's position or entry where it has none yet (after a restart, say). */
  | (At & {
      readonly type: 'ProtectionRequested';
      readonly requestId: string;
      readonly symbol: string;
      readonly stopLoss: PriceRequest | null;
      readonly takeProfit: PriceRequest | null;
    });

export type EventType = Event['type'];
export type EventOf<T extends EventType> = Extract<Event, { readonly type: T }>;
