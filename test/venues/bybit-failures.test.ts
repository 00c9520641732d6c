// What a failed Bybit request means for the order (failureOf in src/venues/bybit/live.ts), with
// the exceptions ccxt really throws and the bodies Bybit really sends: a timeout, a transport error
// or a 5xx, and the retCodes that mean the venue may have acted (10000, 10016, 5004), leave the
// outcome unknown whatever else the body says; a trigger the market has passed is 'trigger-crossed'
// even when Bybit says it only in a 10001's text; a timestamp outside Bybit's window (10002) is a
// refusal; Bybit's retMsg is kept whole.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import ccxt from 'ccxt';
import { failureOf, RawBybit } from '../../src/venues/bybit/live.ts';

/** ccxt's text for a Bybit error reply: `bybit ` and the body as received. */
const body = (retCode: number, retMsg: string): string => `bybit {"retCode":${retCode},"retMsg":${JSON.stringify(retMsg)},"result":{},"retExtInfo":{},"time":1693745651526}`;
const fixtureText = (name: string): string => readFileSync(new URL(`../fixtures/bybit-v5/${name}`, import.meta.url), 'utf8');

/** The failure's kind, and for a refusal its code and reason. */
function outcome(error: unknown): string {
  const failure = failureOf(error);
  return failure.kind === 'rejected' ? `rejected ${failure.code}: ${failure.reason}` : failure.kind;
}

/** The refusal's code, or the failure's kind. */
function codeOf(error: unknown): string {
  const failure = failureOf(error);
  return failure.kind === 'rejected' ? failure.code : failure.kind;
}

