// Field readers for Bybit v5 payloads (already JSON.parsed): each reads one field of one item,
// validates it by hand and converts it exactly (prices to ticks, quantities to lots, money to E8)
// through the core's parsers.
//
// Invariants:
//  - a reader returns a valid value or throws a DecodeError whose text says what and where
//    (`execution.data[0].execPrice: BTCUSDT price 95900.15 is not on the 0.10 tick`); the public
//    decoders catch it and return a result, so nothing escapes to the caller;
//  - numbers are accepted as JSON numbers or decimal strings (the live API sends some fields as
//    numbers, ccxt's static fixtures stringify everything), and parsed exactly either way;
//  - the place text is built only on failure: the happy path allocates no strings.
//
// Why throw inside: a decoder reads a dozen fields per item, and checking a result after each
// would triple the code on the hot path; a failure is rare and ends the whole message anyway.

import { parseScaled } from '../../core/decimal.ts';
import type { Instrument } from '../../core/instrument.ts';
import { priceToTicks, qtyToLots } from '../../core/instrument.ts';
import { moneyScale } from '../../core/money.ts';

export type JsonRecord = { readonly [key: string]: unknown };

/** Where an item sits in a payload: base `execution.data`, index 0 (or -1 for no index). */
export type Place = { readonly base: string; readonly index: number };

export class DecodeError extends Error {
  override readonly name = 'DecodeError';
}

export const root: Place = { base: '', index: -1 };

export function pathOf(at: Place, key?: string): string {
  const item = at.index < 0 ? at.base : `${at.base}[${at.index}]`;
  if (key === undefined) return item;
  return item === '' ? key : `${item}.${key}`;
}

export function fail(at: Place, key: string | undefined, reason: string): never {
  throw new DecodeError(`${pathOf(at, key)}: ${reason}`);
}

export function isRecord(value: unknown): value is JsonRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isList(value: unknown): value is readonly unknown[] {
  return Array.isArray(value);
}

/** A short description of a bad value for an error text (never the whole payload). */
export function describe(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'got null';
  if (Array.isArray(value)) return 'got an array';
  switch (typeof value) {
    case 'string': return `got ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)}`;
    case 'number': case 'boolean': return `got ${String(value)}`;
    default: return `got ${typeof value}`;
  }
}

export function recordField(record: JsonRecord, key: string, at: Place): JsonRecord {
  const value = record[key];
  return isRecord(value) ? value : fail(at, key, `expected an object, ${describe(value)}`);
}

export function listField(record: JsonRecord, key: string, at: Place): readonly unknown[] {
  const value = record[key];
  return isList(value) ? value : fail(at, key, `expected an array, ${describe(value)}`);
}

export function itemAt(list: readonly unknown[], at: Place): JsonRecord {
  const value = list[at.index];
  return isRecord(value) ? value : fail(at, undefined, `expected an object, ${describe(value)}`);
}

export function text(record: JsonRecord, key: string, at: Place): string {
  const value = record[key];
  return typeof value === 'string' ? value : fail(at, key, `expected a string, ${describe(value)}`);
}

export function nonEmptyText(record: JsonRecord, key: string, at: Place): string {
  const value = text(record, key, at);
  return value.length > 0 ? value : fail(at, key, 'must not be empty');
}

/** A string field Bybit may leave out or send empty: both read as "". */
export function optionalText(record: JsonRecord, key: string, at: Place): string {
  const value = record[key];
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : fail(at, key, `expected a string, ${describe(value)}`);
}

/** An id Bybit sends as "" for none (orderLinkId): "" and absent read as null. */
export function optionalId(record: JsonRecord, key: string, at: Place): string | null {
  const value = optionalText(record, key, at);
  return value === '' ? null : value;
}

/** An integer sent as a JSON number or a string of digits (times in ms, seq, retCode, positionIdx). */
export function integer(record: JsonRecord, key: string, at: Place): number {
  const value = record[key];
  const parsed = integerOf(value);
  return parsed ?? fail(at, key, `expected an integer, ${describe(value)}`);
}

export function integerOf(value: unknown): number | null {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : null;
  if (typeof value !== 'string' || value.length === 0 || value.length > 17) return null;
  let index = value.charCodeAt(0) === 45 ? 1 : 0; // a leading '-': position seq is -1 before any trade
  if (index === value.length) return null;
  for (; index < value.length; index++) {
    const code = value.charCodeAt(index);
    if (code < 48 || code > 57) return null;
  }
  const parsed = Number(value);
  if (parsed === 0) return 0; // "-0" is 0, never -0
  return Number.isSafeInteger(parsed) ? parsed : null;
}

export function flag(record: JsonRecord, key: string, at: Place): boolean {
  const value = record[key];
  if (typeof value === 'boolean') return value;
  if (value === 'true') return true;
  if (value === 'false') return false;
  return fail(at, key, `expected a boolean, ${describe(value)}`);
}

function numeric(record: JsonRecord, key: string, at: Place): string | number {
  const value = record[key];
  if (typeof value === 'string' || typeof value === 'number') return value;
  return fail(at, key, `expected a decimal string or number, ${describe(value)}`);
}

/**
 * A price or size off the grid of the instrument as Vigil loaded it at start. Bybit changes an
 * instrument's tick or lot size now and then (it announces it); Vigil's state counts in the old
 * units, so only a restart, which loads the instruments again, reads it: the message says so.
 */
