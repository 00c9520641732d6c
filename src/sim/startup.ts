// A venue that already holds N positions of this bot, each with its stop armed on the position
// and its take-profit resting as a limit order, as a previous run left them; the bot starts with
// no journal. Used to measure time to trading-ready against the number of symbols, and to check
// that every position is restored with its take-profit, and nothing sent twice.

import type { Instrument } from '../core/instrument.ts';
import { defineInstrument } from '../core/instrument.ts';
import type { StepFunction } from '../shell/runtime.ts';
import type { NetworkConfig } from './network.ts';
import { noFaults } from './network.ts';
import { simEpochMs } from './scheduler.ts';
import type { ScriptedAction } from './workload.ts';
import { ScriptedWorkload } from './workload.ts';
import { SimWorld } from './world.ts';

export const roundTripMs = 50;

/** A 50 ms round trip; a stream takes five of them: TCP, TLS 1.3, the WebSocket upgrade, auth, subscribe. */
export const restoreNetwork: NetworkConfig = {
  restRequest: { min: 25, max: 25 }, restReply: { min: 25, max: 25 }, privateStream: { min: 25, max: 25 }, publicStream: { min: 25, max: 25 },
  streamSetup: { min: 5 * roundTripMs, max: 5 * roundTripMs }, restTimeoutMs: 2_000, faults: noFaults,
};

export function syntheticInstrument(index: number): Instrument {
  const parsed = defineInstrument({ symbol: `S${String(index).padStart(3, '0')}USDT`, tickSize: '0.01', lotSize: '0.1', minQty: '0.1', maxQty: '100000', minNotional: '5' });
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.value;
}

/** What a previous run of the bot left on the venue, before this one starts: per symbol a position, its stop, its take-profit. */
function leftovers(instruments: readonly Instrument[], takeProfitOrders: boolean): ScriptedAction[] {
  return instruments.flatMap((instrument, index): ScriptedAction[] => {
    const intent = `sim-${1_000 + index}`;
    const entry: ScriptedAction = {
      atMs: 1, kind: 'manual-order', clientOrderId: `${intent}-e`,
      spec: {
        symbol: instrument.symbol, side: 'buy', sizeLots: 50, reduceOnly: false, type: { kind: 'market' }, stopLoss: { triggerTicks: 9_800, triggerBy: 'mark' },
        ...(takeProfitOrders ? {} : { takeProfit: { triggerTicks: 10_300, triggerBy: 'last' as const } }),
      },
    };
    if (!takeProfitOrders) return [entry];
    return [
      entry,
      {
        atMs: 2, kind: 'manual-order', clientOrderId: `${intent}-tp`,
        spec: { symbol: instrument.symbol, side: 'sell', sizeLots: 50, reduceOnly: true, type: { kind: 'limit', priceTicks: 10_300, postOnly: false } },
      },
    ];
  });
}

export type RestoreRun = { readonly world: SimWorld; readonly readyMs: number | null; readonly ordersSent: number };

/**
 * Starts a bot with no journal against a venue holding `symbols` of its positions, and waits for
 * trading. With `takeProfitOrders` each position's take-profit rests as a limit order (one open
 * order per symbol); without, both stop and take-profit sit on the position (no open orders).
 */
export function restoreSymbols(symbols: number, options: { readonly step?: StepFunction; readonly takeProfitOrders?: boolean } = {}): RestoreRun {
  const instruments = Array.from({ length: symbols }, (_, index) => syntheticInstrument(index));
  let readyMs: number | null = null;
  let ordersSent = 0;
  const world = SimWorld.create({
    seed: 1, network: restoreNetwork, engine: { attachedStops: true }, activeMs: 5_000, settleMs: 1_000,
    venue: { makerFeeRateE8: 20_000, takerFeeRateE8: 55_000, spreadTicks: 0, partialFillChance: 0, fillPartsMax: 1, limitPartialChance: 0 },
    symbols: instruments.map((instrument) => ({ instrument, prices: [{ atMs: simEpochMs, symbol: instrument.symbol, lastTicks: 10_000 }] })),
    workload: new ScriptedWorkload(leftovers(instruments, options.takeProfitOrders ?? true)),
    ...(options.step === undefined ? {} : { step: options.step }),
    onNotice: (notice, atMs) => {
      if (readyMs === null && notice.code === 'phase' && notice.text.startsWith('phase trading')) readyMs = atMs - simEpochMs;
    },
    onApplied: (_, commands) => {
      ordersSent += commands.filter((command) => command.type === 'SubmitOrder').length;
    },
  });
  world.run({ stepsMax: 10_000_000, untilMs: world.activeUntilMs });
  world.settle(10_000_000);
  return { world, readyMs, ordersSent };
}
