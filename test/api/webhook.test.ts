// POST /webhook (TradingView-style alerts) against the real engine and runtime in-process
// (support.ts): the shared secret in the body or the X-Vigil-Secret header, a wrong or missing one
// refused (and counted) before anything else is looked at, the secret never in an answer, a log
// line, an event or the journal file; TradingView tickers read as symbols; ids in their own `tv:`
// namespace, a repeat a no-op; its own rate limit, spent only by requests with the secret (so
// wrong secrets cannot block real alerts), their log lines capped; invalid payloads refused with
// reasons and counted.
// And the operator API's signals over a configured plan, as the event the API hands the engine.

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { refusalLogsBurst } from '../../src/api/server.ts';
import { normalizeTicker } from '../../src/api/webhook.ts';
import { parseConfigText } from '../../src/config/load.ts';
import type { Harness } from './support.ts';
import { fillEntry, startHarness, webhookSecret } from './support.ts';

const alert = (id: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  secret: webhookSecret, id, symbol: 'BYBIT:SOLUSDT.P', action: 'buy', quantity: '1', stopLoss: { percent: 2 }, ...extra,
});

/** The value of one series in the metrics text (NaN when absent). */
function series(text: string, name: string): number {
  const escaped = name.replace(/[{}"]/g, (character) => `\\${character}`);
  return Number(new RegExp(`^${escaped} (\\S+)$`, 'm').exec(text)?.[1]);
}

/** Everything the bot's journal file holds, as text (its bodies are JSON, but for tickers). */
function journalText(api: Harness): string {
  const { path } = api.journal;
  return [path, `${path}-wal`].filter((file) => existsSync(file)).map((file) => readFileSync(file).toString('latin1')).join('\n');
}

describe('TradingView tickers', () => {
  it('are read as the venue\'s symbols', () => {
    const cases: [string, string][] = [
      ['BYBIT:BTCUSDT.P', 'BTCUSDT'], ['BINANCE:ETHUSDT.P', 'ETHUSDT'], ['bybit:solusdt.p', 'SOLUSDT'], ['SOLUSDT.P', 'SOLUSDT'],
      ['SOLUSDT', 'SOLUSDT'], [' BYBIT:DOGEUSDT ', 'DOGEUSDT'], ['BYBIT_DEMO:XRPUSDT.P', 'XRPUSDT'],
    ];
    for (const [ticker, symbol] of cases) assert.equal(normalizeTicker(ticker), symbol, ticker);
  });
});

describe('the webhook', () => {
  let api: Harness;
  before(async () => {
    api = await startHarness({ webhookSecret });
    api.trading();
  });
  after(async () => {
    await api.close();
  });

  it('refuses a missing or wrong secret with 401 before reading the payload, and never echoes it', async () => {
    const missing = await api.request('/webhook', { token: null, body: { id: 'n1', symbol: 'SOLUSDT', action: 'buy' } });
    assert.equal(missing.status, 401);
    assert.match(String(missing.json.error), /no webhook secret/);
    const wrong = await api.request('/webhook', { token: null, body: alert('n2', { secret: 'not-the-secret-at-all' }) });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.json.error, 'unauthorized: wrong webhook secret');
    const wrongHeader = await api.request('/webhook', { token: null, body: alert('n3', { secret: undefined }), headers: { 'x-vigil-secret': `${webhookSecret}x` } });
    assert.equal(wrongHeader.status, 401);
    const oneWrong = await api.request('/webhook', { token: null, body: alert('n4', { secret: 'wrong-one' }), headers: { 'x-vigil-secret': webhookSecret } });
    assert.equal(oneWrong.status, 401, 'every secret offered must be right');
    const bearer = await api.request('/webhook', { body: alert('n5', { secret: undefined }) });
    assert.equal(bearer.status, 401, 'the API token is not the webhook\'s secret');
    const notJson = await api.request('/webhook', { token: null, body: 'secret=x', headers: { 'content-type': 'text/plain' } });
    assert.equal(notJson.status, 401, 'a body that is not JSON offers no secret');
    const garbage = await api.request('/webhook', { token: null, body: { secret: 'x', id: 'bad id', action: 'fly' } });
    assert.equal(garbage.status, 401, 'an invalid payload without the secret learns nothing about its validity');
    assert.equal(api.received.length, 0, 'nothing reached the engine');
    const other = await api.request('/api/health', { token: webhookSecret });
    assert.equal(other.status, 401, 'the webhook\'s secret opens no other route');
  });

  it('accepts an alert with the secret in the body: the ticker read as the symbol, the id in the tv: namespace', async () => {
    const accepted = await api.request('/webhook', { token: null, body: alert('tv-1', { takeProfit: { percent: 4 } }) });
    assert.equal(accepted.status, 200, accepted.text);
    assert.deepEqual([accepted.json.result, accepted.json.requestId, accepted.json.id], ['accepted', 'tv:tv-1', 'tv-1']);
    assert.deepEqual(api.received, [{
      type: 'OpenRequested', requestId: 'tv:tv-1', symbol: 'SOLUSDT', side: 'buy', size: { quantity: '1' }, entry: { kind: 'market' },
      stopLoss: { percent: 2 }, takeProfit: { percent: 4 },
    }]);
    const [entry] = api.gateway.submits();
    assert.deepEqual(entry?.spec.stopLoss, { triggerTicks: 14_700, triggerBy: 'mark' });
    assert.ok(!accepted.text.includes(webhookSecret));
  });

  it('answers a repeated alert as a no-op and another alert under its id with 422; the wrong secret does not learn it was seen', async () => {
    const again = await api.request('/webhook', { token: null, body: alert('tv-1', { takeProfit: { percent: 4 } }) });
    assert.equal(again.status, 200);
    assert.deepEqual([again.json.result, again.json.original, again.json.message], ['duplicate', 'accepted', 'duplicate: already handled']);
    const other = await api.request('/webhook', { token: null, body: alert('tv-1', { action: 'sell', quantity: '7' }) });
    assert.equal(other.status, 422, other.text);
    assert.equal(other.json.error, 'the id tv-1 was already used for a different signal: nothing was done (give this signal an id of its own)');
    assert.equal(api.gateway.submits().length, 1, 'no second entry');
    const probe = await api.request('/webhook', { token: null, body: alert('tv-1', { secret: 'guess-0123456789abcdef' }) });
    const fresh = await api.request('/webhook', { token: null, body: alert('never-seen', { secret: 'guess-0123456789abcdef' }) });
    assert.deepEqual([probe.status, probe.text], [fresh.status, fresh.text], 'the same answer for a seen and an unseen id');
    const api1 = await api.request('/api/signals', { body: { id: 'tv-1', action: 'close', symbol: 'ETHUSDT' } });
    assert.equal(api1.json.requestId, 'api:tv-1', 'the API\'s ids are another namespace: not a duplicate of tv:tv-1');
    assert.notEqual(api1.json.result, 'duplicate');
  });

  it('accepts the secret in the X-Vigil-Secret header, and a text/plain body (as TradingView sends it)', async () => {
    const entry = api.gateway.submits()[0];
    assert.ok(entry !== undefined);
    fillEntry(api, entry.clientOrderId, 10, 15_000, 14_700);
    const close = await api.request('/webhook', {
      token: null, body: JSON.stringify({ id: 'tv-close-1', symbol: 'BYBIT:SOLUSDT.P', action: 'close' }),
      headers: { 'x-vigil-secret': webhookSecret, 'content-type': 'text/plain; charset=utf-8' },
    });
    assert.equal(close.status, 200, close.text);
    assert.match(String(close.json.outcome), /^closing api-\d+$/);
    assert.deepEqual(api.received.at(-1), { type: 'CloseRequested', requestId: 'tv:tv-close-1', symbol: 'SOLUSDT' });
  });

  it('refuses an invalid payload with 400 and its reasons, by field, and applies nothing', async () => {
    const before = api.received.length;
    const cases: [Record<string, unknown>, readonly string[]][] = [
      [alert('i1', { action: 'long' }), ['action: expected one of buy, sell, close']],
      [alert('i2', { action: undefined, symbol: undefined }), ['action: required (expected one of buy, sell, close)', 'symbol: required (a TradingView ticker such as BYBIT:SOLUSDT.P, or the symbol)']],
      [alert('i3', { quantity: undefined }), ['quantity: expected exactly one of quantity (in the base coin) or notional (in USDT)']],
      [alert('i4', { stopLoss: undefined }), ['stopLoss: required (expected object): no stop-loss is configured for SOLUSDT (protection)']],
      [alert('i5', { trailing: { callbackPercent: 0 } }), ['trailing.callbackPercent: expected a percent above 0']],
      [alert('i6', { side: 'buy' }), ['side: unknown field (the action says it: buy or sell)']],
      [alert('bad id with spaces'), ['id: expected 1 to 64 characters of A-Z, a-z, 0-9 and . _ : - (a repeat with the same id is a no-op)']],
      [alert('i7', { symbol: 'BYBIT:SOL/USDT' }), ['symbol: expected a symbol in capitals, such as SOLUSDT']],
      [alert('i8', { action: 'close' }), ['quantity: unknown field', 'stopLoss: unknown field']],
    ];
    for (const [body, reasons] of cases) {
      const answer = await api.request('/webhook', { token: null, body });
      assert.equal(answer.status, 400, JSON.stringify(body));
      assert.deepEqual(answer.json.reasons, reasons, JSON.stringify(body));
      assert.ok(!answer.text.includes(webhookSecret));
    }
    const notJson = await api.request('/webhook', { token: null, body: '{"id": ', headers: { 'x-vigil-secret': webhookSecret } });
    assert.equal(notJson.status, 400, 'with the secret in the header, a body that is not JSON is a 400');
    const form = await api.request('/webhook', { token: null, body: 'a=b', headers: { 'x-vigil-secret': webhookSecret, 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(form.status, 415);
    const large = await api.request('/webhook', { token: null, body: alert('big', { padding: 'x'.repeat(20_000) }), headers: { 'x-vigil-secret': webhookSecret } });
    assert.equal(large.status, 413);
    assert.equal(api.received.length, before, 'nothing reached the engine');
    assert.equal((await api.request('/webhook', { token: null, method: 'GET' })).status, 405);
  });

  it('counts every outcome in /metrics by source, and the secret is in no log line, event or journal byte', async () => {
    const metrics = await api.request('/metrics');
    assert.equal(series(metrics.text, 'vigil_signals_total{source="webhook",result="unauthorized"}'), 9);
    assert.equal(series(metrics.text, 'vigil_signals_total{source="webhook",result="accepted"}'), 2);
    assert.equal(series(metrics.text, 'vigil_signals_total{source="webhook",result="duplicate"}'), 1);
    assert.equal(series(metrics.text, 'vigil_signals_total{source="webhook",result="invalid"}'), 13, 'the 400s, 413, 415 and the reused id');
    assert.equal(series(metrics.text, 'vigil_signals_total{source="api",result="rejected"}'), 1);
    assert.equal(series(metrics.text, 'vigil_api_requests_total{route="/webhook",status="401"}'), 9);
    assert.match(api.logs.join('\n'), /^webhook: refused a request from \S+: wrong secret$/m);
    assert.match(api.logs.join('\n'), /^webhook: signal tv-1 \(open SOLUSDT\): accepted as api-\d+$/m);
    const everything = [api.logs.join('\n'), JSON.stringify(api.received), JSON.stringify([...api.journal.entries()]), journalText(api), metrics.text].join('\n');
    assert.ok(!everything.includes(webhookSecret), 'the secret leaked');
    assert.ok(journalText(api).includes('tv:tv-1'), 'the journal file is readable as text: the search above means something');
  });
});

describe('the webhook under load, and off', () => {
  it('has its own rate limit: 429 with Retry-After, apart from the API\'s', async () => {
    const api = await startHarness({ webhookSecret, webhookPerSecond: 2, signalsPerSecond: 2 });
    try {
      api.trading();
      const close = (id: string): Record<string, unknown> => ({ secret: webhookSecret, id, symbol: 'SOLUSDT', action: 'close' });
      const statuses: number[] = [];
      for (const id of ['r1', 'r2', 'r3']) statuses.push((await api.request('/webhook', { token: null, body: close(id) })).status);
      assert.deepEqual(statuses, [409, 409, 429]);
      const limited = await api.request('/webhook', { token: null, body: close('r4') });
      assert.deepEqual([limited.status, limited.headers.get('retry-after')], [429, '1']);
      assert.equal(api.runtime.state.requests.has('tv:r4'), false, 'a refused alert never reaches the engine');
      const viaApi = await api.request('/api/signals', { body: { id: 'r5', action: 'close', symbol: 'SOLUSDT' } });
      assert.equal(viaApi.status, 409, 'the API\'s own limit is untouched');
      api.clock.advance(1_000);
      assert.equal((await api.request('/webhook', { token: null, body: close('r4') })).status, 409, 'tokens come back with time');
      const metrics = await api.request('/metrics');
      assert.equal(series(metrics.text, 'vigil_signals_total{source="webhook",result="rate-limited"}'), 2);
    } finally {
      await api.close();
    }
  });

  it('spends its rate limit only on requests with the secret: any number of wrong ones cannot block a real alert', async () => {
    const api = await startHarness({ webhookSecret, webhookPerSecond: 2 });
    try {
      api.trading();
      const close = (id: string, secret: string = webhookSecret): Record<string, unknown> => ({ secret, id, symbol: 'SOLUSDT', action: 'close' });
      const guesses = 40;
      for (let index = 0; index < guesses; index += 1) {
        // Wrong secrets in the body and in the header, and none at all, all at the same instant.
        const init = index % 4 === 0 ? { body: { id: `g${index}`, symbol: 'SOLUSDT', action: 'close' } }
          : index % 4 === 1 ? { body: close(`g${index}`, 'x'), headers: { 'x-vigil-secret': `guess-${index}-0123456789abcdef` } }
            : { body: close(`g${index}`, `guess-${index}-0123456789abcdef`) };
        const refused = await api.request('/webhook', { token: null, ...init });
        assert.equal(refused.status, 401, `guess ${index}: ${refused.text}`);
      }
      // The clock has not moved: 40 refusals later, the whole budget (2) is still there for real alerts.
      const opened = await api.request('/webhook', { token: null, body: alert('real-1') });
      assert.deepEqual([opened.status, opened.json.result], [200, 'accepted'], opened.text);
      const closed = await api.request('/webhook', { token: null, body: close('real-2') });
      assert.ok(![401, 429].includes(closed.status), closed.text);
      assert.ok(api.runtime.state.requests.has('tv:real-2'), 'the second real alert reached the engine');
      // Requests with the secret are limited as before.
      const limited = await api.request('/webhook', { token: null, body: close('real-3') });
      assert.deepEqual([limited.status, limited.json.error, limited.headers.get('retry-after')], [429, 'too many signals: at most 2 a second', '1']);
      assert.equal(api.runtime.state.requests.has('tv:real-3'), false);
      // With the budget spent, a wrong secret is still a 401: it is checked first, and learns nothing of the budget.
      const late = await api.request('/webhook', { token: null, body: close('real-3', 'guess-late-0123456789abcdef') });
      assert.equal(late.status, 401);
      api.clock.advance(1_000);
      assert.ok(![401, 429].includes((await api.request('/webhook', { token: null, body: close('real-3') })).status), 'tokens come back with time');
      const metrics = await api.request('/metrics');
      assert.equal(series(metrics.text, 'vigil_signals_total{source="webhook",result="unauthorized"}'), guesses + 1);
      assert.equal(series(metrics.text, 'vigil_signals_total{source="webhook",result="rate-limited"}'), 1);
      // Every refusal is counted, but only a burst of them logged; the next line, a second later, says how many were not.
      const refusedLines = (): string[] => api.logs.filter((line) => line.startsWith('webhook: refused a request'));
      assert.equal(refusedLines().length, refusalLogsBurst);
      await api.request('/webhook', { token: null, body: close('g-after', 'guess-after-0123456789abcdef') });
      assert.equal(refusedLines().length, refusalLogsBurst + 1);
      assert.match(refusedLines().at(-1) ?? '', new RegExp(`^webhook: refused a request from \\S+: wrong secret \\(and ${guesses + 1 - refusalLogsBurst} more refused since the last such line, not logged\\)$`));
      assert.ok(!api.logs.join('\n').includes(webhookSecret), 'the secret leaked');
    } finally {
      await api.close();
    }
  });

  it('refuses a body too large or of the wrong type with 413 or 415, not as a missing secret (the secret in it was never read)', async () => {
    const api = await startHarness({ webhookSecret });
    try {
      api.trading();
      const large = await api.request('/webhook', { token: null, body: alert('big', { padding: 'x'.repeat(20_000) }) });
      assert.deepEqual([large.status, large.json.error], [413, 'the body is larger than 16384 bytes']);
      const form = await api.request('/webhook', { token: null, body: JSON.stringify(alert('form')), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      assert.deepEqual([form.status, form.json.error], [415, 'send the signal as JSON, with Content-Type: application/json']);
      assert.equal(api.received.length, 0, 'nothing reached the engine');
      const metrics = await api.request('/metrics');
      assert.equal(series(metrics.text, 'vigil_signals_total{source="webhook",result="invalid"}'), 2);
      assert.ok(!(series(metrics.text, 'vigil_signals_total{source="webhook",result="unauthorized"}') > 0), 'not counted as refused secrets');
      assert.ok(!api.logs.some((line) => line.startsWith('webhook: refused')), 'nor logged as such');
    } finally {
      await api.close();
    }
  });

  it('is an unknown route when not configured: 401 without the token, 404 with it', async () => {
    const api = await startHarness();
    try {
      assert.equal((await api.request('/webhook', { token: null, body: alert('off-1') })).status, 401);
      assert.equal((await api.request('/webhook', { body: alert('off-2') })).status, 404);
    } finally {
      await api.close();
    }
  });
});

describe('signals over a configured plan, through the API', () => {
  it('hands the engine the OpenRequested of the plan with the signal\'s overrides', async () => {
    const { protection } = parseConfigText(JSON.stringify({
      botId: 'api', journal: 'j.sqlite', symbols: ['SOLUSDT'], venue: { kind: 'sim', address: '127.0.0.1:4100' },
      protection: {
        default: {
          stopLoss: { percent: 2 }, stopTriggerBy: 'mark', takeProfits: [{ percent: 2, sizePercent: 50 }, { percent: 4, sizePercent: 50 }],
          trailing: { mode: 'bot', callbackPercent: 0.5, amendEveryMs: 1_000 },
          aged: { maxAgeMinutes: 240, graceMinutes: 30, stepPercent: 0.1, stepEveryMinutes: 5, hardLimitMinutes: 480 },
        },
      },
    }), 'yaml');
    const api = await startHarness({ protection, webhookSecret });
    try {
      api.trading();
      const answer = await api.request('/api/signals', {
        body: { id: 'p1', action: 'open', symbol: 'SOLUSDT', side: 'buy', quantity: '1', trailing: null, takeProfits: [{ percent: 3, sizePercent: 100 }], breakevenAfterFirstTarget: true },
      });
      assert.equal(answer.status, 200, answer.text);
      assert.equal(answer.json.result, 'accepted');
      assert.deepEqual(api.received, [{
        type: 'OpenRequested', requestId: 'api:p1', symbol: 'SOLUSDT', side: 'buy', size: { quantity: '1' }, entry: { kind: 'market' },
        stopLoss: { percent: 2 }, takeProfit: null,
        protection: {
          stopTriggerBy: 'mark', ladder: [{ target: { percent: 3 }, sizePercent: 100 }], breakevenAfterFirstTarget: true,
          aged: { maxAgeMs: 14_400_000, graceMs: 1_800_000, step: { percent: 0.1 }, stepEveryMs: 300_000, hardLimitMs: 28_800_000 },
        },
      }]);
      assert.deepEqual(api.gateway.submits()[0]?.spec.stopLoss, { triggerTicks: 14_700, triggerBy: 'mark' }, 'the plan\'s 2 % stop rides on the entry');
      const bad = await api.request('/webhook', { token: null, body: { ...alert('w1'), stopLoss: undefined, takeProfits: [{ percent: 5, sizePercent: 80 }, { percent: 6, sizePercent: 30 }] } });
      assert.equal(bad.status, 400);
      assert.deepEqual(bad.json.reasons, ['takeProfits: the sizes sum to 110 %, more than 100 % of the position']);
      assert.equal(api.received.length, 1);
    } finally {
      await api.close();
    }
  });
});
