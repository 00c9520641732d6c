// The live-mode operator contract end to end, with real processes: `vigil venue` (the simulated
// venue over loopback), `vigil run --config <yaml>` against it, and `vigil signal` talking to the
// bot's API. A signal opens a position whose stop the venue holds (seen through GET /api/positions
// and the venue's own audit), a repeat of it is a no-op, a second one on the symbol is refused,
// /metrics parses, every route wants the token, a close closes, and after a restart the repeat is
// still a no-op; the webhook wants its own secret and reads a TradingView ticker; a dry run sends nothing; a bad
// configuration exits 2 naming the field; a simulated venue not running is said at once; a Bybit
// configuration reads its key and secret from the environment. Finally every line any process
// printed is searched for the token, the key and the secret: none may appear.
//
// Nothing sleeps and hopes: each step waits for a line of output, a process's exit or an answer of
// the API or the venue, with generous timeouts; every child is killed when the test ends.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Child, Exit } from '../support/child.ts';
import { processGroup } from '../support/child.ts';
import type { Endpoint } from '../../src/venues/sim/remote.ts';
import { requestAudit } from '../../src/venues/sim/remote.ts';

describe('vigil run, the operator API and vigil signal, as processes', () => {
  it('opens, protects, reports and closes through the API; keeps secrets out of every output', { timeout: 90_000 }, async (t) => {
    const group = processGroup(t, 'vigil-run-');
    const { directory } = group;
    const children: Child[] = [];
    const token = `tok${randomBytes(24).toString('hex')}`;
    const bybitKey = `key${randomBytes(12).toString('hex')}`;
    const bybitSecret = `sec${randomBytes(24).toString('hex')}`;
    const webhookSecret = `hook${randomBytes(24).toString('hex')}`;
    const env: NodeJS.ProcessEnv = { ...process.env, VIGIL_API_TOKEN: token, E2E_BYBIT_KEY: bybitKey, E2E_BYBIT_SECRET: bybitSecret, E2E_WEBHOOK_SECRET: webhookSecret };
    delete env.VIGIL_API;
    delete env.VIGIL_FAULT_KILL;
    const start = (name: string, args: readonly string[]): Child => {
      const child = group.start(name, args, env);
      children.push(child);
      return child;
    };
    const config = (name: string, text: string): string => {
      const path = join(directory, name);
      writeFileSync(path, text);
      return path;
    };

    // A Bybit configuration: its key and secret come from the environment. The venue it names is a
    // closed loopback port, so whatever the adapter does, it cannot start; it must say so without them.
    const bybit = start('run (bybit)', ['run', '--config', config('bybit.yaml', [
      'botId: e2ebybit', 'journal: bybit.sqlite', 'symbols: [SOLUSDT]', 'api: { port: 0 }',
      'venue: { kind: bybit, network: custom, restUrl: "http://127.0.0.1:1", wsPublicUrl: "ws://127.0.0.1:1", wsPrivateUrl: "ws://127.0.0.1:1",',
      '         apiKeyEnv: E2E_BYBIT_KEY, apiSecretEnv: E2E_BYBIT_SECRET }',
    ].join('\n'))]);

    // A configuration with mistakes exits 2 and names each field.
    const bad = start('run (bad config)', ['run', '--config', config('bad.yaml', 'botId: e2e\njournal: j.sqlite\nsymbols: [SOLUSDT]\nengine: { attachedStop: false }\nvenue: { kind: sim }\n')]);

    // The simulated venue's address with nothing listening: said at once, exit 1 (not a minute of reconnect alarms).
    const absent = start('run (no venue)', ['run', '--config', config('absent.yaml', 'botId: e2eabsent\njournal: absent.sqlite\nsymbols: [SOLUSDT]\napi: { port: 0 }\nvenue: { kind: sim, address: "127.0.0.1:1" }\n')]);

    const venue = start('venue', ['venue', '--port', '0', '--symbols', 'SOLUSDT,ETHUSDT', '--seed', '5']);
    const listening = await venue.waitFor(/^listening (127\.0\.0\.1):(\d+)$/);
    const endpoint: Endpoint = { host: '127.0.0.1', port: Number(listening[2]) };

    const botConfig = config('bot.yaml', [
      'botId: e2e', 'journal: bot.sqlite', 'symbols: [SOLUSDT]', 'strategy: { kind: none }',
      `venue: { kind: sim, address: "127.0.0.1:${endpoint.port}" }`, 'api: { port: 0, tokenEnv: VIGIL_API_TOKEN, webhook: { secretEnv: E2E_WEBHOOK_SECRET } }',
    ].join('\n'));
    const bot = start('run', ['run', '--config', botConfig]);
    const api = (await bot.waitFor(/^api listening on (http:\/\/127\.0\.0\.1:\d+) /))[1] ?? '';
    await bot.waitFor(/\bphase trading\b/);

    // A second bot on the same journal is refused at once, and the first goes on.
    const second = start('run (same journal)', ['run', '--config', botConfig]);
    const secondExit = await second.closed;
    assert.equal(secondExit.code, 1, second.stdout + second.stderr);
    assert.match(second.stdout + second.stderr, /journal \S*bot\.sqlite is in use by another process \(it holds \S*bot\.sqlite\.lock\): one bot per journal/);
    const get = async (path: string, bearer: string | null = token): Promise<{ status: number; text: string; json: () => Record<string, unknown> }> => {
      const response = await fetch(`${api}${path}`, { headers: bearer === null ? {} : { authorization: `Bearer ${bearer}` } });
      const text = await response.text();
      return { status: response.status, text, json: () => JSON.parse(text) as Record<string, unknown> };
    };
    const signal = async (name: string, args: readonly string[]): Promise<{ exit: Exit; out: string }> => {
      const child = start(`signal ${name}`, ['signal', ...args, '--api', api]);
      const exit = await child.closed;
      return { exit, out: child.stdout + child.stderr };
    };

    // Every route wants the token.
    for (const path of ['/api/health', '/api/positions', '/metrics']) {
      assert.equal((await get(path, null)).status, 401, `${path} without a token`);
      assert.equal((await get(path, 'not-the-token')).status, 401, `${path} with a wrong token`);
    }

    // Open: accepted; the same id again: a no-op; another id on the same symbol: refused (409).
    const openArgs = ['open', '--symbol', 'SOLUSDT', '--side', 'buy', '--quantity', '1', '--stop-percent', '2', '--take-profit-percent', '5'];
    const opened = await signal('open', [...openArgs, '--id', 'e2e-open-1']);
    assert.equal(opened.exit.code, 0, opened.out);
    const intent = /^accepted: accepted as (e2e-\d+) \(id e2e-open-1\)$/m.exec(opened.out)?.[1];
    assert.ok(intent !== undefined, opened.out);
    const repeated = await signal('repeat', [...openArgs, '--id', 'e2e-open-1']);
    assert.equal(repeated.exit.code, 0, repeated.out);
    assert.match(repeated.out, new RegExp(`^duplicate: already handled \\(id e2e-open-1\\): accepted as ${intent}$`, 'm'));
    const refused = await signal('second', [...openArgs, '--id', 'e2e-open-2']);
    assert.equal(refused.exit.code, 1, refused.out);
    assert.match(refused.out, /^rejected \(409\): SOLUSDT already has an active position or entry/m);
    const usage = await signal('usage', ['open', '--symbol', 'SOLUSDT', '--quantity', '1', '--stop-percent', '2']);
    assert.equal(usage.exit.code, 2, usage.out);

    // The position and its stop, as the bot shows them and as the venue holds them.
    await bot.waitFor(new RegExp(`stop-working +${intent} stop \\S+ armed with the fill`));
    const positions = (await get('/api/positions')).json().positions as Record<string, unknown>[];
    assert.equal(positions.length, 1);
    const [position] = positions;
    assert.deepEqual([position?.symbol, position?.side, position?.quantity, position?.stopOnVenue], ['SOLUSDT', 'long', '1', true], JSON.stringify(position));
    const audit = await requestAudit(endpoint);
    const held = audit.positions.find((candidate) => candidate.symbol === 'SOLUSDT');
    assert.equal(held?.sizeLots, 10, 'the venue holds 1 SOL (10 lots of 0.1)');
    assert.equal(held.protected, true, 'the venue holds a stop for the whole position');
    const entries = audit.submissions.filter((submission) => submission.clientOrderId === `${intent}-e`);
    assert.equal(entries.length, 1, 'one entry order, whatever the repeats');
    const stopTicks = entries[0]?.spec.stopLoss?.triggerTicks;
    assert.equal(position?.stopLoss, stopTicks === undefined ? undefined : (stopTicks / 100).toString(), 'the stop shown is the stop sent (SOLUSDT tick 0.01)');
    assert.equal(held.stopLossTicks, stopTicks, 'the venue armed that stop on the position');

    // The metrics parse and count what happened.
    const metrics = await get('/metrics');
    assert.equal(metrics.status, 200);
    for (const line of metrics.text.split('\n')) {
      if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
      assert.match(line, /^vigil_[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? -?\d+(\.\d+)?(e[-+]\d+)?$/, line);
    }
    assert.match(metrics.text, /^vigil_orders_submitted_total\{role="entry"\} 1$/m);
    assert.match(metrics.text, /^vigil_signals_total\{source="api",result="duplicate"\} 1$/m);
    assert.match(metrics.text, /^vigil_phase\{phase="trading"\} 1$/m);
    const health = (await get('/api/health')).json();
    assert.equal(health.phase, 'trading');
    assert.equal((health.lastReconciliation as Record<string, unknown>).reason, 'startup');

    // The webhook: its own secret, not the token; a TradingView ticker; the secret never printed (checked at the end).
    const hook = async (body: Record<string, unknown>): Promise<{ status: number; json: Record<string, unknown> }> => {
      const response = await fetch(`${api}/webhook`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { status: response.status, json: await response.json() as Record<string, unknown> };
    };
    assert.equal((await hook({ secret: token, id: 'hook-1', symbol: 'BYBIT:ETHUSDT.P', action: 'close' })).status, 401, 'the API token is not the webhook secret');
    const hooked = await hook({ secret: webhookSecret, id: 'hook-1', symbol: 'BYBIT:ETHUSDT.P', action: 'close' });
    assert.deepEqual([hooked.status, hooked.json.requestId, hooked.json.reason], [409, 'tv:hook-1', 'no open position or entry on ETHUSDT']);
    assert.match((await get('/metrics')).text, /^vigil_signals_total\{source="webhook",result="unauthorized"\} 1$/m);

    // Close.
    const closed = await signal('close', ['close', '--symbol', 'SOLUSDT', '--id', 'e2e-close-1']);
    assert.equal(closed.exit.code, 0, closed.out);
    assert.match(closed.out, new RegExp(`^accepted: closing ${intent} \\(id e2e-close-1\\)$`, 'm'));
    await bot.waitFor(/position-closed +position closed by a market exit/);

    // A dry run: it connects, reconciles and accepts the signal, and the venue never hears of an order.
    const submissionsBefore = (await requestAudit(endpoint)).submissions.length;
    const dry = start('run --dry-run', ['run', '--dry-run', '--config', config('dry.yaml', [
      'botId: e2edry', 'journal: dry.sqlite', 'symbols: [ETHUSDT]', `venue: { kind: sim, address: "127.0.0.1:${endpoint.port}" }`, 'api: { port: 0 }',
    ].join('\n'))]);
    const dryApi = (await dry.waitFor(/^api listening on (http:\/\/127\.0\.0\.1:\d+) /))[1] ?? '';
    await dry.waitFor(/\bphase trading\b/);
    const dryChild = start('signal (dry run)', ['signal', 'open', '--symbol', 'ETHUSDT', '--side', 'sell', '--notional', '100', '--stop-price', '9999', '--id', 'dry-1', '--api', dryApi]);
    assert.equal((await dryChild.closed).code, 0, dryChild.tail());
    assert.match(dryChild.stdout, /^accepted: accepted as e2edry-\d+ \(id dry-1\) \[dry run: no order is sent\]$/m);
    await dry.waitFor(/dry run: no orders are sent/);
    assert.equal((await requestAudit(endpoint)).submissions.length, submissionsBefore, 'the dry run sent nothing');
    dry.kill('SIGTERM');
    assert.equal((await dry.closed).code, 0, dry.tail());

    bot.kill('SIGTERM');
    assert.equal((await bot.closed).code, 0, bot.tail());
    assert.match(bot.lines.at(-1) ?? '', /^stopped: SIGTERM$/);
    assert.equal(bot.stderr, '', 'the bot wrote nothing to stderr');

    // Restarted from its journal, the bot still knows the signal: a repeat is still a no-op.
    await t.test('after a restart, the repeat is still a no-op', async () => {
      const restarted = start('run (restarted)', ['run', '--config', join(directory, 'bot.yaml')]);
      try {
        const restartedApi = (await restarted.waitFor(/^api listening on (http:\/\/127\.0\.0\.1:\d+) /))[1] ?? '';
        const late = start('signal (after restart)', ['signal', ...openArgs, '--id', 'e2e-open-1', '--api', restartedApi]);
        assert.equal((await late.closed).code, 0, late.tail());
        assert.match(late.stdout, new RegExp(`^duplicate: already handled \\(id e2e-open-1\\): accepted as ${intent}$`, 'm'));
      } finally {
        restarted.kill('SIGTERM');
        await restarted.closed;
      }
    });

    venue.kill('SIGTERM');
    await venue.closed;

    const badExit = await bad.finished();
    assert.equal(badExit.code, 2, bad.tail());
    assert.match(bad.stderr, /^ {2}engine\.attachedStop: unknown key/m);
    assert.match(bad.stderr, /^ {2}venue\.address: required/m);
    const absentExit = await absent.finished();
    assert.equal(absentExit.code, 1, absent.tail());
    assert.match(absent.stderr + absent.stdout, /the simulated venue at 127\.0\.0\.1:1 could not be reached \(ECONNREFUSED\); is `vigil venue --port 1` running\?/);
    const bybitExit = await bybit.finished();
    if (!bybitExit.timedOut) assert.notEqual(bybitExit.code, 0, `the Bybit bot cannot have started\n${bybit.tail()}`);
    t.diagnostic(`bybit configuration: ${bybitExit.timedOut ? 'still trying after the timeout' : `exit ${bybitExit.code}`}: ${(bybit.stderr + bybit.stdout).trim().split('\n').at(-1) ?? ''}`);

    // No secret in anything any process printed.
    for (const child of children) {
      for (const [what, secret] of [['the API token', token], ['the Bybit key', bybitKey], ['the Bybit secret', bybitSecret], ['the webhook secret', webhookSecret]] as const) {
        assert.ok(!child.stdout.includes(secret) && !child.stderr.includes(secret), `${child.name} printed ${what}`);
      }
    }
  });
});
