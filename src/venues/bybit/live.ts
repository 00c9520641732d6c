// Bybit v5 (USDT linear perpetuals) through ccxt: the LiveVenue a live bot trades on.
//
// ccxt does what it is good at: signing, the HTTP and WebSocket plumbing, authentication, pings.
// The exact work stays Vigil's: requests go out as Bybit's own bodies through ccxt's raw endpoint
// methods (privatePostV5OrderCreate, ...), and every reply and every stream message is decoded by
// Vigil's own codec (rest.ts, decode.ts), never by ccxt's float parsers. Stream messages are taken
// from ccxt's message handler before its parsers see them (a throwing ccxt parser poisons the
// connection: ../shared/notes/ccxt-bybit.md).
//
// Outcomes: a venue rejection becomes the order's rejection with Bybit's reason; a rate limit
// (retCode 10006, HTTP 403/429) means the request was not executed, so it waits and goes again
// from a queue (queue.ts) in which protective requests (stops, exits, cancels, amends, trading-stop)
// go first, each endpoint within its own limit;
// a timeout, a transport error, an HTTP 5xx or a retCode that says the venue may have acted
// (10000, 10016, 5004) leaves the outcome unknown (the engine asks by orderLinkId; nothing is
// resent); an amend or trading-stop refused as "not modified" is done (writes.ts).
//
// Streams: a stream is live from the ack of its one subscribe (with our req_id, or none: Bybit's
// documented acks carry none or ""); only documented pongs and acks count as traffic, and a frame
// Vigil cannot read or act on drops the connection, so the reconnect brings a snapshot.
//
// Invariants: every command ends in exactly one event; requests stay within Bybit's documented
// per-endpoint limits (create, amend, cancel, trading-stop 10/s each; reads 50/s); no ccxt parser
// runs on a stream.

import ccxt from 'ccxt';
import type { CommandOf } from '../../core/commands.ts';
import type { Event, Fill, Funding, OrderReport, PositionReport, RejectCode, StreamName, Ticker, WalletReport } from '../../core/events.ts';
import type { ClientOrderId } from '../../core/ids.ts';
import { parseClientOrderId } from '../../core/ids.ts';
import type { Instrument } from '../../core/instrument.ts';
import type { Incoming, VenueCommand, VenueGateway } from '../../shell/ports.ts';
import type { StreamHandlers, StreamTransport } from '../../shell/streams.ts';
import type { LiveVenue, LiveVenueDeps } from '../port.ts';
import { VenueStartError } from '../port.ts';
import { decodeStreamMessage } from './decode.ts';
import type { JsonRecord } from './fields.ts';
import { isRecord } from './fields.ts';
import type { PageResult } from './rest.ts';
import {
  decodeCreateReply, decodeExecutionFunding, decodeExecutionList, decodeInstruments, decodeOrderList, decodePositionList, decodeTickerList, decodeWalletBalance,
} from './rest.ts';
import type { Json, OrderAmendment, PositionProtection, Write } from './writes.ts';
import { amendBody, isNotModified, orderBody, protectionOf, tradingStopBody } from './writes.ts';
import type { Endpoint, Priority, Queued } from './queue.ts';
import { RequestQueue } from './queue.ts';

export type { OrderAmendment, PositionProtection, TrailingStop } from './writes.ts';
export { orderBody } from './writes.ts';

export type BybitNetwork = 'mainnet' | 'testnet' | 'demo' | 'custom';

export type BybitVenueConfig = {
  readonly network: BybitNetwork;
  /** For `custom`: the REST base (http://127.0.0.1:PORT) and the WebSocket URLs. */
  readonly restUrl?: string;
  readonly wsPublicUrl?: string;
  readonly wsPrivateUrl?: string;
  readonly apiKey: string;
  readonly apiSecret: string;
  readonly recvWindowMs?: number;
  /** A request with no answer after this is an unknown outcome. */
  readonly requestTimeoutMs?: number;
};

type Urls = { readonly rest: string; readonly wsPublic: string; readonly wsPrivate: string };

const networks: Readonly<Record<Exclude<BybitNetwork, 'custom'>, Urls>> = {
  mainnet: { rest: 'https://api.bybit.com', wsPublic: 'wss://stream.bybit.com/v5/public/linear', wsPrivate: 'wss://stream.bybit.com/v5/private' },
  testnet: { rest: 'https://api-testnet.bybit.com', wsPublic: 'wss://stream-testnet.bybit.com/v5/public/linear', wsPrivate: 'wss://stream-testnet.bybit.com/v5/private' },
  // Bybit's demo trading has private endpoints of its own; its market data is mainnet's.
  demo: { rest: 'https://api-demo.bybit.com', wsPublic: 'wss://stream.bybit.com/v5/public/linear', wsPrivate: 'wss://stream-demo.bybit.com/v5/private' },
};

export function urlsOf(config: BybitVenueConfig): Urls {
  if (config.network !== 'custom') return networks[config.network];
  const { restUrl, wsPublicUrl, wsPrivateUrl } = config;
  if (restUrl === undefined || wsPublicUrl === undefined || wsPrivateUrl === undefined) throw new VenueStartError('a custom Bybit network needs restUrl, wsPublicUrl and wsPrivateUrl');
  return { rest: restUrl.replace(/\/$/, ''), wsPublic: wsPublicUrl, wsPrivate: wsPrivateUrl };
}

/** ccxt's WebSocket client (its type is not exported by the package). */
type Client = Parameters<InstanceType<typeof ccxt.pro.bybit>['handleMessage']>[0];
type RawCall = (params: Json) => Promise<unknown>;

