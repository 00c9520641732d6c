// Exact conversion between decimal strings (as venues send them) and scaled integers.
//
// Venues send prices, quantities and fees as decimal strings ("95900.1", "0.001", "26.3725275")
// and sometimes as JSON numbers. The core never does arithmetic on them as floats: a value is
// parsed into an integer count of 10^-scale units, exactly, or rejected with a reason.

import { assert, fail } from './assert.ts';

export type ScaledResult =
  | { readonly ok: true; readonly units: number }
  | { readonly ok: false; readonly problem: 'syntax' | 'precision' | 'range'; readonly reason: string };

const decimalPattern = /^(-)?(\d+)(?:\.(\d+))?$/; // for decimalPlaces, off the hot path

export const powersOfTen: readonly number[] = Array.from({ length: 16 }, (_, i) => 10 ** i);

/**
 * Parses `text` into an integer number of 10^-scale units; inexact or unsafe values are refused.
 * One pass over the characters, no regex and no intermediate strings: venue frames carry several
 * decimals each, so this sits on the decode hot path.
 */
export function parseScaled(text: string | number, scale: number): ScaledResult {
  if (!(Number.isInteger(scale) && scale >= 0 && scale <= 15)) fail(`scale out of range: ${scale}`);
  const source = typeof text === 'number' ? numberToPlainString(text) : hasOuterSpace(text) ? text.trim() : text;
  const length = source.length;
  const negative = length > 0 && source.charCodeAt(0) === minusCode;
  let index = negative ? 1 : 0;
  const wholeStart = index;
  let whole = 0;
  for (; index < length; index += 1) {
    const digit = source.charCodeAt(index) - zeroCode;
    if (digit < 0 || digit > 9) break;
    whole = whole * 10 + digit;
  }
  if (index === wholeStart) return notDecimal(text);
  const fractionStart = index + 1;
  let fractionEnd = fractionStart; // one past the last non-zero fraction digit
  if (index < length) {
    if (source.charCodeAt(index) !== dotCode || fractionStart === length) return notDecimal(text);
    for (index = fractionStart; index < length; index += 1) {
      const digit = source.charCodeAt(index) - zeroCode;
      if (digit < 0 || digit > 9) return notDecimal(text);
      if (digit !== 0) fractionEnd = index + 1;
    }
  }
  const places = fractionEnd - fractionStart;
  if (places > scale) return { ok: false, problem: 'precision', reason: `${source} has more than ${scale} decimal places` };
  let fraction = 0;
  for (index = fractionStart; index < fractionEnd; index += 1) fraction = fraction * 10 + (source.charCodeAt(index) - zeroCode);
  const units = whole * (powersOfTen[scale] ?? 0) + fraction * (powersOfTen[scale - places] ?? 0);
  if (!Number.isSafeInteger(units) || whole > Number.MAX_SAFE_INTEGER) return { ok: false, problem: 'range', reason: `${source} is too large` };
  return { ok: true, units: negative && units !== 0 ? -units : units };
}

const zeroCode = 48;
const dotCode = 46;
const minusCode = 45;

function hasOuterSpace(text: string): boolean {
  return text.length > 0 && (text.charCodeAt(0) <= 32 || text.charCodeAt(text.length - 1) <= 32);
}

function notDecimal(text: string | number): ScaledResult {
  return { ok: false, problem: 'syntax', reason: `not a decimal number: ${JSON.stringify(text)}` };
}

/** Formats an integer count of 10^-scale units as a plain decimal string ("123.45"). */
export function formatScaled(units: number, scale: number): string {
  if (!Number.isSafeInteger(units)) fail(`not a safe integer: ${units}`);
  if (scale === 0) return String(units);
  const sign = units < 0 ? '-' : '';
  const digits = String(Math.abs(units)).padStart(scale + 1, '0');
  let end = digits.length;
  while (end > digits.length - scale && digits.charCodeAt(end - 1) === zeroCode) end -= 1; // trailing zeros
  const whole = digits.slice(0, digits.length - scale);
  return end === digits.length - scale ? `${sign}${whole}` : `${sign}${whole}.${digits.slice(digits.length - scale, end)}`;
}

/** The number of decimal places a step such as "0.010" needs (trailing zeros ignored): 2. */
export function decimalPlaces(text: string): number {
  const match = decimalPattern.exec(text.trim());
  assert(match !== null, `not a decimal number: ${text}`);
  return (match[3] ?? '').replace(/0+$/, '').length;
}

function numberToPlainString(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const text = String(value);
  if (!/e/i.test(text)) return text;
  // Exponent form (1e-7): fixed notation with up to 15 decimals is exact enough to re-parse.
  return value.toFixed(15).replace(/0+$/, '').replace(/\.$/, '');
}
