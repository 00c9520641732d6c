// Reads the bundled one-minute candles (data/candles/*.csv) for paper trading and backtests.
// A malformed file names the file, the line and the field.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Candle } from '../venues/sim/prices.ts';

export const candlesDirectory = join(import.meta.dirname, '..', '..', 'data', 'candles');

export function bundledCandleSymbols(): readonly string[] {
  return ['SOLUSDT', 'DOGEUSDT', 'ETHUSDT'];
}

export function loadCandles(symbol: string, directory = candlesDirectory): Candle[] {
  const path = join(directory, `${symbol}-1m.csv`);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`no candles for ${symbol}: cannot read ${path} (${error instanceof Error ? error.message : String(error)})`, { cause: error });
  }
  return parseCandlesCsv(text, path);
}

export function parseCandlesCsv(text: string, where: string): Candle[] {
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  const header = lines.shift();
  if (header?.trim() !== 'open_time_ms,open,high,low,close,volume') throw new Error(`${where}: line 1: expected the header open_time_ms,open,high,low,close,volume`);
  const candles: Candle[] = [];
  for (const [index, line] of lines.entries()) {
    const fields = line.split(',').map(Number);
    const [openMs, open, high, low, close, volume] = fields;
    if (fields.length !== 6 || fields.some((value) => !Number.isFinite(value)) || openMs === undefined || open === undefined || high === undefined || low === undefined || close === undefined || volume === undefined) {
      throw new Error(`${where}: line ${index + 2}: expected six numbers, got "${line}"`);
    }
    if (high < Math.max(open, close) || low > Math.min(open, close)) throw new Error(`${where}: line ${index + 2}: high/low do not contain open/close`);
    const previous = candles[candles.length - 1];
    if (previous !== undefined && openMs <= previous.openMs) throw new Error(`${where}: line ${index + 2}: time ${openMs} is not after ${previous.openMs}`);
    candles.push({ openMs, open, high, low, close, volume });
  }
  return candles;
}
