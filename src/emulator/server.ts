// The Bybit v5 emulator: an HTTP + WebSocket server on 127.0.0.1 that speaks Bybit v5's REST and
// stream protocols (HMAC auth, envelopes, error codes, paging, pushes) on top of the simulated
// venue, so the real ccxt client, and adapters built on it, can be tested end to end without the
// network. Point ccxt at it as ../shared/notes/ccxt-bybit.md section 0 says (`localBybitUrls`).
//
// A request: route (unknown: HTTP 404) -> body -> signature (private routes) -> rate limit -> the
// handler, which acts on the venue synchronously -> the pushes the venue's facts made are sent ->
// the reply is written, `replyDelayMs` later when set. So a client sees the stream before the REST
// reply of the request that caused it whenever the reply is delayed (Bybit's race).
//
// Fault knobs: `replyDelayMs`; `dropConnections()` (every WebSocket closed at once, no close
// frame); `duplicatePushChance` (a private push sent twice); `unknownOutcome(n, reply, path)` (the
// next n requests to a path, order creates by default, are executed, then answered never, or with a
// bare HTTP 5xx); rate limits
// (Bybit's documented per-endpoint limits by default, 10006 with the X-Bapi-Limit* headers).
//
// The clock is injectable: the venue's times, the signature window, the rate-limit windows and
// every `time` and `creationTime` read it, so a test can skew it or hold it still.
//
// Invariants: only 127.0.0.1 is listened on; every request is logged once (method, path, HTTP
// status, retCode) when its answer is decided; a bug inside a handler (an InvariantError) is
// answered 10016, logged loudly and kept in `problems`, never swallowed; the venue is only ever
// changed from this module's calls, and the unprotected time is sampled after each of them.

import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { InvariantError } from '../core/assert.ts';
import type { Instrument } from '../core/instrument.ts';
import { priceToTicks, priceToTicksRounded } from '../core/instrument.ts';
import { e8PerUnit } from '../core/money.ts';
import { instrument as simInstrument } from '../sim/instruments.ts';
import { Rng } from '../sim/rng.ts';
import type { SimVenue } from '../venues/sim/venue.ts';
import type { Audit } from '../venues/sim/wire.ts';
import type { ApiSecrets } from './auth.ts';
import { verifyRest } from './auth.ts';
import { Exchange } from './exchange.ts';
import type { PriceFeedOptions } from '../venues/sim/walk.ts';
import { PriceWalk } from '../venues/sim/walk.ts';
import type { EndpointLimits } from './limits.ts';
import { bybitLimits, RateLimiter } from './limits.ts';
import { credentialsOf, paramsOf, readBody, splitOnce } from './http.ts';
import type { Outcome } from './replies.ts';
import { envelope, refusal, RequestError, retCodes } from './replies.ts';
import { isWorkingOrder } from './orders.ts';
import type { Route } from './routes.ts';
import { routes } from './routes.ts';
import { messageBytesMax, StreamHub, streamPaths } from './stream.ts';
import { ExposureMeter } from '../venues/sim/exposure.ts';

export type EmulatorOptions = {
  /** Instruments of src/sim/instruments.ts (Bybit's real tick and lot sizes). */
  readonly symbols: readonly string[];
  readonly seed?: number;
  /** The venue's clock in ms (default Date.now). */
  readonly clock?: () => number;
  /** API key -> secret (default { testkey: 'testsecret' }). */
  readonly apiKeys?: Readonly<Record<string, string>>;
  /** A seeded random walk per symbol on a timer; null (the default) leaves prices to `setPrice`. */
  readonly priceFeed?: PriceFeedOptions | null;
  /** Start prices as decimal text (default: round 2025 levels of BTC, ETH, SOL, DOGE). */
  readonly startPrices?: Readonly<Record<string, string>>;
  readonly startingBalanceUsdt?: number;
  readonly replyDelayMs?: number;
  readonly duplicatePushChance?: number;
  /** Per-endpoint requests per second (default Bybit's), or null for none. */
  readonly rateLimits?: EndpointLimits | null;
  /** Partial fills: the chance a taker match is split, and a touched limit fills only partly (default 0). */
  readonly partialFillChance?: number;
  readonly log?: (line: string) => void;
};

export type RequestLogEntry = {
  readonly atMs: number;
  readonly method: string;
  /** Path and raw query, as received. */
  readonly url: string;
  /** HTTP status, or null when no reply was ever sent (the unknown-outcome fault). */
  readonly status: number | null;
  readonly retCode: number | null;
  readonly body: string;
};

