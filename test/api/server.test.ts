// The operator API against the real engine and runtime in-process (support.ts): the token on every
// route, the status code and reason of each kind of bad request with nothing applied, signals
// accepted, rejected and repeated, the views, and the metrics' text format.

import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { step } from '../../src/core/engine/step.ts';
import { createEngineState } from '../../src/core/state.ts';
import { decodeState, encodeState } from '../../src/journal/state-codec.ts';
import type { Harness } from './support.ts';
import { fillEntry, sol, startHarness, token } from './support.ts';
import { utcMinute } from '../../src/core/utc.ts';

/** Sends `request` as it is on a new connection; resolves to all the server sent back, once it closes the connection. */
function exchangeRaw(base: string, request: string): Promise<string> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(request));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('error', reject);
    socket.once('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

const open = (id: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  id, action: 'open', symbol: 'SOLUSDT', side: 'buy', quantity: '1', stopLoss: { percent: 2 }, ...extra,
});

describe('the operator API', () => {
  let api: Harness;
  before(async () => {
    api = await startHarness();
  });
  after(async () => {
    await api.close();
  });

  it('refuses every route without the right bearer token, unknown routes included', async () => {
    for (const path of ['/api/health', '/api/positions', '/api/orders', '/api/fills', '/metrics', '/nowhere']) {
      const missing = await api.request(path, { token: null });
      assert.equal(missing.status, 401, path);
      assert.match(String(missing.json.error), /missing Authorization/);
      assert.equal(missing.headers.get('www-authenticate'), 'Bearer realm="vigil"');
      assert.equal((await api.request(path, { token: `${token}x` })).status, 401, `${path} with a wrong token`);
      assert.equal((await api.request(path, { token: token.slice(0, -1) })).status, 401, `${path} with a prefix of the token`);
    }
    const basic = await api.request('/api/health', { token: null, headers: { authorization: `Basic ${Buffer.from(`u:${token}`).toString('base64')}` } });
    assert.equal(basic.status, 401);
    const signal = await api.request('/api/signals', { token: 'nope', body: open('unauthorized') });
    assert.equal(signal.status, 401);
    assert.equal(api.runtime.state.requests.size, 0, 'nothing reached the engine');
    assert.ok(!JSON.stringify(api.logs).includes(token), 'the token is never logged');
  });

  it('answers 404 for an unknown route and 405 for a wrong method, with the allowed one', async () => {
    const unknown = await api.request('/api/nothing');
    assert.equal(unknown.status, 404);
    assert.match(String(unknown.json.error), /no route \/api\/nothing/);
    const wrong = await api.request('/api/positions', { method: 'POST', body: {} });
    assert.equal(wrong.status, 405);
    assert.equal(wrong.headers.get('allow'), 'GET');
    const get = await api.request('/api/signals');
    assert.equal(get.status, 405);
    assert.equal(get.headers.get('allow'), 'POST');
  });

  it('refuses bad signals with a 4xx and a reason, and applies nothing', async () => {
    const eventsBefore = api.journal.size;
    const cases: [unknown, number, RegExp][] = [
      ['{"id": "x", ', 400, /not valid JSON/],
      [[1, 2], 400, /expected object/],
      [{ id: 'a', action: 'open', symbol: 'SOLUSDT', side: 'buy', quantity: '1' }, 400, /stopLoss: required/],
      [open('b', { notional: '100' }), 400, /quantity: expected exactly one of quantity .* or notional/],
      [open('c', { quantity: undefined }), 400, /quantity: expected exactly one/],
      [open('d', { stopLoss: { percent: 2, price: '140' } }), 400, /stopLoss: expected exactly one of price or percent/],
      [open('e', { stopLoss: { percent: 150 } }), 400, /stopLoss\.percent: expected a percent below 100/],
      [open('f', { side: 'long' }), 400, /side: expected one of buy, sell/],
      [open('g', { quantity: '-1' }), 400, /quantity: expected a positive decimal/],
      [open('h', { sl: 2 }), 400, /sl: unknown field/],
      [open('bad id with spaces'), 400, /id: expected 1 to 64 characters/],
      [open('i', { symbol: 'sol' }), 400, /symbol: expected a symbol in capitals/],
      [{ id: 'j', action: 'flip', symbol: 'SOLUSDT' }, 400, /action/],
      [open('k', { entry: { kind: 'limit' } }), 400, /entry\.price: required \(expected a decimal\)/],
    ];
    for (const [body, status, reason] of cases) {
      const answer = await api.request('/api/signals', { body: typeof body === 'string' ? body : JSON.stringify(body) });
      assert.equal(answer.status, status, JSON.stringify(body));
      assert.match(JSON.stringify(answer.json), reason, JSON.stringify(body));
    }
    const form = await api.request('/api/signals', { body: 'id=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(form.status, 415);
    assert.equal(api.journal.size, eventsBefore, 'no event journaled');
    assert.equal(api.runtime.state.requests.size, 0, 'no request remembered');
  });

  it('refuses a body over the limit with 413', async () => {
    const large = JSON.stringify(open('large', { padding: 'x'.repeat(20_000) }));
    const answer = await api.request('/api/signals', { body: large });
    assert.equal(answer.status, 413);
    // Without a Content-Length (chunked), the limit holds while reading.
    const chunked = await new Promise<number>((resolve, reject) => {
      const request = httpRequest(`${api.base}/api/signals`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      request.on('error', reject);
      for (let index = 0; index < 40; index += 1) request.write('x'.repeat(1_000));
      request.end();
    });
    assert.equal(chunked, 413);
  });

  it('accepts an open signal once: the entry goes out with its stop, a repeat is a no-op', async () => {
    api.trading();
    const first = await api.request('/api/signals', { body: open('s1', { takeProfit: { price: '160' } }) });
    assert.equal(first.status, 200, first.text);
    assert.equal(first.json.result, 'accepted');
    assert.equal(first.json.requestId, 'api:s1');
    assert.match(String(first.json.intent), /^api-\d+$/);
    const submits = api.gateway.submits();
    assert.equal(submits.length, 1);
    assert.deepEqual(submits[0]?.spec.stopLoss, { triggerTicks: 14_700, triggerBy: 'mark' }, '2 % under 150.00');
    assert.equal(submits[0]?.spec.takeProfit?.triggerTicks, 16_000);

    const again = await api.request('/api/signals', { body: open('s1', { takeProfit: { price: '160' } }) });
    assert.equal(again.status, 200);
    assert.equal(again.json.result, 'duplicate');
    assert.equal(again.json.message, 'duplicate: already handled');
    assert.equal(again.json.intent, first.json.intent);
    assert.equal(api.gateway.submits().length, 1, 'no second entry');

    // The same id for another signal is not a repeat: refused, saying so, rather than a silent "duplicate".
    const reused = await api.request('/api/signals', { body: open('s1', { quantity: '5' }) });
    assert.equal(reused.status, 422, reused.text);
    assert.equal(reused.json.error, 'the id s1 was already used for a different signal: nothing was done (give this signal an id of its own)');
    assert.notEqual(reused.json.result, 'duplicate');
    // The same signal written differently (a number for the text, another key order) is a repeat.
    const rewritten = await api.request('/api/signals', { body: { takeProfit: { price: 160 }, stopLoss: { percent: 2 }, side: 'buy', quantity: 1, symbol: 'SOLUSDT', action: 'open', id: 's1' } });
    assert.deepEqual([rewritten.status, rewritten.json.result], [200, 'duplicate'], rewritten.text);
    assert.equal(api.gateway.submits().length, 1, 'still no second entry');
    // What the id asked is the engine's, journaled: a restart (replay, or a snapshot) knows it too.
    const live = api.runtime.state.requests.get('api:s1');
    const replayed = createEngineState({ botId: 'api' });
    for (const event of api.journal.entries()) step(replayed, event);
    assert.deepEqual(replayed.requests.get('api:s1'), live);
    assert.deepEqual(decodeState(encodeState(api.runtime.state), { botId: 'api' }).requests.get('api:s1'), live);

    const other = await api.request('/api/signals', { body: open('s2') });
    assert.equal(other.status, 409, 'the symbol already has an entry: the request is fine, the state refuses it');
    assert.equal(other.json.result, 'rejected');
    assert.match(String(other.json.reason), /already has an active position or entry/);
    const repeatedRejection = await api.request('/api/signals', { body: open('s2') });
    assert.equal(repeatedRejection.status, 409);
    assert.equal(repeatedRejection.json.result, 'duplicate');
    assert.equal(repeatedRejection.json.original, 'rejected');
  });

  it('shows the position with its stop, the orders and the fills', async () => {
    const entry = api.gateway.submits()[0];
    assert.ok(entry !== undefined);
    fillEntry(api, entry.clientOrderId, 10, 15_000, 14_700);
    const positions = await api.request('/api/positions');
    assert.equal(positions.status, 200);
    const [position] = positions.json.positions as Record<string, unknown>[];
    assert.deepEqual(
      { symbol: position?.symbol, side: position?.side, quantity: position?.quantity, stopLoss: position?.stopLoss, takeProfit: position?.takeProfit, stopOnVenue: position?.stopOnVenue },
      { symbol: 'SOLUSDT', side: 'long', quantity: '1', stopLoss: '147', takeProfit: '160', stopOnVenue: true },
    );
    assert.equal(position?.averageEntry, '150.0000');
    const orders = await api.request('/api/orders');
    assert.deepEqual(orders.json.orders, [], 'the entry filled: nothing working (the stop is the position\'s own)');
    const fills = await api.request('/api/fills?limit=5');
    const [fill] = fills.json.fills as Record<string, unknown>[];
    assert.deepEqual({ symbol: fill?.symbol, quantity: fill?.quantity, price: fill?.price, fee: fill?.fee, role: fill?.role }, { symbol: 'SOLUSDT', quantity: '1', price: '150', fee: '0.08250000', role: 'entry' });
    assert.equal((await api.request('/api/fills?limit=0')).status, 400);
    assert.equal((await api.request('/api/fills?limit=abc')).status, 400);
  });

  it('closes through a signal; a close with nothing open is a 409 with the reason', async () => {
    const close = await api.request('/api/signals', { body: { id: 'c1', action: 'close', symbol: 'SOLUSDT' } });
    assert.equal(close.status, 200, close.text);
    assert.match(String(close.json.outcome), /^closing api-\d+$/);
    const exit = api.gateway.submits().at(-1);
    assert.equal(exit?.spec.reduceOnly, true);
    assert.equal(exit?.spec.type.kind, 'market');
    const nothing = await api.request('/api/signals', { body: { id: 'c2', action: 'close', symbol: 'ETHUSDT' } });
    assert.equal(nothing.status, 409);
    assert.match(String(nothing.json.reason), /no open position or entry on ETHUSDT/);
  });

  it('answers 422 when the signal cannot be carried out as asked', async () => {
    const unknown = await api.request('/api/signals', { body: open('u1', { symbol: 'XRPUSDT' }) });
    assert.equal(unknown.status, 422);
    assert.match(String(unknown.json.reason), /unknown instrument XRPUSDT/);
  });

  it('shows health: phase, streams, the last reconciliation and its drift', async () => {
    const health = await api.request('/api/health');
    assert.equal(health.status, 200);
    assert.equal(health.json.phase, 'trading');
    assert.deepEqual((health.json.streams as Record<string, unknown>).private, { engine: 'up', connection: 'up', reconnects: 0 });
    const last = health.json.lastReconciliation as Record<string, unknown>;
    assert.equal(last.reason, 'startup');
    assert.equal((last.drift as Record<string, number>).missedFills, 0);
    assert.equal(health.json.reconciliations, 1);
    assert.deepEqual([health.json.ok, health.json.problems], [true, []]);
  });

  it('is not ok when a reconciliation is overdue or a stream is down, and says why', async () => {
    const api = await startHarness();
    try {
      api.trading();
      api.clock.advance(3 * 120_000 + 1_000); // the periodic snapshots asked for are never answered
      const overdue = await api.request('/api/health');
      assert.equal(overdue.json.ok, false);
      assert.deepEqual(overdue.json.problems, ['the last reconciliation was 361 s ago (one is due every 120 s)']);
      api.deliver({ type: 'StreamDisconnected', stream: 'public', reason: 'stalled' });
      assert.deepEqual((await api.request('/api/health')).json.problems, ['the public stream is down', 'the last reconciliation was 361 s ago (one is due every 120 s)']);
    } finally {
      await api.close();
    }
  });

  it('lists a symbol being delisted, and makes a position held there a problem', async () => {
    const api = await startHarness({ engine: { externalPositions: 'watch' } });
    try {
      api.trading();
      const delistMs = api.clock.nowMs() + 86_400_000;
      api.deliver({ type: 'InstrumentsLoaded', instruments: [{ ...sol, delistMs }] });
      const quiet = (await api.request('/api/health')).json;
      assert.deepEqual([quiet.ok, quiet.delistings], [true, [{ symbol: 'SOLUSDT', delistMs, text: `the venue delists SOLUSDT at ${utcMinute(delistMs)}`, position: null, closeAtMs: delistMs - 3_600_000 }]]);
      const refused = await api.request('/api/signals', { body: open('d1') });
      assert.equal(refused.status, 422);
      assert.match(String(refused.json.reason), /the venue delists SOLUSDT at .*: no new entries there/);
      api.deliver({ type: 'PositionUpdated', source: 'stream', symbol: 'SOLUSDT', sizeLots: -10, entryPrice: '150', stopLossTicks: null, takeProfitTicks: null, trailingTicks: null, seq: 1, venueUpdatedMs: api.clock.nowMs() });
      const held = (await api.request('/api/health')).json;
      assert.deepEqual([held.ok, held.problems], [false, [`the venue delists SOLUSDT at ${utcMinute(delistMs)}, and the bot holds a short 1 there`]]);
    } finally {
      await api.close();
    }
  });

  it('counts an external position kept on watch apart from the unprotected: not a problem, by the operator\'s choice', async () => {
    for (const externalPositions of ['watch', 'protect'] as const) {
      const api = await startHarness({ engine: { externalPositions } });
      try {
        api.trading();
        api.deliver({ type: 'PositionUpdated', source: 'stream', symbol: 'SOLUSDT', sizeLots: 10, entryPrice: '150', stopLossTicks: null, takeProfitTicks: null, trailingTicks: null, seq: 1, venueUpdatedMs: api.clock.nowMs() });
        const health = (await api.request('/api/health')).json;
        const metrics = (await api.request('/metrics')).text;
        if (externalPositions === 'watch') {
          assert.deepEqual([health.ok, health.problems, health.positionsUnprotected, health.positionsWatched], [true, [], 0, 1]);
          assert.match(metrics, /^vigil_positions_watched 1$/m);
          assert.match(metrics, /^vigil_positions_unprotected 0$/m);
        } else {
          // Protected: its stop is sent, not yet confirmed.
          assert.deepEqual([health.ok, health.problems, health.positionsUnprotected, health.positionsWatched], [false, ['1 position(s) without a confirmed stop'], 1, 0]);
        }
      } finally {
        await api.close();
      }
    }
  });

  it('serves the metrics in the Prometheus text format', async () => {
    const metrics = await api.request('/metrics');
    assert.equal(metrics.status, 200);
    assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    for (const line of metrics.text.split('\n')) {
      if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
      assert.match(line, /^vigil_[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? -?\d+(\.\d+)?(e[-+]\d+)?$/, line);
    }
    const value = (series: string): number => Number(new RegExp(`^${series.replace(/[{}"]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(metrics.text)?.[1]);
    assert.equal(value('vigil_orders_submitted_total{role="entry"}'), 1);
    assert.equal(value('vigil_orders_submitted_total{role="exit"}'), 1);
    assert.equal(value('vigil_fills_total{symbol="SOLUSDT"}'), 1);
    assert.equal(value('vigil_signals_total{source="api",result="rejected"}'), 3);
    assert.equal(value('vigil_signals_total{source="api",result="duplicate"}'), 3);
    assert.ok(value('vigil_signals_total{source="api",result="invalid"}') >= 15, 'the 400s and the reused id');
    assert.equal(value('vigil_signals_total{source="api",result="unauthorized"}'), 1, 'the signal posted with a wrong token');
    assert.equal(value('vigil_phase{phase="trading"}'), 1);
    assert.equal(value('vigil_stream_up{stream="private"}'), 1);
    assert.equal(value('vigil_reconciliations_total{reason="startup"}'), 1);
    assert.equal(value('vigil_unprotected_seconds_count'), 1, 'one position, its stop confirmed once');
    assert.equal(value('vigil_api_requests_total{route="/api/signals",status="401"}'), 1);
    assert.ok(value('vigil_events_applied_total{type="OpenRequested"}') >= 3);
    assert.equal(value('vigil_state_entries{kind="execution_ids"}'), 1, 'the one fill booked, remembered');
    assert.ok(value('vigil_state_entries{kind="orders"}') >= 2, 'the entry and the exit at least');
  });
});

describe('the operator API under load and failure', () => {
  it('limits signals per second with 429 and Retry-After', async () => {
    const api = await startHarness({ signalsPerSecond: 2 });
    try {
      api.trading();
      const statuses: number[] = [];
      for (const id of ['r1', 'r2', 'r3']) statuses.push((await api.request('/api/signals', { body: { id, action: 'close', symbol: 'SOLUSDT' } })).status);
      assert.deepEqual(statuses, [409, 409, 429]);
      const limited = await api.request('/api/signals', { body: { id: 'r4', action: 'close', symbol: 'SOLUSDT' } });
      assert.equal(limited.headers.get('retry-after'), '1');
      assert.equal(api.runtime.state.requests.has('api:r4'), false, 'a refused signal never reaches the engine');
      api.clock.advance(1_000);
      assert.equal((await api.request('/api/signals', { body: { id: 'r4', action: 'close', symbol: 'SOLUSDT' } })).status, 409, 'tokens come back with time');
    } finally {
      await api.close();
    }
  });

  it('says connection: close on a reply sent before the body arrived whole, so the client does not reuse the socket', async () => {
    const api = await startHarness();
    try {
      const head = (authorization: string, type: string): string => [
        'POST /api/signals HTTP/1.1', 'Host: api', `Authorization: ${authorization}`, `Content-Type: ${type}`, 'Content-Length: 1000', '', '{"id": ',
      ].join('\r\n');
      // Refused before the body is read (a wrong token, a wrong type), with most of the body still to come.
      for (const [request, status] of [[head('Bearer wrong', 'application/json'), 401], [head(`Bearer ${token}`, 'text/csv'), 415]] as const) {
        const reply = await exchangeRaw(api.base, request);
        assert.match(reply, new RegExp(`^HTTP/1\\.1 ${status} `), reply);
        assert.match(reply, /^connection: close\r$/im, reply);
        assert.doesNotMatch(reply, /^connection: keep-alive/im, reply);
      }
    } finally {
      await api.close();
    }
  });

  it('answers 409 while not trading, naming the phase', async () => {
    const api = await startHarness();
    try {
      const early = await api.request('/api/signals', { body: open('early') });
      assert.equal(early.status, 409);
      assert.match(String(early.json.reason), /phase loading/);
      assert.equal(api.gateway.submits().length, 0);
    } finally {
      await api.close();
    }
  });

  it('answers 503 once the runtime halted, and health says why', async () => {
    const api = await startHarness();
    try {
      api.trading();
      // A broken invariant halts the runtime: here an inbox that overflows.
      for (let index = 0; index <= 100_000; index += 1) api.runtime.receive({ type: 'TimerFired', timerId: -1 });
      assert.ok(api.runtime.halt !== null);
      const signal = await api.request('/api/signals', { body: open('late') });
      assert.equal(signal.status, 503);
      assert.match(String(signal.json.error), /runtime halted/);
      const health = await api.request('/api/health');
      assert.equal(health.status, 503);
      assert.match(String((health.json.halted as Record<string, unknown>).reason), /inbox overflow/);
    } finally {
      await api.close();
    }
  });
});
