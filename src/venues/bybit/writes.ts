// The bodies of Bybit v5's writes as Vigil sends them (order/create, order/amend and
// position/trading-stop, category linear, one-way mode), written from ticks and lots with the
// instrument's decimals, and the one refusal of a write that means it is done already: "not
// modified" (the venue already holds what was asked).
//
// Fields, as Bybit documents them and ../shared/notes/ccxt-bybit.md captured them: an amend names
// the order by orderLinkId and carries only what changes (qty is the new total); trading-stop is
// Full mode (the whole position) with positionIdx 0, where "0" clears a stop-loss, take-profit or
// trailing stop and an absent field leaves it as it is; `trailingStop` is the trailing distance as a
// price difference and `activePrice` the price that activates it (absent: active at once).
//
// Invariants: every price is on the instrument's tick grid and every quantity on its lot grid
// (ticksToPrice, lotsToQty); a body never carries the API key or secret (ccxt signs it).

import type { PositionStopChange } from '../../core/commands.ts';
import type { Instrument } from '../../core/instrument.ts';
import { lotsToQty, ticksToPrice } from '../../core/instrument.ts';
import type { OrderSpec, Trigger, TriggerBy } from '../../core/types.ts';

export type Json = Record<string, unknown>;

export const triggerByText: Readonly<Record<TriggerBy, string>> = { mark: 'MarkPrice', last: 'LastPrice' };

/** A change to a working order of ours: any of its size, limit price, trigger, or attached stop and take-profit. */
export type OrderAmendment = {
  readonly sizeLots?: number;
  readonly priceTicks?: number;
  readonly triggerTicks?: number;
  readonly stopLoss?: Trigger;
  readonly takeProfit?: Trigger;
};

/** A venue-side trailing stop: the distance it keeps behind the best last price, and the price that activates it. */
export type TrailingStop = { readonly distanceTicks: number; readonly activationTicks: number | null };

/**
 * A position's own stop-loss, take-profit and trailing stop (Bybit's trading-stop: they cover the
 * whole position, whatever its size); null clears one, absent leaves it as it is.
 */
export type PositionProtection = { readonly stopLoss?: Trigger | null; readonly takeProfit?: Trigger | null; readonly trailing?: TrailingStop | null };

export function orderBody(spec: OrderSpec, clientOrderId: string, instrument: Instrument): Json {
  const body: Json = {
    category: 'linear', symbol: spec.symbol, side: spec.side === 'buy' ? 'Buy' : 'Sell', orderType: spec.type.kind === 'limit' ? 'Limit' : 'Market',
    qty: lotsToQty(instrument, spec.sizeLots), orderLinkId: clientOrderId, positionIdx: 0,
  };
  if (spec.reduceOnly) body.reduceOnly = true;
  if (spec.type.kind === 'limit') {
    body.price = ticksToPrice(instrument, spec.type.priceTicks);
    body.timeInForce = spec.type.postOnly ? 'PostOnly' : 'GTC';
  }
  if (spec.type.kind === 'stop-market') {
    body.triggerPrice = ticksToPrice(instrument, spec.type.triggerTicks);
    body.triggerBy = triggerByText[spec.type.triggerBy];
    body.triggerDirection = spec.side === 'sell' ? 2 : 1; // a sell stop waits for the price to fall to it
  }
  if (spec.stopLoss !== undefined || spec.takeProfit !== undefined) body.tpslMode = 'Full';
  if (spec.stopLoss !== undefined) Object.assign(body, stopLossFields(instrument, spec.stopLoss));
  if (spec.takeProfit !== undefined) Object.assign(body, takeProfitFields(instrument, spec.takeProfit));
  return body;
}

/** order/amend by orderLinkId: only the fields that change. */
export function amendBody(instrument: Instrument, clientOrderId: string, amendment: OrderAmendment): Json {
  const body: Json = { category: 'linear', symbol: instrument.symbol, orderLinkId: clientOrderId };
  if (amendment.sizeLots !== undefined) body.qty = lotsToQty(instrument, amendment.sizeLots);
  if (amendment.priceTicks !== undefined) body.price = ticksToPrice(instrument, amendment.priceTicks);
  if (amendment.triggerTicks !== undefined) body.triggerPrice = ticksToPrice(instrument, amendment.triggerTicks);
  if (amendment.stopLoss !== undefined) Object.assign(body, stopLossFields(instrument, amendment.stopLoss));
  if (amendment.takeProfit !== undefined) Object.assign(body, takeProfitFields(instrument, amendment.takeProfit));
  return body;
}

/** position/trading-stop in Full mode: "0" clears a level, an absent field leaves it as it is. */
export function tradingStopBody(instrument: Instrument, protection: PositionProtection): Json {
  const body: Json = { category: 'linear', symbol: instrument.symbol, tpslMode: 'Full', positionIdx: 0 };
  const { stopLoss, takeProfit, trailing } = protection;
  if (stopLoss !== undefined) Object.assign(body, stopLoss === null ? { stopLoss: '0' } : stopLossFields(instrument, stopLoss));
  if (takeProfit !== undefined) Object.assign(body, takeProfit === null ? { takeProfit: '0' } : takeProfitFields(instrument, takeProfit));
  if (trailing === null) body.trailingStop = '0';
  if (trailing !== undefined && trailing !== null) {
    body.trailingStop = ticksToPrice(instrument, trailing.distanceTicks);
    if (trailing.activationTicks !== null) body.activePrice = ticksToPrice(instrument, trailing.activationTicks);
  }
  return body;
}

/** The engine's SetPositionStop as a trading-stop change. */
export function protectionOf(change: PositionStopChange): PositionProtection {
  switch (change.kind) {
    case 'stop-loss':
      return { stopLoss: change.stopLoss };
    case 'trailing':
      return { trailing: { distanceTicks: change.distanceTicks, activationTicks: change.activationTicks } };
  }
}

export type Write = 'amend' | 'trading-stop';

/**
 * Bybit refuses a write that would change nothing: trading-stop with 34040 "not modified", amend
 * with 10001 "The order remains unchanged as the parameters entered match the existing ones". The
 * venue then already holds what was asked, so the write's purpose is met.
 */
export function isNotModified(write: Write, retCode: number | null, reason: string): boolean {
  switch (write) {
    case 'trading-stop':
      return retCode === 34040 || (retCode === 10001 && /not modified/i.test(reason));
    case 'amend':
      return retCode === 10001 && /remains unchanged|not modified|match the existing/i.test(reason);
  }
}

function stopLossFields(instrument: Instrument, stopLoss: Trigger): Json {
  return { stopLoss: ticksToPrice(instrument, stopLoss.triggerTicks), slTriggerBy: triggerByText[stopLoss.triggerBy] };
}

function takeProfitFields(instrument: Instrument, takeProfit: Trigger): Json {
  return { takeProfit: ticksToPrice(instrument, takeProfit.triggerTicks), tpTriggerBy: triggerByText[takeProfit.triggerBy] };
}
