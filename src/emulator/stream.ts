// The emulator's WebSocket streams, Bybit v5's protocol: /v5/public/linear (tickers.<SYMBOL>: a
// snapshot on subscribe, then deltas) and /v5/private (op auth, then the symbol-less topics order,
// execution, position and wallet, and the categorised order.linear, execution.linear and
// position.linear). Control replies have Bybit's shapes: the public stream answers
// `{success, ret_msg, conn_id, req_id, op}`, the private `{success, ret_msg, op, conn_id}` (with
// req_id when one was sent), a private ping `{req_id, op: "pong", args: [ms], conn_id}`, a
// failed auth `{success: false, ret_msg: "Params Error", op: "auth", conn_id}`, a topic already
// held on the connection "error:already subscribed,topic:<t>", an unknown one
// "error:handler not found,topic:<t>". WebSocket-level pings are answered by `ws` itself.
//
// Every private message goes to every authenticated connection subscribed to its topic (one
// account, however many keys); with `duplicateChance` a message is sent twice, as Bybit does now
// and then. A client that stops reading is dropped once `bufferBytesMax` bytes wait for it.
//
// Invariants: nothing is sent on a connection that is not open; a private topic is never sent to a
// connection that has not authenticated; bounded: `topicsPerConnectionMax`, `bufferBytesMax`,
// and `ws`'s maxPayload on what a client may send.

import type { WebSocket } from 'ws';
import type { Rng } from '../sim/rng.ts';
import type { ApiSecrets } from './auth.ts';
import { verifyStreamAuth } from './auth.ts';
import type { Exchange, Push } from './exchange.ts';
import { privateTopics } from './exchange.ts';

export type StreamKind = 'public' | 'private';

export const streamPaths: Readonly<Record<string, StreamKind>> = { '/v5/public/linear': 'public', '/v5/private': 'private' };

/** A slow reader is dropped beyond this. */
const bufferBytesMax = 4 * 1024 * 1024;
export const topicsPerConnectionMax = 200;
export const messageBytesMax = 64 * 1024;

/** The all-in-one private topics and their linear categorised twins (wallet has none). */
const privateTopicNames: ReadonlySet<string> = new Set([...privateTopics, ...privateTopics.filter((topic) => topic !== 'wallet').map((topic) => `${topic}.linear`)]);

type Connection = {
  readonly socket: WebSocket;
  readonly kind: StreamKind;
  readonly connId: string;
  apiKey: string | null;
  readonly topics: Set<string>;
};

export type StreamDeps = {
  readonly exchange: Exchange;
  readonly secrets: ApiSecrets;
  readonly clock: () => number;
  readonly rng: Rng;
  readonly log: (line: string) => void;
};

type Json = Record<string, unknown>;

export class StreamHub {
  private readonly deps: StreamDeps;
  private readonly connections = new Set<Connection>();
  private connectionsCount = 0;
  private subscriptionWaiters: { readonly topic: string; readonly resolve: () => void }[] = [];
  duplicateChance = 0;

  constructor(deps: StreamDeps) {
    this.deps = deps;
  }

  accept(socket: WebSocket, kind: StreamKind): void {
    this.connectionsCount += 1;
    const connection: Connection = { socket, kind, connId: `emu-${kind}-${this.connectionsCount}`, apiKey: null, topics: new Set() };
    this.connections.add(connection);
    socket.on('message', (data, isBinary) => {
      this.onMessage(connection, isBinary ? '' : rawText(data));
    });
    socket.on('close', () => this.connections.delete(connection));
    socket.on('error', () => undefined); // a client that vanishes is normal; 'close' follows
  }

  /** Sends the pushes of one venue change, in order, to whoever subscribed to them. */
  publish(pushes: readonly Push[]): void {
    for (const push of pushes) {
      const text = JSON.stringify(push.message);
      // Bybit's categorised topic (order.linear, ...) carries the same message under its own name.
      const categorised = push.stream === 'private' && push.topic !== 'wallet' ? `${push.topic}.linear` : null;
      const categorisedText = categorised === null ? '' : JSON.stringify({ ...push.message, topic: categorised });
      for (const connection of this.connections) {
        if (push.stream === 'private' && (connection.kind !== 'private' || connection.apiKey === null)) continue;
        if (push.stream === 'public' && connection.kind !== 'public') continue;
        for (const [topic, frame] of [[push.topic, text], [categorised, categorisedText]] as const) {
          if (topic === null || !connection.topics.has(topic)) continue;
          this.send(connection, frame);
          if (push.stream === 'private' && this.duplicateChance > 0 && this.deps.rng.chance(this.duplicateChance)) this.send(connection, frame);
        }
      }
    }
  }

  /** Closes every connection at once, as a network drop would (no close frame). */
  dropAll(): number {
    const count = this.connections.size;
    for (const connection of this.connections) connection.socket.terminate();
    this.connections.clear();
    return count;
  }

  /** Resolves once some connection (authenticated, for a private topic) holds `topic`. */
  subscribed(topic: string): Promise<void> {
    if ([...this.connections].some((connection) => connection.topics.has(topic))) return Promise.resolve();
    return new Promise((resolve) => this.subscriptionWaiters.push({ topic, resolve }));
  }

  /** Open connections of a kind (authenticated ones for private). */
  count(kind: StreamKind): number {
    return [...this.connections].filter((connection) => connection.kind === kind && (kind === 'public' || connection.apiKey !== null)).length;
  }