/** ccxt's Bybit, with stream messages handed to Vigil before ccxt's parsers, and connection ends reported. */
export class RawBybit extends ccxt.pro.bybit {
  /**
   * How far this machine's clock runs ahead of Bybit's (behind: negative), once measured after a
   * refusal of a request's timestamp; 0 until then. ccxt stamps with `milliseconds()` both the
   * signed requests (its nonce) and the private stream's `expires` (its own `timeDifference`
   * option reaches only the first), so the correction goes here: both then read Bybit's clock.
   */
  clockAheadMs = 0;
  // (ccxt sets `milliseconds` on the instance in its constructor: a field, not a method, replaces it.)
  override milliseconds = (): number => this.localMs() - this.clockAheadMs;
  /** This machine's clock, uncorrected: the adapter's (see clientFor). */
  localMs = (): number => Date.now();
  onTopic: (url: string, message: JsonRecord) => void = () => undefined;
  onControl: (url: string, message: unknown) => void = () => undefined;
  onGone: (url: string, reason: string) => void = () => undefined;

  /** `message` is whatever ccxt made of the frame: parsed JSON, or the raw text when it is not JSON (truncated, or plain text). */
  override handleMessage(client: Client, message: unknown): void {
    if (isRecord(message) && typeof message.topic === 'string') {
      this.onTopic(client.url, message);
      return;
    }
    this.onControl(client.url, message);
    super.handleMessage(client, message as Json); // auth, pongs, errors: ccxt's bookkeeping (it handed us this value, whatever its type says)
  }

  /**
   * Ends of connections, reported by URL, as ccxt keeps its clients: but only the URL's current
   * client's. One the adapter let go of (see forget) may finish closing after its replacement has
   * connected on the same URL; ccxt would drop the replacement from its clients, and the adapter
   * would report the live stream gone.
   */
  override onClose(client: Client, error: unknown): void {
    if (!this.isCurrent(client)) return;
    super.onClose(client, error);
    this.onGone(client.url, error instanceof Error ? error.message : 'closed by the venue');
  }

  override onError(client: Client, error: unknown): void {
    if (!this.isCurrent(client)) return;
    super.onError(client, error);
    this.onGone(client.url, error instanceof Error ? error.message : String(error));
  }

  private isCurrent(client: Client): boolean {
    return (this.clients[client.url] as Client | undefined) === client;
  }
}

/** `localMs`: the adapter's clock, which ccxt then stamps its requests by (not its own Date.now). */
function clientFor(config: BybitVenueConfig, urls: Urls, localMs: () => number): RawBybit {
  const ws = urls.wsPrivate.replace(/\/v5\/private$/, '');
  const client = new RawBybit({
    apiKey: config.apiKey,
    secret: config.apiSecret,
    enableRateLimit: false, // Vigil's queue keeps the per-endpoint limits (below)
    timeout: config.requestTimeoutMs ?? 10_000,
    urls: {
      api: {
        spot: urls.rest, futures: urls.rest, v2: urls.rest, public: urls.rest, private: urls.rest,
        ws: {
          public: { spot: `${ws}/v5/public/spot`, linear: urls.wsPublic, inverse: `${ws}/v5/public/inverse`, option: `${ws}/v5/public/option` },
          private: { spot: { unified: urls.wsPrivate, nonUnified: urls.wsPrivate }, contract: urls.wsPrivate, usdc: urls.wsPrivate, trade: `${ws}/v5/trade` },
        },
      },
    },
    has: { fetchCurrencies: false },
    options: {
      defaultType: 'swap', defaultSubType: 'linear', defaultSettle: 'USDT', fetchMarkets: { types: ['linear'] },
      enableUnifiedMargin: false, enableUnifiedAccount: true, unifiedMarginStatus: 6, recvWindow: config.recvWindowMs ?? 5_000,
    },
  });
  client.localMs = localMs;
  return client;
}

// Requests.

/** Bybit refuses a signed request stamped this far or further ahead of its clock. */
const clockAheadMsMax = 1_000;
/** Readings of the clocks at the start, of which the one with the shortest round trip counts. */
const clockSamples = 3;

/** This machine's clock against Bybit's: ahead by `aheadMs` (negative: behind), give or take `uncertainMs`. */
type ClockReading = { readonly aheadMs: number; readonly uncertainMs: number };

/** The longest span one execution/list request answers (startTime to endTime). */
const executionWindowMs = 7 * 24 * 3_600_000;
/**
 * A window with an end ends at least this long before the local clock's now, so that it is past on
 * Bybit's clock too (the start's check keeps the two within a second); the open-ended last window
 * reaches this far past now.
 */
const executionWindowMarginMs = 3_600_000;
/** How far back Bybit keeps executions (two years): older windows would all come back empty. */
const executionHistoryMs = 730 * 24 * 3_600_000;

// Errors.

/** `retCode` is Bybit's code when the error carried one. */
type Failure =
  | { readonly kind: 'rejected'; readonly code: RejectCode; readonly reason: string; readonly retCode: number | null }
  | { readonly kind: 'unknown'; readonly reason: string }
  | { readonly kind: 'rate-limited' };

/**
 * Bybit's codes by what they mean for the order. 'not-found': no working order under that id, so
 * a cancel or an amend has nothing to act on (110001 "order not exists or too late", 110008 "order
 * has been finished or canceled", 110010 "order already cancelled"); the order's reports, or a
 * query, say how it ended.
 */
const rejectCodes: Readonly<Record<number, RejectCode>> = {
  110007: 'insufficient-funds', 110004: 'insufficient-funds', 110012: 'insufficient-funds', 110044: 'insufficient-funds', 110045: 'insufficient-funds',
  110017: 'reduce-only', 110072: 'duplicate-id', 110092: 'trigger-crossed', 110093: 'trigger-crossed', 110001: 'not-found', 110008: 'not-found', 110010: 'not-found',
  10001: 'invalid', 110003: 'invalid', 110094: 'invalid',
};

/**
 * Bybit's codes for a request it may or may not have executed: 10000 and 5004 (server timeout),
 * 10016 (internal error, service restarting; "Request timeout, please try again later"). ccxt
 * classes some of them as a plain ExchangeError, so the code decides.
 */
const unknownRetCodes: ReadonlySet<number> = new Set([10000, 10016, 5004]);

/**
 * Bybit's words for a trigger the market has already passed. 110092 / 110093 say it in the code;
 * a trading-stop (or a stop attached to an order) says it only in the text of a 10001:
 * "StopLoss:6500000 set for Buy position should lower than base_price:6400000??LastPrice",
 * "sl:257970000 set for Sell position should greater base_price:259477000??LastPrice" (ccxt issue
 * #19089), "expect Rising, but trigger_price[50000000] <= current[51340000]??1" (#17487; "expect
 * Failling" is Bybit's own spelling, #16406).
 */
