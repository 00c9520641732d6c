// The operator HTTP API (node:http, no framework), JSON in and out:
//
//   POST /api/signals    open or close a position (signals.ts); a repeated id is a no-op
//   GET  /api/positions  open positions with their stop and whether the venue confirmed it
//   GET  /api/orders     orders not yet finished
//   GET  /api/fills      recent fills from the ledger (?limit=N, 1 to 1000, default 50)
//   GET  /api/health     lifecycle phase, streams, last reconciliation and drift (503 once halted)
//   GET  /metrics        Prometheus text format (metrics.ts)
//
// Every route, /metrics included, needs `Authorization: Bearer <token>` (auth.ts); an unknown
// route is 404 and a known one with the wrong method 405 only after that, so a caller without the
// token learns nothing. Errors are JSON `{ "error": "...", "reasons"?: [...] }` with a 4xx that says
// which: 400 bad JSON or fields, 401 token, 404, 405, 413 body too large, 415 not JSON, 429 too
// many signals (Retry-After), 503 halted.
//
// Invariants: a signal is validated whole before the engine hears of it, then applied in one step
// (receive, drain) before the answer is read from the engine's memory of request ids, so a 4xx
// means nothing happened and nothing is half-applied; every bound is a named constant (body size,
// connections, timeouts, signals per second); the API reads the engine's state and changes it only
// by delivering events to the runtime.

import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { StreamName } from '../core/events.ts';
import type { EngineState } from '../core/state.ts';
import type { Secret } from '../config/secret.ts';
import type { Incoming } from '../shell/ports.ts';
import { BearerAuth } from './auth.ts';
import type { Metrics } from './metrics.ts';
import { RateLimiter } from './rate-limit.ts';
import type { Signal } from './signals.ts';
import { answerOf, incomingOf, parseSignal, requestIdOf } from './signals.ts';
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
};

/** A signal is a few hundred bytes; this leaves room and no more. */
export const bodyBytesMax = 16 * 1024;
export const connectionsMax = 64;
const requestTimeoutMs = 10_000;
const headersTimeoutMs = 5_000;
const fillsLimitDefault = 50;
const fillsLimitMax = 1_000;

type Reply = {
  readonly status: number;
  readonly json?: unknown;
  readonly text?: string;
  readonly contentType?: string;
  readonly headers?: Readonly<Record<string, string>>;
};

type Handler = (request: IncomingMessage, url: URL) => Promise<Reply> | Reply;

export class ApiServer {
  private readonly deps: ApiDeps;
  private readonly auth: BearerAuth;
  private readonly limiter: RateLimiter;
  private readonly server: Server;
  private readonly routes: ReadonlyMap<string, Readonly<Record<string, Handler>>>;
  private closing = false;

  constructor(deps: ApiDeps) {
    this.deps = deps;
    this.auth = new BearerAuth(deps.token);
    this.limiter = new RateLimiter({ perSecond: deps.signalsPerSecond, nowMs: deps.nowMs });
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
    const route = this.routes.get(url.pathname);
    let reply: Reply;
    try {
      reply = await this.dispatch(request, url, route);
    } catch (error) {
      this.deps.log(`api: ${request.method ?? '?'} ${url.pathname} failed: ${error instanceof Error ? error.message : String(error)}`);
      reply = { status: 500, json: { error: 'internal error (see the bot\'s log)' } };
    }
    this.deps.metrics.observeApiRequest(route === undefined ? 'other' : url.pathname, reply.status);
    send(request, response, reply);
  }

  private async dispatch(request: IncomingMessage, url: URL, route: Readonly<Record<string, Handler>> | undefined): Promise<Reply> {
    const auth = this.auth.check(request.headers.authorization);
    if (!auth.ok) return { status: 401, json: { error: `unauthorized: ${auth.reason}` }, headers: { 'www-authenticate': 'Bearer realm="vigil"' } };
    if (route === undefined) return { status: 404, json: { error: `no route ${url.pathname}`, routes: [...this.routes.keys()] } };
    const handler = route[request.method ?? ''];
    const allowed = Object.keys(route).join(', ');
    if (handler === undefined) return { status: 405, json: { error: `${request.method ?? '?'} is not allowed on ${url.pathname}; use ${allowed}` }, headers: { allow: allowed } };
    return handler(request, url);
  }

