import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { step } from '../../src/core/engine/step.ts';
import { TpCycle, tpCycleDefaults } from '../../src/strategies/tp-cycle.ts';
import { btc, engine } from '../support/events.ts';

describe('the take-profit cycle', () => {
  it('starts a cycle with a limit entry below the market, and none on a symbol being delisted', () => {
    const strategy = new TpCycle({ ...tpCycleDefaults, symbols: ['BTCUSDT'] });
    const state = engine();
    const [open] = strategy.decide(state, 10);
    assert.equal(open?.type, 'OpenRequested');
    assert.deepEqual(open.type === 'OpenRequested' ? open.entry : null, { kind: 'limit', price: '64870' }, '0.2 % below 65,000');

    step(state, { type: 'InstrumentsLoaded', atMs: 20, instruments: [{ ...btc, delistMs: Date.UTC(2026, 11, 1) }] });
    assert.deepEqual(strategy.decide(state, 30), [], 'the engine would refuse it, every decision, until the delisting is withdrawn');
    step(state, { type: 'InstrumentsLoaded', atMs: 40, instruments: [btc] });
    assert.equal(strategy.decide(state, 50)[0]?.type, 'OpenRequested');
  });
});
