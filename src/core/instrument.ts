// Instruments: the tradable contracts with their tick, lot and limits, and the exact conversion
// between venue decimals and the integer ticks and lots the core computes with.
//
// Invariants: a price inside the core is a safe integer number of ticks, a quantity a safe
// integer number of lots; converting from a float names its rounding direction; one tick times
// one lot is a whole number of 10^-8 quote units (`tickLotE8` >= 1), so every notional is exact.

import { assert, assertSafeInteger } from './assert.ts';
import { decimalPlaces, formatScaled, parseScaled, powersOfTen } from './decimal.ts';
import { moneyScale } from './money.ts';
import { utcMinute } from './utc.ts';

export type Instrument = {
  readonly symbol: string;
  readonly tickSize: string;
  readonly lotSize: string;
  readonly priceScale: number;
  readonly tickUnits: number;
  readonly qtyScale: number;
  readonly lotUnits: number;
  readonly minLots: number;
  readonly maxLots: number;
  readonly maxMarketLots: number;
  readonly minNotionalE8: number;
  readonly tickLotE8: number;
  /**
   * When the venue stops trading it: a delisting it has announced (Bybit's `deliveryTime` of a
   * perpetual), or the time it was found no longer listed as trading. Absent: no end known.
   */
  readonly delistMs?: number;
};

export type InstrumentSpec = {
  readonly symbol: string;
  readonly tickSize: string;
  readonly lotSize: string;
  readonly minQty: string;
  readonly maxQty: string;
  readonly maxMarketQty?: string;
  readonly minNotional: string;
  readonly delistMs?: number;
};

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

const symbolPattern = /^[A-Z0-9]{2,30}$/;

export function defineInstrument(spec: InstrumentSpec): Parsed<Instrument> {
  const where = `instrument ${spec.symbol}`;
  if (!symbolPattern.test(spec.symbol)) return { ok: false, reason: `${where}: symbol must be like BTCUSDT` };
  const priceScale = decimalPlaces(spec.tickSize);
  const qtyScale = decimalPlaces(spec.lotSize);
  if (priceScale + qtyScale > moneyScale) {
    return { ok: false, reason: `${where}: tick ${spec.tickSize} x lot ${spec.lotSize} is finer than 1e-8 USDT` };
  }
  const tick = parseScaled(spec.tickSize, priceScale);
  const lot = parseScaled(spec.lotSize, qtyScale);
  if (!tick.ok || tick.units <= 0) return { ok: false, reason: `${where}: bad tickSize ${spec.tickSize}` };
  if (!lot.ok || lot.units <= 0) return { ok: false, reason: `${where}: bad lotSize ${spec.lotSize}` };
  const lots = (text: string, field: string): Parsed<number> => {
    const parsed = parseScaled(text, qtyScale);
    if (!parsed.ok) return { ok: false, reason: `${where}: ${field}: ${parsed.reason}` };
    if (parsed.units % lot.units !== 0) return { ok: false, reason: `${where}: ${field} ${text} is not a multiple of the lot` };
    return { ok: true, value: parsed.units / lot.units };
  };
  const minLots = lots(spec.minQty, 'minQty');
  const maxLots = lots(spec.maxQty, 'maxQty');
  const maxMarketLots = lots(spec.maxMarketQty ?? spec.maxQty, 'maxMarketQty');
  const minNotional = parseScaled(spec.minNotional, moneyScale);
  if (!minLots.ok) return minLots;
  if (!maxLots.ok) return maxLots;
  if (!maxMarketLots.ok) return maxMarketLots;
  if (!minNotional.ok) return { ok: false, reason: `${where}: minNotional: ${minNotional.reason}` };
  const tickLotE8 = tick.units * lot.units * (powersOfTen[moneyScale - priceScale - qtyScale] ?? 0);
  return {
    ok: true,
    value: {
      symbol: spec.symbol, tickSize: spec.tickSize, lotSize: spec.lotSize,
      priceScale, tickUnits: tick.units, qtyScale, lotUnits: lot.units,
      minLots: Math.max(1, minLots.value), maxLots: maxLots.value, maxMarketLots: maxMarketLots.value,
      minNotionalE8: minNotional.units, tickLotE8: assertSafeInteger(tickLotE8, `${where} tickLotE8`),
      ...(spec.delistMs === undefined ? {} : { delistMs: spec.delistMs }),
    },
  };
}

/** `the venue delists SOLUSDT at 2026-12-01 08:00 UTC`, or, once that time has come, `the venue no longer trades SOLUSDT (since ...)`. */
/** When the bot closes what it holds on a symbol being delisted, `closeBeforeMs` ahead of it; null: it does not (no delisting, or no lead set). */
export function delistingCloseMs(instrument: Instrument, closeBeforeMs: number | null): number | null {
  return closeBeforeMs === null || instrument.delistMs === undefined ? null : instrument.delistMs - closeBeforeMs;
}

