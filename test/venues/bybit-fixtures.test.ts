// Every real Bybit v5 payload the project holds, accounted for: each file in test/fixtures/bybit-v5
// is either decoded into the events or reports it stands for, or deliberately not read by Vigil,
// with the reason written here (a new fixture without a line below fails the test). And every
// message of the raw public WebSocket capture (test/fixtures/bybit-capture) on the linear
// connection decodes: tickers into prices equal to the message's, the rest skipped with a reason.
// The detailed value checks per fixture are in bybit-codec.test.ts; this file is the inventory.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import type { Instrument, InstrumentSpec } from '../../src/core/instrument.ts';
import { defineInstrument, priceToTicks } from '../../src/core/instrument.ts';
import { failureOf } from '../../src/venues/bybit/live.ts';
import { decodeStreamMessage } from '../../src/venues/bybit/decode.ts';
import {
  decodeCreateReply, decodeExecutionFunding, decodeExecutionList, decodeInstruments, decodeOrderList, decodePositionList, decodeTickerList, decodeWalletBalance,
} from '../../src/venues/bybit/rest.ts';

const fixtures = new URL('../fixtures/bybit-v5/', import.meta.url);
const read = (name: string): unknown => JSON.parse(readFileSync(new URL(name, fixtures), 'utf8'));

function define(spec: InstrumentSpec): Instrument {
  const parsed = defineInstrument(spec);
  assert.ok(parsed.ok, parsed.ok ? '' : parsed.reason);
  return parsed.value;
}

const listed = decodeInstruments(read('rest.v5.market.instruments-info.linear.json'));
assert.ok(listed.ok && listed.items[0] !== undefined);
const instruments = new Map<string, Instrument>([
  listed.items[0],
  define({ symbol: 'ETHUSDT', tickSize: '0.01', lotSize: '0.01', minQty: '0.01', maxQty: '7240', minNotional: '5' }),
  define({ symbol: 'LTCUSDT', tickSize: '0.01', lotSize: '0.1', minQty: '0.1', maxQty: '9000', minNotional: '5' }),
  define({ symbol: 'XRPUSDT', tickSize: '0.0001', lotSize: '1', minQty: '1', maxQty: '1000000', minNotional: '5' }),
  define({ symbol: 'AAVEUSDT', tickSize: '0.01', lotSize: '0.01', minQty: '0.01', maxQty: '5000', minNotional: '5' }),
].map((instrument) => [instrument.symbol, instrument]));
const ctx = { instruments, atMs: 1_700_000_000_000, source: 'stream' as const };

/** What a fixture is for Vigil: a summary of what it decodes to, or why Vigil never reads it. */
type Expectation = { readonly decodes: () => string } | { readonly ignored: string };

const page = (result: { ok: true; items: unknown[]; skipped: { reason: string }[] } | { ok: false; error: string }): string =>
  result.ok ? `${result.items.length} item(s), ${result.skipped.length} skipped${result.skipped.map((skip) => `: ${skip.reason}`).join('')}` : `error: ${result.error}`;
const stream = (name: string): string => {
  const decoded = decodeStreamMessage(read(name), ctx);
  return decoded.ok ? [...decoded.events.map((event) => event.type), ...decoded.skipped.map((skip) => `skipped: ${skip.reason}`)].join(', ') || 'control' : `error: ${decoded.error}`;
};
const rejection = (name: string): string => {
  const reply = decodeCreateReply(read(name));
  assert.ok(!reply.ok && reply.kind === 'venue-error', name);
  const failure = failureOf(new Error(`bybit ${JSON.stringify(read(name))}`));
  return `retCode ${reply.retCode} -> ${failure.kind === 'rejected' ? failure.code : failure.kind}`;
};

