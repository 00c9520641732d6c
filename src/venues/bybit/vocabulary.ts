// Bybit v5 words and Vigil's, in both directions: order statuses, sides, order kinds, the stop
// order types that mark an order the venue created from a position's TP/SL, and which execution
// types are fills.
//
// Invariants: decoding a Bybit word either gives a Vigil value or null (unknown word: the caller
// reports it with its place); encoding is total over Vigil's unions (exhaustive switches), and
// decode(encode(x)) === x for every value a decode can produce.

import { assertNever } from '../../core/assert.ts';
import type { OrderReport } from '../../core/events.ts';
import type { OrderKind, Side, VenueOrderStatus } from '../../core/types.ts';

export type PositionTrigger = OrderReport['positionTrigger'];

export function orderStatusOf(word: string): VenueOrderStatus | null {
  switch (word) {
    case 'New': return 'new';
    // Taken by Bybit, not yet in its matching engine: open. Earlier versions of Bybit's enum page
    // list it and client libraries still decode it; an unknown status fails the whole message, so
    // a word Bybit may still send is known here.
    case 'Created': return 'new';
    case 'PartiallyFilled': return 'partially-filled';
    case 'Untriggered': return 'untriggered';
    case 'Triggered': return 'new'; // a conditional order whose trigger fired is now a working order
    case 'Rejected': return 'rejected';
    case 'PartiallyFilledCanceled': return 'cancelled'; // filledLots keeps what was filled
    case 'Filled': return 'filled'; // can arrive twice when a cancel races the fill
    case 'Cancelled': return 'cancelled';
    case 'Deactivated': return 'cancelled'; // a conditional order cancelled before its trigger
    default: return null;
  }
}

/** Bybit has no expiry status: an expired order (not a Bybit outcome) is sent as Cancelled. */
export function bybitOrderStatus(status: VenueOrderStatus): string {
  switch (status) {
    case 'new': return 'New';
    case 'partially-filled': return 'PartiallyFilled';
    case 'untriggered': return 'Untriggered';
    case 'rejected': return 'Rejected';
    case 'filled': return 'Filled';
    case 'cancelled': return 'Cancelled';
    case 'expired': return 'Cancelled';
    default: return assertNever(status);
  }
}

export function isOpenStatus(status: VenueOrderStatus): boolean {
  switch (status) {
    case 'new': case 'partially-filled': case 'untriggered': return true;
    case 'rejected': case 'filled': case 'cancelled': case 'expired': return false;
    default: return assertNever(status);
  }
}

export function sideOf(word: string): Side | null {
  return word === 'Buy' ? 'buy' : word === 'Sell' ? 'sell' : null;
}

export function bybitSide(side: Side): 'Buy' | 'Sell' {
  switch (side) {
    case 'buy': return 'Buy';
    case 'sell': return 'Sell';
    default: return assertNever(side);
  }
}

/**
 * Bybit `orderType` plus whether the order has a trigger price. A Market order with a trigger is
 * a stop-market; a Limit order with a trigger (a conditional limit) is still a limit to Vigil.
 */
export function orderKindOf(orderType: string, hasTrigger: boolean): OrderKind | null {
  if (orderType === 'Market') return hasTrigger ? 'stop-market' : 'market';
  return orderType === 'Limit' ? 'limit' : null;
}

export function bybitOrderType(kind: OrderKind): 'Market' | 'Limit' {
  switch (kind) {
    case 'market': case 'stop-market': return 'Market';
    case 'limit': return 'Limit';
    default: return assertNever(kind);
  }
}

/** Bybit `stopOrderType`: set when the venue made the order from a position's TP/SL or trailing stop. */
export function positionTriggerOf(stopOrderType: string): PositionTrigger {
  switch (stopOrderType) {
    case 'StopLoss': case 'PartialStopLoss': return 'stop-loss';
    case 'TakeProfit': case 'PartialTakeProfit': return 'take-profit';
    case 'TrailingStop': return 'trailing-stop';
    default: return null; // "", UNKNOWN, Stop (a plain conditional order), tpslOrder, OcoOrder, ...
  }
}

export function bybitStopOrderType(trigger: PositionTrigger, hasTrigger: boolean): string {
  switch (trigger) {
    case 'stop-loss': return 'StopLoss';
    case 'take-profit': return 'TakeProfit';
    case 'trailing-stop': return 'TrailingStop';
    case null: return hasTrigger ? 'Stop' : '';
    default: return assertNever(trigger);
  }
}

/**
 * Trade, AdlTrade (auto-deleveraging) and BustTrade (liquidation) change the position and are
 * fills. Funding, Settle, Delivery, BlockTrade, MovePosition, ... are not booked as fills: the
 * position stream still reports their effect on size.
 */
export function isFillExecType(execType: string): boolean {
  return execType === 'Trade' || execType === 'AdlTrade' || execType === 'BustTrade';
}
