// Bybit v5 REST replies to Vigil's types: instruments-info, order/realtime and order/history,
// position/list, execution/list, account/wallet-balance, and the `{orderId, orderLinkId}` reply of order create, amend
// and cancel (REST `result`, or `data` on the /v5/trade WebSocket).
//
// Invariants:
//  - never throws on any input; the result is a page, a venue error (retCode != 0, number or
//    string, with retCode and retMsg) or a malformed reply naming the field and its place;
//  - list items reuse the stream's item decoders, so a REST report and a stream report of the
//    same fact are identical; items inherit `category` from the list, and what Vigil does not
//    trade is skipped with a reason, as on the stream;
//  - `cursor` is Bybit's nextPageCursor, null when there is no next page ("" on the wire).

import { InvariantError } from '../../core/assert.ts';
import type { Fill, Funding, OrderReport, PositionReport, Ticker, WalletReport } from '../../core/events.ts';
import type { VenueOrderId } from '../../core/ids.ts';
import type { Instrument, InstrumentSpec, Parsed } from '../../core/instrument.ts';
import { defineInstrument } from '../../core/instrument.ts';
import type { JsonRecord, Place } from './fields.ts';
import {
  DecodeError, decimalText, describe, fail, integer, isRecord, itemAt, listField, nearestTicks, nonEmptyText, optionalId, optionalText, optionalTicks, pathOf,
  recordField, root, text,
} from './fields.ts';
import type { Instruments, Skip, Skipped } from './items.ts';
import { fillOf, fundingOf, isSkip, notLinear, orderReportOf, positionReportOf, walletReportOf } from './items.ts';

export type RestFailure =
  | { readonly ok: false; readonly kind: 'venue-error'; readonly retCode: number; readonly retMsg: string; readonly error: string }
  | { readonly ok: false; readonly kind: 'malformed'; readonly error: string };

export type Page<T> = { readonly ok: true; readonly items: T[]; readonly skipped: Skipped[]; readonly cursor: string | null };
export type PageResult<T> = Page<T> | RestFailure;
export type CreateReply = { readonly ok: true; readonly venueOrderId: VenueOrderId; readonly clientOrderId: string | null } | RestFailure;

/** What the list decoders need; a stream DecodeContext fits. */
export type InstrumentContext = { readonly instruments: Instruments };

type ItemDecoder<T> = (item: JsonRecord, at: Place, listCategory: string | null) => T | Skip;

export function decodeInstruments(reply: unknown): PageResult<Instrument> {
  return decodeReply('instruments-info', reply, (result, at) => pageOf(result, at, instrumentOf));
}

export function decodeOrderList(reply: unknown, ctx: InstrumentContext): PageResult<OrderReport> {
  return decodeReply('order list', reply, (result, at) => pageOf(result, at, (item, place, category) => orderReportOf(item, place, ctx.instruments, category)));
}

export function decodePositionList(reply: unknown, ctx: InstrumentContext): PageResult<PositionReport> {
  return decodeReply('position list', reply, (result, at) => pageOf(result, at, (item, place, category) => positionReportOf(item, place, ctx.instruments, category)));
}

export function decodeExecutionList(reply: unknown, ctx: InstrumentContext): PageResult<Fill> {
  return decodeReply('execution list', reply, (result, at) => pageOf(result, at, (item, place, category) => fillOf(item, place, ctx.instruments, category)));
}

/** The Funding executions of an execution/list page (the fills of the same page: decodeExecutionList). */
export function decodeExecutionFunding(reply: unknown, ctx: InstrumentContext): PageResult<Funding> {
  return decodeReply('execution list', reply, (result, at) => pageOf(result, at, (item, place, category) => fundingOf(item, place, ctx.instruments, category)));
}

/** market/tickers (category linear): last and mark price of every loaded instrument, timed by the reply's `time`. */
export function decodeTickerList(reply: unknown, ctx: InstrumentContext): PageResult<Ticker> {
  return decodeReply('tickers', reply, (result, at) => {
    const venueMs = integer(reply as JsonRecord, 'time', root);
    return pageOf(result, at, (item, place): Ticker | Skip => {
      const symbol = text(item, 'symbol', place);
      const instrument = ctx.instruments.get(symbol);
      if (instrument === undefined) return { skipReason: `${symbol} is not loaded` };
      return { symbol, lastTicks: optionalTicks(instrument, item, 'lastPrice', place), markTicks: nearestTicks(instrument, item, 'markPrice', place), venueMs };
    });
  });
}

/** account/wallet-balance (accountType UNIFIED): the USDT of each account, timed by the reply's `time`. */
export function decodeWalletBalance(reply: unknown): PageResult<WalletReport> {
  return decodeReply('wallet balance', reply, (result, at) => {
    const venueMs = integer(reply as JsonRecord, 'time', root); // decodeReply has checked it is an object
    return pageOf(result, at, (item, place) => walletReportOf(item, place, venueMs));
  });
}

/** The reply of order/create (also fits order/amend and order/cancel, which answer the same ids). */
export function decodeCreateReply(reply: unknown): CreateReply {
  return decodeReply('order reply', reply, (result, at) => ({
    ok: true,
    venueOrderId: nonEmptyText(result, 'orderId', at) as VenueOrderId,
    clientOrderId: optionalId(result, 'orderLinkId', at),
  }));
}