const triggerCrossedText = /should (?:lower|greater|higher)(?: than)? base_price|expect (?:Rising|Falling|Failling)\b/i;

/**
 * What a failed request means for the order: ccxt's exception, or a retCode in its message. A
 * timeout, a transport error or an HTTP 5xx (ccxt's network classes) leaves the outcome unknown
 * whatever the body says, as do the retCodes that mean the venue may have acted: taken for a
 * refusal, a stop would be sent again while the first may stand (two stops, one untracked).
 */
export function failureOf(error: unknown): Failure {
  const message = error instanceof Error ? error.message : String(error);
  const retCode = Number(/"retCode"\s*:\s*"?(\d+)/.exec(message)?.[1] ?? Number.NaN);
  const retMsg = retMsgIn(message);
  if (retCode === 10006 || error instanceof ccxt.RateLimitExceeded || error instanceof ccxt.DDoSProtection) return { kind: 'rate-limited' };
  // A timestamp outside Bybit's window: refused before anything was done (ccxt's InvalidNonce is
  // one of its network classes, which would make it unknown).
  if (retCode === 10002 || error instanceof ccxt.InvalidNonce) {
    return { kind: 'rejected', code: 'other', reason: `retCode 10002: ${retMsg ?? message} (this machine's clock is off Bybit's: synchronise it (NTP))`, retCode: 10002 };
  }
  if (error instanceof ccxt.NetworkError) return { kind: 'unknown', reason: message }; // RequestTimeout, ExchangeNotAvailable (5xx), ...
  if (unknownRetCodes.has(retCode)) return { kind: 'unknown', reason: `retCode ${retCode}: ${retMsg ?? message}` };
  if (!Number.isNaN(retCode)) {
    const code = retMsg !== null && triggerCrossedText.test(retMsg) ? 'trigger-crossed' : rejectCodes[retCode] ?? 'other';
    return { kind: 'rejected', code, reason: `retCode ${retCode}: ${retMsg ?? message}`, retCode };
  }
  if (error instanceof ccxt.ExchangeError) return { kind: 'rejected', code: 'other', reason: message, retCode: null };
  return { kind: 'unknown', reason: message };
}

/** Bybit's retMsg in an error's text (ccxt quotes the reply's body), whole and unescaped: it can hold \" and \u003c. */
function retMsgIn(message: string): string | null {
  const quoted = /"retMsg"\s*:\s*("(?:[^"\\]|\\.)*")/.exec(message)?.[1];
  if (quoted === undefined) return null;
  try {
    const parsed: unknown = JSON.parse(quoted);
    return typeof parsed === 'string' ? parsed : quoted;
  } catch {
    return quoted.slice(1, -1); // an escape JSON does not know: the text as it stands
  }
}

/** Attempts at one page of a list before the list fails (reads only: asking again changes nothing). */
const pageAttemptsMax = 3;

// The venue.

const privateTopics = ['order', 'execution', 'position', 'wallet'];

/** What a direct request came to: done, refused with Bybit's reason, or unknown (ask again; never resend blindly). */
export type RequestOutcome = { readonly ok: true } | { readonly ok: false; readonly kind: 'rejected'; readonly code: RejectCode; readonly reason: string } | { readonly ok: false; readonly kind: 'unknown'; readonly reason: string };

/**
 * The Bybit venue: the LiveVenue port, plus its two protective writes called directly (the gateway
 * sends them for the engine's AmendOrder and SetPositionStop): amending a working order by its
 * orderLinkId, and setting a position's own stop-loss, take-profit or trailing stop through
 * position/trading-stop. Both go through the same queue, as protective requests; a "not modified"
 * refusal counts as done (writes.ts).
 */
export interface BybitVenue extends LiveVenue {
  amendOrder(clientOrderId: string, symbol: string, amendment: OrderAmendment): Promise<RequestOutcome>;
  setPositionProtection(symbol: string, protection: PositionProtection): Promise<RequestOutcome>;
}

/** `subscribeReqId`: the req_id of the connection's subscribe while it waits for its answer, null otherwise. */
type OpenStream = { readonly connectionId: number; readonly handlers: StreamHandlers; readonly url: string; subscribeReqId: number | null; open: boolean };

/**
 * Whether a frame answers the connection's subscribe. The adapter sends one subscribe per
 * connection (every topic in it), so at most one is outstanding, and an ack without a req_id can
 * only be its answer: Bybit's private stream leaves req_id out, the public one sends "" (the
 * documented acks, test/fixtures/bybit-v5/ws.op.subscribe.response.*.json).
 */
function isSubscribeAck(open: OpenStream, message: unknown): message is JsonRecord {
  if (!isRecord(message) || message.op !== 'subscribe' || open.subscribeReqId === null) return false;
  const reqId = message.req_id;
  if (reqId === undefined || reqId === null || reqId === '') return true;
  return (typeof reqId === 'string' || typeof reqId === 'number') && String(reqId) === String(open.subscribeReqId);
}

/** How much of a frame a log line shows: enough to recognise it, never a whole (possibly huge) frame. */
const framePreviewCharsMax = 120;

