// The public shapes of the simulated venue: its configuration, the facts it emits in venue order,
// the results of its request methods, and its ground-truth view of a position.
//
// A `VenueFact` is what Bybit would push on its streams (orders, executions, positions, wallet, tickers);
// a `SubmitResult` / `CancelResult` / `AmendResult` is what its REST API would answer. A rejected
// request is only ever a result, never a fact.

import type { Amendment } from '../../core/commands.ts';
import type { Fill, OrderReport, PositionReport, RejectCode, WalletReport } from '../../core/events.ts';
import type { VenueOrderId } from '../../core/ids.ts';
import type { Instrument } from '../../core/instrument.ts';
import type { OrderSpec, Trigger, TriggerBy } from '../../core/types.ts';
import type { Rng } from '../../sim/rng.ts';

export type SimVenueConfig = {
  readonly instruments: readonly Instrument[];
  /** Fee rates in 10^-8: 0.02% = 20_000, 0.055% = 55_000. */
  readonly makerFeeRateE8: number;
  readonly takerFeeRateE8: number;
  /** Taker buys fill at last + spreadTicks, taker sells at last - spreadTicks (never below 1 tick). */
  readonly spreadTicks: number;
  /** Probability that a taker match is split into 2..fillPartsMax fills (same price, same seq). */
  readonly partialFillChance: number;
  readonly fillPartsMax: number;
  /** Probability that a resting limit order touched by the price fills only partly on that touch. */
  readonly limitPartialChance: number;
  readonly rng: Rng;
  /** The USDT the account starts with, in 10^-8 (default 10,000 USDT). */
  readonly startingBalanceE8?: number;
};

export type VenueFact =
  | { readonly kind: 'order'; readonly report: OrderReport }
  | { readonly kind: 'fill'; readonly fill: Fill }
  | { readonly kind: 'position'; readonly report: PositionReport }
  | { readonly kind: 'wallet'; readonly report: WalletReport }
  | { readonly kind: 'ticker'; readonly symbol: string; readonly lastTicks: number; readonly markTicks: number; readonly venueMs: number };

export type Rejection = { readonly ok: false; readonly code: RejectCode; readonly reason: string };

export type SubmitResult = { readonly ok: true; readonly venueOrderId: VenueOrderId } | Rejection;
export type CancelResult = { readonly ok: true } | Rejection;
export type AmendResult = { readonly ok: true } | Rejection;
export type ProtectionResult = { readonly ok: true } | Rejection;

export type OrderRef = { readonly clientOrderId: string } | { readonly venueOrderId: VenueOrderId };

export type Submission = {
  readonly atMs: number;
  readonly clientOrderId: string | null;
  readonly spec: OrderSpec;
  readonly result: SubmitResult;
};

/**
 * A change to a working order (Bybit `order/amend`): an absent field keeps what the order has.
 * `sizeLots` is the new total size (Bybit's qty), `triggerTicks` / `triggerBy` apply to a
 * stop-market only, `priceTicks` to a limit only; an attached stop-loss / take-profit set to null
 * is cleared.
 */
export type OrderAmendment = Amendment & {
  readonly triggerBy?: TriggerBy;
  readonly stopLoss?: Trigger | null;
  readonly takeProfit?: Trigger | null;
};

/** One amend request and what came of it; `before` / `after` are null where the venue has no such order. */
export type AmendRecord = {
  readonly atMs: number;
  readonly clientOrderId: string | null;
  readonly venueOrderId: VenueOrderId | null;
  /** The order as it stood (its size the current total). */
  readonly before: OrderSpec | null;
  /** The order as the amend asked for it (applied only if the result is ok). */
  readonly after: OrderSpec | null;
  readonly result: AmendResult;
};

/** A venue-side trailing stop as set (Bybit `trailingStop` distance and `activePrice`; null: active at once). */
export type TrailingSpec = { readonly distanceTicks: number; readonly activationTicks: number | null };

/** A trailing stop as the venue holds it: `bestTicks` is the best last price since activation, null before. */
export type SimTrailing = TrailingSpec & { readonly bestTicks: number | null };

/**
 * A change to the position-level protection (Bybit `position/trading-stop`): a trigger (or a
 * trailing) sets it, null clears it, an absent field leaves it as it is.
 */
export type ProtectionChange = {
  readonly stopLoss?: Trigger | null;
  readonly takeProfit?: Trigger | null;
  readonly trailing?: TrailingSpec | null;
};

export type SimPosition = {
  readonly symbol: string;
  readonly sizeLots: number;
  readonly costTicksLots: number;
  readonly realizedPnlE8: number;
  readonly feesE8: number;
  readonly stopLossTicks: number | null;
  readonly takeProfitTicks: number | null;
  readonly seq: number;
  readonly updatedMs: number;
  /** When the size last left zero (or flipped sides); null while flat. */
  readonly openedMs: number | null;
};

export type Prices = { readonly lastTicks: number; readonly markTicks: number };