  private async signal(request: IncomingMessage): Promise<Reply> {
    const { metrics } = this.deps;
    const taken = this.limiter.take();
    if (!taken.ok) {
      metrics.observeSignal('rate-limited');
      const seconds = Math.max(1, Math.ceil(taken.retryAfterMs / 1_000));
      return { status: 429, json: { error: `too many signals: at most ${this.deps.signalsPerSecond} a second`, retryAfterMs: taken.retryAfterMs }, headers: { 'retry-after': String(seconds) } };
    }
    const body = await readJsonBody(request);
    if (!body.ok) {
      metrics.observeSignal('invalid');
      return body.reply;
    }
    const parsed = parseSignal(body.value);
    if (!parsed.ok) {
      metrics.observeSignal('invalid');
      return { status: 400, json: { error: 'invalid signal: nothing was done', reasons: parsed.reasons } };
    }
    return this.apply(parsed.signal);
  }

  /** Hands a valid signal to the engine, once, and answers from the engine's memory of request ids. */
  private apply(signal: Signal): Reply {
    const { engine, metrics } = this.deps;
    const requestId = requestIdOf(signal);
    const earlier = engine.state.requests.get(requestId);
    if (earlier !== undefined) {
      metrics.observeSignal('duplicate');
      const answer = answerOf(earlier);
      this.deps.log(`api: signal ${signal.id} (${signal.action} ${signal.symbol}) repeated: already handled (${earlier})`);
      return { status: answer.status, json: { id: signal.id, requestId, result: 'duplicate', message: 'duplicate: already handled', original: answer.result, ...details(answer) } };
    }
    if (this.closing) return this.unavailable('the bot is stopping: the signal was not applied');
    if (engine.halt !== null) return this.unavailable(`the runtime halted (${engine.halt.reason}): no new signals; the venue keeps the stops`);
    try {
      engine.receive(incomingOf(signal));
      engine.drain();
    } catch (error) {
      this.deps.onFatal(error);
      throw error;
    }
    const outcome = engine.state.requests.get(requestId);
    const halt = this.haltNow(); // applying the signal may have halted the runtime
    if (outcome === undefined) return this.unavailable(`the signal was not applied${halt === null ? '' : `: the runtime halted (${halt.reason})`}`);
    const answer = answerOf(outcome);
    metrics.observeSignal(answer.result);
    this.deps.log(`api: signal ${signal.id} (${signal.action} ${signal.symbol}): ${outcome}`);
    return { status: answer.status, json: { id: signal.id, requestId, result: answer.result, ...details(answer), dryRun: this.deps.about.dryRun } };
  }

  private haltNow(): ApiEngine['halt'] {
    return this.deps.engine.halt;
  }

  private unavailable(reason: string): Reply {
    this.deps.metrics.observeSignal('unavailable');
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

type BodyRead = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly reply: Reply };

/** The request's body as JSON, refused early when it is not JSON or larger than `bodyBytesMax`. */
async function readJsonBody(request: IncomingMessage): Promise<BodyRead> {
  const type = request.headers['content-type'] ?? '';
  if (!/^application\/json\s*(?:;|$)/i.test(type)) return { ok: false, reply: { status: 415, json: { error: 'send the signal as JSON, with Content-Type: application/json' } } };
  const tooLarge: BodyRead = { ok: false, reply: { status: 413, json: { error: `the body is larger than ${bodyBytesMax} bytes` }, headers: { connection: 'close' } } };
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
    return { ok: false, reply: { status: 400, json: { error: 'the body is not valid JSON' } } };
  }
}

function send(request: IncomingMessage, response: ServerResponse, reply: Reply): void {
  const body = reply.text ?? `${JSON.stringify(reply.json ?? null, null, 2)}\n`;
  response.writeHead(reply.status, {
    'content-type': reply.contentType ?? (reply.text === undefined ? 'application/json; charset=utf-8' : 'text/plain; charset=utf-8'),
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    ...reply.headers,
  });
  response.end(body);
  // A body left unread (refused before reading, or too large) is not worth reading: drop the connection.
  if (reply.headers?.connection === 'close' || !request.complete) response.once('finish', () => request.destroy());
}
