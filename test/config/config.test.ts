// `vigil run`'s configuration: YAML and JSON load to the same thing with every default filled in;
// each kind of mistake is reported with the path of its field, all of them at once; secrets are
// only ever read from the environment variables the file names, and never appear in a message.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { after, describe, it } from 'node:test';
import { ConfigError, loadConfigFile, parseConfigText, resolveSecrets } from '../../src/config/load.ts';
import { apiPortDefault } from '../../src/config/schema.ts';
import { Secret } from '../../src/config/secret.ts';

const directory = mkdtempSync(join(tmpdir(), 'vigil-config-'));
after(() => rmSync(directory, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(directory, name);
  writeFileSync(path, text);
  return path;
}

/** The problems a configuration has (it must have some). */
function problems(text: string, format: 'yaml' | 'json' = 'yaml'): readonly string[] {
  try {
    parseConfigText(text, format);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  assert.fail('expected the configuration to be refused');
}

const minimalYaml = `
botId: vg1
journal: data/vg1.sqlite
symbols: [SOLUSDT, ETHUSDT]
venue:
  kind: sim
  address: 127.0.0.1:4100
`;

const base = { botId: 'vg1', journal: 'j.sqlite', symbols: ['SOLUSDT'], venue: { kind: 'sim', address: '127.0.0.1:4100' } };
const yamlOf = (value: unknown): string => JSON.stringify(value); // JSON is YAML: the same parser as the operator's file

describe('the configuration file', () => {
  it('loads YAML and JSON alike, fills the defaults, and takes a relative journal from the file\'s directory', () => {
    const fromYaml = loadConfigFile(file('bot.yaml', minimalYaml));
    const fromJson = loadConfigFile(file('bot.json', JSON.stringify({ botId: 'vg1', journal: 'data/vg1.sqlite', symbols: ['SOLUSDT', 'ETHUSDT'], venue: { kind: 'sim', address: '127.0.0.1:4100' } })));
    assert.deepEqual(fromYaml, fromJson);
    assert.equal(fromYaml.journal, join(directory, 'data', 'vg1.sqlite'));
    assert.deepEqual(fromYaml.strategy, { kind: 'none' });
    assert.deepEqual(fromYaml.engine, { attachedStops: true, stopTriggerBy: 'mark', externalPositions: 'protect', externalStopPercent: 2, foreignOrders: 'leave', reconcileEveryMs: 120_000, takerFeePercent: 0.055, retainSettledMinutes: 60, closeBeforeDelistingMinutes: 60 });
    assert.deepEqual(fromYaml.api, { host: '127.0.0.1', port: apiPortDefault, tokenEnv: 'VIGIL_API_TOKEN', signalsPerSecond: 5 });
    assert.equal(fromYaml.dryRun, false);
    assert.deepEqual(fromYaml.log, { debug: false }, 'a trailing stop\'s every move is not logged unless asked for');
  });

  it('loads the example the README points to', () => {
    const example = loadConfigFile(join(import.meta.dirname, '..', '..', 'src', 'config', 'example.yaml'));
    assert.deepEqual([example.botId, example.venue.kind, example.strategy.kind, example.api.port], ['vigil1', 'sim', 'none', apiPortDefault]);
  });

  it('loads a full Bybit configuration with a strategy', () => {
    const config = parseConfigText(`
botId: cycle_1
journal: /var/lib/vigil/cycle.sqlite
symbols: [SOLUSDT]
strategy: { kind: tp-cycle, side: sell, notionalUsdt: 250, stopLossPercent: 1.2 }
engine: { attachedStops: false, stopTriggerBy: last, externalPositions: watch, foreignOrders: cancel, reconcileEveryMs: 60000 }
venue:
  kind: bybit
  network: custom
  restUrl: https://api-testnet.bybit.com
  wsPublicUrl: wss://stream-testnet.bybit.com/v5/public/linear
  wsPrivateUrl: wss://stream-testnet.bybit.com/v5/private
  apiKeyEnv: BYBIT_KEY
  apiSecretEnv: BYBIT_SECRET
  recvWindowMs: 5000
api: { port: 0, tokenEnv: OPS_TOKEN, signalsPerSecond: 2 }
dryRun: true
`, 'yaml');
    assert.equal(config.strategy.kind, 'tp-cycle');
    assert.equal(config.strategy.kind === 'tp-cycle' ? config.strategy.notionalUsdt : null, '250', 'amounts are kept as exact text');
    assert.equal(config.strategy.kind === 'tp-cycle' ? config.strategy.takeProfitPercent : null, 0.6, 'defaults fill what is not said');
    assert.equal(config.venue.kind === 'bybit' ? config.venue.apiKeyEnv : null, 'BYBIT_KEY');
    assert.equal(config.dryRun, true);
  });

  it('names the field of every mistake, all at once', () => {
    const found = problems(yamlOf({
      botId: 'has spaces', journal: '', symbols: ['SOLUSDT', 'solusdt', 'SOLUSDT'], strategy: { kind: 'tp-cycle', stopLossPercent: 0, notionalUsdt: 'lots' },
      engine: { attachedStop: true, stopTriggerBy: 'index', reconcileEveryMs: 1_000, retainSettledMinutes: 1, closeBeforeDelistingMinutes: -5 }, venue: { kind: 'sim', address: 'localhost' }, api: { port: 70_000 }, dryrun: true,
    }));
    const fields = found.map((problem) => problem.slice(0, problem.indexOf(':')));
    assert.deepEqual(fields, [
      'api.port', 'botId', 'dryrun', 'engine.attachedStop', 'engine.closeBeforeDelistingMinutes', 'engine.reconcileEveryMs', 'engine.retainSettledMinutes', 'engine.stopTriggerBy', 'journal',
      'strategy.notionalUsdt', 'strategy.stopLossPercent', 'symbols.1', 'symbols', 'venue.address',
    ], found.join('\n'));
    assert.ok(found.includes('engine.attachedStop: unknown key (expected one of: attachedStops, stopTriggerBy, externalPositions, externalStopPercent, foreignOrders, reconcileEveryMs, takerFeePercent, retainSettledMinutes, closeBeforeDelistingMinutes)'), found.join('\n'));
    assert.ok(found.includes('engine.closeBeforeDelistingMinutes: expected 0 minutes or more'), found.join('\n'));
    assert.ok(found.includes('symbols: a symbol is listed twice'));
    assert.ok(found.some((problem) => problem.startsWith('engine.retainSettledMinutes: expected 10 minutes or more')), found.join('\n'));
    // In words, not the validator's ("Invalid option: expected one of \"mark\"|\"last\"", "Too big: expected number to be <=65535").
    assert.ok(found.includes('engine.stopTriggerBy: expected one of mark, last'), found.join('\n'));
    assert.ok(found.includes('api.port: must be at most 65535'), found.join('\n'));
  });

  it('checks across fields even when a field elsewhere has the wrong type: one round of fixes, not two', () => {
    const found = problems(yamlOf({
      botId: 5, journal: 'j.sqlite', symbols: ['BTCUSDT'], api: { port: 'x' },
      venue: { kind: 'bybit', network: 'custom', apiKeyEnv: 'K', apiSecretEnv: 'S', recvWindowMs: '5000' },
      protection: { symbols: { ETHUSDT: { stopLoss: { percent: 1 } } } },
    }));
    assert.deepEqual(found.map((problem) => problem.slice(0, problem.indexOf(':'))), [
      'api.port', 'botId', 'protection.symbols.ETHUSDT', 'venue.recvWindowMs', 'venue.restUrl', 'venue.wsPrivateUrl', 'venue.wsPublicUrl',
    ], found.join('\n'));
    // A cross-field check whose own fields are wrong stays quiet: its message would be about a guess.
    const unsure = problems(yamlOf({ botId: 'b', journal: 'j.sqlite', symbols: 'BTCUSDT', venue: { kind: 'sim', address: '127.0.0.1:1' }, protection: { symbols: { ETHUSDT: { stopLoss: { percent: 1 } } } } }));
    assert.deepEqual(unsure.map((problem) => problem.slice(0, problem.indexOf(':'))), ['symbols'], unsure.join('\n'));
  });

  it('says what is missing and which kinds exist', () => {
    assert.deepEqual(problems('{}', 'json'), [
      'botId: required (expected string)', 'journal: required (expected string)', 'symbols: required (expected array)', 'venue: required (expected object)',
    ]);
    assert.deepEqual(problems(yamlOf({ ...base, venue: { kind: 'binance' } })), ['venue.kind: expected one of sim, bybit']);
    assert.deepEqual(problems(yamlOf({ ...base, strategy: { kind: 'grid' } })), ['strategy.kind: expected one of none, tp-cycle']);
    assert.deepEqual(problems('- a list'), ['(the file): expected object, received array']);
  });

  it('wants the custom URLs exactly when the network is custom', () => {
    const bybit = { kind: 'bybit', apiKeyEnv: 'K', apiSecretEnv: 'S' };
    assert.deepEqual(problems(yamlOf({ ...base, venue: { ...bybit, network: 'custom', restUrl: 'https://example.test' } })), [
      'venue.wsPrivateUrl: required with network: custom', 'venue.wsPublicUrl: required with network: custom',
    ]);
    assert.deepEqual(problems(yamlOf({ ...base, venue: { ...bybit, network: 'testnet', restUrl: 'https://example.test' } })), [
      'venue.restUrl: only for network: custom (the testnet URLs are built in)',
    ]);
    assert.deepEqual(problems(yamlOf({ ...base, venue: { ...bybit, network: 'custom', restUrl: 'ftp://x', wsPublicUrl: 'http://x', wsPrivateUrl: 'wss://x' } })), [
      'venue.restUrl: expected an http:// or https:// URL', 'venue.wsPublicUrl: expected a ws:// or wss:// URL',
    ]);
  });

  it('refuses a user name or password in a venue URL (it is logged and shown by /api/health), naming the field, never the value', () => {
    const bybit = { kind: 'bybit', network: 'custom', apiKeyEnv: 'K', apiSecretEnv: 'S' };
    const urls = { restUrl: 'https://admin:hunter2@x.example', wsPublicUrl: 'wss://admin@x.example/public', wsPrivateUrl: 'wss://:hunter2@x.example/private' };
    const found = problems(yamlOf({ ...base, venue: { ...bybit, ...urls } }));
    const refused = 'a user name or password in the URL is refused: the URL is logged and shown by /api/health (the venue\'s key and secret go in apiKeyEnv and apiSecretEnv); what was given is not shown';
    assert.deepEqual(found, [`venue.restUrl: ${refused}`, `venue.wsPrivateUrl: ${refused}`, `venue.wsPublicUrl: ${refused}`]);
    assert.ok(!found.join('\n').includes('hunter2') && !found.join('\n').includes('admin'), found.join('\n'));
    const fine = parseConfigText(yamlOf({ ...base, venue: { ...bybit, restUrl: 'https://x.example/a@b', wsPublicUrl: 'wss://x.example/public', wsPrivateUrl: 'wss://x.example:9443/private' } }), 'yaml');
    assert.equal(fine.venue.kind === 'bybit' ? fine.venue.restUrl : null, 'https://x.example/a@b', 'an @ in the path is no password');
    assert.deepEqual(problems(yamlOf({ ...base, venue: { ...bybit, restUrl: 'https://[x', wsPublicUrl: 'wss://x', wsPrivateUrl: 'wss://x' } })), ['venue.restUrl: expected an http:// or https:// URL']);
  });

  it('takes a strategy\'s notional given as a number in exponent form, and says when it is too large', () => {
    const strategy = (notionalUsdt: unknown): unknown => yamlOf({ ...base, strategy: { kind: 'tp-cycle', notionalUsdt } });
    const tiny = parseConfigText(String(strategy(0.0000001)), 'yaml');
    assert.equal(tiny.strategy.kind === 'tp-cycle' ? tiny.strategy.notionalUsdt : null, '0.0000001');
    assert.deepEqual(problems(String(strategy('1'.repeat(40)))), ['strategy.notionalUsdt: too large: at most 90071992.54740991 USDT (too many digits for the engine to count exactly)']);
  });

  it('refuses secrets in the file, and never repeats a value that may be one', () => {
    const secret = 'Zx9TOPSECRETvalue42';
    const found = problems(yamlOf({ ...base, venue: { kind: 'bybit', network: 'mainnet', apiKey: secret, apiSecret: secret, apiKeyEnv: secret, apiSecretEnv: 'S' }, api: { token: secret } }));
    assert.deepEqual(found, [
      'api.token: secrets are not read from the configuration file: put the value in an environment variable and its NAME in api.tokenEnv',
      'venue.apiKey: secrets are not read from the configuration file: put the value in an environment variable and its NAME in venue.apiKeyEnv',
      'venue.apiKeyEnv: expected the NAME of an environment variable (A-Z, 0-9 and _, such as BYBIT_API_KEY), not its value; what was given is not shown',
      'venue.apiSecret: secrets are not read from the configuration file: put the value in an environment variable and its NAME in venue.apiSecretEnv',
    ]);
    assert.ok(!found.join('\n').includes(secret));
  });

  it('reports a syntax error by position only (the line could hold anything)', () => {
    const yaml = problems('botId: vg1\nvenue: {kind: sim, apiKey: "Zx9TOPSECRET\n');
    assert.equal(yaml.length > 0, true);
    assert.match(yaml[0] ?? '', /^not valid YAML at line \d+, column \d+: /);
    assert.ok(!yaml.join('\n').includes('Zx9TOPSECRET'));
    const json = problems('{"botId": "vg1",\n "apiKey": Zx9TOPSECRET}', 'json');
    assert.equal(json.length, 1);
    assert.match(json[0] ?? '', /^not valid JSON( at line 2, column \d+)?$/, 'V8 gives the position for some mistakes, never the text');
    assert.deepEqual(problems('{"botId": "vg1",}', 'json'), ['not valid JSON at line 1, column 17']);
    assert.deepEqual(problems('botId: a\nbotId: b\n'), ['not valid YAML at line 2, column 1: duplicate key']);
  });

  it('reads JSON with a byte order mark, and refuses a key given twice, naming it and its line', () => {
    const json = JSON.stringify({ botId: 'vg1', journal: 'data/vg1.sqlite', symbols: ['SOLUSDT', 'ETHUSDT'], venue: { kind: 'sim', address: '127.0.0.1:4100' } });
    assert.deepEqual(loadConfigFile(file('bom.json', `\uFEFF${json}`)), loadConfigFile(file('plain.json', json)), 'as some Windows editors save it');
    assert.deepEqual(problems('{"botId": "vg1",\n "journal": "j.sqlite",\n "botId": "Zx9TOPSECRET"}', 'json'), [
      'botId: the key is given twice (again at line 3, column 2); give each key once',
    ]);
    const nested = problems('{"botId": "vg1", "journal": "j", "symbols": ["SOLUSDT"],\r\n "venue": {"kind": "sim", "address": "127.0.0.1:4100",\r\n   "kind": "bybit"}}', 'json');
    assert.deepEqual(nested, ['venue.kind: the key is given twice (again at line 3, column 4); give each key once']);
    assert.deepEqual(problems('{"botId": "a", "\\u0062otId": "b"}', 'json'), ['botId: the key is given twice (again at line 1, column 16); give each key once'], 'the same key, escaped');
    assert.deepEqual(problems('\uFEFF{"botId": "vg1",}', 'json'), ['not valid JSON at line 1, column 17'], 'still strict JSON: no trailing comma');
  });

  it('says when the file is not there or not a configuration', () => {
    assert.throws(() => loadConfigFile(join(directory, 'missing.yaml')), (error: unknown) => error instanceof ConfigError && /cannot read the file: ENOENT/.test(error.message));
    assert.throws(() => loadConfigFile(file('bot.toml', 'x = 1')), /expected a \.yaml, \.yml or \.json file, got "\.toml"/);
  });
});

describe('secrets from the environment', () => {
  const bybit = parseConfigText(yamlOf({ ...base, venue: { kind: 'bybit', network: 'testnet', apiKeyEnv: 'T_KEY', apiSecretEnv: 'T_SECRET' }, api: { tokenEnv: 'T_TOKEN' } }), 'yaml');

  it('reads every variable the configuration names', () => {
    const secrets = resolveSecrets(bybit, { T_KEY: 'key-value', T_SECRET: 'secret-value', T_TOKEN: 'token-value-0123456789' });
    assert.equal(secrets.venue?.apiKey.reveal(), 'key-value');
    assert.equal(secrets.venue?.apiSecret.reveal(), 'secret-value');
    assert.equal(secrets.apiToken.reveal(), 'token-value-0123456789');
    const sim = parseConfigText(yamlOf(base), 'yaml');
    assert.equal(resolveSecrets(sim, { VIGIL_API_TOKEN: 'token-value-0123456789' }).venue, null, 'the simulated venue needs no key');
  });

  it('names every missing variable at once, never a value', () => {
    assert.throws(() => resolveSecrets(bybit, { T_KEY: '  ', T_TOKEN: 'Qq7xWw' }), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.deepEqual(error.problems, [
        'api.tokenEnv: the token in T_TOKEN is shorter than 16 characters; use a long random one (openssl rand -hex 32)',
        'venue.apiKeyEnv: the environment variable T_KEY is not set (or is empty)',
        'venue.apiSecretEnv: the environment variable T_SECRET is not set (or is empty)',
      ]);
      assert.ok(!error.message.includes('Qq7xWw'));
      return true;
    });
  });

  it('reads a secret from the file its _FILE variable names, without the file\'s last line break', () => {
    const key = file('key.txt', 'key-from-file\n');
    const token = file('token.txt', 'token-from-file-0123456789\r\n');
    const secrets = resolveSecrets(bybit, { T_KEY_FILE: key, T_SECRET: 'secret-value', T_TOKEN_FILE: token });
    assert.equal(secrets.venue?.apiKey.reveal(), 'key-from-file');
    assert.equal(secrets.apiToken.reveal(), 'token-from-file-0123456789');
    assert.equal(String(secrets.venue?.apiKey), '[secret T_KEY]');
  });

  it('refuses a secret with a space or line break at an end, both sources at once, or a file it cannot read, never quoting a value', () => {
    const padded = file('padded.txt', 'key-from-file\n\n');
    assert.throws(() => resolveSecrets(bybit, { T_KEY: 'key-value ', T_SECRET_FILE: padded, T_TOKEN: '\ttoken-value-0123456789' }), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.deepEqual(error.problems, [
        'api.tokenEnv: the environment variable T_TOKEN has a space or line break at its start or end; remove it',
        'venue.apiKeyEnv: the environment variable T_KEY has a space or line break at its start or end; remove it',
        `venue.apiSecretEnv: the file ${padded} (T_SECRET_FILE) has a space or line break at its start or end; remove it`,
      ]);
      assert.ok(!error.message.includes('value') && !error.message.includes('key-from-file'), error.message);
      return true;
    });
    const missing = join(directory, 'missing.txt');
    assert.throws(() => resolveSecrets(bybit, { T_KEY: 'key-value', T_KEY_FILE: padded, T_SECRET_FILE: missing, T_TOKEN: 'token-value-0123456789' }), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.deepEqual(error.problems, [
        'venue.apiKeyEnv: both T_KEY and T_KEY_FILE are set; set one',
        `venue.apiSecretEnv: cannot read the file ${missing} (T_SECRET_FILE): ENOENT`,
      ]);
      return true;
    });
  });

  it('keeps a secret from printing itself, however it is printed', () => {
    const secret = new Secret('T_KEY', 'Zx9TOPSECRET');
    const shown = [String(secret), secret.toString(), JSON.stringify({ secret }), inspect(secret), inspect({ nested: { secret } }, { depth: 5 })].join('\n');
    assert.ok(!shown.includes('Zx9TOPSECRET'), shown);
    assert.match(shown, /\[secret T_KEY\]/);
    assert.equal(secret.reveal(), 'Zx9TOPSECRET');
  });
});
