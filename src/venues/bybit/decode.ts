// The Bybit v5 stream decoder: one parsed WebSocket frame in, Vigil events out. Pure: no I/O and
// no clock (the caller passes `atMs`, the time it received the frame).
//
//   order, order.linear             -> OrderUpdated, one per item
//   execution, execution.linear     -> FillReceived for Trade / AdlTrade / BustTrade, FundingSettled for
//                                      Funding; other execTypes skipped
//   execution.fast                  -> skipped: it carries no fee (see `fastExecutionReason`)
//   position, position.linear       -> PositionUpdated (one-way mode, linear only)
//   tickers.<SYMBOL>                -> TickerUpdated (snapshot or delta; an absent price is null)
//   wallet                          -> WalletUpdated for the USDT of each account (none: skipped)
//   any other topic                 -> skipped with a reason
//   op auth/subscribe/ping/pong     -> no events; a failed auth or subscribe is an error
//   op order.create/amend/cancel    -> skipped: /v5/trade command replies, not stream events
//   any other op                    -> an error: not a frame Vigil knows the meaning of
//
// Invariants:
//  - never throws on any input: a malformed frame is `{ ok: false, error }` naming the field and
//    its place, and one bad item fails the whole frame (the caller treats the stream as broken:
//    reconnect, resubscribe, re-snapshot), so a frame is never half applied;
//  - what Vigil does not trade (other categories, hedge mode, funding) is skipped with a reason,
//    never an error and never silently;
//  - one pass over `data`, no intermediate arrays, field checks by hand (this is the hot path).

import type { Event } from '../../core/events.ts';
import type { Source } from '../../core/types.ts';
import type { JsonRecord, Place } from './fields.ts';
import { DecodeError, describe, fail, integer, isRecord, itemAt, listField, nearestTicks, optionalTicks, pathOf, recordField, text } from './fields.ts';
import type { Instruments, Skip, Skipped } from './items.ts';
import { fillOf, fundingOf, isSkip, orderReportOf, positionReportOf, walletReportOf } from './items.ts';

export type DecodeContext = { readonly instruments: Instruments; readonly atMs: number; readonly source: Source };
export type Decoded =
  | { readonly ok: true; readonly events: Event[]; readonly skipped: readonly Skipped[] }
  | { readonly ok: false; readonly error: string };

export type { Skipped } from './items.ts';
export type { CreateReply, InstrumentContext, Page, PageResult, RestFailure } from './rest.ts';
export { decodeCreateReply, decodeExecutionList, decodeInstruments, decodeOrderList, decodePositionList, decodeWalletBalance } from './rest.ts';

/** Shared by every frame that skipped nothing: one allocation fewer per ticker. */
const noSkips: readonly Skipped[] = Object.freeze([]);

export const notBybitMessage = 'not a Bybit v5 message: expected an object with topic or op';

/**
 * Why execution.fast is not booked: it has no execFee, and the same execId arrives on the
 * execution topic with its fee. Booking the fast copy with a zero fee would make the full copy a
 * duplicate (fills dedupe by execution id) and lose the fee for good.
 */
export const fastExecutionReason = 'execution.fast carries no fee: the fill is booked from the execution topic, which repeats the execId with its fee';

export function decodeStreamMessage(message: unknown, ctx: DecodeContext): Decoded {
  try {
    if (!isRecord(message)) return { ok: false, error: notBybitMessage };
    const topic = message.topic;
    if (typeof topic === 'string') return decodeTopic(topic, message, ctx);
    const op = message.op;
    if (typeof op === 'string') return decodeControl(op, message);
    return { ok: false, error: notBybitMessage };
  } catch (error) {
    if (error instanceof DecodeError) return { ok: false, error: error.message };
    throw error; // a bug in this module or the core, not a bad frame: let it be loud
  }
}