export function delistingText(symbol: string, delistMs: number, atMs: number): string {
  const when = utcMinute(delistMs);
  return delistMs > atMs ? `the venue delists ${symbol} at ${when}` : `the venue no longer trades ${symbol} (since ${when})`;
}

/**
 * What the venue changed of an instrument's limits (its grid, tick and lot, is gridChanges'), which
 * can be taken in as they come: they change no price or size the state holds.
 */
export function limitChanges(known: Instrument, loaded: Instrument): string[] {
  const qty = (lots: number): string => lotsToQty(known, lots);
  const changes: string[] = [];
  if (known.minLots !== loaded.minLots) changes.push(`minimum order ${qty(known.minLots)} -> ${qty(loaded.minLots)}`);
  if (known.maxLots !== loaded.maxLots) changes.push(`maximum order ${qty(known.maxLots)} -> ${qty(loaded.maxLots)}`);
  if (known.maxMarketLots !== loaded.maxMarketLots) changes.push(`maximum market order ${qty(known.maxMarketLots)} -> ${qty(loaded.maxMarketLots)}`);
  if (known.minNotionalE8 !== loaded.minNotionalE8) changes.push(`minimum notional ${formatScaled(known.minNotionalE8, moneyScale)} -> ${formatScaled(loaded.minNotionalE8, moneyScale)} USDT`);
  return changes;
}

/** Parses a venue price that must lie on the tick grid ("95900.1" -> 959001 ticks). */
export function priceToTicks(instrument: Instrument, text: string | number): Parsed<number> {
  const parsed = parseScaled(text, instrument.priceScale);
  if (!parsed.ok && parsed.problem !== 'precision') return { ok: false, reason: `${instrument.symbol} price: ${parsed.reason}` };
  if (!parsed.ok || parsed.units % instrument.tickUnits !== 0) {
    return { ok: false, reason: `${instrument.symbol} price ${text} is not on the ${instrument.tickSize} tick` };
  }
  return { ok: true, value: parsed.units / instrument.tickUnits };
}

/** Parses a venue quantity that must be a whole number of lots ("0.005" -> 5 lots of 0.001). */
export function qtyToLots(instrument: Instrument, text: string | number): Parsed<number> {
  const parsed = parseScaled(text, instrument.qtyScale);
  if (!parsed.ok && parsed.problem !== 'precision') return { ok: false, reason: `${instrument.symbol} quantity: ${parsed.reason}` };
  if (!parsed.ok || parsed.units % instrument.lotUnits !== 0) {
    return { ok: false, reason: `${instrument.symbol} quantity ${text} is not a multiple of the ${instrument.lotSize} lot` };
  }
  return { ok: true, value: parsed.units / instrument.lotUnits };
}

export function ticksToPrice(instrument: Instrument, ticks: number): string {
  return formatScaled(ticks * instrument.tickUnits, instrument.priceScale);
}

export function lotsToQty(instrument: Instrument, lots: number): string {
  return formatScaled(lots * instrument.lotUnits, instrument.qtyScale);
}

/** A float price as a number of ticks (only for prices computed in floats: percents, candles). */
export function priceToTicksRounded(instrument: Instrument, price: number, rounding: 'floor' | 'ceil' | 'nearest'): number {
  assert(Number.isFinite(price) && price >= 0, `${instrument.symbol}: bad price ${price}`);
  const exact = (price * (powersOfTen[instrument.priceScale] ?? 0)) / instrument.tickUnits;
  // Shave float noise (155.23 * 100 = 15522.999999999998) before rounding in the named direction.
  const nearest = Math.round(exact);
  const ticks = Math.abs(exact - nearest) < 1e-7 ? nearest : rounding === 'floor' ? Math.floor(exact) : rounding === 'ceil' ? Math.ceil(exact) : nearest;
  return assertSafeInteger(ticks, `${instrument.symbol} ticks`);
}

/** A float quantity as whole lots, never more than asked for. */
export function floorToLots(instrument: Instrument, qty: number): number {
  assert(Number.isFinite(qty) && qty >= 0, `${instrument.symbol}: bad quantity ${qty}`);
  const exact = (qty * (powersOfTen[instrument.qtyScale] ?? 0)) / instrument.lotUnits;
  const nearest = Math.round(exact);
  return assertSafeInteger(Math.abs(exact - nearest) < 1e-7 ? nearest : Math.floor(exact), `${instrument.symbol} lots`);
}

export function ticksToNumber(instrument: Instrument, ticks: number): number {
  return (ticks * instrument.tickUnits) / (powersOfTen[instrument.priceScale] ?? 1);
}

export function notionalE8(instrument: Instrument, priceTicks: number, lots: number): number {
  return assertSafeInteger(priceTicks * lots * instrument.tickLotE8, `${instrument.symbol} notional`);
}