export type UnknownReply = 'none' | 500 | 502 | 503 | 504;

/** Round levels of 2025, for the instruments of src/sim/instruments.ts. */
export const defaultStartPrices: Readonly<Record<string, string>> = { BTCUSDT: '60000', ETHUSDT: '3000', SOLUSDT: '150', DOGEUSDT: '0.2' };
/** Bybit's linear fees: maker 0.02 %, taker 0.055 %, in 1e-8. */
const fees = { makerFeeRateE8: 20_000, takerFeeRateE8: 55_000 } as const;
const requestLogMax = 10_000;
const problemsMax = 100;

export class EmulatorServer {
  readonly exchange: Exchange;
  /** Every request answered (or left unanswered), oldest first, the last `requestLogMax`. */
  readonly requests: RequestLogEntry[] = [];
  /** Bugs met while answering (should stay empty). */
  readonly problems: string[] = [];
  replyDelayMs: number;
  private readonly options: EmulatorOptions;
  private readonly clock: () => number;
  private readonly log: (line: string) => void;
  private readonly secrets: ApiSecrets;
  private readonly limiter: RateLimiter | null;
  private readonly hub: StreamHub;
  private readonly walks: readonly PriceWalk[];
  private readonly exposure = new ExposureMeter();
  private readonly http: Server;
  private readonly sockets = new WebSocketServer({ noServer: true, maxPayload: messageBytesMax });
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly held = new Set<ServerResponse>();
  private feedTimer: NodeJS.Timeout | null = null;
  private unknownLeft = 0;
  private unknownReply: UnknownReply = 'none';
  private unknownPath = '/v5/order/create';

