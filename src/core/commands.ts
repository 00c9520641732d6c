// Commands: what `step` asks the outside world to do. Each has an id; its outcome comes back as
// an event carrying that id (or, for orders, the client order id the venue echoes).

import type { Fill, Funding } from './events.ts';
import type { ClientOrderId, VenueOrderId } from './ids.ts';
import type { Order } from './order/order.ts';
import type { Position } from './position/position.ts';
import type { Amendment, OrderSpec, Trigger } from './types.ts';

/** `debug`: routine and frequent (a trailing stop's every move), logged only when asked for (`log.debug`). */
export type NoticeLevel = 'debug' | 'info' | 'warn' | 'alarm';

/** A line for the operator: what the engine did or saw, in a trader's words. */
export type Notice = {
  readonly level: NoticeLevel;
  readonly code: string;
  readonly symbol: string | null;
  readonly text: string;
  /** Numbers behind the text, for summaries (e.g. a closed position's realized PnL in E8). */
  readonly data?: Readonly<Record<string, number>>;
};

/**
 * What the ledger (orders, fills, positions and their PnL) is projected from: every change to an
 * order or a position record, and every fill booked with what it realized. Emitted by `step` like
 * any command, so a replay of the journal rebuilds the projections exactly.
 */
export type LedgerRecord =
  | { readonly kind: 'order'; readonly order: Order }
  | { readonly kind: 'position'; readonly position: Position }
  /** A funding payment, with the round trip it was paid in. */
  | { readonly kind: 'funding'; readonly funding: Funding; readonly roundTrip: string }
  | {
      readonly kind: 'fill';
      readonly fill: Fill;
      /** The booked order's role (ours or not), for the ledger's reader. */
      readonly role: Order['role'] | null;
      /** What booking this fill changed the position's realized PnL by (E8). */
      readonly realizedPnlE8: number;
      /** The round trip (flat to flat) the fill belongs to: the execution id that opened it. */
      readonly roundTrip: string;
    };

export type { Amendment } from './types.ts';

/**
 * A position's own stop (Bybit position/trading-stop): a stop-loss price that covers the whole
 * position whatever its size, or a trailing stop the venue moves itself.
 */
export type PositionStopChange =
  | { readonly kind: 'stop-loss'; readonly stopLoss: Trigger }
  | { readonly kind: 'trailing'; readonly distanceTicks: number; readonly activationTicks: number | null };

export type Command =
  | { readonly type: 'SubmitOrder'; readonly commandId: number; readonly clientOrderId: ClientOrderId; readonly spec: OrderSpec }
  | { readonly type: 'CancelOrder'; readonly commandId: number; readonly clientOrderId: ClientOrderId; readonly symbol: string; readonly venueOrderId: VenueOrderId | null }
  | { readonly type: 'AmendOrder'; readonly commandId: number; readonly clientOrderId: ClientOrderId; readonly symbol: string; readonly amendment: Amendment }
  | { readonly type: 'SetPositionStop'; readonly commandId: number; readonly symbol: string; readonly change: PositionStopChange }
  | { readonly type: 'QueryOrder'; readonly commandId: number; readonly clientOrderId: ClientOrderId; readonly symbol: string }
  | { readonly type: 'FetchSnapshot'; readonly commandId: number; readonly snapshotId: number; readonly fillsSinceMs: number }
  | { readonly type: 'StartTimer'; readonly timerId: number; readonly fireAtMs: number }
  | { readonly type: 'Notify'; readonly atMs: number; readonly notice: Notice }
  | { readonly type: 'Record'; readonly record: LedgerRecord };

export type CommandType = Command['type'];
export type CommandOf<T extends CommandType> = Extract<Command, { readonly type: T }>;