export function createBybitVenue(config: BybitVenueConfig, deps: LiveVenueDeps): BybitVenue {
  const urls = urlsOf(config);
  const exchange = clientFor(config, urls, () => deps.clock.nowMs());
  const queue = new RequestQueue(deps);
  const instruments = new Map<string, Instrument>();
  const streams = new Map<StreamName, OpenStream>();
  let symbols: readonly string[] = [];
  let reqIds = 1_000_000;

  const raw = (name: string): RawCall => {
    const method = (exchange as unknown as Record<string, RawCall | undefined>)[name];
    if (method === undefined) throw new Error(`ccxt has no ${name}`);
    return method.bind(exchange);
  };
  const call = {
    time: raw('publicGetV5MarketTime'), instruments: raw('publicGetV5MarketInstrumentsInfo'), tickers: raw('publicGetV5MarketTickers'),
    create: raw('privatePostV5OrderCreate'), cancel: raw('privatePostV5OrderCancel'), realtime: raw('privateGetV5OrderRealtime'), history: raw('privateGetV5OrderHistory'),
    amend: raw('privatePostV5OrderAmend'), tradingStop: raw('privatePostV5PositionTradingStop'),
    positions: raw('privateGetV5PositionList'), executions: raw('privateGetV5ExecutionList'), wallet: raw('privateGetV5AccountWalletBalance'),
  };
  /** One page of the USDT-linear instruments (at the start, and read again while running). */
  const instrumentsPage = (cursor: string | null): Promise<unknown> => call.instruments(withCursor({ category: 'linear', limit: '1000' }, cursor));
  const ctx = { instruments };
  // Bybit quotes the signed string, API key included, in some errors (10004 "origin_string[...]"):
  // nothing read from an error may reach a log, a notice or the journal with the key or secret in it.
  const redact = (text: string): string => text.split(config.apiKey).join('[api key]').split(config.apiSecret).join('[api secret]');
  const redacted = (failure: Failure): Failure => ('reason' in failure ? { ...failure, reason: redact(failure.reason) } : failure);

  /**
   * One request through the queue; resolves with the reply, or with the failure it came to and when
   * the request last left for the venue (it may have waited in the queue since it was asked for).
   */
  const request = (endpoint: Endpoint, priority: Priority, send: () => Promise<unknown>): Promise<{ ok: true; reply: unknown } | { ok: false; failure: Failure; sentMs: number }> =>
    new Promise((resolve) => {
      let clockMeasured = false;
      const item: Queued = {
        endpoint, priority, attempts: 0,
        run: async () => {
          const sentMs = deps.clock.nowMs();
          try {
            resolve({ ok: true, reply: await send() });
          } catch (error) {
            const failure = redacted(failureOf(error));
            if (failure.kind === 'rate-limited') {
              queue.retry(item);
            } else if (isClockRefusal(failure) && !clockMeasured) {
              // Refused at the door for its timestamp, so never executed: sent again, once, stamped
              // by Bybit's clock as measured now.
              clockMeasured = true;
              await resyncClock('retCode 10002', 'timestamp');
              queue.push(item);
            } else {
              resolve({ ok: false, failure, sentMs });
            }
          }
        },
      };
      queue.push(item);
    });

  /**
   * This machine's clock against Bybit's when Bybit read its own (GET /v5/market/time, unsigned):
   * the middle of the round trip, give or take half of it; null when the reply holds no time.
   * Timed by the clock ccxt stamps the requests with, before any correction.
   */
  const measureClock = async (time: () => Promise<unknown>): Promise<ClockReading | null> => {
    const sentMs = exchange.localMs();
    const reply = await time();
    const receivedMs = exchange.localMs();
    const serverMs = Number(isRecord(reply) ? reply.time : Number.NaN);
    if (!Number.isFinite(serverMs)) return null;
    return { aheadMs: Math.round((sentMs + receivedMs) / 2 - serverMs), uncertainMs: Math.ceil((receivedMs - sentMs) / 2) };
  };

  /**
   * The start's reading of the clocks: the sample with the shortest round trip of a few. The first
   * request of a process is the slowest (a connection to open, code not yet compiled), and its
   * round trip, all of it uncertainty, could refuse a start whose clock is fine.
   */
  const closestClock = async (measure: () => Promise<ClockReading | null>): Promise<ClockReading | null> => {
    let best: ClockReading | null = null;
    for (let sample = 0; sample < clockSamples; sample += 1) {
      const clock = await measure();
      if (clock === null) return best;
      if (best === null || clock.uncertainMs < best.uncertainMs) best = clock;
    }
    return best;
  };

  /**
   * Bybit refused a request's timestamp (10002), or the private stream's login (whose `expires`
   * is stamped too; Bybit's answer, "Params Error", is the same for a wrong key): this machine's
   * clock may have drifted since the start's check (NTP stopped, the machine was suspended, the
   * clock was set by hand). Unattended, a bot whose every request is refused cannot move a stop or
   * close a position, so the adapter measures Bybit's clock again, stamps its requests and logins
   * by it from then on, and says so: the clock still needs fixing. A login refused with the clock
   * within a second of Bybit's changes nothing (it was the key). Refusals at the same time share
   * one measurement.
   */
  let resyncing: Promise<void> | null = null;
  const resyncClock = (why: string, cause: 'timestamp' | 'login'): Promise<void> => {
    resyncing ??= (async () => {
      const refused = cause === 'timestamp' ? `Bybit refused a request's timestamp (${why})` : `Bybit refused the private stream's login (${why})`;
      try {
        const clock = await measureClock(() => call.time({}));
        if (clock === null) {
          deps.log(`bybit: ${refused}, and its time could not be read to check this machine's clock`);
          return;
        }
        // Stamped at Bybit's now less the measurement's uncertainty: never ahead of Bybit's clock.
        const aheadMs = clock.aheadMs + clock.uncertainMs;
        if (cause === 'login' && Math.abs(aheadMs - exchange.clockAheadMs) < clockAheadMsMax) return;
        exchange.clockAheadMs = aheadMs;
        deps.log(`bybit: ${refused}: this machine's clock is ${clockText(clock.aheadMs)} Bybit's. ` +
          'Requests are stamped by Bybit\'s clock from now on; synchronise this machine\'s clock (NTP)');
      } catch (error) {
        deps.log(`bybit: ${refused}, and its time could not be read to check this machine's clock (${firstLine(redact(error instanceof Error ? error.message : String(error)))})`);
      } finally {
        resyncing = null;
      }
    })();
    return resyncing;
  };

  const recvWindowMs = config.recvWindowMs ?? 5_000;
  /** Resolves at `atMs` on the adapter's clock, or now if that has passed. */
  const until = (atMs: number): Promise<void> => new Promise((resolve) => {
    if (deps.clock.nowMs() >= atMs) resolve();
    else deps.clock.schedule(atMs, resolve);
  });

  const priorityOf = (command: CommandOf<'SubmitOrder'>): Priority => {
    const role = parseClientOrderId(clientOrderIdBotId(command.clientOrderId), command.clientOrderId)?.role;
    return role === 'stop' || role === 'exit' ? 0 : 2;
  };

  async function submit(command: CommandOf<'SubmitOrder'>): Promise<void> {
    const { commandId, clientOrderId, spec } = command;
    const instrument = instruments.get(spec.symbol);
    if (instrument === undefined) {
      deps.deliver({ type: 'OrderSubmitRejected', commandId, clientOrderId, code: 'invalid', reason: `${spec.symbol} is not loaded` });
      return;
    }
    const outcome = await request('create', priorityOf(command), () => call.create(orderBody(spec, clientOrderId, instrument)));
    if (!outcome.ok) {
      deps.deliver(outcome.failure.kind === 'unknown'
        ? { type: 'OrderSubmitUnknown', commandId, clientOrderId, reason: outcome.failure.reason }
        : { type: 'OrderSubmitRejected', commandId, clientOrderId, ...rejection(outcome.failure) });
      return;
    }
    const reply = decodeCreateReply(outcome.reply);
    deps.deliver(reply.ok
      ? { type: 'OrderSubmitAcked', commandId, clientOrderId, venueOrderId: reply.venueOrderId }
      : { type: 'OrderSubmitUnknown', commandId, clientOrderId, reason: `the reply could not be read: ${reply.error}` });
  }

  async function cancel(command: CommandOf<'CancelOrder'>): Promise<void> {
    const { commandId, clientOrderId, symbol } = command;
    const outcome = await request('cancel', 0, () => call.cancel({ category: 'linear', symbol, orderLinkId: clientOrderId }));
    if (!outcome.ok) {
      deps.deliver(outcome.failure.kind === 'unknown'
        ? { type: 'OrderCancelUnknown', commandId, clientOrderId, reason: outcome.failure.reason }
        : { type: 'OrderCancelRejected', commandId, clientOrderId, ...rejection(outcome.failure) });
      return;
    }
    deps.deliver({ type: 'OrderCancelAcked', commandId, clientOrderId });
  }

  /**
   * A protective write (amend, trading-stop) through the queue, its outcome as Bybit gave it; a
   * "not modified" refusal means the venue already holds what was asked: done. Each has its own
   * endpoint's limit (10/s), apart from create's: moving working stops never delays a new one.
   */
  async function protectiveWrite(write: Write, what: string, send: () => Promise<unknown>): Promise<RequestOutcome> {
    const outcome = await request(write, 0, send);
    if (outcome.ok) return { ok: true };
    const { failure } = outcome;
    if (failure.kind === 'unknown') {
      // Bybit may still act on it until its receive window from when it left has passed (a 5xx or a
      // broken connection comes sooner). The engine counts that window from when it asked for the
      // change, which is earlier by the time the request waited in the queue: the outcome is
      // reported once the request can no longer land, so that what the engine asks next cannot be
      // overtaken by it.
      await until(outcome.sentMs + recvWindowMs);
      return { ok: false, kind: 'unknown', reason: failure.reason };
    }
    if (failure.kind === 'rejected' && isNotModified(write, failure.retCode, failure.reason)) {
      deps.log(`bybit: ${what}: the venue already holds it (${failure.reason})`);
      return { ok: true };
    }
    return { ok: false, kind: 'rejected', ...rejection(failure) };
  }

  async function amend(command: CommandOf<'AmendOrder'>): Promise<void> {
    const { commandId, clientOrderId, symbol } = command;
    const instrument = instruments.get(symbol);
    if (instrument === undefined) {
      deps.deliver({ type: 'OrderAmendRejected', commandId, clientOrderId, code: 'invalid', reason: `${symbol} is not loaded` });
      return;
    }
    const body = amendBody(instrument, clientOrderId, command.amendment);
    const outcome = await protectiveWrite('amend', `amend of ${clientOrderId}`, () => call.amend(body));
    deps.deliver(outcome.ok
      ? { type: 'OrderAmendAcked', commandId, clientOrderId }
      : outcome.kind === 'unknown'
        ? { type: 'OrderAmendUnknown', commandId, clientOrderId, reason: outcome.reason }
        : { type: 'OrderAmendRejected', commandId, clientOrderId, code: outcome.code, reason: outcome.reason });
  }

  async function positionStop(command: CommandOf<'SetPositionStop'>): Promise<void> {
    const { commandId, symbol } = command;
    const instrument = instruments.get(symbol);
    if (instrument === undefined) {
      deps.deliver({ type: 'PositionStopRejected', commandId, symbol, code: 'invalid', reason: `${symbol} is not loaded` });
      return;
    }
    const body = tradingStopBody(instrument, protectionOf(command.change));
    const outcome = await protectiveWrite('trading-stop', `trading-stop of ${symbol}`, () => call.tradingStop(body));
    deps.deliver(outcome.ok
      ? { type: 'PositionStopAcked', commandId, symbol }
      : outcome.kind === 'unknown'
        ? { type: 'PositionStopUnknown', commandId, symbol, reason: outcome.reason }
        : { type: 'PositionStopRejected', commandId, symbol, code: outcome.code, reason: outcome.reason });
  }

  async function query(command: CommandOf<'QueryOrder'>): Promise<void> {
    const { commandId, clientOrderId, symbol } = command;
    // order/realtime lists the open orders and the recently closed; after a restart of Bybit's
    // service (a release: when answers go unknown) it has forgotten the closed ones, which
    // order/history still lists. "Not found" is the answer of both: taken from realtime alone, an
    // entry that filled would be concluded never placed.
    const params = { category: 'linear', symbol, orderLinkId: clientOrderId };
    let report: OrderReport | null = null;
    for (const list of [call.realtime, call.history]) {
      const outcome = await request('query', 1, () => list(params));
      const page = outcome.ok ? decodeOrderList(outcome.reply, ctx) : null;
      if (page === null || !page.ok) {
        const reason = page === null ? (outcome.ok ? '' : 'reason' in outcome.failure ? outcome.failure.reason : 'rate limited') : page.error;
        deps.deliver({ type: 'OrderQueryFailed', commandId, clientOrderId, reason });
        return;
      }
      report = page.items.find((item) => item.clientOrderId === clientOrderId) ?? null;
      if (report !== null) break;
    }
    deps.deliver({ type: 'OrderQueried', commandId, clientOrderId, report });
  }

  /**
   * Every page of a list, one request in flight at a time, following Bybit's cursor. A page whose
   * request timed out or broke is asked again (a read changes nothing), up to `pageAttemptsMax`
   * times, before the whole list fails: a snapshot of many pages would otherwise rarely come through
   * a lossy network.
   */
  async function allPages<T>(send: (cursor: string | null) => Promise<unknown>, decode: (reply: unknown) => PageResult<T>, pagesMax = 100): Promise<T[]> {
    const items: T[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < pagesMax; page += 1) {
      let outcome = await request('list', 1, () => send(cursor));
      for (let attempt = 2; !outcome.ok && outcome.failure.kind === 'unknown' && attempt <= pageAttemptsMax; attempt += 1) {
        deps.log(`bybit: a list page failed (${outcome.failure.reason}); asking again (${attempt} of ${pageAttemptsMax})`);
        outcome = await request('list', 1, () => send(cursor));
      }
      if (!outcome.ok) throw new Error('reason' in outcome.failure ? outcome.failure.reason : 'rate limited');
      const decoded = decode(outcome.reply);
      if (!decoded.ok) throw new Error(decoded.error);
      items.push(...decoded.items);
      cursor = decoded.cursor;
      if (cursor === null) return items;
    }
    throw new Error(`more than ${pagesMax} pages`);
  }

  const withCursor = (params: Json, cursor: string | null): Json => (cursor === null ? params : { ...params, cursor });

  /**
   * Every execution from `sinceMs` on (or from the start of Bybit's two years of history). Bybit
   * answers at most seven days a request, and startTime alone means the seven days after it, not
   * "until now". So a span goes in windows, oldest first: each ends seven days on, or an hour
   * before now if that is sooner (an end must be past on Bybit's clock too); the last, whose seven
   * days reach past now by that hour, goes without an end. Windows meet at their edges (whether
   * Bybit's endTime includes its millisecond or not): an execution listed twice is kept once.
   */
  async function executionsSince(sinceMs: number): Promise<Execution[]> {
    const byId = new Map<string, Execution>();
    for (let fromMs = Math.max(sinceMs, deps.clock.nowMs() - executionHistoryMs); ;) {
      const nowMs = deps.clock.nowMs();
      const last = fromMs + executionWindowMs > nowMs + executionWindowMarginMs;
      const toMs = Math.min(fromMs + executionWindowMs, nowMs - executionWindowMarginMs);
      const params: Json = last
        ? { category: 'linear', startTime: String(fromMs), limit: '100' }
        : { category: 'linear', startTime: String(fromMs), endTime: String(toMs), limit: '100' };
      const items = await allPages<Execution>((cursor) => call.executions(withCursor(params, cursor)), (reply) => decodeExecutions(reply, ctx));
      for (const item of items) byId.set(item.kind === 'fill' ? item.fill.executionId : item.funding.executionId, item);
      if (last) return [...byId.values()];
      fromMs = toMs;
    }
  }

  async function snapshot(command: CommandOf<'FetchSnapshot'>): Promise<void> {
    const { snapshotId } = command;
    try {
      // When the venue read the positions, on the venue's clock: the first page's reply time less
      // that call's round trip (the read came after the request arrived). The local clock would do
      // only if it agreed with Bybit's: ahead of it, a position opened just after the read would
      // look older than the read, and be taken for closed.
      let positionsReadMs = deps.clock.nowMs();
      const positionsPage = async (cursor: string | null): Promise<unknown> => {
        const sentMs = deps.clock.nowMs();
        const reply = await call.positions(withCursor({ category: 'linear', settleCoin: 'USDT', limit: '200' }, cursor));
        const replyMs = typeof reply === 'object' && reply !== null && 'time' in reply && typeof reply.time === 'number' ? reply.time : null;
        if (cursor === null && replyMs !== null) positionsReadMs = replyMs - (deps.clock.nowMs() - sentMs);
        return reply;
      };
      const [positions, openOrders, executionItems, tickers, wallets] = await Promise.all([
        allPages<PositionReport>(positionsPage, (reply) => decodePositionList(reply, ctx)),
        allPages<OrderReport>((cursor) => call.realtime(withCursor({ category: 'linear', settleCoin: 'USDT', limit: '50' }, cursor)), (reply) => decodeOrderList(reply, ctx)),
        executionsSince(command.fillsSinceMs),
        allPages<Ticker>(() => call.tickers({ category: 'linear' }), (reply) => decodeTickerList(reply, ctx)),
        allPages<WalletReport>(() => call.wallet({ accountType: 'UNIFIED' }), decodeWalletBalance),
      ]);
      deps.deliver({
        type: 'SnapshotReceived', snapshotId, positions, openOrders,
        fills: executionItems.flatMap((item) => (item.kind === 'fill' ? [item.fill] : [])),
        funding: executionItems.flatMap((item) => (item.kind === 'funding' ? [item.funding] : [])),
        tickers: tickers.filter((ticker) => symbols.includes(ticker.symbol)),
        positionsVenueMs: positionsReadMs, wallet: wallets.find((wallet) => wallet.coin === 'USDT') ?? null,
      });
    } catch (error) {
      deps.deliver({ type: 'SnapshotFailed', snapshotId, reason: error instanceof Error ? error.message : String(error) });
    }
  }

  const gateway: VenueGateway = {
    execute(command: VenueCommand): void {
      switch (command.type) {
        case 'SubmitOrder':
          void submit(command);
          return;
        case 'CancelOrder':
          void cancel(command);
          return;
        case 'AmendOrder':
          void amend(command);
          return;
        case 'SetPositionStop':
          void positionStop(command);
          return;
        case 'QueryOrder':
          void query(command);
          return;
        case 'FetchSnapshot':
          void snapshot(command);
          return;
      }
    },
  };

  // Streams.

  const streamOfUrl = (url: string): StreamName | null => (url === urls.wsPrivate ? 'private' : url === urls.wsPublic ? 'public' : null);

  /**
   * A frame Vigil cannot read may be a fill it would lose, and one it cannot act on (garbage, an
   * unknown op, a failed subscribe) says the stream is not what it should be: drop the connection,
   * so the reconnect brings a snapshot. `what` says what was wrong and where.
   */
  function dropUnreadable(stream: StreamName, open: OpenStream, what: string): void {
    const reason = redact(what);
    deps.log(`bybit: ${stream} stream: ${reason}; reconnecting`);
    close(stream, open.connectionId, reason);
  }

  /** The start of a frame, the key and secret redacted before it is cut (a cut key would not be found). */
  const framePreview = (message: unknown): string => {
    const text = redact(typeof message === 'string' ? message : JSON.stringify(message ?? null)); // a JSON value from ccxt, never a function
    return JSON.stringify(text.length > framePreviewCharsMax ? `${text.slice(0, framePreviewCharsMax)}...` : text);
  };

  exchange.onTopic = (url, message) => {
    const stream = streamOfUrl(url);
    const open = stream === null ? undefined : streams.get(stream);
    if (stream === null || open === undefined) return;
    if (!open.open) {
      deps.log(`bybit: ${stream} stream: dropped a ${framePreview(message.topic)} message: its subscription is not acknowledged yet`);
      return;
    }
    const decoded = decodeStreamMessage(message, { instruments, atMs: deps.clock.nowMs(), source: 'stream' });
    if (!decoded.ok) {
      dropUnreadable(stream, open, `unreadable message (${decoded.error})`);
      return;
    }
    for (const skipped of decoded.skipped) deps.log(`bybit: skipped ${skipped.where}: ${skipped.reason}`);
    if (decoded.events.length === 0) open.handlers.onMessage(null);
    for (const event of decoded.events) open.handlers.onMessage(withoutTime(event));
  };

  exchange.onControl = (url, message) => {
    const stream = streamOfUrl(url);
    const open = stream === null ? undefined : streams.get(stream);
    if (stream === null || open === undefined) return;
    if (isSubscribeAck(open, message)) {
      open.subscribeReqId = null; // answered: none outstanding
      if (message.success === true) {
        open.open = true;
        open.handlers.onOpen();
      } else {
        close(stream, open.connectionId, redact(`subscription refused: ${typeof message.ret_msg === 'string' ? message.ret_msg : framePreview(message)}`));
      }
      return;
    }
    if (isRecord(message) && message.op === 'auth' && message.success === false) {
      // Bybit's one answer to a wrong key and to an expiry already past ("Params Error"): the
      // clock is checked before the next attempt.
      const why = redact(`login refused: ${typeof message.ret_msg === 'string' ? message.ret_msg : framePreview(message)}`);
      void resyncClock(why, 'login');
      close(stream, open.connectionId, why);
      return;
    }
    // Only what Bybit documents counts as traffic (pongs, acks): anything else would pass for a
    // heartbeat while the stream may be broken.
    const decoded = decodeStreamMessage(message, { instruments, atMs: deps.clock.nowMs(), source: 'stream' });
    if (!decoded.ok) {
      dropUnreadable(stream, open, `unreadable control frame (${decoded.error}; it starts ${framePreview(message)})`);
      return;
    }
    for (const skipped of decoded.skipped) deps.log(`bybit: skipped ${skipped.where}: ${skipped.reason}`);
    if (open.open) open.handlers.onMessage(null);
  };

  exchange.onGone = (url, reason) => {
    const stream = streamOfUrl(url);
    const open = stream === null ? undefined : streams.get(stream);
    if (open === undefined) return;
    streams.delete(stream ?? 'private');
    open.handlers.onClose(redact(reason));
  };

  /** Closes a connection and drops ccxt's client for it, so the next open dials afresh. */
  function forget(url: string): void {
    const client = exchange.clients[url] as Client | undefined;
    Reflect.deleteProperty(exchange.clients, url);
    if (client !== undefined) void Promise.resolve(client.close()).catch(() => undefined);
  }

  function close(stream: StreamName, connectionId: number, reason: string): void {
    const open = streams.get(stream);
    if (open?.connectionId !== connectionId) return;
    streams.delete(stream);
    forget(open.url);
    open.handlers.onClose(reason);
  }

  const transport: StreamTransport = {
    open(stream, connectionId, handlers) {
      const url = stream === 'private' ? urls.wsPrivate : urls.wsPublic;
      const open: OpenStream = { connectionId, handlers, url, subscribeReqId: null, open: false };
      streams.set(stream, open);
      const subscribe = (): void => {
        if (streams.get(stream) !== open) return;
        open.subscribeReqId = reqIds++;
        const args = stream === 'private' ? privateTopics : symbols.map((symbol) => `tickers.${symbol}`);
        void exchange.client(url).send({ op: 'subscribe', req_id: open.subscribeReqId, args });
      };
      const failed = (error: unknown): void => {
        if (streams.get(stream) !== open) return;
        streams.delete(stream);
        handlers.onClose(redact(error instanceof Error ? error.message : String(error)));
      };
      if (stream === 'private') exchange.authenticate(url).then(subscribe, failed);
      else exchange.client(url).connect(0).then(subscribe, failed);
    },
    close(stream, connectionId) {
      const open = streams.get(stream);
      if (open?.connectionId !== connectionId) return;
      streams.delete(stream);
      forget(open.url);
    },
    ping(stream, connectionId) {
      const open = streams.get(stream);
      if (open?.connectionId !== connectionId) return;
      void (exchange.clients[open.url] as Client | undefined)?.send({ op: 'ping', req_id: String(reqIds++) });
    },
  };

  const instrumentOrFail = (symbol: string): Instrument => {
    const instrument = instruments.get(symbol);
    if (instrument === undefined) throw new VenueStartError(`${symbol} is not loaded`);
    return instrument;
  };

  return {
    amendOrder(clientOrderId, symbol, amendment) {
      const body = amendBody(instrumentOrFail(symbol), clientOrderId, amendment);
      return protectiveWrite('amend', `amend of ${clientOrderId}`, () => call.amend(body));
    },
    setPositionProtection(symbol, protection) {
      const body = tradingStopBody(instrumentOrFail(symbol), protection);
      return protectiveWrite('trading-stop', `trading-stop of ${symbol}`, () => call.tradingStop(body));
    },
    gateway,
    streams: transport,
    async start(wanted) {
      symbols = wanted;
      await exchange.loadHttpProxyAgent(); // ccxt needs it for ws:// URLs in Node (custom networks on loopback)
      const startCall = (what: string, send: () => Promise<unknown>): Promise<unknown> => startCallOf(what, send, redact);
      const clock = await closestClock(() => measureClock(() => startCall('the server time', () => call.time({}))));
      // Bybit takes a signed request when server_time - recv_window <= timestamp < server_time +
      // 1000: a clock that may be a second ahead would have every request refused. Behind, half the
      // window is allowed (requests travel, and wait in the queue). At the start someone is there to
      // fix the clock; later, unattended, the adapter corrects for it (resyncClock).
      if (clock !== null && (clock.aheadMs + clock.uncertainMs >= clockAheadMsMax || clock.uncertainMs - clock.aheadMs > recvWindowMs / 2)) {
        throw new VenueStartError(`this machine's clock is ${clockText(clock.aheadMs)} Bybit's; Bybit refuses requests stamped ${clockAheadMsMax} ms or more ahead of its clock or more than the recv window (${recvWindowMs} ms) behind it: synchronise the clock (NTP)`);
      }
      const loaded = await listInstruments(wanted, (cursor) => startCall('instruments-info', () => instrumentsPage(cursor)));
      const missing = wanted.filter((symbol) => !loaded.some((instrument) => instrument.symbol === symbol));
      if (missing.length > 0) throw new VenueStartError(`Bybit lists no trading USDT perpetual ${missing.join(', ')}`);
      for (const instrument of loaded) instruments.set(instrument.symbol, instrument);
      await startCall('the wallet (checking the API key)', () => call.wallet({ accountType: 'UNIFIED' }));
      return loaded;
    },
    async readInstruments(wanted) {
      try {
        return await listInstruments(wanted, instrumentsPage);
      } catch (error) {
        throw new Error(`reading Bybit's instruments: ${redact(firstLine(error instanceof Error ? error.message : String(error)))}`, { cause: error });
      }
    },
    async close() {
      streams.clear();
      await exchange.close();
    },
  };
}

