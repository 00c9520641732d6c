// `vigil run` on Bybit while the venue changes the tick of a symbol: three processes, the real
// protocol between them. The emulator lists a symbol with a finer tick once told (SIGUSR2), as
// Bybit does on an announced change; the bot, reading the instruments again every 3 s, stops,
// saying what changed and what to do. On a symbol it holds a position on, its stop stays on the
// venue; on one with nothing open, a second start takes in the new grid and trades on. A symbol
// delisted is refused new entries; one whose delisting is announced for within the hour has what
// the bot holds there closed at market at the next reading.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { signedGet } from '../emulator/client.ts';
import type { Child } from '../support/child.ts';
import { processGroup } from '../support/child.ts';

type Trading = {
  readonly emulator: Child;
  readonly bot: Child;
  readonly port: number;
  readonly config: string;
  readonly api: string;
  readonly env: NodeJS.ProcessEnv;
  readonly keys: { readonly key: string; readonly secret: string };
  readonly start: (name: string, args: readonly string[]) => Child;
};

/**
 * The emulator listing `symbols` (changing them as `listing` says on SIGUSR2), and `vigil run` on it reading the
 * instruments every 3 s, trading, with a long of 2 SOLUSDT whose stop the venue has confirmed.
 */
async function tradingWithSolPosition(t: Parameters<typeof processGroup>[0], symbols: readonly string[], listing: readonly string[]): Promise<Trading> {
  const group = processGroup(t, 'vigil-relist-');
  const keys = { key: `key${randomBytes(8).toString('hex')}`, secret: `sec${randomBytes(16).toString('hex')}` };
  const env: NodeJS.ProcessEnv = { ...process.env, VIGIL_API_TOKEN: `tok${randomBytes(24).toString('hex')}`, E2E_KEY: keys.key, E2E_SECRET: keys.secret, VIGIL_EMULATOR_KEY: keys.key, VIGIL_EMULATOR_SECRET: keys.secret };
  const emulator = group.start('emulator', ['emulator', '--symbols', symbols.join(','), '--volatility-bps', '0', ...listing], env);
  const port = Number((await emulator.waitFor(/^listening http:\/\/127\.0\.0\.1:(\d+) /))[1]);
  const config = join(group.directory, 'bybit.yaml');
  writeFileSync(config, [
    'botId: e2erelist', 'journal: bot.sqlite', `symbols: [${symbols.join(', ')}]`, 'api: { port: 0 }',
    `venue: { kind: bybit, network: custom, restUrl: "http://127.0.0.1:${port}", wsPublicUrl: "ws://127.0.0.1:${port}/v5/public/linear",`,
    `         wsPrivateUrl: "ws://127.0.0.1:${port}/v5/private", apiKeyEnv: E2E_KEY, apiSecretEnv: E2E_SECRET, instrumentsCheckMinutes: 0.05 }`,
  ].join('\n'));
  const bot = group.start('run', ['run', '--config', config], env);
  const api = (await bot.waitFor(/^api listening on (http:\/\/127\.0\.0\.1:\d+) /))[1] ?? '';
  await bot.waitFor(/\bphase trading\b/);
  const signal = group.start('signal', ['signal', 'open', '--symbol', 'SOLUSDT', '--side', 'buy', '--quantity', '2', '--stop-percent', '2', '--id', 'relist-1', '--api', api], env);
  assert.equal((await signal.closed).code, 0, signal.tail());
  await bot.waitFor(/stop-working .* armed with the fill/);
  return { emulator, bot, port, config, api, env, keys, start: (name, args) => group.start(name, args, env) };
}

/** The bot's positions as its API shows them: symbol, quantity, whether the venue holds their stop. */
async function positionsOf(api: string, env: NodeJS.ProcessEnv): Promise<[string, string, boolean][]> {
  const reply = await fetch(`${api}/api/positions`, { headers: { authorization: `Bearer ${env.VIGIL_API_TOKEN ?? ''}` } });
  const body = await reply.json() as { positions: { symbol: string; quantity: string; stopOnVenue: boolean }[] };
  return body.positions.map((position) => [position.symbol, position.quantity, position.stopOnVenue]);
}

