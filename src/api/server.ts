// The operator HTTP API (node:http, no framework), JSON in and out:
//
//   POST /api/signals    open or close a position (signals.ts); a repeated signal is a no-op, another signal under a used id a 422
//   GET  /api/positions  open positions with their stop and whether the venue confirmed it
//   GET  /api/orders     orders not yet finished
//   GET  /api/fills      recent fills from the ledger (?limit=N, 1 to 1000, default 50)
//   GET  /api/health     lifecycle phase, streams, last reconciliation and drift (503 once halted)
//   GET  /metrics        Prometheus text format (metrics.ts)
//   POST /webhook        TradingView-style alerts (webhook.ts), only when api.webhook is configured
//
// Every route, /metrics included, needs `Authorization: Bearer <token>` (auth.ts); an unknown
// route is 404 and a known one with the wrong method 405 only after that, so a caller without the
// token learns nothing. The one exception is /webhook, which TradingView calls without a token: it
// wants its own shared secret (in the body or X-Vigil-Secret) before it reads anything of the
// payload, and has its own rate limit, spent only by requests with the secret. Errors are JSON
// `{ "error": "...", "reasons"?: [...] }` with a 4xx that says which: 400 bad JSON or fields, 401
// token (or webhook secret), 404, 405, 413 body too large, 415 not JSON, 422 an id used for another
// signal, 429 too many signals (Retry-After), 503 halted. A reply sent before the request's body
// was read whole says `connection: close`, and the connection is dropped after it.
//
// Invariants: a signal is validated whole before the engine hears of it, then applied in one step
// (receive, drain) before the answer is read from the engine's memory of request ids, so a 4xx
// means nothing happened and nothing is half-applied; every bound is a named constant (body size,
// connections, timeouts, signals per second); the API reads the engine's state and changes it only
// by delivering events to the runtime.

import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { requestFingerprint } from '../core/engine/requests.ts';
import type { StreamName } from '../core/events.ts';
import type { EngineState } from '../core/state.ts';
import type { ProtectionConfig } from '../config/protection.ts';
import { noProtection } from '../config/protection.ts';
import type { Secret } from '../config/secret.ts';
import type { Incoming } from '../shell/ports.ts';
import { BearerAuth, SharedSecret } from './auth.ts';
import type { Metrics } from './metrics.ts';
import { RateLimiter } from './rate-limit.ts';
import type { Signal, SignalContext, SignalParse, SignalSource } from './signals.ts';
import { answerOf, incomingOf, parseSignal, requestIdOf } from './signals.ts';
import { parseWebhookSignal, splitSecret, webhookPath, webhookSecretHeader } from './webhook.ts';
import type { ConnectionState, FillView, HealthInputs } from './views.ts';
import { healthView, ordersView, positionsView } from './views.ts';

/** What the API needs of the runtime: its state, whether it halted, and the way in for events. */
export type ApiEngine = {
  readonly state: EngineState;
  readonly halt: { readonly reason: string; readonly atMs: number } | null;
  receive(incoming: Incoming): void;
  drain(): void;
};

export type ApiDeps = {
  readonly engine: ApiEngine;
  readonly connections: () => Readonly<Record<StreamName, ConnectionState>>;
  readonly fills: (limit: number) => readonly FillView[];
  readonly metrics: Metrics;
  readonly token: Secret;
  readonly nowMs: () => number;
  readonly signalsPerSecond: number;
  readonly about: HealthInputs['about'];
  readonly log: (line: string) => void;
  /** Applying a signal threw (the journal could not write, say): the process should stop. */
  readonly onFatal: (error: unknown) => void;
  /** The configured protection plans open signals are laid over (none: every signal gives its stop). */
  readonly protection?: ProtectionConfig;
  /** POST /webhook, with its shared secret and its own rate; absent: no webhook (the path is an unknown route). */
  readonly webhook?: { readonly secret: Secret; readonly signalsPerSecond: number };
};

