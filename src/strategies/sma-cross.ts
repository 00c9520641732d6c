// An example strategy: a moving-average crossover on one-minute closes. When the fast average
// crosses above the slow one it asks for a long, below for a short; a cross against an open
// position asks to close it. It only emits requests: sizes, stops and take-profits are validated,
// placed and protected by the engine, and it never touches orders itself.
//
// Pure and deterministic: it sees bar closes and whether a symbol is busy, and returns requests.

import type { Side } from '../core/types.ts';
import type { Incoming } from '../shell/ports.ts';

export type SmaCrossConfig = {
  readonly fastBars: number;
  readonly slowBars: number;
  readonly notionalUsdt: string;
  readonly stopLossPercent: number;
  readonly takeProfitPercent: number;
};

export const smaCrossDefaults: SmaCrossConfig = { fastBars: 20, slowBars: 60, notionalUsdt: '1000', stopLossPercent: 1.5, takeProfitPercent: 3 };

type Series = { readonly closes: number[]; fastSum: number; slowSum: number; previousSign: number };

export type SymbolStatus = 'flat' | 'long' | 'short' | 'busy';

export class SmaCross {
  private readonly config: SmaCrossConfig;
  private readonly series = new Map<string, Series>();
  private requests = 0;

  constructor(config: SmaCrossConfig) {
    if (!(config.fastBars >= 1 && config.fastBars < config.slowBars)) throw new Error('sma-cross: fastBars must be at least 1 and below slowBars');
    this.config = config;
  }

  /** One closed bar; returns the request to send, if any. */
  onBarClose(symbol: string, close: number, status: SymbolStatus): Incoming | null {
    const series = this.update(symbol, close);
    const { fastBars, slowBars } = this.config;
    if (series.closes.length < slowBars) return null;
    const sign = Math.sign(series.fastSum / fastBars - series.slowSum / slowBars);
    const crossed = series.previousSign !== 0 && sign !== 0 && sign !== series.previousSign;
    if (sign !== 0) series.previousSign = sign;
    if (!crossed) return null;
    const side: Side = sign > 0 ? 'buy' : 'sell';
    if (status === 'flat') return this.open(symbol, side);
    if ((status === 'long' && side === 'sell') || (status === 'short' && side === 'buy')) {
      return { type: 'CloseRequested', requestId: this.nextId('close'), symbol };
    }
    return null;
  }

  private open(symbol: string, side: Side): Incoming {
    const { notionalUsdt, stopLossPercent, takeProfitPercent } = this.config;
    return {
      type: 'OpenRequested', requestId: this.nextId('open'), symbol, side, size: { notional: notionalUsdt },
      entry: { kind: 'market' }, stopLoss: { percent: stopLossPercent }, takeProfit: { percent: takeProfitPercent },
    };
  }

  private update(symbol: string, close: number): Series {
    let series = this.series.get(symbol);
    if (series === undefined) {
      series = { closes: [], fastSum: 0, slowSum: 0, previousSign: 0 };
      this.series.set(symbol, series);
    }
    const { closes } = series;
    closes.push(close);
    series.fastSum += close;
    series.slowSum += close;
    if (closes.length > this.config.fastBars) series.fastSum -= closes[closes.length - 1 - this.config.fastBars] ?? 0;
    if (closes.length > this.config.slowBars) {
      series.slowSum -= closes[0] ?? 0;
      closes.shift();
    }
    return series;
  }

  private nextId(kind: string): string {
    this.requests += 1;
    return `sma-${kind}-${this.requests}`;
  }
}