/** Opens the `{retCode, retMsg, result}` envelope; retCode 0 (or "0") is success. */
function decodeReply<T extends { readonly ok: true }>(what: string, reply: unknown, decodeResult: (result: JsonRecord, at: Place) => T): T | RestFailure {
  try {
    if (!isRecord(reply)) return { ok: false, kind: 'malformed', error: `${what}: expected an object with retCode, ${describe(reply)}` };
    const retCode = integer(reply, 'retCode', root);
    if (retCode !== 0) {
      const retMsg = optionalText(reply, 'retMsg', root);
      return { ok: false, kind: 'venue-error', retCode, retMsg, error: `${what}: retCode ${retCode}: ${retMsg}` };
    }
    // REST puts the payload in `result`; the /v5/trade WebSocket puts it in `data`.
    const key = reply.result === undefined && reply.data !== undefined ? 'data' : 'result';
    return decodeResult(recordField(reply, key, root), { base: key, index: -1 });
  } catch (error) {
    if (error instanceof DecodeError) return { ok: false, kind: 'malformed', error: `${what}: ${error.message}` };
    throw error;
  }
}

function pageOf<T extends object>(result: JsonRecord, at: Place, decodeItem: ItemDecoder<T>): Page<T> {
  const list = listField(result, 'list', at);
  const category = optionalText(result, 'category', at);
  const listCategory = category === '' ? null : category;
  const base = pathOf(at, 'list');
  const items: T[] = [];
  const skipped: Skipped[] = [];
  for (let index = 0; index < list.length; index++) {
    const itemPlace: Place = { base, index };
    const outcome = decodeItem(itemAt(list, itemPlace), itemPlace, listCategory);
    if (isSkip(outcome)) skipped.push({ reason: outcome.skipReason, where: pathOf(itemPlace) });
    else items.push(outcome);
  }
  const cursor = optionalText(result, 'nextPageCursor', at);
  return { ok: true, items, skipped, cursor: cursor === '' ? null : cursor };
}

/**
 * An instruments-info item. Vigil trades USDT-settled linear perpetuals that are Trading now:
 * PreLaunch, Settling, Delivering and Closed instruments, dated futures and USDC contracts are
 * skipped, as is any instrument whose tick x lot is finer than Vigil's exact money (1e-8 USDT).
 */
function instrumentOf(item: JsonRecord, at: Place, listCategory: string | null): Instrument | Skip {
  const skip = notLinear(item, at, listCategory);
  if (skip !== null) return skip;
  const symbol = text(item, 'symbol', at);
  const status = text(item, 'status', at);
  if (status !== 'Trading') return { skipReason: `${symbol} status ${status}: only Trading instruments are loaded` };
  const contractType = optionalText(item, 'contractType', at);
  if (contractType !== '' && contractType !== 'LinearPerpetual') return { skipReason: `${symbol} contractType ${contractType}: only perpetuals are traded` };
  const settleCoin = optionalText(item, 'settleCoin', at);
  if (settleCoin !== '' && settleCoin !== 'USDT') return { skipReason: `${symbol} settles in ${settleCoin}: Vigil's money is USDT` };
  // A perpetual's deliveryTime is its delisting, once Bybit has announced one ("0" until then).
  const deliveryTime = optionalText(item, 'deliveryTime', at);
  const delistMs = deliveryTime === '' || deliveryTime === '0' ? 0 : integer(item, 'deliveryTime', at);
  const spec = instrumentSpecOf(item, at, symbol);
  const defined = defineChecked(delistMs > 0 ? { ...spec, delistMs } : spec, at);
  return defined.ok ? defined.value : { skipReason: defined.reason };
}

function instrumentSpecOf(item: JsonRecord, at: Place, symbol: string): InstrumentSpec {
  const priceFilter = recordField(item, 'priceFilter', at);
  const lotFilter = recordField(item, 'lotSizeFilter', at);
  const priceAt: Place = { base: pathOf(at, 'priceFilter'), index: -1 };
  const lotAt: Place = { base: pathOf(at, 'lotSizeFilter'), index: -1 };
  const spec: InstrumentSpec = {
    symbol,
    tickSize: decimalText(priceFilter, 'tickSize', priceAt),
    lotSize: decimalText(lotFilter, 'qtyStep', lotAt),
    minQty: decimalText(lotFilter, 'minOrderQty', lotAt),
    maxQty: decimalText(lotFilter, 'maxOrderQty', lotAt),
    minNotional: decimalText(lotFilter, 'minNotionalValue', lotAt),
  };
  return lotFilter.maxMktOrderQty === undefined ? spec : { ...spec, maxMarketQty: decimalText(lotFilter, 'maxMktOrderQty', lotAt) };
}

/** defineInstrument asserts that tick x lot in E8 is a safe integer; absurd sizes become an error here. */
function defineChecked(spec: InstrumentSpec, at: Place): Parsed<Instrument> {
  try {
    return defineInstrument(spec);
  } catch (error) {
    if (error instanceof InvariantError) return fail(at, undefined, error.message);
    throw error;
  }
}