/** A signal is a few hundred bytes; this leaves room and no more. */
export const bodyBytesMax = 16 * 1024;
export const connectionsMax = 64;
const requestTimeoutMs = 10_000;
const headersTimeoutMs = 5_000;
const fillsLimitDefault = 50;
const fillsLimitMax = 1_000;
/** The webhook's refusals (a wrong or missing secret) are logged at most this often, after a first burst. */
const refusalLogsPerSecond = 1;
export const refusalLogsBurst = 10;

type Reply = {
  readonly status: number;
  readonly json?: unknown;
  readonly text?: string;
  readonly contentType?: string;
  readonly headers?: Readonly<Record<string, string>>;
};

type Handler = (request: IncomingMessage, url: URL) => Promise<Reply> | Reply;

type Webhook = {
  readonly secret: SharedSecret;
  /** The signal budget: spent only by requests that carry the secret. */
  readonly limiter: RateLimiter;
  readonly perSecond: number;
  /** How many refusals get a log line; the metric counts every one. */
  readonly refusalLog: RateLimiter;
  refusalsUnlogged: number;
};

export class ApiServer {
  private readonly deps: ApiDeps;
  private readonly auth: BearerAuth;
  private readonly limiter: RateLimiter;
  private readonly webhook: Webhook | null;
  private readonly context: SignalContext;
  private readonly server: Server;
  private readonly routes: ReadonlyMap<string, Readonly<Record<string, Handler>>>;
  private closing = false;

  constructor(deps: ApiDeps) {
    this.deps = deps;
    this.auth = new BearerAuth(deps.token);
    this.limiter = new RateLimiter({ perSecond: deps.signalsPerSecond, nowMs: deps.nowMs });
    this.webhook = deps.webhook === undefined ? null : {
      secret: new SharedSecret(deps.webhook.secret), perSecond: deps.webhook.signalsPerSecond,
      limiter: new RateLimiter({ perSecond: deps.webhook.signalsPerSecond, nowMs: deps.nowMs }),
      refusalLog: new RateLimiter({ perSecond: refusalLogsPerSecond, burst: refusalLogsBurst, nowMs: deps.nowMs }), refusalsUnlogged: 0,
    };
    // The engine's configuration does not change while it runs: one context for every signal.
    this.context = { protection: deps.protection ?? noProtection, attachedStops: deps.engine.state.config.attachedStops };
    this.routes = new Map<string, Record<string, Handler>>([
      ['/api/signals', { POST: (request) => this.signal(request) }],
      ['/api/positions', { GET: () => ({ status: 200, json: { asOfMs: deps.nowMs(), positions: positionsView(deps.engine.state) } }) }],
      ['/api/orders', { GET: () => ({ status: 200, json: { asOfMs: deps.nowMs(), orders: ordersView(deps.engine.state) } }) }],
      ['/api/fills', { GET: (_request, url) => this.fills(url) }],
      ['/api/health', { GET: () => this.health() }],
      ['/metrics', { GET: async () => ({ status: 200, text: await deps.metrics.text(), contentType: deps.metrics.contentType }) }],
    ]);
    this.server = createServer({ requestTimeout: requestTimeoutMs, headersTimeout: headersTimeoutMs }, (request, response) => {
      void this.handle(request, response);
    });
    this.server.maxConnections = connectionsMax;
  }

