// `vigil run` on Bybit, as an operator runs it, against `vigil emulator`: three processes, Bybit's
// real protocol between them (the real ccxt client in the bot, HMAC-signed REST, authenticated
// WebSockets). The bot reaches trading, a `vigil signal` opens a position whose stop-loss is
// attached to the entry, and the emulator's own position list (read with a signed request, as any
// Bybit client would) shows the position with that stop. Neither the API token nor the Bybit key
// or secret appears in anything any process printed.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { signedGet } from '../emulator/client.ts';
import type { Child } from '../support/child.ts';
import { processGroup } from '../support/child.ts';

describe('vigil run on Bybit against vigil emulator', () => {
  it('trades through the real protocol: a signal becomes a position with its stop on the venue', { timeout: 60_000 }, async (t) => {
    const group = processGroup(t, 'vigil-run-bybit-');
    const { directory } = group;
    const token = `tok${randomBytes(24).toString('hex')}`;
    const keys = { key: `key${randomBytes(8).toString('hex')}`, secret: `sec${randomBytes(16).toString('hex')}` };
    const env: NodeJS.ProcessEnv = { ...process.env, VIGIL_API_TOKEN: token, E2E_KEY: keys.key, E2E_SECRET: keys.secret, VIGIL_EMULATOR_KEY: keys.key, VIGIL_EMULATOR_SECRET: keys.secret };
    const children: Child[] = [];
    const start = (name: string, args: readonly string[]): Child => {
      const child = group.start(name, args, env);
      children.push(child);
      return child;
    };

    const emulator = start('emulator', ['emulator', '--symbols', 'SOLUSDT,ETHUSDT', '--volatility-bps', '0', '--reply-delay-ms', '50']);
    const port = Number((await emulator.waitFor(/^listening http:\/\/127\.0\.0\.1:(\d+) /))[1]);
    const config = join(directory, 'bybit.yaml');
    writeFileSync(config, [
      'botId: e2e', 'journal: bot.sqlite', 'symbols: [SOLUSDT, ETHUSDT]', 'api: { port: 0 }',
      `venue: { kind: bybit, network: custom, restUrl: "http://127.0.0.1:${port}", wsPublicUrl: "ws://127.0.0.1:${port}/v5/public/linear",`,
      `         wsPrivateUrl: "ws://127.0.0.1:${port}/v5/private", apiKeyEnv: E2E_KEY, apiSecretEnv: E2E_SECRET }`,
    ].join('\n'));
    const bot = start('run', ['run', '--config', config]);
    const api = (await bot.waitFor(/^api listening on (http:\/\/127\.0\.0\.1:\d+) /))[1] ?? '';
    await bot.waitFor(/\bphase trading\b/);

    const signal = start('signal', ['signal', 'open', '--symbol', 'SOLUSDT', '--side', 'buy', '--quantity', '2', '--stop-percent', '2', '--id', 'bybit-1', '--api', api]);
    assert.equal((await signal.closed).code, 0, signal.tail());
    await bot.waitFor(/stop-working .* armed with the fill/);

    const reply = await signedGet(port, '/v5/position/list', 'category=linear&settleCoin=USDT', Date.now(), { keys });
    assert.equal(reply.json.retCode, 0, reply.json.retMsg);
    const positions = reply.json.result.list as { symbol: string; size: string; side: string; stopLoss: string }[];
    const sol = positions.find((position) => position.symbol === 'SOLUSDT');
    assert.deepEqual([sol?.side, sol?.size], ['Buy', '2'], JSON.stringify(positions));
    assert.ok(Number(sol?.stopLoss) > 0 && Number(sol?.stopLoss) < 150, `a stop-loss under the entry: ${sol?.stopLoss ?? 'none'}`);

    bot.kill('SIGTERM');
    assert.equal((await bot.closed).code, 0, bot.tail());
    emulator.kill('SIGTERM');
    await emulator.closed;
    for (const child of children) {
      for (const [what, secret] of [['the API token', token], ['the Bybit key', keys.key], ['the Bybit secret', keys.secret]] as const) {
        assert.ok(!child.stdout.includes(secret) && !child.stderr.includes(secret), `${child.name} printed ${what}`);
      }
    }
  });
});