function decodeTopic(topic: string, message: JsonRecord, ctx: DecodeContext): Decoded {
  switch (topic) {
    case 'order': case 'order.linear': return decodeItems(topic, message, ctx, orderEventOf);
    case 'execution': case 'execution.linear': return decodeItems(topic, message, ctx, fillEventOf);
    case 'execution.fast': case 'execution.fast.linear': return skipItems(topic, message, fastExecutionReason);
    case 'position': case 'position.linear': return decodeItems(topic, message, ctx, positionEventOf);
    case 'wallet': return decodeWallet(topic, message, ctx);
    default: return topic.startsWith('tickers.') ? decodeTicker(topic, message, ctx) : skipFrame(topic, `topic ${topic} is not decoded`);
  }
}

type ItemDecoder = (item: JsonRecord, at: Place, ctx: DecodeContext) => Event | Skip;

function decodeItems(topic: string, message: JsonRecord, ctx: DecodeContext, decodeItem: ItemDecoder): Decoded {
  const data = listField(message, 'data', { base: topic, index: -1 });
  const base = `${topic}.data`;
  const events: Event[] = [];
  const skipped: Skipped[] = [];
  for (let index = 0; index < data.length; index++) {
    const at: Place = { base, index };
    const outcome = decodeItem(itemAt(data, at), at, ctx);
    if (isSkip(outcome)) skipped.push({ reason: outcome.skipReason, where: pathOf(at) });
    else events.push(outcome);
  }
  return { ok: true, events, skipped };
}

// Events are built field by field from the report: a spread after other keys
// (`{ type, ...report }`) takes V8's generic slow path, measured at ~40x the explicit literal.
function orderEventOf(item: JsonRecord, at: Place, ctx: DecodeContext): Event | Skip {
  const r = orderReportOf(item, at, ctx.instruments, null);
  if (isSkip(r)) return r;
  return {
    type: 'OrderUpdated', atMs: ctx.atMs, source: ctx.source, symbol: r.symbol, venueOrderId: r.venueOrderId, clientOrderId: r.clientOrderId,
    side: r.side, orderKind: r.orderKind, status: r.status, sizeLots: r.sizeLots, filledLots: r.filledLots, priceTicks: r.priceTicks,
    triggerTicks: r.triggerTicks, reduceOnly: r.reduceOnly, positionTrigger: r.positionTrigger, stopLossTicks: r.stopLossTicks,
    takeProfitTicks: r.takeProfitTicks, venueUpdatedMs: r.venueUpdatedMs, reason: r.reason,
  };
}

function fillEventOf(item: JsonRecord, at: Place, ctx: DecodeContext): Event | Skip {
  if (item.execType === 'Funding') return fundingEventOf(item, at, ctx);
  const f = fillOf(item, at, ctx.instruments, null);
  if (isSkip(f)) return f;
  return {
    type: 'FillReceived', atMs: ctx.atMs, source: ctx.source, symbol: f.symbol, executionId: f.executionId, venueOrderId: f.venueOrderId,
    clientOrderId: f.clientOrderId, side: f.side, priceTicks: f.priceTicks, lots: f.lots, feeE8: f.feeE8, liquidity: f.liquidity,
    venueMs: f.venueMs, seq: f.seq, positionTrigger: f.positionTrigger,
  };
}

function fundingEventOf(item: JsonRecord, at: Place, ctx: DecodeContext): Event | Skip {
  const f = fundingOf(item, at, ctx.instruments, null);
  if (isSkip(f)) return f;
  return { type: 'FundingSettled', atMs: ctx.atMs, source: ctx.source, symbol: f.symbol, executionId: f.executionId, feeE8: f.feeE8, venueMs: f.venueMs };
}

function positionEventOf(item: JsonRecord, at: Place, ctx: DecodeContext): Event | Skip {
  const p = positionReportOf(item, at, ctx.instruments, null);
  if (isSkip(p)) return p;
  return {
    type: 'PositionUpdated', atMs: ctx.atMs, source: ctx.source, symbol: p.symbol, sizeLots: p.sizeLots, entryPrice: p.entryPrice,
    stopLossTicks: p.stopLossTicks, takeProfitTicks: p.takeProfitTicks, trailingTicks: p.trailingTicks, seq: p.seq, venueUpdatedMs: p.venueUpdatedMs,
  };
}