void describe('bybit failures', () => {
  void it('leaves the outcome unknown when ccxt classes the error as a timeout, a transport error or a 5xx, whatever retCode the body carries', () => {
    // ccxt matches "Request timeout" broadly (RequestTimeout) before the retCode (the real 10016 reply).
    const timeoutBody = `bybit ${JSON.stringify(JSON.parse(fixtureText('rest.error.10016.request-timeout.json')))}`;
    assert.equal(outcome(new ccxt.RequestTimeout(timeoutBody)), 'unknown');
    assert.equal(outcome(new ccxt.RequestTimeout(body(10001, 'params error'))), 'unknown');
    assert.equal(outcome(new ccxt.NetworkError(body(110007, 'ab not enough for new order'))), 'unknown');
    assert.equal(outcome(new ccxt.ExchangeNotAvailable('bybit POST https://api.bybit.com/v5/order/create 502 Bad Gateway <html>')), 'unknown');
    assert.equal(outcome(new ccxt.RequestTimeout('bybit POST https://api.bybit.com/v5/position/trading-stop 504 Gateway Timeout')), 'unknown');
  });

  void it("leaves the outcome unknown for Bybit's server timeouts and internal errors, which ccxt classes as a plain ExchangeError", () => {
    assert.equal(outcome(new ccxt.ExchangeError(body(10016, 'System error. Please try again later.'))), 'unknown');
    assert.equal(outcome(new ccxt.ExchangeError(body(10016, 'Service is restarting'))), 'unknown');
    assert.equal(outcome(new ccxt.ExchangeError(body(10000, 'Server Timeout'))), 'unknown');
    assert.equal(outcome(new ccxt.ExchangeError(body(5004, 'Server Timeout'))), 'unknown');
    const failure = failureOf(new ccxt.ExchangeError(body(10016, 'Internal error.')));
    assert.deepEqual(failure, { kind: 'unknown', reason: 'retCode 10016: Internal error.' });
  });

  void it('keeps firm refusals firm: a rate limit, and the codes that mean the venue did not act', () => {
    assert.equal(outcome(new ccxt.RateLimitExceeded(body(10006, 'Too many visits!'))), 'rate-limited');
    assert.equal(outcome(new ccxt.InsufficientFunds(body(110007, 'ab not enough for new order'))), 'rejected insufficient-funds: retCode 110007: ab not enough for new order');
    assert.equal(outcome(new ccxt.BadRequest(body(10001, 'params error: qty must be above the filled quantity'))), 'rejected invalid: retCode 10001: params error: qty must be above the filled quantity');
    assert.equal(outcome(new ccxt.ExchangeError('bybit something without a code')), 'rejected other: bybit something without a code');
  });

  void it('reads a timestamp outside the window (10002) as a refusal that names the clock, though ccxt classes it with its network errors', () => {
    const retMsg = 'invalid request, please check your server timestamp or recv_window param. req_timestamp[1693745645000],server_timestamp[1693745651526],recv_window[5000]';
    assert.ok(new ccxt.InvalidNonce('') instanceof ccxt.NetworkError, 'ccxt: InvalidNonce is a NetworkError');
    assert.deepEqual(failureOf(new ccxt.InvalidNonce(body(10002, retMsg))), {
      kind: 'rejected', code: 'other', retCode: 10002, reason: `retCode 10002: ${retMsg} (this machine's clock is off Bybit's: synchronise it (NTP))`,
    });
  });

  void it("reads every code for an order no longer working (not there, finished, cancelled) as 'not-found'", () => {
    assert.equal(codeOf(new ccxt.OrderNotFound(body(110001, 'order not exists or too late to cancel'))), 'not-found');
    assert.equal(codeOf(new ccxt.InvalidOrder(body(110008, 'The order has been finished or canceled'))), 'not-found');
    assert.equal(codeOf(new ccxt.InvalidOrder(body(110010, 'The order has been cancelled'))), 'not-found');
  });

  void it("reads a trigger the market has passed as 'trigger-crossed', in every wording Bybit uses", () => {
    const crossed = [
      // trading-stop and attached stops: retCode 10001, the words only in the text
      'StopLoss:6500000 set for Buy position should lower than base_price:6400000??LastPrice',
      'StopLoss:324000000 set for Buy position should lower than base_price:161600000??LastPrice',
      'sl:257970000 set for Sell position should greater base_price:259477000??LastPrice', // ccxt issue #19089
      'TakeProfit:6300000 set for Buy position should higher than base_price:6400000??MarkPrice',
      // conditional orders: 110092 / 110093, or 10001 from older gateways (ccxt issues #17487, #16406)
      'expect Rising, but trigger_price[50000000] <= current[51340000]??1',
      'expect Failling, but trigger_price[5980000] >= current[1361500]??1',
    ];
    for (const retMsg of crossed) assert.equal(codeOf(new ccxt.BadRequest(body(10001, retMsg))), 'trigger-crossed', retMsg);
    assert.equal(codeOf(new ccxt.InvalidOrder(body(110093, 'expect Falling, but trigger_price[61000] >= current[60000]??LastPrice'))), 'trigger-crossed');
    assert.equal(outcome(new ccxt.BadRequest(body(10001, 'can not set tp/sl for zero position'))), 'rejected invalid: retCode 10001: can not set tp/sl for zero position');
  });

  void it("keeps Bybit's retMsg whole: escaped quotes and \\u003c are read, not cut", () => {
    // The body as Bybit sends it: JSON escapes inside retMsg (ccxt passes the body on verbatim).
    const raw = String.raw`bybit {"retCode":10001,"retMsg":"params error: orderLinkId \"b-1-s1\" is invalid, expect Rising, but trigger_price[50000000] \u003c= current[51340000]??1","result":{},"retExtInfo":{},"time":1680697304648}`;
    assert.deepEqual(failureOf(new ccxt.BadRequest(raw)), {
      kind: 'rejected', code: 'trigger-crossed', retCode: 10001,
      reason: 'retCode 10001: params error: orderLinkId "b-1-s1" is invalid, expect Rising, but trigger_price[50000000] <= current[51340000]??1',
    });
  });
});

describe('the end of a stream connection', () => {
  it('is reported only for the URL\'s current client: one let go of that finishes closing late touches nothing', () => {
    const exchange = new RawBybit({});
    const gone: string[] = [];
    exchange.onGone = (_url, reason) => gone.push(reason);
    const url = 'wss://stream.example/v5/private';
    type Closing = Parameters<RawBybit['onClose']>[0];
    const stale = { url, error: undefined } as unknown as Closing;
    const current = { url, error: undefined } as unknown as Closing;
    Reflect.set(exchange.clients, url, current); // a stand-in for the replacement's client
    exchange.onClose(stale, new Error('the old connection finished closing'));
    exchange.onError(stale, new Error('the old connection failed'));
    assert.deepEqual(gone, []);
    assert.equal(exchange.clients[url], current, 'the replacement is still ccxt\'s client for the URL');
    exchange.onClose(current, new Error('closed by the venue'));
    assert.deepEqual(gone, ['closed by the venue']);
    assert.equal(exchange.clients[url], undefined);
  });
});
