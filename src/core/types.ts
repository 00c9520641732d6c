// The trading vocabulary shared by the engine, the venues and the strategies.

export type Side = 'buy' | 'sell';
export type TriggerBy = 'mark' | 'last';
export type Liquidity = 'maker' | 'taker';

/** Where a venue fact came from: a private or public stream push, or a REST reply or query. */
export type Source = 'stream' | 'rest';

export type Trigger = { readonly triggerTicks: number; readonly triggerBy: TriggerBy };

export type OrderType =
  | { readonly kind: 'market' }
  | { readonly kind: 'limit'; readonly priceTicks: number; readonly postOnly: boolean }
  | { readonly kind: 'stop-market'; readonly triggerTicks: number; readonly triggerBy: TriggerBy };

export type OrderKind = OrderType['kind'];

/**
 * What we ask the venue for. `stopLoss` and `takeProfit` are attached protection: the venue
 * arms them on the position at the instant of the fill (Bybit's TP/SL on order create).
 */
export type OrderSpec = {
  readonly symbol: string;
  readonly side: Side;
  readonly sizeLots: number;
  readonly reduceOnly: boolean;
  readonly type: OrderType;
  readonly stopLoss?: Trigger;
  readonly takeProfit?: Trigger;
};

/** A change to a working order of ours (Bybit order/amend): only the fields given change. */
export type Amendment = { readonly triggerTicks?: number; readonly sizeLots?: number; readonly priceTicks?: number };

/** The normalized order statuses of every venue (Bybit Triggered is `new`, Deactivated `cancelled`). */
export type VenueOrderStatus =
  | 'new'
  | 'untriggered'
  | 'partially-filled'
  | 'filled'
  | 'cancelled'
  | 'rejected'
  | 'expired';

export function oppositeSide(side: Side): Side {
  return side === 'buy' ? 'sell' : 'buy';
}

/** +1 for a buy, -1 for a sell: the sign a fill gives to a one-way position. */
export function sideSign(side: Side): 1 | -1 {
  return side === 'buy' ? 1 : -1;
}
