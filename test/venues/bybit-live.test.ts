// The Bybit adapter (src/venues/bybit/live.ts, the real ccxt client inside) against a scripted stub
// on loopback that answers with Bybit's own frames (test/fixtures/bybit-v5): a stream opens on the
// subscribe acks Bybit documents (no req_id on the private stream, "" on the public one); a topic
// frame that comes before the ack is dropped with a log line; garbage (text, truncated JSON, an
// array, an unknown op, a failed subscribe) drops the connection with what and where, never passes
// for a heartbeat; and requests end as Bybit means them: a crossed stop 'trigger-crossed', a 10016
// unknown, a retMsg whole with the key redacted. Every wait has a deadline.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { WebSocket } from 'ws';
import { WebSocketServer } from 'ws';
import type { ClientOrderId } from '../../src/core/ids.ts';
import type { Incoming } from '../../src/shell/ports.ts';
import type { StreamHandlers } from '../../src/shell/streams.ts';
import type { BybitVenue } from '../../src/venues/bybit/live.ts';
import { createBybitVenue } from '../../src/venues/bybit/live.ts';

type Json = Record<string, unknown>;

const apiKey = 'stubkey0123456789';
const fixtureText = (name: string): string => readFileSync(new URL(`../fixtures/bybit-v5/${name}`, import.meta.url), 'utf8');
const fixture = (name: string): Json => JSON.parse(fixtureText(name)) as Json;

/** Calls its waiters whenever something was recorded; a wait that outlives its deadline fails with the log. */
class Recorder {
  readonly log: string[] = [];
  readonly delivered: Incoming[] = [];
  private waiters: { readonly check: () => boolean; readonly resolve: () => void }[] = [];

  changed(): void {
    this.waiters = this.waiters.filter((waiter) => {
      if (!waiter.check()) return true;
      waiter.resolve();
      return false;
    });
  }