  constructor(options: EmulatorOptions) {
    this.options = options;
    this.clock = options.clock ?? Date.now;
    this.log = options.log ?? (() => undefined);
    this.replyDelayMs = options.replyDelayMs ?? 0;
    this.secrets = new Map(Object.entries(options.apiKeys ?? { testkey: 'testsecret' }));
    this.limiter = options.rateLimits === null ? null : new RateLimiter(options.rateLimits ?? bybitLimits);
    const rng = new Rng(options.seed ?? 1);
    const instruments = options.symbols.map((symbol) => simInstrument(symbol));
    const partial = options.partialFillChance ?? 0;
    this.exchange = new Exchange({
      instruments, ...fees, spreadTicks: 1, partialFillChance: partial, fillPartsMax: 3, limitPartialChance: partial, rng: rng.fork(),
      startingBalanceE8: Math.round((options.startingBalanceUsdt ?? 10_000) * e8PerUnit),
    });
    this.hub = new StreamHub({ exchange: this.exchange, secrets: this.secrets, clock: this.clock, rng: rng.fork(), log: this.log });
    this.hub.duplicateChance = options.duplicatePushChance ?? 0;
    const startTicks = instruments.map((traded) => this.startTicks(traded));
    this.walks = instruments.map((traded, index) => new PriceWalk(traded, startTicks[index] ?? 1, rng.fork(), options.priceFeed?.volatilityBps ?? 0));
    const nowMs = this.clock();
    instruments.forEach((traded, index) => this.exchange.act((venue) => venue.setPrice(nowMs, traded.symbol, startTicks[index] ?? 1)));
    this.exchange.drain(nowMs); // nobody is connected yet
    this.http = createServer((request, response) => this.onRequest(request, response));
    this.http.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(request, socket, head));
  }

  /** Listens on 127.0.0.1 (port 0: any free port) and starts the price feed; resolves to the port. */
  listen(port = 0): Promise<number> {
    return new Promise((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(port, '127.0.0.1', () => {
        this.http.off('error', reject);
        const address = this.http.address();
        if (address === null || typeof address === 'string') return reject(new Error('emulator: not listening on TCP'));
        const feed = this.options.priceFeed;
        if (feed !== undefined && feed !== null) this.feedTimer = setInterval(() => this.tick(), feed.tickMs);
        resolve(address.port);
      });
    });
  }

  async close(): Promise<void> {
    if (this.feedTimer !== null) clearInterval(this.feedTimer);
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const response of this.held) response.destroy();
    this.held.clear();
    this.hub.dropAll();
    await new Promise<void>((resolve) => this.sockets.close(() => resolve()));
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  /** The simulated venue (read it; change it only through this server). */
  get venue(): SimVenue {
    return this.exchange.venue;
  }

  /**
   * Bybit's service restarted (a release): order/realtime forgets the closed orders it kept, which
   * only order/history lists from then on (Bybit's docs for order/realtime say so).
   */
  restartService(): void {
    for (const order of this.exchange.orders.all()) {
      if (!isWorkingOrder(order)) this.exchange.orders.closedBeforeRestart.add(order);
    }
  }

  /** Sets a symbol's last (and mark) price: the venue fires what it reaches, the streams hear of it. */
  setPrice(symbol: string, last: string | number, mark: string | number = last): void {
    const traded = this.exchange.instrument(symbol);
    const nowMs = this.clock();
    this.exchange.act((venue) => venue.setPrice(nowMs, symbol, ticksOf(traded, last), ticksOf(traded, mark)));
    this.afterChange(nowMs);
  }

  /** Closes every WebSocket at once, as a network drop would; resolves to how many there were. */
  dropConnections(): number {
    return this.hub.dropAll();
  }

  set duplicatePushChance(chance: number) {
    this.hub.duplicateChance = chance;
  }

  /** The next `count` requests to `path` (order creates by default) are executed by the venue, then never answered ('none') or answered with a bare HTTP 5xx. */
  unknownOutcome(count: number, reply: UnknownReply = 'none', path = '/v5/order/create'): void {
    this.unknownLeft = count;
    this.unknownReply = reply;
    this.unknownPath = path;
  }

  /** Resolves once a stream connection has subscribed to `topic` ('order', 'tickers.BTCUSDT', ...): a test's cue to trade. */
  subscribed(topic: string): Promise<void> {
    return this.hub.subscribed(topic);
  }

  /** Open stream connections (private: authenticated ones). */
  streamConnections(kind: 'public' | 'private'): number {
    return this.hub.count(kind);
  }

  /** The venue's ground truth, with the longest unprotected stretch per symbol. */
  audit(): Audit {
    const nowMs = this.clock();
    const { venue } = this;
    return {
      atMs: nowMs, submissions: [...venue.submissions()], amendments: [...venue.amendments()], fills: [...venue.fills()], openOrders: venue.openOrders(),
      positions: venue.positions().map((position) => ({
        ...position, protected: venue.isProtected(position.symbol), unprotectedMsLongest: this.exposure.longestMs(position.symbol, nowMs),
      })),
    };
  }

  private startTicks(traded: Instrument): number {
    const text = this.options.startPrices?.[traded.symbol] ?? defaultStartPrices[traded.symbol];
    if (text === undefined) throw new Error(`emulator: no start price for ${traded.symbol}; pass startPrices`);
    return ticksOf(traded, text);
  }

  private tick(): void {
    const nowMs = this.clock();
    for (const walk of this.walks) {
      const ticks = walk.next();
      this.exchange.act((venue) => venue.setPrice(nowMs, walk.symbol, ticks));
    }
    this.afterChange(nowMs);
  }

  /** After every change to the venue: its pushes leave, and the unprotected time is sampled. */
  private afterChange(nowMs: number): void {
    this.hub.publish(this.exchange.drain(nowMs));
    this.exposure.sample(this.venue, this.exchange.instruments.keys(), nowMs);
  }

  private onUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = (request.url ?? '').split('?')[0] ?? '';
    const kind = streamPaths[path];
    if (kind === undefined) {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    this.sockets.handleUpgrade(request, socket, head, (websocket) => this.hub.accept(websocket, kind));
  }

  private onRequest(request: IncomingMessage, response: ServerResponse): void {
    const url = request.url ?? '/';
    const [path, rawQuery] = splitOnce(url, '?');
    const route = routes.get(path);
    const method = request.method ?? 'GET';
    if (route?.method !== method) {
      this.finish(request, response, { url, body: '', status: 404, retCode: null, text: '404 page not found', headers: {} });
      return;
    }
    readBody(request, (body) => {
      if (body === null) {
        this.finish(request, response, { url, body: '', status: 413, retCode: null, text: 'request body too large', headers: {} });
        return;
      }
      this.answer(request, response, route, { url, path, rawQuery, body });
    });
  }

  private answer(request: IncomingMessage, response: ServerResponse, route: Route, received: Received): void {
    const nowMs = this.clock();
    const headers: Record<string, string> = {};
    const { outcome, handled } = this.outcomeOf(request, route, received, nowMs, headers);
    const unknown = handled && received.path === this.unknownPath && this.unknownLeft > 0;
    this.afterChange(nowMs);
    if (unknown) {
      this.unknownLeft -= 1;
      this.leaveUnknown(request, response, received, outcome);
      return;
    }
    const text = JSON.stringify(envelope(outcome, nowMs));
    this.finish(request, response, { url: received.url, body: received.body, status: 200, retCode: outcome.retCode, text, headers });
  }

  /** Auth, rate limit, then the handler (`handled`: it ran); only the handler changes the venue. */
  private outcomeOf(
    request: IncomingMessage, route: Route, received: Received, nowMs: number, headers: Record<string, string>,
  ): { readonly outcome: Outcome; readonly handled: boolean } {
    if (route.signed) {
      const payload = request.method === 'POST' ? received.body : received.rawQuery;
      const auth = verifyRest(credentialsOf(request), payload, this.secrets, nowMs);
      if (!auth.ok) return { outcome: refusal(auth.retCode, auth.retMsg), handled: false };
      const verdict = this.limiter?.take(auth.apiKey, received.path, nowMs) ?? null;
      if (verdict !== null) Object.assign(headers, verdict.headers);
      if (verdict?.allowed === false) return { outcome: refusal(retCodes.tooManyVisits, 'Too many visits!'), handled: false };
    }
    try {
      return { outcome: route.handle(this.exchange, paramsOf(request.method ?? 'GET', received.rawQuery, received.body), nowMs), handled: true };
    } catch (error) {
      if (error instanceof RequestError) return { outcome: refusal(error.retCode, error.message), handled: true };
      // A bug, not a bad request: say so loudly and keep it for the test to see; the client gets Bybit's 10016.
      const text = error instanceof InvariantError ? `bug: ${error.message}` : `unexpected error: ${error instanceof Error ? error.stack ?? error.message : String(error)}`;
      this.log(`emulator: ${received.path}: ${text}`);
      if (this.problems.length < problemsMax) this.problems.push(`${received.path}: ${text}`);
      return { outcome: refusal(retCodes.serverError, 'Internal server error.'), handled: true };
    }
  }

  /** The unknown-outcome fault: the venue has acted; the client hears nothing, or a bare 5xx. */
  private leaveUnknown(request: IncomingMessage, response: ServerResponse, received: Received, outcome: Outcome): void {
    const reply = this.unknownReply;
    if (reply !== 'none') {
      this.finish(request, response, { url: received.url, body: received.body, status: reply, retCode: null, text: 'upstream error', headers: {} });
      return;
    }
    this.held.add(response);
    response.on('close', () => this.held.delete(response));
    this.record(request.method ?? 'GET', received.url, received.body, null, null);
    this.log(`emulator: ${received.path} executed (retCode ${outcome.retCode}) and left unanswered`);
  }

  private finish(request: IncomingMessage, response: ServerResponse, answer: Answer): void {
    this.record(request.method ?? 'GET', answer.url, answer.body, answer.status, answer.retCode);
    const write = (): void => {
      if (response.destroyed) return;
      const type = answer.retCode === null ? 'text/plain' : 'application/json';
      response.writeHead(answer.status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(answer.text), ...answer.headers });
      response.end(answer.text);
    };
    if (this.replyDelayMs <= 0) {
      write();
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      write();
    }, this.replyDelayMs);
    this.timers.add(timer);
  }

  private record(method: string, url: string, body: string, status: number | null, retCode: number | null): void {
    const entry: RequestLogEntry = { atMs: this.clock(), method, url, status, retCode, body };
    this.requests.push(entry);
    if (this.requests.length > requestLogMax) this.requests.shift();
    this.log(`emulator: ${method} ${url} -> ${status ?? 'no reply'}${retCode === null ? '' : ` retCode ${retCode}`}`);
  }
}

type Received = { readonly url: string; readonly path: string; readonly rawQuery: string; readonly body: string };
type Answer = {
  readonly url: string; readonly body: string; readonly status: number; readonly retCode: number | null; readonly text: string;
  readonly headers: Readonly<Record<string, string>>;
};

/** A price on the instrument's tick: decimal text must be exact, a number is rounded to the nearest tick. */
function ticksOf(traded: Instrument, price: string | number): number {
  if (typeof price === 'number') return priceToTicksRounded(traded, price, 'nearest');
  const parsed = priceToTicks(traded, price);
  if (!parsed.ok) throw new Error(`emulator: ${parsed.reason}`);
  return parsed.value;
}
