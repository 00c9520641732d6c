import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { formatScaled, parseScaled } from '../../src/core/decimal.ts';
import { defineInstrument, floorToLots, lotsToQty, notionalE8, priceToTicks, priceToTicksRounded, qtyToLots, ticksToPrice } from '../../src/core/instrument.ts';
import { divRoundHalfEven, feeE8, mulDivRoundHalfEven } from '../../src/core/money.ts';
import { utcMinute } from '../../src/core/utc.ts';
import { instrument } from '../../src/sim/instruments.ts';

const btc = instrument('BTCUSDT');
const doge = instrument('DOGEUSDT');

describe('decimal parsing', () => {
  it('parses strings and numbers exactly into scaled integers', () => {
    assert.deepEqual(parseScaled('26.3725275', 8), { ok: true, units: 2_637_252_750 });
    assert.deepEqual(parseScaled(26.3725275, 8), { ok: true, units: 2_637_252_750 });
    assert.deepEqual(parseScaled('0.00000001', 8), { ok: true, units: 1 });
    assert.deepEqual(parseScaled('-1.5', 1), { ok: true, units: -15 });
    assert.deepEqual(parseScaled('95900.10', 1), { ok: true, units: 959_001 });
    assert.deepEqual(parseScaled(1e-7, 8), { ok: true, units: 10 });
  });

  it('refuses what it cannot represent exactly, saying why', () => {
    assert.equal(parseScaled('1.234', 2).ok, false);
    assert.match(JSON.stringify(parseScaled('12a', 2)), /not a decimal number/);
    assert.match(JSON.stringify(parseScaled('99999999999', 8)), /too large/);
    assert.equal(parseScaled('', 2).ok, false);
    assert.equal(parseScaled(Number.NaN, 2).ok, false);
  });

  it('formats scaled integers back to plain decimals', () => {
    assert.equal(formatScaled(959_001, 1), '95900.1');
    assert.equal(formatScaled(-5, 3), '-0.005');
    assert.equal(formatScaled(1_000, 3), '1');
  });
});

describe('instruments', () => {
  it('converts venue prices and quantities to integer ticks and lots', () => {
    assert.deepEqual(priceToTicks(btc, '95900.1'), { ok: true, value: 959_001 });
    assert.deepEqual(qtyToLots(btc, '0.5'), { ok: true, value: 500 });
    assert.equal(ticksToPrice(btc, 959_001), '95900.1');
    assert.equal(lotsToQty(btc, 500), '0.5');
    assert.deepEqual(priceToTicks(doge, '0.23311'), { ok: true, value: 23_311 });
  });

  it('rejects prices off the tick and quantities off the lot', () => {
    assert.match(JSON.stringify(priceToTicks(btc, '95900.15')), /more than 2 decimal places|not on the 0.10 tick/);
    const sol = instrument('SOLUSDT');
    assert.match(JSON.stringify(qtyToLots(sol, '0.15')), /decimal places|multiple of the 0.1 lot/);
  });

  it('computes notional in exact E8 from ticks and lots', () => {
    assert.equal(btc.tickLotE8, 10_000); // 0.1 x 0.001 = 0.0001 USDT
    assert.equal(notionalE8(btc, 959_001, 500), 4_795_005_000_000); // 47,950.05 USDT
    assert.equal(feeE8(4_795_005_000_000, 55_000), 2_637_252_750); // 26.3725275 USDT, as Bybit charged
  });

  it('rounds float prices in the named direction, shaving float noise first', () => {
    const sol = instrument('SOLUSDT');
    assert.equal(priceToTicksRounded(sol, 155.23, 'floor'), 15_523);
    assert.equal(priceToTicksRounded(sol, 155.231, 'ceil'), 15_524);
    assert.equal(priceToTicksRounded(sol, 155.239, 'floor'), 15_523);
    assert.equal(floorToLots(sol, 6.59), 65);
  });

  it('refuses instruments too fine for E8 money', () => {
    const result = defineInstrument({ symbol: 'TINYUSDT', tickSize: '0.000001', lotSize: '0.001', minQty: '0.001', maxQty: '1', minNotional: '5' });
    assert.equal(result.ok, false);
  });
});

describe('rounding', () => {
  it('rounds half to even, both signs', () => {
    assert.equal(divRoundHalfEven(5n, 2n), 2n);
    assert.equal(divRoundHalfEven(7n, 2n), 4n);
    assert.equal(divRoundHalfEven(-5n, 2n), -2n);
    assert.equal(divRoundHalfEven(-7n, 2n), -4n);
    assert.equal(divRoundHalfEven(10n, 3n), 3n);
    assert.equal(mulDivRoundHalfEven(2 ** 40, 2 ** 20, 3), Number(divRoundHalfEven(2n ** 60n, 3n)));
  });
});

describe('parseScaled against an independent reference', () => {
  /** The reference: string arithmetic on digits with BigInt, no floats anywhere. */
  function reference(text: string, scale: number): number | 'refused' {
    const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text);
    if (match === null) return 'refused';
    const fraction = (match[3] ?? '').replace(/0+$/, '');
    if (fraction.length > scale) return 'refused';
    const units = BigInt(match[2] ?? '0') * 10n ** BigInt(scale) + BigInt(fraction.padEnd(scale, '0') || '0');
    if (units > BigInt(Number.MAX_SAFE_INTEGER)) return 'refused';
    return match[1] === '-' ? -Number(units) : Number(units);
  }

  it('agrees on every decimal string, valid or not', () => {
    const decimals = fc.oneof(
      fc.stringMatching(/^-?\d{1,12}(\.\d{1,10})?$/),
      fc.string({ maxLength: 12 }),
      fc.constantFrom('1.', '.5', '-', '00012.3400', '1e5', '9007199254740993'),
    );
    fc.assert(fc.property(decimals, fc.integer({ min: 0, max: 10 }), (text, scale) => {
      const parsed = parseScaled(text, scale);
      const expected = reference(text.trim(), scale);
      assert.deepEqual(parsed.ok ? parsed.units + 0 : 'refused', expected === 'refused' ? 'refused' : expected + 0);
    }), { numRuns: 20_000 });
  });
});

describe('calendar time in messages', () => {
  it('names the UTC minute as Date does, across leap days, centuries and before 1970', () => {
    const samples = [0, -1, 951_782_400_000, 951_868_799_999, 4_107_542_400_000, -2_208_988_800_001, Date.UTC(2026, 11, 1, 8, 0, 59, 999)];
    for (const ms of samples) assert.equal(utcMinute(ms), `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`, String(ms));
    fc.assert(fc.property(fc.integer({ min: -62_000_000_000_000, max: 250_000_000_000_000 }), (ms) => {
      assert.equal(utcMinute(ms), `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`);
    }), { numRuns: 2_000 });
  });
});
