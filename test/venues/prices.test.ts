// Price paths for the simulated venue: the intrabar path of candles and the seeded random walk.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Instrument } from '../../src/core/instrument.ts';
import { defineInstrument } from '../../src/core/instrument.ts';
import { Rng } from '../../src/sim/rng.ts';
import type { Candle } from '../../src/venues/sim/prices.ts';
import { candlePath, randomWalk } from '../../src/venues/sim/prices.ts';

function solInstrument(): Instrument {
  const parsed = defineInstrument({ symbol: 'SOLUSDT', tickSize: '0.010', lotSize: '0.1', minQty: '0.1', maxQty: '79770', minNotional: '5' });
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.value;
}

const sol = solInstrument();

function candle(openMs: number, open: number, high: number, low: number, close: number): Candle {
  return { openMs, open, high, low, close, volume: 1 };
}

void describe('candlePath', () => {
  void it('walks a bullish candle open -> low -> high -> close, rounded to the nearest tick', () => {
    const path = candlePath('SOLUSDT', sol, [candle(60_000, 150, 152, 149, 151.234)], { pointsPerSegment: 2 });
    assert.deepEqual(path.map((point) => point.lastTicks), [15_000, 14_950, 14_900, 15_050, 15_200, 15_162, 15_123]);
    assert.deepEqual(path.map((point) => point.atMs), [60_000, 68_571, 77_142, 85_714, 94_285, 102_857, 111_428]);
    assert.ok(path.every((point) => point.symbol === 'SOLUSDT'));
  });

  void it('walks a bearish candle open -> high -> low -> close, inside a custom candle length', () => {
    const path = candlePath('SOLUSDT', sol, [candle(0, 100, 101, 98, 99)], { pointsPerSegment: 1, candleMs: 300_000 });
    assert.deepEqual(path.map((point) => [point.atMs, point.lastTicks]), [[0, 10_000], [75_000, 10_100], [150_000, 9_800], [225_000, 9_900]]);
  });

  void it('passes exactly through every low and high, with times in order inside each candle', () => {
    const candles = [candle(0, 155.23, 156.01, 154.5, 155.5), candle(60_000, 155.5, 155.5, 153.37, 153.4), candle(120_000, 153.4, 153.4, 153.4, 153.4)];
    const path = candlePath('SOLUSDT', sol, candles, { pointsPerSegment: 5 });
    assert.equal(path.length, 3 * 16);
    candles.forEach((bar, index) => {
      const slice = path.slice(index * 16, (index + 1) * 16);
      const ticks = slice.map((point) => point.lastTicks);
      assert.equal(Math.min(...ticks), Math.round(bar.low * 100));
      assert.equal(Math.max(...ticks), Math.round(bar.high * 100));
      assert.equal(ticks.at(-1), Math.round(bar.close * 100));
      assert.ok(slice.every((point) => point.atMs >= bar.openMs && point.atMs < bar.openMs + 60_000));
    });
    assert.ok(path.every((point, index) => index === 0 || point.atMs >= (path[index - 1]?.atMs ?? 0)));
  });

  void it('refuses a candle whose close lies outside its range, or candles out of order', () => {
    assert.throws(() => candlePath('SOLUSDT', sol, [candle(0, 100, 101, 99, 102)], { pointsPerSegment: 1 }), /outside/);
    assert.throws(() => candlePath('SOLUSDT', sol, [candle(60_000, 100, 101, 99, 100), candle(0, 100, 101, 99, 100)], { pointsPerSegment: 1 }), /time order/);
    assert.throws(() => candlePath('SOLUSDT', sol, [], { pointsPerSegment: 0 }), /pointsPerSegment/);
  });
});

void describe('randomWalk', () => {
  const base = { symbol: 'BTCUSDT', startTicks: 600_000, startMs: 1_000, stepMs: 250, steps: 500, volatilityBps: 10, jumpChance: 0.01, jumpBps: 300 };

  void it('is reproduced exactly by the same seed and differs for another', () => {
    const first = randomWalk(new Rng(11), base);
    assert.deepEqual(randomWalk(new Rng(11), base), first);
    assert.notDeepEqual(randomWalk(new Rng(12), base), first);
  });

  void it('starts at the start, steps evenly in time, and moves by whole ticks', () => {
    const path = randomWalk(new Rng(3), base);
    assert.equal(path.length, 501);
    assert.deepEqual(path[0], { atMs: 1_000, symbol: 'BTCUSDT', lastTicks: 600_000 });
    assert.ok(path.every((point, index) => point.atMs === 1_000 + index * 250 && Number.isSafeInteger(point.lastTicks)));
    assert.ok(new Set(path.map((point) => point.lastTicks)).size > 100, 'the walk moves');
  });

  void it('jumps by the jump size when there is no diffusion', () => {
    const path = randomWalk(new Rng(5), { ...base, startTicks: 100_000, volatilityBps: 0, jumpChance: 1, jumpBps: 1_000, steps: 20 });
    for (let index = 1; index < path.length; index += 1) {
      const previous = path[index - 1]!.lastTicks;
      const current = path[index]!.lastTicks;
      assert.ok(current === Math.round(previous * 1.1) || current === Math.round(previous * 0.9), `${previous} -> ${current}`);
    }
    assert.ok(path.some((point, index) => index > 0 && point.lastTicks > path[index - 1]!.lastTicks));
    assert.ok(path.some((point, index) => index > 0 && point.lastTicks < path[index - 1]!.lastTicks));
  });

  void it('never goes below one tick', () => {
    const path = randomWalk(new Rng(9), { ...base, startTicks: 3, volatilityBps: 5_000, jumpChance: 0.5, jumpBps: 9_000, steps: 300 });
    assert.ok(path.every((point) => point.lastTicks >= 1));
    assert.ok(path.some((point) => point.lastTicks === 1));
  });
});
