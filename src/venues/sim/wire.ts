// The loopback protocol between the simulated venue served in its own process (server.ts) and the
// bot's remote gateway (remote.ts): newline-delimited JSON over TCP, one message per line.
//
// A client opens one connection per stream and one for requests:
//  - stream:   `hello {stream}` -> `subscribed {stream}`, then one `event` per venue fact of that
//              stream (private: orders, fills, positions, wallet; public: tickers); `ping` -> `pong`.
//  - requests: `request {id, command}` -> `reply {id, reply}`, where the command is a VenueCommand
//              (create, cancel, amend, a position's stop, query, snapshot) and the reply the event
//              the venue's REST API answers with (the whole snapshot in one reply); for tests,
//              `audit {id}` -> `audited {id, audit}` (the venue's ground truth) and
//              `pause-prices {id}` -> `prices-paused {id}` (no price moves, so nothing fills any more).
//  - a line that does not decode is never acted on, not even in part: the server answers it with
//    `error {reason}` and closes that connection; the client closes it (a stream is then reported
//    lost, and the requests that waited on it end as unknown outcomes).
//
// Invariants: a decoded message is one member of its union with every field checked (strings,
// safe integers, known enum members) and only the fields its type declares (others are dropped);
// a line that is not such a message is refused with a reason naming the field; no line longer than
// `lineCharsMax` is buffered.

import type { Socket } from 'node:net';
import type { Amendment, PositionStopChange } from '../../core/commands.ts';
import type { Fill, OrderReport, PositionReport, PositionTrigger, RejectCode, StreamName, Ticker, WalletReport } from '../../core/events.ts';
import type { ClientOrderId, ExecutionId, VenueOrderId } from '../../core/ids.ts';
import type { Liquidity, OrderKind, OrderSpec, OrderType, Side, Source, Trigger, TriggerBy, VenueOrderStatus } from '../../core/types.ts';
import type { Incoming, VenueCommand } from '../../shell/ports.ts';
import type { AmendRecord, AmendResult, SimPosition, Submission, SubmitResult } from './types.ts';
import type { VenueFact } from './venue.ts';

/** A venue fact as a stream pushes it. */
export type StreamEvent = Extract<Incoming, { readonly type: 'OrderUpdated' | 'FillReceived' | 'PositionUpdated' | 'WalletUpdated' | 'TickerUpdated' }>;

/** What the venue answers a request with; the unknown outcomes are the client's own conclusions. */
export type CommandReply = Extract<Incoming, {
  readonly type:
    | 'OrderSubmitAcked' | 'OrderSubmitRejected' | 'OrderCancelAcked' | 'OrderCancelRejected' | 'OrderAmendAcked' | 'OrderAmendRejected'
    | 'PositionStopAcked' | 'PositionStopRejected' | 'OrderQueried' | 'SnapshotReceived';
}>;

/** A position as the venue holds it, with the protection the server measured on its own clock. */
export type AuditPosition = SimPosition & {
  /** Flat, or a stop on the venue that covers the whole size (SimVenue.isProtected). */
  readonly protected: boolean;
  /** The longest time this symbol held a non-zero position without such a stop, the current stretch included. */
  readonly unprotectedMsLongest: number;
};

/** The venue's ground truth, for tests. */
export type Audit = {
  readonly atMs: number;
  readonly submissions: readonly Submission[];
  /** Every amend request with its result. */
  readonly amendments: readonly AmendRecord[];
  readonly fills: readonly Fill[];
  readonly openOrders: readonly OrderReport[];
  readonly positions: readonly AuditPosition[];
};

export type ClientMessage =
  | { readonly type: 'hello'; readonly stream: StreamName }
  | { readonly type: 'ping' }
  | { readonly type: 'request'; readonly id: number; readonly command: VenueCommand }
  | { readonly type: 'audit'; readonly id: number }
  | { readonly type: 'pause-prices'; readonly id: number };

export type ServerMessage =
  | { readonly type: 'subscribed'; readonly stream: StreamName }
  | { readonly type: 'event'; readonly event: StreamEvent }
  | { readonly type: 'pong' }
  | { readonly type: 'reply'; readonly id: number; readonly reply: CommandReply }
  | { readonly type: 'audited'; readonly id: number; readonly audit: Audit }
  | { readonly type: 'prices-paused'; readonly id: number }
  | { readonly type: 'error'; readonly reason: string };

