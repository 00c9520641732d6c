// Request parameters of the emulator's REST API, read from a GET query or a POST JSON body, and
// converted to the venue's integers on the instrument's grid with Bybit's refusals: an unknown
// symbol is 10001 "Not supported symbols", a quantity off the lot step or outside the limits and
// a price off the tick are 10001, a missing or mistyped parameter is 10001 naming it.
//
// Bybit's JSON bodies carry numbers as strings ("qty":"0.001"); a JSON number is accepted for a
// decimal too, but an object or an array never is (ccxt's editOrder sends `stopLoss` as an object
// by mistake: real Bybit refuses that, so the emulator does).
//
// Invariants: a reader returns a valid value or throws RequestError (replies.ts); absent and ""
// are the same for optional parameters, as on Bybit.

import type { Instrument } from '../core/instrument.ts';
import { priceToTicks, qtyToLots } from '../core/instrument.ts';
import type { TriggerBy } from '../core/types.ts';
import { badParam } from './replies.ts';

export type ParamSource = { readonly get: (name: string) => unknown };

export function queryParams(query: URLSearchParams): ParamSource {
  return { get: (name) => query.get(name) ?? undefined };
}

export function bodyParams(body: Readonly<Record<string, unknown>>): ParamSource {
  return { get: (name) => body[name] };
}

/** A string parameter, "" when absent. */
export function optionalText(params: ParamSource, name: string): string {
  const value = params.get(name);
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return badParam(`params error: ${name} must be a string`);
}

export function requiredText(params: ParamSource, name: string): string {
  const value = optionalText(params, name);
  return value === '' ? badParam(`Missing some parameters that must be filled in: ${name}`) : value;
}

export function optionalBool(params: ParamSource, name: string): boolean | null {
  const value = params.get(name);
  if (value === undefined || value === null || value === '') return null;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  return badParam(`params error: ${name} must be true or false`);
}

/** An integer parameter in [min, max], or `fallback` when absent. */
export function boundedInt(params: ParamSource, name: string, fallback: number, min: number, max: number): number {
  const text = optionalText(params, name);
  if (text === '') return fallback;
  const value = /^-?\d{1,16}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) return badParam(`params error: ${name} must be an integer in [${min}, ${max}], got ${text}`);
  return value;
}

export function optionalTimeMs(params: ParamSource, name: string): number | null {
  const text = optionalText(params, name);
  if (text === '') return null;
  return /^\d{1,16}$/.test(text) ? Number(text) : badParam(`params error: ${name} must be a time in ms, got ${text}`);
}

export function categoryOf(params: ParamSource): string {
  return requiredText(params, 'category');
}

export function linearOnly(params: ParamSource): void {
  const category = categoryOf(params);
  if (category !== 'linear') badParam(`params error: category ${category} is not supported (the emulator trades linear contracts only)`);
}

export function instrumentParam(params: ParamSource, instruments: ReadonlyMap<string, Instrument>): Instrument {
  const symbol = requiredText(params, 'symbol');
  return instruments.get(symbol) ?? badParam('Not supported symbols');
}

export function optionalInstrument(params: ParamSource, instruments: ReadonlyMap<string, Instrument>): Instrument | null {
  const symbol = optionalText(params, 'symbol');
  if (symbol === '') return null;
  return instruments.get(symbol) ?? badParam('Not supported symbols');
}

/** A quantity on the lot step, within Bybit's minimum and the order type's maximum. */
export function qtyLots(instrument: Instrument, text: string, name: string, maxLots: number): number {
  const parsed = qtyToLots(instrument, text);
  if (!parsed.ok) return badParam(`params error: ${name}: ${parsed.reason}`);
  const lots = parsed.value;
  if (lots < instrument.minLots) return badParam(`The number of contracts exceeds minimum limit allowed: too small, ${name}:${text} < min_qty`);
  if (lots > maxLots) return badParam(`The number of contracts exceeds maximum limit allowed: too large, ${name}:${text} > max_qty`);
  return lots;
}

/** A positive price on the tick. */
export function priceTicks(instrument: Instrument, text: string, name: string): number {
  const parsed = priceToTicks(instrument, text);
  if (!parsed.ok) return badParam(`params error: ${name}: ${parsed.reason}`);
  return parsed.value > 0 ? parsed.value : badParam(`params error: ${name} must be positive, got ${text}`);
}

/** A price parameter where "" leaves the level as it is and "0" clears it (trading-stop, amend). */
export function priceChange(instrument: Instrument, params: ParamSource, name: string): number | null | undefined {
  const text = optionalText(params, name);
  if (text === '') return undefined;
  if (/^0*(?:\.0*)?$/.test(text)) return null;
  return priceTicks(instrument, text, name);
}

/** Bybit's trigger price kinds; IndexPrice is read as the mark price (the simulation has no index). */
export function triggerByParam(params: ParamSource, name: string): TriggerBy | null {
  const word = optionalText(params, name);
  switch (word) {
    case '': return null;
    case 'LastPrice': return 'last';
    case 'MarkPrice': case 'IndexPrice': return 'mark';
    default: return badParam(`params error: ${name} must be LastPrice, MarkPrice or IndexPrice, got ${word}`);
  }
}