function offGrid(instrument: Instrument, reason: string): string {
  const grid = reason.endsWith(`the ${instrument.tickSize} tick`) || reason.endsWith(`the ${instrument.lotSize} lot`);
  return grid ? `${reason} (as loaded at start: if Bybit has changed ${instrument.symbol}'s tick or lot size since, restart Vigil to load it again)` : reason;
}

/** A price that must be on the tick grid and positive (an execution price). */
export function ticks(instrument: Instrument, record: JsonRecord, key: string, at: Place): number {
  const parsed = priceToTicks(instrument, numeric(record, key, at));
  if (!parsed.ok) return fail(at, key, offGrid(instrument, parsed.reason));
  return parsed.value > 0 ? parsed.value : fail(at, key, `${instrument.symbol} price must be positive, ${describe(record[key])}`);
}

/** A price Bybit sends as "", "0" or "0.00" for none (trigger, stop-loss, limit price): null then. */
export function optionalTicks(instrument: Instrument, record: JsonRecord, key: string, at: Place): number | null {
  const value = record[key];
  if (value === undefined || value === null || value === '') return null;
  const parsed = priceToTicks(instrument, numeric(record, key, at));
  if (!parsed.ok) return fail(at, key, offGrid(instrument, parsed.reason));
  if (parsed.value < 0) return fail(at, key, `${instrument.symbol} price must not be negative, ${describe(value)}`);
  return parsed.value === 0 ? null : parsed.value;
}

/**
 * A price that need not be on the tick grid, rounded to the nearest tick (ties up). Bybit sends
 * mark prices with the instrument's priceScale, which can be finer than its tick: BTCUSDT has
 * tick 0.10 and priceScale 2, and the execution fixture carries markPrice "95901.48". "", "0" and
 * a price that rounds to no tick at all read as null (unknown), as optionalTicks reads them: no
 * instrument trades at 0, and a 0 taken for a price would cross every stop.
 */
export function nearestTicks(instrument: Instrument, record: JsonRecord, key: string, at: Place): number | null {
  const value = record[key];
  if (value === undefined || value === null || value === '') return null;
  const source = typeof value === 'number' ? String(value) : typeof value === 'string' ? value
    : fail(at, key, `expected a decimal string or number, ${describe(value)}`);
  const dot = source.indexOf('.');
  const extraScale = dot < 0 ? 0 : Math.max(0, source.length - dot - 1 - instrument.priceScale);
  const scale = instrument.priceScale + extraScale;
  if (scale > 15) return fail(at, key, `${instrument.symbol} price ${source} has too many decimal places`);
  const parsed = parseScaled(source, scale);
  if (!parsed.ok) return fail(at, key, `${instrument.symbol} price: ${parsed.reason}`);
  if (parsed.units < 0) return fail(at, key, `${instrument.symbol} price must not be negative, ${describe(value)}`);
  const divisor = instrument.tickUnits * 10 ** extraScale;
  let whole = Math.floor(parsed.units / divisor);
  let remainder = parsed.units - whole * divisor;
  // The float quotient can land one off near an integer: settle it with the exact remainder.
  if (remainder < 0) { whole -= 1; remainder += divisor; } else if (remainder >= divisor) { whole += 1; remainder -= divisor; }
  const nearest = 2 * remainder >= divisor ? whole + 1 : whole;
  return nearest === 0 ? null : nearest;
}

/** A quantity that must be a whole, non-negative number of lots. */
export function lots(instrument: Instrument, record: JsonRecord, key: string, at: Place): number {
  const parsed = qtyToLots(instrument, numeric(record, key, at));
  if (!parsed.ok) return fail(at, key, offGrid(instrument, parsed.reason));
  if (parsed.value === 0) return 0; // "-0" is 0, never -0
  return parsed.value > 0 ? parsed.value : fail(at, key, `${instrument.symbol} quantity must not be negative, ${describe(record[key])}`);
}

/** An amount of USDT as integer 1e-8 units, exact (a fee: negative is a rebate). */
export function amountE8(record: JsonRecord, key: string, at: Place): number {
  const parsed = parseScaled(numeric(record, key, at), moneyScale);
  if (!parsed.ok) return fail(at, key, `USDT amount: ${parsed.reason}`);
  return parsed.units === 0 ? 0 : parsed.units; // "-0" is 0, never -0
}

/**
 * A non-negative plain decimal kept as text ("64.59947917"), checked by hand: digits with at
 * most one inner dot. A JSON number is written back as text; "" reads as `empty`.
 */
export function decimalText(record: JsonRecord, key: string, at: Place, empty?: string): string {
  const value = record[key];
  const source = typeof value === 'number' && Number.isFinite(value) ? String(value) : value;
  if (source === '' && empty !== undefined) return empty;
  if (typeof source === 'string' && isPlainDecimal(source)) return source;
  return fail(at, key, `expected a plain decimal number, ${describe(value)}`);
}

export function isPlainDecimal(source: string): boolean {
  let digits = 0;
  let dot = -1;
  for (let index = 0; index < source.length; index++) {
    const code = source.charCodeAt(index);
    if (code >= 48 && code <= 57) digits++;
    else if (code === 46 && dot < 0 && index > 0) dot = index;
    else return false;
  }
  return digits > 0 && dot !== source.length - 1;
}

export function instrumentFor(instruments: ReadonlyMap<string, Instrument>, record: JsonRecord, at: Place): Instrument {
  const symbol = text(record, 'symbol', at);
  return instruments.get(symbol) ?? fail(at, 'symbol', `unknown instrument ${symbol}`);
}