  until(what: string, check: () => boolean, timeoutMs = 5_000): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; log: ${this.log.join(' | ')}`)), timeoutMs);
      this.waiters.push({ check, resolve: () => { clearTimeout(timer); resolve(); } });
    });
  }
}

/** What one stream connection told the supervisor. */
type Seen = { opened: number; closed: string[]; messages: (Incoming | null)[] };

/** How the stub answers a subscribe: Bybit's documented ack for the path unless a test says otherwise. */
type OnSubscribe = (socket: WebSocket, path: string, request: Json) => void;

const documentedAck: OnSubscribe = (socket, path) => {
  socket.send(fixtureText(path === '/v5/private' ? 'ws.op.subscribe.response.private.json' : 'ws.op.subscribe.response.public-linear.json'));
};

/** The ack with the request's req_id echoed, as Bybit answers a subscribe that sent one (and as the emulator does). */
const echoedAck: OnSubscribe = (socket, _path, request) => {
  socket.send(JSON.stringify({ success: true, ret_msg: '', conn_id: 'c', req_id: String(request.req_id), op: 'subscribe' }));
};

/** An HTTP + WebSocket stub: REST answers from fixtures (or `replies` by path), auth succeeds, subscribes are answered by `onSubscribe`. */
class Stub {
  readonly replies = new Map<string, Json>();
  readonly sockets = new Map<string, WebSocket>();
  /** How long the next time requests wait before the server reads its clock, one by one (a slow first round trip). */
  readonly timeDelaysMs: number[] = [];
  onSubscribe: OnSubscribe = documentedAck;
  private readonly server = createServer((request, response) => this.answer(request, response));
  private readonly wss = new WebSocketServer({ server: this.server });
  port = 0;

  async listen(): Promise<void> {
    this.wss.on('connection', (socket, request) => {
      const path = request.url ?? '';
      this.sockets.set(path, socket);
      socket.on('message', (data) => {
        const message = JSON.parse(Buffer.isBuffer(data) ? data.toString('utf8') : '{}') as Json;
        if (message.op === 'auth') socket.send(fixtureText('ws.op.auth.response.success.json'));
        if (message.op === 'subscribe') this.onSubscribe(socket, path, message);
        if (message.op === 'ping') socket.send(fixtureText('ws.op.pong.private.json'));
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  send(path: string, frame: string): void {
    const socket = this.sockets.get(path);
    assert.ok(socket !== undefined, `no connection on ${path}`);
    socket.send(frame);
  }

  async close(): Promise<void> {
    for (const socket of this.wss.clients) socket.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private answer(request: IncomingMessage, response: ServerResponse): void {
    const path = (request.url ?? '').split('?')[0] ?? '';
    const delayMs = path === '/v5/market/time' ? (this.timeDelaysMs.shift() ?? 0) : 0;
    request.resume();
    request.on('end', () => {
      setTimeout(() => {
        const reply = this.replies.get(path) ?? this.fromFixtures(path);
        response.writeHead(200, { 'Content-Type': 'application/json' });
        response.end(JSON.stringify(reply));
      }, delayMs);
    });
  }

  private fromFixtures(path: string): Json {
    switch (path) {
      case '/v5/market/time': return { retCode: 0, retMsg: 'OK', result: { timeSecond: String(Math.floor(Date.now() / 1000)), timeNano: `${Date.now()}000000` }, retExtInfo: {}, time: Date.now() };
      case '/v5/market/instruments-info': return fixture('rest.v5.market.instruments-info.linear.json');
      case '/v5/account/wallet-balance': return fixture('rest.v5.account.wallet-balance.unified.2025.json');
      default: return { retCode: 10001, retMsg: `the stub has no reply for ${path}`, result: {}, retExtInfo: {}, time: Date.now() };
    }
  }
}

/** A started venue on the stub, recording what it delivers and logs. */
async function venueOn(stub: Stub, recorder: Recorder): Promise<BybitVenue> {
  const url = `127.0.0.1:${stub.port}`;
  const venue = createBybitVenue(
    { network: 'custom', restUrl: `http://${url}`, wsPublicUrl: `ws://${url}/v5/public/linear`, wsPrivateUrl: `ws://${url}/v5/private`, apiKey, apiSecret: 'stubsecret', recvWindowMs: 200 },
    {
      clock: { nowMs: () => Date.now(), schedule: (atMs, onFire) => setTimeout(onFire, Math.max(0, atMs - Date.now())) },
      deliver: (incoming) => { recorder.delivered.push(incoming); recorder.changed(); },
      log: (line) => { recorder.log.push(line); recorder.changed(); },
    },
  );
  await venue.start(['BTCUSDT']);
  return venue;
}

function handlersFor(recorder: Recorder): { readonly seen: Seen; readonly handlers: StreamHandlers } {
  const seen: Seen = { opened: 0, closed: [], messages: [] };
  const handlers: StreamHandlers = {
    onOpen: () => { seen.opened += 1; recorder.changed(); },
    onClose: (reason) => { seen.closed.push(reason); recorder.changed(); },
    onMessage: (incoming) => { seen.messages.push(incoming); recorder.changed(); },
  };
  return { seen, handlers };
}

/** The documented wallet push with a USDT account added (the docs' account holds only BTC). */
function walletPush(): string {
  const message = fixture('ws.private.wallet.json');
  const [account] = message.data as Json[];
  assert.ok(account !== undefined);
  account.coin = [...(account.coin as Json[]), { coin: 'USDT', equity: '100.5', walletBalance: '100', unrealisedPnl: '0.5' }];
  return JSON.stringify(message);
}