const expected: Readonly<Record<string, readonly [Expectation, string]>> = {
  'rest.v5.market.instruments-info.linear.json': [{ decodes: () => page(decodeInstruments(read('rest.v5.market.instruments-info.linear.json'))) }, '1 item(s), 0 skipped'],
  'rest.v5.market.instruments-info.linear.prelaunch.json': [{ decodes: () => page(decodeInstruments(read('rest.v5.market.instruments-info.linear.prelaunch.json'))) }, '0 item(s), 1 skipped: BIOUSDT status PreLaunch: only Trading instruments are loaded'],
  'rest.v5.market.tickers.linear.json': [{ decodes: () => page(decodeTickerList(read('rest.v5.market.tickers.linear.json'), ctx)) }, '1 item(s), 0 skipped'],
  'rest.v5.market.time.json': [{ decodes: () => `time ${typeof (read('rest.v5.market.time.json') as { time?: unknown }).time}` }, 'time number'],
  'rest.v5.order.create.json': [{ decodes: () => (decodeCreateReply(read('rest.v5.order.create.json')).ok ? 'acked' : 'not') }, 'acked'],
  'rest.v5.order.amend.json': [{ decodes: () => (decodeCreateReply(read('rest.v5.order.amend.json')).ok ? 'acked' : 'not') }, 'acked'],
  'rest.v5.order.cancel.json': [{ decodes: () => (decodeCreateReply(read('rest.v5.order.cancel.json')).ok ? 'acked' : 'not') }, 'acked'],
  'rest.v5.order.cancel-all.json': [{ ignored: 'Vigil never cancels all orders: it cancels its own, one by one, by orderLinkId' }, ''],
  // The docs' example order is hedge mode (positionIdx 1): skipped like a hedge-mode position.
  'rest.v5.order.realtime.linear.json': [{ decodes: () => page(decodeOrderList(read('rest.v5.order.realtime.linear.json'), ctx)) }, '0 item(s), 1 skipped: positionIdx 1: hedge mode is not supported'],
  'rest.v5.order.realtime.linear.ccxt-static.json': [{ decodes: () => page(decodeOrderList(read('rest.v5.order.realtime.linear.ccxt-static.json'), ctx)) }, '1 item(s), 0 skipped'],
  'rest.v5.order.history.linear.json': [{ decodes: () => page(decodeOrderList(read('rest.v5.order.history.linear.json'), ctx)) }, '1 item(s), 0 skipped'],
  'rest.v5.order.history.docs.json': [{ decodes: () => page(decodeOrderList(read('rest.v5.order.history.docs.json'), ctx)) }, '0 item(s), 1 skipped: positionIdx 1: hedge mode is not supported'],
  'rest.v5.position.list.linear.json': [{ decodes: () => page(decodePositionList(read('rest.v5.position.list.linear.json'), ctx)) }, '1 item(s), 0 skipped'],
  // A 2022 sample from before Bybit sent `seq`: refused, naming the field. Without the sequence a
  // position report cannot be ordered against the fills; today's API always sends it (-1 if never traded).
  'rest.v5.position.list.linear.ccxt-comment.json': [{ decodes: () => page(decodePositionList(read('rest.v5.position.list.linear.ccxt-comment.json'), ctx)) }, 'error: position list: result.list[0].seq: expected an integer, missing'],
  'rest.v5.position.list.docs-inverse.json': [{ decodes: () => page(decodePositionList(read('rest.v5.position.list.docs-inverse.json'), ctx)) }, '0 item(s), 1 skipped: category inverse: only linear contracts are traded'],
  'rest.v5.execution.list.linear.json': [{ decodes: () => `${page(decodeExecutionList(read('rest.v5.execution.list.linear.json'), ctx))}; funding ${page(decodeExecutionFunding(read('rest.v5.execution.list.linear.json'), ctx))}` }, '1 item(s), 0 skipped; funding 0 item(s), 1 skipped: execType Trade is not funding'],
  'rest.v5.execution.list.docs.json': [{ decodes: () => page(decodeExecutionList(read('rest.v5.execution.list.docs.json'), ctx)) }, '0 item(s), 1 skipped: ETHPERP is not traded by this bot (no instrument loaded)'],
  'rest.v5.account.wallet-balance.unified.json': [{ decodes: () => page(decodeWalletBalance(read('rest.v5.account.wallet-balance.unified.json'))) }, '0 item(s), 1 skipped: no USDT in the UNIFIED wallet'],
  'rest.v5.account.wallet-balance.unified.2025.json': [{ decodes: () => page(decodeWalletBalance(read('rest.v5.account.wallet-balance.unified.2025.json'))) }, '1 item(s), 0 skipped'],
  'rest.v5.position.trading-stop.json': [{ ignored: 'an empty result: retCode 0 is the whole answer (ccxt throws on any other; 34040 "not modified" counts as done, writes.ts)' }, ''],
  'rest.v5.position.set-leverage.json': [{ ignored: 'leverage is the operator\'s setting on the account; Vigil does not change it' }, ''],
  'rest.v5.account.info.json': [{ ignored: 'ccxt calls it only when enableUnifiedMargin/enableUnifiedAccount are unset; Vigil sets both' }, ''],
  'rest.v5.user.query-api.json': [{ ignored: 'ccxt calls it only when enableUnifiedMargin/enableUnifiedAccount are unset; Vigil sets both' }, ''],
  'rest.error.10001.not-supported-symbols.json': [{ decodes: () => rejection('rest.error.10001.not-supported-symbols.json') }, 'retCode 10001 -> invalid'],
  // The venue may have acted (its timeout or internal error): the outcome is unknown, asked by orderLinkId.
  'rest.error.10016.request-timeout.json': [{ decodes: () => rejection('rest.error.10016.request-timeout.json') }, 'retCode 10016 -> unknown'],
  'rest.error.110003.price-invalid.json': [{ decodes: () => rejection('rest.error.110003.price-invalid.json') }, 'retCode 110003 -> invalid'],
  'rest.error.110007.ab-not-enough.json': [{ decodes: () => rejection('rest.error.110007.ab-not-enough.json') }, 'retCode 110007 -> insufficient-funds'],
  'rest.error.110017.reduce-only.json': [{ decodes: () => rejection('rest.error.110017.reduce-only.json') }, 'retCode 110017 -> reduce-only'],
  'rest.error.12137.too-many-decimals.json': [{ decodes: () => rejection('rest.error.12137.too-many-decimals.json') }, 'retCode 12137 -> other'],
  'ws.private.order.json': [{ decodes: () => stream('ws.private.order.json') }, 'skipped: category option: only linear contracts are traded'],
  'ws.private.execution.json': [{ decodes: () => stream('ws.private.execution.json') }, 'FillReceived'],
  'ws.private.execution.fast.json': [{ decodes: () => stream('ws.private.execution.fast.json') }, 'skipped: execution.fast carries no fee: the fill is booked from the execution topic, which repeats the execId with its fee'],
  'ws.private.position.json': [{ decodes: () => stream('ws.private.position.json') }, 'skipped: positionIdx 2: hedge mode is not supported'],
  'ws.private.wallet.json': [{ decodes: () => stream('ws.private.wallet.json') }, 'skipped: no USDT in the UNIFIED wallet'],
  'ws.public.tickers.linear.snapshot.json': [{ decodes: () => stream('ws.public.tickers.linear.snapshot.json') }, 'TickerUpdated'],
  'ws.public.tickers.linear.delta.json': [{ decodes: () => stream('ws.public.tickers.linear.delta.json') }, 'TickerUpdated'],
  'ws.public.kline.json': [{ decodes: () => stream('ws.public.kline.json') }, 'skipped: topic kline.5.BTCUSDT is not decoded'],
  'ws.op.auth.response.success.json': [{ decodes: () => stream('ws.op.auth.response.success.json') }, 'control'],
  'ws.op.auth.response.failure.json': [{ decodes: () => stream('ws.op.auth.response.failure.json') }, 'error: op auth failed: Params Error'],
  'ws.op.subscribe.response.private.json': [{ decodes: () => stream('ws.op.subscribe.response.private.json') }, 'control'],
  'ws.op.subscribe.response.public-linear.json': [{ decodes: () => stream('ws.op.subscribe.response.public-linear.json') }, 'control'],
  'ws.op.pong.private.json': [{ decodes: () => stream('ws.op.pong.private.json') }, 'control'],
  'ws.op.pong.public-linear.json': [{ decodes: () => stream('ws.op.pong.public-linear.json') }, 'control'],
  'ws.op.auth.request.json': [{ ignored: 'a request the client sends (ccxt builds it), not a message Vigil reads' }, ''],
  'ws.op.ping.request.json': [{ ignored: 'a request the client sends, not a message Vigil reads' }, ''],
  'ws.op.subscribe.request.json': [{ ignored: 'a request the client sends, not a message Vigil reads' }, ''],
  'ws.trade.order.create.request.json': [{ ignored: 'Vigil places orders over REST, not the /v5/trade WebSocket' }, ''],
  'ws.trade.order.create.response.json': [{ decodes: () => (decodeCreateReply(read('ws.trade.order.create.response.json')).ok ? 'acked' : 'not') }, 'acked'],
  'ws.trade.auth.response.json': [{ ignored: 'Vigil places orders over REST, not the /v5/trade WebSocket' }, ''],
  'ws.trade.pong.json': [{ ignored: 'Vigil places orders over REST, not the /v5/trade WebSocket' }, ''],
};