/** The wanted symbols' instruments, page by page: those Bybit lists as trading USDT perpetuals. */
async function listInstruments(wanted: readonly string[], page: (cursor: string | null) => Promise<unknown>): Promise<Instrument[]> {
  const loaded: Instrument[] = [];
  let cursor: string | null = null;
  do {
    const decoded = decodeInstruments(await page(cursor));
    if (!decoded.ok) throw new VenueStartError(`Bybit's instruments could not be read: ${decoded.error}`);
    loaded.push(...decoded.items.filter((instrument) => wanted.includes(instrument.symbol)));
    cursor = decoded.cursor;
  } while (cursor !== null);
  return loaded;
}

/** A call at start-up: authentication and clock errors are fatal, with what to do about them. */
async function startCallOf(what: string, send: () => Promise<unknown>, redact: (text: string) => string): Promise<unknown> {
  try {
    return await send();
  } catch (error) {
    const message = redact(error instanceof Error ? error.message : String(error));
    if (error instanceof ccxt.AuthenticationError || /"retCode"\s*:\s*"?1000[34]\b/.test(message)) {
      throw new VenueStartError(`Bybit refused the API key or its signature while reading ${what}: check the key and secret the configuration names (${firstLine(message)})`);
    }
    if (error instanceof ccxt.InvalidNonce || /"retCode"\s*:\s*"?10002\b/.test(message)) {
      throw new VenueStartError(`Bybit refused the request's timestamp while reading ${what}: this machine's clock is off; synchronise it (NTP)`);
    }
    throw new VenueStartError(`Bybit could not be reached for ${what}: ${firstLine(message)}`);
  }
}

