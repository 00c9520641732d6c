// The emulator's position endpoints (POST): trading-stop, the position's own stop-loss,
// take-profit and trailing stop (Full mode, market exits; positionIdx and tpslMode may be left out,
// as ccxt does), and set-leverage (one leverage for both sides in one-way mode; unchanged is 110043).
//
// The trailing stop is SimVenue's (src/venues/sim/trailing.ts): `trailingStop` is its distance as a
// price difference ("0" cancels it), `activePrice` the last price that activates it (absent or "0":
// at once); the stop-loss it moves shows in the position pushes and position/list. A trading-stop
// that changes nothing is 34040 "not modified", as on Bybit; a stop-loss or take-profit the price
// has already passed is 10001 with Bybit's text ("StopLoss:... set for Buy position should lower
// than base_price:...??LastPrice"), which a client reads as a crossed trigger.
//
// Invariants: an accepted call pushes one position message before its reply; a refused one
// changes nothing.

import type { Instrument } from '../core/instrument.ts';
import { ticksToPrice } from '../core/instrument.ts';
import type { Trigger } from '../core/types.ts';
import { triggerByText } from '../venues/bybit/writes.ts';
import type { ProtectionChange, TrailingSpec } from '../venues/sim/venue.ts';
import { leverageMaxCenti } from './account.ts';
import { fullTpslOnly, onewayIndex } from './checks.ts';
import type { Exchange } from './exchange.ts';
import type { ParamSource } from './params.ts';
import { instrumentParam, linearOnly, priceChange, requiredText, triggerByParam } from './params.ts';
import type { Outcome } from './replies.ts';
import { badParam, refuse, rejectionOutcome, retCodes, success } from './replies.ts';

/** position/trading-stop: the position's own stop-loss and take-profit (Full mode, market exits). */
export function tradingStop(ex: Exchange, params: ParamSource, nowMs: number): Outcome {
  linearOnly(params);
  const instrument = instrumentParam(params, ex.instruments);
  onewayIndex(params);
  fullTpslOnly(params);
  const change = protectionChangeOf(instrument, params);
  const current = ex.venue.position(instrument.symbol);
  const trailingNow = ex.venue.trailing(instrument.symbol);
  const unchanged = (change.stopLoss === undefined || (change.stopLoss?.triggerTicks ?? null) === current.stopLossTicks)
    && (change.takeProfit === undefined || (change.takeProfit?.triggerTicks ?? null) === current.takeProfitTicks)
    && (change.trailing === undefined || (change.trailing === null ? trailingNow === null
      : trailingNow?.distanceTicks === change.trailing.distanceTicks && trailingNow.activationTicks === change.trailing.activationTicks));
  if (unchanged && current.sizeLots !== 0) refuse(retCodes.notModified, 'not modified');
  checkNotCrossed(ex, instrument, current.sizeLots, change);
  const result = ex.act((venue) => venue.setPositionProtection(nowMs, instrument.symbol, change));
  return result.ok ? success({}) : rejectionOutcome(result.code, result.reason);
}

/**
 * Bybit refuses a position stop-loss or take-profit already on the wrong side of the price it
 * triggers on (a long's stop-loss at or above it, its take-profit at or below it; the reverse for
 * a short) with 10001 and these words (ccxt issue #19089 and bots' logs:
 * "StopLoss:324000000 set for Buy position should lower than base_price:161600000??LastPrice",
 * "sl:257970000 set for Sell position should greater base_price:259477000??LastPrice"). Bybit
 * writes the prices as scaled integers; the emulator writes them as decimals, as in its other
 * trigger texts. A flat position is left to the venue ("can not set tp/sl for zero position").
 */
function checkNotCrossed(ex: Exchange, instrument: Instrument, sizeLots: number, change: ProtectionChange): void {
  const prices = ex.venue.price(instrument.symbol);
  if (sizeLots === 0 || prices === null) return;
  const side = sizeLots > 0 ? 'Buy' : 'Sell';
  for (const [trigger, name] of [[change.stopLoss, 'StopLoss'], [change.takeProfit, 'TakeProfit']] as const) {
    if (trigger === undefined || trigger === null) continue;
    const baseTicks = trigger.triggerBy === 'mark' ? prices.markTicks : prices.lastTicks;
    const wantsBelow = (side === 'Buy') === (name === 'StopLoss');
    if (wantsBelow ? trigger.triggerTicks < baseTicks : trigger.triggerTicks > baseTicks) continue;
    const should = wantsBelow ? 'should lower than' : name === 'StopLoss' ? 'should greater' : 'should higher than';
    const [price, base] = [ticksToPrice(instrument, trigger.triggerTicks), ticksToPrice(instrument, baseTicks)];
    badParam(`${name}:${price} set for ${side} position ${should} base_price:${base}??${triggerByText[trigger.triggerBy]}`);
  }
}

/** position/set-leverage: one leverage for both sides (one-way mode), 1x to 100x in 0.01 steps. */
export function setLeverage(ex: Exchange, params: ParamSource, _nowMs: number): Outcome {
  linearOnly(params);
  const instrument = instrumentParam(params, ex.instruments);
  const buy = requiredText(params, 'buyLeverage');
  const sell = requiredText(params, 'sellLeverage');
  const centi = leverageCentiOf(buy);
  if (leverageCentiOf(sell) !== centi) badParam('params error: buyLeverage must equal sellLeverage in one-way mode');
  if (centi === ex.account.leverageCenti(instrument.symbol)) refuse(retCodes.leverageNotModified, 'leverage not modified');
  ex.account.setLeverageCenti(instrument.symbol, centi);
  ex.pushPosition(instrument.symbol);
  return success({});
}

function leverageCentiOf(text: string): number {
  const match = /^(\d{1,3})(?:\.(\d{1,2}))?$/.exec(text);
  const centi = match === null ? Number.NaN : Number(match[1]) * 100 + Number((match[2] ?? '').padEnd(2, '0'));
  if (!Number.isSafeInteger(centi) || centi < 100 || centi > leverageMaxCenti) badParam(`params error: leverage ${text} must be in [1, 100] in steps of 0.01`);
  return centi;
}

function protectionChangeOf(instrument: Instrument, params: ParamSource): ProtectionChange {
  const change = (name: string, byName: string): Trigger | null | undefined => {
    const ticks = priceChange(instrument, params, name);
    return ticks === undefined || ticks === null ? ticks : { triggerTicks: ticks, triggerBy: triggerByParam(params, byName) ?? 'last' };
  };
  const stopLoss = change('stopLoss', 'slTriggerBy');
  const takeProfit = change('takeProfit', 'tpTriggerBy');
  const trailing = trailingChangeOf(instrument, params);
  return { ...(stopLoss === undefined ? {} : { stopLoss }), ...(takeProfit === undefined ? {} : { takeProfit }), ...(trailing === undefined ? {} : { trailing }) };
}

/** `trailingStop` (a distance: "" keeps, "0" cancels) and its `activePrice` ("" or "0": at once). */
function trailingChangeOf(instrument: Instrument, params: ParamSource): TrailingSpec | null | undefined {
  const distanceTicks = priceChange(instrument, params, 'trailingStop');
  const activationTicks = priceChange(instrument, params, 'activePrice');
  if (distanceTicks === undefined && activationTicks !== undefined) badParam('params error: activePrice needs trailingStop');
  if (distanceTicks === undefined || distanceTicks === null) return distanceTicks;
  return { distanceTicks, activationTicks: activationTicks ?? null };
}
