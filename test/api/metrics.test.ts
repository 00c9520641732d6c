import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Metrics } from '../../src/api/metrics.ts';
import type { Command } from '../../src/core/commands.ts';
import type { ClientOrderId } from '../../src/core/ids.ts';
import { createEngineState } from '../../src/core/state.ts';
import { ticker } from '../support/events.ts';

describe('the metrics', () => {
  it('count the stop levels sent for open positions by symbol (a trailing stop\'s moves are not logged by default)', async () => {
    const metrics = new Metrics({ state: createEngineState({ botId: 't' }), connections: () => ({ private: 'up', public: 'up' }), halted: () => false, nowMs: () => 0 });
    const moves: Command[] = [
      { type: 'AmendOrder', commandId: 1, clientOrderId: 't-1-sl' as ClientOrderId, symbol: 'BTCUSDT', amendment: { triggerTicks: 651_000 } },
      { type: 'SetPositionStop', commandId: 2, symbol: 'BTCUSDT', change: { kind: 'stop-loss', stopLoss: { triggerTicks: 652_000, triggerBy: 'mark' } } },
      // Not a stop level: an aged exit repriced, a venue trailing handed over.
      { type: 'AmendOrder', commandId: 3, clientOrderId: 't-1-ax1' as ClientOrderId, symbol: 'BTCUSDT', amendment: { priceTicks: 650_500 } },
      { type: 'SetPositionStop', commandId: 4, symbol: 'BTCUSDT', change: { kind: 'trailing', distanceTicks: 500, activationTicks: null } },
    ];
    metrics.observeApplied(ticker(653_000, 10), moves);
    assert.match(await metrics.registry.metrics(), /^vigil_stop_changes_total\{symbol="BTCUSDT"\} 2$/m);
  });
});