type Execution = { readonly kind: 'fill'; readonly fill: Fill } | { readonly kind: 'funding'; readonly funding: Funding };

/** One execution/list page read once for both what it holds: fills, and funding payments. */
function decodeExecutions(reply: unknown, ctx: { readonly instruments: ReadonlyMap<string, Instrument> }): PageResult<Execution> {
  const fills = decodeExecutionList(reply, ctx);
  if (!fills.ok) return fills;
  const funding = decodeExecutionFunding(reply, ctx);
  if (!funding.ok) return funding;
  const items: Execution[] = [...fills.items.map((fill) => ({ kind: 'fill' as const, fill })), ...funding.items.map((payment) => ({ kind: 'funding' as const, funding: payment }))];
  return { ok: true, items, skipped: [], cursor: fills.cursor };
}

function rejection(failure: Failure): { readonly code: RejectCode; readonly reason: string } {
  return failure.kind === 'rejected' ? { code: failure.code, reason: failure.reason } : { code: 'rate-limited', reason: 'rate limited' };
}

/** Bybit's refusal of a signed request's timestamp: outside [server time - recv window, server time + 1 s). */
function isClockRefusal(failure: Failure): boolean {
  return failure.kind === 'rejected' && failure.retCode === 10002;
}

function clockText(aheadMs: number): string {
  return aheadMs > 0 ? `${aheadMs} ms ahead of` : `${-aheadMs} ms behind`;
}

function firstLine(text: string): string {
  return text.split('\n')[0]?.slice(0, 300) ?? '';
}

/** The bot id is the client order id up to its first dash (ids are `<botId>-<seq>-<role><attempt>`). */
function clientOrderIdBotId(clientOrderId: ClientOrderId): string {
  return clientOrderId.slice(0, Math.max(0, clientOrderId.indexOf('-')));
}

function withoutTime(event: Event): Incoming {
  const { atMs: _atMs, ...rest } = event;
  return rest;
}
