// `vigil run` restarted on a journal written when the venue had another tick for a symbol it holds
// a position on. The journal keeps prices as integers of the old tick: read in the new one, a
// stop at 150.000 would be 15.000. The bot refuses to start, says what changed and what to do,
// and leaves the journal as it was (its position still in it).

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { step } from '../../src/core/engine/step.ts';
import type { Event } from '../../src/core/events.ts';
import { defineInstrument } from '../../src/core/instrument.ts';
import { createEngineState } from '../../src/core/state.ts';
import { recover } from '../../src/journal/recovery.ts';
import { SqliteJournal } from '../../src/journal/sqlite.ts';
import { bybitLinearSpecs } from '../../src/sim/instruments.ts';
import { processGroup } from '../support/child.ts';

describe('vigil run after the venue changed a tick under an open position', () => {
  it('refuses to start, naming the symbol and the change, and leaves the journal as it was', { timeout: 60_000 }, async (t) => {
    const group = processGroup(t, 'vigil-grid-');
    const journalPath = join(group.directory, 'bot.sqlite');
    const spec = bybitLinearSpecs.find((candidate) => candidate.symbol === 'SOLUSDT') ?? assert.fail('SOLUSDT spec');
    const then = defineInstrument({ ...spec, tickSize: '0.001' });
    assert.ok(then.ok && spec.tickSize !== '0.001', 'the journal\'s tick differs from the venue\'s');
    const journal = SqliteJournal.open(journalPath);
    const state = createEngineState({ botId: 'e2egrid' });
    const events: Event[] = [
      { type: 'InstrumentsLoaded', atMs: 1, instruments: [then.value] },
      { type: 'PositionUpdated', atMs: 2, source: 'stream', symbol: 'SOLUSDT', sizeLots: 20, entryPrice: '150', stopLossTicks: 147_000, takeProfitTicks: null, trailingTicks: null, seq: 1, venueUpdatedMs: 2 },
    ];
    journal.append(events);
    for (const event of events) step(state, event);
    journal.applied(state, []);
    journal.close(state);

    const env: NodeJS.ProcessEnv = { ...process.env, VIGIL_API_TOKEN: `tok${randomBytes(24).toString('hex')}` };
    const venue = group.start('venue', ['venue', '--port', '0', '--symbols', 'SOLUSDT', '--seed', '5'], env);
    const port = Number((await venue.waitFor(/^listening 127\.0\.0\.1:(\d+)$/))[1]);
    const config = join(group.directory, 'bot.yaml');
    writeFileSync(config, ['botId: e2egrid', 'journal: bot.sqlite', 'symbols: [SOLUSDT]', 'strategy: { kind: none }', 'api: { port: 0 }', `venue: { kind: sim, address: "127.0.0.1:${port}" }`].join('\n'));
    const bot = group.start('run', ['run', '--config', config], env);
    const exit = await bot.closed;
    assert.equal(exit.code, 1, bot.tail());
    assert.match(bot.stdout + bot.stderr, new RegExp(`the venue has changed SOLUSDT tick 0\\.001 -> ${spec.tickSize.replace('.', '\\.')} since the journal .*bot\\.sqlite was written`));
    assert.match(bot.stdout + bot.stderr, /The stops stay on the venue\. Move the journal aside and start again/);
    assert.doesNotMatch(bot.stdout, /phase trading/, 'never traded');

    const reopened = SqliteJournal.open(journalPath);
    const recovered = recover(reopened, { botId: 'e2egrid' });
    reopened.close();
    assert.equal(recovered.state.instruments.get('SOLUSDT')?.tickSize, '0.001', 'the journal still holds the old tick');
    assert.equal([...recovered.state.positions.values()].find((position) => position.symbol === 'SOLUSDT')?.venue?.sizeLots, 20, 'and the position');
    venue.kill('SIGTERM');
    await venue.closed;
  });
});