describe('vigil run on Bybit when the venue changes a tick', () => {
  it('stops at the change, naming it, with the position\'s stop left on the venue', { timeout: 60_000 }, async (t) => {
    const { emulator, bot, port, keys } = await tradingWithSolPosition(t, ['SOLUSDT'], ['--relist', 'SOLUSDT=0.001']);
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

  it('stops at a change on a symbol with nothing open, and starts again on the new grid', { timeout: 90_000 }, async (t) => {
    const { emulator, bot: first, config, env, start } = await tradingWithSolPosition(t, ['SOLUSDT', 'BTCUSDT'], ['--relist', 'BTCUSDT=0.01']);
    emulator.kill('SIGUSR2');
    await emulator.waitFor(/^relisted BTCUSDT with tick 0\.01$/);
    assert.equal((await first.closed).code, 1, first.tail());
    assert.match(first.stdout, /stopped: the venue has changed BTCUSDT tick 0\.10 -> 0\.01 while the bot ran; nothing of the bot's is open there\. The stops of its other positions stay on the venue\. Start it again: it loads the new grid/);

    // Started again on the same journal: BTCUSDT's new grid is taken in (what the instrument watch
    // compares the venue's with from now on), and SOLUSDT's position is the journal's, its stop seen.
    const second = start('run', ['run', '--config', config]);
    await second.waitFor(/grid-changed +the venue has changed BTCUSDT tick 0\.10 -> 0\.01; nothing was open there/);
    await second.waitFor(/\bphase trading\b/);
    const secondApi = (await second.waitFor(/^api listening on (http:\/\/127\.0\.0\.1:\d+) /))[1] ?? '';
    assert.deepEqual(await positionsOf(secondApi, env), [['SOLUSDT', '2', true]]);
    second.kill('SIGTERM');
    assert.equal((await second.closed).code, 0, second.tail());
    emulator.kill('SIGTERM');
    await emulator.closed;
  });
});

describe('vigil run on Bybit when the venue delists a symbol', () => {
  it('trades on, refusing entries there with the reason, the other position\'s stop kept', { timeout: 60_000 }, async (t) => {
    const { emulator, bot, api, env, start } = await tradingWithSolPosition(t, ['SOLUSDT', 'BTCUSDT'], ['--delist', 'BTCUSDT']);
    emulator.kill('SIGUSR2');
    await emulator.waitFor(/^delisted BTCUSDT$/);
    await bot.waitFor(/delisting +the venue no longer trades BTCUSDT \(since \d{4}-\d\d-\d\d \d\d:\d\d UTC\): new entries there are refused; nothing of the bot's is open there/);

    const refused = start('signal', ['signal', 'open', '--symbol', 'BTCUSDT', '--side', 'buy', '--quantity', '0.01', '--stop-percent', '2', '--id', 'delisted-1', '--api', api]);
    const outcome = await refused.closed;
    assert.notEqual(outcome.code, 0, refused.tail());
    assert.match(refused.tail(), /the venue no longer trades BTCUSDT .*: no new entries there/);
    assert.doesNotMatch(bot.stdout, /stopped:/, 'the bot runs on');

    assert.deepEqual(await positionsOf(api, env), [['SOLUSDT', '2', true]], 'the position on the other symbol kept, its stop on the venue');
    bot.kill('SIGTERM');
    assert.equal((await bot.closed).code, 0, bot.tail());
    emulator.kill('SIGTERM');
    await emulator.closed;
  });
  it('closes the position on a symbol whose delisting is announced for within the hour, at market, through the venue', { timeout: 60_000 }, async (t) => {
    const { emulator, bot, api, env, start } = await tradingWithSolPosition(t, ['SOLUSDT', 'BTCUSDT'], ['--announce-delisting', 'SOLUSDT=30']);
    emulator.kill('SIGUSR2');
    await emulator.waitFor(/^delisting of SOLUSDT announced for /);
    // Thirty minutes' notice, under the default lead of 60: the close is due at once.
    await bot.waitFor(/delisting +the venue delists SOLUSDT at \d{4}-\d\d-\d\d \d\d:\d\d UTC: new entries there are refused; the bot holds a long of 2 there; the bot closes it at market now \(engine\.closeBeforeDelistingMinutes: 60\)/);
    await bot.waitFor(/closing at market: the venue delists SOLUSDT at .*, (29m[0-5]\d|30m00)s away \(engine\.closeBeforeDelistingMinutes: 60\)/);
    await bot.waitFor(/SOLUSDT +position-closed +position closed by a market exit/);
    assert.deepEqual(await positionsOf(api, env), [], 'nothing left open there');

    const refused = start('signal', ['signal', 'open', '--symbol', 'SOLUSDT', '--side', 'buy', '--quantity', '1', '--stop-percent', '2', '--id', 'delisting-1', '--api', api]);
    assert.notEqual((await refused.closed).code, 0, refused.tail());
    assert.match(refused.tail(), /the venue delists SOLUSDT at .*: no new entries there/);
    bot.kill('SIGTERM');
    assert.equal((await bot.closed).code, 0, bot.tail());
    emulator.kill('SIGTERM');
    await emulator.closed;
  });
});