/** The wallet's items carry no time of their own: the message's creationTime orders them. */
function decodeWallet(topic: string, message: JsonRecord, ctx: DecodeContext): Decoded {
  const venueMs = integer(message, 'creationTime', { base: topic, index: -1 });
  return decodeItems(topic, message, ctx, (item, at) => {
    const w = walletReportOf(item, at, venueMs);
    if (isSkip(w)) return w;
    return {
      type: 'WalletUpdated', atMs: ctx.atMs, source: ctx.source, coin: w.coin, walletBalanceE8: w.walletBalanceE8, equityE8: w.equityE8,
      unrealisedPnlE8: w.unrealisedPnlE8, venueMs: w.venueMs,
    };
  });
}

function skipItems(topic: string, message: JsonRecord, reason: string): Decoded {
  const data = listField(message, 'data', { base: topic, index: -1 });
  const skipped: Skipped[] = [];
  for (let index = 0; index < data.length; index++) skipped.push({ reason, where: `${topic}.data[${index}]` });
  return { ok: true, events: [], skipped };
}

function skipFrame(topic: string, reason: string): Decoded {
  return { ok: true, events: [], skipped: [{ reason, where: topic }] };
}

/**
 * A ticker snapshot carries every field, a delta only the changed ones: an absent lastPrice or
 * markPrice is null ("unchanged"). The last price is a trade price and must be on the tick; the
 * mark price has the instrument's finer priceScale and is rounded to the nearest tick.
 */
function decodeTicker(topic: string, message: JsonRecord, ctx: DecodeContext): Decoded {
  const top: Place = { base: topic, index: -1 };
  const data = recordField(message, 'data', top);
  const at: Place = { base: `${topic}.data`, index: -1 };
  const symbol = text(data, 'symbol', at);
  if (topic.length !== 8 + symbol.length || !topic.endsWith(symbol)) fail(at, 'symbol', `${symbol} does not match the topic`);
  const instrument = ctx.instruments.get(symbol) ?? fail(at, 'symbol', `unknown instrument ${symbol}`);
  const event: Event = {
    type: 'TickerUpdated',
    atMs: ctx.atMs,
    symbol,
    lastTicks: optionalTicks(instrument, data, 'lastPrice', at),
    markTicks: nearestTicks(instrument, data, 'markPrice', at),
    venueMs: integer(message, 'ts', top),
  };
  return { ok: true, events: [event], skipped: noSkips };
}

/**
 * Control frames. Public replies say `success` + `ret_msg`, the trade stream `retCode` + `retMsg`.
 * A failed auth or subscribe is an error, not a skip: the stream it was for is not live, and
 * Vigil must not write while a stream is down. Trade-stream order replies are command results
 * (decodeCreateReply), not stream events. Any other op is an error: a frame whose meaning is
 * unknown must not pass for a heartbeat.
 */
function decodeControl(op: string, message: JsonRecord): Decoded {
  switch (op) {
    case 'auth': case 'subscribe': case 'unsubscribe': case 'ping': case 'pong':
      return controlReply(op, message);
    case 'order.create': case 'order.amend': case 'order.cancel':
      return { ok: true, events: [], skipped: [{ reason: `op ${op} is a command reply, not a stream event`, where: `op ${op}` }] };
    default:
      return { ok: false, error: `unknown op ${JSON.stringify(op.slice(0, 40))}` }; // the start only: never a whole frame
  }
}

function controlReply(op: string, message: JsonRecord): Decoded {
  const success = message.success;
  const retCode = message.retCode;
  const failed = success === false || (retCode !== undefined && retCode !== 0 && retCode !== '0');
  if (!failed) return { ok: true, events: [], skipped: noSkips };
  const detail = typeof message.ret_msg === 'string' ? message.ret_msg : typeof message.retMsg === 'string' ? message.retMsg : describe(retCode);
  return { ok: false, error: `op ${op} failed: ${detail}` };
}
