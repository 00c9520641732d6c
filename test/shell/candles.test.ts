import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bundledCandleSymbols, loadCandles, parseCandlesCsv } from '../../src/shell/candles.ts';

describe('bundled candles', () => {
  it('load three days per symbol, in time order, one minute apart', () => {
    for (const symbol of bundledCandleSymbols()) {
      const candles = loadCandles(symbol);
      assert.equal(candles.length, 4_320);
      assert.ok(candles.every((candle, index) => index === 0 || candle.openMs - (candles[index - 1]?.openMs ?? 0) === 60_000));
    }
  });

  it('say which line and field of a bad file is wrong', () => {
    const header = 'open_time_ms,open,high,low,close,volume';
    assert.throws(() => parseCandlesCsv(`${header}\n1,2,3,1,2,5\n2,2,x,1,2,5\n`, 'f.csv'), /f\.csv: line 3: expected six numbers/);
    assert.throws(() => parseCandlesCsv(`${header}\n1,2,3,2.5,2,5\n`, 'f.csv'), /line 2: high\/low do not contain open\/close/);
    assert.throws(() => parseCandlesCsv('time,o\n', 'f.csv'), /line 1: expected the header/);
    assert.throws(() => parseCandlesCsv(`${header}\n2,2,3,1,2,5\n1,2,3,1,2,5\n`, 'f.csv'), /line 3: time 1 is not after 2/);
  });
});