void describe('bybit adapter: streams', { timeout: 60_000 }, () => {
  const stub = new Stub();
  before(async () => {
    await stub.listen();
  });
  after(async () => {
    await stub.close();
  });

  void it("opens each stream on Bybit's documented acks (no req_id on the private stream, \"\" on the public) and delivers what follows", async () => {
    stub.onSubscribe = documentedAck;
    const recorder = new Recorder();
    const venue = await venueOn(stub, recorder);
    try {
      const privateStream = handlersFor(recorder);
      venue.streams.open('private', 1, privateStream.handlers);
      await recorder.until('the private stream to open', () => privateStream.seen.opened === 1);
      stub.send('/v5/private', walletPush());
      await recorder.until('the wallet push', () => privateStream.seen.messages.some((message) => message?.type === 'WalletUpdated'));
      stub.send('/v5/private', fixtureText('ws.op.pong.private.json'));
      await recorder.until('the pong, as traffic', () => privateStream.seen.messages.includes(null));

      const publicStream = handlersFor(recorder);
      venue.streams.open('public', 2, publicStream.handlers);
      await recorder.until('the public stream to open', () => publicStream.seen.opened === 1);
      stub.send('/v5/public/linear', fixtureText('ws.public.tickers.linear.snapshot.json'));
      await recorder.until('the ticker', () => publicStream.seen.messages.some((message) => message?.type === 'TickerUpdated'));
      assert.deepEqual([privateStream.seen.closed, publicStream.seen.closed], [[], []]);
    } finally {
      await venue.close();
    }
  });

  void it('logs a topic frame it drops because its subscription is not acknowledged yet', async () => {
    // The ack comes after a ticker (and echoes the req_id, so the stream opens with or without the fix for bare acks).
    stub.onSubscribe = (socket, path, request) => {
      socket.send(fixtureText('ws.public.tickers.linear.snapshot.json'));
      echoedAck(socket, path, request);
    };
    const recorder = new Recorder();
    const venue = await venueOn(stub, recorder);
    try {
      const { seen, handlers } = handlersFor(recorder);
      venue.streams.open('public', 1, handlers);
      await recorder.until('the public stream to open', () => seen.opened === 1);
      await recorder.until('the log line', () => recorder.log.some((line) => line === 'bybit: public stream: dropped a "tickers.BTCUSDT" message: its subscription is not acknowledged yet'));
      assert.deepEqual(seen.messages, [], 'the early ticker is not delivered');
    } finally {
      await venue.close();
    }
  });

  const garbage: readonly [string, string, RegExp][] = [
    ['plain text', 'hello, world', /^unreadable control frame \(not a Bybit v5 message: expected an object with topic or op; it starts "hello, world"\)$/],
    ['truncated JSON', '{"topic":"execution","data":[{"execId":"e1","execPrice":"6', /^unreadable control frame \(not a Bybit v5 message: .*; it starts "\{\\"topic\\":\\"execution\\",\\"data\\".*\)$/],
    ['an array', '[{"topic":"order"}]', /^unreadable control frame \(not a Bybit v5 message: .*; it starts "\[\{\\"topic\\":\\"order\\"\}\]"\)$/],
    ['an unknown op', '{"op":"hello","conn_id":"c"}', /^unreadable control frame \(unknown op "hello"; it starts "\{\\"op\\":\\"hello\\",\\"conn_id\\":\\"c\\"\}"\)$/],
    ['a failed subscribe', '{"success":false,"ret_msg":"error:handler not found,topic:foo","op":"subscribe","conn_id":"c"}', /^unreadable control frame \(op subscribe failed: error:handler not found,topic:foo; it starts/],
    ['a huge frame', 'garbage '.repeat(20_000), /^unreadable control frame \(not a Bybit v5 message: .*; it starts "(garbage ){15}\.\.\."\)$/],
  ];
  for (const [what, frame, reason] of garbage) {
    void it(`drops the connection on ${what}, saying what and where, and counts it as no traffic`, async () => {
      stub.onSubscribe = echoedAck;
      const recorder = new Recorder();
      const venue = await venueOn(stub, recorder);
      try {
        const { seen, handlers } = handlersFor(recorder);
        venue.streams.open('private', 1, handlers);
        await recorder.until('the private stream to open', () => seen.opened === 1);
        stub.send('/v5/private', frame);
        await recorder.until('the connection to be dropped', () => seen.closed.length === 1);
        assert.match(seen.closed[0] ?? '', reason);
        assert.ok((seen.closed[0] ?? '').length < 400, 'a prefix, never the whole frame');
        assert.deepEqual(seen.messages, [], 'not traffic');
        assert.ok(recorder.log.some((line) => line === `bybit: private stream: ${seen.closed[0] ?? ''}; reconnecting`), recorder.log.join('\n'));
      } finally {
        await venue.close();
      }
    });
  }
});

void describe('bybit adapter: the clock check at the start', { timeout: 60_000 }, () => {
  const stub = new Stub();
  before(async () => {
    await stub.listen();
  });
  after(async () => {
    await stub.close();
  });

  void it('reads the clocks a few times and keeps the closest reading: one slow round trip refuses nothing', async () => {
    // Bybit reads its clock 300 ms after the request left: the reading puts this machine 150 ms
    // behind, give or take 150, beyond half the 200 ms recv window. The next readings are prompt.
    stub.timeDelaysMs.push(300);
    const venue = await venueOn(stub, new Recorder());
    await venue.close();
    assert.equal(stub.timeDelaysMs.length, 0, 'the slow reading was taken');
    // Slow every time: the clock cannot be told to be within the window, and the start is refused.
    stub.timeDelaysMs.push(300, 300, 300);
    await assert.rejects(venueOn(stub, new Recorder()), /this machine's clock is \d+ ms behind Bybit's; .* more than the recv window \(200 ms\) behind it/);
  });
});

void describe('bybit adapter: request outcomes', { timeout: 60_000 }, () => {
  const stub = new Stub();
  const recorder = new Recorder();
  let venue: BybitVenue | null = null;
  before(async () => {
    await stub.listen();
    venue = await venueOn(stub, recorder);
  });
  after(async () => {
    await venue?.close();
    await stub.close();
  });

  const reply = (retCode: number, retMsg: string): Json => ({ retCode, retMsg, result: {}, retExtInfo: {}, time: Date.now() });
  const answerTo = async (commandId: number): Promise<Incoming> => {
    await recorder.until(`the answer to command ${commandId}`, () => recorder.delivered.some((incoming) => 'commandId' in incoming && incoming.commandId === commandId));
    const answer = recorder.delivered.find((incoming) => 'commandId' in incoming && incoming.commandId === commandId);
    assert.ok(answer !== undefined);
    return answer;
  };
  const setStop = (commandId: number): void => {
    venue?.gateway.execute({ type: 'SetPositionStop', commandId, symbol: 'BTCUSDT', change: { kind: 'stop-loss', stopLoss: { triggerTicks: 650_000, triggerBy: 'last' } } });
  };

  void it("reports a trading-stop refused because the market is past the stop as 'trigger-crossed', so the engine exits", async () => {
    stub.replies.set('/v5/position/trading-stop', reply(10001, 'StopLoss:650000 set for Buy position should lower than base_price:640000??LastPrice'));
    setStop(1);
    assert.deepEqual(await answerTo(1), {
      type: 'PositionStopRejected', commandId: 1, symbol: 'BTCUSDT', code: 'trigger-crossed',
      reason: 'retCode 10001: StopLoss:650000 set for Buy position should lower than base_price:640000??LastPrice',
    });
  });

  void it('reports a trading-stop answered 10016 (the venue may have acted) as unknown, never as refused', async () => {
    stub.replies.set('/v5/position/trading-stop', fixture('rest.error.10016.request-timeout.json'));
    setStop(2);
    const answer = await answerTo(2);
    assert.equal(answer.type, 'PositionStopUnknown', JSON.stringify(answer));
  });

  void it("keeps Bybit's whole retMsg, escaped quotes included, with the API key redacted", async () => {
    // Bybit quotes the signed string, key and body, in a signature error (10004).
    const signed = `1700000000000${apiKey}200{"category":"linear","symbol":"BTCUSDT"}`;
    stub.replies.set('/v5/order/create', reply(10004, `error sign! origin_string[${signed}]`));
    venue?.gateway.execute({ type: 'SubmitOrder', commandId: 3, clientOrderId: 'b-1-e1' as ClientOrderId, spec: { symbol: 'BTCUSDT', side: 'buy', sizeLots: 1, reduceOnly: false, type: { kind: 'market' } } });
    const answer = await answerTo(3);
    assert.deepEqual(answer, {
      type: 'OrderSubmitRejected', commandId: 3, clientOrderId: 'b-1-e1', code: 'other',
      reason: 'retCode 10004: error sign! origin_string[1700000000000[api key]200{"category":"linear","symbol":"BTCUSDT"}]',
    });
  });
});
