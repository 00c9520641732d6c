// The take-profit cycle bot (the bot of seed 002): per configured symbol, keep one position opened
// by a limit entry at an offset from the market, with a take-profit and the protective stop every
// position has; when the take-profit fills, the next cycle starts.
//
// It holds no state of its own: each decision is read off the engine's state (is there an active
// intent on the symbol, and since when is it entering), so after a restart without a journal the
// bot picks up exactly where reconciliation left the engine: a restored resting entry or a restored
// position with its take-profit means "wait", never a second entry or a second take-profit. What
// the venue cannot keep (the take-profit and stop meant for an entry still resting, on a venue
// without attached TP/SL) it asks for again, measured from the entry, as the first time.
// An entry left resting while the market runs away is cancelled after `entryTimeoutMs` and placed
// again at the new price. On a symbol the venue is delisting no new cycle starts (the engine would
// refuse its entry, once a decision, for as long as the delisting stands).

import type { Side } from '../core/types.ts';
import type { EngineState } from '../core/state.ts';
import { ticksToPrice } from '../core/instrument.ts';
import { effectiveSizeLots } from '../core/position/position.ts';
import type { Incoming } from '../shell/ports.ts';

export type TpCycleConfig = {
  readonly symbols: readonly string[];
  readonly side: Side;
  /** Entry limit this far from the last price, on the favourable side (percent). */
  readonly entryOffsetPercent: number;
  readonly takeProfitPercent: number;
  readonly stopLossPercent: number;
  readonly notionalUsdt: string;
  readonly entryTimeoutMs: number;
};

export const tpCycleDefaults: Omit<TpCycleConfig, 'symbols'> = {
  side: 'buy', entryOffsetPercent: 0.2, takeProfitPercent: 0.6, stopLossPercent: 1.5, notionalUsdt: '500', entryTimeoutMs: 120_000,
};

export class TpCycle {
  private readonly config: TpCycleConfig;

  constructor(config: TpCycleConfig) {
    if (!(config.entryOffsetPercent >= 0 && config.takeProfitPercent > 0 && config.stopLossPercent > 0)) throw new Error('tp-cycle: offsets must be positive percents');
    this.config = config;
  }

  /** What to ask the engine for now. Requests carry the time so ids stay unique across restarts. */
  decide(state: EngineState, atMs: number): Incoming[] {
    if (state.lifecycle.phase !== 'trading') return [];
    const requests: Incoming[] = [];
    for (const symbol of this.config.symbols) {
      const request = this.decideSymbol(state, symbol, atMs);
      if (request !== null) requests.push(request);
    }
    return requests;
  }

  private decideSymbol(state: EngineState, symbol: string, atMs: number): Incoming | null {
    const intentId = state.activeIntentBySymbol.get(symbol);
    const intent = intentId === undefined ? undefined : state.intents.get(intentId);
    if (intent !== undefined) {
      // Its symbol, its rule: a position or entry there with no take-profit (restored, or opened by
      // hand) gets one, measured from its entry.
      if (intent.takeProfitTicks === null && intent.takeProfitOrders.length === 0) {
        const { takeProfitPercent, stopLossPercent } = this.config;
        return { type: 'ProtectionRequested', requestId: `tpc-protect-${intent.id}`, symbol, takeProfit: { percent: takeProfitPercent }, stopLoss: { percent: stopLossPercent } };
      }
      const stale = intent.phase.name === 'entering' && atMs - intent.createdMs > this.config.entryTimeoutMs;
      return stale ? { type: 'CloseRequested', requestId: `tpc-cancel-${symbol}-${atMs}`, symbol } : null;
    }
    const position = [...state.positions.values()].find((candidate) => candidate.symbol === symbol);
    if (position !== undefined && effectiveSizeLots(position) !== 0) return null;
    const instrument = state.instruments.get(symbol);
    const lastTicks = state.markets.get(symbol)?.lastTicks ?? null;
    if (instrument === undefined || lastTicks === null || instrument.delistMs !== undefined) return null;
    const { side, entryOffsetPercent, takeProfitPercent, stopLossPercent, notionalUsdt } = this.config;
    const offset = Math.max(1, Math.round((lastTicks * entryOffsetPercent) / 100));
    const entryTicks = side === 'buy' ? lastTicks - offset : lastTicks + offset;
    return {
      type: 'OpenRequested', requestId: `tpc-${symbol}-${atMs}`, symbol, side, size: { notional: notionalUsdt },
      entry: { kind: 'limit', price: ticksToPrice(instrument, entryTicks) },
      stopLoss: { percent: stopLossPercent }, takeProfit: { percent: takeProfitPercent },
    };
  }
}