  private onMessage(connection: Connection, text: string): void {
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      message = null;
    }
    if (typeof message !== 'object' || message === null || Array.isArray(message)) {
      this.reply(connection, { success: false, ret_msg: 'error:invalid json', conn_id: connection.connId });
      return;
    }
    const request = message as Json;
    switch (request.op) {
      case 'ping': return this.pong(connection, request);
      case 'auth': return this.auth(connection, request);
      case 'subscribe': return this.subscribe(connection, request);
      case 'unsubscribe': return this.unsubscribe(connection, request);
      default: return this.reply(connection, { success: false, ret_msg: 'error:invalid op', conn_id: connection.connId, ...reqIdOf(request) });
    }
  }

  private pong(connection: Connection, request: Json): void {
    if (connection.kind === 'public') {
      this.reply(connection, { success: true, ret_msg: 'pong', conn_id: connection.connId, req_id: reqIdText(request), op: 'ping' });
    } else {
      this.reply(connection, { req_id: reqIdText(request), op: 'pong', args: [String(this.deps.clock())], conn_id: connection.connId });
    }
  }

  private auth(connection: Connection, request: Json): void {
    const verdict = connection.kind === 'private' ? verifyStreamAuth(request.args, this.deps.secrets, this.deps.clock()) : { ok: false as const, reason: 'auth on the public stream' };
    if (!verdict.ok || connection.apiKey !== null) {
      this.deps.log(`emulator: ws auth refused on ${connection.connId}: ${verdict.ok ? 'already authenticated' : verdict.reason}`);
      this.reply(connection, { success: false, ret_msg: 'Params Error', op: 'auth', conn_id: connection.connId, ...reqIdOf(request) });
      return;
    }
    connection.apiKey = verdict.apiKey;
    this.deps.log(`emulator: ws ${connection.connId} authenticated`); // an API key is never printed
    this.reply(connection, { success: true, ret_msg: '', op: 'auth', conn_id: connection.connId, ...reqIdOf(request) });
  }

  private subscribe(connection: Connection, request: Json): void {
    const topics = Array.isArray(request.args) ? request.args : [];
    if (connection.kind === 'private' && connection.apiKey === null) return this.ack(connection, request, 'subscribe', 'Request not authorized');
    const added: string[] = [];
    let failure = '';
    for (const topic of topics) {
      const problem = this.topicProblem(connection, topic);
      if (problem !== null) {
        failure ||= problem;
        continue;
      }
      connection.topics.add(topic as string);
      added.push(topic as string);
    }
    this.ack(connection, request, 'subscribe', failure);
    this.deps.log(`emulator: ws ${connection.connId} subscribe ${JSON.stringify(topics)}${failure === '' ? '' : `: ${failure}`}`);
    this.wakeSubscriptionWaiters(added);
    if (connection.kind !== 'public') return;
    for (const topic of added) this.send(connection, JSON.stringify(this.deps.exchange.tickerSnapshot(topic.slice('tickers.'.length), this.deps.clock())));
  }

  private wakeSubscriptionWaiters(added: readonly string[]): void {
    const waiting = this.subscriptionWaiters;
    this.subscriptionWaiters = waiting.filter((waiter) => !added.includes(waiter.topic));
    for (const waiter of waiting) if (added.includes(waiter.topic)) waiter.resolve();
  }

  private unsubscribe(connection: Connection, request: Json): void {
    const topics = Array.isArray(request.args) ? request.args : [];
    for (const topic of topics) if (typeof topic === 'string') connection.topics.delete(topic);
    this.ack(connection, request, 'unsubscribe', '');
  }

  private topicProblem(connection: Connection, topic: unknown): string | null {
    if (typeof topic !== 'string') return 'error:topic must be a string';
    if (connection.topics.has(topic)) return `error:already subscribed,topic:${topic}`;
    if (connection.topics.size >= topicsPerConnectionMax) return `error:too many topics,topic:${topic}`;
    const known = connection.kind === 'private'
      ? privateTopicNames.has(topic)
      : topic.startsWith('tickers.') && this.deps.exchange.instruments.has(topic.slice('tickers.'.length));
    return known ? null : `error:handler not found,topic:${topic}`;
  }

  /** A subscribe / unsubscribe answer; `failure` "" is success. */
  private ack(connection: Connection, request: Json, op: string, failure: string): void {
    const success = failure === '';
    if (connection.kind === 'public') {
      this.reply(connection, { success, ret_msg: failure, conn_id: connection.connId, req_id: reqIdText(request), op });
    } else {
      this.reply(connection, { success, ret_msg: failure, op, conn_id: connection.connId, ...reqIdOf(request) });
    }
  }

  private reply(connection: Connection, message: Json): void {
    this.send(connection, JSON.stringify(message));
  }

  private send(connection: Connection, text: string): void {
    const { socket } = connection;
    if (socket.readyState !== socket.OPEN) return;
    if (socket.bufferedAmount > bufferBytesMax) {
      this.deps.log(`emulator: dropping ${connection.connId}: more than ${bufferBytesMax} bytes wait for it`);
      socket.terminate();
      this.connections.delete(connection);
      return;
    }
    socket.send(text);
  }
}

/** Bybit echoes a request's req_id as a string. */
function reqIdText(request: Json): string {
  const id = request.req_id;
  return typeof id === 'string' ? id : typeof id === 'number' ? String(id) : '';
}

function reqIdOf(request: Json): { readonly req_id?: string } {
  return request.req_id === undefined ? {} : { req_id: reqIdText(request) };
}

function rawText(data: Buffer | ArrayBuffer | Buffer[]): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data).toString('utf8');
}
