// The `protection` section of `vigil run`'s file: every mistake named by its field path, the
// per-symbol plan laid over the default field by field (null switches a part off), the request
// parts the engine gets, the external plan and engine.externalStopPercent, what a strategy's entries
// get, and the webhook's secret read from the environment.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfigFile, parseConfigText, resolveSecrets } from '../../src/config/load.ts';
import { externalPlanOf, mergePlan, planForSymbol, strategyExtrasOf } from '../../src/config/protection.ts';
import type { RunConfig } from '../../src/config/schema.ts';
import { engineConfigOf, withConfiguredPlan } from '../../src/cli/run.ts';

const base = { botId: 'vg1', journal: 'j.sqlite', symbols: ['SOLUSDT', 'BTCUSDT'], venue: { kind: 'sim', address: '127.0.0.1:4100' } };

/** The README's plan. */
const plan = {
  default: {
    stopLoss: { percent: 2 },
    stopTriggerBy: 'mark',
    takeProfits: [{ percent: 2, sizePercent: 50 }, { percent: 4, sizePercent: 50 }],
    breakevenAfterFirstTarget: true,
    trailing: { mode: 'bot', activationPercent: 1, callbackPercent: 0.5, amendEveryMs: 1000 },
    aged: { maxAgeMinutes: 240, graceMinutes: 30, stepPercent: 0.1, stepEveryMinutes: 5, hardLimitMinutes: 480 },
  },
  symbols: { BTCUSDT: { trailing: { mode: 'bot', callbackPercent: 0.3, amendEveryMs: 500 } } },
  external: { stopLoss: { percent: 3 }, trailing: null, aged: null },
};

function load(value: unknown): RunConfig {
  return parseConfigText(JSON.stringify(value), 'yaml');
}