export type Decoded<M> = { readonly ok: true; readonly message: M } | { readonly ok: false; readonly reason: string };

/** A snapshot of every fill comes in one line: 16 Mi characters is tens of thousands of fills. */
export const lineCharsMax = 16 * 1024 * 1024;

export function encodeLine(message: ClientMessage | ServerMessage): string {
  return `${JSON.stringify(message)}\n`;
}

export function decodeClientMessage(line: string): Decoded<ClientMessage> {
  return decode(line, clientMessage);
}

export function decodeServerMessage(line: string): Decoded<ServerMessage> {
  return decode(line, serverMessage);
}

/** The stream that carries an event: tickers are public, everything about the account private. */
/** A venue fact as the stream event that carries it to the bot. */
export function streamEventOf(fact: VenueFact): StreamEvent {
  switch (fact.kind) {
    case 'order':
      return { type: 'OrderUpdated', source: 'stream', ...fact.report };
    case 'fill':
      return { type: 'FillReceived', source: 'stream', ...fact.fill };
    case 'position':
      return { type: 'PositionUpdated', source: 'stream', ...fact.report };
    case 'wallet':
      return { type: 'WalletUpdated', source: 'stream', ...fact.report };
    case 'ticker':
      return { type: 'TickerUpdated', symbol: fact.symbol, lastTicks: fact.lastTicks, markTicks: fact.markTicks, venueMs: fact.venueMs };
  }
}

export function streamOf(event: StreamEvent): StreamName {
  return event.type === 'TickerUpdated' ? 'public' : 'private';
}

/**
 * Hands each complete line read from the socket to `onLine`, in order. A line that grows past
 * `lineCharsMax` without its newline goes to `onOverflow` instead, and nothing more is read.
 */
export function readLines(socket: Socket, onLine: (line: string) => void, onOverflow: (reason: string) => void): void {
  socket.setEncoding('utf8');
  const parts: string[] = [];
  let partsChars = 0;
  socket.on('data', (chunk: string) => {
    let start = 0;
    for (let newline = chunk.indexOf('\n'); newline >= 0; newline = chunk.indexOf('\n', start)) {
      parts.push(chunk.slice(start, newline));
      const line = parts.join('');
      parts.length = 0;
      partsChars = 0;
      start = newline + 1;
      onLine(line);
      if (socket.destroyed) return; // the handler closed the connection: the rest is not read
    }
    const rest = chunk.slice(start);
    parts.push(rest);
    partsChars += rest.length;
    if (partsChars > lineCharsMax) {
      parts.length = 0;
      onOverflow(`a line longer than ${lineCharsMax} characters`);
    }
  });
}

// --- decoding ------------------------------------------------------------------------------------

/** Thrown inside the decoder only; `decode` turns it into a refusal. */
class WireError extends Error {}

type Check<T> = (value: unknown, path: string) => T;
type Shape = Readonly<Record<string, Check<unknown>>>;
type Checked<S extends Shape> = { -readonly [K in keyof S]: ReturnType<S[K]> };

function decode<M>(line: string, check: Check<M>): Decoded<M> {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    return { ok: false, reason: `not JSON (${error instanceof Error ? error.message : String(error)}): ${preview(line)}` };
  }
  try {
    return { ok: true, message: check(value, 'message') };
  } catch (error) {
    if (error instanceof WireError) return { ok: false, reason: error.message };
    throw error;
  }
}

function refuse(path: string, expected: string, value: unknown): never {
  throw new WireError(`${path}: expected ${expected}, got ${value === undefined ? 'nothing' : preview(JSON.stringify(value))}`);
}

function preview(text: string): string {
  return text.length > 80 ? `${text.slice(0, 80)}...` : text;
}

