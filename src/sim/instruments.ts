// The instruments the simulation and paper trading use: real Bybit USDT-linear tick and lot sizes,
// taken from the instruments-info reply in a Bybit v5 capture (2026-08-09), so rounding in tests
// is the rounding a live account sees.

import type { Instrument, InstrumentSpec } from '../core/instrument.ts';
import { defineInstrument } from '../core/instrument.ts';

export const bybitLinearSpecs: readonly InstrumentSpec[] = [
  { symbol: 'BTCUSDT', tickSize: '0.10', lotSize: '0.001', minQty: '0.001', maxQty: '1500', maxMarketQty: '150', minNotional: '5' },
  { symbol: 'ETHUSDT', tickSize: '0.01', lotSize: '0.01', minQty: '0.01', maxQty: '10000', maxMarketQty: '2000', minNotional: '5' },
  { symbol: 'SOLUSDT', tickSize: '0.010', lotSize: '0.1', minQty: '0.1', maxQty: '96000', maxMarketQty: '12000', minNotional: '5' },
  { symbol: 'DOGEUSDT', tickSize: '0.00001', lotSize: '1', minQty: '1', maxQty: '43678900', maxMarketQty: '5991100', minNotional: '5' },
];

export function instrument(symbol: string): Instrument {
  const spec = bybitLinearSpecs.find((candidate) => candidate.symbol === symbol);
  if (spec === undefined) throw new Error(`no simulated instrument ${symbol}`);
  const parsed = defineInstrument(spec);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.value;
}