describe('every Bybit v5 fixture, accounted for', () => {
  const files = readdirSync(fixtures).filter((name) => name.endsWith('.json')).sort();

  it('has a line here for every fixture file, and a file for every line', () => {
    assert.deepEqual(files, Object.keys(expected).sort());
  });

  for (const name of files) {
    const entry = expected[name];
    if (entry === undefined) continue;
    const [expectation, summary] = entry;
    it(`${name}: ${'ignored' in expectation ? `not read (${expectation.ignored})` : summary}`, () => {
      if ('ignored' in expectation) {
        assert.ok(expectation.ignored.length > 20, 'a reason, not a shrug');
        return;
      }
      assert.equal(expectation.decodes(), summary);
    });
  }
});

describe('the raw public WebSocket capture (cryptofeed, 2026-08-09)', () => {
  type Line = { readonly t: string; readonly conn?: string; readonly url?: string; readonly data?: string };
  const lines = gunzipSync(readFileSync(new URL('../fixtures/bybit-capture/cryptofeed_BYBIT_v5_ws_capture.jsonl.gz', import.meta.url)))
    .toString('utf8').trim().split('\n').map((text) => JSON.parse(text) as Line);
  const linearInfo = lines.find((line) => line.t === 'http' && line.url?.includes('category=linear') === true);
  assert.ok(linearInfo?.data !== undefined);
  const loaded = decodeInstruments(JSON.parse(linearInfo.data));
  assert.ok(loaded.ok);
  const traded = new Map(loaded.items.filter((instrument) => ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'DOGEUSDT'].includes(instrument.symbol)).map((instrument) => [instrument.symbol, instrument]));
  const linear = lines.filter((line) => line.t === 'recv' && line.conn === 'BYBIT.ws.2').map((line) => JSON.parse(line.data ?? 'null') as Record<string, unknown>);

  it("loads the four perps' tick and lot sizes from the captured instruments-info", () => {
    assert.deepEqual([...traded.keys()].sort(), ['BTCUSDT', 'DOGEUSDT', 'ETHUSDT', 'SOLUSDT']);
    assert.ok(loaded.ok && loaded.items.length > 400, 'hundreds of Trading USDT perpetuals');
    assert.ok(loaded.ok && loaded.skipped.every((skip) => skip.reason.length > 10), 'the rest skipped with a reason');
  });

  it('decodes every linear message: tickers to their prices exactly, the rest skipped with a reason', () => {
    const counts = new Map<string, number>();
    let tickers = 0;
    for (const message of linear) {
      const decoded = decodeStreamMessage(message, { instruments: traded, atMs: 0, source: 'stream' });
      assert.ok(decoded.ok, decoded.ok ? '' : `${decoded.error} in ${JSON.stringify(message).slice(0, 200)}`);
      for (const skip of decoded.skipped) {
        const reason = skip.reason.replace(/\b[A-Z0-9]+USDT\b/g, '<symbol>');
        counts.set(reason, (counts.get(reason) ?? 0) + 1);
      }
      if (typeof message.topic !== 'string' || !message.topic.startsWith('tickers.')) continue;
      const [event] = decoded.events;
      assert.ok(event?.type === 'TickerUpdated');
      const data = message.data as Record<string, string | undefined>;
      const instrument = traded.get(event.symbol);
      assert.ok(instrument !== undefined);
      const exact = (text: string | undefined): number | null => {
        if (text === undefined) return null;
        const ticks = priceToTicks(instrument, text);
        return ticks.ok ? ticks.value : null;
      };
      assert.equal(event.lastTicks, exact(data.lastPrice), 'last price');
      if (data.markPrice === undefined) assert.equal(event.markTicks, null, 'a delta without a mark price leaves it unknown');
      assert.equal(event.venueMs, message.ts);
      tickers += 1;
    }
    assert.equal(tickers, 758);
    assert.deepEqual([...counts.keys()].sort(), ['topic kline.1.<symbol> is not decoded', 'topic orderbook.200.<symbol> is not decoded', 'topic publicTrade.<symbol> is not decoded']);
  });
});