function isObject(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A field of an object: only its own properties count (JSON may carry a "__proto__" key). */
function field(value: Readonly<Record<string, unknown>>, key: string): unknown {
  return Object.hasOwn(value, key) ? value[key] : undefined;
}

const text: Check<string> = (value, path) => (typeof value === 'string' ? value : refuse(path, 'a string', value));
const integer: Check<number> = (value, path) => (typeof value === 'number' && Number.isSafeInteger(value) ? value : refuse(path, 'a safe integer', value));
const flag: Check<boolean> = (value, path) => (typeof value === 'boolean' ? value : refuse(path, 'true or false', value));

function literal<const T extends string | boolean>(expected: T): Check<T> {
  return (value, path) => (value === expected ? expected : refuse(path, JSON.stringify(expected), value));
}

/** One of a closed set of strings; the set is a record so that forgetting a member does not compile. */
function oneOf<T extends string>(members: Readonly<Record<T, true>>): Check<T> {
  const names = Object.keys(members);
  return (value, path) => (typeof value === 'string' && names.includes(value) ? (value as T) : refuse(path, `one of ${names.join(', ')}`, value));
}

function nullable<T>(check: Check<T>): Check<T | null> {
  return (value, path) => (value === null ? null : check(value, path));
}

function listOf<T>(check: Check<T>): Check<T[]> {
  return (value, path) => (Array.isArray(value) ? (value as readonly unknown[]).map((item, index) => check(item, `${path}[${index}]`)) : refuse(path, 'a list', value));
}

function record<S extends Shape>(shape: S): Check<Checked<S>> {
  return (value, path) => {
    if (!isObject(value)) return refuse(path, 'an object', value);
    const result: Record<string, unknown> = {};
    for (const [key, check] of Object.entries(shape)) result[key] = check(field(value, key), `${path}.${key}`);
    return result as Checked<S>;
  };
}

/** A discriminated union: the discriminant picks the one check that decodes the whole value. */
function union<K extends string, M extends Readonly<Record<K, string>>>(key: K, checks: { readonly [T in M[K]]: Check<Extract<M, Readonly<Record<K, T>>>> }): Check<M> {
  const byTag = new Map<string, Check<M>>(Object.entries<Check<M>>(checks));
  return (value, path) => {
    if (!isObject(value)) return refuse(path, 'an object', value);
    const tag = field(value, key);
    const check = typeof tag === 'string' ? byTag.get(tag) : undefined;
    return check === undefined ? refuse(`${path}.${key}`, `one of ${[...byTag.keys()].join(', ')}`, tag) : check(value, path);
  };
}

function branded<B extends string>(): Check<B> {
  return (value, path) => text(value, path) as B;
}

const clientOrderId = branded<ClientOrderId>();
const venueOrderId = branded<VenueOrderId>();
const executionId = branded<ExecutionId>();
const streamName = oneOf<StreamName>({ private: true, public: true });
const side = oneOf<Side>({ buy: true, sell: true });
const source = oneOf<Source>({ stream: true, rest: true });
const triggerBy = oneOf<TriggerBy>({ mark: true, last: true });
const liquidity = oneOf<Liquidity>({ maker: true, taker: true });
const orderKind = oneOf<OrderKind>({ market: true, limit: true, 'stop-market': true });
const positionTrigger = nullable(oneOf<Exclude<PositionTrigger, null>>({ 'stop-loss': true, 'take-profit': true, 'trailing-stop': true }));
const orderStatus = oneOf<VenueOrderStatus>({ new: true, untriggered: true, 'partially-filled': true, filled: true, cancelled: true, rejected: true, expired: true });
const rejectCode = oneOf<RejectCode>({
  'insufficient-funds': true, invalid: true, 'reduce-only': true, 'trigger-crossed': true, 'duplicate-id': true, 'rate-limited': true, 'not-found': true, other: true, 'not-sent': true,
});

const orderReportShape = {
  symbol: text, venueOrderId, clientOrderId: nullable(text), side, orderKind, status: orderStatus, sizeLots: integer, filledLots: integer,
  priceTicks: nullable(integer), triggerTicks: nullable(integer), reduceOnly: flag, positionTrigger,
  stopLossTicks: nullable(integer), takeProfitTicks: nullable(integer), venueUpdatedMs: integer, reason: nullable(text),
};
const fillShape = {
  symbol: text, executionId, venueOrderId, clientOrderId: nullable(text), side, priceTicks: integer, lots: integer, feeE8: integer,
  liquidity, venueMs: integer, seq: integer, positionTrigger,
};
const positionReportShape = {
  symbol: text, sizeLots: integer, entryPrice: text, stopLossTicks: nullable(integer), takeProfitTicks: nullable(integer), trailingTicks: nullable(integer), seq: integer, venueUpdatedMs: integer,
};
const walletShape = { coin: text, walletBalanceE8: integer, equityE8: integer, unrealisedPnlE8: integer, venueMs: integer };
const tickerShape = { symbol: text, lastTicks: nullable(integer), markTicks: nullable(integer), venueMs: integer };

// Annotated with the core's types, so a field added there and not here does not compile.
const orderReport: Check<OrderReport> = record(orderReportShape);
const fill: Check<Fill> = record(fillShape);
const positionReport: Check<PositionReport> = record(positionReportShape);
const wallet: Check<WalletReport> = record(walletShape);
const ticker: Check<Ticker> = record(tickerShape);
const trigger: Check<Trigger> = record({ triggerTicks: integer, triggerBy });

const orderType = union<'kind', OrderType>('kind', {
  market: record({ kind: literal('market') }),
  limit: record({ kind: literal('limit'), priceTicks: integer, postOnly: flag }),
  'stop-market': record({ kind: literal('stop-market'), triggerTicks: integer, triggerBy }),
});

const orderSpecBase = record({ symbol: text, side, sizeLots: integer, reduceOnly: flag, type: orderType });

/** The attached stop-loss and take-profit are optional: absent stays absent (not undefined). */
const orderSpec: Check<OrderSpec> = (value, path) => {
  const base = orderSpecBase(value, path);
  const raw = value as Readonly<Record<string, unknown>>; // an object: orderSpecBase checked it
  const stopLoss = field(raw, 'stopLoss');
  const takeProfit = field(raw, 'takeProfit');
  return {
    ...base,
    ...(stopLoss === undefined ? {} : { stopLoss: trigger(stopLoss, `${path}.stopLoss`) }),
    ...(takeProfit === undefined ? {} : { takeProfit: trigger(takeProfit, `${path}.takeProfit`) }),
  };
};

/** Only the fields an amend changes are present: absent stays absent (not undefined). */
const amendment: Check<Amendment> = (value, path) => {
  if (!isObject(value)) return refuse(path, 'an object', value);
  const result: { triggerTicks?: number; sizeLots?: number; priceTicks?: number } = {};
  for (const key of ['triggerTicks', 'sizeLots', 'priceTicks'] as const) {
    const raw = field(value, key);
    if (raw !== undefined) result[key] = integer(raw, `${path}.${key}`);
  }
  return result;
};

const positionStopChange = union<'kind', PositionStopChange>('kind', {
  'stop-loss': record({ kind: literal('stop-loss'), stopLoss: trigger }),
  trailing: record({ kind: literal('trailing'), distanceTicks: integer, activationTicks: nullable(integer) }),
});

const venueCommand = union<'type', VenueCommand>('type', {
  SubmitOrder: record({ type: literal('SubmitOrder'), commandId: integer, clientOrderId, spec: orderSpec }),
  CancelOrder: record({ type: literal('CancelOrder'), commandId: integer, clientOrderId, symbol: text, venueOrderId: nullable(venueOrderId) }),
  AmendOrder: record({ type: literal('AmendOrder'), commandId: integer, clientOrderId, symbol: text, amendment }),
  SetPositionStop: record({ type: literal('SetPositionStop'), commandId: integer, symbol: text, change: positionStopChange }),
  QueryOrder: record({ type: literal('QueryOrder'), commandId: integer, clientOrderId, symbol: text }),
  FetchSnapshot: record({ type: literal('FetchSnapshot'), commandId: integer, snapshotId: integer, fillsSinceMs: integer }),
});

const streamEvent = union<'type', StreamEvent>('type', {
  OrderUpdated: record({ type: literal('OrderUpdated'), source, ...orderReportShape }),
  FillReceived: record({ type: literal('FillReceived'), source, ...fillShape }),
  PositionUpdated: record({ type: literal('PositionUpdated'), source, ...positionReportShape }),
  WalletUpdated: record({ type: literal('WalletUpdated'), source, ...walletShape }),
  TickerUpdated: record({ type: literal('TickerUpdated'), ...tickerShape }),
});

const commandReply = union<'type', CommandReply>('type', {
  OrderSubmitAcked: record({ type: literal('OrderSubmitAcked'), commandId: integer, clientOrderId, venueOrderId }),
  OrderSubmitRejected: record({ type: literal('OrderSubmitRejected'), commandId: integer, clientOrderId, code: rejectCode, reason: text }),
  OrderCancelAcked: record({ type: literal('OrderCancelAcked'), commandId: integer, clientOrderId }),
  OrderCancelRejected: record({ type: literal('OrderCancelRejected'), commandId: integer, clientOrderId, code: rejectCode, reason: text }),
  OrderAmendAcked: record({ type: literal('OrderAmendAcked'), commandId: integer, clientOrderId }),
  OrderAmendRejected: record({ type: literal('OrderAmendRejected'), commandId: integer, clientOrderId, code: rejectCode, reason: text }),
  PositionStopAcked: record({ type: literal('PositionStopAcked'), commandId: integer, symbol: text }),
  PositionStopRejected: record({ type: literal('PositionStopRejected'), commandId: integer, symbol: text, code: rejectCode, reason: text }),
  OrderQueried: record({ type: literal('OrderQueried'), commandId: integer, clientOrderId, report: nullable(orderReport) }),
  SnapshotReceived: record({
    type: literal('SnapshotReceived'), snapshotId: integer, positions: listOf(positionReport), openOrders: listOf(orderReport), fills: listOf(fill),
    tickers: listOf(ticker), positionsVenueMs: integer, wallet: nullable(wallet),
  }),
});

const rejection = record({ ok: literal(false), code: rejectCode, reason: text });

const submitResult: Check<SubmitResult> = (value, path) =>
  isObject(value) && field(value, 'ok') === true
    ? record({ ok: literal(true), venueOrderId })(value, path)
    : rejection(value, path);

const amendResult: Check<AmendResult> = (value, path) =>
  isObject(value) && field(value, 'ok') === true ? record({ ok: literal(true) })(value, path) : rejection(value, path);

const amendRecord: Check<AmendRecord> = record({
  atMs: integer, clientOrderId: nullable(text), venueOrderId: nullable(venueOrderId), before: nullable(orderSpec), after: nullable(orderSpec), result: amendResult,
});

const audit: Check<Audit> = record({
  atMs: integer,
  submissions: listOf(record({ atMs: integer, clientOrderId: nullable(text), spec: orderSpec, result: submitResult })),
  amendments: listOf(amendRecord),
  fills: listOf(fill),
  openOrders: listOf(orderReport),
  positions: listOf(record({
    symbol: text, sizeLots: integer, costTicksLots: integer, realizedPnlE8: integer, feesE8: integer, stopLossTicks: nullable(integer),
    takeProfitTicks: nullable(integer), seq: integer, updatedMs: integer, openedMs: nullable(integer), protected: flag, unprotectedMsLongest: integer,
  })),
});

const clientMessage = union<'type', ClientMessage>('type', {
  hello: record({ type: literal('hello'), stream: streamName }),
  ping: record({ type: literal('ping') }),
  request: record({ type: literal('request'), id: integer, command: venueCommand }),
  audit: record({ type: literal('audit'), id: integer }),
  'pause-prices': record({ type: literal('pause-prices'), id: integer }),
});

const serverMessage = union<'type', ServerMessage>('type', {
  subscribed: record({ type: literal('subscribed'), stream: streamName }),
  event: record({ type: literal('event'), event: streamEvent }),
  pong: record({ type: literal('pong') }),
  reply: record({ type: literal('reply'), id: integer, reply: commandReply }),
  audited: record({ type: literal('audited'), id: integer, audit }),
  'prices-paused': record({ type: literal('prices-paused'), id: integer }),
  error: record({ type: literal('error'), reason: text }),
});