  /** Starts listening; port 0 takes any free port. Resolves to the address actually bound. */
  async listen(host: string, port: number): Promise<{ readonly host: string; readonly port: number }> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const address = this.server.address() as AddressInfo;
    return { host: address.address, port: address.port };
  }

  /** Stops at once: no signal is applied from now on (a request already being read gets 503); then the sockets close. */
  close(): Promise<void> {
    this.closing = true;
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://api.invalid');
    const webhook = url.pathname === webhookPath ? this.webhook : null;
    const route = this.routes.get(url.pathname);
    let reply: Reply;
    try {
      reply = webhook === null ? await this.dispatch(request, url, route) : await this.webhookSignal(request, webhook);
    } catch (error) {
      this.deps.log(`api: ${request.method ?? '?'} ${url.pathname} failed: ${error instanceof Error ? error.message : String(error)}`);
      reply = { status: 500, json: { error: 'internal error (see the bot\'s log)' } };
    }
    this.deps.metrics.observeApiRequest(webhook !== null ? webhookPath : route === undefined ? 'other' : url.pathname, reply.status);
    send(request, response, reply);
  }

  private async dispatch(request: IncomingMessage, url: URL, route: Readonly<Record<string, Handler>> | undefined): Promise<Reply> {
    const auth = this.auth.check(request.headers.authorization);
    if (!auth.ok && url.pathname === '/api/signals' && request.method === 'POST') this.deps.metrics.observeSignal('api', 'unauthorized');
    if (!auth.ok) return { status: 401, json: { error: `unauthorized: ${auth.reason}` }, headers: { 'www-authenticate': 'Bearer realm="vigil"' } };
    if (route === undefined) return { status: 404, json: { error: `no route ${url.pathname}`, routes: [...this.routes.keys()] } };
    const handler = route[request.method ?? ''];
    const allowed = Object.keys(route).join(', ');
    if (handler === undefined) return { status: 405, json: { error: `${request.method ?? '?'} is not allowed on ${url.pathname}; use ${allowed}` }, headers: { allow: allowed } };
    return handler(request, url);
  }

  private async signal(request: IncomingMessage): Promise<Reply> {
    const limited = this.rateLimited(this.limiter, this.deps.signalsPerSecond, 'api');
    if (limited !== null) return limited;
    const body = await readJsonBody(request, jsonOnly);
    if (!body.ok) {
      this.deps.metrics.observeSignal('api', 'invalid');
      return body.reply;
    }
    return this.parsed(parseSignal(body.value, this.context, 'api'), 'api');
  }

  /**
   * POST /webhook: the body's type and size, then the secret (header or body) before anything of
   * the payload is looked at, the payload (webhook.ts) only with it; then its own rate limit, then
   * the payload's validity.
   *
   * The secret comes before the rate limit so that a caller without it cannot spend the signal
   * budget and so get real alerts refused with 429. Refusals have no throttle of their own on the
   * answer, on purpose: one applied before the check would be shared by every caller of an address
   * (behind the TLS proxy the README recommends, that is every caller, TradingView included) and
   * hand an attacker the same lever; one applied after it slows no guessing, the answer being
   * already known. Guessing is defeated by the secret itself (16 characters at least, a random
   * 32-byte hex one advised; compared in constant time), and what a flood of refusals costs is
   * bounded by the connection cap, the timeouts and the body cap. What a flood would otherwise grow
   * without bound is the log, so refusals are logged at most `refusalLogsPerSecond` after a burst of
   * `refusalLogsBurst`, each line saying how many went unlogged since (the metric counts them all).
   */
  private async webhookSignal(request: IncomingMessage, webhook: Webhook): Promise<Reply> {
    if (request.method !== 'POST') return { status: 405, json: { error: `${request.method ?? '?'} is not allowed on ${webhookPath}; use POST` }, headers: { allow: 'POST' } };
    const header = request.headers[webhookSecretHeader];
    const body = await readJsonBody(request, jsonOrText);
    // A body of the wrong type or too large is not read, so a secret in it cannot be seen: say that,
    // not that the secret is missing (the answer depends on the request alone, so it tells a caller
    // without the secret nothing).
    if (!body.ok && body.refused !== 'syntax') {
      this.deps.metrics.observeSignal('webhook', 'invalid');
      return body.reply;
    }
    const { offered, payload } = splitSecret(body.ok ? body.value : undefined, header);
    if (offered.length === 0 || !offered.every((candidate) => webhook.secret.matches(candidate))) {
      this.deps.metrics.observeSignal('webhook', 'unauthorized');
      const missing = offered.length === 0;
      this.logRefusal(webhook, `webhook: refused a request from ${request.socket.remoteAddress ?? '?'}: ${missing ? 'no secret' : 'wrong secret'}`);
      const error = missing ? 'unauthorized: no webhook secret (send it as "secret" in the JSON body, or in the X-Vigil-Secret header)' : 'unauthorized: wrong webhook secret';
      return { status: 401, json: { error } };
    }
    const limited = this.rateLimited(webhook.limiter, webhook.perSecond, 'webhook');
    if (limited !== null) return limited;
    if (!body.ok) {
      this.deps.metrics.observeSignal('webhook', 'invalid');
      return body.reply;
    }
    return this.parsed(parseWebhookSignal(payload, this.context), 'webhook');
  }

  private logRefusal(webhook: Webhook, line: string): void {
    if (!webhook.refusalLog.take().ok) {
      webhook.refusalsUnlogged += 1;
      return;
    }
    const unlogged = webhook.refusalsUnlogged;
    webhook.refusalsUnlogged = 0;
    this.deps.log(unlogged === 0 ? line : `${line} (and ${unlogged} more refused since the last such line, not logged)`);
  }

  private rateLimited(limiter: RateLimiter, perSecond: number, source: SignalSource): Reply | null {
    const taken = limiter.take();
    if (taken.ok) return null;
    this.deps.metrics.observeSignal(source, 'rate-limited');
    const seconds = Math.max(1, Math.ceil(taken.retryAfterMs / 1_000));
    return { status: 429, json: { error: `too many signals: at most ${perSecond} a second`, retryAfterMs: taken.retryAfterMs }, headers: { 'retry-after': String(seconds) } };
  }

  private parsed(parsed: SignalParse, source: SignalSource): Reply {
    if (parsed.ok) return this.apply(parsed.signal);
    this.deps.metrics.observeSignal(source, 'invalid');
    return { status: 400, json: { error: 'invalid signal: nothing was done', reasons: parsed.reasons } };
  }

  /** Hands a valid signal to the engine, once, and answers from the engine's memory of request ids. */
  private apply(signal: Signal): Reply {
    const { engine, metrics } = this.deps;
    const requestId = requestIdOf(signal);
    const incoming = incomingOf(signal);
    const earlier = engine.state.requests.get(requestId);
    if (earlier !== undefined && earlier.asked !== requestFingerprint(incoming)) return this.idReused(signal, requestId, earlier.outcome);
    if (earlier !== undefined) {
      metrics.observeSignal(signal.source, 'duplicate');
      const answer = answerOf(earlier.outcome);
      this.deps.log(`${signal.source}: signal ${signal.id} (${signal.action} ${signal.symbol}) repeated: already handled (${earlier.outcome})`);
      return { status: answer.status, json: { id: signal.id, requestId, result: 'duplicate', message: 'duplicate: already handled', original: answer.result, ...details(answer) } };
    }
    if (this.closing) return this.unavailable(signal.source, 'the bot is stopping: the signal was not applied');
    if (engine.halt !== null) return this.unavailable(signal.source, `the runtime halted (${engine.halt.reason}): no new signals; the venue keeps the stops`);
    try {
      engine.receive(incoming);
      engine.drain();
    } catch (error) {
      this.deps.onFatal(error);
      throw error;
    }
    const outcome = engine.state.requests.get(requestId)?.outcome;
    const halt = this.haltNow(); // applying the signal may have halted the runtime
    if (outcome === undefined) return this.unavailable(signal.source, `the signal was not applied${halt === null ? '' : `: the runtime halted (${halt.reason})`}`);
    const answer = answerOf(outcome);
    metrics.observeSignal(signal.source, answer.result);
    this.deps.log(`${signal.source}: signal ${signal.id} (${signal.action} ${signal.symbol}): ${outcome}`);
    return { status: answer.status, json: { id: signal.id, requestId, result: answer.result, ...details(answer), dryRun: this.deps.about.dryRun } };
  }

  /**
   * Another signal under an id the engine already took: refused, not answered as a repeat (which
   * would say "done" of a signal that never was). 422: the request itself is wrong, and no retry of
   * it can succeed; it needs an id of its own.
   */
  private idReused(signal: Signal, requestId: string, earlier: string): Reply {
    this.deps.metrics.observeSignal(signal.source, 'invalid');
    this.deps.log(`${signal.source}: signal ${signal.id} (${signal.action} ${signal.symbol}) refused: its id was already used for a different signal (${earlier})`);
    return {
      status: 422,
      json: { id: signal.id, requestId, error: `the id ${signal.id} was already used for a different signal: nothing was done (give this signal an id of its own)`, outcome: earlier },
    };
  }

  private haltNow(): ApiEngine['halt'] {
    return this.deps.engine.halt;
  }

  private unavailable(source: SignalSource, reason: string): Reply {
    this.deps.metrics.observeSignal(source, 'unavailable');
    return { status: 503, json: { error: reason } };
  }

  private fills(url: URL): Reply {
    const text = url.searchParams.get('limit');
    const limit = text === null ? fillsLimitDefault : Number(text);
    if (!Number.isInteger(limit) || limit < 1 || limit > fillsLimitMax) return { status: 400, json: { error: `limit: expected a whole number from 1 to ${fillsLimitMax}` } };
    return { status: 200, json: { fills: this.deps.fills(limit) } };
  }

  private health(): Reply {
    const { engine, metrics } = this.deps;
    const view = healthView({
      state: engine.state, about: this.deps.about, halted: engine.halt, connections: this.deps.connections(),
      reconnects: metrics.streamReconnects, lastReconciliation: metrics.lastReconciliation, nowMs: this.deps.nowMs(),
    });
    return { status: engine.halt === null ? 200 : 503, json: view };
  }
}

