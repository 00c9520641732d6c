// The Bybit adapter reading the instruments again while running (what src/shell/instrument-watch.ts
// calls every few minutes), with the real ccxt client against the emulator, which lists a symbol
// with a finer tick from a moment on, as Bybit does on an announced change.

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { gridChanges } from '../../src/core/engine/lifecycle.ts';
import { defineInstrument } from '../../src/core/instrument.ts';
import { createEngineState } from '../../src/core/state.ts';
import { step } from '../../src/core/engine/step.ts';
import { EmulatorServer } from '../../src/emulator/server.ts';
import { bybitLinearSpecs } from '../../src/sim/instruments.ts';
import type { LiveGateway } from './live-bot.ts';
import { startLiveGateway } from './live-bot.ts';

const servers: EmulatorServer[] = [];
const gateways: LiveGateway[] = [];

after(async () => {
  for (const gateway of gateways) await gateway.stop();
  for (const server of servers) await server.close();
});

describe('the Bybit adapter reading the instruments again', () => {
  it('sees a tick the venue changed after the start, and says why a reading failed', async () => {
    const symbols = ['SOLUSDT', 'ETHUSDT'];
    const server = new EmulatorServer({ symbols, seed: 6 });
    servers.push(server);
    const port = await server.listen();
    const gateway = await startLiveGateway(port, symbols);
    gateways.push(gateway);

    const started = await gateway.venue.readInstruments(symbols);
    const state = createEngineState({ botId: 'it' });
    step(state, { type: 'InstrumentsLoaded', atMs: 0, instruments: started });
    assert.deepEqual(gridChanges(state, await gateway.venue.readInstruments(symbols)), [], 'nothing changed yet');

    const spec = bybitLinearSpecs.find((candidate) => candidate.symbol === 'SOLUSDT') ?? assert.fail('SOLUSDT spec');
    const finer = defineInstrument({ ...spec, tickSize: '0.001' });
    assert.ok(finer.ok && spec.tickSize !== '0.001');
    server.exchange.relist(finer.value);
    const changed = gridChanges(state, await gateway.venue.readInstruments(symbols));
    assert.deepEqual(changed, [{ symbol: 'SOLUSDT', text: `SOLUSDT tick ${spec.tickSize} -> 0.001`, live: false }]);

    // A delisting announced on SOLUSDT; ETHUSDT no longer listed as trading: the reading still
    // sees SOLUSDT's grid, and leaves ETHUSDT out rather than failing.
    server.exchange.relist({ ...finer.value, delistMs: 1_764_576_000_000 });
    server.exchange.unlist('ETHUSDT');
    const reading = await gateway.venue.readInstruments(symbols);
    assert.deepEqual(reading.map((instrument) => [instrument.symbol, instrument.tickSize, instrument.delistMs]), [['SOLUSDT', '0.001', 1_764_576_000_000]]);
    assert.deepEqual(gridChanges(state, reading).map((change) => change.symbol), ['SOLUSDT']);

    servers.pop();
    await server.close();
    await assert.rejects(gateway.venue.readInstruments(symbols), (error: Error) => {
      assert.match(error.message, /^reading Bybit's instruments: /);
      assert.doesNotMatch(error.message, /testsecret/);
      return true;
    });
  });
});
