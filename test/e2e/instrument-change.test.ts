// `vigil run` on Bybit while the venue changes the tick of a symbol it holds a position on: three
// processes, the real protocol between them. The emulator lists SOLUSDT with a finer tick once
// told (SIGUSR2), as Bybit does on an announced change; the bot, reading the instruments again
// every 3 s, stops, saying what changed and what to do, and its stop stays on the venue.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { signedGet } from '../emulator/client.ts';
import { processGroup } from '../support/child.ts';

describe('vigil run on Bybit when the venue changes a tick', () => {
  it('stops at the change, naming it, with the position\'s stop left on the venue', { timeout: 60_000 }, async (t) => {
    const group = processGroup(t, 'vigil-relist-');
    const keys = { key: `key${randomBytes(8).toString('hex')}`, secret: `sec${randomBytes(16).toString('hex')}` };
    const env: NodeJS.ProcessEnv = { ...process.env, VIGIL_API_TOKEN: `tok${randomBytes(24).toString('hex')}`, E2E_KEY: keys.key, E2E_SECRET: keys.secret, VIGIL_EMULATOR_KEY: keys.key, VIGIL_EMULATOR_SECRET: keys.secret };
    const emulator = group.start('emulator', ['emulator', '--symbols', 'SOLUSDT', '--volatility-bps', '0', '--relist', 'SOLUSDT=0.001'], env);
    const port = Number((await emulator.waitFor(/^listening http:\/\/127\.0\.0\.1:(\d+) /))[1]);
    const config = join(group.directory, 'bybit.yaml');
    writeFileSync(config, [
      'botId: e2erelist', 'journal: bot.sqlite', 'symbols: [SOLUSDT]', 'api: { port: 0 }',
      `venue: { kind: bybit, network: custom, restUrl: "http://127.0.0.1:${port}", wsPublicUrl: "ws://127.0.0.1:${port}/v5/public/linear",`,
      `         wsPrivateUrl: "ws://127.0.0.1:${port}/v5/private", apiKeyEnv: E2E_KEY, apiSecretEnv: E2E_SECRET, instrumentsCheckMinutes: 0.05 }`,
    ].join('\n'));
    const bot = group.start('run', ['run', '--config', config], env);
    const api = (await bot.waitFor(/^api listening on (http:\/\/127\.0\.0\.1:\d+) /))[1] ?? '';
    await bot.waitFor(/\bphase trading\b/);
    const signal = group.start('signal', ['signal', 'open', '--symbol', 'SOLUSDT', '--side', 'buy', '--quantity', '2', '--stop-percent', '2', '--id', 'relist-1', '--api', api], env);
    assert.equal((await signal.closed).code, 0, signal.tail());
    await bot.waitFor(/stop-working .* armed with the fill/);

    emulator.kill('SIGUSR2');
    await emulator.waitFor(/^relisted SOLUSDT with tick 0\.001$/);
    const exit = await bot.closed;
    assert.equal(exit.code, 1, bot.tail());
    assert.match(bot.stdout, /stopped: the venue has changed SOLUSDT tick 0\.010? -> 0\.001 while the bot ran, and it holds a position or orders there in the old units\. The stops stay on the venue\. Move the journal aside/);

    const reply = await signedGet(port, '/v5/position/list', 'category=linear&settleCoin=USDT', Date.now(), { keys });
    const sol = (reply.json.result.list as { symbol: string; size: string; stopLoss: string }[]).find((position) => position.symbol === 'SOLUSDT');
    assert.equal(sol?.size, '2');
    assert.ok(Number(sol.stopLoss) > 0, `the stop stays on the venue: ${JSON.stringify(sol)}`);
    emulator.kill('SIGTERM');
    await emulator.closed;
  });
});
