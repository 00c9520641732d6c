// The emulator's position endpoints (POST): trading-stop, the position's own stop-loss and
// take-profit (Full mode, market exits; positionIdx and tpslMode may be left out, as ccxt does),
// and set-leverage (one leverage for both sides in one-way mode; unchanged is 110043).
//
// Trailing stops are refused (10001, naming the emulator): SimVenue has none. A trading-stop that
// changes nothing is 34040 "not modified", as on Bybit.
//
// Invariants: an accepted call pushes one position message before its reply; a refused one
// changes nothing.

import type { Instrument } from '../core/instrument.ts';
import type { Trigger } from '../core/types.ts';
import type { ProtectionChange } from '../venues/sim/venue.ts';
import { leverageMaxCenti } from './account.ts';
import { fullTpslOnly, onewayIndex } from './checks.ts';
import type { Exchange } from './exchange.ts';
import type { ParamSource } from './params.ts';
import { instrumentParam, linearOnly, optionalText, priceChange, requiredText, triggerByParam } from './params.ts';
import type { Outcome } from './replies.ts';
import { badParam, refuse, rejectionOutcome, retCodes, success } from './replies.ts';

/** position/trading-stop: the position's own stop-loss and take-profit (Full mode, market exits). */
export function tradingStop(ex: Exchange, params: ParamSource, nowMs: number): Outcome {
  linearOnly(params);
  const instrument = instrumentParam(params, ex.instruments);
  onewayIndex(params);
  fullTpslOnly(params);
  const trailing = optionalText(params, 'trailingStop');
  if (trailing !== '' && !/^0*(?:\.0*)?$/.test(trailing)) badParam('params error: trailingStop is not supported by the emulator');
  const change = protectionChangeOf(instrument, params);
  const current = ex.venue.position(instrument.symbol);
  const unchanged = (change.stopLoss === undefined || (change.stopLoss?.triggerTicks ?? null) === current.stopLossTicks)
    && (change.takeProfit === undefined || (change.takeProfit?.triggerTicks ?? null) === current.takeProfitTicks);
  if (unchanged && current.sizeLots !== 0) refuse(retCodes.notModified, 'not modified');
  const result = ex.act((venue) => venue.setPositionProtection(nowMs, instrument.symbol, change));
  return result.ok ? success({}) : rejectionOutcome(result.code, result.reason);
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
  return { ...(stopLoss === undefined ? {} : { stopLoss }), ...(takeProfit === undefined ? {} : { takeProfit }) };
}