function problems(value: unknown): readonly string[] {
  try {
    load(value);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  assert.fail('expected the configuration to be refused');
}

/** The problems of a file whose default plan has `fields` over the README's. */
const defaultProblems = (fields: Record<string, unknown>, extra: Record<string, unknown> = {}): readonly string[] =>
  problems({ ...base, ...extra, protection: { default: { ...plan.default, ...fields } } });

describe('the protection section: each mistake, named by its field', () => {
  it('a ladder whose sizes sum to more than 100 %', () => {
    assert.deepEqual(defaultProblems({ takeProfits: [{ percent: 2, sizePercent: 60 }, { percent: 4, sizePercent: 50 }] }), [
      'protection.default.takeProfits: the sizes sum to 110 %, more than 100 % of the position',
    ]);
  });

  it('a callback that is zero or negative', () => {
    for (const callbackPercent of [0, -0.5]) {
      assert.deepEqual(defaultProblems({ trailing: { mode: 'bot', callbackPercent } }), ['protection.default.trailing.callbackPercent: expected a percent above 0'], String(callbackPercent));
    }
    assert.deepEqual(defaultProblems({ trailing: { callbackPrice: '-25' } }), [
      'protection.default.trailing.callbackPrice: expected a positive decimal, such as "25" or "0.5" (text keeps it exact)',
    ]);
  });

  it('both callbackPercent and callbackPrice, or neither', () => {
    assert.deepEqual(defaultProblems({ trailing: { callbackPercent: 0.5, callbackPrice: '25' } }), [
      'protection.default.trailing.callbackPercent: give callbackPercent or callbackPrice, not both',
    ]);
    assert.deepEqual(defaultProblems({ trailing: { mode: 'bot' } }), [
      'protection.default.trailing.callbackPercent: required: the callback distance, as callbackPercent (of the price) or callbackPrice (a price distance)',
    ]);
  });

  it('a minimum move given twice, negative, or for the venue\'s trailing', () => {
    assert.deepEqual(defaultProblems({ trailing: { callbackPercent: 1, minMovePercent: 0.1, minMovePrice: '5' } }), [
      'protection.default.trailing.minMovePercent: give minMovePercent or minMovePrice, not both',
    ]);
    assert.deepEqual(defaultProblems({ trailing: { callbackPercent: 1, minMovePercent: -0.1 } }), ['protection.default.trailing.minMovePercent: expected a percent above 0']);
    assert.deepEqual(defaultProblems({ trailing: { callbackPercent: 0.5, minMovePercent: 0.5 } }), [
      'protection.default.trailing.minMovePercent: expected less than callbackPercent (0.5): a stop that moves only in steps this large lags the best price by up to the two together',
    ]);
    assert.deepEqual(defaultProblems({ trailing: { callbackPrice: '2.5', minMovePrice: '2.50' } }), [
      'protection.default.trailing.minMovePrice: expected less than callbackPrice (2.5): a stop that moves only in steps this large lags the best price by up to the two together',
    ]);
    assert.deepEqual(defaultProblems({ breakevenAfterFirstTarget: false, trailing: { mode: 'venue', callbackPercent: 1, minMovePrice: '5' } }), [
      'protection.default.trailing.minMovePrice: applies to mode: bot (the venue moves its own trailing stop, tick by tick)',
    ]);
    const loaded = load({ ...base, protection: { default: { stopLoss: { percent: 2 }, trailing: { callbackPercent: 1, minMovePercent: 0.2 } } } });
    assert.deepEqual(planForSymbol(loaded.protection, 'SOLUSDT')?.protection.trailing, {
      mode: 'bot', activation: null, callback: { percent: 1 }, amendEveryMs: 1_000, minMove: { percent: 0.2 },
    });
  });

  it('a venue-side trailing stop while stops are not attached, wherever it is', () => {
    const venue = { mode: 'venue', callbackPrice: '25' };
    const found = problems({
      ...base, engine: { attachedStops: false },
      protection: { default: { trailing: venue }, symbols: { BTCUSDT: { trailing: venue } }, external: { trailing: venue } },
    });
    const message = 'venue needs engine.attachedStops: true (the venue trails the position\'s own stop, which a separate stop order is not); use mode: bot';
    assert.deepEqual(found, [
      `protection.default.trailing.mode: ${message}`, `protection.external.trailing.mode: ${message}`, `protection.symbols.BTCUSDT.trailing.mode: ${message}`,
    ]);
    assert.equal(load({ ...base, protection: { default: { trailing: venue } } }).protection.default?.trailing?.mode, 'venue', 'fine with attached stops (the default)');
  });

  it('breakeven over a stop the venue trails, as each symbol gets its plan (the default under its own)', () => {
    const venue = { mode: 'venue', callbackPrice: '25' };
    const message = 'breakevenAfterFirstTarget needs trailing mode bot: a stop the venue trails is the venue\'s to move';
    assert.deepEqual(problems({
      ...base, protection: { default: { stopLoss: { percent: 2 }, breakevenAfterFirstTarget: true }, symbols: { BTCUSDT: { trailing: venue } } },
    }), [`protection.symbols.BTCUSDT.breakevenAfterFirstTarget: ${message}`]);
    assert.deepEqual(problems({ ...base, protection: { default: { stopLoss: { percent: 2 }, breakevenAfterFirstTarget: true, trailing: venue } } }), [`protection.default.breakevenAfterFirstTarget: ${message}`]);
    assert.deepEqual(problems({ ...base, protection: { default: { stopLoss: { percent: 2 }, breakevenAfterFirstTarget: true, trailing: venue }, symbols: { BTCUSDT: { trailing: { callbackPercent: 1 } } } } }).length, 1, 'one symbol on the default still is');
  });

  it('take-profits or breakeven for adopted positions, which never get take-profits', () => {
    const message = 'not for adopted positions: they get a stop, trailing and an aged exit, never take-profits (nor a breakeven after the first)';
    assert.deepEqual(problems({
      ...base, protection: { external: { takeProfits: [{ percent: 2, sizePercent: 100 }], breakevenAfterFirstTarget: true } },
    }), [`protection.external.breakevenAfterFirstTarget: ${message}`, `protection.external.takeProfits: ${message}`]);
    assert.equal(load({ ...base, protection: { external: { breakevenAfterFirstTarget: false, trailing: { callbackPercent: 1 } } } }).protection.external?.breakevenAfterFirstTarget, false);
  });

  it('a hard limit not above the maximum age, and a step that is not exactly one distance', () => {
    assert.deepEqual(defaultProblems({ aged: { ...plan.default.aged, hardLimitMinutes: 240 } }), [
      'protection.default.aged.hardLimitMinutes: expected more than maxAgeMinutes (240): the market close comes after the position is aged',
    ]);
    assert.deepEqual(defaultProblems({ aged: { ...plan.default.aged, stepPrice: '0.5' } }), [
      'protection.default.aged.stepPercent: expected exactly one of stepPercent (of the price) or stepPrice (a price distance)',
    ]);
  });

  it('an aged step interval the engine would count as 0 ms, or a hard limit the same as the maximum age to the millisecond', () => {
    // Both pass as minutes above 0 and apart; rounded to the engine's milliseconds, every entry would be refused.
    assert.deepEqual(defaultProblems({ aged: { ...plan.default.aged, stepEveryMinutes: 0.000001 } }), [
      'protection.default.aged.stepEveryMinutes: expected at least 1 millisecond (0.0000167 minutes): durations are counted in whole milliseconds',
    ]);
    assert.deepEqual(defaultProblems({ aged: { ...plan.default.aged, maxAgeMinutes: 240, hardLimitMinutes: 240.000001 } }), [
      'protection.default.aged.hardLimitMinutes: expected more than maxAgeMinutes (240): the market close comes after the position is aged',
    ]);
    const smallest = load({ ...base, protection: { default: { ...plan.default, aged: { ...plan.default.aged, stepEveryMinutes: 1 / 60_000 } } } });
    assert.equal(planForSymbol(smallest.protection, 'SOLUSDT')?.protection.aged?.stepEveryMs, 1);
  });

  it('a per-symbol plan for a symbol the bot does not trade', () => {
    assert.deepEqual(problems({ ...base, protection: { symbols: { XRPUSDT: { stopLoss: { percent: 1 } } } } }), [
      'protection.symbols.XRPUSDT: not one of the bot\'s symbols (SOLUSDT, BTCUSDT): a plan for a symbol it does not trade',
    ]);
  });

  it('a take-profit percent not above 0', () => {
    assert.deepEqual(defaultProblems({ takeProfits: [{ percent: 0, sizePercent: 50 }] }), ['protection.default.takeProfits.0.percent: expected a percent above 0']);
    assert.deepEqual(defaultProblems({ takeProfits: [{ percent: -1, sizePercent: 50 }] }), ['protection.default.takeProfits.0.percent: expected a percent above 0']);
  });

  it('a stop percent of 100 or more', () => {
    assert.deepEqual(defaultProblems({ stopLoss: { percent: 100 } }), ['protection.default.stopLoss.percent: expected a percent below 100']);
    assert.deepEqual(problems({ ...base, protection: { external: { stopLoss: { percent: 250 } } } }), ['protection.external.stopLoss.percent: expected a percent below 100']);
  });

  it('ladder targets that do not increase', () => {
    assert.deepEqual(defaultProblems({ takeProfits: [{ percent: 4, sizePercent: 50 }, { percent: 2, sizePercent: 50 }] }), [
      'protection.default.takeProfits.1.percent: expected a target further from the entry than the one before it (4 %): targets go in increasing order',
    ]);
    assert.deepEqual(defaultProblems({ takeProfits: [{ percent: 2, sizePercent: 50 }, { percent: 2, sizePercent: 50 }] }).length, 1, 'equal is not increasing');
  });

  it('a fixed price, an unknown key, a secret: each said plainly, all at once', () => {
    const found = problems({
      ...base,
      protection: { default: { stopLoss: { price: '145' }, trailing: { callbackPercent: 1, activationPrice: '160', every: 5 } }, symbols: { BTCUSDT: { aged: { maxAge: 5 } } }, fallback: {} },
      api: { webhook: { secret: 'Zx9TOPSECRETvalue42' } },
    });
    assert.deepEqual(found, [
      'api.webhook.secret: secrets are not read from the configuration file: put the value in an environment variable and its NAME in api.webhook.secretEnv',
      'api.webhook.secretEnv: required (expected string)',
      'protection.default.stopLoss.percent: required (expected number)',
      'protection.default.stopLoss.price: a fixed price belongs to one trade (a signal may give one); the file takes percent, measured from the entry',
      'protection.default.trailing.activationPrice: a fixed price belongs to one trade (a signal may give one); the file takes activationPercent, measured from the entry',
      'protection.default.trailing.every: unknown key (expected one of: mode, activationPercent, callbackPercent, callbackPrice, amendEveryMs, minMovePercent, minMovePrice)',
      'protection.fallback: unknown key (expected one of: default, symbols, external)',
      'protection.symbols.BTCUSDT.aged.hardLimitMinutes: required (expected number)',
      'protection.symbols.BTCUSDT.aged.maxAge: unknown key (expected one of: maxAgeMinutes, graceMinutes, stepPercent, stepPrice, stepEveryMinutes, hardLimitMinutes)',
      'protection.symbols.BTCUSDT.aged.maxAgeMinutes: required (expected number)',
      'protection.symbols.BTCUSDT.aged.stepEveryMinutes: required (expected number)',
    ], found.join('\n'));
    assert.ok(!found.join('\n').includes('Zx9TOPSECRET'));
  });
});

describe('the protection plan, resolved', () => {
  const config = load({ ...base, protection: plan });
  const defaultProtection = {
    stopTriggerBy: 'mark',
    ladder: [{ target: { percent: 2 }, sizePercent: 50 }, { target: { percent: 4 }, sizePercent: 50 }],
    breakevenAfterFirstTarget: true,
    trailing: { mode: 'bot', activation: { percent: 1 }, callback: { percent: 0.5 }, amendEveryMs: 1_000 },
    aged: { maxAgeMs: 240 * 60_000, graceMs: 30 * 60_000, step: { percent: 0.1 }, stepEveryMs: 5 * 60_000, hardLimitMs: 480 * 60_000 },
  };

  it('gives a symbol without an override the default, as the parts of an open request', () => {
    assert.deepEqual(planForSymbol(config.protection, 'SOLUSDT'), { stopLoss: { percent: 2 }, takeProfit: null, protection: defaultProtection });
  });

  it('lays a symbol\'s override over the default field by field: a given part replaces the default\'s whole', () => {
    assert.deepEqual(planForSymbol(config.protection, 'BTCUSDT'), {
      stopLoss: { percent: 2 }, takeProfit: null,
      protection: { ...defaultProtection, trailing: { mode: 'bot', activation: null, callback: { percent: 0.3 }, amendEveryMs: 500 } },
    }, 'the override gives no activation: it trails at once, it does not inherit the default\'s');
  });

  it('switches a part off with null, and replaces the ladder whole', () => {
    const switched = load({ ...base, protection: { default: plan.default, symbols: { BTCUSDT: { trailing: null, aged: null, takeProfits: [{ percent: 10, sizePercent: 100 }], stopLoss: { percent: 1 } } } } });
    assert.deepEqual(planForSymbol(switched.protection, 'BTCUSDT'), {
      stopLoss: { percent: 1 }, takeProfit: null,
      protection: { stopTriggerBy: 'mark', ladder: [{ target: { percent: 10 }, sizePercent: 100 }], breakevenAfterFirstTarget: true },
    });
    const noLadder = load({ ...base, protection: { default: plan.default, symbols: { BTCUSDT: { takeProfits: null } } } });
    assert.equal(planForSymbol(noLadder.protection, 'BTCUSDT')?.protection.ladder, undefined);
    assert.deepEqual(mergePlan({ trailing: { mode: 'bot', callbackPercent: 1, amendEveryMs: 0 } }, { trailing: null }), {
      stopLoss: undefined, stopTriggerBy: undefined, takeProfits: undefined, breakevenAfterFirstTarget: undefined, trailing: null, aged: undefined,
    });
  });

  it('keeps a price distance given as a number in exponent form as the plain decimal it is', () => {
    const tiny = load({ ...base, protection: { default: { stopLoss: { percent: 2 }, trailing: { callbackPrice: 1e-7 }, aged: { ...plan.default.aged, stepPercent: undefined, stepPrice: 2.5e-7 } } } });
    const parts = planForSymbol(tiny.protection, 'SOLUSDT');
    assert.deepEqual([parts?.protection.trailing?.callback, parts?.protection.aged?.step], [{ price: '0.0000001' }, { price: '0.00000025' }]);
  });

  it('has no plan for a symbol without a configured stop', () => {
    const none = load(base);
    assert.equal(planForSymbol(none.protection, 'SOLUSDT'), null);
    const trailingOnly = load({ ...base, protection: { symbols: { BTCUSDT: { trailing: { callbackPrice: 25 } } } } });
    assert.equal(planForSymbol(trailingOnly.protection, 'BTCUSDT'), null, 'a trailing stop alone is no stop-loss: a signal must give one');
  });

  it('gives adopted positions the external plan, not the default; its stop wins over engine.externalStopPercent', () => {
    assert.deepEqual(externalPlanOf(config.protection, 2), { stopPercent: 3, protection: {} });
    const engine = engineConfigOf(config);
    assert.deepEqual([engine.externalStopPercent, engine.externalProtection], [3, {}]);
    const withoutStop = load({ ...base, engine: { externalStopPercent: 4 }, protection: { external: { trailing: { callbackPercent: 1 }, stopTriggerBy: 'last' } } });
    assert.deepEqual(engineConfigOf(withoutStop).externalStopPercent, 4, 'no external stop: engine.externalStopPercent');
    assert.deepEqual(engineConfigOf(withoutStop).externalProtection, {
      stopTriggerBy: 'last', trailing: { mode: 'bot', activation: null, callback: { percent: 1 }, amendEveryMs: 1_000 },
    });
    assert.deepEqual(engineConfigOf(load(base)).externalProtection, {}, 'nothing configured: nothing beyond the stop');
  });

  it('gives positions of ours restored without the journal what their entries get: the symbol\'s plan, or a strategy\'s extras', () => {
    const signals = engineConfigOf(config).restoredProtection;
    const btcTrailing = { mode: 'bot', activation: null, callback: { percent: 0.3 }, amendEveryMs: 500 };
    assert.deepEqual(signals?.symbols.BTCUSDT?.trailing, btcTrailing, 'the symbol\'s override');
    assert.deepEqual([signals?.symbols.SOLUSDT?.breakevenAfterFirstTarget, signals?.symbols.SOLUSDT?.ladder?.length, signals?.default.aged?.maxAgeMs], [true, 2, 14_400_000]);
    const strategy = engineConfigOf(load({ ...base, protection: plan, strategy: { kind: 'tp-cycle' } })).restoredProtection;
    assert.deepEqual(strategy?.symbols.BTCUSDT, { stopTriggerBy: 'mark', trailing: btcTrailing, aged: signals?.default.aged }, 'a strategy\'s entries get no ladder or breakeven');
    assert.deepEqual(engineConfigOf(load(base)).restoredProtection, { default: {}, symbols: { SOLUSDT: {}, BTCUSDT: {} } });
  });

  it('adds the trigger price, trailing and aged policy to a strategy\'s entries, and leaves its stop and take-profit alone', () => {
    const request = {
      type: 'OpenRequested', requestId: 'tpc-BTCUSDT-1', symbol: 'BTCUSDT', side: 'buy', size: { notional: '500' },
      entry: { kind: 'limit', price: '100' }, stopLoss: { percent: 1.5 }, takeProfit: { percent: 0.6 },
    } as const;
    const planned = withConfiguredPlan(config.protection, request);
    assert.deepEqual(planned, {
      ...request,
      protection: { stopTriggerBy: 'mark', trailing: { mode: 'bot', activation: null, callback: { percent: 0.3 }, amendEveryMs: 500 }, aged: defaultProtection.aged },
    });
    assert.equal(withConfiguredPlan(load(base).protection, request), request, 'no plan: unchanged');
    const close = { type: 'CloseRequested', requestId: 'x', symbol: 'BTCUSDT' } as const;
    assert.equal(withConfiguredPlan(config.protection, close), close);
    assert.equal(strategyExtrasOf(load({ ...base, protection: { default: { stopLoss: { percent: 1 } } } }).protection, 'SOLUSDT'), null);
  });

  it('is in the example the README points to', () => {
    const example = loadConfigFile(join(import.meta.dirname, '..', '..', 'src', 'config', 'example.yaml'));
    const sol = planForSymbol(example.protection, 'SOLUSDT');
    assert.deepEqual(sol?.stopLoss, { percent: 2 });
    assert.equal(sol?.protection.ladder?.length, 2);
    assert.ok(example.protection.symbols.ETHUSDT !== undefined, 'a per-symbol override');
    assert.equal(example.api.webhook, undefined, 'the webhook is off unless configured');
  });
});

describe('the webhook\'s secret', () => {
  const config = load({ ...base, api: { tokenEnv: 'T_TOKEN', webhook: { secretEnv: 'T_HOOK' } } });
  const token = 'token-value-0123456789';

  it('is read from the variable api.webhook.secretEnv names, with its own rate', () => {
    assert.deepEqual(config.api.webhook, { secretEnv: 'T_HOOK', signalsPerSecond: 5 });
    assert.equal(resolveSecrets(config, { T_TOKEN: token, T_HOOK: 'hook-value-0123456789' }).webhookSecret?.reveal(), 'hook-value-0123456789');
    assert.equal(resolveSecrets(load(base), { VIGIL_API_TOKEN: token }).webhookSecret, null, 'no webhook: no secret');
  });

  it('is refused missing, short, or equal to the API token, never shown', () => {
    const refused = (env: NodeJS.ProcessEnv): readonly string[] => {
      try {
        resolveSecrets(config, env);
      } catch (error) {
        if (error instanceof ConfigError) return error.problems;
        throw error;
      }
      return assert.fail('expected a refusal');
    };
    assert.deepEqual(refused({ T_TOKEN: token }), ['api.webhook.secretEnv: the environment variable T_HOOK is not set (or is empty)']);
    assert.deepEqual(refused({ T_TOKEN: token, T_HOOK: 'Qq7xWw' }), [
      'api.webhook.secretEnv: the secret in T_HOOK is shorter than 16 characters; use a long random one (openssl rand -hex 32)',
    ]);
    const same = refused({ T_TOKEN: token, T_HOOK: token });
    assert.deepEqual(same, ['api.webhook.secretEnv: T_HOOK holds the API token; the webhook needs a secret of its own']);
    assert.ok(!same.join('\n').includes(token));
  });
});
