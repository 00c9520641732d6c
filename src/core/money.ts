// Exact money. Every amount of the quote currency (USDT) in the core is an integer count of
// 10^-8 units, and its name ends in `E8`: `feeE8`, `realizedPnlE8`. Prices are integer ticks and
// quantities integer lots of their instrument (see instrument.ts), so a notional is an integer
// number of "tick-lots" times the instrument's `tickLotE8`.
//
// Invariants: every E8 amount is a safe integer; rounding happens only in the functions below and
// their names say which way.

import { assertSafeInteger } from './assert.ts';

export const moneyScale = 8;
export const e8PerUnit = 100_000_000;

/** Rounds num/den to the nearest integer, ties to even (banker's rounding); den > 0. */
export function divRoundHalfEven(num: bigint, den: bigint): bigint {
  const quotient = num / den;
  const remainder = num - quotient * den;
  const twice = 2n * (remainder < 0n ? -remainder : remainder);
  if (twice < den) return quotient;
  const away = num < 0n ? quotient - 1n : quotient + 1n;
  if (twice > den) return away;
  return quotient % 2n === 0n ? quotient : away;
}

/** a*b/c rounded half-even, exact for any safe integers (falls back to bigint when needed). */
export function mulDivRoundHalfEven(a: number, b: number, c: number): number {
  const product = a * b;
  if (Number.isSafeInteger(product) && product % c === 0) return product / c;
  return Number(divRoundHalfEven(BigInt(a) * BigInt(b), BigInt(c)));
}

/** The fee the venue charges on a notional at a rate given in 10^-8 (0.055% = 55_000). */
export function feeE8(notionalE8: number, feeRateE8: number): number {
  return assertSafeInteger(mulDivRoundHalfEven(notionalE8, feeRateE8, e8PerUnit), 'fee');
}

export function formatE8(amountE8: number, decimals = 2): string {
  const sign = amountE8 < 0 ? '-' : '';
  const value = Math.abs(amountE8) / e8PerUnit;
  return `${sign}${value.toFixed(decimals)}`;
}