function details(answer: ReturnType<typeof answerOf>): Record<string, unknown> {
  return answer.result === 'accepted' ? { intent: answer.intent, outcome: answer.outcome } : { reason: answer.reason, outcome: answer.outcome };
}

/** A body, or why it was refused: its type or size (not read), or its syntax (read, not JSON). */
type BodyRead = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly refused: 'type' | 'size' | 'syntax'; readonly reply: Reply };

const jsonOnly = /^application\/json\s*(?:;|$)/i;
/** TradingView sends an alert's message as text/plain unless the message is JSON it recognizes. */
const jsonOrText = /^(?:application\/json|text\/plain)\s*(?:;|$)/i;

/** The request's body as JSON, refused early when its type is not one of `types` or it is larger than `bodyBytesMax`. */
async function readJsonBody(request: IncomingMessage, types: RegExp): Promise<BodyRead> {
  const type = request.headers['content-type'] ?? '';
  if (!types.test(type)) return { ok: false, refused: 'type', reply: { status: 415, json: { error: 'send the signal as JSON, with Content-Type: application/json' } } };
  const tooLarge: BodyRead = { ok: false, refused: 'size', reply: { status: 413, json: { error: `the body is larger than ${bodyBytesMax} bytes` }, headers: { connection: 'close' } } };
  if (Number(request.headers['content-length'] ?? 0) > bodyBytesMax) return tooLarge;
  const text = await new Promise<string | null>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    const onData = (chunk: Buffer): void => {
      bytes += chunk.length;
      if (bytes <= bodyBytesMax) {
        chunks.push(chunk);
        return;
      }
      // Stop reading (not destroy: the 413 must still go out); `send` drops the connection after it.
      request.off('data', onData);
      request.pause();
      resolve(null);
    };
    request.on('data', onData);
    request.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.once('error', reject);
  });
  if (text === null) return tooLarge;
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false, refused: 'syntax', reply: { status: 400, json: { error: 'the body is not valid JSON' } } };
  }
}

function send(request: IncomingMessage, response: ServerResponse, reply: Reply): void {
  const body = reply.text ?? `${JSON.stringify(reply.json ?? null, null, 2)}\n`;
  // A body left unread (refused before reading, or too large) is not worth reading: the connection
  // is dropped after the reply, and the reply says so, or the client would send its next request
  // on a socket about to close and get ECONNRESET.
  const closing = reply.headers?.connection === 'close' || !request.complete;
  response.writeHead(reply.status, {
    'content-type': reply.contentType ?? (reply.text === undefined ? 'application/json; charset=utf-8' : 'text/plain; charset=utf-8'),
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    ...reply.headers,
    ...(closing ? { connection: 'close' } : {}),
  });
  response.end(body);
  if (closing) response.once('finish', () => request.destroy());
}
